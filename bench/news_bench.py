"""Whole-article benchmarks: find the right passage of a long article (and, optionally, among many alike).

News articles are long and a collection holds many on one topic; the shared benchmarks are single
paragraphs. This joins the paragraphs of each source article (XQuAD: those sharing a title; MLQA: the
same title) into one article, in order, separated by a blank line, writes the derived benchmark to
bench/data/<name>_articles/ (with a licence NOTICE), indexes it with the real index builder
(index/eval/<name>_articles) and scores every question through the real service (top 10 passages):

- passage level: rank of the first passage from the question's own article that contains one of its
  gold answers (word by word, as qa.eval.answer_hit compares);
- article level: rank of the first passage from the question's article.

    python bench/news_bench.py [--bench xquad_vi mlqa_vi_dev xquad_en_vi] [--limit N]
    python bench/news_bench.py --distractors ../shared/corpora/viwiki_2017/documents.jsonl.gz [--distractor-limit 200]

With --distractors the viwiki articles are indexed beside the benchmarks', all in one index ("many
alike"); the whole corpus (7,878 articles) takes over an hour to embed on two cores, so keep it for a
benchmark run.
Nothing here is fitted: the figures are the current code's, on every question.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import eval as eval_mod  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.ingest.articles import Article  # noqa: E402
from qa.ingest.text import fold, tidy  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.service import Service  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
DERIVED = ROOT / "bench" / "data"
NAMES = ("xquad_vi", "mlqa_vi_dev", "xquad_en_vi")
K = 10
SOURCES = {"xquad_vi": ("XQuAD, google-deepmind/xquad", "CC BY-SA 4.0"),
           "xquad_en_vi": ("XQuAD, google-deepmind/xquad (English questions)", "CC BY-SA 4.0"),
           "mlqa_vi_dev": ("MLQA v1 dev, Lewis et al. 2020", "CC BY-SA 3.0")}
NOTICE = ("Derived from {name} in ../shared/benchmarks ({source}) by bench/news_bench.py: the paragraphs of each "
          "source article (same title) joined in order into one article, separated by a blank line; questions "
          "unchanged, with paragraph_id and article_id set to the article's id (the original paragraph id kept "
          "as source_paragraph_id, answer_starts moved to article offsets). Licence: {licence}.\n")


def article_id(title: str) -> str:
    """A stable, readable id from the title: its slug without diacritics and a short hash (slugs may meet)."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", fold(title)).strip("_")[:40] or "article"
    return f"{slug}-{hashlib.sha1(title.encode('utf-8')).hexdigest()[:8]}"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def derive(name: str, source: Path, target: Path) -> Path:
    """Write the whole-article copy of benchmark `name` to `target`; returns `target`."""
    paragraphs = _jsonl(source / "paragraphs.jsonl")
    joined: dict[str, list[str]] = {}
    shift: dict[str, int] = {}  # where a paragraph's first character lands in its article's text
    for p in paragraphs:
        texts = joined.setdefault(p["title"], [])
        text = p["text"].strip()
        start = sum(len(t) + 2 for t in texts)
        shift[p["id"]] = start - (len(p["text"]) - len(p["text"].lstrip()))
        texts.append(text)
    of_paragraph = {p["id"]: article_id(p["title"]) for p in paragraphs}
    ids = [article_id(title) for title in joined]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name}: two titles give the same article id")
    target.mkdir(parents=True, exist_ok=True)
    _write_jsonl(target / "paragraphs.jsonl", [{"id": article_id(title), "title": title, "text": "\n\n".join(texts)}
                                               for title, texts in joined.items()])
    questions = []
    for q in _jsonl(source / "questions.jsonl"):
        aid = of_paragraph[q["paragraph_id"]]
        record = {**q, "paragraph_id": aid, "article_id": aid, "source_paragraph_id": q["paragraph_id"]}
        if "answer_starts" in q:
            record["answer_starts"] = [start + shift[q["paragraph_id"]] for start in q["answer_starts"]]
        questions.append(record)
    _write_jsonl(target / "questions.jsonl", questions)
    for licence_file in source.glob("LICENSE*"):
        shutil.copyfile(licence_file, target / licence_file.name)
    source_name, licence = SOURCES.get(name, ("see ../shared/README.md", "CC BY-SA"))
    (target / "NOTICE").write_text(NOTICE.format(name=name, source=source_name, licence=licence), encoding="utf-8")
    return target


def distractors(path: Path, limit: int | None, taken: set[str]) -> list[Article]:
    """viwiki articles ({id, title, text}) as extra articles, the first `limit` of them if given."""
    found = []
    with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8") as lines:
        for line in lines:
            if limit is not None and len(found) >= limit:
                break
            if not line.strip():
                continue
            d = json.loads(line)
            text = tidy(d.get("text", ""))
            if text and str(d["id"]) not in taken:
                found.append(Article(id=str(d["id"]), title=tidy(d.get("title", "").replace("_", " ")), text=text,
                                     source=str(path)))
    return found


def passage_rank(results: list[dict], question: eval_mod.Question) -> int | None:
    """1-based rank of the first passage from the question's article that contains a gold answer."""
    return next((r["rank"] for r in results if r["article_id"] == question.paragraph_id
                 and eval_mod.answer_hit({"text": r["text"]}, question)), None)


def unreachable(service: Service, questions: list[eval_mod.Question]) -> int:
    """Questions none of whose article's passages contains a gold answer (a cut through it, or a respelling)."""
    passages: dict[str, list[str]] = {}
    missing = 0
    for q in questions:
        if q.paragraph_id not in passages:
            passages[q.paragraph_id] = [p["text"] for p in service.index.store.article_passages(q.paragraph_id)]
        missing += not any(eval_mod.answer_hit({"text": t}, q) for t in passages[q.paragraph_id])
    return missing


def _figures(ranks: list[int | None], times: list[float]) -> str:
    m = eval_mod.retrieval_metrics(ranks, times)
    return f"R@1={m['R@1']:.3f} R@5={m['R@5']:.3f} MRR@10={m['MRR@10']:.3f}"


def index(label: str, articles: list[Article], embedder: Embedder | None) -> tuple[Service, dict, float]:
    """Build (or reuse) the index of these articles under index/eval/<label> and load it; the build's seconds."""
    started = time.perf_counter()
    config = Config.from_env(index_dir=Path(Config.from_env().index_dir) / "eval" / label)
    embedder = embedder or Embedder.from_config(config)
    manifest = versions.build(config, articles, embedder, progress=False)
    built = time.perf_counter() - started
    return Service(config, embedder), manifest, built


def score(label: str, service: Service, questions: list[eval_mod.Question], manifest: dict, built: float) -> None:
    """Score every question through the service at passage and article level; prints one line."""
    started = time.perf_counter()
    passage_ranks, article_ranks, times = [], [], []
    for q in questions:
        found, took = service.timed_search(q.text, K)
        found = found["passages"]
        passage_ranks.append(passage_rank(found, q))
        article_ranks.append(eval_mod.gold_rank(found, q))
        times.append(took)
    missing = unreachable(service, questions)
    counts = manifest["counts"]
    print(f"{label}: questions={len(questions)} articles={counts['articles']} passages={counts['passages']} | "
          f"passage {_figures(passage_ranks, times)} | article {_figures(article_ranks, times)} | "
          f"no_gold_in_article={missing} p50={float(np.percentile(times, 50)):.1f}ms "
          f"build={built:.0f}s scoring={time.perf_counter() - started:.0f}s", flush=True)


def groups(args: argparse.Namespace) -> list[tuple[str, list[Article], dict]]:
    """(index label, articles, benchmark -> (printed label, questions)) for each index to build: one per
    benchmark, or, with distractors, one for all (so the distractors are embedded once)."""
    derived = {}
    for name in args.bench:
        articles, questions = eval_mod.load_benchmark(derive(name, args.benchmarks / name,
                                                             args.out / f"{name}_articles"))
        derived[name] = articles, questions[:args.limit] if args.limit else questions
    if not args.distractors:
        return [(f"{n}_articles", a, {n: (f"{n}_articles", q)}) for n, (a, q) in derived.items()]
    articles = list({a.id: a for found, _ in derived.values() for a in found}.values())
    extra = distractors(args.distractors, args.distractor_limit, {a.id for a in articles})
    return [(f"{'+'.join(derived)}_articles+viwiki{len(extra)}", articles + extra,
             {n: (f"{n}_articles+viwiki{len(extra)}", q) for n, (_, q) in derived.items()})]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", nargs="+", default=list(NAMES), help="benchmark names (default: all three)")
    parser.add_argument("--limit", type=int, help="score only the first N questions (a quick run)")
    parser.add_argument("--distractors", type=Path, help="a {id,title,text} JSONL(.gz) corpus indexed beside, "
                        "e.g. ../shared/corpora/viwiki_2017/documents.jsonl.gz")
    parser.add_argument("--distractor-limit", type=int, help="take only the first N distractor articles")
    parser.add_argument("--benchmarks", type=Path, default=SHARED, help="folder of the shared benchmarks")
    parser.add_argument("--out", type=Path, default=DERIVED, help="where the derived benchmarks are written")
    args = parser.parse_args()
    embedder = None
    for label, articles, benchmarks in groups(args):
        service, manifest, built = index(label, articles, embedder)
        embedder = service.embedder
        for printed, questions in benchmarks.values():
            score(printed, service, questions, manifest, built)
        service.index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
