"""Prometheus /metrics (summed over gunicorn workers) and the access log with request ids."""
import json
import re
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from qa.cli import build_from_folder

from conftest import SEEDS, start_server, stop_server

FOUND = "Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?"
NOT_FOUND = "Giá vàng SJC hôm nay bao nhiêu một lượng?"
LOG_LINE = re.compile(r'(?P<client>\S+) "(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) (?P<size>\d+|-) '
                      r"(?P<ms>\d+\.\d) ms id=(?P<id>\S+)")


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} of a scrape."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def delta(after: dict, before: dict, name: str, **labels) -> float:
    """How much the samples called `name` whose labels include `labels` grew, summed."""
    def total(values):
        return sum(v for (n, ls), v in values.items() if n == name and labels.items() <= dict(ls).items())
    return total(after) - total(before)


def fetch(url: str, body: dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read().decode()
            is_json = response.headers.get_content_type() == "application/json"
            return response.status, json.loads(text) if is_json else text
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# -- in one process (the Flask test client) --------------------------------------------------------

def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def test_every_request_is_logged_with_its_id_and_latency(client, capsys):
    capsys.readouterr()
    given = client.get("/api/health", headers={"X-Request-ID": "client-42.a"})
    made = client.get("/api/health")
    hostile = client.get("/api/health", headers={"X-Request-ID": "two words\tand a tab"})
    missing = client.get("/api/nothing-here?q=x")
    assert given.headers["X-Request-ID"] == "client-42.a"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])
    lines = [LOG_LINE.fullmatch(line) for line in capsys.readouterr().err.splitlines()]
    assert all(lines) and len(lines) == 4, lines
    assert [(m["method"], m["path"], m["status"]) for m in lines] == [
        ("GET", "/api/health", "200")] * 3 + [("GET", "/api/nothing-here?q=x", "404")]
    assert [m["id"] for m in lines] == [r.headers["X-Request-ID"] for r in (given, made, hostile, missing)]
    assert all(float(m["ms"]) >= 0 for m in lines) and lines[0]["size"] == str(len(given.data))


def test_a_control_character_in_the_path_cannot_split_the_log_line(client, capsys):
    capsys.readouterr()
    client.get("/api/articles/a%0Afake%20line")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a\\x0afake line" in err


def test_metrics_in_one_process(client, service):
    before = scrape(client)
    first = client.post("/api/ask", json={"question": FOUND}).get_json()
    again = client.post("/api/ask", json={"question": FOUND}).get_json()
    missing = client.post("/api/ask", json={"question": NOT_FOUND}).get_json()
    client.post("/api/ask", json={})
    client.open("/api/nowhere/1", method="BREW")
    client.open("/api/nowhere/2", method="BREW")
    after = scrape(client)
    assert again["cached"] and again["found"] and not missing["found"]
    assert delta(after, before, "qa_http_requests_total", endpoint="/api/ask", method="POST", status="200") == 3
    assert delta(after, before, "qa_http_requests_total", endpoint="/api/ask", status="400") == 1
    assert delta(after, before, "qa_http_requests_total", endpoint="/metrics") == 1
    assert delta(after, before, "qa_http_requests_total", endpoint="unmatched", method="other") == 2
    assert not any(dict(labels).get("method") == "BREW" for _, labels in after)
    assert delta(after, before, "qa_http_request_duration_seconds_count", endpoint="/api/ask") == 4
    assert delta(after, before, "qa_answers_total", found="true") == 2
    assert delta(after, before, "qa_answers_total", found="false") == 1
    assert delta(after, before, "qa_answer_cache_hits_total") == first["cached"] + again["cached"] + missing["cached"]
    manifest = service.index.manifest
    assert after[("qa_index_info", (("version", manifest["version"]),))] == 1
    assert after[("qa_index_articles", ())] == manifest["counts"]["articles"]
    assert after[("qa_index_passages", ())] == manifest["counts"]["passages"]


# -- a real server with two workers --------------------------------------------------------------

@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, base_config, embedder):
    config = replace(base_config, index_dir=tmp_path_factory.mktemp("metrics") / "index")
    build_from_folder(config, embedder, progress=False)
    proc, url = start_server(config.index_dir, SEEDS, config.model_cache, workers=2, env={"QA_RATE_LIMIT": ""})
    yield proc, url
    stop_server(proc)


def test_two_workers_count_every_request_once(two_workers):
    proc, url = two_workers
    status, text = fetch(url + "/metrics")
    assert status == 200
    before, sent, pids = samples(text), Counter(), set()
    for _ in range(200):  # until both workers have answered (the kernel picks which one accepts)
        pids.add(fetch(url + "/api/health")[1]["pid"])
        sent["/api/health", "GET", "200"] += 1
        if len(pids) == 2:
            break
    assert len(pids) == 2, "both workers should have answered"
    jobs = [("/api/search?q=h%E1%BB%99i+ngh%E1%BB%8B", None)] * 12 + [("/api/ask", {"question": FOUND})] * 6
    jobs += [("/api/ask", {"question": NOT_FOUND})] * 2 + [("/api/health", None)] * 10
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda job: fetch(url + job[0], job[1]), jobs))
    repeats = [("/api/ask", {"question": FOUND})] * 3  # in a row over two workers: one at least is cached
    jobs, results = jobs + repeats, results + [fetch(url + path, body) for path, body in repeats]
    for (path, body), (status, _) in zip(jobs, results):
        sent[path.split("?")[0], "POST" if body else "GET", str(status)] += 1
    answers = [result for (_, body), (_, result) in zip(jobs, results) if body]
    status, text = fetch(url + "/metrics")
    after = samples(text)
    for (endpoint, method, code), count in sent.items():
        assert delta(after, before, "qa_http_requests_total", endpoint=endpoint, method=method,
                     status=code) == count, (endpoint, method, code)
    assert delta(after, before, "qa_http_requests_total") == sum(sent.values()) + 1  # + the first scrape
    assert delta(after, before, "qa_http_request_duration_seconds_count") == sum(sent.values()) + 1
    assert delta(after, before, "qa_answers_total", found="true") == sum(a["found"] for a in answers) == 9
    assert delta(after, before, "qa_answers_total", found="false") == sum(not a["found"] for a in answers) == 2
    assert delta(after, before, "qa_answer_cache_hits_total") == sum(a["cached"] for a in answers) >= 1
    health = fetch(url + "/api/health")[1]
    assert after[("qa_index_info", (("version", health["index"]["version"]),))] == 1
    assert after[("qa_index_passages", ())] == health["counts"]["passages"]
    log = open(proc.log_path).read()
    assert len(LOG_LINE.findall(log)) >= sum(sent.values()) + 1
