"""Diacritics for a question typed without them, taken from the passages it matches lexically.

The embedding model reads "thu do cua viet nam" as noise, but the folded lexical index still finds
the right passages, and they show how each syllable is written there. Spellings are voted for by
the word itself and by the pairs it forms with its neighbours, so "bao" next to "chi" becomes "báo".
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from qa.index.versions import Index
from qa.ingest.text import fold, has_diacritics, words
from qa.retrieve.hybrid import best_rows

_TOKEN = re.compile(r"[^\W_]+")
PAIR_WEIGHT = 3
PASSAGES = 10  # the best lexical matches whose spelling is followed


@dataclass
class Request:
    """The question whose best lexical matches each part of an index (the version, or each shard) is asked for."""

    question: str
    n: int

    def within(self, rows: slice) -> Request:
        """The same request for every shard."""
        return self


@dataclass
class Matches:
    """The best lexical matches of one part: rows, BM25 scores and passage texts."""

    rows: np.ndarray
    scores: np.ndarray
    texts: list[str]

    def shifted(self, rows: int, sentences: int) -> Matches:
        """The matches with their rows moved into a set's row space."""
        return replace(self, rows=self.rows + rows)


def matches(index: Index, request: Request) -> Matches:
    """The n best BM25 matches of one part of the index, with their texts (what `Index.run` runs on each part)."""
    scores = index.lexical.scores(request.question)
    rows = best_rows(scores, request.n)
    return Matches(rows, scores[rows], [p["text"] for p in index.store.passages(rows.tolist())])


def respell(index: Index, question: str, n: int = PASSAGES) -> str:
    """The question spelled as its n best lexical matches over the whole index spell its words (one call to each
    part of the index)."""
    parts = index.run(matches, Request(question, n))
    scores = np.concatenate([p.scores for p in parts])
    texts = [t for p in parts for t in p.texts]
    return restore(question, [texts[i] for i in np.argsort(-scores, kind="stable")[:n]])


def _spellings(texts: list[str]) -> tuple[dict[str, Counter], dict[tuple[str, str], Counter]]:
    """How often each folded word and each folded pair of neighbours is written each way."""
    single: dict[str, Counter] = defaultdict(Counter)
    pairs: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for text in texts:
        spelled = words(text)
        folded = [fold(w) for w in spelled]
        for f, w in zip(folded, spelled):
            single[f][w] += 1
        for i in range(len(spelled) - 1):
            pairs[folded[i], folded[i + 1]][spelled[i], spelled[i + 1]] += 1
    return single, pairs


def _choose(i: int, folded: list[str], single: dict, pairs: dict) -> str | None:
    """The spelling of word i with most votes from itself and its two neighbour pairs."""
    votes = Counter(single.get(folded[i], {}))
    if i > 0:
        for (_, b), n in pairs.get((folded[i - 1], folded[i]), {}).items():
            votes[b] += PAIR_WEIGHT * n
    if i + 1 < len(folded):
        for (a, _), n in pairs.get((folded[i], folded[i + 1]), {}).items():
            votes[a] += PAIR_WEIGHT * n
    return votes.most_common(1)[0][0] if votes else None


def _cased(spelling: str, typed: str) -> str:
    """The chosen spelling in the case the user typed."""
    if typed.isupper() and len(typed) > 1:
        return spelling.upper()
    return spelling[:1].upper() + spelling[1:] if typed[:1].isupper() else spelling


def restore(question: str, texts: list[str]) -> str:
    """The question with each word typed without diacritics spelled as `texts` mostly spell it."""
    single, pairs = _spellings(texts)
    tokens = list(_TOKEN.finditer(question))
    folded = [fold(t.group().lower()) for t in tokens]
    out, last = [], 0
    for i, token in enumerate(tokens):
        typed = token.group()
        chosen = None if has_diacritics(typed) else _choose(i, folded, single, pairs)
        out.append(question[last:token.start()] + (_cased(chosen, typed) if chosen else typed))
        last = token.end()
    return "".join(out) + question[last:]
