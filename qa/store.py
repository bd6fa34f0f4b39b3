"""Articles and passages of one index version, in SQLite so workers share pages instead of copies."""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Iterator

from .articles import Article
from .passages import Passage

SCHEMA = """
CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, date TEXT,
                       author TEXT, url TEXT, captions TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE passages (row INTEGER PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
                       start INTEGER NOT NULL, end INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE INDEX passages_by_article ON passages (article_id, idx);
"""
_PASSAGE = ("SELECT p.row, p.article_id, p.idx, p.start, p.end, p.hash, a.title, a.date, "
            "substr(a.text, p.start + 1, p.end - p.start) FROM passages p JOIN articles a ON a.id = p.article_id")
_ARTICLE_FIELDS = ("id", "title", "text", "date", "author", "url", "captions", "source")


def write(path: Path, articles: Iterable[Article], passages: Iterable[tuple[Passage, str]]) -> None:
    """Create a new store file; passage rows are numbered in the order given (the vector order)."""
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        ((a.id, a.title, a.text, a.date, a.author, a.url, json.dumps(a.captions,
                          ensure_ascii=False), a.source) for a in articles))
        con.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)",
                        ((row, p.article_id, p.index, p.start, p.end, h)
                         for row, (p, h) in enumerate(passages)))
        con.commit()
    finally:
        con.close()


def _passage(r: tuple) -> dict:
    """A passage row as the API and answer code use it."""
    row, article_id, idx, start, end, hash_, title, date, text = r
    return dict(row=row, id=f"{article_id}:{idx}", article_id=article_id, index=idx, start=start,
                end=end, hash=hash_, title=title, date=date, text=text)


class Store:
    """Read-only view of a published version; one connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    @property
    def con(self) -> sqlite3.Connection:
        """Published files never change, so `immutable` skips locking entirely."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                  check_same_thread=False)
            self._local.con = con
        return con

    def passages(self, rows: list[int]) -> list[dict]:
        """Passages by vector row, in the order asked."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        found = {r[0]: _passage(r) for r in self.con.execute(f"{_PASSAGE} WHERE p.row IN ({marks})",
                                                             [int(r) for r in rows])}
        return [found[int(r)] for r in rows]

    def article_passages(self, article_id: str) -> list[dict]:
        """An article's passages in reading order."""
        return [_passage(r) for r in self.con.execute(f"{_PASSAGE} WHERE p.article_id = ? ORDER BY p.idx",
                                                      (article_id,))]

    def article(self, article_id: str) -> Article | None:
        """The whole cleaned article, or None."""
        r = self.con.execute(f"SELECT {', '.join(_ARTICLE_FIELDS)} FROM articles WHERE id = ?",
                             (article_id,)).fetchone()
        return _article(r) if r else None

    def articles(self) -> Iterator[Article]:
        """Every article, in id order."""
        for r in self.con.execute(f"SELECT {', '.join(_ARTICLE_FIELDS)} FROM articles ORDER BY id"):
            yield _article(r)

    def summaries(self) -> list[dict]:
        """Id, title, date, author and passage count of every article, without the text."""
        sql = ("SELECT a.id, a.title, a.date, a.author, a.url, count(p.row) FROM articles a "
               "LEFT JOIN passages p ON p.article_id = a.id GROUP BY a.id ORDER BY a.id")
        return [dict(id=i, title=t, date=d, author=au, url=u, passages=n)
                for i, t, d, au, u, n in self.con.execute(sql)]

    def hashes(self) -> dict[str, int]:
        """Content hash -> vector row, to reuse embeddings across builds."""
        return {h: row for row, h in self.con.execute("SELECT row, hash FROM passages")}

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


def _article(r: tuple) -> Article:
    """Rebuild an Article from its row."""
    values = dict(zip(_ARTICLE_FIELDS, r))
    values["captions"] = json.loads(values["captions"])
    return Article(**values)
