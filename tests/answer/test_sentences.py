import json
import re
from pathlib import Path

from qa.answer.sentences import SECOND_MARGIN, Candidate, _weights, choose, compose, highlights
from qa.eval import Question, answer_hit

DATA = Path(__file__).resolve().parents[1] / "data"


def _candidate(passage, start, text, score):
    return Candidate(passage, "a", 0, start, start + len(text), text, score=score)


def test_compose_numbers_citations_by_first_use():
    chosen = [_candidate(1, 50, "Câu hai.", 0.9), _candidate(0, 0, "Câu một.", 0.95)]
    passages = [{"id": "a:0", "article_id": "a", "title": "T"}, {"id": "a:1", "article_id": "a", "title": "T"}]
    answer = compose(sorted(chosen, key=lambda c: (c.passage, c.start)), passages)
    assert answer["text"] == "Câu một. [1] Câu hai. [2]"
    assert [(c["n"], c["passage_id"]) for c in answer["citations"]] == [(1, "a:0"), (2, "a:1")]


def test_second_sentence_only_when_close():
    margin = SECOND_MARGIN * _weights()["dense"]  # in score units: what that much cosine is worth
    best, close, far = (_candidate(0, 0, "A.", 1.0), _candidate(0, 10, "B.", 1.0 - margin / 2),
                        _candidate(0, 20, "C.", 1.0 - 2 * margin))
    assert [c.text for c in choose([best, close, far])] == ["A.", "B."]
    assert [c.text for c in choose([best, far])] == ["A."]
    assert choose([]) == []


def test_highlights_are_offsets_inside_the_passage():
    passage = {"article_id": "a", "start": 100, "end": 200}
    inside, outside = _candidate(0, 120, "x" * 10, 1), _candidate(0, 250, "y", 1)
    other_article = Candidate(0, "b", 0, 120, 130, "z")
    assert highlights([inside, outside, other_article], passage) == [{"start": 20, "end": 30}]


def test_answers_never_repeat_a_sentence_or_a_card(service):
    for question in ["Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?",
                     "Nghị quyết 116 đề ra bao nhiêu nhóm giải pháp?",
                     "Phương châm phòng, chống tham nhũng là gì?"]:
        result = service.ask(question, 10)
        ids = [p["id"] for p in result["passages"]]
        assert len(ids) == len(set(ids))
        sentences = [s.strip() for s in re.split(r"\[\d+\]", result["answer"]["text"]) if s.strip()]
        assert len(sentences) == len(set(sentences))
        for p in result["passages"]:
            for h in p["highlights"]:
                assert p["text"][h["start"]:h["end"]].strip() in result["answer"]["text"]


def test_answer_sentence_stays_in_the_article_language(service):
    result = service.ask("Who chaired the 53rd meeting of the provincial Party Standing Committee?")
    assert result["language"] == "en"
    assert "chủ trì hội nghị lần thứ 53" in result["answer"]["text"]


def test_seed_questions_get_their_answer(service):
    records = [json.loads(line) for line in (DATA / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 40
    hits = 0
    for r in records:
        result = service.ask(r["question"])
        gold = Question(r["id"], r["question"], (r.get("article_ids") or [r.get("article_id")])[0], r["answers"])
        hits += answer_hit(result["answer"], gold)
    assert hits / len(records) >= 0.8
