"""What the crawler remembers between runs, in `<index_dir>/crawl.sqlite`: pages, web articles and sources.

Pages keep their ETag / Last-Modified and content hash so a rerun sends conditional requests and
skips unchanged pages; web articles keep their content hash and MinHash so copies found later are
recognised; sources are the feeds and sitemaps operators registered for the scheduled refresh. A
crawl writes its pages and articles only after its index version is published, so a killed crawl
leaves nothing that would make its rerun skip a page that never reached the index.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

FILE = "crawl.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, article_id TEXT, etag TEXT, last_modified TEXT,
                                  content_hash TEXT, fetched_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, url TEXT NOT NULL, content_hash TEXT NOT NULL,
                                     minhash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources (id TEXT PRIMARY KEY, url TEXT NOT NULL UNIQUE, added_at TEXT NOT NULL,
                                    last_run TEXT, last_report TEXT);
"""


@dataclass
class PageState:
    """A page fetched by an earlier run."""

    url: str
    article_id: str | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    fetched_at: str


@dataclass
class KnownArticle:
    """A web article in the index: its address, content hash and MinHash signature."""

    id: str
    url: str
    content_hash: str
    minhash: np.ndarray


def now() -> str:
    """UTC time, to the second, as ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def source_id(url: str) -> str:
    """A source's stable id: a hash of its address."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


class State:
    """The crawl state of one index folder (SQLite, safe to open from several processes)."""

    def __init__(self, index_dir: Path):
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(index_dir) / FILE
        self.con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self.con.close()

    def pages(self) -> dict[str, PageState]:
        """Every page fetched before, by URL."""
        return {r[0]: PageState(*r) for r in self.con.execute(
            "SELECT url, article_id, etag, last_modified, content_hash, fetched_at FROM pages")}

    def known_articles(self) -> list[KnownArticle]:
        """Every web article the crawler has put in the index."""
        return [KnownArticle(i, u, h, np.frombuffer(m, dtype=np.uint64))
                for i, u, h, m in self.con.execute("SELECT id, url, content_hash, minhash FROM articles")]

    def save_run(self, pages: list[PageState], known: list[KnownArticle]) -> None:
        """Record a published run's pages and articles in one transaction."""
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?)",
                                 [(p.url, p.article_id, p.etag, p.last_modified, p.content_hash, p.fetched_at)
                                  for p in pages])
            self.con.executemany("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?)",
                                 [(k.id, k.url, k.content_hash, k.minhash.astype(np.uint64).tobytes())
                                  for k in known])

    def add_source(self, url: str) -> dict:
        """Register a source (registering it again changes nothing); returns it."""
        with self.con:
            self.con.execute("INSERT OR IGNORE INTO sources (id, url, added_at) VALUES (?, ?, ?)",
                             (source_id(url), url, now()))
        return self.source(source_id(url))

    def source(self, sid: str) -> dict | None:
        """One registered source with its last run's summary, or None."""
        found = [s for s in self.sources() if s["id"] == sid]
        return found[0] if found else None

    def sources(self) -> list[dict]:
        """Every registered source, oldest first."""
        return [{"id": i, "url": u, "added_at": a, "last_run": r, "last_report": json.loads(rep) if rep else None}
                for i, u, a, r, rep in self.con.execute(
                    "SELECT id, url, added_at, last_run, last_report FROM sources ORDER BY added_at, id")]

    def remove_source(self, sid: str) -> bool:
        """Forget a source (its articles stay in the index); False when there was none."""
        with self.con:
            return self.con.execute("DELETE FROM sources WHERE id = ?", (sid,)).rowcount > 0

    def record_source_run(self, urls: list[str], summary: dict) -> None:
        """Note when the sources were last crawled and what came of it."""
        with self.con:
            self.con.executemany("UPDATE sources SET last_run = ?, last_report = ? WHERE url = ?",
                                 [(now(), json.dumps(summary), u) for u in urls])
