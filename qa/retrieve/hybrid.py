"""Hybrid retrieval: dense and lexical candidates fused by a weighted sum of normalised scores.

The lexical weight shrinks with the share of the question's words the corpus knows, and stays small when
most passages the model finds best are in another language than the question: an English question over
Vietnamese news matches words by chance, and a large corpus "knows" most English words somewhere.
DENSE_WEIGHT and COVERAGE_POWER were chosen with `python -m qa eval` on the three benchmarks;
CROSS_LEXICAL_WEIGHT by `python bench/cross_weight.py`, held out by article (docs/benchmarks.md).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from qa.index.layers import WordStats
from qa.index.lexical import query_tokens
from qa.index.versions import Index

DENSE_WEIGHT = 0.5
COVERAGE_POWER = 2
CROSS_LEXICAL_WEIGHT = 0.15
LEAD = 10  # the best dense passages whose languages tell whether a question is asked across languages
MODES = ("hybrid", "dense", "lexical")
PREFERENCE_BONUS = 0.5  # a preferred passage passes an unpreferred one up to this far ahead (of ~1)
RELEVANT = 0.6  # share of the best fused score a candidate needs to be raised by a preference


@dataclass
class Hit:
    """One ranked passage and the evidence behind its place."""

    row: int
    score: float
    dense_score: float
    lexical_score: float
    dense_rank: int | None
    lexical_rank: int | None


def _ranks(rows: np.ndarray) -> dict[int, int]:
    """1-based rank of each row in a method's own candidate list."""
    return {int(r): i + 1 for i, r in enumerate(rows)}


def best_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Rows of the n best positive scores, best first."""
    n = min(n, int((scores > 0).sum()))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def fuse(dense: np.ndarray, dense_floor: float, dense_top: float, lexical: np.ndarray,
         lexical_top: float, weight: float) -> np.ndarray:
    """Weighted sum of min-max dense and max-scaled BM25 scores, `weight` the lexical share."""
    dense_n = np.clip((dense - dense_floor) / max(dense_top - dense_floor, 1e-9), 0.0, None)
    lexical_n = lexical / lexical_top if lexical_top > 0 else np.zeros_like(lexical)
    return (1.0 - weight) * dense_n + weight * lexical_n


@dataclass
class Preference:
    """A soft wish over rows (the time a question names), raising relevant candidates.

    `weight` (0–1 per row) raises rows alike, and its nonzero rows are sought as extra candidates;
    `days` (day number per row, negative when undated) raises the newest relevant candidates most."""

    weight: np.ndarray | None = None
    days: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray | None:
        """Rows worth seeking beside the best overall."""
        return self.weight > 0 if self.weight is not None else None

    def weights(self, rows: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        """Each candidate's raise: its weight, plus its date's place among the relevant dated candidates."""
        out = self.weight[rows].astype(np.float64) if self.weight is not None else np.zeros(len(rows))
        if self.days is not None:
            days = self.days[rows]
            dated = relevant & (days >= 0)
            if dated.any():
                low, high = days[dated].min(), days[dated].max()
                out += np.where(dated, (days - low + 1) / (high - low + 1), 0.0)
        return out

    def within(self, rows: slice) -> Preference:
        """The preference over one part's rows (a shard's, in its own row numbers)."""
        cut = lambda values: values[rows] if values is not None else None
        return Preference(cut(self.weight), cut(self.days))


def boost(fused: np.ndarray, rows: np.ndarray, preference: Preference) -> np.ndarray:
    """Raise the preferred among the relevant candidates (within RELEVANT of the best), never the rest."""
    relevant = fused >= RELEVANT * fused.max(initial=0.0)
    return fused + PREFERENCE_BONUS * preference.weights(rows, relevant) * relevant


@dataclass
class Request:
    """One question's candidate search, as each part of an index (the version, or each shard) is asked it."""

    vector: np.ndarray
    question: str
    n: int
    mode: str
    words: list[str]
    allowed: np.ndarray | None = None
    wanted: np.ndarray | None = None
    language: str = ""

    def within(self, rows: slice) -> Request:
        """The request for the part of the index holding these rows: the row masks cut to them."""
        return replace(self, allowed=None if self.allowed is None else self.allowed[rows],
                       wanted=None if self.wanted is None else self.wanted[rows])


@dataclass
class Found:
    """Each method's best rows with their scores, both scores of every row among them, the question's words, and
    the LEAD best dense scores with the languages of their passages."""

    lists: dict[str, tuple[np.ndarray, np.ndarray]]
    rows: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    words: WordStats
    lead: list[tuple[float, str]] = field(default_factory=list)

    @property
    def language(self) -> str:
        """The language most of the best dense passages are in ("" when unknown)."""
        found = Counter(language for _, language in self.lead if language).most_common(1)
        return found[0][0] if found else ""

    def shifted(self, rows: int, sentences: int) -> Found:
        """The same candidates with their rows moved into a set's row space."""
        return replace(self, lists={k: (r + rows, s) for k, (r, s) in self.lists.items()}, rows=self.rows + rows)


def _typed(rows: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and scores as int64 and float32 arrays."""
    return np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float32)


def _union(lists: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Every row of the lists, once, in order."""
    return np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *(r for r, _ in lists.values())]))


def _lexical_best(scores: np.ndarray, mask: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n best BM25 rows (among the masked rows when a mask is given) with their scores."""
    rows = best_rows(scores if mask is None else np.where(mask, scores, 0.0), n)
    return _typed(rows, scores[rows])


def _lead(index: Index, dense: tuple[np.ndarray, np.ndarray] | None) -> list[tuple[float, str]]:
    """The LEAD best dense scores and their passages' languages, which tell a cross-language question."""
    if dense is None:
        return []
    passages = index.store.passages(dense[0][:LEAD].tolist())
    return [(float(s), p["language"] or "") for s, p in zip(dense[1][:LEAD], passages)]


def candidates(index: Index, request: Request) -> Found:
    """The candidates of one part of an index: the n best of each method, among the allowed rows, and the n best
    of each among the preferred rows (so a preferred passage ranked low overall can still win)."""
    n, mode, vector = request.n, request.mode, request.vector
    lists = {}
    if mode != "lexical":
        lists["dense"] = _typed(*(index.dense.search(vector, n) if request.allowed is None
                                 else index.dense.search_among(vector, n, request.allowed)))
    lexical_all = None
    if mode != "dense":
        lexical_all = index.lexical.scores(request.question)
        if request.allowed is not None:
            lexical_all = np.where(request.allowed, lexical_all, 0.0)
        lists["lexical"] = _lexical_best(lexical_all, None, n)
    if request.wanted is not None and request.wanted.any():
        if mode != "lexical":
            lists["dense preferred"] = _typed(*index.dense.search_among(vector, n, request.wanted))
        if lexical_all is not None:
            lists["lexical preferred"] = _lexical_best(lexical_all, request.wanted, n)
    rows = _union(lists)
    lexical = lexical_all[rows] if lexical_all is not None else np.zeros(len(rows), dtype=np.float32)
    return Found(lists, rows, index.dense.scores(vector, rows), lexical.astype(np.float32),
                 index.lexical.words(request.words), _lead(index, lists.get("dense")))


def merge(parts: list[Found], n: int) -> Found:
    """The candidates of the parts of an index as one: each method's n best over all parts, and their scores."""
    if len(parts) == 1:
        return parts[0]
    lists = {}
    for name in dict.fromkeys(k for p in parts for k in p.lists):
        rows = np.concatenate([p.lists[name][0] for p in parts if name in p.lists])
        scores = np.concatenate([p.lists[name][1] for p in parts if name in p.lists])
        best = np.argsort(-scores, kind="stable")[:n]
        lists[name] = rows[best], scores[best]
    every = np.concatenate([p.rows for p in parts])
    at = dict(zip(every.tolist(), range(len(every))))
    rows = _union(lists)
    places = np.array([at[r] for r in rows.tolist()], dtype=np.int64)
    return Found(lists, rows, np.concatenate([p.dense for p in parts])[places],
                 np.concatenate([p.lexical for p in parts])[places], WordStats.merged([p.words for p in parts]),
                 sorted((lead for p in parts for lead in p.lead), key=lambda lead: -lead[0])[:LEAD])


def lexical_weight(found: Found, question: str, language: str = "") -> float:
    """The lexical share of the fused score: growing with the share of the question's words the corpus knows, and
    at most CROSS_LEXICAL_WEIGHT when most of the best dense passages are in another language than the question's
    (`language`, "" when unknown)."""
    weight = (1.0 - DENSE_WEIGHT) * found.words.coverage(coverage_words(question)) ** COVERAGE_POWER
    lead = found.language
    return min(weight, CROSS_LEXICAL_WEIGHT) if language and lead and lead != language else weight


def rank(found: Found, question: str, k: int, mode: str, preference: Preference | None = None,
         language: str = "") -> list[Hit]:
    """The k best candidates by the fused score (or one method's alone), raised by the question's preference."""
    rows, dense, lexical = found.rows, found.dense, found.lexical
    if mode == "dense":
        fused = dense
    elif mode == "lexical":
        fused = lexical
    else:
        dense_scores = found.lists["dense"][1]
        floor = float(dense_scores[-1]) if len(dense_scores) else 0.0
        top = float(dense_scores[0]) if len(dense_scores) else 1.0
        fused = fuse(dense, floor, top, lexical, float(lexical.max(initial=0.0)),
                     lexical_weight(found, question, language))
    if preference is not None:
        fused = boost(fused, rows, preference)
    d_rank, l_rank = (_ranks(found.lists[m][0]) if m in found.lists else {} for m in ("dense", "lexical"))
    order = np.argsort(-fused, kind="stable")[:k]
    return [Hit(int(rows[i]), float(fused[i]), float(dense[i]), float(lexical[i]),
                d_rank.get(int(rows[i])), l_rank.get(int(rows[i]))) for i in order]


def coverage_words(question: str) -> list[str]:
    """The question's words whose share known to the corpus sets the lexical weight."""
    return query_tokens(question, bigrams=False)


def request(vector: np.ndarray, question: str, mode: str = "hybrid", candidates_per_method: int = 100,
            allowed: np.ndarray | None = None, preference: Preference | None = None, words: list[str] = (),
            language: str = "") -> Request:
    """The candidate search of a question in `language` whose vector is computed, as every part of an index is
    asked it, with the statistics of its words and of `words` (for the answer step).

    `allowed` (a row mask, from filters.py) is applied inside both searches, before the best are taken."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    wanted = preference.rows if preference is not None else None
    if wanted is not None and allowed is not None:
        wanted = wanted & allowed
    return Request(vector, question, candidates_per_method, mode,
                   list(dict.fromkeys([*coverage_words(question), *words])), allowed, wanted, language)
