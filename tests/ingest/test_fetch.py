"""Tests for qa.ingest.fetch: the polite, safe fetcher, against a real news site on loopback."""
import time

import pytest
from news_site import NewsSite

from qa.ingest.fetch import USER_AGENT, Fetcher, FetchError, Policy

FAST = Policy(delay=0.01, connect_timeout=1, read_timeout=1, max_bytes=1024 * 1024, retries=2, backoff=0.01,
              allow_private=True)


@pytest.fixture(scope="module")
def site():
    with NewsSite() as running:
        yield running


@pytest.fixture
def fetcher():
    client = Fetcher(FAST)
    yield client
    client.close()


def _error(fetcher, url) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.get(url)
    return caught.value


def test_page_with_validators_then_304(site, fetcher):
    first = fetcher.get(site.url("/news/seed-0.html"))
    assert first.status == 200 and first.content_type == "text/html" and first.charset == "utf-8"
    assert first.etag and first.last_modified and b"<h1" in first.content
    again = fetcher.get(site.url("/news/seed-0.html"), etag=first.etag)
    assert again.status == 304 and again.content == b""


def test_robots_txt_is_obeyed(site, fetcher):
    error = _error(fetcher, site.url("/private/secret.html"))
    assert error.kind == "robots" and "robots.txt" in str(error)
    assert fetcher.get(site.url("/news/seed-1.html")).status == 200
    assert "/private/secret.html" not in site.requests


def test_page_that_never_answers_times_out(site, fetcher):
    started = time.monotonic()
    error = _error(fetcher, site.url("/slow.html"))
    assert error.kind == "timeout" and "no answer within 1 s" in str(error)
    assert time.monotonic() - started < 5


def test_404_is_not_retried(site, fetcher):
    before = site.hits("/missing.html")
    error = _error(fetcher, site.url("/missing.html"))
    assert (error.kind, error.status) == ("http", 404) and "HTTP 404" in str(error)
    assert site.hits("/missing.html") == before + 1


def test_500_then_200_is_retried(site, fetcher):
    answer = fetcher.get(site.url("/flaky.html"))
    assert answer.status == 200 and site.flaky_calls == 2


def test_429_waits_as_long_as_retry_after_says(site, fetcher):
    started = time.monotonic()
    answer = fetcher.get(site.url("/busy.html"))
    assert answer.status == 200 and site.hits("/busy.html") == 2
    assert time.monotonic() - started >= 1.0  # Retry-After: 1, although the backoff alone would be 0.01 s


def test_retry_after_beyond_the_limit_is_reported_at_once(site):
    impatient = Fetcher(Policy(delay=0, connect_timeout=1, read_timeout=1, max_retry_after=0.5, allow_private=True))
    try:
        started = time.monotonic()
        with pytest.raises(FetchError, match="HTTP 429"):
            impatient.get(site.url("/busy.html?again"))
        assert time.monotonic() - started < 1.0
    finally:
        impatient.close()


def test_redirect_loop_stops_at_the_limit(site, fetcher):
    error = _error(fetcher, site.url("/loop-a"))
    assert error.kind == "redirects" and "more than 5 redirects" in str(error)


def test_huge_page_is_refused_while_reading(site, fetcher):
    error = _error(fetcher, site.url("/huge.html"))
    assert error.kind == "too_large" and "1,048,576" in str(error)


def test_windows_1258_page_is_decoded_by_its_declared_charset(site, fetcher):
    answer = fetcher.get(site.url("/vi-1258.html"))
    assert answer.charset == "windows-1258" and "Long Xuyên" in answer.text


def test_only_http_and_https(fetcher):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://x"):
        assert _error(fetcher, url).kind == "refused"


def test_private_and_loopback_addresses_are_refused_by_default(site):
    strict = Fetcher(Policy(delay=0, connect_timeout=1, read_timeout=1))
    before = len(site.requests)
    try:
        for url in (site.url("/news/seed-0.html"), "http://localhost:9/", "http://169.254.169.254/latest/"):
            error = _error(strict, url)
            assert error.kind == "refused" and "--allow-private" in str(error)
    finally:
        strict.close()
    assert len(site.requests) == before


def test_user_agent_names_the_project(site, fetcher):
    fetcher.get(site.url("/news/seed-2.html"))
    assert USER_AGENT.startswith("qa-news-bot/") and site.agents[-1] == USER_AGENT


def test_per_host_delay_spaces_requests(site):
    polite = Fetcher(Policy(delay=0.3, connect_timeout=1, read_timeout=1, allow_private=True))
    try:
        polite.get(site.url("/robots.txt"), robots=False)
        started = time.monotonic()
        polite.get(site.url("/robots.txt"), robots=False)
        polite.get(site.url("/robots.txt"), robots=False)
        assert time.monotonic() - started >= 0.55
    finally:
        polite.close()
