"""Calibrate when `found` is true: benchmark questions (answerable) versus out-of-corpus questions.

Each case of qa/relevance.py gets its thresholds from its own questions: Vietnamese with diacritics
(xquad_vi, mlqa_vi_dev), Vietnamese without (the same questions folded), English over Vietnamese
(xquad_en_vi), with tests/data/out_of_corpus.jsonl asked of the same indexes as negatives; and on
the seed corpus, tests/data/seed_questions.jsonl versus the out-of-corpus set. Both corpora weigh
the same. Seed figures are also given 5-fold cross-validated (no question judges thresholds fitted
on itself).

    python bench/strip_diacritics.py && python bench/calibrate_found.py [--limit 400]
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer.relevance import Evidence, Thresholds, found  # noqa: E402
from qa.cli import build_from_folder  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.eval import load_benchmark  # noqa: E402
from qa.index import versions as index_mod  # noqa: E402
from qa.ingest.text import fold  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.service import Service  # noqa: E402

DATA = ROOT / "tests" / "data"
CASES = {
    "diacritics": {"dense_min": [0.78, 0.79, 0.8, 0.81, 0.82, 0.83], "lexical_min": [0.3, 0.35, 0.4, 0.45, 0.5, 0.55],
                   "dense_alone": [0.84, 0.85, 0.86, 0.87, 0.88, 0.9]},
    "folded": {"folded_dense_min": [0.72, 0.74, 0.76, 0.78, 0.8], "folded_lexical_min": [0.3, 0.4, 0.5, 0.6, 0.7]},
    "cross": {"cross_dense_min": [0.77, 0.78, 0.79, 0.8, 0.81, 0.82, 0.83, 0.84],
              "cross_anchored_min": [0.74, 0.75, 0.76, 0.77, 0.78, 0.79, 0.8, 0.81]},
}


def records(name: str) -> list[dict]:
    """Records of a tests/data file."""
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def case(e: Evidence) -> str:
    """Which thresholds of qa/relevance.py decide this question."""
    return "cross" if not e.same_language else "folded" if e.folded else "diacritics"


def evidence(service: Service, asked: list[str]) -> list[Evidence]:
    """Evidence the service gathers for each question."""
    return [Evidence(**service.ask(q, 5)["evidence"]) for q in asked]


def rates(t: Thresholds, positives: list[Evidence], negatives: list[Evidence]) -> tuple[float, float]:
    """False-reject and false-accept rates (nan for an empty side)."""
    fr = float(np.mean([not found(e, t) for e in positives])) if positives else float("nan")
    fa = float(np.mean([found(e, t) for e in negatives])) if negatives else float("nan")
    return fr, fa


def cost(t: Thresholds, groups: list[tuple[list[Evidence], list[Evidence]]]) -> float:
    """Mean of false-reject + false-accept over the corpora, each corpus weighing the same."""
    return float(np.nanmean([np.nansum(rates(t, pos, neg)) for pos, neg in groups]))


def fit(groups: list[tuple[list[Evidence], list[Evidence]]], verbose: bool = False) -> Thresholds:
    """Per case of qa/relevance.py, the grid point of least cost."""
    best = Thresholds()
    for name, grid in CASES.items():
        mine = [([e for e in pos if case(e) == name], [e for e in neg if case(e) == name]) for pos, neg in groups]
        candidates = (replace(best, **dict(zip(grid, values))) for values in itertools.product(*grid.values()))
        best = min(candidates, key=lambda t: cost(t, mine))
        if verbose:
            print(f"  {name}: {[len(p) for p, _ in mine]} answerable, {[len(n) for _, n in mine]} out-of-corpus "
                  f"-> { {k: getattr(best, k) for k in grid} }, FR/FA per corpus "
                  f"{[tuple(round(x, 3) for x in rates(best, p, n)) for p, n in mine]}")
    return best


def cross_validated(bench: tuple, seed_pos: list[Evidence], seed_neg: list[Evidence], folds: int = 5):
    """Seed false-reject/accept where each seed question is judged by thresholds fitted without it."""
    wrong_pos = wrong_neg = 0
    for k in range(folds):
        train = ([e for i, e in enumerate(seed_pos) if i % folds != k],
                 [e for i, e in enumerate(seed_neg) if i % folds != k])
        t = fit([bench, train])
        wrong_pos += sum(not found(e, t) for i, e in enumerate(seed_pos) if i % folds == k)
        wrong_neg += sum(found(e, t) for i, e in enumerate(seed_neg) if i % folds == k)
    return wrong_pos / len(seed_pos), wrong_neg / len(seed_neg)


def main() -> None:
    """Fit on benchmarks, report on the seed corpus."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--limit", type=int, default=400, help="questions per benchmark")
    args = parser.parse_args()
    base = Config.from_env()
    embedder = Embedder(base.model, base.model_cache)
    ooc = [r["question"] for r in records("out_of_corpus.jsonl")]
    ooc_folded = [fold(r["question"]) for r in records("out_of_corpus.jsonl") if r["lang"] == "vi"]
    positives, negatives = [], []
    for name in ("xquad_vi", "mlqa_vi_dev", "xquad_en_vi"):
        articles, qs = load_benchmark(args.benchmarks / name)
        config = replace(base, index_dir=Path(base.index_dir) / "eval" / name)
        index_mod.build(config, articles, embedder, progress=False)
        service = Service(config, embedder)
        asked = [qs[i].text for i in np.random.default_rng(0).permutation(len(qs))[:args.limit]]
        positives += evidence(service, asked)
        if name != "xquad_en_vi":
            positives += evidence(service, [fold(q) for q in asked])
            negatives += evidence(service, ooc + ooc_folded)
    seed = replace(base, index_dir=Path(base.index_dir) / "eval" / "seeds")
    build_from_folder(seed, embedder, progress=False)
    service = Service(seed, embedder)
    seed_pos = evidence(service, [r["question"] for r in records("seed_questions.jsonl")])
    seed_neg = evidence(service, ooc)
    print("fitted on benchmarks and seeds (each corpus weighing the same):")
    fitted = fit([(positives, negatives), (seed_pos, seed_neg)], verbose=True)
    print(" ", fitted)
    fr, fa = cross_validated((positives, negatives), seed_pos, seed_neg)
    print(f"seed corpus, 5-fold cross-validated: false-reject {fr:.3f} of {len(seed_pos)} seed questions, "
          f"false-accept {fa:.3f} of {len(seed_neg)} out-of-corpus questions")
    for label, t in (("fitted on all", fitted), ("shipped in qa/relevance.py", Thresholds())):
        fr, fa = rates(t, seed_pos, seed_neg)
        bfr, bfa = rates(t, positives, negatives)
        print(f"{label}: seed false-reject {fr:.3f}, false-accept {fa:.3f}; "
              f"benchmarks false-reject {bfr:.3f}, false-accept {bfa:.3f}")


if __name__ == "__main__":
    main()
