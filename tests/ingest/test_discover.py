"""Tests for qa.ingest.discover: feeds, sitemaps and pages of a real news site on loopback."""
from datetime import UTC, date

import pytest
from news_site import FAULT_PATHS, NewsSite
from test_fetch import FAST

from qa.ingest.discover import discover
from qa.ingest.fetch import Fetcher


@pytest.fixture(scope="module")
def site():
    with NewsSite() as running:
        yield running


@pytest.fixture
def fetcher():
    client = Fetcher(FAST)
    yield client
    client.close()


def _paths(found, site):
    return [a.url.removeprefix(site.base) for a in found.articles]


def test_rss_feed_lists_every_story_newest_first_with_dates(site, fetcher):
    found = discover(fetcher, site.url("/feed.rss"))
    assert found.kind == "feed" and not found.problems
    assert _paths(found, site) == [s.path for s in sorted(site.stories, key=lambda s: s.published, reverse=True)]
    assert all(a.date is not None for a in found.articles)


def test_atom_feed(site, fetcher):
    found = discover(fetcher, site.url("/feed.atom"))
    assert found.kind == "feed" and sorted(_paths(found, site)) == sorted(s.path for s in site.stories)


def test_sitemap_index_follows_its_sitemaps(site, fetcher):
    found = discover(fetcher, site.url("/sitemap.xml"))
    assert found.kind == "sitemap" and not found.problems
    assert _paths(found, site) == [s.path for s in site.stories] + FAULT_PATHS


def test_since_leaves_out_older_entries(site, fetcher):
    found = discover(fetcher, site.url("/feed.rss"), since=date(2024, 5, 20))
    newest = [s.path for s in site.stories if s.published.astimezone(UTC).date() >= date(2024, 5, 20)]
    assert 0 < len(found.articles) < len(site.stories)
    assert sorted(_paths(found, site)) == sorted(newest)


def test_malformed_feed_is_a_problem_not_a_crash(site, fetcher):
    found = discover(fetcher, site.url("/feed-broken.rss"))
    assert found.articles == [] and len(found.problems) == 1
    assert "malformed feed XML" in found.problems[0]


def test_a_page_is_its_own_article_and_is_fetched_once(site, fetcher):
    before = site.hits("/news/seed-3.html")
    found = discover(fetcher, site.url("/news/seed-3.html"))
    assert found.kind == "page" and _paths(found, site) == ["/news/seed-3.html"]
    assert found.page is not None and site.hits("/news/seed-3.html") == before + 1


def test_unreachable_source_is_a_problem(site, fetcher):
    found = discover(fetcher, site.url("/missing.html"))
    assert found.articles == [] and "HTTP 404" in found.problems[0]
