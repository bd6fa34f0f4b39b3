"""Extractive answers: the best one or two sentences of the top passages, each with its [n] citation.

A sentence's score mixes its dense similarity to the question (late-chunked vectors stored in the
index), the IDF-weighted share of the question's words it contains (diacritics folded), whether it
holds the kind of thing asked for (a number for "bao nhiêu", a date for "khi nào", a name for
"ai"…) that the question does not already say, and the rank of its passage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.index.versions import Index
from qa.ingest.text import fold, is_question_word, words

PASSAGES_SEARCHED = 3
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.15
TYPE_WEIGHT = 0.05
RANK_PENALTY = 0.03
SECOND_MARGIN = 0.03

_TYPES = [
    ("number", re.compile(r"\b(bao nhieu|may|how (many|much)|ty le|so luong|what (percentage|number))\b")),
    ("time", re.compile(r"\b(khi nao|bao gio|ngay nao|nam nao|thang nao|luc nao|thoi gian nao|thoi diem nao|"
                        r"when|what (year|date|day|month|time))\b")),
    ("person", re.compile(r"(^|\W)(ai|nguoi nao|dong chi nao|ong nao|ba nao|who|whom|whose)\b")),
    ("place", re.compile(r"\b(o dau|tai dau|noi nao|dia diem nao|where)\b")),
]
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


def question_type(question: str) -> str | None:
    """What the question asks for: number, time, person, place, or None."""
    folded = fold(question.lower())
    return next((name for name, pattern in _TYPES if pattern.search(folded)), None)


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


def content_words(question: str) -> list[str]:
    """Folded words of the question without the question words themselves."""
    all_words = words(question)
    return [fold(w) for w in all_words if not is_question_word(w)] or [fold(w) for w in all_words]


def _overlap(question_words: list[str], weights: dict[str, float], sentence: str) -> float:
    """IDF-weighted share of the question's words present in the sentence."""
    total = sum(weights[w] for w in question_words)
    if not total:
        return 0.0
    present = {fold(w) for w in words(sentence)}
    return sum(weights[w] for w in question_words if w in present) / total


def candidates(index: Index, passages: list[dict]) -> list[Candidate]:
    """Sentences of the top passages, each once even where neighbouring passages overlap."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for i, p in enumerate(passages[:PASSAGES_SEARCHED]):
        spans = index.store.sentence_spans(p["sentences"])
        for row, (start, end) in zip(p["sentences"], spans):
            key = (p["article_id"], start, end)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(i, p["article_id"], row, start, end, p["text"][start - p["start"]:end - p["start"]]))
    return out


def score(index: Index, question: str, vector: np.ndarray, found: list[Candidate]) -> list[Candidate]:
    """Fill in each candidate's evidence and score; best first."""
    if not found:
        return []
    question_words = content_words(question)
    weights = dict(zip(question_words, index.lexical.idf(question_words)))
    kind = question_type(question)
    dense = index.dense.sentence_scores(vector, np.array([c.row for c in found]))
    for c, d in zip(found, dense):
        c.dense = float(d)
        c.lexical = _overlap(question_words, weights, c.text)
        c.kind = float(_has_type(kind, question, c.text))
        c.score = (DENSE_WEIGHT * c.dense + LEXICAL_WEIGHT * c.lexical + TYPE_WEIGHT * c.kind
                   - RANK_PENALTY * c.passage)
    return sorted(found, key=lambda c: -c.score)


def choose(ranked: list[Candidate]) -> list[Candidate]:
    """The best sentence, and the runner-up when it scores almost as well; in reading order."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1].score >= ranked[0].score - SECOND_MARGIN:
        chosen.append(ranked[1])
    return sorted(chosen, key=lambda c: (c.passage, c.start))


def compose(chosen: list[Candidate], passages: list[dict]) -> dict:
    """Answer text with [n] after each sentence, citations numbered in order of first use."""
    numbers: dict[int, int] = {}
    parts = []
    for c in chosen:
        n = numbers.setdefault(c.passage, len(numbers) + 1)
        parts.append(f"{c.text.strip()} [{n}]")
    citations = [{"n": n, "passage_id": passages[i]["id"], "article_id": passages[i]["article_id"],
                  "title": passages[i]["title"]} for i, n in numbers.items()]
    return {"text": " ".join(parts), "citations": citations}


def highlights(chosen: list[Candidate], passage: dict) -> list[dict]:
    """Offsets, inside the passage text, of the chosen sentences it contains."""
    start, end = passage["start"], passage["end"]
    return [{"start": c.start - start, "end": c.end - start} for c in chosen
            if c.article_id == passage["article_id"] and start <= c.start and c.end <= end]
