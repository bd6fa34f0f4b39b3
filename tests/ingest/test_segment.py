from qa.answer import spans
from qa.ingest import segment

SENTENCE = "Đồng chí Phạm Xuân Thăng, Chủ tịch HĐND tỉnh chủ trì hội nghị."


def test_words_of_several_syllables_are_one_word():
    words = [SENTENCE[a:b] for a, b, _ in segment.tagged_words(SENTENCE)]
    assert "Chủ tịch" in words and "Phạm Xuân Thăng" in words and "hội nghị" in words
    tags = {SENTENCE[a:b]: tag for a, b, tag in segment.tagged_words(SENTENCE)}
    assert tags["Phạm Xuân Thăng"] == "Np" and tags["chủ trì"] == "V"
    assert [t.text for t in spans.tokens(SENTENCE)][:3] == ["Đồng chí", "Phạm Xuân Thăng", "Chủ tịch"]


def test_without_the_segmenter_each_syllable_is_a_word(monkeypatch):
    """pyvi writes its model to a temporary file when it loads; on a full disk answers still come."""
    monkeypatch.setattr(segment, "_tagger", lambda: None)
    segment.tagged_words.cache_clear()
    try:
        assert segment.tagged_words(SENTENCE) == ()
        assert [t.text for t in spans.tokens(SENTENCE)][:3] == ["Đồng", "chí", "Phạm"]
        assert spans.best("Ai chủ trì hội nghị?", SENTENCE) is not None
    finally:
        segment.tagged_words.cache_clear()
