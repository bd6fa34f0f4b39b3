"""Dense search with FAISS: inner product over normalised vectors, kept memory-mapped.

Exact search (faiss.knn over the memory-mapped matrix) while the corpus is small; past
`APPROXIMATE_FROM` passages an IVF index (FAISS IndexIVFFlat) whose recall@10 against exact search
is measured by bench/ann_recall.py. `QA_DENSE_INDEX` overrides. The IVF lists are searched in place
in the mapped file (IO_FLAG_MMAP_IFC): shared by workers, and on viwiki twice as fast to search as
IO_FLAG_MMAP's on-disk lists.
"""
from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
IVF = "dense.ivf"
KINDS = ("auto", "exact", "ivf")
APPROXIMATE_FROM = 50_000
PROBE_SHARE = 0.4  # of the IVF lists, searched by default: recall@10 ≥ 0.99 on viwiki (bench/ann_recall.py)


def choose(kind: str, count: int) -> str:
    """Exact or IVF for a corpus of `count` passages."""
    if kind not in KINDS:
        raise ValueError(f"dense index must be one of {', '.join(KINDS)}, not {kind!r}")
    return ("ivf" if count >= APPROXIMATE_FROM else "exact") if kind == "auto" else kind


def _ivf(vectors: np.ndarray, previous: faiss.Index | None) -> faiss.Index:
    """An IVF index over the vectors; an earlier one's trained centroids are reused (only vectors change)."""
    dim = vectors.shape[1]
    if previous is not None:
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


class Dense:
    """Passage and sentence vectors, with exact or IVF search over the passages."""

    def __init__(self, vectors: np.ndarray, sentence_vectors: np.ndarray, ivf: faiss.Index | None = None,
                 nprobe: int = 0):
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.ivf = ivf
        if ivf is not None:
            ivf.nprobe = nprobe or max(1, round(ivf.nlist * PROBE_SHARE))

    @staticmethod
    def write(folder: Path, vectors: np.ndarray, sentence_vectors: np.ndarray, kind: str = "exact",
              trained: faiss.Index | None = None) -> None:
        """Store passage vectors (float32), sentence vectors (float16, for picking answers) and the IVF index.

        An IVF index of an earlier version (`trained`) lends its centroids."""
        np.save(folder / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
        np.save(folder / SENTENCE_VECTORS, np.ascontiguousarray(sentence_vectors, dtype=np.float16))
        if kind == "ivf" and len(vectors):
            faiss.write_index(_ivf(vectors, trained), str(folder / IVF))

    @classmethod
    def load(cls, folder: Path, nprobe: int = 0) -> "Dense":
        """Map the stored files without reading them into each process (nprobe 0: PROBE_SHARE of the lists)."""
        ivf = faiss.read_index(str(folder / IVF), faiss.IO_FLAG_MMAP_IFC) if (folder / IVF).exists() else None
        return cls(np.load(folder / VECTORS, mmap_mode="r"), np.load(folder / SENTENCE_VECTORS, mmap_mode="r"),
                   ivf, nprobe)

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def search(self, query: np.ndarray, n: int, exact: bool = False,
               skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the `n` nearest passages not in `skip` (IVF when built, unless `exact`)."""
        skip = np.zeros(0, dtype=np.int64) if skip is None else skip
        n = min(n, len(self) - len(skip))
        if n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = query.reshape(1, -1).astype(np.float32)
        if self.ivf is not None and not exact:
            params = faiss.SearchParametersIVF(nprobe=self.ivf.nprobe)
            skipped = faiss.IDSelectorBatch(skip) if len(skip) else None
            selector = faiss.IDSelectorNot(skipped) if skipped is not None else None
            if selector is not None:
                params.sel = selector
            scores, rows = self.ivf.search(query, n, params=params)
            keep = rows[0] >= 0
            return rows[0][keep], scores[0][keep]
        scores, rows = faiss.knn(query, self.vectors, n + len(skip), metric=faiss.METRIC_INNER_PRODUCT)
        keep = ~np.isin(rows[0], skip)
        return rows[0][keep][:n], scores[0][keep][:n]
