"""Command line: `python -m qa build|ask|eval|serve …`, thin wrappers over the library functions."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from qa import eval as eval_mod
from qa.cluster import cli as cluster_cli
from qa.config import Config
from qa.index import versions as index_mod
from qa.ingest import articles as articles_mod
from qa.model.embedder import BACKENDS
from qa.retrieve import filters as filters_mod
from qa.retrieve.filters import SORTS, Filters
from qa.retrieve.hybrid import MODES

if TYPE_CHECKING:
    from qa.ingest.crawl import Report


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def _embedder(config: Config):
    """The model named by the configuration, loaded once per command."""
    from qa.model.embedder import Embedder

    return Embedder.from_config(config)


def _config(args: argparse.Namespace) -> Config:
    """Environment first, then whatever options this command has."""
    options = {name: getattr(args, name, None) for name in ("index_dir", "seeds_dir", "model", "backend",
                                                             "query_backend", "mode", "host", "port", "workers")}
    if getattr(args, "allow_private", False):
        options["allow_private_urls"] = True
    return Config.from_env(**options)


def build_from_folder(config: Config, embedder=None, progress: bool = True) -> dict:
    """Load the seed folder, report skipped files on stderr, build and publish the index."""
    found, problems = articles_mod.load_folder(config.seeds_dir)
    for problem in problems:
        print(f"warning: {problem.message}", file=sys.stderr)
    if not found:
        raise UsageError(f"no usable article in {config.seeds_dir}; nothing to index")
    return index_mod.build(config, found, embedder or _embedder(config), problems, progress)


def cmd_build(args: argparse.Namespace) -> int:
    """Build the index from a folder of articles."""
    config = _config(args)
    _report(build_from_folder(config), config, "built")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Print the answer (short answer, cited sentences) and the best passages for one question."""
    question = args.question.strip()
    if not question:
        raise UsageError("the question is empty")
    from qa.service import Service

    within = _filters(args)
    service = Service(_config(args))
    if args.mode:
        found, took = service.timed_search(question, args.k, args.mode, within, not args.no_question_time)
        result = {"question": question, "found": None, "answer": None, **found, "took_ms": round(took, 1)}
    else:
        result = service.ask(question, args.k, filters=within, question_time=not args.no_question_time)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    answer = result["answer"]
    if answer:
        print(f"answer: {answer['short'] or answer['text']}")
        print(f"        {answer['text']}")
    elif result["found"] is False:
        print("answer: not found in the articles; the closest passages:")
    for hit in result["passages"]:
        print(f"{hit['rank']}. [{hit['score']:.3f}] {hit['article_id']} — {hit['title']}")
        print(f"   {' '.join(hit['text'].split())[:300]}")
    _print_scope(result)
    return 0


def _filters(args: argparse.Namespace) -> Filters:
    """The filter options, checked as the API checks its `filters` object."""
    return filters_mod.parse({"date_from": args.date_from, "date_to": args.date_to, "sources": args.sources,
                              "articles": args.articles, "language": args.language})


def _print_scope(result: dict) -> None:
    """Say which time the question was taken to name, and what a date filter left out."""
    named = result.get("time")
    if named:
        span = f"{named['from']} to {named['to']}" if named["from"] else ""
        print(f"time: {named['text']!r} → {' '.join(filter(None, [span, 'newest first' if named['recency'] else '']))}")
    if result.get("excluded_undated"):
        print(f"note: {result['excluded_undated']} articles without a date were left out by the date filter")


def cmd_articles(args: argparse.Namespace) -> int:
    """List the articles (filtered, searched by title, sorted) as GET /api/articles does."""
    from qa.service import Service

    found = Service(_config(args)).articles(_filters(args), args.q or "", args.sort)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    for a in found:
        print(f"{a['date'] or '—':<25} {a['id']}  {a['title']}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score retrieval (and, in hybrid mode, answers) on a benchmark folder and print the metrics."""
    from qa.service import Service

    bench = Path(args.bench)
    articles, questions = eval_mod.load_benchmark(bench)
    if args.limit:
        questions = questions[:args.limit]
    index_dir = args.index_dir or Path(Config.from_env().index_dir) / "eval" / bench.name
    config = Config.from_env(index_dir=index_dir, model=args.model, backend=args.backend,
                             query_backend=args.query_backend)
    embedder = _embedder(config)
    index_mod.build(config, articles, embedder, progress=not args.json)
    service = Service(config, embedder)
    results = [service.ask(q.text, 10) if args.mode == "hybrid" else None for q in questions]
    ranks, times = [], []
    for q, result in zip(questions, results):
        if result is None:
            scoped, took = service.timed_search(q.text, 10, args.mode)
            found = scoped["passages"]
        else:
            found, took = result["passages"], result["took_ms"]
        ranks.append(eval_mod.gold_rank(found, q))
        times.append(took)
    metrics = {"benchmark": bench.name, "mode": args.mode, **eval_mod.retrieval_metrics(ranks, times)}
    if args.mode == "hybrid":
        metrics.update(eval_mod.answer_metrics(results, questions))
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
    return 0


def _is_url(text: str) -> bool:
    """Arguments that start with http:// or https:// are web pages, the rest are files."""
    return text.lower().startswith(("http://", "https://"))


def cmd_add(args: argparse.Namespace) -> int:
    """Add or replace articles from files and web pages without rebuilding the rest of the index."""
    config = _config(args)
    urls = [a for a in args.files if _is_url(a)]
    found, problems = [], []
    for path in (a for a in args.files if not _is_url(a)):
        articles, trouble = articles_mod.load_file(Path(path))
        found += articles
        problems += trouble
    for problem in problems:
        print(f"warning: {problem.message}", file=sys.stderr)
    if urls:
        from qa.ingest import crawl as crawl_mod  # datasketch and trafilatura take a second to import

        return _print_crawl(crawl_mod.crawl(config, _embedder(config), urls, progress=True, direct=True, extra=found),
                            args.json)
    if not found:
        raise UsageError("no usable article in the given files; nothing changed")
    manifest = index_mod.update(config, _embedder(config), add=found, replace=not args.no_replace, progress=True)
    _report(manifest, config, f"added {len(found)} articles")
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl feeds, sitemaps or pages once, or every INTERVAL until stopped, publishing one version per run."""
    from qa.ingest import crawl as crawl_mod

    config = _config(args)
    if args.max is not None and args.max < 1:
        raise UsageError("--max must be at least 1")
    every = crawl_mod.parse_interval(args.every) if args.every else None
    since = _date(args.since) if args.since else None
    embedder = _embedder(config)
    if every is not None:
        _stop_on_signals()
    status = 0
    try:
        while True:
            report = crawl_mod.crawl(config, embedder, args.urls, args.max, since, progress=not args.json)
            status = _print_crawl(report, args.json)
            if every is None:
                return status
            time.sleep(every)
    except KeyboardInterrupt:
        print("stopped; the last published version stays served", file=sys.stderr)
        return status


def _stop_on_signals() -> None:
    """`--every` runs until stopped: Ctrl-C (SIGINT) and SIGTERM both end it, also when it was started in the
    background, where SIGINT is inherited as ignored."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, stop)


def _date(text: str) -> date:
    """--since as an ISO date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date like 2024-05-20") from None


def _print_crawl(report: Report, as_json: bool) -> int:
    """Each problem on stderr and the summary line (or the JSON report); 1 when no page could be read."""
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for item in report.items:
            if item["status"] in ("failed", "robots"):
                print(f"{'skipped' if item['status'] == 'robots' else 'failed'}: {item['message']}", file=sys.stderr)
        print(report.summary())
    totals = report.totals()
    return 1 if totals["failed"] and not (totals["fetched"] or totals["unchanged"] or totals["duplicate"]) else 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Remove articles by id."""
    config = _config(args)
    manifest = index_mod.update(config, _embedder(config), remove=args.ids)
    _report(manifest, config, f"removed {len(args.ids)} articles")
    return 0


def _report(manifest: dict, config: Config, what: str) -> None:
    """One line saying what was published where."""
    counts = manifest["counts"]
    print(f"{what}: index {manifest['version']} in {config.index_dir}: {counts['articles']} articles, "
          f"{counts['passages']} passages ({counts['embedded']} embedded, {counts['reused']} reused) "
          f"in {manifest['build_seconds']} s")


def cmd_serve(args: argparse.Namespace) -> int:
    """Build the index if needed and serve the API and the chat with gunicorn."""
    from qa.serve.gunicorn import serve

    serve(_config(args))
    return 0


def filter_options(p: argparse.ArgumentParser) -> None:
    """The options that narrow what is searched (the API's `filters`)."""
    p.add_argument("--from", dest="date_from", metavar="DATE", help="only articles dated on or after (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="only articles dated on or before (YYYY-MM-DD)")
    p.add_argument("--source", dest="sources", action="append", metavar="SITE", help="only this site (repeatable)")
    p.add_argument("--article", dest="articles", action="append", metavar="ID", help="only this article (repeatable)")
    p.add_argument("--language", help="only articles in this language (vi, en, …)")


def parser() -> argparse.ArgumentParser:
    """All commands and their options (README lists the same)."""
    top = argparse.ArgumentParser(prog="python -m qa", description="Question answering over news articles.")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--index", dest="index_dir", type=Path, help="index folder (QA_INDEX_DIR, default index/)")
        p.add_argument("--model", help="sentence-transformers model name or path (QA_MODEL)")
        p.add_argument("--backend", choices=BACKENDS, help="torch, onnx or onnx-int8 (QA_BACKEND)")
        p.add_argument("--query-backend", choices=BACKENDS,
                       help="backend for questions only (QA_QUERY_BACKEND, default: the same as --backend)")
        return p

    b = command("build", cmd_build, "build or update the index from a folder of articles")
    b.add_argument("--seeds", dest="seeds_dir", type=Path, help="article folder (QA_SEEDS_DIR, default seeds/)")
    a = command("ask", cmd_ask, "print the answer and the best passages for a question")
    a.add_argument("question")
    a.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.add_argument("--mode", choices=MODES, help="passages of one retrieval mode only, without an answer")
    filter_options(a)
    a.add_argument("--no-question-time", action="store_true",
                   help="ignore a time the question names (\"năm 2023\", \"latest\")")
    li = command("articles", cmd_articles, "list the articles, filtered and sorted")
    filter_options(li)
    li.add_argument("--q", help="words of the title")
    li.add_argument("--sort", choices=SORTS, default="id", help="order (default id)")
    li.add_argument("--json", action="store_true", help="print JSON")
    d = command("add", cmd_add, "add or replace articles from files (any supported format) or web pages (http:// "
                                "or https:// URLs), re-embedding only those")
    d.add_argument("files", nargs="+", metavar="FILE_OR_URL")
    d.add_argument("--no-replace", action="store_true",
                   help="refuse files whose article id already exists (a web page always replaces itself)")
    d.add_argument("--json", action="store_true", help="print the fetch report of URLs as JSON")
    d.add_argument("--allow-private", action="store_true",
                   help="fetch loopback, private and link-local addresses too (QA_ALLOW_PRIVATE_URLS)")
    c = command("crawl", cmd_crawl, "fetch the articles behind RSS/Atom feeds, sitemaps or pages, new or changed "
                                    "ones only, and publish one index version per run")
    c.add_argument("urls", nargs="+", metavar="URL", help="a feed, a sitemap (or sitemap index) or a page")
    c.add_argument("--max", type=int, help="fetch at most N pages per run (new ones first)")
    c.add_argument("--since", help="only articles dated on or after this day (YYYY-MM-DD), when the source dates them")
    c.add_argument("--every", metavar="INTERVAL", help="keep running, crawling again every INTERVAL (90s, 15m, 6h, 1d)")
    c.add_argument("--json", action="store_true", help="print the run's report as JSON")
    c.add_argument("--allow-private", action="store_true",
                   help="fetch loopback, private and link-local addresses too (QA_ALLOW_PRIVATE_URLS)")
    r = command("remove", cmd_remove, "remove articles by id")
    r.add_argument("ids", nargs="+", metavar="ID")
    s = command("serve", cmd_serve, "build the index if there is none, then serve the chat and the API")
    s.add_argument("--seeds", dest="seeds_dir", type=Path, help="article folder used when building (QA_SEEDS_DIR)")
    s.add_argument("--host", help="address to listen on (QA_HOST, default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (QA_PORT, default 8000)")
    s.add_argument("--workers", type=int, help="worker processes (QA_WORKERS, default 2)")
    e = command("eval", cmd_eval, "retrieval and answer metrics on a benchmark folder")
    e.add_argument("bench", help="folder with paragraphs.jsonl and questions.jsonl")
    e.add_argument("--mode", choices=MODES, default="hybrid")
    e.add_argument("--limit", type=int, help="only the first N questions")
    e.add_argument("--json", action="store_true", help="print JSON")
    cluster_cli.extend(sub, b, s)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command; known failures print one line and exit non-zero."""
    args = parser().parse_args(argv)
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (UsageError, articles_mod.ArticleError, FileNotFoundError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except index_mod.IndexProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
