"""What the answer step reads: ahead, in the retrieval call, and in a second round only for what it lacks."""
from __future__ import annotations

import pytest

from qa.answer import reading

from conftest import seed_dialogues

QUESTION = "Hội nghị lần thứ 53 bàn gì?"
WORDS = ["hoi", "nghi", "xyzzy"]


@pytest.fixture(scope="module")
def ranked(service):
    """A seed question's ranked rows, its vector, and the reading of all five, the first three for sentences."""
    rows = [p["row"] for p in service.search(QUESTION, 5)]
    vector = service.query(service.index, QUESTION, "vi")
    return rows, vector, reading.of(service.index, rows, 3, vector, WORDS)


def test_narrowed_keeps_only_the_ranked_rows_and_the_words_asked(ranked):
    rows, _, whole = ranked
    narrow = whole.narrowed(rows[:3], 2, ["hoi"])
    assert list(narrow.passages) == rows[:3] and list(narrow.spans) == rows[:2]
    assert set(narrow.sentence_scores) == {s for r in rows[:2] for s in whole.passages[r]["sentences"]}
    assert narrow.occurring == {"hoi": True}
    assert whole.occurring == {"hoi": True, "nghi": True, "xyzzy": False}


def test_what_was_not_read_ahead_is_read_in_a_second_round(service, ranked):
    rows, vector, whole = ranked
    ahead = reading.of(service.index, rows[:2], 1, vector, WORDS[:1])
    for lacking in [(rows, 1, WORDS[:1]), (rows[:2], 2, WORDS[:1]), (rows[:2], 1, WORDS)]:
        assert ahead.narrowed(*lacking) is None, lacking
    again = reading.ranked(service.index, ahead, rows, 3, vector, WORDS)
    assert list(again.passages) == list(whole.passages) and again.spans == whole.spans
    assert again.occurring == whole.occurring
    assert again.sentence_scores == pytest.approx(whole.sentence_scores)


def test_one_version_answers_from_what_it_read_ahead(seed_config, embedder, monkeypatch):
    """A single version's own ranking is the final one: nothing is read in a second round."""
    from qa.service import Service

    service, second = Service(seed_config, embedder), []  # a new service: no answer cached
    real = reading.of
    monkeypatch.setattr(reading, "of", lambda *args: second.append(args[1]) or real(*args))
    for question, history in seed_dialogues():
        assert service.ask(question, history=history)["passages"], question
    assert second == []
