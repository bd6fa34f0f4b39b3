"""Time from `python -m qa serve` to the first answered question, with an index already built.

    python bench/ready.py [--index index] [--runs 3] [--workers 2]

Starts the server on a free port, polls POST /api/ask until it answers, prints the seconds, stops it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_ready(index: Path, workers: int) -> float:
    """Seconds until the first question gets a 200."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"))
    body = json.dumps({"question": "hội nghị"}).encode()
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit("the server exited; run `python -m qa serve` by hand to see why")
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", body,
                                                 {"Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=5).read()
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    times = [time_to_ready(args.index, args.workers) for _ in range(args.runs)]
    print(f"ready in {statistics.median(times):.2f} s (median of {args.runs}: "
          f"{', '.join(f'{t:.2f}' for t in times)}) with index {args.index}, {args.workers} workers")


if __name__ == "__main__":
    main()
