"""One step of bench/txtai_compare.py, run in a subprocess: a JSON job on stdin, a JSON result on stdout.

    echo '{"action": "txtai-search", ...}' | bench/.txtai-venv/bin/python bench/txtai_compare_worker.py

txtai-* actions run in txtai's own venv, qa-* actions in the project's (with the project on PYTHONPATH);
each action imports only its own system, so one file serves both.
"""
from __future__ import annotations

import json
import os
import sys
import time

K = 10


def txtai_threads() -> None:
    """Give torch the thread count our side gets from QA_THREADS (unset: torch's default, all cores)."""
    import torch

    if int(os.environ.get("QA_THREADS") or 0):
        torch.set_num_threads(int(os.environ["QA_THREADS"]))


def txtai_config(model: str, hybrid: bool) -> dict:
    """Dense (faiss) or hybrid (faiss + BM25) embeddings over the model folder, with E5's prompts."""
    return {"path": model, "content": True, "backend": "faiss", "hybrid": hybrid,
            "instructions": {"query": "query: ", "data": "passage: "}}


def txtai_build(job: dict) -> dict:
    """Load the model, index every document (one paragraph each) and save the index."""
    from importlib.metadata import version

    import txtai

    txtai_threads()
    embeddings = txtai.Embeddings(txtai_config(job["model"], job["hybrid"]))
    embeddings.index({"id": i, "text": text} for i, text in job["documents"])
    embeddings.save(job["index"])
    return {"documents": embeddings.count(), "config": embeddings.config,
            "versions": {name: version(name) for name in ("txtai", "torch", "faiss-cpu", "transformers")}}


def txtai_search(job: dict) -> dict:
    """Load a saved index; the ids of the top K documents and the wall time of each question's search."""
    import txtai

    txtai_threads()
    embeddings = txtai.Embeddings()
    embeddings.load(job["index"])
    ids, took = [], []
    for question in job["questions"]:
        started = time.perf_counter()
        found = embeddings.search(question, K)
        took.append((time.perf_counter() - started) * 1000)
        ids.append([hit["id"] for hit in found])
    return {"ids": ids, "took_ms": took}


def qa_prepare(job: dict) -> dict:
    """Load our embedder once, so conversion or ONNX export (one-time work) stays out of build timings."""
    from qa.config import Config
    from qa.model.embedder import Embedder

    config = Config.from_env(backend=job["backend"])
    embedder = Embedder.from_config(config)
    return {"model": str(embedder.folder)}


def qa_build(job: dict) -> dict:
    """Build our index of the benchmark's paragraphs exactly as `python -m qa eval` does."""
    from qa import eval as eval_mod
    from qa.config import Config
    from qa.index import versions as index_mod
    from qa.model.embedder import Embedder

    articles, _ = eval_mod.load_benchmark(job["bench"])
    config = Config.from_env(index_dir=job["index"], backend=job["backend"])
    embedder = Embedder.from_config(config)
    manifest = index_mod.build(config, articles, embedder, progress=False)
    return {"counts": manifest["counts"], "build_seconds_inside": manifest["build_seconds"]}


def qa_search(job: dict) -> dict:
    """Retrieval only (`Service.timed_search`, what /api/search runs): article ids of the top K and wall times."""
    from qa.config import Config
    from qa.service import Service

    service = Service(Config.from_env(index_dir=job["index"], backend=job["backend"]))
    ids, took = [], []
    for question in job["questions"]:
        found, ms = service.timed_search(question, K, "hybrid")
        ids.append([hit["article_id"] for hit in found["passages"]])
        took.append(ms)
    return {"ids": ids, "took_ms": took}


ACTIONS = {"txtai-build": txtai_build, "txtai-search": txtai_search, "qa-prepare": qa_prepare,
           "qa-build": qa_build, "qa-search": qa_search}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(ACTIONS[request["action"]](request), sys.stdout, ensure_ascii=False)
