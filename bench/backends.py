"""Compare embedding backends: passages/s, query embedding time, and retrieval quality.

    python bench/backends.py [--benchmarks ../shared/benchmarks] [--passages 320] [--backends torch onnx onnx-int8]
                             [--only speed|quality]

Rows: each backend for passages and questions alike, and float32 ONNX passages with int8 questions
(`QA_BACKEND=onnx QA_QUERY_BACKEND=onnx-int8`).

Speed: `--passages` real passages (~500 characters, from the first viwiki articles, with their
titles and sentence spans, as a build embeds them) on all cores; single-question embedding on one
thread (what a server worker gets with 2 workers on 2 cores). Quality: `python -m qa eval` on the
three benchmarks with each backend (indexes under index/eval-BACKEND/, torch under index/eval/).
Prints a table and the backend to make the default: the fastest whose R@1 stays within 0.005 of
torch float32 on every benchmark. Quality figures do not depend on the machine's load, so
`--only quality` may run beside other work and `--only speed` on an idle machine.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.ingest.passages import embedding_input, sentence_spans, split  # noqa: E402
from qa.ingest.text import tidy  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402

BENCHMARKS = ("xquad_vi", "mlqa_vi_dev", "xquad_en_vi")
QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


def sample_passages(corpus: Path, count: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Embedding inputs and sentence spans of the first `count` passages of the corpus."""
    texts, spans = [], []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            for p in split(record["id"], tidy(record["text"])):
                text = embedding_input(record["title"], p.text)
                shift = len(text) - len(p.text)
                texts.append(text)
                spans.append([(a + shift, b + shift) for a, b in sentence_spans(p.text)])
                if len(texts) == count:
                    return texts, spans
    return texts, spans


def speed(backend: str, texts: list[str], spans: list, questions: list[str]) -> dict:
    """Passages per second (all cores) and query embedding milliseconds (one thread) of one backend."""
    config = Config.from_env()
    build = Embedder(config.model, config.model_cache, backend=backend)
    build.encode_passages(texts[:32], spans[:32])
    started = time.perf_counter()
    build.encode_passages(texts, spans)
    per_second = len(texts) / (time.perf_counter() - started)
    serve = Embedder(config.model, config.model_cache, threads=1, backend=backend)
    serve.encode_queries(questions[:5])
    times = []
    for q in questions:
        started = time.perf_counter()
        serve.encode_queries([q])
        times.append((time.perf_counter() - started) * 1000)
    return {"passages_per_s": per_second, "query_ms_p50": statistics.median(times)}


def quality(backend: str, query_backend: str, benchmarks: Path) -> dict:
    """R@1 and MRR@10 per benchmark, from `python -m qa eval`."""
    out = {}
    for name in BENCHMARKS:
        index = ROOT / "index" / ("eval" if backend == "torch" else f"eval-{backend}") / name
        done = subprocess.run([sys.executable, "-m", "qa", "eval", str(benchmarks / name), "--json", "--index",
                               str(index), "--backend", backend, "--query-backend", query_backend],
                              capture_output=True, text=True, cwd=ROOT, check=True)
        metrics = json.loads(done.stdout)
        out[name] = {"R@1": metrics["R@1"], "MRR@10": metrics["MRR@10"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--corpus", type=Path,
                        default=ROOT.parent / "shared" / "corpora" / "viwiki_2017" / "documents.jsonl.gz")
    parser.add_argument("--passages", type=int, default=320)
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--only", choices=["speed", "quality"], help="measure only this half")
    args = parser.parse_args()
    texts, spans = sample_passages(args.corpus, args.passages)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    print(f"{len(texts)} passages of {statistics.mean(map(len, texts)):.0f} characters on average; "
          f"{len(questions)} questions")
    combos = [(b, b) for b in args.backends]
    if {"onnx", "onnx-int8"} <= set(args.backends):
        combos.insert(args.backends.index("onnx") + 1, ("onnx", "onnx-int8"))
    speeds = {b: speed(b, texts, spans, questions) for b in args.backends} if args.only != "quality" else {}
    results = {}
    for passages, queries in combos:
        row = {**({"passages_per_s": speeds[passages]["passages_per_s"],
                   "query_ms_p50": speeds[queries]["query_ms_p50"]} if speeds else {}),
               **(quality(passages, queries, args.benchmarks) if args.only != "speed" else {})}
        results[passages if passages == queries else f"{passages} + {queries} questions"] = row
    if args.only != "quality":
        base = results["torch"]["passages_per_s"]
        for name, r in results.items():
            print(f"{name:<28} {r['passages_per_s']:>6.1f} passages/s ({r['passages_per_s'] / base:.2f}x torch), "
                  f"query {r['query_ms_p50']:.1f} ms")
    if args.only != "speed":
        for name, r in results.items():
            print(f"{name:<28} R@1/MRR@10 "
                  + "  ".join(f"{n} {r[n]['R@1']:.3f}/{r[n]['MRR@10']:.3f}" for n in BENCHMARKS))
    if args.only:
        return
    base = results["torch"]
    eligible = [b for b, r in results.items() if all(base[n]["R@1"] - r[n]["R@1"] <= 0.005 for n in BENCHMARKS)]
    fastest = max(eligible, key=lambda b: (results[b]["passages_per_s"], -results[b]["query_ms_p50"]))
    print("default should be:", fastest)


if __name__ == "__main__":
    main()
