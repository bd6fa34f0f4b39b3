"""What the answer step reads of the index for one question's ranked passages, in the call that retrieves them.

The passages themselves; for the few the sentence is chosen from, their sentences' offsets and cosines
with the question; and which of the question's anchor words their articles hold (relevance.py). Each part
of an index reads ahead, in the same call as its retrieval candidates (`ahead`), the best rows of its own
ranking. A single version is the only part, so its ranking is the final one; a shard's ranking only
approximates the set's (scores are normalised over every shard's candidates), so a shard reads a margin
more, and the few rows the merged ranking still lacks are read in a second round. A question thus costs
one round to the shards, where retrieval and reading took two.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index.shards import shifted
from qa.index.versions import Index
from qa.retrieve import hybrid

MARGIN = 2  # a shard reads this many times the rows asked, its ranking being the set's only roughly


@dataclass
class Request:
    """The ranked rows (best first), those the sentence is chosen from, the question's vector and anchor words."""

    rows: list[int]
    searched: list[int]
    vector: np.ndarray | None
    anchors: list[str]

    def within(self, rows: slice) -> Request | None:
        """The request for one shard's rows, in its own row numbers; None when it holds none of them."""
        local = lambda found: [r - rows.start for r in found if rows.start <= r < rows.stop]
        mine = local(self.rows)
        return Request(mine, local(self.searched), self.vector, self.anchors) if mine else None


@dataclass
class Reading:
    """Passages by row; sentence offsets (in the article) by searched passage row; sentence cosines by sentence
    row; and, for each searched passage's article, whether it holds each anchor word."""

    passages: dict[int, dict]
    spans: dict[int, list[tuple[int, int]]]
    sentence_scores: dict[int, float]
    anchors: dict[str, dict[str, bool]]
    words: list[str]

    @property
    def occurring(self) -> dict[str, bool]:
        """Whether each anchor word occurs in some searched passage's article."""
        return {w: any(held[w] for held in self.anchors.values()) for w in self.words}

    def shifted(self, rows: int, sentences: int) -> Reading:
        """The same reading with its rows moved into a set's row space."""
        return Reading({r + rows: shifted(p, rows, sentences) for r, p in self.passages.items()},
                       {r + rows: s for r, s in self.spans.items()},
                       {r + sentences: s for r, s in self.sentence_scores.items()}, self.anchors, self.words)

    def narrowed(self, rows: list[int], searched: int, words: list[str]) -> Reading | None:
        """The reading of exactly these ranked rows, the first `searched` read for sentences, and these anchor
        words; None when something of it was not read."""
        chosen = rows[:searched]
        if any(r not in self.passages for r in rows) or any(r not in self.spans for r in chosen):
            return None
        articles = list(dict.fromkeys(self.passages[r]["article_id"] for r in chosen)) if words else []
        if any(a not in self.anchors or not set(words) <= self.anchors[a].keys() for a in articles):
            return None
        return Reading({r: self.passages[r] for r in rows}, {r: self.spans[r] for r in chosen},
                       {s: self.sentence_scores[s] for r in chosen for s in self.passages[r]["sentences"]},
                       {a: {w: self.anchors[a][w] for w in words} for a in articles}, list(words))


@dataclass
class Ahead:
    """Retrieval's request with what each part reads ahead: its own `k` best rows, the first `searched` of them
    for sentences, and their articles' anchor words."""

    search: hybrid.Request
    preference: hybrid.Preference | None
    k: int
    searched: int
    anchors: list[str]

    def within(self, rows: slice) -> Ahead:
        """The request for one shard's rows, which reads a margin more (its ranking approximates the set's)."""
        preference = self.preference.within(rows) if self.preference is not None else None
        return Ahead(self.search.within(rows), preference, self.k * MARGIN, self.searched * MARGIN, self.anchors)


@dataclass
class Retrieved:
    """One part's retrieval candidates and what it read ahead of its own best rows."""

    found: hybrid.Found
    reading: Reading

    def shifted(self, rows: int, sentences: int) -> Retrieved:
        """The same, its rows moved into a set's row space."""
        return Retrieved(self.found.shifted(rows, sentences), self.reading.shifted(rows, sentences))


def read(index: Index, request: Request) -> Reading:
    """Read one part of the index for the request (what `Index.run` runs on each part)."""
    passages = dict(zip(request.rows, index.store.passages(request.rows)))
    searched = [passages[r] for r in request.searched]
    spans = {p["row"]: index.store.sentence_spans(p["sentences"]) for p in searched}
    sentence_rows = np.array([s for p in searched for s in p["sentences"]], dtype=np.int64)
    cosines = index.dense.sentence_scores(request.vector, sentence_rows) if len(sentence_rows) else []
    articles = list(dict.fromkeys(p["article_id"] for p in searched)) if request.anchors else []
    found = index.lexical.occurring(request.anchors, [index.store.rows_of([a]) for a in articles])
    held = {a: dict(zip(request.anchors, present)) for a, present in zip(articles, found)}
    return Reading(passages, spans, dict(zip(sentence_rows.tolist(), map(float, cosines))), held,
                   list(request.anchors))


def ahead(index: Index, request: Ahead) -> Retrieved:
    """Retrieval's candidates of one part, and the reading of its own best rows (what `Index.run` runs)."""
    found = hybrid.candidates(index, request.search)
    search = request.search
    rows = [h.row for h in hybrid.rank(found, search.question, request.k, search.mode, request.preference,
                                       search.language)]
    return Retrieved(found, read(index, Request(rows, rows[:request.searched], request.search.vector,
                                                request.anchors)))


def merge(parts: list[Reading]) -> Reading:
    """The readings of the parts of an index as one (an article's passages are all in one part)."""
    if len(parts) == 1:
        return parts[0]
    return Reading({r: p for part in parts for r, p in part.passages.items()},
                   {r: s for part in parts for r, s in part.spans.items()},
                   {r: s for part in parts for r, s in part.sentence_scores.items()},
                   {a: held for part in parts for a, held in part.anchors.items()}, parts[0].words)


def of(index: Index, rows: list[int], searched: int, vector: np.ndarray | None, anchors: list[str]) -> Reading:
    """What the answer step needs of the ranked rows, the first `searched` of them read for sentences."""
    if not rows:
        return Reading({}, {}, {}, {}, list(anchors))
    return merge(index.run(read, Request(list(rows), list(rows[:searched]), vector, anchors)))


def ranked(index: Index, ahead: Reading, rows: list[int], searched: int, vector: np.ndarray | None,
           anchors: list[str]) -> Reading:
    """The reading of the final ranked rows: what was read ahead, or one more round when it lacks some."""
    found = ahead.narrowed(rows, searched, anchors)
    return found if found is not None else of(index, rows, searched, vector, anchors)
