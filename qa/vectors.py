"""Dense search with FAISS: inner product over normalised vectors, kept memory-mapped."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

VECTORS = "vectors.npy"


class Dense:
    """Exact inner-product search over a memory-mapped matrix (shared by every worker)."""

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    @staticmethod
    def write(folder: Path, vectors: np.ndarray) -> None:
        """Store the matrix; it is also what later builds reuse instead of re-embedding."""
        np.save(folder / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def load(cls, folder: Path) -> "Dense":
        """Map the stored matrix without reading it into each process."""
        return cls(np.load(folder / VECTORS, mmap_mode="r"))

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the `n` nearest passages."""
        n = min(n, len(self))
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, rows = faiss.knn(query.reshape(1, -1).astype(np.float32), self.vectors, n,
                                 metric=faiss.METRIC_INNER_PRODUCT)
        return rows[0], scores[0]

    def scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine scores of given rows (candidates found by the other method)."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.vectors[rows] @ query, dtype=np.float32)
