"""A published version seen as one row space over its segments.

A version's root holds the base segment. After a small update on a large index it also holds
`delta/`, a segment with the articles changed since the base was built, whose passage and sentence
rows follow the base's. Articles removed or replaced since then stay in the base's files but are
hidden: their rows are never returned. An update then writes only the delta and hard-links the
base's files, so it publishes in seconds instead of rewriting gigabytes.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.index.lexical import Lexical, query_tokens
from qa.index.store import Store
from qa.index.vectors import Dense

DELTA = "delta"
LEXICAL = "lexical"


class LayeredStore:
    """Articles and passages of the base (minus hidden articles) and of the delta."""

    def __init__(self, base: Store, delta: Store | None, hidden: frozenset[str]):
        self.base, self.delta, self.hidden = base, delta, hidden
        self.delta_ids = frozenset(delta.ids()) if delta is not None else frozenset()

    def _holder(self, article_id: str) -> Store | None:
        """The segment an article lives in, or None when it is hidden or unknown."""
        if article_id in self.delta_ids:
            return self.delta
        return None if article_id in self.hidden else self.base

    def _by_holder(self, article_ids) -> list[tuple[Store, list[str]]]:
        """Article ids grouped by the segment that holds them."""
        groups: dict[int, tuple[Store, list[str]]] = {}
        for article_id in article_ids:
            store = self._holder(article_id)
            if store is not None:
                groups.setdefault(id(store), (store, []))[1].append(article_id)
        return list(groups.values())

    def passages(self, rows: list[int]) -> list[dict]:
        """Passages by row, in the order asked."""
        if self.delta is None:
            return self.base.passages(rows)
        first = self.delta.offset
        found = self.base.passages([r for r in rows if r < first]) + self.delta.passages([r for r in rows if r >= first])
        by_row = {p["row"]: p for p in found}
        return [by_row[int(r)] for r in rows]

    def article_passages(self, article_id: str) -> list[dict]:
        """An article's passages in reading order."""
        store = self._holder(article_id)
        return store.article_passages(article_id) if store is not None else []

    def rows_of(self, article_ids: list[str]) -> np.ndarray:
        """Rows of all passages of some articles."""
        parts = [store.rows_of(ids) for store, ids in self._by_holder(article_ids)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def article(self, article_id: str):
        """The whole cleaned article, or None."""
        store = self._holder(article_id)
        return store.article(article_id) if store is not None else None

    def articles(self, article_ids=None):
        """Every live article (or those named), in id order."""
        if article_ids is not None:
            found = [a for store, ids in self._by_holder(article_ids) for a in store.articles(ids)]
            return iter(sorted(found, key=lambda a: a.id))
        segments = [(a for a in self.base.articles() if a.id not in self.hidden)]
        if self.delta is not None:
            segments.append(self.delta.articles())
        return heapq.merge(*segments, key=lambda a: a.id)

    def ids(self) -> list[str]:
        """Every live article id, in order."""
        return sorted({i for i in self.base.ids() if i not in self.hidden} | self.delta_ids)

    def summaries(self) -> list[dict]:
        """Id, title, date, author and passage count of every live article."""
        rows = [s for s in self.base.summaries() if s["id"] not in self.hidden]
        if self.delta is not None:
            rows = list(heapq.merge(rows, self.delta.summaries(), key=lambda s: s["id"]))
        return rows

    def row_articles(self) -> tuple[np.ndarray, list[str]]:
        """Every live passage row with its article id."""
        rows, owners = self.base.row_articles()
        live = [i for i, a in enumerate(owners) if a not in self.hidden]
        rows, owners = rows[live], [owners[i] for i in live]
        if self.delta is not None:
            more_rows, more_owners = self.delta.row_articles()
            rows, owners = np.concatenate([rows, more_rows]), owners + more_owners
        return rows, owners

    def sentence_spans(self, rows: range) -> list[tuple[int, int]]:
        """Article offsets of sentences by sentence row (a passage's sentences are in one segment)."""
        delta = self.delta is not None and rows.start >= self.delta.sentence_offset
        return (self.delta if delta else self.base).sentence_spans(rows)

    def entries(self, article_ids) -> dict:
        """Stored passages of some articles, to carry into a new version."""
        return {k: v for store, ids in self._by_holder(article_ids) for k, v in store.entries(ids).items()}

    def hashes(self, wanted: list[str]) -> dict[str, tuple[int, range]]:
        """Content hash -> row and sentence rows in either segment, for the wanted hashes, to reuse embeddings."""
        return {**self.base.hashes(wanted), **(self.delta.hashes(wanted) if self.delta is not None else {})}

    def close(self) -> None:
        """Close this thread's connections."""
        for store in (self.base, self.delta):
            if store is not None:
                store.close()


def _gather(rows, base: np.ndarray, delta: np.ndarray | None, first: int) -> np.ndarray:
    """Rows of two stacked arrays, without stacking them."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty((len(rows), base.shape[1]), dtype=base.dtype)
    inside = rows < first
    out[inside] = base[rows[inside]]
    if delta is not None and not inside.all():
        out[~inside] = delta[rows[~inside] - first]
    return out


def _best(rows: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n best of two segments' results."""
    best = np.argsort(-scores, kind="stable")[:n]
    return rows[best], scores[best]


class LayeredDense:
    """Dense search over the base (skipping hidden rows) and the delta (exact: it is small)."""

    def __init__(self, base: Dense, delta: Dense | None, hidden_rows: np.ndarray):
        self.base, self.delta, self.hidden_rows = base, delta, hidden_rows
        self.first, self.first_sentence = len(base), len(base.sentence_vectors)

    def __len__(self) -> int:
        return len(self.base) + (len(self.delta) if self.delta is not None else 0) - len(self.hidden_rows)

    def search(self, query: np.ndarray, n: int, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the `n` nearest live passages."""
        rows, scores = self.base.search(query, n, exact, skip=self.hidden_rows)
        if self.delta is None:
            return rows, scores
        more_rows, more_scores = self.delta.search(query, n, exact=True)
        return _best(np.concatenate([rows, more_rows + self.first]), np.concatenate([scores, more_scores]), n)

    @property
    def rows(self) -> int:
        """Rows of the version's row space, hidden ones included."""
        return self.first + (len(self.delta) if self.delta is not None else 0)

    def search_among(self, query: np.ndarray, n: int, allowed: np.ndarray,
                     exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The `n` nearest live passages among the allowed rows (a mask over the row space)."""
        base_allowed = allowed[:self.first].copy()
        base_allowed[self.hidden_rows] = False
        rows, scores = self.base.search_among(query, n, base_allowed, exact)
        if self.delta is None:
            return rows, scores
        more_rows, more_scores = self.delta.search_among(query, n, allowed[self.first:], exact=True)
        return _best(np.concatenate([rows, more_rows + self.first]), np.concatenate([scores, more_scores]), n)

    def vectors_of(self, rows) -> np.ndarray:
        """Passage vectors by row."""
        return _gather(rows, self.base.vectors, self.delta.vectors if self.delta else None, self.first)

    def sentence_vectors_of(self, rows) -> np.ndarray:
        """Sentence vectors (float16) by sentence row."""
        return _gather(rows, self.base.sentence_vectors, self.delta.sentence_vectors if self.delta else None,
                       self.first_sentence)

    def scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine scores of given rows (candidates found by the other method)."""
        return np.asarray(self.vectors_of(rows) @ query, dtype=np.float32)

    def sentence_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of the question with sentences (late-chunked vectors)."""
        return np.asarray(self.sentence_vectors_of(rows).astype(np.float32) @ query)


class LayeredLexical:
    """BM25 over the base and the delta (weighted alike, see lexical.py), hidden rows scoring zero."""

    def __init__(self, base: Lexical, delta: Lexical | None, hidden_rows: np.ndarray, bigrams: bool = True):
        self.base, self.delta, self.hidden_rows, self.bigrams = base, delta, hidden_rows, bigrams
        self.vocab = (delta or base).vocab
        self.first = len(base)
        self._last: tuple[str, np.ndarray] | None = None

    def _segments(self) -> list[tuple[Lexical, int]]:
        """Each segment with its first row."""
        return [(self.base, 0)] + ([(self.delta, self.first)] if self.delta is not None else [])

    def _ids(self, tokens: list[str]) -> list[int]:
        """Ids of the known tokens."""
        return [i for i in self.vocab.lookup(tokens) if i is not None]

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every row for the question (zeros when no word is known), read-only; the last
        question's are kept, since a question typed without diacritics is scored to respell it, then to
        retrieve."""
        last = self._last
        if last is not None and last[0] == question:
            return last[1]
        out = self._scored(self._ids(query_tokens(question, self.bigrams)))
        out.setflags(write=False)
        self._last = (question, out)
        return out

    def _scored(self, ids: list[int]) -> np.ndarray:
        """BM25 scores of every row for some token ids."""
        if self.delta is None and not len(self.hidden_rows):
            return self.base.scores(ids)
        out = np.concatenate([segment.scores(ids) for segment, _ in self._segments()])
        out[self.hidden_rows] = 0.0
        return out

    def known(self, tokens: list[str]) -> list[bool]:
        """Which tokens occur in the corpus."""
        return [i is not None for i in self.vocab.lookup(tokens)]

    def frequencies(self, tokens: list[str]) -> tuple[np.ndarray, int]:
        """How many passages contain each index token (0 when unknown), and how many passages there are."""
        found = self.vocab.lookup(tokens)
        ids = np.array([i if i is not None else -1 for i in found], dtype=np.int64)
        df = sum(segment.document_frequencies(np.maximum(ids, 0)) for segment, _ in self._segments())
        return np.where(ids >= 0, df, 0), sum(len(segment) for segment, _ in self._segments())

    def words(self, tokens: list[str]) -> WordStats:
        """What coverage and the answer step's idf weights need to know of some tokens, in one call."""
        frequencies, passages = self.frequencies(tokens)
        return WordStats(dict(zip(tokens, self.known(tokens))), dict(zip(tokens, frequencies.tolist())), passages)

    def occurring(self, tokens: list[str], groups: list) -> list[list[bool]]:
        """For each group of rows (an article's), which tokens occur in some of them; each token's rows are
        looked up once for all groups."""
        holding = [self.rows_with(t) for t in tokens]
        return [[bool(np.isin(found, np.asarray(rows, dtype=np.int64)).any()) for found in holding]
                for rows in groups]

    def rows_with(self, token: str) -> np.ndarray:
        """Live rows containing a token."""
        i = self.vocab.lookup([token])[0]
        if i is None:
            return np.zeros(0, dtype=np.int64)
        rows = np.concatenate([segment.rows_with(i).astype(np.int64) + first for segment, first in self._segments()])
        return rows[~np.isin(rows, self.hidden_rows)]

    def passage_tokens(self, row: int) -> np.ndarray:
        """Token ids of one passage, as stored."""
        if row >= self.first and self.delta is not None:
            return self.delta.passage_tokens(row - self.first)
        return self.base.passage_tokens(row)


@dataclass
class WordStats:
    """Of some tokens: whether the corpus knows each, and how many of its passages hold each."""

    known: dict[str, bool]
    frequencies: dict[str, int]
    passages: int

    @classmethod
    def merged(cls, parts: list[WordStats]) -> WordStats:
        """The statistics of several row spaces together (the shards of a set)."""
        tokens = list(dict.fromkeys(t for p in parts for t in p.known))
        return cls({t: any(p.known.get(t, False) for p in parts) for t in tokens},
                   {t: sum(p.frequencies.get(t, 0) for p in parts) for t in tokens}, sum(p.passages for p in parts))

    def joined(self, more: WordStats) -> WordStats:
        """These statistics and those of more tokens of the same corpus."""
        return WordStats({**self.known, **more.known}, {**self.frequencies, **more.frequencies}, self.passages)

    def lacks(self, tokens: list[str]) -> list[str]:
        """The tokens these statistics were not gathered for."""
        return [t for t in tokens if t not in self.known]

    def coverage(self, tokens: list[str]) -> float:
        """Share of the tokens that occur anywhere in the corpus."""
        return sum(self.known[t] for t in tokens) / len(tokens) if tokens else 0.0

    def idf(self, tokens: list[str]) -> list[float]:
        """BM25 inverse document frequency of the tokens (unknown tokens count as rarest)."""
        return bm25_idf(np.array([self.frequencies[t] for t in tokens], dtype=np.int64), self.passages)


def bm25_idf(frequencies: np.ndarray, n_docs: int) -> list[float]:
    """BM25 inverse document frequency from how many of `n_docs` passages hold each token."""
    return [float(v) for v in np.log(1 + (n_docs - frequencies + 0.5) / (frequencies + 0.5))]


def open_store(folder: Path, hidden: frozenset[str], base_dense: Dense | None = None) -> LayeredStore:
    """A version's articles and passages alone (the base's vectors give where the delta's rows start)."""
    delta_store = None
    if (folder / DELTA).is_dir():
        base_dense = base_dense or Dense.load(folder, searching=False)
        delta_store = Store(folder / DELTA / "store.sqlite", len(base_dense), len(base_dense.sentence_vectors))
    return LayeredStore(Store(folder / "store.sqlite"), delta_store, hidden)


def open_layers(folder: Path, hidden: frozenset[str], bigrams: bool = True, nprobe: int = 0, ef_search: int = 0,
                reuse: Dense | None = None, searching: bool = True) -> tuple[LayeredStore, LayeredDense, LayeredLexical]:
    """Map a version's segments (nothing is read into memory but the hidden rows and, for `searching`,
    an HNSW graph, which a version sharing its base with `reuse`'s takes over)."""
    base_dense = Dense.load(folder, nprobe, ef_search, reuse, searching)
    base_lexical = Lexical.load(folder / LEXICAL)
    store = open_store(folder, hidden, base_dense)
    hidden_rows = np.sort(store.base.rows_of(hidden)) if hidden else np.zeros(0, dtype=np.int64)
    delta_dense = delta_lexical = None
    if store.delta is not None:
        delta_dense = Dense.load(folder / DELTA)
        delta_lexical = Lexical.load(folder / DELTA / LEXICAL, base_lexical)
    return (store, LayeredDense(base_dense, delta_dense, hidden_rows),
            LayeredLexical(base_lexical, delta_lexical, hidden_rows, bigrams))
