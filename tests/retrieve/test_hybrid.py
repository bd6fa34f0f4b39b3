import numpy as np
import pytest

from qa.index.layers import WordStats
from qa.retrieve import hybrid

DIRECTIVE_ARTICLES = {"002_8c712d888035ba10", "004_30c59f19e71aa1d8"}


@pytest.mark.parametrize("question", [
    "Chỉ thị 35-CT/TW của Bộ Chính trị nói về gì?",
    "chi thi 35 ve dai hoi dang bo cac cap",
    "Which Politburo directive concerns party congresses at all levels?",
])
def test_directive_questions_find_its_articles(service, question):
    assert service.search(question, 5)[0]["article_id"] in DIRECTIVE_ARTICLES


def test_diacritic_free_question_finds_the_same_article(service):
    with_marks = service.search("Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?", 3)
    without = service.search("ai chu tri hoi nghi lan thu 53 cua ban thuong vu tinh uy", 3)
    assert with_marks[0]["article_id"] == without[0]["article_id"] == "001_c3d5175d572a1b4d"


def test_hits_report_fused_score_and_each_method_rank(service):
    hits = service.search("Hướng dẫn số 26-HD/BTCTW", 5)
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    top = hits[0]
    assert top["dense_rank"] is not None and top["lexical_rank"] is not None
    assert top["lexical_score"] > 0 and 0 < top["dense_score"] <= 1


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_single_method_modes(service, mode):
    hits = service.search("Quy định 205-QĐ/TW", 3, mode)
    assert hits[0]["article_id"] == "002_8c712d888035ba10"
    other = "lexical_rank" if mode == "dense" else "dense_rank"
    assert all(h[other] is None for h in hits)
    own = "dense_score" if mode == "dense" else "lexical_score"
    assert [h["score"] for h in hits] == [h[own] for h in hits]


def test_unknown_mode_is_refused(service):
    with pytest.raises(ValueError, match="mode must be one of"):
        service.search("x", 3, "magic")


def test_k_larger_than_the_corpus(service):
    hits = service.search("hội nghị", 500)
    assert len(hits) == len(service.index.dense)
    assert len({h["id"] for h in hits}) == len(hits)


def _found(lead: list[tuple[float, str]], known: bool = True) -> hybrid.Found:
    """Candidates whose corpus knows (or not) every word, with the best dense passages' scores and languages."""
    words = hybrid.coverage_words("when was the conference held")
    stats = WordStats({w: known for w in words}, {w: 1 for w in words}, 10)
    empty = np.zeros(0)
    return hybrid.Found({}, empty.astype(np.int64), empty, empty, stats, lead)


def test_cross_language_question_gets_at_most_the_capped_lexical_weight():
    question = "when was the conference held"
    mostly_vi = [(0.9, "en"), (0.8, "vi"), (0.7, "vi")]
    assert hybrid.lexical_weight(_found(mostly_vi), question, "en") == hybrid.CROSS_LEXICAL_WEIGHT
    assert hybrid.lexical_weight(_found([(0.9, "vi"), (0.8, "en"), (0.7, "en")]), question, "en") == 0.5
    assert hybrid.lexical_weight(_found(mostly_vi), question, "") == 1 - hybrid.DENSE_WEIGHT
    assert hybrid.lexical_weight(_found(mostly_vi, known=False), question, "en") == 0.0
    assert hybrid.lexical_weight(_found([]), question, "en") == 1 - hybrid.DENSE_WEIGHT


def test_merged_candidates_keep_the_best_dense_passages_languages():
    parts = [_found([(0.7, "en"), (0.2, "en")]), _found([(0.9, "vi"), (0.6, "vi")])]
    merged = hybrid.merge(parts, 10)
    assert merged.lead == [(0.9, "vi"), (0.7, "en"), (0.6, "vi"), (0.2, "en")]
    assert merged.language == "vi"


def test_english_question_over_vietnamese_articles_leads_with_a_vietnamese_passage(service):
    question = "Who chaired the 53rd conference of the provincial Party Standing Committee?"
    vector = service.query(service.index, question, "en")
    found = hybrid.candidates(service.index, hybrid.request(vector, question, language="en"))
    assert found.language == "vi" and found.lead[0][0] == pytest.approx(float(found.dense.max()), abs=1e-5)
    assert hybrid.lexical_weight(found, question, "en") <= hybrid.CROSS_LEXICAL_WEIGHT
    assert service.search(question, 3)[0]["article_id"] == "001_c3d5175d572a1b4d"
