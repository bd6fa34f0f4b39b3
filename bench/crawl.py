"""Crawl a generated news site on loopback: pages per second, time to answer about a new article, peak memory.

    python bench/crawl.py [--articles 200] [--delay 0] [--concurrency 4]

Serves tests/news_site.py's site with N generated articles on 127.0.0.1, crawls its RSS feed into a
fresh index (fetch, trafilatura, dedup, embed, publish), then adds one story to the feed and times
crawl + switch + the first answer that cites the new article. `--delay` is the per-host delay
(1 s by default in the product; 0 here measures the pipeline, not the politeness).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from news_site import NewsSite, generated_story  # noqa: E402

from qa.config import Config  # noqa: E402
from qa.index.versions import current_folder  # noqa: E402
from qa.ingest.crawl import article_id, crawl  # noqa: E402
from qa.ingest.fetch import Policy  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.service import Service  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between two requests to the site")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    policy = Policy(delay=args.delay, concurrency=args.concurrency, allow_private=True)
    with tempfile.TemporaryDirectory() as folder, \
            NewsSite(stories=[generated_story(n) for n in range(args.articles)], faults=False) as site:
        config = Config.from_env(index_dir=Path(folder) / "index", allow_private_urls=True)
        embedder = Embedder.from_config(config)
        started = time.perf_counter()
        report = crawl(config, embedder, [site.url("/feed.rss")], fetch_policy=policy)
        took = time.perf_counter() - started
        pages = report.totals()["fetched"]
        built = _manifest(config)
        fetching = took - built["build_seconds"]
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in built["stage_seconds"].items())
        print(f"first crawl: {pages} pages in {took:.1f} s = {pages / took:.1f} pages/s end to end; "
              f"fetch + extract + dedup {fetching:.1f} s = {pages / fetching:.1f} pages/s; index build "
              f"{built['build_seconds']:.1f} s ({stages})")

        service = Service(config, embedder)
        new = generated_story(args.articles + 1000)
        question = f"{new.title} với tổng vốn đầu tư bao nhiêu tỷ đồng?"
        site.stories.append(new)
        started = time.perf_counter()
        again = crawl(config, embedder, [site.url("/feed.rss")], fetch_policy=policy)
        service.refresh()
        answer = service.ask(question)
        waited = time.perf_counter() - started
        top = answer["passages"][0]["article_id"] if answer["passages"] else None
        print(f"feed changed: {again.summary()}")
        print(f"time to first answer about the new article: {waited:.2f} s "
              f"(top passage from the new article: {top == article_id(site.url(new.path))})")
        print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _manifest(config: Config) -> dict:
    """The last published version's manifest (build seconds per stage)."""
    return json.loads((current_folder(config.index_dir) / "manifest.json").read_text())


if __name__ == "__main__":
    main()
