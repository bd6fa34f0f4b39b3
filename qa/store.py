"""Articles and passages of one index version, in SQLite so workers share pages instead of copies."""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .articles import Article
from .passages import Passage

SCHEMA = """
CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, date TEXT,
                       author TEXT, url TEXT, captions TEXT NOT NULL, source TEXT NOT NULL, language TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
                       start INTEGER NOT NULL, end INTEGER NOT NULL, hash TEXT NOT NULL,
                       first_sentence INTEGER NOT NULL, sentences INTEGER NOT NULL);
CREATE INDEX passages_by_article ON passages (article_id, idx);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, passage_row INTEGER NOT NULL, start INTEGER NOT NULL,
                        end INTEGER NOT NULL);
"""
_PASSAGE = ("SELECT p.row, p.article_id, p.idx, p.start, p.end, p.hash, p.first_sentence, p.sentences, a.title, "
            "a.date, a.language, substr(a.text, p.start + 1, p.end - p.start) "
            "FROM passages p JOIN articles a ON a.id = p.article_id")
_ARTICLE_FIELDS = ("id", "title", "text", "date", "author", "url", "captions", "source", "language")


@dataclass
class Entry:
    """A passage to store: its content hash and its sentences' spans inside the passage text."""

    passage: Passage
    hash: str
    spans: list[tuple[int, int]]


def write(path: Path, articles: Iterable[Article], entries: list[Entry]) -> None:
    """Create a new store file; passage rows follow the vector order, sentence rows the sentence vectors."""
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        ((a.id, a.title, a.text, a.date, a.author, a.url, json.dumps(a.captions,
                          ensure_ascii=False), a.source, a.language) for a in articles))
        first = 0
        for row, e in enumerate(entries):
            p = e.passage
            con.execute("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (row, p.article_id, p.index, p.start, p.end, e.hash, first, len(e.spans)))
            con.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?)",
                            ((first + j, row, p.start + a, p.start + b) for j, (a, b) in enumerate(e.spans)))
            first += len(e.spans)
        con.commit()
    finally:
        con.close()


def _passage(r: tuple) -> dict:
    """A passage row as the API and answer code use it."""
    row, article_id, idx, start, end, hash_, first, count, title, date, language, text = r
    return dict(row=row, id=f"{article_id}:{idx}", article_id=article_id, index=idx, start=start,
                end=end, hash=hash_, sentences=range(first, first + count), title=title, date=date,
                language=language, text=text)


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

    def rows_of(self, article_ids: list[str]) -> np.ndarray:
        """Vector rows of all passages of some articles."""
        marks = ",".join("?" * len(article_ids))
        return np.array([r for (r,) in self.con.execute(f"SELECT row FROM passages WHERE article_id IN ({marks})",
                                                         list(article_ids))], dtype=np.int64)

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
        sql = ("SELECT a.id, a.title, a.date, a.author, a.url, a.language, count(p.row) FROM articles a "
               "LEFT JOIN passages p ON p.article_id = a.id GROUP BY a.id ORDER BY a.id")
        return [dict(id=i, title=t, date=d, author=au, url=u, language=lang, passages=n)
                for i, t, d, au, u, lang, n in self.con.execute(sql)]

    def sentence_spans(self, rows: range) -> list[tuple[int, int]]:
        """Article offsets of sentences by sentence row."""
        return [(a, b) for a, b in self.con.execute("SELECT start, end FROM sentences WHERE row >= ? AND row < ? "
                                                    "ORDER BY row", (rows.start, rows.stop))]

    def entries(self, article_ids: set[str]) -> dict[str, list[Entry]]:
        """Stored passages (with hash and sentence spans) of some articles, to carry into a new version."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for passage_row, start, end in self.con.execute("SELECT passage_row, start, end FROM sentences ORDER BY row"):
            spans.setdefault(passage_row, []).append((start, end))
        out: dict[str, list[Entry]] = {}
        for r in self.con.execute(f"{_PASSAGE} ORDER BY p.row"):
            p = _passage(r)
            if p["article_id"] in article_ids:
                passage = Passage(p["article_id"], p["index"], p["start"], p["end"], p["text"])
                out.setdefault(p["article_id"], []).append(
                    Entry(passage, p["hash"], [(a - p["start"], b - p["start"]) for a, b in spans.get(p["row"], [])]))
        return out

    def hashes(self) -> dict[str, tuple[int, range]]:
        """Content hash -> vector row and sentence rows, to reuse embeddings across builds."""
        return {h: (row, range(first, first + n))
                for row, h, first, n in self.con.execute("SELECT row, hash, first_sentence, sentences FROM passages")}

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
