"""The cluster's cost: building on one node against several with the same cores, and serving through Ray Serve.

    python bench/cluster.py build [--limit 500] [--cores 3]   # 1 node of C CPUs vs C nodes of 1 CPU
    python bench/cluster.py serve [--requests 40]             # /api/ask, 1 machine vs 2 shards on Serve

build: the first N viwiki articles built into 3 shards with passages embedded by one ONNX actor per
CPU, on a local cluster of one node with C CPUs and on one of C nodes with 1 CPU each (every node on
127.0.0.1), plus the plain single-machine build; prints wall times, the overhead ratio, each actor's
throughput, the driver's serial share, and the projected build of 25 M passages on 10 and 100 nodes
of 16 cores.

serve: the seeds plus xquad_vi as one index and as 2 shards (2 replicas each on a 3-node local
cluster); p50/p95 of POST /api/ask at 1, 4 and 16 clients against both servers in one run, every
question asked once per server (no answer-cache hits).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from build_scale import CORPUS, subset
from latency import questions, run_level

from qa import eval as eval_mod
from qa.cluster import connect, local
from qa.config import Config
from qa.index import shards, versions
from qa.ingest.articles import load_folder
from qa.model.embedder import Embedder

from conftest import SEEDS, SHARED, start_server, stop_server

PASSAGES, NODE_CORES = 25_000_000, 16


def _on_cluster(config: Config, articles, embedder, nodes: int, cpus: int) -> tuple[float, dict]:
    """Wall time and manifest of a 3-shard build on a fresh local cluster of `nodes` × `cpus`."""
    import ray

    from qa.cluster.embedding import ClusterEmbedder

    cluster = local.start(nodes, cpus)
    try:
        connect(cluster.address)
        with ClusterEmbedder(cluster.address, config, embedder) as remote:
            remote.encode_passages(["passage: khởi động"] * len(remote.actors), batch_size=1)  # actors loaded
            started = time.perf_counter()
            manifest = shards.build(config, articles, embedder, 3, progress=False, shard_embedder=remote)
            return time.perf_counter() - started, manifest
    finally:
        ray.shutdown()
        cluster.shutdown()


def build(limit: int, cores: int) -> None:
    """Print build times on one node and on `cores` nodes, and the projection."""
    articles = load_folder(subset(CORPUS, limit))[0]
    work = Path(tempfile.mkdtemp(prefix="qa-bench-cluster-"))
    config = Config.from_env(index_dir=work / "single")
    embedder = Embedder.from_config(config)
    started = time.perf_counter()
    single = versions.build(config, articles, embedder, progress=False)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    shards.statistics(config, articles, embedder)
    statistics_s = time.perf_counter() - started
    one, _ = _on_cluster(replace(config, index_dir=work / "one"), articles, embedder, 1, cores)
    many, manifest = _on_cluster(replace(config, index_dir=work / "many"), articles, embedder, cores, 1)
    passages = manifest["counts"]["passages"]
    embed_s = sum(json_stage(work / "many", e, "embed") for e in manifest["shards"])
    per_actor = passages / embed_s / cores
    serial_s = many - embed_s
    print(f"articles {len(articles)}, passages {passages}, machine cores {os.cpu_count()}")
    print(f"single machine, no Ray (all cores): {alone:.1f} s ({single['counts']['passages'] / alone:.1f} passages/s)")
    print(f"1 node x {cores} CPUs: {one:.1f} s;  {cores} nodes x 1 CPU: {many:.1f} s;  overhead ratio "
          f"{many / one:.3f} (vs no Ray: {many / alone:.3f})")
    print(f"embedding {embed_s:.1f} s on {cores} actors: {per_actor:.1f} passages/s per actor; driver serial "
          f"(split, BM25 statistics {statistics_s:.1f} s, store, lexical, publish): {serial_s:.1f} s, "
          f"{serial_s / passages * 1e3:.2f} ms per passage")
    for nodes in (10, 100):
        embed = PASSAGES / (per_actor * NODE_CORES * nodes)
        serial = PASSAGES * serial_s / passages
        print(f"projected 25 M passages on {nodes} nodes x {NODE_CORES} cores: embedding {embed / 3600:.1f} h, "
              f"driver serial {serial / 3600:.1f} h, total {(embed + serial) / 3600:.1f} h "
              f"(limited by {'embedding' if embed > serial else 'the driver'})")


def json_stage(root: Path, entry: dict, stage: str) -> float:
    """Seconds a shard's build spent in a stage (from its manifest)."""
    folder = shards.shard_folder(versions.current_folder(root), entry)
    return json.loads((folder / "manifest.json").read_text())["stage_seconds"][stage]


def serve(requests: int) -> None:
    """Print /api/ask latency at 1, 4 and 16 clients: one machine against 2 shards on Serve."""
    bench = SHARED / "benchmarks" / "xquad_vi"
    articles = load_folder(SEEDS)[0] + eval_mod.load_benchmark(bench)[0]
    work = Path(tempfile.mkdtemp(prefix="qa-bench-serve-"))
    config = Config.from_env(index_dir=work / "single")
    embedder = Embedder.from_config(config)
    versions.build(config, articles, embedder, progress=False)
    shards.build(replace(config, index_dir=work / "sharded"), articles, embedder, 2, progress=False)
    asked = questions(bench / "questions.jsonl")
    cluster = local.start(3, 1)
    servers = {}
    try:
        servers["1 machine"] = start_server(work / "single", SEEDS, config.model_cache)
        servers["2 shards on Serve"] = start_server(work / "sharded", SEEDS, config.model_cache,
                                                    options=("--ray", cluster.address, "--replicas", "2"))
        offset = 0
        for clients, total in ((1, requests), (4, 2 * requests), (16, 4 * requests)):
            for name, (_, url) in servers.items():
                run_level(url, asked, 1, 5, offset + total)  # warm connections, not counted
                r = run_level(url, asked, clients, total, offset)
                print(f"{name:18} {clients:2} clients: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
                      f"{r['per_second']:.1f}/s, errors {r['errors']}")
            offset += total + 5
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("build", "serve"))
    parser.add_argument("--limit", type=int, default=500, help="build: viwiki articles (default 500)")
    parser.add_argument("--cores", type=int, default=3, help="build: CPUs in total (default 3)")
    parser.add_argument("--requests", type=int, default=40, help="serve: requests at 1 client (x2 at 4, x4 at 16)")
    args = parser.parse_args()
    build(args.limit, args.cores) if args.what == "build" else serve(args.requests)


if __name__ == "__main__":
    main()
