"""Extractive answers: the best one or two sentences of the top passages, each with its [n] citation.

A sentence's score is a logistic regression (fitted by `bench/train_sentences.py` on XQuAD, split by
article) over: its dense similarity to the question (late-chunked vectors stored in the index), the
IDF-weighted share of the question's words and of their pairs it contains (diacritics folded),
whether it holds the kind of thing asked for (a number for "bao nhiêu", a date for "khi nào", a
name for "ai"…) that the question does not already say, its passage's rank and retrieval score,
and whether question and article are in different languages.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from qa.answer import questions, spans
from qa.answer.reading import Reading
from qa.index.layers import WordStats
from qa.ingest.text import fold, words
from qa.model.reader import Found, whole_words
from qa.retrieve import accents

MODEL = Path(__file__).with_name("sentence_model.json")
PASSAGES_SEARCHED = 3
SECOND_MARGIN = 0.1  # the runner-up is kept when it scores within what this much dense cosine is worth
# (chosen on xquad_vi with bench/answers_heldout.py --second-margin: the smallest that keeps answer-hit)
SHAPE_SEARCHED, SHAPE_MARGIN = 4, 0.1  # a sentence holding the asked shape may come from this far down

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TIME = re.compile(r"\b\d{1,2}[-/.]\d{1,2}(?:[-/.]\d{2,4})?\b|\b(?:1[0-9]|20)\d{2}\b|\b(?:năm|tháng|ngày|thế kỷ) "
                   r"[\dIVXLC]+|\b(?:sáng|chiều|tối|trưa)(?: nay| qua| mai)?\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?:] )(?<!^)\b[A-ZĐ][^\W\d_]*(?:\s+[A-ZĐ][^\W\d_]*)+")


@dataclass
class Candidate:
    """A sentence of a top passage: where it is and how well it answers."""

    passage: int
    article_id: str
    row: int
    start: int
    end: int
    text: str
    dense: float = 0.0
    lexical: float = 0.0
    kind: float = 0.0
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    span: spans.Span | None = None


def _has_type(kind: str | None, question: str, sentence: str) -> bool:
    """The sentence holds something of the asked kind that the question does not already contain."""
    if kind == "number":
        asked = set(_NUMBER.findall(question))
        return any(n not in asked for n in _NUMBER.findall(sentence))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind in ("person", "place"):
        asked = fold(question.lower())
        return any(fold(m.lower()) not in asked for m in _NAME.findall(sentence))
    return False


def _overlap(question_words: list[str], weights: dict[str, float], said: list[str]) -> float:
    """IDF-weighted share of the question's words present among the sentence's folded words."""
    total = sum(weights[w] for w in question_words)
    if not total:
        return 0.0
    present = set(said)
    return sum(weights[w] for w in question_words if w in present) / total


def _holds_unit(said: list[str], unit: list[str]) -> bool:
    """A number followed by the words the question counts ("bao nhiêu điểm cầu" → "16 điểm cầu")."""
    n = len(unit)
    return n > 0 and any(said[i][:1].isdigit() and said[i + 1:i + 1 + n] == unit for i in range(len(said) - n))


def _pairs(folded: list[str]) -> set[tuple[str, str]]:
    """Adjacent word pairs."""
    return set(zip(folded, folded[1:]))


@lru_cache(maxsize=1)
def _weights() -> dict[str, float]:
    """The fitted weights, read once."""
    return json.loads(MODEL.read_text(encoding="utf-8"))["weights"]


def candidates(passages: list[dict], reading: Reading) -> list[Candidate]:
    """Sentences of the top passages, each once even where neighbouring passages overlap."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for i, p in enumerate(passages[:PASSAGES_SEARCHED]):
        for row, (start, end) in zip(p["sentences"], reading.spans[p["row"]]):
            key = (p["article_id"], start, end)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(i, p["article_id"], row, start, end, p["text"][start - p["start"]:end - p["start"]]))
    return out


def describe(question: str, found: list[Candidate], passages: list[dict], cross: bool, stats: WordStats,
             reading: Reading) -> None:
    """Fill in each candidate's evidence and the features the fitted scorer reads (`stats` holds the
    question's content words, `reading` the sentences' cosines with the question)."""
    question_words = questions.content_words(question)
    weights = dict(zip(question_words, stats.idf(question_words)))
    asked_pairs = _pairs(question_words)
    kind = questions.kind(question)
    unit_words = questions.context(question)[1]
    top = max(passages[0]["score"], 1e-9) if passages else 1.0
    for c in found:
        said = [fold(w) for w in words(c.text)]
        c.dense = reading.sentence_scores[c.row]
        c.lexical = _overlap(question_words, weights, said)
        c.kind = float(_has_type(kind, question, c.text))
        unit = kind == "number" and _holds_unit(said, unit_words)
        c.features = {
            "bias": 1.0, "dense": c.dense, "lexical": c.lexical, f"{kind}|kind": c.kind,
            "pairs": len(asked_pairs & _pairs(said)) / len(asked_pairs) if asked_pairs else 0.0,
            f"rank{c.passage}": 1.0, "passage_score": passages[c.passage]["score"] / top,
            "length": math.log1p(len(c.text) / 100), "opening": float(c.start == 0),
            "cross": float(cross), "cross|dense": c.dense * cross, "cross|lexical": c.lexical * cross,
            "number|unit": float(unit)}


def score(question: str, found: list[Candidate], passages: list[dict], stats: WordStats, reading: Reading,
          cross: bool = False) -> list[Candidate]:
    """Score the candidates (higher: likelier to hold the answer), best first."""
    if not found:
        return []
    describe(question, found, passages, cross, stats, reading)
    weights = _weights()
    for c in found:
        c.score = sum(weights.get(k, 0.0) * v for k, v in c.features.items())
    return _shape_first(sorted(found, key=lambda c: -c.score), question)


def _shape_first(ranked: list[Candidate], question: str) -> list[Candidate]:
    """Among the few best sentences, the best one that holds what was asked in the asked shape comes first:
    the counted number with its unit ("16 điểm cầu"), the topic a "nói về gì" question asks for (the one
    the most of the question's words lead to), or what `spans.shape_test` looks for (a personal name for
    "ai", a day or year for "ngày/năm nào", a quoted phrase for "tên là gì")."""
    kind, holds = questions.kind(question), spans.shape_test(question)
    if kind == "number":
        strength = lambda c: (c.features.get("number|unit", 0.0),)
    elif kind == "definition":
        strength = lambda c: (spans.attached_topic(question, c.text) or (None, (0,)))[1]
    elif holds is not None:
        strength = lambda c: (holds(c.text),)
    else:
        return ranked
    floor = ranked[0].score - SHAPE_MARGIN * _weights()["dense"]
    found, first = max(((strength(c), c) for c in ranked[:SHAPE_SEARCHED] if c.score >= floor),
                       key=lambda pair: pair[0])
    return ranked if not any(found) else [first, *(c for c in ranked if c is not first)]


def read_first(ranked: list[Candidate], question: str, passages: list[dict], read: Callable[[str, str], Found | None],
               folded: bool = False) -> list[Candidate]:
    """The sentence in which the reader marks the answer comes first, with that span as its short answer (a rule
    for the asked shape still wins inside it). The reader reads the passage of the best-ranked sentence, a
    `folded` question (Vietnamese typed without diacritics) spelled as that passage and the question words are;
    when its mark lacks what a number, time or person question asks for, it also reads the passage of the best
    sentence that holds it. The ranking is kept as it was when it marks nothing."""
    if not ranked:
        return ranked
    marked = _read(ranked, ranked[0].passage, question, passages, read, folded)
    fits = spans.mark_test(question)
    if fits is not None and (marked is None or not fits(marked[1].text)):
        other = _holding(ranked, question)
        again = _read(ranked, other.passage, question, passages, read, folded) if other else None
        marked = again if again is not None and fits(again[1].text) else marked
    if marked is None:
        return ranked
    holder, holder.span = marked
    return [holder, *(c for c in ranked if c is not holder)]


def _holding(ranked: list[Candidate], question: str) -> Candidate | None:
    """The best-ranked sentence outside the first one's passage that holds what was asked: the counted number
    with the unit the question names, the day or year, or a personal name the question does not say."""
    holds = spans.shape_test(question) or (lambda text: False)
    return next((c for c in ranked if c.passage != ranked[0].passage
                 and (c.features.get("number|unit") or holds(c.text))), None)


def _read(ranked: list[Candidate], passage: int, question: str, passages: list[dict],
          read: Callable[[str, str], Found | None], folded: bool) -> tuple[Candidate, spans.Span] | None:
    """The reader's mark in one passage: the candidate sentence holding it and the span in that sentence."""
    passage = passages[passage]
    if folded:
        question = accents.restore(question, [passage["text"], questions.SPELLED])
    found = read(question, passage["text"])
    if found is None:
        return None
    at = passage["start"] + found.start
    holder = next((c for c in ranked if c.article_id == passage["article_id"] and c.start <= at < c.end), None)
    if holder is None:
        return None
    end = min(passage["start"] + found.end, holder.end)
    span = spans.ruled(question, holder.text) or _marked(question, holder.text, at - holder.start,
                                                         end - holder.start, found.score)
    return (holder, span) if span else None


def _marked(question: str, sentence: str, start: int, end: int, score: float) -> spans.Span | None:
    """The reader's mark inside its sentence, in whole words and the asked shape; None when only punctuation."""
    start, end = whole_words(sentence, start, end)
    if end <= start:
        return None
    start, end = spans.shaped(question, sentence, start, end)
    return spans.Span(start, end, sentence[start:end], score)


def choose(ranked: list[Candidate]) -> list[Candidate]:
    """The best sentence, and the runner-up when it scores almost as well; in reading order."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1].score >= ranked[0].score - SECOND_MARGIN * _weights()["dense"]:
        chosen.append(ranked[1])
    return sorted(chosen, key=lambda c: (c.passage, c.start))


def compose(chosen: list[Candidate], passages: list[dict], best: Candidate | None = None, question: str = "") -> dict:
    """Answer text with [n] after each sentence, citations numbered in order of first use, and the short
    answer to `question` that the `best` sentence holds, with its offsets inside its passage (worked out
    here, only for an answer that is given)."""
    if best is not None and best.span is None:
        best.span = spans.best(question, best.text)
    numbers: dict[int, int] = {}
    parts = []
    for c in chosen:
        n = numbers.setdefault(c.passage, len(numbers) + 1)
        parts.append(f"{c.text.strip()} [{n}]")
    citations = [{"n": n, "passage_id": passages[i]["id"], "article_id": passages[i]["article_id"],
                  "title": passages[i]["title"]} for i, n in numbers.items()]
    return {"text": " ".join(parts), "citations": citations, **_short(best, passages)}


def _short(best: Candidate | None, passages: list[dict]) -> dict:
    """`short` and `short_source`: the span, its passage, and its and its sentence's offsets in that passage."""
    if best is None or best.span is None:
        return {"short": None, "short_source": None}
    p = passages[best.passage]
    at = best.start - p["start"]
    return {"short": best.span.text, "short_source": {
        "passage_id": p["id"], "article_id": p["article_id"], "start": at + best.span.start,
        "end": at + best.span.end, "sentence": {"start": at, "end": at + len(best.text)}}}


def highlights(chosen: list[Candidate], passage: dict) -> list[dict]:
    """Offsets, inside the passage text, of the chosen sentences it contains."""
    start, end = passage["start"], passage["end"]
    return [{"start": c.start - start, "end": c.end - start} for c in chosen
            if c.article_id == passage["article_id"] and start <= c.start and c.end <= end]
