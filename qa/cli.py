"""Command line: `python -m qa build|ask|eval|serve …`, thin wrappers over the library functions."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa import eval as eval_mod
from qa.cluster import cli as cluster_cli
from qa.config import Config
from qa.index import versions as index_mod
from qa.ingest import articles as articles_mod
from qa.model.embedder import BACKENDS
from qa.retrieve.hybrid import MODES


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

    service = Service(_config(args))
    if args.mode:
        found, took = service.timed_search(question, args.k, args.mode)
        result = {"question": question, "found": None, "answer": None, "passages": found, "took_ms": round(took, 1)}
    else:
        result = service.ask(question, args.k)
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
        found, took = (result["passages"], result["took_ms"]) if result else service.timed_search(q.text, 10, args.mode)
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


def cmd_add(args: argparse.Namespace) -> int:
    """Add or replace articles from files without rebuilding the rest of the index."""
    config = _config(args)
    found, problems = [], []
    for path in args.files:
        articles, trouble = articles_mod.load_file(Path(path))
        found += articles
        problems += trouble
    for problem in problems:
        print(f"warning: {problem.message}", file=sys.stderr)
    if not found:
        raise UsageError("no usable article in the given files; nothing changed")
    manifest = index_mod.update(config, _embedder(config), add=found, replace=not args.no_replace, progress=True)
    _report(manifest, config, f"added {len(found)} articles")
    return 0


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
    d = command("add", cmd_add, "add or replace articles from files (any supported format), re-embedding only those")
    d.add_argument("files", nargs="+", type=Path)
    d.add_argument("--no-replace", action="store_true", help="refuse articles whose id already exists")
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
