"""Hybrid retrieval: dense and lexical candidates fused by a weighted sum of normalised scores.

The lexical weight shrinks with the share of the question's words the corpus knows, so an English
question over Vietnamese text leans on the multilingual model instead of on chance word matches.
Weights were chosen with `python -m qa eval` on the three benchmarks (see README).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index.lexical import query_tokens
from qa.index.versions import Index

DENSE_WEIGHT = 0.5
COVERAGE_POWER = 2
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


def coverage(index: Index, question: str) -> float:
    """Share of the question's words that occur anywhere in the corpus."""
    words = query_tokens(question, bigrams=False)
    return sum(index.lexical.known(words)) / len(words) if words else 0.0


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
         lexical_top: float, cover: float) -> np.ndarray:
    """Weighted sum of min-max dense and max-scaled BM25 scores, lexical weight scaled by coverage."""
    dense_n = np.clip((dense - dense_floor) / max(dense_top - dense_floor, 1e-9), 0.0, None)
    lexical_n = lexical / lexical_top if lexical_top > 0 else np.zeros_like(lexical)
    w = (1.0 - DENSE_WEIGHT) * cover ** COVERAGE_POWER
    return (1.0 - w) * dense_n + w * lexical_n


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


def _dense(index: Index, query_vector: np.ndarray, n: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Dense candidates, among the allowed rows when a filter is given."""
    if allowed is None:
        return index.dense.search(query_vector, n)
    return index.dense.search_among(query_vector, n, allowed)


def _prefer(index: Index, query_vector: np.ndarray, lexical_all: np.ndarray | None, n: int,
            allowed: np.ndarray | None, preference: Preference | None) -> np.ndarray:
    """Extra candidates from the preferred rows, so a preferred passage ranked low overall can still win."""
    if preference is None or preference.rows is None:
        return np.zeros(0, dtype=np.int64)
    wanted = preference.rows if allowed is None else preference.rows & allowed
    if not wanted.any():
        return np.zeros(0, dtype=np.int64)
    dense_rows = index.dense.search_among(query_vector, n, wanted)[0] if query_vector is not None else []
    lexical_rows = best_rows(np.where(wanted, lexical_all, 0.0), n) if lexical_all is not None else []
    return np.concatenate([np.asarray(dense_rows, dtype=np.int64), np.asarray(lexical_rows, dtype=np.int64)])


def boost(fused: np.ndarray, rows: np.ndarray, preference: Preference) -> np.ndarray:
    """Raise the preferred among the relevant candidates (within RELEVANT of the best), never the rest."""
    relevant = fused >= RELEVANT * fused.max(initial=0.0)
    return fused + PREFERENCE_BONUS * preference.weights(rows, relevant) * relevant


def search(index: Index, query_vector: np.ndarray, question: str, k: int = 10,
           mode: str = "hybrid", candidates: int = 100, lexical_scores: np.ndarray | None = None,
           allowed: np.ndarray | None = None, preference: Preference | None = None) -> list[Hit]:
    """The k best passages for a question whose vector (and maybe BM25 scores) are already computed.

    `allowed` (a row mask, from filters.py) is applied inside both searches, before the best are taken."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    dense_rows, dense_scores = (_dense(index, query_vector, candidates, allowed) if mode != "lexical"
                                else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)))
    if mode == "dense":
        lexical_all = None
    else:
        lexical_all = lexical_scores if lexical_scores is not None else index.lexical.scores(question)
        if allowed is not None:
            lexical_all = np.where(allowed, lexical_all, 0.0)
    lexical_rows = best_rows(lexical_all, candidates) if lexical_all is not None else np.zeros(0, dtype=np.int64)
    extra = _prefer(index, query_vector if mode != "lexical" else None, lexical_all, candidates, allowed, preference)
    rows = np.unique(np.concatenate([dense_rows, lexical_rows, extra])).astype(np.int64)
    dense = index.dense.scores(query_vector, rows)
    lexical = lexical_all[rows] if lexical_all is not None else np.zeros(len(rows), dtype=np.float32)
    if mode == "dense":
        fused = dense
    elif mode == "lexical":
        fused = lexical
    else:
        floor = float(dense_scores[-1]) if len(dense_scores) else 0.0
        top = float(dense_scores[0]) if len(dense_scores) else 1.0
        fused = fuse(dense, floor, top, lexical, float(lexical.max(initial=0.0)), coverage(index, question))
    if preference is not None:
        fused = boost(fused, rows, preference)
    d_rank, l_rank = _ranks(dense_rows), _ranks(lexical_rows)
    order = np.argsort(-fused, kind="stable")[:k]
    return [Hit(int(rows[i]), float(fused[i]), float(dense[i]), float(lexical[i]),
                d_rank.get(int(rows[i])), l_rank.get(int(rows[i]))) for i in order]
