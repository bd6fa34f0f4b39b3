"""Fetch web pages politely and safely: robots.txt, a delay per host, limits on time, size and redirects.

Every request names the project in its User-Agent, waits its turn for the host (`Policy.delay`, or
the robots.txt Crawl-delay when longer), sends the page's ETag / Last-Modified so an unchanged page
costs a 304, and retries 429 and 5xx answers with backoff, honouring Retry-After. Only http and https
are fetched, and addresses that resolve to loopback, private, link-local or other non-public ranges
are refused unless `allow_private` (tests, intranets). Redirects are followed by hand, so each hop is
checked the same way. Any failure is a `FetchError` whose message says what went wrong.
"""
from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib import robotparser
from urllib.parse import urljoin, urlsplit

import requests

from qa import __version__

USER_AGENT = f"qa-news-bot/{__version__} (question answering over news articles; python -m qa crawl)"
ROBOTS_AGENT = "qa-news-bot"
_REDIRECTS = (301, 302, 303, 307, 308)
_RETRIED = (429, 500, 502, 503, 504)


class FetchError(Exception):
    """A page that could not be fetched; `kind` sorts it in reports (robots, refused, timeout, too_large, http…)."""

    def __init__(self, url: str, kind: str, message: str, status: int | None = None):
        super().__init__(f"{url}: {message}")
        self.url, self.kind, self.status = url, kind, status


@dataclass(frozen=True)
class Policy:
    """How politely and how far to fetch; tests shorten the waits."""

    delay: float = 1.0
    concurrency: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    backoff: float = 1.0
    max_retry_after: float = 60.0
    allow_private: bool = False
    user_agent: str = USER_AGENT


@dataclass
class Response:
    """A complete answer: status 200 with the whole body, or 304 (unchanged) with none."""

    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def text(self) -> str | None:
        """The body decoded with the charset the server declared, or None when it declared none."""
        if self.charset is None:
            return None
        try:
            return self.content.decode(self.charset, errors="replace")
        except LookupError:
            return None


class Fetcher:
    """One polite client shared by the threads of a crawl (the per-host schedule is shared too)."""

    def __init__(self, policy: Policy = Policy()):
        self.policy = policy
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"})
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._robots: dict[str, robotparser.RobotFileParser | FetchError] = {}
        self._robots_locks: dict[str, threading.Lock] = {}

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None,
            robots: bool = True) -> Response:
        """Fetch a URL (following redirects); raises FetchError for anything but a whole 200 or a 304."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(self.policy.max_redirects + 1):
            check_address(current, self.policy.allow_private)
            if robots:
                self._check_robots(current)
            answer = self._with_retries(current, headers)
            if answer.status_code in _REDIRECTS and answer.headers.get("Location"):
                answer.close()
                current = urljoin(current, answer.headers["Location"])
                continue
            return self._response(current, answer)
        raise FetchError(url, "redirects", f"more than {self.policy.max_redirects} redirects (a redirect loop?)")

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def _check_robots(self, url: str) -> None:
        """Raise FetchError(kind="robots") when robots.txt forbids the URL; robots.txt is read once per host."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:
            if origin not in self._robots:
                self._robots[origin] = self._read_robots(origin)
        rules = self._robots[origin]
        if isinstance(rules, FetchError):
            raise FetchError(url, "robots", f"not fetched: {rules.args[0]}")
        if not rules.can_fetch(ROBOTS_AGENT, url):
            raise FetchError(url, "robots", "robots.txt of the site disallows it; skipped")

    def _read_robots(self, origin: str) -> robotparser.RobotFileParser | FetchError:
        """A missing robots.txt (4xx) allows everything; one that cannot be read (5xx, timeout) forbids all."""
        rules = robotparser.RobotFileParser(f"{origin}/robots.txt")
        try:
            answer = self.get(f"{origin}/robots.txt", robots=False)
        except FetchError as exc:
            if exc.kind == "http" and exc.status < 500:
                rules.parse([])
                return rules
            return FetchError(f"{origin}/robots.txt", "robots", f"robots.txt could not be read ({exc.args[0]})")
        rules.parse((answer.text or answer.content.decode("utf-8", "replace")).splitlines())
        return rules

    def _with_retries(self, url: str, headers: dict) -> requests.Response:
        """One request, retried on 429 / 5xx / connection failures with backoff (Retry-After when sent)."""
        attempt = 0
        while True:
            self._wait_turn(url)
            try:
                answer = self._session.get(url, headers=headers, stream=True, allow_redirects=False,
                                           timeout=(self.policy.connect_timeout, self.policy.read_timeout))
            except requests.Timeout:
                raise FetchError(url, "timeout", f"no answer within {self.policy.read_timeout:g} s") from None
            except requests.ConnectionError as exc:
                if attempt == self.policy.retries:
                    raise FetchError(url, "connection", f"connection failed ({_reason(exc)})") from None
                wait = None
            else:
                if answer.status_code not in _RETRIED or attempt == self.policy.retries:
                    return answer
                wait = _retry_after(answer.headers.get("Retry-After"))
                if wait is not None and wait > self.policy.max_retry_after:
                    return answer  # asked to come back much later: this run reports it instead of waiting
                answer.close()
            time.sleep(min(self.policy.max_retry_after, self.policy.backoff * 2 ** attempt if wait is None else wait))
            attempt += 1

    def _wait_turn(self, url: str) -> None:
        """Keep `delay` seconds (or the site's Crawl-delay) between two requests to one host."""
        parts = urlsplit(url)
        rules = self._robots.get(f"{parts.scheme}://{parts.netloc}")
        delay = self.policy.delay
        if isinstance(rules, robotparser.RobotFileParser):
            delay = max(delay, float(rules.crawl_delay(ROBOTS_AGENT) or 0))
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(parts.netloc, now))
            self._next_slot[parts.netloc] = slot + delay
        if slot > now:
            time.sleep(slot - now)

    def _response(self, url: str, answer: requests.Response) -> Response:
        """Read the whole body within the size limit, or raise; nothing partial is returned."""
        try:
            if answer.status_code == 304:
                return Response(url, 304, etag=answer.headers.get("ETag"),
                                last_modified=answer.headers.get("Last-Modified"))
            if answer.status_code != 200:
                raise FetchError(url, "http", f"HTTP {answer.status_code} {answer.reason or ''}".rstrip(),
                                 answer.status_code)
            content = self._body(url, answer)
            kind, _, params = answer.headers.get("Content-Type", "").partition(";")
            charset = next((v.strip().strip('"') for k, _, v in (p.partition("=") for p in params.split(";"))
                            if k.strip().lower() == "charset"), None)
            return Response(url, 200, content, kind.strip().lower(), charset or None, answer.headers.get("ETag"),
                            answer.headers.get("Last-Modified"))
        finally:
            answer.close()

    def _body(self, url: str, answer: requests.Response) -> bytes:
        """The body, refused past `max_bytes` or when the read takes too long overall."""
        limit = self.policy.max_bytes
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, "too_large", f"the page is {int(declared):,} bytes, over the limit of {limit:,}")
        deadline = time.monotonic() + self.policy.connect_timeout + self.policy.read_timeout
        chunks, size = [], 0
        try:
            for chunk in answer.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, "too_large", f"the page is over the limit of {limit:,} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(url, "timeout", "the page took too long to arrive")
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise FetchError(url, "truncated", f"the page arrived incomplete ({_reason(exc)}); not used") from None
        return b"".join(chunks)


def check_address(url: str, allow_private: bool = False) -> None:
    """Only http(s), and only public addresses unless private ones are allowed; FetchError says why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "refused", f"only http and https addresses are fetched, not {parts.scheme or '?'}:")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, "dns", f"host {parts.hostname} cannot be resolved ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise FetchError(url, "refused", f"host {parts.hostname} resolves to {address}, a loopback, private "
                                             "or link-local address; allow it with --allow-private "
                                             "(QA_ALLOW_PRIVATE_URLS=1 for the server)")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests error, short."""
    while exc.__context__ is not None and str(exc.__context__):
        exc = exc.__context__
    return str(exc)[:200]
