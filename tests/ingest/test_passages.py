from pathlib import Path

import pytest

from qa.ingest.articles import load_folder
from qa.ingest.passages import content_hash, sentence_spans, split

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module")
def seed_articles():
    articles, _ = load_folder(SEEDS)
    return articles


def test_offsets_slice_the_article_exactly(seed_articles):
    for article in seed_articles:
        passages = split(article.id, article.text, 300)
        assert len(passages) > 1
        for i, p in enumerate(passages):
            assert article.text[p.start:p.end] == p.text
            assert p.index == i and p.article_id == article.id


def test_passages_cover_the_whole_text(seed_articles):
    for article in seed_articles:
        passages = split(article.id, article.text, 300)
        covered = set()
        for p in passages:
            covered.update(range(p.start, p.end))
        assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_neighbours_share_one_sentence():
    text = " ".join(f"Câu số {i} nói về hội nghị tỉnh ủy lần thứ {i}." for i in range(12))
    passages = split("a", text, 120)
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    for first, second in zip(passages, passages[1:]):
        last_of_first = [s for s in sentences if first.text.endswith(s)][0]
        assert second.text.startswith(last_of_first)
        assert second.start < first.end


def test_never_cuts_inside_a_sentence():
    text = "Một câu ngắn. " + "Đây là một câu rất dài nhưng vẫn dưới giới hạn của mô hình " * 5 + ". Câu cuối."
    spans = sentence_spans(text)
    bounds = {a for a, _ in spans} | {b for _, b in spans}
    for p in split("a", text, 50):
        assert p.start in bounds and p.end in bounds


def test_overlong_sentence_is_cut_at_words_within_the_limit():
    text = "từ " * 2000
    passages = split("a", text.strip(), 500, max_chars=1000)
    assert all(len(p.text) <= 1000 for p in passages)
    assert all(not p.text.startswith(" ") and not p.text.endswith(" ") for p in passages)


def test_model_limit_check_shrinks_pieces():
    text = "chữ " * 900
    passages = split("a", text.strip(), 500, max_chars=3000, fits=lambda s: len(s) < 700)
    assert all(len(p.text) < 700 for p in passages)


def test_abbreviations_do_not_end_sentences():
    text = "Ông đến TP. Hồ Chí Minh. PGS. TS. Nguyễn Văn A phát biểu. Xong!"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Ông đến TP. Hồ Chí Minh.", "PGS. TS. Nguyễn Văn A phát biểu.", "Xong!"]


def test_line_breaks_end_sentences_so_captions_never_join_the_body():
    text = "Đoạn một không có dấu chấm\nĐoạn hai."
    assert [text[a:b] for a, b in sentence_spans(text)] == ["Đoạn một không có dấu chấm", "Đoạn hai."]


def test_hash_covers_title_and_text():
    assert content_hash("A", "x") != content_hash("B", "x")
    assert content_hash("A", "x") == content_hash("A", "x")
