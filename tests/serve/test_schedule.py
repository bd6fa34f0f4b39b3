"""The scheduled refresh of registered sources under gunicorn: one worker crawls, every worker serves the result."""
import json
import time

from news_site import NewsSite, generated_story, wait_until
from test_faults import TOKEN, built, call  # noqa: F401  (built is a fixture)

from qa.serve import schedule

from conftest import SEEDS, start_server, stop_server

AUTH = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}


def test_two_workers_one_scheduler_crawls_a_registered_feed(built):  # noqa: F811
    stories = [generated_story(n) for n in range(1, 6)]
    with NewsSite(stories=stories, faults=False) as site:
        proc, url = start_server(built.index_dir, SEEDS, built.model_cache, workers=2,
                                 env={"QA_ADMIN_TOKEN": TOKEN, "QA_ALLOW_PRIVATE_URLS": "1", "QA_CRAWL_DELAY_MS": "10",
                                      "QA_CRAWL_EVERY": "3600", "QA_RATE_LIMIT": ""})
        try:
            status, source = call(url + "/api/sources", json.dumps({"url": site.url("/feed.rss")}).encode(), AUTH)
            assert status == 201
            assert wait_until(lambda: call(url + "/api/sources", headers=AUTH)[1][0]["last_run"], timeout=120)
            report = call(url + "/api/sources", headers=AUTH)[1][0]["last_report"]
            assert report["totals"]["fetched"] == 5 and report["version"]
            for _ in range(6):  # both workers, whichever answers, serve the crawled articles
                ids = [a["id"] for a in call(url + "/api/articles")[1]]
                assert sum(i.startswith("web-") for i in ids) == 5
            time.sleep(3 * schedule.POLL)
            assert site.hits("/feed.rss") == 1, "only one worker may crawl"
            log = open(proc.log_path).read()
            assert log.count("this worker runs the crawl schedule") == 1
            question = f"{stories[2].title} với tổng vốn đầu tư bao nhiêu tỷ đồng?"
            ask = call(url + "/api/ask", json.dumps({"question": question}).encode(),
                       {"Content-Type": "application/json"})[1]
            top = ask["passages"][0]
            assert top["original_url"] == site.url(stories[2].path) and top["source"] == site.name
        finally:
            stop_server(proc)


def test_due_sources():
    assert schedule._due({"last_run": None}, 60)
    assert not schedule._due({"last_run": "2999-01-01T00:00:00+00:00"}, 60)
    assert schedule._due({"last_run": "2000-01-01T00:00:00+00:00"}, 60)


def test_schedule_off_starts_no_thread(built):  # noqa: F811
    from dataclasses import replace

    class Off:
        config = replace(built, crawl_every=0)

    assert schedule.start(Off()) is None
