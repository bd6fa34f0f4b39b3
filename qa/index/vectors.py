"""Dense search with FAISS: inner product over normalised vectors, kept memory-mapped.

Exact search (faiss.knn over the memory-mapped matrix) while the corpus is small; past
`APPROXIMATE_FROM` passages an HNSW graph (FAISS IndexHNSWFlat), or an IVF index (IndexIVFFlat:
faster to build, slower to search), whose recall@10 against exact search is measured by
bench/ann_recall.py. `QA_DENSE_INDEX` overrides. The vectors inside either are read in place from
the mapped file (IO_FLAG_MMAP_IFC), so workers share them.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
ANN_FILES = {"hnsw": "dense.hnsw", "ivf": "dense.ivf"}
KINDS = ("auto", "exact", *ANN_FILES)
APPROXIMATE_FROM = 50_000
PROBE_SHARE = 0.4  # of the IVF lists, searched by default: recall@10 ≥ 0.99 on viwiki (bench/ann_recall.py)
HNSW_LINKS, HNSW_BUILD_EF = 48, 200
EF_SEARCH = 384  # HNSW candidates kept while searching: recall@10 0.993 on viwiki (bench/ann_recall.py)
SCAN_ROWS = 20_000  # a filter allowing at most this many rows is searched exactly (bench/filters.py)
SCAN_BLOCK = 16_384


def choose(kind: str, count: int) -> str:
    """Exact or HNSW for a corpus of `count` passages, unless told."""
    if kind not in KINDS:
        raise ValueError(f"dense index must be one of {', '.join(KINDS)}, not {kind!r}")
    return ("hnsw" if count >= APPROXIMATE_FROM else "exact") if kind == "auto" else kind


def _hnsw(vectors: np.ndarray, previous: faiss.Index | None = None) -> faiss.Index:
    """An HNSW graph over the vectors (built on every core; nothing of an earlier graph is reusable)."""
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_BUILD_EF
    index.add(np.ascontiguousarray(vectors))
    return index


def _ivf(vectors: np.ndarray, previous: faiss.Index | None) -> faiss.Index:
    """An IVF index over the vectors; an earlier one's trained centroids are reused (only vectors change)."""
    dim = vectors.shape[1]
    if isinstance(previous, faiss.IndexIVF):
        quantizer = faiss.IndexFlatIP(dim)
        quantizer.add(faiss.downcast_index(previous.quantizer).reconstruct_n(0, previous.nlist))
        index = faiss.IndexIVFFlat(quantizer, dim, previous.nlist, faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True
    else:
        nlist = max(1, min(int(4 * math.sqrt(len(vectors))), len(vectors) // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).permutation(len(vectors))[:nlist * 64]]
        index.train(np.ascontiguousarray(sample))
    index.add(np.ascontiguousarray(vectors))
    return index


BUILDERS = {"hnsw": _hnsw, "ivf": _ivf}


class Dense:
    """Passage and sentence vectors, with exact or approximate (HNSW, IVF) search over the passages."""

    def __init__(self, vectors: np.ndarray, sentence_vectors: np.ndarray, ann: faiss.Index | None = None,
                 nprobe: int = 0, ef_search: int = 0):
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.ann = ann
        self.identity: tuple[int, int] | None = None
        if isinstance(ann, faiss.IndexIVF):
            ann.nprobe = nprobe or max(1, round(ann.nlist * PROBE_SHARE))
        elif ann is not None:
            ann.hnsw.efSearch = ef_search or EF_SEARCH

    @staticmethod
    def write(folder: Path, vectors: np.ndarray, sentence_vectors: np.ndarray, kind: str = "exact",
              trained: faiss.Index | None = None) -> None:
        """Store passage vectors (float32), sentence vectors (float16, for picking answers) and the ANN index.

        An IVF index of an earlier version (`trained`) lends its centroids."""
        np.save(folder / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
        np.save(folder / SENTENCE_VECTORS, np.ascontiguousarray(sentence_vectors, dtype=np.float16))
        if kind in BUILDERS and len(vectors):
            faiss.write_index(BUILDERS[kind](vectors, trained), str(folder / ANN_FILES[kind]))

    @classmethod
    def load(cls, folder: Path, nprobe: int = 0, ef_search: int = 0, reuse: "Dense | None" = None,
             searching: bool = True) -> "Dense":
        """Map the stored files without reading them into each process (0: the defaults above).

        `reuse`, loaded from the same (hard-linked) files by an earlier version, is returned as it is,
        so a new version does not read the HNSW graph again into every worker (its mapping keeps the
        file's inode alive, so a matching inode is that very file). Without `searching` (a build
        borrowing vectors) the HNSW graph is not read at all; IVF centroids are, for the next IVF."""
        stat = os.stat(folder / VECTORS)
        identity = (stat.st_dev, stat.st_ino)
        if reuse is not None and reuse.identity == identity:
            return reuse
        stored = [folder / name for kind, name in ANN_FILES.items()
                  if (folder / name).exists() and (searching or kind == "ivf")]
        ann = faiss.read_index(str(stored[0]), faiss.IO_FLAG_MMAP_IFC) if stored else None
        dense = cls(np.load(folder / VECTORS, mmap_mode="r"), np.load(folder / SENTENCE_VECTORS, mmap_mode="r"),
                    ann, nprobe, ef_search)
        dense.identity = identity
        return dense

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def search(self, query: np.ndarray, n: int, exact: bool = False,
               skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the `n` nearest passages not in `skip` (HNSW or IVF when built, unless `exact`)."""
        skip = np.zeros(0, dtype=np.int64) if skip is None else skip
        n = min(n, len(self) - len(skip))
        if n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = query.reshape(1, -1).astype(np.float32)
        if self.ann is not None and not exact:
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(skip)) if len(skip) else None
            return self._approximate(query, n, selector)
        scores, rows = faiss.knn(query, self.vectors, n + len(skip), metric=faiss.METRIC_INNER_PRODUCT)
        keep = ~np.isin(rows[0], skip)
        return rows[0][keep][:n], scores[0][keep][:n]

    def search_among(self, query: np.ndarray, n: int, allowed: np.ndarray,
                     exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The `n` nearest passages among the `allowed` rows (a boolean mask), selected inside the search.

        Few allowed rows are scored directly (cheaper than walking a graph that mostly skips them);
        more go through the ANN index with a bitmap selector (bench/filters.py measures both)."""
        count = int(allowed.sum())
        n = min(n, count)
        if n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = query.reshape(1, -1).astype(np.float32)
        if self.ann is not None and not exact and count > SCAN_ROWS:
            bits = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            return self._approximate(query, n, selector)
        return _scan(self.vectors, query[0], np.flatnonzero(allowed), n)

    def _approximate(self, query: np.ndarray, n: int, selector) -> tuple[np.ndarray, np.ndarray]:
        """ANN search, restricted to the selector's rows when there is one."""
        params = (faiss.SearchParametersIVF(nprobe=self.ann.nprobe) if isinstance(self.ann, faiss.IndexIVF)
                  else faiss.SearchParametersHNSW(efSearch=max(self.ann.hnsw.efSearch, n)))
        if selector is not None:
            params.sel = selector
        scores, rows = self.ann.search(query, n, params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]


def _scan(vectors: np.ndarray, query: np.ndarray, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top `n` of some rows, read in blocks so a large selection is never copied whole."""
    best_rows, best_scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    for start in range(0, len(rows), SCAN_BLOCK):
        block = rows[start:start + SCAN_BLOCK]
        scores = np.asarray(vectors[block] @ query, dtype=np.float32)
        best_rows, best_scores = np.concatenate([best_rows, block]), np.concatenate([best_scores, scores])
        if len(best_rows) > n:
            top = np.argpartition(-best_scores, n - 1)[:n]
            best_rows, best_scores = best_rows[top], best_scores[top]
    order = np.argsort(-best_scores, kind="stable")
    return best_rows[order], best_scores[order]
