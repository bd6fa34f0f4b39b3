"""Passages embedded by a pool of Ray actors, each holding one ONNX session, as many actors as the cluster has CPUs."""
from __future__ import annotations

import numpy as np

from qa.cluster import connect
from qa.config import Config

BATCH = 64  # passages per actor call: large enough to hide the call's cost, small enough to spread the work


class _Session:
    """One actor's model, loaded once, single-threaded (the cluster's CPUs are the parallelism)."""

    def __init__(self, config: Config):
        from qa.model.embedder import Embedder

        self.embedder = Embedder.from_config(config, threads=1)

    def encode(self, texts: list[str], spans: list | None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage and sentence vectors of one batch."""
        return self.embedder.encode_passages(texts, spans, batch_size=len(texts))


class ClusterEmbedder:
    """The build's embedder (its tokenizer, fingerprint and sizes are the local model's) with passages
    embedded on the cluster; an index build uses it as it uses the local one."""

    def __init__(self, address: str, config: Config, local):
        connect(address)
        import ray
        from ray.util import ActorPool

        self.local = local
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        session = ray.remote(num_cpus=1)(_Session)
        self.actors = [session.remote(config) for _ in range(cpus)]
        self.pool = ActorPool(self.actors)

    def __getattr__(self, name: str):
        return getattr(self.local, name)

    def encode_passages(self, texts: list[str], spans: list | None = None, batch_size: int = BATCH,
                        progress=None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage and sentence vectors, batches of similar length sent to whichever actor is free."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches = [order[i:i + batch_size] for i in range(0, len(texts), batch_size)]
        work = [([texts[i] for i in rows], [spans[i] for i in rows] if spans is not None else None)
                for rows in batches]
        vectors = np.zeros((len(texts), self.local.dim), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((0, self.local.dim), np.float32)] * len(texts)
        for rows, (batch_vectors, batch_sentences) in zip(batches, self.pool.map(
                lambda actor, job: actor.encode.remote(*job), work)):
            vectors[rows] = batch_vectors
            for i, block in zip(rows, batch_sentences):
                sentences[i] = block
            if progress:
                progress(len(rows))
        return vectors, sentences

    def close(self) -> None:
        """Stop the actors, releasing their CPUs."""
        import ray

        for actor in self.actors:
            ray.kill(actor)

    def __enter__(self) -> ClusterEmbedder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
