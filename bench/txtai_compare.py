"""Compare with txtai on the same paragraphs and the same model: build time, R@1/MRR@10, query latency p50.

    . .venv/bin/activate && export HF_HUB_OFFLINE=1
    python bench/txtai_compare.py [--benchmarks ../shared/benchmarks] [--only xquad_vi ...]
                                  [--limit-questions N] [--backend torch|onnx|onnx-int8] [--threads N]
                                  [--venv bench/.txtai-venv]

txtai lives in its own venv (created once: torch pinned first so no CUDA wheels come, then txtai
pinned; checked to still have that torch), never mixed with the project's packages. Every step runs
in its own subprocess of bench/txtai_compare_worker.py (txtai's venv for txtai, ours for ours).

Per benchmark, in one run:
- ours: build = wall clock of a subprocess building a fresh temporary index exactly as
  `python -m qa eval` does (interpreter start, imports, model load, splitting into ~500-character
  passages, embedding, writing); then `python -m qa eval --json` on that index gives R@1, MRR@10 and
  the p50 of the full answer pipeline (its own build step reuses every vector just made); then
  `Service.timed_search` (what /api/search runs: query embedding + hybrid retrieval) gives the
  retrieval-only p50, like for like with txtai's search.
- txtai dense (faiss) and txtai hybrid (faiss + its default BM25): build = wall clock of a
  subprocess that loads the model, indexes every paragraph as one document and saves the index;
  then another subprocess loads it and times `search(question, 10)` per question.
Both systems get the same text (title, newline, paragraph: what our model sees), the same converted
model folder (txtai mean-pools it, as its 1_Pooling config says) with E5's "query: "/"passage: "
prompts, the same question subset (the first N, as `qa eval --limit`), the same torch threads
(--threads or QA_THREADS for both, else all cores) and no warm-up. One-time work (converting the
model, exporting ONNX) is done before any timing. Difference kept on purpose: txtai indexes whole
paragraphs, ours ~500-character passages (a question counts as answered at the rank of the first
passage of its paragraph). Run it on an otherwise idle machine: torch on all cores gets many times
slower while another process holds a core, and the systems are timed one after the other.

Ratios: ΔR@1 = our R@1 − the best txtai R@1; speed-up = the fastest txtai p50 / our retrieval p50
(and / our full answer p50). Results also go to bench/out/txtai_compare.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.eval import Question, load_benchmark, retrieval_metrics  # noqa: E402
from qa.ingest.passages import embedding_input  # noqa: E402
from qa.model.embedder import BACKENDS  # noqa: E402

WORKER = ROOT / "bench" / "txtai_compare_worker.py"
OUT = ROOT / "bench" / "out" / "txtai_compare.json"
BENCHMARKS = ("xquad_vi", "mlqa_vi_dev", "xquad_en_vi")
TORCH = "2.13.0"
TXTAI = "9.14.0"
SYSTEMS = ("ours_hybrid", "txtai_dense", "txtai_hybrid")


def run(command: list[str], job: dict | None = None, env: dict | None = None) -> tuple[dict, float]:
    """Run a subprocess (a JSON job on stdin), parse its JSON stdout; with its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(command, input=json.dumps(job, ensure_ascii=False) if job else None, capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})})
    took = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command[:4])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout), took


def ours(job: dict) -> tuple[dict, float]:
    """One qa-* worker action in the project's venv."""
    return run([sys.executable, str(WORKER)], job, {"PYTHONPATH": str(ROOT)})


def ensure_txtai(venv: Path) -> Path:
    """txtai's own venv with the pinned torch and txtai (created or fixed once); its python."""
    python = venv / "bin" / "python"
    if _versions(python) != (TXTAI, TORCH):
        print(f"installing torch {TORCH} and txtai {TXTAI} into {venv} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for package in (f"torch=={TORCH}", f"txtai=={TXTAI}"):
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", package], check=True)
        if _versions(python) != (TXTAI, TORCH):
            raise SystemExit(f"{venv} has txtai/torch {_versions(python)}, not {TXTAI}/{TORCH}")
    return python


def _versions(python: Path) -> tuple[str, str] | None:
    """(txtai, torch) versions importable by `python`, torch without its local tag; None if missing."""
    if not python.exists():
        return None
    script = "from importlib.metadata import version as v; print(v('txtai'), v('torch'))"
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True)
    return tuple(v.split("+")[0] for v in done.stdout.split()) if done.returncode == 0 else None


def ranks(ids: list[list[str]], questions: list[Question]) -> list[int | None]:
    """1-based rank of the first result from each question's paragraph, None if not in the list."""
    return [next((r for r, i in enumerate(found, 1) if i == q.paragraph_id), None) for found, q in zip(ids, questions)]


def measure_ours(bench: Path, questions: list[Question], limit: int | None, backend: str, work: Path) -> dict:
    """Our build time, eval metrics (full answer pipeline) and retrieval-only p50."""
    index = work / "ours"
    built, build_s = ours({"action": "qa-build", "bench": str(bench), "index": str(index), "backend": backend})
    command = [sys.executable, "-m", "qa", "eval", str(bench), "--json", "--index", str(index), "--backend", backend]
    metrics, _ = run(command + (["--limit", str(limit)] if limit else []))
    searched, _ = ours({"action": "qa-search", "index": str(index), "backend": backend,
                        "questions": [q.text for q in questions]})
    retrieval = retrieval_metrics(ranks(searched["ids"], questions), searched["took_ms"])
    return {"build_s": build_s, **metrics, "answer_p50_ms": metrics["latency_p50_ms"],
            "search_p50_ms": retrieval["latency_p50_ms"], "search_R@1": retrieval["R@1"],
            "passages": built["counts"]["passages"], "build_s_inside_index_build": built["build_seconds_inside"]}


def measure_txtai(python: Path, model: str, hybrid: bool, documents: list[list[str]],
                  questions: list[Question], work: Path) -> dict:
    """txtai's build time (fresh process, model load included), metrics and search p50."""
    index = work / ("txtai-hybrid" if hybrid else "txtai-dense")
    built, build_s = run([str(python), str(WORKER)], {"action": "txtai-build", "model": model, "hybrid": hybrid,
                                                      "index": str(index), "documents": documents})
    searched, _ = run([str(python), str(WORKER)], {"action": "txtai-search", "index": str(index),
                                                   "questions": [q.text for q in questions]})
    metrics = retrieval_metrics(ranks(searched["ids"], questions), searched["took_ms"])
    return {"build_s": build_s, **metrics, "search_p50_ms": metrics["latency_p50_ms"],
            "documents": built["documents"], "config": built["config"], "versions": built["versions"]}


def compare(bench: Path, python: Path, model: str, limit: int | None, backend: str) -> dict:
    """All three systems on one benchmark, and the ratios."""
    articles, questions = load_benchmark(bench)
    questions = questions[:limit] if limit else questions
    documents = [[a.id, embedding_input(a.title, a.text)] for a in articles]
    with tempfile.TemporaryDirectory(prefix=f"txtai-compare-{bench.name}-") as tmp:
        result = {"ours_hybrid": measure_ours(bench, questions, limit, backend, Path(tmp))}
        _progress(bench.name, "ours_hybrid", result["ours_hybrid"])
        for name, hybrid in (("txtai_dense", False), ("txtai_hybrid", True)):
            result[name] = measure_txtai(python, model, hybrid, documents, questions, Path(tmp))
            _progress(bench.name, name, result[name])
    theirs = [result["txtai_dense"], result["txtai_hybrid"]]
    fastest = min(t["search_p50_ms"] for t in theirs)
    ours_hybrid = result["ours_hybrid"]
    result["ratios"] = {"R@1_minus_best_txtai": ours_hybrid["R@1"] - max(t["R@1"] for t in theirs),
                        "speedup_search": fastest / ours_hybrid["search_p50_ms"],
                        "speedup_answer": fastest / ours_hybrid["answer_p50_ms"]}
    return result


def _progress(bench: str, system: str, r: dict) -> None:
    """One line on stderr as each system finishes."""
    print(f"{bench}: {system} built in {r['build_s']:.1f} s, R@1 {r['R@1']:.3f}, "
          f"search p50 {r['search_p50_ms']:.1f} ms", file=sys.stderr)


def report(results: dict) -> None:
    """The table per benchmark and system, then the ratios and whether the goal is met."""
    print(f"{'benchmark':<12} {'system':<13} {'build s':>8} {'R@1':>6} {'MRR@10':>7} {'search p50 ms':>14} "
          f"{'answer p50 ms':>14} {'questions':>9}")
    for bench, r in results.items():
        for system in SYSTEMS:
            s = r[system]
            answer = f"{s['answer_p50_ms']:>14.1f}" if "answer_p50_ms" in s else f"{'-':>14}"
            print(f"{bench:<12} {system.replace('_', ' '):<13} {s['build_s']:>8.1f} {s['R@1']:>6.3f} "
                  f"{s['MRR@10']:>7.3f} {s['search_p50_ms']:>14.1f} {answer} {s['questions']:>9}")
    print("\nours = hybrid over ~500-character passages; txtai indexes each paragraph whole. search p50 = retrieval "
          "only (ours: Service.timed_search); answer p50 = our full pipeline (python -m qa eval).")
    print(f"\n{'benchmark':<12} {'ΔR@1 vs best txtai':>19} {'speed-up search':>16} {'speed-up answer':>16}")
    for bench, r in results.items():
        x = r["ratios"]
        print(f"{bench:<12} {x['R@1_minus_best_txtai']:>+19.3f} {x['speedup_search']:>15.2f}x "
              f"{x['speedup_answer']:>15.2f}x")
    better = all(r["ratios"]["R@1_minus_best_txtai"] > 0 for r in results.values())
    faster = all(r["ratios"]["speedup_search"] >= 1.5 for r in results.values())
    print(f"\ngoal: better R@1 than txtai on every benchmark: {'yes' if better else 'no'}; "
          f"≥ 1.5x faster queries (fastest txtai p50 / our search p50): {'yes' if faster else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), metavar="NAME")
    parser.add_argument("--limit-questions", type=int, help="only the first N questions of each benchmark")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="our backend")
    parser.add_argument("--threads", type=int, help="torch/ONNX threads of both systems (default: all cores)")
    parser.add_argument("--venv", type=Path, default=ROOT / "bench" / ".txtai-venv", help="txtai's own venv")
    args = parser.parse_args()
    if args.threads:
        os.environ["QA_THREADS"] = str(args.threads)
    python = ensure_txtai(args.venv.resolve())
    prepared, _ = ours({"action": "qa-prepare", "backend": args.backend})
    print(f"model {prepared['model']}; our backend {args.backend}", file=sys.stderr)
    results = {name: compare(args.benchmarks.resolve() / name, python, prepared["model"], args.limit_questions,
                             args.backend) for name in args.only}
    report(results)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"model": prepared["model"], "backend": args.backend,
                               "threads": os.environ.get("QA_THREADS"), "limit_questions": args.limit_questions,
                               "results": results}, indent=2))
    print(f"\nwrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
