"""Prometheus `/metrics` and the access log: one line per request with its id and latency.

Under gunicorn every worker counts its own requests; `serve` points PROMETHEUS_MULTIPROC_DIR at a
fresh private folder before the workers fork, so prometheus_client's multiprocess mode writes each
worker's counts to files there and a scrape, answered by any one worker, sums them all. Without
that variable (the Flask test client, `flask run`) the counts live in the process, per app.

What the index holds (version, articles, passages) is not counted but read when scraped, from the
scraping worker's service, which has just picked up the newest published version like any request.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_ID = "X-Request-ID"
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")  # a client's id is kept only if it is this plain
_UNPRINTABLE = re.compile(r'[\x00-\x1f\x7f"\\]')  # escaped in the log: one request, one line
ASK = "/api/ask"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # any other is counted as "other"


class _Stderr(logging.StreamHandler):
    """stderr as it is when the line is written (tests and servers may replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


access_log = logging.getLogger("qa.access")
if not access_log.handlers:
    access_log.addHandler(_Stderr())
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def multiprocess_dir() -> str | None:
    """The folder the workers' counts are shared through, when serving with several processes."""
    return os.environ.get(MULTIPROC_ENV) or None


class _IndexCollector:
    """The served index, read at scrape time: version (as a label), articles, passages."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        manifest = self.app.extensions["qa"].index.manifest
        info = GaugeMetricFamily("qa_index_info", "The index version being served (always 1)", labels=["version"])
        info.add_metric([manifest["version"]], 1)
        yield info
        yield GaugeMetricFamily("qa_index_articles", "Articles in the served index",
                                value=manifest["counts"]["articles"])
        yield GaugeMetricFamily("qa_index_passages", "Passages in the served index",
                                value=manifest["counts"]["passages"])


class Metrics:
    """The app's counters and how a scrape collects them."""

    def __init__(self, app: Flask):
        shared = multiprocess_dir()
        if shared and values.ValueClass is values.MutexValue:
            raise RuntimeError(f"prometheus_client was imported before {MULTIPROC_ENV} was set: "
                               "the workers' counts would not be shared")
        own = None if shared else CollectorRegistry()  # multiprocess: values go to the shared files
        self.requests = Counter("qa_http_requests", "HTTP requests answered, by route, method and status",
                                ["endpoint", "method", "status"], registry=own)
        self.latency = Histogram("qa_http_request_duration_seconds", "Time to answer a request, by route",
                                 ["endpoint"], registry=own)
        self.answers = Counter("qa_answers", "Questions answered (POST /api/ask), by whether the corpus answers",
                               ["found"], registry=own)
        self.cache_hits = Counter("qa_answer_cache_hits", "Answers served from the per-version answer cache",
                                  registry=own)
        if shared:
            self.registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.registry, path=shared)
        else:
            self.registry = own
        self.registry.register(_IndexCollector(app))

    def record(self, endpoint: str, response: Response, seconds: float) -> None:
        """Count one answered request; a question's outcome is read from the answer itself. Labels
        take few values (routes, not paths; known methods), whatever clients send."""
        method = request.method if request.method in METHODS else "other"
        self.requests.labels(endpoint, method, str(response.status_code)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if endpoint == ASK and request.method == "POST" and response.status_code == 200 and response.is_json:
            body = response.get_json(silent=True) or {}
            if "found" in body:
                self.answers.labels("true" if body["found"] else "false").inc()
            if body.get("cached"):
                self.cache_hits.inc()

    def scrape(self) -> Response:
        """The text format the scraper asks for (Accept), as prometheus_client's own exporter does."""
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(self.registry), content_type=content_type)


def _request_id() -> str:
    """The client's X-Request-ID when it is a plain token, else a new one."""
    given = request.headers.get(REQUEST_ID, "")
    return given if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex


def register(app: Flask) -> None:
    """`GET /metrics`, and hooks timing every request. Register before anything that may answer a
    request early (the rate limiter), so that its answers are timed, counted and logged too."""
    metrics = app.extensions["qa_metrics"] = Metrics(app)

    @app.before_request
    def start() -> None:
        g.qa_started = time.perf_counter()
        g.qa_request_id = _request_id()

    @app.after_request
    def finish(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("qa_started", time.perf_counter())
        request_id = g.get("qa_request_id") or _request_id()
        response.headers[REQUEST_ID] = request_id
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.record(endpoint, response, seconds)
        size = response.content_length
        path = request.path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
        path = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
        access_log.info('%s "%s %s" %s %s %.1f ms id=%s', request.remote_addr or "-", request.method, path,
                        response.status_code, "-" if size is None else size, seconds * 1000, request_id)
        return response

    @app.get("/metrics")
    def scrape() -> Response:
        """Prometheus text format: every worker's counts, and the served index."""
        return current_app.extensions["qa_metrics"].scrape()
