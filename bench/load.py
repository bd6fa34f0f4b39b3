"""Load while the corpus changes: clients ask for a fixed time while an article is added and removed.

    QA_ADMIN_TOKEN=secret QA_RATE_LIMIT= python -m qa serve --index index &      # the server under load
    python bench/load.py --url http://127.0.0.1:8000 --token secret [--clients 16] [--duration 60] [--every 5]

Every `--every` seconds on the clock the load process adds an article (POST /api/articles) or
removes it again (DELETE), alternately, so the server publishes a new index version while answering;
at the end the article is removed. Memory at start is taken after a warm-up of the same load, changes
included (`--warmup`, 20 s; 0 to measure from a cold server), so that growth means accumulation, not
the first touch of mapped index pages and allocator arenas. Prints requests served, errors (any non-200 answer or failed
connection), p50/p95/p99, the versions seen, changes made, and the server's memory (PSS, and its
anonymous part) at start and end.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from latency import ROOT, describe, memory_mb, questions

ARTICLE = {"id": "load_test_article", "title": "Hội nghị thử tải về chuyển đổi số",
           "text": "Ngày 1-6, Tỉnh ủy tổ chức hội nghị thử tải về chuyển đổi số. Hội nghị đặt mục tiêu 95% hồ sơ "
                   "được xử lý trực tuyến vào năm 2030. Kinh phí thực hiện là 45 tỷ đồng."}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="the server's QA_ADMIN_TOKEN")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--every", type=float, default=5, help="seconds between corpus changes")
    parser.add_argument("--warmup", type=float, default=20,
                        help="seconds of the same questions, without changes, before memory is first measured")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "seed_questions.jsonl")
    args = parser.parse_args()
    port = urlparse(args.url).port
    if args.warmup:
        warm = _run(args, args.warmup)
        print(f"warm-up: {len(warm['latencies'])} requests and {len(warm['changes'])} changes in {args.warmup:.0f} s, "
              f"{len(warm['errors'])} errors")
    before = memory_mb(port)
    run = _run(args, args.duration)
    after = memory_mb(port)
    _change(args, add=False)
    latencies, errors, changes = run["latencies"], run["errors"], run["changes"]
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(f"{len(latencies)} requests served in {run['wall']:.0f} s ({len(latencies) / run['wall']:.1f}/s) by "
          f"{args.clients} clients, {len(errors)} errors{': ' + '; '.join(errors[:3]) if errors else ''}")
    print(f"latency p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms")
    print(f"corpus changes: {len(changes)} ({', '.join(changes)}); "
          f"index versions seen by clients: {len(run['versions'])}")
    print("memory at start:", describe(before))
    print("memory at end:  ", describe(after))
    for name, key in (("memory growth", "total_pss"), ("anonymous memory growth", "anon_pss")):
        growth = after[key] / before[key] - 1 if before[key] else float("nan")
        print(f"{name}: {growth * 100:+.1f} %")


def _change(args, add: bool) -> int:
    """Add the test article (replacing it if present) or remove it; the HTTP status."""
    target = urlparse(args.url)
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
    if add:
        conn.request("POST", "/api/articles", json.dumps(ARTICLE, ensure_ascii=False).encode(), headers)
    else:
        conn.request("DELETE", f"/api/articles/{ARTICLE['id']}", headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def _run(args, duration: float) -> dict:
    """Clients ask for `duration` seconds while the article is added or removed at every tick of `every`."""
    target = urlparse(args.url)
    asked = questions(args.questions)
    out = {"latencies": [], "errors": [], "versions": set(), "changes": []}
    lock = threading.Lock()
    began = time.monotonic()
    stop = began + duration

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        n = offset
        while time.monotonic() < stop:
            body = json.dumps({"question": asked[n % len(asked)], "top_k": 5}).encode()
            n += args.clients
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
                ok, detail = response.status == 200, f"HTTP {response.status}: {payload[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                ok, detail, payload = False, f"{exc.__class__.__name__}: {exc}", b""
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    out["latencies"].append(elapsed)
                    out["versions"].add(json.loads(payload)["index_version"])
                else:
                    out["errors"].append(detail)
        conn.close()

    def churn() -> None:
        tick = 1
        while began + tick * args.every < stop:
            time.sleep(max(0.0, began + tick * args.every - time.monotonic()))
            add = tick % 2 == 1
            status = _change(args, add)
            with lock:
                out["changes"].append(f"{'add' if add else 'remove'} {status}")
                if status not in (200, 201):
                    out["errors"].append(f"change failed: HTTP {status}")
            tick += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    threads.append(threading.Thread(target=churn))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["wall"] = time.perf_counter() - started
    return out


if __name__ == "__main__":
    main()
