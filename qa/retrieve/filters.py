"""Metadata filters (date range, sources, articles, language) as a mask over passage rows.

Retrieval applies the mask inside its search, before the best k are taken (see hybrid.py), so a
filter that leaves few articles still returns the best k of those. The per-row metadata is read
from the store once per index version (`Catalogue`) and kept as arrays, so a filter costs a few
vector operations, not a query per passage.
"""
from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, fields
from datetime import date
from urllib.parse import urlsplit

import numpy as np

from qa.ingest.text import fold
from qa.retrieve.times import named_year

MAX_LIST = 100
NO_DATE = -1
SORTS = ("id", "title", "date")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}")


class FilterError(ValueError):
    """A filter that cannot be applied; `field` names the offending key."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    """What a question may be answered from; every field empty means everything."""

    date_from: date | None = None
    date_to: date | None = None
    sources: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    language: str | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def to_dict(self) -> dict:
        """The filters as the API echoes them (ISO dates, lists)."""
        return {"date_from": self.date_from and self.date_from.isoformat(),
                "date_to": self.date_to and self.date_to.isoformat(),
                "sources": list(self.sources), "articles": list(self.articles), "language": self.language}


def parse(raw: object) -> Filters:
    """Filters from their JSON form, or a FilterError naming the first bad field."""
    if raw is None:
        return Filters()
    if not isinstance(raw, dict):
        raise FilterError("filters", "\"filters\" must be an object such as {\"date_from\": \"2023-01-01\"}")
    known = {f.name for f in fields(Filters)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FilterError(unknown[0], f"unknown filter {unknown[0]!r}; known: {', '.join(sorted(known))}")
    found = Filters(date_from=_date(raw.get("date_from"), "date_from"), date_to=_date(raw.get("date_to"), "date_to"),
                    sources=_names(raw.get("sources"), "sources"), articles=_names(raw.get("articles"), "articles"),
                    language=_language(raw.get("language")))
    if found.date_from and found.date_to and found.date_from > found.date_to:
        raise FilterError("date_from", f"date_from {found.date_from} is after date_to {found.date_to}")
    return found


def _date(value: object, name: str) -> date | None:
    """An ISO calendar date (YYYY-MM-DD), or None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise FilterError(name, f"\"{name}\" {value!r} is not an ISO date such as \"2023-01-31\"")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, f"\"{name}\" {value!r} is not an ISO date such as \"2023-01-31\"") from None


def _names(value: object, name: str) -> tuple[str, ...]:
    """A list of at most MAX_LIST non-empty strings (a single string counts as a list of one)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise FilterError(name, f"\"{name}\" must be a list of non-empty strings")
    if len(value) > MAX_LIST:
        raise FilterError(name, f"\"{name}\" lists {len(value)} values; at most {MAX_LIST} are allowed")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _language(value: object) -> str | None:
    """A language code such as "vi" or "en"."""
    if value is None:
        return None
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise FilterError("language", "\"language\" must be a language code such as \"vi\" or \"en\"")
    return value.lower()


def listed(summaries: list[dict], keep: np.ndarray | None, words: str = "", sort: str = "id") -> list[dict]:
    """Article summaries (in id order) that pass a mask and hold every word given in the title, sorted as asked."""
    if sort not in SORTS:
        raise FilterError("sort", f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    wanted = fold(words).lower().split()
    found = [s for i, s in enumerate(summaries) if (keep is None or keep[i])
             and all(w in fold(s["title"] or "").lower() for w in wanted)]
    if sort == "date":
        dated = sorted((s for s in found if s["date"]), key=lambda s: s["date"][:19], reverse=True)
        return dated + [s for s in found if not s["date"]]
    if sort == "id":
        return found
    return sorted(found, key=lambda s: (fold(s["title"] or "").lower(), s["id"]))


def day_number(iso: str | None) -> int:
    """Days since 0001-01-01 of an ISO date or date-time, NO_DATE when absent or unreadable."""
    try:
        return date.fromisoformat(iso[:10]).toordinal() if iso else NO_DATE
    except ValueError:
        return NO_DATE


def host(url: str | None) -> str | None:
    """The site of an address, without "www.", as sources are named in filters."""
    try:
        name = urlsplit(url).hostname if url else None
    except ValueError:  # not an address (such as "[x"): it names no host
        return None
    return name.removeprefix("www.") if name else None


class Catalogue:
    """Per-row article metadata of one index version, as arrays a filter is evaluated on."""

    def __init__(self, rows: int, owners: dict[str, np.ndarray], articles: list[dict]):
        self.rows = rows
        self.article_of = np.full(rows, -1, dtype=np.int64)
        for number, a in enumerate(articles):
            self.article_of[owners.get(a["id"], np.zeros(0, dtype=np.int64))] = number
        self.ids = np.array([a["id"] for a in articles] + [""], dtype=object)
        self.days = np.array([day_number(a["date"]) for a in articles] + [NO_DATE], dtype=np.int64)
        self.title_years = np.array([named_year(a["title"] or "") or NO_DATE for a in articles] + [NO_DATE],
                                    dtype=np.int64)
        self.hosts = np.array([host(a.get("url")) or "" for a in articles] + [""], dtype=object)
        self.sources = np.array([(a.get("source") or "").lower() for a in articles] + [""], dtype=object)
        self.languages = np.array([a.get("language") or "" for a in articles] + [""], dtype=object)

    def _per_article(self, values: np.ndarray) -> np.ndarray:
        """An article-level array spread over rows (rows of no live article map to the sentinel)."""
        return values[self.article_of]

    def day_of_rows(self) -> np.ndarray:
        """The article date of every row, as a day number (NO_DATE when undated)."""
        return self._per_article(self.days)

    def title_year_of_rows(self) -> np.ndarray:
        """The year each row's article title says it is about (NO_DATE when it names none)."""
        return self._per_article(self.title_years)

    def article_mask(self, filters: Filters) -> tuple[np.ndarray, int]:
        """Which articles pass the filters, and how many were left out only for having no date."""
        keep = np.ones(len(self.ids), dtype=bool)
        keep[-1] = False
        if filters.articles:
            keep &= np.isin(self.ids, list(filters.articles))
        if filters.sources:
            names = [s.lower() for s in filters.sources]
            hosts = [host(s if "://" in s else f"http://{s}") for s in filters.sources]
            keep &= np.isin(self.hosts, hosts) | np.isin(self.sources, names)
        if filters.language:
            keep &= self.languages == filters.language
        undated = 0
        if filters.date_from or filters.date_to:
            dated = self.days != NO_DATE
            undated = int((keep & ~dated).sum())
            low = filters.date_from.toordinal() if filters.date_from else 0
            high = filters.date_to.toordinal() if filters.date_to else date.max.toordinal()
            keep &= dated & (self.days >= low) & (self.days <= high)
        return keep, undated

    def mask(self, filters: Filters) -> tuple[np.ndarray, int]:
        """Rows whose article passes the filters, and the count of undated articles a date filter left out."""
        keep, undated = self.article_mask(filters)
        return self._per_article(keep), undated


_CATALOGUES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def catalogue(index) -> Catalogue:
    """The index version's catalogue, read from its store the first time a filter needs it."""
    with _LOCK:
        found = _CATALOGUES.get(index)
        if found is None:
            rows, owners = index.store.row_articles()
            by_article: dict[str, list[int]] = {}
            for row, article_id in zip(rows.tolist(), owners):
                by_article.setdefault(article_id, []).append(row)
            found = Catalogue(index.dense.rows, {a: np.array(r, dtype=np.int64) for a, r in by_article.items()},
                              index.store.summaries())
            _CATALOGUES[index] = found
        return found
