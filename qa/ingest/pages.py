"""Read a web page, from a file or from the web, with trafilatura: the story's text and the page's metadata.

trafilatura finds the article body among menus, related links, share bars and comments far better
than hand-written rules, so the project adds only what the index needs on top of it: paragraphs as
blank-line separated text, an ISO date with its time when the page gives one, figure captions
(kept apart from the text) and the page's declared language.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import html as lxml_html

from qa.ingest.text import tidy

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_DATE_PARAMS = {"outputformat": _DATE_FORMAT, "original_date": True, "extensive_search": True}


@dataclass
class Page:
    """What trafilatura found in one page; empty `text` means no article body."""

    title: str
    text: str
    date: str | None = None
    author: str | None = None
    site: str | None = None
    url: str | None = None
    language: str | None = None
    captions: list[str] = field(default_factory=list)


def read(markup: str | bytes, url: str | None = None) -> Page:
    """Extract a page's story (precision first, no comments, tables as text) and its metadata.

    `url` is where the page came from: relative canonical links are resolved against it, and it is
    the page's address when the page names none.
    """
    import trafilatura  # about 0.8 s to import: only commands and workers that read a page pay for it

    tree = _parse(markup)
    if tree is None:
        return Page(title="", text="", url=_web_url(url))
    language = _language(tree)
    captions = list(dict.fromkeys(c for c in (tidy(" ".join(f.text_content().split()))
                                              for f in tree.iter("figcaption")) if c))
    doc = trafilatura.bare_extraction(tree, url=url, favor_precision=True, include_comments=False,
                                      include_tables=True, include_images=False, with_metadata=True,
                                      date_extraction_params=_DATE_PARAMS)
    if doc is None:
        return Page(title="", text="", url=_web_url(url), language=language, captions=captions)
    title = tidy(doc.title or "")
    paragraphs = [line for line in (tidy(p) for p in (doc.text or "").split("\n")) if line]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    return Page(title=title, text="\n\n".join(p for p in paragraphs if p not in captions), date=_iso(doc.date),
                author=tidy(doc.author or "") or None, site=tidy(doc.sitename or "") or None,
                url=canonical(doc.url, url), language=language, captions=captions)


def canonical(declared: str | None, fetched: str | None) -> str | None:
    """The page's own address for itself when it is a usable web address, else where it was fetched from."""
    for candidate in (urljoin(fetched or "", declared) if declared else None, fetched):
        usable = _web_url(candidate)
        if usable:
            return usable
    return None


def _web_url(url: str | None) -> str | None:
    """An http(s) address without its #fragment, or None."""
    if not url:
        return None
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _parse(markup: str | bytes):
    """An lxml tree of the page, or None when there is nothing to parse."""
    if isinstance(markup, bytes):
        from trafilatura.utils import decode_file

        markup = decode_file(markup)
    if not markup or not markup.strip():
        return None
    try:
        return lxml_html.document_fromstring(markup)
    except (ValueError, lxml_html.etree.ParserError):
        return None


def _language(tree) -> str | None:
    """The language the page declares (`<html lang="vi-VN">` gives "vi")."""
    declared = (tree.get("lang") or tree.get("xml:lang") or "").strip().lower()
    code = declared.replace("_", "-").split("-")[0]
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _iso(found: str | None) -> str | None:
    """htmldate's date as ISO 8601; a date without a known time stays a plain date."""
    if not found:
        return None
    try:
        when = datetime.strptime(found, _DATE_FORMAT)
    except ValueError:
        try:
            when = datetime.strptime(found, _DATE_FORMAT.removesuffix("%z"))
        except ValueError:
            return None
    if when.tzinfo is None and (when.hour, when.minute, when.second) == (0, 0, 0):
        return when.date().isoformat()
    return when.isoformat()
