import json
from pathlib import Path

import pytest

from qa.answer.relevance import Evidence, Thresholds, anchor_words, anchors, found, missing_anchors

DATA = Path(__file__).resolve().parents[1] / "data"
T = Thresholds()


def _records(name):
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def test_anchors():
    assert anchors("Nghị quyết 57-NQ/TW của Tỉnh ủy Quảng Ninh nói gì?", "vi") == ["57", "Tỉnh", "Quảng", "Ninh"]
    assert anchors("Who chaired the 53rd meeting with Phạm Xuân Thăng?", "en") == ["53", "Phạm", "Xuân", "Thăng"]


def test_missing_anchors():
    corpus = {"hoi", "nghi", "53", "tinh", "quang"}
    for question, missing in [("Hội nghị lần thứ 53 bàn gì?", []), ("Hội nghị lần thứ 54 bàn gì?", ["54"]),
                              ("Bí thư Tỉnh ủy Quảng Ninh là ai?", ["Ninh"])]:
        words = anchor_words(question, "vi")
        assert missing_anchors(question, "vi", {w: w in corpus for w in words}) == missing


def test_anchor_words_are_the_folded_words_of_every_anchor():
    assert anchor_words("Bí thư Tỉnh ủy Quảng Ninh dự hội nghị 53?", "vi") == ["53", "ninh", "quang", "tinh"]


def test_anchors_are_looked_up_in_the_whole_top_articles(service):
    """Article 001 names the 53rd meeting only in its first passage; asking about a later passage still finds it."""
    result = service.ask("Cơ quan nào báo cáo dự thảo Kế hoạch thực hiện Kết luận 21-KL/TW tại hội nghị lần thứ 53?")
    assert result["evidence"]["missing"] == [] and result["found"]


@pytest.mark.parametrize("evidence, expected", [
    (Evidence(0.9, 0.9, 1.0), True),
    (Evidence(0.9, 0.9, 1.0, missing=["57"]), False),
    (Evidence(T.dense_min - 0.01, 1.0, 1.0), False),
    (Evidence(T.dense_min + 0.001, T.lexical_min - 0.01, 1.0), T.dense_min + 0.001 >= T.dense_alone),
    (Evidence(T.dense_alone, 0.0, 1.0), True),
    (Evidence(T.folded_dense_min, T.folded_lexical_min, 1.0, folded=True), True),
    (Evidence(T.folded_dense_min, T.folded_lexical_min - 0.01, 1.0, folded=True), False),
    (Evidence(T.cross_dense_min, 0.0, 0.2, same_language=False), True),
    (Evidence(T.cross_anchored_min, 0.0, 0.2, same_language=False), False),
    (Evidence(T.cross_anchored_min, 0.0, 0.2, same_language=False, anchors=["53"]), True),
    (Evidence(T.cross_anchored_min, 0.0, 0.2, same_language=False, anchors=["2024"]), False),
])
def test_decision_rules(evidence, expected):
    assert found(evidence) is expected


@pytest.mark.parametrize("question", ["Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, công nghệ nói gì?",
                                      "How do I make Vietnamese fresh spring rolls?",
                                      "thoi tiet da lat cuoi tuan nay the nao?"])
def test_clear_out_of_corpus_questions(service, question):
    result = service.ask(question)
    assert result["found"] is False and result["answer"] is None and result["passages"]


def test_false_accept_and_false_reject_rates_on_the_seed_corpus(service):
    ooc = _records("out_of_corpus.jsonl")
    seed = _records("seed_questions.jsonl")
    assert len(ooc) >= 60 and len(seed) >= 40
    assert {r["topic"] for r in ooc} >= {"weather", "sport", "prices", "recipes", "celebrities", "near_miss"}
    false_accept = sum(service.ask(r["question"])["found"] for r in ooc) / len(ooc)
    false_reject = sum(not service.ask(r["question"])["found"] for r in seed) / len(seed)
    assert false_accept <= 0.05 and false_reject <= 0.05, (false_accept, false_reject)
