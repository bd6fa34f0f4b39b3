"""Articles and passages of one index version, in SQLite so workers share pages instead of copies."""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from qa.ingest.articles import Article
from qa.ingest.passages import Passage

SCHEMA = """
CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, date TEXT,
                       author TEXT, url TEXT, captions TEXT NOT NULL, source TEXT NOT NULL, language TEXT,
                       fetched_at TEXT, alternates TEXT NOT NULL);
CREATE TABLE passages (row INTEGER PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
                       start INTEGER NOT NULL, end INTEGER NOT NULL, hash TEXT NOT NULL,
                       first_sentence INTEGER NOT NULL, sentences INTEGER NOT NULL);
CREATE INDEX passages_by_article ON passages (article_id, idx);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, passage_row INTEGER NOT NULL, start INTEGER NOT NULL,
                        end INTEGER NOT NULL);
"""
_PASSAGE = ("SELECT p.row, p.article_id, p.idx, p.start, p.end, p.hash, p.first_sentence, p.sentences, a.title, "
            "a.date, a.language, a.url, a.source, substr(a.text, p.start + 1, p.end - p.start) "
            "FROM passages p JOIN articles a ON a.id = p.article_id")
_ARTICLE_FIELDS = ("id", "title", "text", "date", "author", "url", "captions", "source", "language", "fetched_at",
                   "alternates")


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
        con.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        ((a.id, a.title, a.text, a.date, a.author, a.url, json.dumps(a.captions, ensure_ascii=False),
                          a.source, a.language, a.fetched_at, json.dumps(a.alternates)) for a in articles))
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


class Store:
    """Read-only view of one segment of a published version; one connection per thread.

    Rows are given and returned as the version numbers them: a delta segment's rows and sentence
    rows follow the base's (`offset`, `sentence_offset`).
    """

    def __init__(self, path: Path, offset: int = 0, sentence_offset: int = 0):
        self.path = Path(path)
        self.offset, self.sentence_offset = offset, sentence_offset
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

    def _passage(self, r: tuple) -> dict:
        """A passage row as the API and answer code use it."""
        row, article_id, idx, start, end, hash_, first, count, title, date, language, url, source, text = r
        first += self.sentence_offset
        return dict(row=row + self.offset, id=f"{article_id}:{idx}", article_id=article_id, index=idx, start=start,
                    end=end, hash=hash_, sentences=range(first, first + count), title=title, date=date,
                    language=language, original_url=url, source=source, text=text)

    def passages(self, rows: list[int]) -> list[dict]:
        """Passages by vector row, in the order asked."""
        if not rows:
            return []
        found = {p["row"]: p for p in map(self._passage, self.con.execute(
            f"{_PASSAGE} WHERE p.row IN (SELECT value FROM json_each(?))",
            (json.dumps([int(r) - self.offset for r in rows]),)))}
        return [found[int(r)] for r in rows]

    def article_passages(self, article_id: str) -> list[dict]:
        """An article's passages in reading order."""
        return [self._passage(r) for r in self.con.execute(f"{_PASSAGE} WHERE p.article_id = ? ORDER BY p.idx",
                                                           (article_id,))]

    def rows_of(self, article_ids: Iterable[str]) -> np.ndarray:
        """Vector rows of all passages of some articles."""
        sql = "SELECT row FROM passages WHERE article_id IN (SELECT value FROM json_each(?))"
        return np.array([r for (r,) in self.con.execute(sql, (json.dumps(list(article_ids)),))],
                        dtype=np.int64) + self.offset

    def article(self, article_id: str) -> Article | None:
        """The whole cleaned article, or None."""
        r = self.con.execute(f"SELECT {', '.join(_ARTICLE_FIELDS)} FROM articles WHERE id = ?",
                             (article_id,)).fetchone()
        return _article(r) if r else None

    def articles(self, article_ids: Iterable[str] | None = None) -> Iterator[Article]:
        """Every article (or those named), in id order."""
        where = "" if article_ids is None else " WHERE id IN (SELECT value FROM json_each(?))"
        args = () if article_ids is None else (json.dumps(list(article_ids)),)
        for r in self.con.execute(f"SELECT {', '.join(_ARTICLE_FIELDS)} FROM articles{where} ORDER BY id", args):
            yield _article(r)

    def ids(self) -> list[str]:
        """Every article id, in order."""
        return [i for (i,) in self.con.execute("SELECT id FROM articles ORDER BY id")]

    def totals(self, article_ids: Iterable[str]) -> tuple[int, int]:
        """How many passages and sentences some articles have."""
        sql = "SELECT count(*), coalesce(sum(sentences), 0) FROM passages WHERE article_id IN (SELECT value FROM json_each(?))"
        passages, sentences = self.con.execute(sql, (json.dumps(list(article_ids)),)).fetchone()
        return passages, sentences

    def summaries(self) -> list[dict]:
        """Id, title, date, author and passage count of every article, without the text."""
        sql = ("SELECT a.id, a.title, a.date, a.author, a.url, a.source, a.language, count(p.row) FROM articles a "
               "LEFT JOIN passages p ON p.article_id = a.id GROUP BY a.id ORDER BY a.id")
        return [dict(id=i, title=t, date=d, author=au, url=u, source=so, language=lang, passages=n)
                for i, t, d, au, u, so, lang, n in self.con.execute(sql)]

    def row_articles(self) -> tuple[np.ndarray, list[str]]:
        """Every passage row with its article id, for per-row metadata arrays."""
        pairs = self.con.execute("SELECT row, article_id FROM passages ORDER BY row").fetchall()
        return np.array([r for r, _ in pairs], dtype=np.int64) + self.offset, [a for _, a in pairs]

    def sentence_spans(self, rows: range) -> list[tuple[int, int]]:
        """Article offsets of sentences by sentence row."""
        start = rows.start - self.sentence_offset
        return [(a, b) for a, b in self.con.execute("SELECT start, end FROM sentences WHERE row >= ? AND row < ? "
                                                    "ORDER BY row", (start, start + len(rows)))]

    def entries(self, article_ids: Iterable[str]) -> dict[str, list[Entry]]:
        """Stored passages (with hash and sentence spans) of some articles, to carry into a new version."""
        named = "(SELECT value FROM json_each(?))"
        ids = json.dumps(list(article_ids))
        spans: dict[int, list[tuple[int, int]]] = {}
        for passage_row, start, end in self.con.execute(
                f"SELECT s.passage_row, s.start, s.end FROM sentences s JOIN passages p ON p.row = s.passage_row "
                f"WHERE p.article_id IN {named} ORDER BY s.row", (ids,)):
            spans.setdefault(passage_row, []).append((start, end))
        out: dict[str, list[Entry]] = {}
        for r in self.con.execute(f"{_PASSAGE} WHERE p.article_id IN {named} ORDER BY p.row", (ids,)):
            p = self._passage(r)
            passage = Passage(p["article_id"], p["index"], p["start"], p["end"], p["text"])
            out.setdefault(p["article_id"], []).append(Entry(
                passage, p["hash"], [(a - p["start"], b - p["start"]) for a, b in spans.get(r[0], [])]))
        return out

    def hashes(self, wanted: Iterable[str]) -> dict[str, tuple[int, range]]:
        """Content hash -> vector row and sentence rows of the wanted hashes stored here, to reuse embeddings."""
        sql = ("SELECT row, hash, first_sentence, sentences FROM passages "
               "WHERE hash IN (SELECT value FROM json_each(?))")
        return {h: (row + self.offset, range(first + self.sentence_offset, first + self.sentence_offset + n))
                for row, h, first, n in self.con.execute(sql, (json.dumps(list(wanted)),))}

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
    values["alternates"] = json.loads(values["alternates"])
    return Article(**values)
