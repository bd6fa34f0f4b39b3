"""One crawl run: discover the articles behind some sources, fetch the new or changed ones, publish once.

Pages are fetched by a few threads through the polite fetcher; each answer is then handled in the
order the sources listed it, so the first site to carry a story keeps it and later copies become its
alternate sources. An article's id is a hash of its canonical URL, so a page fetched again replaces
itself. Copies under other URLs are found by a content hash and, for near-copies, by MinHash. The
run publishes one index version (qa.index.versions.update) and only then records its pages in the
crawl state, so a run killed half-way leaves the previous version served and its rerun fetches
again whatever did not reach the index. One page's failure is one line of the report, never the end
of the run.
"""
from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from datasketch import MinHash, MinHashLSH
from tqdm import tqdm

from qa.config import Config
from qa.index import versions as index_mod
from qa.ingest import articles as articles_mod, pages
from qa.ingest.discover import discover
from qa.ingest.fetch import Fetcher, FetchError, Policy, Response
from qa.ingest.state import KnownArticle, PageState, State
from qa.ingest.text import words

HTML_TYPES = ("text/html", "application/xhtml+xml", "")
NEAR_DUPLICATE = 0.8
_PERMUTATIONS = 128
_SHINGLE = 5
_SCHEME = "affine32"
STATUSES = ("fetched", "unchanged", "duplicate", "robots", "failed")


@dataclass
class Report:
    """What a run did, page by page, and the index version it published (None when nothing changed)."""

    items: list[dict] = field(default_factory=list)
    version: str | None = None
    counts: dict | None = None

    def add(self, url: str, status: str, message: str, article_id: str | None = None) -> None:
        """One page's outcome."""
        self.items.append({"url": url, "status": status, "message": message, "article_id": article_id})

    def totals(self) -> dict[str, int]:
        """How many pages ended in each status."""
        return {s: sum(1 for i in self.items if i["status"] == s) for s in STATUSES}

    def summary(self) -> str:
        """One line for people."""
        t = self.totals()
        where = f"published index {self.version}" if self.version else "index unchanged"
        return (f"crawl: {t['fetched']} fetched, {t['unchanged']} unchanged, {t['duplicate']} duplicate, "
                f"{t['robots']} disallowed by robots.txt, {t['failed']} failed; {where}")

    def to_dict(self) -> dict:
        """The machine-readable report (`--json`, the API)."""
        return {"version": self.version, "totals": self.totals(), "counts": self.counts, "items": self.items}


def policy(config: Config) -> Policy:
    """The fetch policy a configuration asks for."""
    return Policy(delay=config.crawl_delay_ms / 1000, allow_private=config.allow_private_urls)


def article_id(canonical_url: str) -> str:
    """A web article's id: a stable hash of its canonical URL."""
    return "web-" + hashlib.sha256(canonical_url.encode()).hexdigest()[:16]


def parse_interval(text: str) -> int:
    """Seconds in "90", "90s", "15m", "6h" or "1d"."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"interval {text!r} is not a positive number of seconds, minutes, hours or days "
                         "(like 90s, 15m, 6h, 1d)")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]


def crawl(config: Config, embedder, sources: list[str], max_pages: int | None = None, since: date | None = None,
          fetch_policy: Policy | None = None, progress: bool = False, direct: bool = False,
          extra: list[articles_mod.Article] = ()) -> Report:
    """Discover, fetch, deduplicate and publish; `direct` takes the URLs as article pages (`qa add URL`).

    `extra` articles (from files given beside URLs) are published in the same version.
    """
    state = State(config.index_dir)
    fetcher = Fetcher(fetch_policy or policy(config))
    try:
        run = _Run(config, state, Report())
        run.added.update({a.id: a for a in extra})
        targets = _targets(fetcher, run, sources, since, direct)
        targets = _ordered(targets, run.seen, max_pages)
        pool = ThreadPoolExecutor(fetcher.policy.concurrency)
        try:
            with tqdm(total=len(targets), unit="page", desc="crawling", disable=not progress,
                      dynamic_ncols=True) as bar:
                futures = [(url, pool.submit(_fetch, fetcher, url, run.seen.get(url), pre)) for url, pre in targets]
                for url, future in futures:
                    run.handle(url, future.result())
                    bar.update()
                    bar.set_postfix(run.report.totals(), refresh=False)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # an interrupted run does not fetch the rest first
        run.publish(embedder)
        return run.report
    finally:
        fetcher.close()
        state.close()


def _targets(fetcher: Fetcher, run: _Run, sources: list[str], since: date | None,
             direct: bool) -> list[tuple[str, Response | None]]:
    """Article URLs behind the sources (a page source comes with its already-fetched answer)."""
    if direct:
        return [(url, None) for url in sources]
    targets = []
    for source in sources:
        found = discover(fetcher, source, since)
        for problem in found.problems:
            run.report.add(source, "failed", problem)
        pre = found.page if found.kind == "page" else None
        targets += [(a.url, pre if pre is not None and a.url == pre.url else None) for a in found.articles]
    return targets


def _ordered(targets: list[tuple[str, Response | None]], seen: dict[str, PageState],
             max_pages: int | None) -> list[tuple[str, Response | None]]:
    """Each URL once, pages never fetched before first, at most `max_pages`."""
    unique = list({url: pre for url, pre in targets}.items())
    unique.sort(key=lambda t: t[0] in seen)
    return unique[:max_pages] if max_pages else unique


def _fetch(fetcher: Fetcher, url: str, before: PageState | None, pre: Response | None) -> Response | FetchError:
    """One page, conditionally when fetched before; the error instead of raising it."""
    if pre is not None and before is None:
        return pre
    try:
        return fetcher.get(url, before.etag if before else None, before.last_modified if before else None)
    except FetchError as exc:
        return exc


class _Run:
    """The articles, copies and page records of one run, kept until it is published."""

    def __init__(self, config: Config, state: State, report: Report):
        self.config, self.state, self.report = config, state, report
        self.live = live = index_mod.current_ids(config)
        self.seen = {u: p for u, p in state.pages().items() if p.article_id in live}
        self.known = {k.id: k for k in state.known_articles() if k.id in live}
        self.by_hash = {k.content_hash: k.id for k in self.known.values()}
        self.lsh = MinHashLSH(threshold=NEAR_DUPLICATE, num_perm=_PERMUTATIONS)
        for k in self.known.values():
            self.lsh.insert(k.id, MinHash(num_perm=_PERMUTATIONS, scheme=_SCHEME, hashvalues=k.minhash))
        self.added: dict[str, articles_mod.Article] = {}
        self.alternates: dict[str, list[str]] = {}
        self.pages: list[PageState] = []

    def handle(self, url: str, answer: Response | FetchError) -> None:
        """Sort one fetched page into fetched, unchanged, duplicate, robots or failed."""
        if isinstance(answer, FetchError):
            status = "robots" if answer.kind == "robots" else "failed"
            self.report.add(url, status, str(answer))
            return
        before = self.seen.get(url)
        if answer.status == 304 and before is None:
            self.report.add(url, "failed", f"{url}: answered 304 to a request that was not conditional; skipped")
            return
        if answer.status == 304:
            self.report.add(url, "unchanged", f"{url}: not modified since {before.fetched_at if before else '?'}",
                            before.article_id if before else None)
            return
        if answer.content_type not in HTML_TYPES:
            self.report.add(url, "failed", f"{url}: not an HTML page ({answer.content_type}); skipped")
            return
        page = pages.read(answer.text or answer.content, answer.url)
        canonical = page.url or answer.url
        article = articles_mod.from_page(page, article_id(canonical), page.site or urlsplit(canonical).netloc)
        if not article.text:
            self.report.add(url, "failed", f"{url}: no article text found in the page; skipped")
            return
        article.fetched_at = answer.fetched_at
        digest = _content_hash(article)
        record = PageState(url, article.id, answer.etag, answer.last_modified, digest, answer.fetched_at)
        indexed = self.known.get(article.id)
        if indexed is not None and indexed.content_hash == digest and article.id not in self.added:
            self.pages.append(record)
            self.report.add(url, "unchanged", f"{url}: the same text as article {article.id} already indexed",
                            article.id)
            return
        self._place(url, article, digest, record)

    def _place(self, url: str, article: articles_mod.Article, digest: str, record: PageState) -> None:
        """A new article, or an alternate source of one already known (same canonical URL, same or near text)."""
        signature = _minhash(article)
        original = self._original(article, digest, signature)
        if original is not None:
            record.article_id = original
            self.pages.append(record)
            self.alternates.setdefault(original, []).append(article.url or url)
            self.report.add(url, "duplicate", f"{url}: the same story as article {original}; "
                                              "listed as an alternate source", original)
            return
        if article.id in self.lsh:
            self.lsh.remove(article.id)
        self.lsh.insert(article.id, signature)
        self.known[article.id] = KnownArticle(article.id, article.url, digest, signature.hashvalues)
        self.by_hash[digest] = article.id
        self.added[article.id] = article
        self.pages.append(record)
        self.report.add(url, "fetched", f"{url}: {article.title or '(no title)'}", article.id)

    def _original(self, article: articles_mod.Article, digest: str, signature: MinHash) -> str | None:
        """The id of the article this one copies, if any (this run's, or one indexed before)."""
        if article.id in self.added:
            return article.id
        by_hash = self.by_hash.get(digest)
        if by_hash is not None and by_hash != article.id:
            return by_hash
        for other in self.lsh.query(signature):
            stored = MinHash(num_perm=_PERMUTATIONS, scheme=_SCHEME, hashvalues=self.known[other].minhash)
            if other != article.id and signature.jaccard(stored) >= NEAR_DUPLICATE:
                return other
        return None

    def publish(self, embedder) -> None:
        """One index version with the new and changed articles (and originals with new alternates), then the state.

        An article fetched again keeps the alternate sources found for it before."""
        stored = {a.id: a for a in index_mod.current_articles(
            self.config, [i for i in {*self.alternates, *self.added} if i in self.live])}
        for original in self.alternates:
            if original not in self.added and original in stored:
                self.added[original] = stored[original]
        for article in self.added.values():
            kept = stored[article.id].alternates if article.id in stored else []
            urls = dict.fromkeys([*article.alternates, *kept, *self.alternates.get(article.id, [])])
            article.alternates = [u for u in urls if u != article.url]
        if self.added:
            manifest = index_mod.update(self.config, embedder, add=list(self.added.values()), replace=True)
            self.report.version, self.report.counts = manifest["version"], manifest["counts"]
        self.state.save_run(self.pages, [self.known[i] for i in self.added if i in self.known])


def _content_hash(article: articles_mod.Article) -> str:
    """The text in matching form, hashed: equal for copies that differ only in spacing, case or accents' encoding."""
    return hashlib.sha256(" ".join(words(article.text)).encode()).hexdigest()


def _minhash(article: articles_mod.Article) -> MinHash:
    """MinHash of the text's word 5-shingles, to find copies with small edits."""
    tokens = words(article.text)
    shingles = {" ".join(tokens[i:i + _SHINGLE]) for i in range(max(1, len(tokens) - _SHINGLE + 1))}
    signature = MinHash(num_perm=_PERMUTATIONS, scheme=_SCHEME)
    signature.update_batch([s.encode() for s in shingles])
    return signature
