"""The loaded model and index answering questions: what the CLI and the HTTP API both call."""
from __future__ import annotations

import time

from . import index as index_mod
from . import retrieve
from .config import Config
from .embedder import Embedder


class Service:
    """Loads the model and the current index once; every question reuses them."""

    def __init__(self, config: Config, embedder: Embedder | None = None):
        self.config = config
        self.embedder = embedder or Embedder(config.model, config.model_cache, config.threads or None)
        self.index = index_mod.load(config, self.embedder)

    def search(self, question: str, k: int = 5, mode: str | None = None) -> list[dict]:
        """Ranked passages with their article, score and the rank each method gave them."""
        vector = self.embedder.encode_queries([question])[0]
        hits = retrieve.search(self.index, vector, question, k, mode or self.config.mode, self.config.candidates)
        rows = self.index.store.passages([h.row for h in hits])
        return [_passage(rank, hit, row) for rank, (hit, row) in enumerate(zip(hits, rows), 1)]

    def timed_search(self, question: str, k: int = 5, mode: str | None = None) -> tuple[list[dict], float]:
        """Search and its wall time in milliseconds."""
        started = time.perf_counter()
        found = self.search(question, k, mode)
        return found, (time.perf_counter() - started) * 1000


def _passage(rank: int, hit: retrieve.Hit, row: dict) -> dict:
    """One result as the CLI and API show it."""
    return {"rank": rank, "id": row["id"], "article_id": row["article_id"], "title": row["title"],
            "date": row["date"], "text": row["text"], "start": row["start"], "end": row["end"],
            "score": round(hit.score, 6), "dense_score": round(hit.dense_score, 6),
            "lexical_score": round(hit.lexical_score, 6), "dense_rank": hit.dense_rank,
            "lexical_rank": hit.lexical_rank}
