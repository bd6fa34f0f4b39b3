"""Find the article addresses behind a source: an RSS or Atom feed, a sitemap or sitemap index, or a page.

Feeds are read by feedparser; sitemaps by lxml over the polite fetcher (nested sitemap indexes are
followed to a small depth). A URL that is neither is taken as one article page. Each article comes
with the date its source gives, so `since` can leave old ones out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urljoin

import feedparser
from lxml import etree

from qa.ingest.fetch import Fetcher, FetchError, Response

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_MAX_DEPTH = 3
_MAX_SITEMAPS = 200
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


@dataclass
class Found:
    """One article address and the date its source gives (if any)."""

    url: str
    date: datetime | None = None


@dataclass
class Discovery:
    """What a source yielded: article addresses, the source's kind, problems met, and the page itself."""

    source: str
    kind: str = ""
    articles: list[Found] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    page: Response | None = None


def discover(fetcher: Fetcher, url: str, since: date | None = None) -> Discovery:
    """Article addresses behind `url`; a source that cannot be read is a problem in the result, not an exception."""
    found = Discovery(url)
    try:
        response = fetcher.get(url)
    except FetchError as exc:
        found.problems.append(f"source {exc}")
        return found
    _read(fetcher, response, found, depth=0)
    if since is not None:
        found.articles = [a for a in found.articles if a.date is None or a.date.date() >= since]
    found.articles = list({a.url: a for a in found.articles}.values())
    return found


def _read(fetcher: Fetcher, response: Response, found: Discovery, depth: int) -> None:
    """Sort the answer into sitemap, feed or page by what it holds."""
    root = _xml_root(response.content) if _looks_like_xml(response) else None
    if root is not None and root.tag in (f"{_SITEMAP_NS}urlset", f"{_SITEMAP_NS}sitemapindex"):
        found.kind = found.kind or "sitemap"
        _sitemap(fetcher, response.url, root, found, depth)
        return
    if _looks_like_xml(response):
        found.kind = found.kind or "feed"
        _feed(response, found)
        return
    if depth == 0:
        found.kind, found.page = "page", response
        found.articles.append(Found(response.url))


def _looks_like_xml(response: Response) -> bool:
    """XML by its content type, or by how the body starts when the server says text/html or nothing useful."""
    if "xml" in response.content_type:
        return True
    head = response.content[:512].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<rss") or head.startswith(b"<feed")


def _xml_root(content: bytes):
    """The parsed XML root, or None when the body is not well-formed XML."""
    try:
        return etree.fromstring(content, _XML_PARSER)
    except etree.XMLSyntaxError:
        return None


def _sitemap(fetcher: Fetcher, url: str, root, found: Discovery, depth: int) -> None:
    """A urlset lists articles; a sitemap index lists more sitemaps, read in turn up to a depth."""
    if root.tag == f"{_SITEMAP_NS}urlset":
        for entry in root.iter(f"{_SITEMAP_NS}url"):
            loc = entry.findtext(f"{_SITEMAP_NS}loc")
            if loc and loc.strip():
                found.articles.append(Found(urljoin(url, loc.strip()), _date(entry.findtext(f"{_SITEMAP_NS}lastmod"))))
        return
    children = [(e.findtext(f"{_SITEMAP_NS}loc") or "").strip() for e in root.iter(f"{_SITEMAP_NS}sitemap")]
    if depth >= _MAX_DEPTH:
        found.problems.append(f"sitemap {url}: sitemap indexes nested deeper than {_MAX_DEPTH}; not followed")
        return
    for child in [c for c in children if c][:_MAX_SITEMAPS]:
        try:
            response = fetcher.get(urljoin(url, child))
        except FetchError as exc:
            found.problems.append(f"sitemap {exc}")
            continue
        root_child = _xml_root(response.content)
        if root_child is None:
            found.problems.append(f"sitemap {response.url}: not well-formed XML; skipped")
            continue
        _sitemap(fetcher, response.url, root_child, found, depth + 1)


def _feed(response: Response, found: Discovery) -> None:
    """RSS or Atom entries; a feed feedparser cannot read at all is a problem, a damaged one keeps what it read."""
    parsed = feedparser.parse(response.content, response_headers={"content-location": response.url,
                                                                   "content-type": response.content_type})
    links = [(e.get("link"), e.get("published_parsed") or e.get("updated_parsed")) for e in parsed.entries]
    links = [(urljoin(response.url, link), when) for link, when in links if link]
    if parsed.bozo and not links:
        found.problems.append(f"feed {response.url}: malformed feed XML ({_bozo(parsed)}); no article found in it")
        return
    if parsed.bozo:
        found.problems.append(f"feed {response.url}: damaged feed XML ({_bozo(parsed)}); kept the "
                              f"{len(links)} entries that could be read")
    if not parsed.version and not links:
        found.problems.append(f"feed {response.url}: XML that is neither a feed nor a sitemap; nothing found")
        return
    for link, when in links:
        found.articles.append(Found(link, datetime(*when[:6], tzinfo=UTC) if when else None))


def _bozo(parsed) -> str:
    """feedparser's reason, short."""
    return str(parsed.get("bozo_exception", "unreadable"))[:160]


def _date(value: str | None) -> datetime | None:
    """A sitemap lastmod (W3C datetime or plain date), or None."""
    if not value or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text) if "T" in text else datetime.combine(date.fromisoformat(text),
                                                                                datetime.min.time())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
