import json
import re
from pathlib import Path

from qa.answer.sentences import SECOND_MARGIN, Candidate, _weights, choose, compose, highlights, read_first
from qa.eval import Question, answer_hit
from qa.model.reader import Found

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


def _passage_of(text: str) -> dict:
    return {"id": "a:0", "article_id": "a", "title": "T", "start": 100, "end": 100 + len(text), "text": text}


def _sentences_of(text: str) -> list[Candidate]:
    """Each sentence of the text as a candidate of passage 0, offsets in the article (the passage starts at 100)."""
    out, at = [], 0
    for part in text.split(". "):
        out.append(Candidate(0, "a", len(out), 100 + at, 100 + at + len(part) + 1, part + ".", score=-len(out)))
        at += len(part) + 2
    return out


TEXT = "Hội nghị khai mạc sáng nay. Có 267 điểm cầu kết nối trực tuyến. Phó Bí thư Tỉnh ủy Phạm Minh Tấn chủ trì."


def test_the_sentence_the_reader_marks_comes_first_with_its_span():
    ranked = _sentences_of(TEXT)
    at = TEXT.index("267")
    read = read_first(ranked, "Có bao nhiêu điểm cầu?", [_passage_of(TEXT)], lambda q, t: Found(at, at + 3, 5.0))
    assert read[0].text == "Có 267 điểm cầu kết nối trực tuyến."
    assert read[0].span.text == "267 điểm cầu" and read[0].text[read[0].span.start:read[0].span.end] == "267 điểm cầu"
    assert [c.text for c in read[1:]] == [ranked[0].text, ranked[2].text]


def test_the_person_asked_for_is_the_name_without_the_titles():
    ranked = _sentences_of(TEXT)
    at = TEXT.index("Phó Bí thư")
    read = read_first(ranked, "Ai chủ trì hội nghị?", [_passage_of(TEXT)],
                      lambda q, t: Found(at, TEXT.index(" chủ trì."), 3.0))
    assert read[0].span.text == "Phạm Minh Tấn"


def test_a_question_without_diacritics_is_read_as_the_passage_spells_it():
    asked = []
    read_first(_sentences_of(TEXT), "co bao nhieu diem cau ket noi?", [_passage_of(TEXT)],
               lambda q, t: asked.append(q), folded=True)
    assert asked == ["có bao nhiêu điểm cầu kết nối?"]


def test_nothing_marked_keeps_the_ranking():
    ranked = _sentences_of(TEXT)
    assert read_first(ranked, "Ai?", [_passage_of(TEXT)], lambda q, t: None) == ranked
    assert read_first([], "Ai?", [], lambda q, t: Found(0, 1, 1.0)) == []
    comma = TEXT.index(". Có")
    assert read_first(ranked, "Ai?", [_passage_of(TEXT)], lambda q, t: Found(comma, comma + 1, 1.0)) == ranked


def test_the_delegates_are_counted_from_the_sentence_that_counts_them(service):
    result = service.ask("Có bao nhiêu đại biểu tham gia hội nghị phổ biến Nghị quyết 116 và Đề án 08?")
    assert result["found"] and "10.300 đại biểu" in result["answer"]["short"]


OPENING = "Tại hội nghị, đồng chí Trưởng Ban Tổ chức Tỉnh ủy phổ biến Nghị quyết 116."
COUNTING = "Hội nghị có hơn 10.300 đại biểu tham gia. Đồng chí Nguyễn Quốc Đoàn chủ trì."


def _two_passages() -> tuple[list[Candidate], list[dict]]:
    """The best-ranked sentence in passage 0, which neither counts nor names; passage 1 does both."""
    first = {**_passage_of(OPENING), "start": 0, "end": len(OPENING)}
    second = {**_passage_of(COUNTING), "id": "a:1", "start": 500, "end": 500 + len(COUNTING)}
    ranked = [Candidate(0, "a", 0, 0, len(OPENING), OPENING, score=1.0)]
    for k, part in enumerate(COUNTING.split(". ")):
        text = part if part.endswith(".") else part + "."
        at = 500 + COUNTING.index(part)
        ranked.append(Candidate(1, "a", k + 1, at, at + len(text), text, kind=1.0, score=0.5 - k))
    ranked[1].features = {"number|unit": 1.0}
    return ranked, [first, second]


def _marking(*marked: str):
    """A reader that marks the first of these strings its passage holds, and records what it read."""
    texts = []

    def read(question: str, text: str) -> Found | None:
        texts.append(text)
        hit = next(m for m in marked if m in text)
        return Found(text.index(hit), text.index(hit) + len(hit), 4.0)
    return read, texts


def test_a_mark_without_the_asked_number_sends_the_reader_to_the_sentence_that_counts():
    ranked, passages = _two_passages()
    read, texts = _marking("đồng chí", "10.300")
    best = read_first(ranked, "Có bao nhiêu đại biểu tham gia hội nghị?", passages, read)
    assert texts == [OPENING, COUNTING]
    assert best[0].text == "Hội nghị có hơn 10.300 đại biểu tham gia." and best[0].span.text == "10.300 đại biểu"
    assert ranked[0].span is None and len(best) == len(ranked)


def test_a_mark_without_a_personal_name_for_ai_is_read_again_where_one_stands():
    ranked, passages = _two_passages()
    read, texts = _marking("đồng chí Trưởng Ban", "Nguyễn Quốc Đoàn")
    best = read_first(ranked, "Ai chủ trì hội nghị?", passages, read)
    assert texts == [OPENING, COUNTING] and best[0].span.text == "Nguyễn Quốc Đoàn"


def test_a_mark_that_holds_what_was_asked_is_read_once():
    ranked, passages = _two_passages()
    read, texts = _marking("116")
    best = read_first(ranked, "Có bao nhiêu nghị quyết?", passages, read)
    assert texts == [OPENING] and best[0].span.text == "116"
    read, texts = _marking("Trưởng Ban")
    assert read_first(ranked, "Hội nghị bàn về gì?", passages, read)[0].span.text == "Trưởng Ban"
    assert texts == [OPENING]


def test_the_first_mark_stays_when_the_second_lacks_the_asked_thing_too():
    ranked, passages = _two_passages()
    read, texts = _marking("đồng chí", "Hội nghị")
    best = read_first(ranked, "Có bao nhiêu đại biểu tham gia hội nghị?", passages, read)
    assert texts == [OPENING, COUNTING] and best[0] is ranked[0] and best[0].span.text == "đồng chí"


def test_the_chair_of_a_long_question_is_a_name_not_a_title(service):
    result = service.ask("Ai chủ trì hội nghị phổ biến, quán triệt Nghị quyết 116 và Đề án 08 về công tác xây dựng "
                         "đội ngũ cán bộ?")
    assert result["found"] and result["answer"]["short"] == "Nguyễn Quốc Đoàn"
    result = service.ask("Có bao nhiêu đại biểu tham gia hội nghị phổ biến Nghị quyết 116 và Đề án 08 về xây dựng "
                         "đội ngũ cán bộ?")
    assert result["found"] and "10.300 đại biểu" in result["answer"]["short"]
