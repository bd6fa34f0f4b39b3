"""Recall@10 of the approximate index (HNSW or IVF) against exact search, and search time, at several breadths.

    python bench/ann_recall.py --index index/viwiki-onnx-int8 [--questions 600] [--breadth 256 384 512]
    python bench/ann_recall.py --index DIR --quantizers SQ8 IVF256,SQ8 IVF256,PQ48 [--nprobe 32]

Breadth is efSearch for HNSW, nprobe for IVF. `--quantizers` instead builds each FAISS index of
that factory string over the index's passage vectors (what a large shard could hold instead of
float32 vectors) and prints its recall@10 and its bytes per passage.

Queries are benchmark questions (Wikipedia questions, like the viwiki corpus), embedded with the
index's backend. Recall@10 = share of the exact top 10 that the IVF top 10 also holds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.index import versions as index_mod  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402


def questions(benchmarks: Path, count: int) -> list[str]:
    """The first questions of the Vietnamese benchmarks, in turn."""
    out = []
    for name in ("xquad_vi", "mlqa_vi_dev"):
        lines = (benchmarks / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["question"] for line in lines[: count // 2]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--breadth", type=int, nargs="+", default=[128, 256, 320, 384, 512],
                        help="efSearch (HNSW) or nprobe (IVF) values to try")
    parser.add_argument("--quantizers", nargs="+", default=[], help="FAISS factory strings to compare instead")
    parser.add_argument("--nprobe", type=int, default=32, help="nprobe of the IVF quantizers")
    args = parser.parse_args()
    manifest = json.loads((args.index / "current" / "manifest.json").read_text())
    config = replace(Config.from_env(), index_dir=args.index, backend=manifest["model"]["backend"],
                     **manifest["settings"])
    embedder = Embedder(config.model, config.model_cache, threads=1, backend=config.backend)
    dense = index_mod.load(config, embedder, verify=False).dense.base
    if args.quantizers:
        return compare_quantizers(dense, embedder.encode_queries(questions(args.benchmarks, args.questions)),
                                  args.quantizers, args.nprobe)
    if dense.ann is None:
        raise SystemExit(f"{args.index} has no approximate index (it has {len(dense)} passages; build with "
                         "QA_DENSE_INDEX=hnsw or ivf)")
    ivf = isinstance(dense.ann, faiss.IndexIVF)
    vectors = embedder.encode_queries(questions(args.benchmarks, args.questions))
    started = time.perf_counter()
    exact = [set(dense.search(v, 10, exact=True)[0].tolist()) for v in vectors]
    exact_ms = (time.perf_counter() - started) / len(vectors) * 1000
    kind = f"IVF, nlist {dense.ann.nlist}" if ivf else f"HNSW, {dense.ann.hnsw.nb_neighbors(0)} links at level 0"
    print(f"{len(dense)} passages ({kind}), {len(vectors)} questions; exact search {exact_ms:.2f} ms")
    for breadth in args.breadth:
        if ivf:
            dense.ann.nprobe = breadth
        else:
            dense.ann.hnsw.efSearch = breadth
        times, recall = [], []
        for v, truth in zip(vectors, exact):
            started = time.perf_counter()
            found = set(dense.search(v, 10)[0].tolist())
            times.append((time.perf_counter() - started) * 1000)
            recall.append(len(found & truth) / len(truth))
        print(f"{'nprobe' if ivf else 'efSearch'} {breadth:>4}: recall@10 {np.mean(recall):.4f}, "
              f"search p50 {statistics.median(times):.2f} ms")


def compare_quantizers(dense, queries: np.ndarray, specs: list[str], nprobe: int) -> None:
    """Recall@10 against exact search and bytes per passage of each FAISS index built over the vectors."""
    vectors = np.ascontiguousarray(dense.vectors, dtype=np.float32)
    exact = [set(dense.search(v, 10, exact=True)[0].tolist()) for v in queries]
    print(f"{len(vectors)} passages, {vectors.shape[1]} dimensions, {len(queries)} questions; float32 vectors "
          f"{vectors.shape[1] * 4} bytes a passage")
    for spec in specs:
        index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
        started = time.perf_counter()
        index.train(vectors)
        index.add(vectors)
        built = time.perf_counter() - started
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = nprobe
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = 128
        found = index.search(queries.astype(np.float32), 10)[1]
        recall = np.mean([len(set(f.tolist()) & truth) / len(truth) for f, truth in zip(found, exact)])
        size = faiss.serialize_index(index).nbytes / len(vectors)
        print(f"{spec:<16} recall@10 {recall:.4f}   {size:7.1f} bytes a passage   built in {built:.1f} s"
              + (f"   (nprobe {nprobe})" if isinstance(index, faiss.IndexIVF) else "")
              + ("   (efSearch 128)" if isinstance(index, faiss.IndexHNSW) else ""))


if __name__ == "__main__":
    main()
