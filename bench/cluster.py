"""The cluster's figures: build overhead against one machine, a scale projection, serving latency through
Ray Serve against the single-machine server, and the shard replicas' memory.

    python bench/cluster.py [--articles 500] [--rounds 2] [--requests 200] [--concurrency 1 4 16]

Build: the first `--articles` viwiki articles indexed twice with the same 2 cores in all, alternately
`--rounds` times: on this machine (one process, the ONNX session on 2 threads) and on a local Ray
cluster of 3 nodes (a head that takes no work and 2 nodes of 1 CPU, one embedding actor each), into
2 shards. Per-actor throughput and the driver's own stages give the projection to 25 million passages.
Serve: both indexes served (`python -m qa serve`, 2 workers, and `python -m qa serve --ray`, 1 replica
per shard), `/api/ask` at each concurrency level, alternately. Every address is 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from filters import dated_articles  # noqa: E402
from latency import _pss_kb, _status_kb, questions, run_level  # noqa: E402
from ready import free_port  # noqa: E402

from qa.config import Config  # noqa: E402
from qa.index import shards, versions  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402

PASSAGES = 25_000_000
NODES = (10, 100)
CORES = 16


class Timed:
    """An embedder whose passage embedding is timed, to tell it from the build's other stages."""

    def __init__(self, inner):
        self.inner, self.seconds, self.passages = inner, 0.0, 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def encode_passages(self, texts, spans=None, **options):
        """The inner embedder's vectors, with the time they took."""
        started = time.perf_counter()
        try:
            return self.inner.encode_passages(texts, spans, **options)
        finally:
            self.seconds += time.perf_counter() - started
            self.passages += len(texts)


def build_once(config: Config, articles, embedder, shard_embedder=None) -> dict:
    """One fresh build (single index, or 2 shards with `shard_embedder`): wall, embedding and other seconds."""
    shutil.rmtree(config.index_dir, ignore_errors=True)
    timed = Timed(shard_embedder or embedder)
    started = time.perf_counter()
    if shard_embedder is None:
        versions.build(config, articles, timed, progress=False)
    else:
        shards.build(config, articles, embedder, 2, progress=False, shard_embedder=timed)
    wall = time.perf_counter() - started
    return {"wall": wall, "embed": timed.seconds, "other": wall - timed.seconds, "passages": timed.passages}


def per_core_rate(config: Config, articles) -> float:
    """Passages a second of one ONNX session on one thread, in this process (no Ray): the unit of work."""
    texts = [a.text[i:i + config.target_chars] for a in articles[:40]
             for i in range(0, len(a.text), config.target_chars)][:400]
    one = Embedder.from_config(config, threads=1)
    one.encode_passages(texts[:16])
    started = time.perf_counter()
    one.encode_passages(texts)
    return len(texts) / (time.perf_counter() - started)


def report_build(single: list[dict], cluster: list[dict], actors: int, unit: float, startup: float) -> None:
    """The overhead ratio, per-actor throughput and the projection."""
    best = lambda runs, key: min(r[key] for r in runs)  # noqa: E731
    passages = single[0]["passages"]
    print(f"\nbuild of {passages} passages, best of {len(single)} rounds (all rounds: single "
          f"{[round(r['wall'], 1) for r in single]} s, cluster {[round(r['wall'], 1) for r in cluster]} s)")
    for name, runs in (("one machine (2 threads)", single), (f"cluster ({actors} actors)", cluster)):
        print(f"  {name:<24} wall {best(runs, 'wall'):7.1f} s   embedding {best(runs, 'embed'):7.1f} s   "
              f"other stages {best(runs, 'other'):6.1f} s")
    print(f"  overhead ratio (cluster ÷ one machine, wall): {best(cluster, 'wall') / best(single, 'wall'):.3f}"
          f"   (embedding alone {best(cluster, 'embed') / best(single, 'embed'):.3f}); actor start-up "
          f"{startup:.1f} s once per build, not counted")
    actor_rate = passages / best(cluster, "embed") / actors
    driver_rate = passages / best(cluster, "other")
    print(f"  one ONNX session, one thread, no Ray: {unit:.1f} passages/s; per actor in the build: {actor_rate:.1f} "
          f"passages/s (coordination costs {1 - actor_rate / unit:.0%}); the driver's stages (split, BM25 "
          f"statistics, writing the shards): {driver_rate:.0f} passages/s, on one process")
    for nodes in NODES:
        embed_h = PASSAGES / (nodes * CORES * actor_rate) / 3600
        driver_h = PASSAGES / driver_rate / 3600
        print(f"  projected, {PASSAGES / 1e6:.0f} M passages on {nodes} nodes of {CORES} cores: embedding "
              f"{embed_h:.1f} h + driver {driver_h:.1f} h = {embed_h + driver_h:.1f} h "
              f"({'driver' if driver_h > embed_h else 'embedding'} limits)")


def start(index: Path, cache: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """A server on a free loopback port, once it answers."""
    port = free_port()
    log = index.parent / f"server-{port}.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1", QA_RATE_LIMIT="", QA_MODEL_CACHE=str(cache), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port),
                             "--workers", "2", *options], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=5).read()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"the server with {options or 'one index'} did not start; see {log}") from None
            time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    """Stop a server and its workers."""
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def replica_memory() -> list[tuple[float, float]]:
    """RSS and PSS (MB) of every shard replica process on this machine."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ServeReplica:qa-shard" in command:
            out.append((_status_kb(pid, "VmRSS:") / 1024, _pss_kb(pid) / 1024))
    return out


def shard_calls(config: Config, address: str, embedder, asked: list[str]) -> None:
    """Why a question costs more through Serve: shard calls a question makes one after another, and the
    round trip of one call to a replica, against the same call to a plain Ray actor."""
    import ray

    from qa.cluster import serving

    service = serving.ClusterService(config, address, embedder)
    calls = []
    originals = {m: getattr(serving.RemoteShard, m) for m in ("submit", "run")}
    for method, original in originals.items():
        setattr(serving.RemoteShard, method, lambda shard, *a, original=original: calls.append(a[:1])
                or original(shard, *a))
    try:
        for question in asked[:50]:
            service.ask(question)
    finally:
        for method, original in originals.items():
            setattr(serving.RemoteShard, method, original)
    shard = service.index.shards[0]
    serve_ms = _median_ms(lambda: shard.submit("dense", "__len__").result())
    actor = ray.remote(num_cpus=0)(serving.ShardServer).remote(config, str(service.index.folder),
                                                             service.index.manifest["shards"][0])
    actor_ms = _median_ms(lambda: ray.get(actor.call.remote("dense", "__len__")))
    ray.kill(actor)
    rounds = len(calls) / 50 / len(service.index.shards)
    print(f"shard calls a question: {len(calls) / 50:.1f} (at most {rounds:.1f} rounds: a round's calls are sent to "
          f"the shards at once); one call's round trip: Serve handle {serve_ms:.2f} ms, "
          f"plain Ray actor {actor_ms:.2f} ms")


def _median_ms(call, times: int = 200) -> float:
    """Median milliseconds of a call."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def serve_bench(single: Path, sharded: Path, address: str, cache: Path, embedder, args) -> None:
    """Latency of the two servers, level by level, alternately."""
    asked = questions(ROOT.parent / "shared" / "benchmarks" / "xquad_vi" / "questions.jsonl")
    servers = {"one machine": start(single, cache), "2 shards on Serve": start(sharded, cache, "--ray", address)}
    try:
        for _, url in servers.values():
            run_level(url, asked, 2, 20)
        print(f"\n/api/ask, {args.requests} distinct xquad_vi questions per level and server")
        print(f"{'server':<18} {'clients':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6}")
        for n, level in enumerate(args.concurrency):
            for name, (_, url) in servers.items():
                r = run_level(url, asked, level, args.requests, 20 + n * args.requests)
                print(f"{name:<18} {level:>7} {r['errors']:>6} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} "
                      f"{r['per_second']:>6.1f}")
        memory = replica_memory()
        print("shard replicas: " + ", ".join(f"RSS {rss:.0f} MB / PSS {pss:.0f} MB" for rss, pss in memory))
        shard_calls(replace(Config.from_env(), index_dir=sharded), address, embedder, asked[-100:])
    finally:
        for proc, _ in servers.values():
            stop(proc)


def main() -> int:
    """Build both ways, then serve both ways, on one local cluster."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="build rounds; 0: build once, untimed, to serve")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    if args.rounds < 0:
        parser.error(f"--rounds must be 0 or more, not {args.rounds}")
    from qa.cluster import local
    from qa.cluster.embedding import ClusterEmbedder

    articles = dated_articles(args.articles)
    work = Path(tempfile.mkdtemp(prefix="qa-cluster-bench-"))
    base = Config.from_env()
    single_cfg, sharded_cfg = replace(base, index_dir=work / "single"), replace(base, index_dir=work / "sharded")
    embedder = Embedder.from_config(base, threads=2)
    unit = per_core_rate(base, articles)
    cluster = local.start(nodes=3, cpus_per_node=1, head_cpus=0)
    try:
        started = time.perf_counter()
        remote = ClusterEmbedder(cluster.address, base, embedder)
        remote.encode_passages(["khởi động"] * len(remote.actors), batch_size=1)
        startup = time.perf_counter() - started
        single, sharded = [], []
        for _ in range(max(args.rounds, 1)):
            single.append(build_once(single_cfg, articles, embedder))
            sharded.append(build_once(sharded_cfg, articles, embedder, remote))
        remote.close()
        if args.rounds:
            report_build(single, sharded, len(remote.actors), unit, startup)
        serve_bench(single_cfg.index_dir, sharded_cfg.index_dir, cluster.address, base.model_cache, embedder, args)
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
