"""Production serving with gunicorn: build the index first if there is none, then start workers.

The master loads the model and the index once and forks the workers, which share those pages
copy-on-write. The master never runs the model (a build, if needed, runs in a child process):
torch's thread pool does not survive a fork, so each worker warms up its own after forking.

The port is taken before anything else (before a first build, long before "serving on"), so a busy
port is one line and exit status 4, not gunicorn's five retries and status 1.

Metrics: the workers share their counts through files in a private temporary folder
(prometheus_client's multiprocess mode, see qa/serve/metrics.py), removed when the server stops.
"""
from __future__ import annotations

import errno
import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import replace

from gunicorn.app.base import BaseApplication

from qa.config import Config
from qa.index import shards, versions as index_mod

PORT_IN_USE = 4  # exit status (README, "Command line")
BACKLOG = 2048  # gunicorn's default


class Server(BaseApplication):
    """gunicorn with our app factory and settings instead of a command line."""

    def __init__(self, config: Config, fd: int, open_service=None):
        self.qa_config, self.fd, self.open_service = config, fd, open_service
        super().__init__()

    def load_config(self) -> None:
        """Settings; gunicorn listens on the socket `serve` already holds (it owns the descriptor now)."""
        c = self.qa_config
        settings = {"bind": f"fd://{self.fd}", "workers": c.workers, "worker_class": "gthread",
                    "threads": 4, "timeout": 120, "graceful_timeout": 30, "keepalive": 5, "preload_app": True,
                    "post_worker_init": _warm_up, "child_exit": _child_exit, "accesslog": None, "errorlog": "-",
                    "loglevel": "warning"}
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        """The app; a damaged index found by the checksums exits like the CLI does (status 3), not as
        gunicorn reports a RuntimeError (status 1). The master's objects are then frozen out of the
        garbage collector, whose passes would otherwise copy their pages into every forked worker."""
        from qa.serve.app import create_app

        try:
            app = create_app(self.qa_config, self.open_service(self.qa_config) if self.open_service else None)
        except index_mod.IndexProblem as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(3) from None
        gc.freeze()
        return app


def _warm_up(worker) -> None:
    """Run the model once in the new worker, start its crawl scheduler (one worker wins its lock, see
    qa/serve/schedule.py), then say where to point the browser."""
    from qa.serve import schedule

    worker.wsgi.extensions["qa"].warm_up()
    schedule.start(worker.wsgi.extensions["qa"])
    config = worker.app.qa_config
    print(f"ready: http://{config.host}:{config.port}/ (worker {worker.pid})", flush=True)


def _child_exit(server, worker) -> None:
    """A worker that exits takes its live gauges with it; its counts stay (totals never go down)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _port_in_use(port: int):
    """The one line a busy port gets, then exit status 4."""
    print(f"error: port {port} is in use: choose another with --port or QA_PORT", file=sys.stderr, flush=True)
    raise SystemExit(PORT_IN_USE)


def bind(host: str, port: int) -> socket.socket:
    """Take the address now (bound, not yet listening: connections are refused until the app is
    loaded, as before). Any other failure (an address not on this machine, a privileged port) is an
    OSError naming the address, reported like the command line's other bad input."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _port_in_use(port)
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def listen(sock: socket.socket, port: int) -> int:
    """Start listening and hand the descriptor over; another server that bound the port meanwhile
    (with SO_REUSEADDR, as servers do) makes listen() fail: the same busy-port line."""
    try:
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _port_in_use(port)
        raise
    return sock.detach()


def ensure_index(config: Config) -> None:
    """Build the index from the seed folder when none exists, in a child process."""
    if index_mod.current_folder(config.index_dir) is not None:
        return
    print(f"no index in {config.index_dir}: building it from {config.seeds_dir}", flush=True)
    command = [sys.executable, "-m", "qa", "build", "--index", str(config.index_dir),
               "--seeds", str(config.seeds_dir), "--model", config.model]
    if subprocess.run(command).returncode != 0:
        raise SystemExit(f"could not build the index from {config.seeds_dir}; see the message above")


def serve(config: Config, open_service=None) -> None:
    """Run until interrupted; an unusable index stops here, before any worker starts.

    Checksums are left to the app factory, which computes them while the model loads. A busy port
    stops first of all, with exit status 4. `open_service(config)` makes the app's service when it is
    not the single machine's (qa/cluster/serving.py: the shards served on a cluster)."""
    sock = bind(config.host, config.port)
    try:
        if open_service is None:
            ensure_index(config)
            shards.layout(config.index_dir).load(config, verify=False).close()
    except BaseException:
        sock.close()
        raise
    threads = config.threads or max(1, (os.cpu_count() or 1) // max(1, config.workers))
    fd = listen(sock, config.port)
    master, shared = os.getpid(), tempfile.mkdtemp(prefix="qa-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared  # before the app (and prometheus_client) loads
    print(f"serving on http://{config.host}:{config.port}/ with {config.workers} workers", flush=True)
    try:
        Server(replace(config, threads=threads), fd, open_service).run()
    finally:
        if os.getpid() == master:  # workers leave through here too, as they exit
            shutil.rmtree(shared, ignore_errors=True)
