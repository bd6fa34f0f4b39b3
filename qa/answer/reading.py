"""What the answer step reads of the index for one question's ranked passages, in one call to each part.

The passages themselves; for the few the sentence is chosen from, their sentences' offsets and cosines
with the question; and which of the question's anchor words their articles hold (relevance.py). On a
set of shards each shard holding some of the passages answers for its own (an article's passages are
all in one shard), so the answer step costs one round to the shards instead of one per lookup.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index.shards import shifted
from qa.index.versions import Index


@dataclass
class Request:
    """The ranked rows (best first), those the sentence is chosen from, the question's vector and anchor words."""

    rows: list[int]
    searched: list[int]
    vector: np.ndarray
    anchors: list[str]

    def within(self, rows: slice) -> Request | None:
        """The request for one shard's rows, in its own row numbers; None when it holds none of them."""
        local = lambda found: [r - rows.start for r in found if rows.start <= r < rows.stop]
        mine = local(self.rows)
        return Request(mine, local(self.searched), self.vector, self.anchors) if mine else None


@dataclass
class Reading:
    """Passages by row; sentence offsets (in the article) by searched passage row; sentence cosines by sentence
    row; and whether each anchor word occurs in a searched passage's article."""

    passages: dict[int, dict]
    spans: dict[int, list[tuple[int, int]]]
    sentence_scores: dict[int, float]
    occurring: dict[str, bool]

    def shifted(self, rows: int, sentences: int) -> Reading:
        """The same reading with its rows moved into a set's row space."""
        return Reading({r + rows: shifted(p, rows, sentences) for r, p in self.passages.items()},
                       {r + rows: s for r, s in self.spans.items()},
                       {r + sentences: s for r, s in self.sentence_scores.items()}, self.occurring)


def read(index: Index, request: Request) -> Reading:
    """Read one part of the index for the request (what `Index.run` runs on each part)."""
    passages = dict(zip(request.rows, index.store.passages(request.rows)))
    searched = [passages[r] for r in request.searched]
    spans = {p["row"]: index.store.sentence_spans(p["sentences"]) for p in searched}
    sentence_rows = np.array([s for p in searched for s in p["sentences"]], dtype=np.int64)
    cosines = index.dense.sentence_scores(request.vector, sentence_rows) if len(sentence_rows) else []
    articles = list(dict.fromkeys(p["article_id"] for p in searched))
    found = index.lexical.occurring(request.anchors, index.store.rows_of(articles)) if request.anchors else []
    return Reading(passages, spans, dict(zip(sentence_rows.tolist(), map(float, cosines))),
                   dict(zip(request.anchors, found)))


def merge(parts: list[Reading]) -> Reading:
    """The readings of the parts of an index as one (an anchor word occurs when it occurs in some part)."""
    if len(parts) == 1:
        return parts[0]
    occurring = {}
    for part in parts:
        for word, present in part.occurring.items():
            occurring[word] = occurring.get(word, False) or present
    return Reading({r: p for part in parts for r, p in part.passages.items()},
                   {r: s for part in parts for r, s in part.spans.items()},
                   {r: s for part in parts for r, s in part.sentence_scores.items()}, occurring)


def of(index: Index, rows: list[int], searched: int, vector: np.ndarray, anchors: list[str]) -> Reading:
    """What the answer step needs of the ranked rows, the first `searched` of them read for sentences."""
    if not rows:
        return Reading({}, {}, {}, dict.fromkeys(anchors, False))
    return merge(index.run(read, Request(list(rows), list(rows[:searched]), vector, anchors)))
