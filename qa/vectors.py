"""Dense search with FAISS: inner product over normalised vectors, kept memory-mapped."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"


class Dense:
    """Exact inner-product search over memory-mapped matrices (shared by every worker)."""

    def __init__(self, vectors: np.ndarray, sentence_vectors: np.ndarray):
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors

    @staticmethod
    def write(folder: Path, vectors: np.ndarray, sentence_vectors: np.ndarray) -> None:
        """Store passage vectors (float32) and sentence vectors (float16, used only to pick answers)."""
        np.save(folder / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
        np.save(folder / SENTENCE_VECTORS, np.ascontiguousarray(sentence_vectors, dtype=np.float16))

    @classmethod
    def load(cls, folder: Path) -> "Dense":
        """Map the stored matrices without reading them into each process."""
        return cls(np.load(folder / VECTORS, mmap_mode="r"), np.load(folder / SENTENCE_VECTORS, mmap_mode="r"))

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

    def sentence_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of the question with sentences (late-chunked vectors)."""
        return np.asarray(self.sentence_vectors[rows].astype(np.float32) @ query)

    def scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine scores of given rows (candidates found by the other method)."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.vectors[rows] @ query, dtype=np.float32)
