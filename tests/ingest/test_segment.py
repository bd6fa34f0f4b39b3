from qa.answer import spans
from qa.ingest import segment

SENTENCE = "Đồng chí Phạm Xuân Thăng, Chủ tịch HĐND tỉnh chủ trì hội nghị."


def test_words_of_several_syllables_are_one_word():
    words = [SENTENCE[a:b] for a, b in segment.word_spans(SENTENCE)]
    assert "Chủ tịch" in words and "Phạm Xuân Thăng" in words and "hội nghị" in words
    assert [t.text for t in spans.tokens(SENTENCE)][:3] == ["Đồng chí", "Phạm Xuân Thăng", "Chủ tịch"]


def test_without_the_segmenter_each_syllable_is_a_word(monkeypatch):
    """pyvi writes its model to a temporary file when it loads; on a full disk answers still come."""
    monkeypatch.setattr(segment, "_tokenizer", lambda: None)
    segment.word_spans.cache_clear()
    try:
        assert segment.word_spans(SENTENCE) == ()
        assert [t.text for t in spans.tokens(SENTENCE)][:3] == ["Đồng", "chí", "Phạm"]
        assert spans.best("Ai chủ trì hội nghị?", SENTENCE) is not None
    finally:
        segment.word_spans.cache_clear()
