"""Cost of a date filter: the answer's latency without a filter and with a filter leaving 5 % of the
articles, for each way of applying it, in one run; and the dense recall@10 each way keeps.

    python bench/filters.py [--limit 2000] [--dense-index exact|hnsw] [--questions 300]

Corpus: the first `--limit` viwiki articles, each given a synthetic date spread evenly over 20 years
(so one year holds 5 %). Questions: xquad_vi's (Wikipedia questions, like the corpus). Each answer
is computed afresh (the answer cache is bypassed). Ways of applying the filter to dense search:
Each question is answered once per way (and without the filter), the ways taken in turn, so the
drift of a shared machine hits all of them alike.
- shipped: what qa/index/vectors.py does (scan the allowed rows when at most SCAN_ROWS, else the
  ANN index with a bitmap selector);
- scan: always score the allowed rows directly;
- selector: always the ANN index with a bitmap selector (the same as scan on an exact index);
- overfetch: search unfiltered for 20× the candidates, keep the allowed ones.
BM25 is always masked (one vector operation). Recall@10: the filtered top 10 against exact search
among the allowed rows.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.index import vectors, versions  # noqa: E402
from qa.ingest.articles import load_file  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.retrieve import filters as filters_mod  # noqa: E402
from qa.service import Service  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "viwiki_2017" / "documents.jsonl.gz"
QUESTIONS = ROOT.parent / "shared" / "benchmarks" / "xquad_vi" / "questions.jsonl"
FIRST_DAY, YEARS = date(2000, 1, 1), 20
OVERFETCH = 20
SCAN_SETTINGS = {"scan": 10**12, "selector": 0}


def dated_articles(limit: int):
    """The first `limit` viwiki articles, each given a date spread evenly over 20 years (bench/data/)."""
    target = ROOT / "bench" / "data" / f"viwiki-dated{limit}" / "documents.jsonl"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(CORPUS, "rt", encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
            for i, line in enumerate(lines):
                if i >= limit:
                    break
                record = json.loads(line)
                record["date"] = (FIRST_DAY + timedelta(days=i * 7919 % (YEARS * 365))).isoformat()
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return load_file(target)[0]


def overfetched(index, query, n, allowed):
    """Unfiltered dense search for OVERFETCH × n, then only the allowed rows."""
    rows, scores = index.dense.search(query, n * OVERFETCH)
    keep = allowed[rows]
    return rows[keep][:n], scores[keep][:n]


def answer_ms(service, question: str, filters) -> float:
    """Milliseconds of one answer, computed afresh (the answer cache bypassed)."""
    started = time.perf_counter()
    service._answer.__wrapped__(service, service.index, question, 5, (), filters, True, date.today())
    return (time.perf_counter() - started) * 1000


def applied(service, way: str):
    """Set dense search up for one way of applying the filter; returns the function that undoes it."""
    dense_type, original_among, original_scan = type(service.index.dense), type(service.index.dense).search_among, \
        vectors.SCAN_ROWS
    if way == "overfetch":
        dense_type.search_among = lambda self, q, n, allowed, exact=False: overfetched(service.index, q, n, allowed)
    elif way in SCAN_SETTINGS:
        vectors.SCAN_ROWS = SCAN_SETTINGS[way]

    def undo():
        dense_type.search_among, vectors.SCAN_ROWS = original_among, original_scan
    return undo


def interleaved(service, questions, filters, ways) -> dict[str, list[float]]:
    """Each question answered once per way, the ways in turn rotated, so drift on a shared machine hits all alike."""
    out = {way: [] for way in ways}
    for i, q in enumerate(questions):
        for way in ways[i % len(ways):] + ways[:i % len(ways)]:
            undo = applied(service, way)
            out[way].append(answer_ms(service, q, filters[way]))
            undo()
    return out


def recall(service, questions, allowed, search) -> float:
    """Share of the exact filtered top 10 that a way of filtering returns."""
    index = service.index
    hits = []
    for q in questions:
        vector = service.query(index, q, "vi")
        truth = set(vectors._scan(index.dense.base.vectors, vector.astype(np.float32), np.flatnonzero(allowed), 10)[0])
        hits.append(len(truth & set(search(index, vector, 10, allowed)[0].tolist())) / max(1, len(truth)))
    return statistics.mean(hits)


def main() -> int:
    """Build (or reuse) the dated index, then time and score every way."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--dense-index", default="exact", choices=["exact", "hnsw"])
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    config = Config.from_env(index_dir=ROOT / "index" / f"viwiki-dated{args.limit}-{args.backend}",
                             backend=args.backend, dense_index=args.dense_index)
    embedder = Embedder.from_config(config)
    started = time.perf_counter()
    versions.build(config, dated_articles(args.limit), embedder, progress=True)
    print(f"index: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    service = Service(config, embedder)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    questions = questions[:args.questions]
    year = filters_mod.parse({"date_from": "2010-01-01", "date_to": "2010-12-31"})
    catalogue = filters_mod.catalogue(service.index)
    allowed, _ = catalogue.mask(year)
    counts = service.index.manifest["counts"]
    print(f"corpus: {counts['articles']} articles, {counts['passages']} passages, dense index {args.dense_index}; "
          f"the filter keeps {catalogue.article_mask(year)[0][:-1].mean():.1%} of the articles, "
          f"{allowed.mean():.1%} of the rows ({int(allowed.sum())}); {len(questions)} questions")
    ways = ["no filter", "shipped", "scan", "selector", "overfetch"]
    chosen = {way: year for way in ways} | {"no filter": filters_mod.Filters()}
    interleaved(service, questions[:20], chosen, ways)  # warm-up
    times = interleaved(service, questions, chosen, ways)
    rows = []
    for way in ways:
        undo = applied(service, way)
        search = lambda index, q, n, allowed: index.dense.search_among(q, n, allowed)
        kept = None if way == "no filter" else recall(service, questions[:100], allowed, search)
        rows.append((way, times[way], kept))
        undo()
    print(f"{'filter (5 %)':<12} {'p50 ms':>8} {'p95 ms':>8} {'dense recall@10':>16}")
    for name, ms, rec in rows:
        p95 = statistics.quantiles(ms, n=20)[-1]
        print(f"{name:<12} {statistics.median(ms):>8.1f} {p95:>8.1f} {'' if rec is None else f'{rec:.3f}':>16}")
    print(f"(hybrid candidates {service.config.candidates}, SCAN_ROWS {vectors.SCAN_ROWS}, overfetch ×{OVERFETCH})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
