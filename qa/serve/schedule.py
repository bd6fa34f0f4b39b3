"""Scheduled refresh of the registered sources, in one process only, however many workers gunicorn runs.

Every worker starts `start` after it forks; each tries to take an exclusive, non-blocking `flock`
on `<index_dir>/.crawl-scheduler.lock`. The one that gets it runs the schedule; the others try again
every minute, so if that worker dies (the kernel drops its lock) another takes over. The holder
crawls, in one run and so one index version, every source that was never crawled or whose last run
is `crawl_every` seconds old; a newly registered source is crawled within POLL seconds. Every worker
switches to the new version on its next request (Service.refresh).
"""
from __future__ import annotations

import fcntl
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from qa.ingest.state import State

log = logging.getLogger(__name__)
LOCK = ".crawl-scheduler.lock"
POLL = 2.0
RETRY_LOCK = 60.0


def start(service) -> threading.Thread | None:
    """Start the scheduler thread of this worker (None when the schedule is off: QA_CRAWL_EVERY=0)."""
    if service.config.crawl_every <= 0:
        return None
    thread = threading.Thread(target=_run, args=(service,), name="crawl-scheduler", daemon=True)
    thread.start()
    return thread


def _run(service) -> None:
    """Wait for the lock, then refresh due sources forever."""
    index_dir = Path(service.config.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK, "w")
    stop = threading.Event()
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            stop.wait(RETRY_LOCK)
    log.warning("this worker runs the crawl schedule (every %s s)", service.config.crawl_every)
    while True:
        try:
            refresh_due(service)
        except Exception:  # one bad run must not end the schedule
            log.exception("scheduled crawl failed; trying again at the next interval")
        stop.wait(POLL)


def refresh_due(service) -> dict | None:
    """Crawl the sources that are due, publish once, switch this worker; the run's summary (None if none due)."""
    from qa.ingest import crawl as crawl_mod  # a second to import: not on the way to a worker being ready

    config = service.config
    state = State(config.index_dir)
    try:
        due = [s["url"] for s in state.sources() if _due(s, config.crawl_every)]
        if not due:
            return None
        report = crawl_mod.crawl(config, service.embedder, due)
        summary = {"version": report.version, "totals": report.totals(),
                   "failed": [i["message"] for i in report.items if i["status"] == "failed"][:20]}
        state.record_source_run(due, summary)
    finally:
        state.close()
    log.warning("%s", report.summary())
    service.refresh()
    return summary


def _due(source: dict, every: int) -> bool:
    """Never crawled, or crawled `every` seconds ago or more."""
    if not source["last_run"]:
        return True
    return datetime.fromisoformat(source["last_run"]) + timedelta(seconds=every) <= datetime.now().astimezone()
