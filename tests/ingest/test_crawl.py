"""Tests for qa.ingest.crawl: whole crawl runs against real news sites on loopback, with the real model."""
import json
import os
import signal
import subprocess
import sys
from dataclasses import replace

import pytest
from news_site import NewsSite, generated_story, seed_stories, wait_until
from test_fetch import FAST

from qa.index import versions as index_mod
from qa.ingest import state as state_mod
from qa.ingest.crawl import article_id, crawl
from qa.ingest.text import tidy

from conftest import ROOT


@pytest.fixture
def web_config(fresh_config):
    return replace(fresh_config, allow_private_urls=True, crawl_delay_ms=10)


def _by_status(report, status):
    return sorted(i["url"] for i in report.items if i["status"] == status)


def test_sitemap_crawl_handles_every_fault_and_publishes_once(web_config, embedder):
    with NewsSite() as site:
        report = crawl(web_config, embedder, [site.url("/sitemap.xml")], fetch_policy=FAST)
        totals = report.totals()
        fetched = [site.url(s.path) for s in site.stories] + [site.url("/flaky.html"), site.url("/vi-1258.html")]
        assert _by_status(report, "fetched") == sorted(fetched)
        assert _by_status(report, "robots") == [site.url("/private/secret.html")]
        failed = {i["url"].removeprefix(site.base): i["message"] for i in report.items if i["status"] == "failed"}
        assert set(failed) == {"/slow.html", "/missing.html", "/loop-a", "/huge.html", "/report.pdf", "/empty.html"}
        assert "no answer within 1 s" in failed["/slow.html"] and "HTTP 404" in failed["/missing.html"]
        assert "redirects" in failed["/loop-a"] and "over the limit" in failed["/huge.html"]
        assert "not an HTML page (application/pdf)" in failed["/report.pdf"]
        assert "no article text" in failed["/empty.html"]
        assert totals == {"fetched": 7, "unchanged": 0, "duplicate": 0, "robots": 1, "failed": 6}
        assert report.version == index_mod.current_folder(web_config.index_dir).name
        assert report.summary().startswith("crawl: 7 fetched, 0 unchanged, 0 duplicate, 1 disallowed by robots.txt,"
                                           " 6 failed; published index")

        index = index_mod.load(web_config, embedder)
        seed = site.stories[0]
        article = index.store.article(article_id(site.url(seed.path)))
        assert (article.title, article.url, article.source) == (seed.title, site.url(seed.path), site.name)
        assert article.date == seed.published.isoformat() and article.author == seed.author
        assert article.fetched_at and article.alternates == []
        assert article.text == tidy("\n\n".join(seed.paragraphs))
        assert "Bình luận" not in article.text and "cookie" not in article.text and "Tin liên quan" not in article.text
        vietnamese = index.store.article(article_id(site.url("/vi-1258.html")))
        assert vietnamese.text == tidy("\n\n".join(generated_story(9000).paragraphs))
        assert len(index.store.ids()) == 7

        site.requests.clear()
        again = crawl(web_config, embedder, [site.url("/sitemap.xml")], fetch_policy=FAST)
        assert again.version is None and again.totals()["unchanged"] == 7
        assert index_mod.current_folder(web_config.index_dir).name == report.version
        assert site.hits("/flaky.html") == 1 and site.hits("/news/seed-0.html") == 1


def test_feed_change_fetches_only_the_new_story(web_config, embedder):
    with NewsSite(faults=False) as site:
        first = crawl(web_config, embedder, [site.url("/feed.rss")], fetch_policy=FAST)
        assert first.totals()["fetched"] == 5
        site.stories.append(generated_story(42))
        site.requests.clear()
        second = crawl(web_config, embedder, [site.url("/feed.rss")], fetch_policy=FAST)
        assert _by_status(second, "fetched") == [site.url("/news/story-42.html")]
        assert second.totals()["unchanged"] == 5 and second.version != first.version
        assert second.counts["articles"] == 6 and second.counts["embedded"] < second.counts["passages"]


def test_same_story_on_a_second_site_is_indexed_once_with_alternates(web_config, embedder):
    seeds = seed_stories()
    near = replace(seeds[1], slug="gan-giong", paragraphs=seeds[1].paragraphs[:-1]
                   + [seeds[1].paragraphs[-1].replace("năm", "năm nay", 1)])
    copies = [replace(seeds[0], slug="ban-sao"), near]
    with NewsSite(faults=False) as first, NewsSite("Báo Khác", copies, faults=False) as second:
        report = crawl(web_config, embedder, [first.url("/feed.rss"), second.url("/feed.atom")], fetch_policy=FAST)
        assert report.totals()["fetched"] == 5 and report.totals()["duplicate"] == 2
        duplicates = {i["url"]: i["article_id"] for i in report.items if i["status"] == "duplicate"}
        assert duplicates == {second.url("/news/ban-sao.html"): article_id(first.url("/news/seed-0.html")),
                              second.url("/news/gan-giong.html"): article_id(first.url("/news/seed-1.html"))}
        index = index_mod.load(web_config, embedder)
        assert index.store.article(article_id(first.url("/news/seed-0.html"))).alternates == [
            second.url("/news/ban-sao.html")]
        assert len(index.store.ids()) == 5

        second.stories.append(replace(seeds[2], slug="sau-nay"))
        later = crawl(web_config, embedder, [second.url("/feed.atom")], fetch_policy=FAST)
        assert _by_status(later, "duplicate") == [second.url("/news/sau-nay.html")]
        index = index_mod.load(web_config, embedder)
        assert index.store.article(article_id(first.url("/news/seed-2.html"))).alternates == [
            second.url("/news/sau-nay.html")]
        assert len(index.store.ids()) == 5

        first.stories[0] = replace(first.stories[0], paragraphs=first.stories[0].paragraphs + [
            "Bài viết được cập nhật với kết luận của hội nghị và danh sách các đại biểu tham dự."])
        updated = crawl(web_config, embedder, [first.url("/feed.rss")], fetch_policy=FAST)
        assert _by_status(updated, "fetched") == [first.url("/news/seed-0.html")]
        article = index_mod.load(web_config, embedder).store.article(article_id(first.url("/news/seed-0.html")))
        assert article.text.endswith("danh sách các đại biểu tham dự.")
        assert article.alternates == [second.url("/news/ban-sao.html")]


def test_malformed_feed_is_reported_and_nothing_is_published(web_config, embedder):
    with NewsSite() as site:
        report = crawl(web_config, embedder, [site.url("/feed-broken.rss"), site.url("/feed.atom")],
                       fetch_policy=FAST)
        assert report.items[0]["status"] == "failed" and "malformed feed XML" in report.items[0]["message"]
        assert report.totals()["fetched"] == 5 and report.version is not None


def test_direct_urls_are_pages_and_the_same_page_replaces_itself(web_config, embedder):
    with NewsSite(faults=False) as site:
        url = site.url("/news/seed-3.html")
        first = crawl(web_config, embedder, [url], fetch_policy=FAST, direct=True)
        site.stories[3] = replace(site.stories[3], paragraphs=site.stories[3].paragraphs + [
            "Bài viết được cập nhật lúc chiều với thông tin mới nhất từ ban tổ chức hội nghị."])
        second = crawl(web_config, embedder, [url], fetch_policy=FAST, direct=True)
        assert first.totals()["fetched"] == second.totals()["fetched"] == 1
        index = index_mod.load(web_config, embedder)
        assert index.store.ids() == [article_id(url)]
        assert index.store.article(article_id(url)).text.endswith("thông tin mới nhất từ ban tổ chức hội nghị.")


def test_a_killed_crawl_leaves_the_previous_version_and_its_rerun_fetches_the_rest(web_config, embedder):
    with NewsSite() as site:
        crawl(web_config, embedder, [site.url("/feed.rss")], fetch_policy=FAST)
        before = index_mod.current_folder(web_config.index_dir)
        site.stories.append(generated_story(7))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_INDEX_DIR": str(web_config.index_dir),
               "QA_CRAWL_DELAY_MS": "10"}
        proc = subprocess.Popen([sys.executable, "-m", "qa", "crawl", site.url("/sitemap.xml"), "--allow-private"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert wait_until(lambda: site.hits("/slow.html") > 0, timeout=120)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert index_mod.current_folder(web_config.index_dir) == before
        state = state_mod.State(web_config.index_dir)
        assert site.url("/news/story-7.html") not in state.pages()
        state.close()
        rerun = crawl(web_config, embedder, [site.url("/feed.rss")], fetch_policy=FAST)
        assert _by_status(rerun, "fetched") == [site.url("/news/story-7.html")]
        assert rerun.totals()["unchanged"] == 5
        assert json.loads((index_mod.current_folder(web_config.index_dir) / "manifest.json").read_text())[
            "counts"]["articles"] == 6


