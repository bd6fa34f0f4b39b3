import pytest

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
