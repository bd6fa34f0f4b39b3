"""Choose the cap of cross-language questions' lexical weight (hybrid.CROSS_LEXICAL_WEIGHT), held out by article.

An English question over Vietnamese text: BM25 matches only names and chance words, and the more text the corpus
holds, the more of the question's English words it "knows", so the coverage rule alone gives such a question
half its score from BM25 in a large corpus. This scans caps on xquad_en_vi (English questions, Vietnamese
paragraphs), with the questions split in two halves by XQuAD article: each half's cap is the best on the other
half, and each question is scored with the cap of its half (held out). Also printed: the cap switched off
(the coverage weight alone for every question) and, with --index, the same on another index holding the same articles,
such as the many-alike index of bench/news_bench.py --distractors (its questions from bench/data). Candidates
are retrieved once a question through the service's own steps; `hybrid.rank` ranks them for each weight.

    python bench/cross_weight.py
    QA_BACKEND=onnx-int8 QA_INDEX_DIR=/tmp/int8idx python bench/cross_weight.py \\
        --index "index/eval/xquad_vi+mlqa_vi_dev+xquad_en_vi_articles+viwiki7860" \\
        --questions bench/data/xquad_en_vi_articles
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import eval as eval_mod  # noqa: E402
from qa.answer import reading  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.ingest import language as lang  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.retrieve import hybrid  # noqa: E402
from qa.service import Service  # noqa: E402

BENCH = ROOT.parent / "shared" / "benchmarks" / "xquad_en_vi"
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


def halves(folder: Path) -> dict[str, int]:
    """Question id -> half (0 or 1), alternating over the sorted XQuAD article titles."""
    titles = {p["id"]: p["title"] for p in map(json.loads, (folder / "paragraphs.jsonl").open(encoding="utf-8"))}
    order = {t: i % 2 for i, t in enumerate(sorted(set(titles.values())))}
    questions = map(json.loads, (folder / "questions.jsonl").open(encoding="utf-8"))
    return {q["id"]: order[titles[q["paragraph_id"]]] for q in questions}


def candidates(service: Service, questions: list[eval_mod.Question]) -> list[tuple]:
    """(question, language, candidates) for each question, as the service retrieves them (top 10, hybrid)."""
    index, out = service.index, []
    for q in questions:
        language = lang.detect(q.text)
        vector = service.query(index, q.text, language)
        request = hybrid.request(vector, q.text, "hybrid", service.config.candidates, language=language)
        parts = index.run(reading.ahead, reading.Ahead(request, None, 10, 0, []))
        out.append((q, language, hybrid.merge([p.found for p in parts], service.config.candidates)))
    return out


def hits(service: Service, found: list[tuple], weight: float | None) -> list[bool]:
    """Whether each question's first passage is from its article, at this cap (None: no cap)."""
    hybrid.CROSS_LEXICAL_WEIGHT = weight or 0.0
    out = []
    for q, language, f in found:
        top = hybrid.rank(f, q.text, 1, "hybrid", None, "" if weight is None else language)
        out.append(bool(top) and service.index.store.passages([top[0].row])[0]["article_id"] == q.paragraph_id)
    return out


def share(values: list[bool]) -> float:
    """The share of true values."""
    return sum(values) / len(values) if values else 0.0


def held_out(service: Service, found: list[tuple], half: dict[str, int], chosen: dict[int, float]) -> float:
    """R@1 with each question ranked at the cap chosen on the other half."""
    scored = []
    for h, weight in chosen.items():
        mine = [item for item in found if half[item[0].id] == h]
        scored += hits(service, mine, weight)
    return share(scored)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS))
    parser.add_argument("--benchmark", type=Path, default=BENCH, help="the paragraph benchmark the weight is chosen on")
    parser.add_argument("--index", type=Path, help="another built index holding the same articles, scored too")
    parser.add_argument("--questions", type=Path, help="the benchmark folder of --index's questions")
    args = parser.parse_args()
    half = halves(args.benchmark)
    articles, questions = eval_mod.load_benchmark(args.benchmark)
    config = Config.from_env(index_dir=Path(Config.from_env().index_dir) / "eval" / args.benchmark.name)
    embedder = Embedder.from_config(config)
    versions.build(config, articles, embedder, progress=False)
    service = Service(config, embedder)
    found = candidates(service, questions)
    scored = {w: hits(service, found, w) for w in args.weights}
    per_half = {w: [share([h for item, h in zip(found, s) if half[item[0].id] == i]) for i in (0, 1)]
                for w, s in scored.items()}
    for w, (a, b) in per_half.items():
        print(f"cap {w:.2f}: half 0 R@1 {a:.3f}, half 1 R@1 {b:.3f}, all {share(scored[w]):.3f}")
    chosen = {i: max(args.weights, key=lambda w: (per_half[w][1 - i], -w)) for i in (0, 1)}
    best = max(args.weights, key=lambda w: (share(scored[w]), -w))
    print(f"chosen on the other half: half 0 {chosen[0]}, half 1 {chosen[1]}; on all questions {best}")
    runs = [(args.benchmark.name, service, found)]
    if args.index:
        other = Service(Config.from_env(index_dir=args.index), embedder)
        runs.append((args.index.name, other, candidates(other, eval_mod.load_benchmark(args.questions)[1])))
    for name, svc, items in runs:
        print(f"{name}: R@1 without the cap {share(hits(svc, items, None)):.3f}, held out "
              f"{held_out(svc, items, half, chosen):.3f} ({len(items)} questions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
