"""Latency of POST /api/ask against a running server, at several concurrency levels.

    python -m qa serve &                       # in another shell (or --index for another corpus)
    python bench/latency.py --url http://127.0.0.1:8000 --concurrency 1 4 16 --requests 300

Each client keeps one HTTP/1.1 connection and asks questions from a JSON-lines file in turn.
Prints p50/p95/p99 per level, errors, throughput, and the server's memory (PSS of the process
listening on the port and its workers, so pages they share count once; RSS of each) before and after.
Each level goes on where the one before stopped; questions repeat once the file is used up
(repeats are answered from the answer cache), so give a file of more than warm-up + levels ×
requests questions (e.g. a benchmark's questions.jsonl) to measure distinct questions only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def questions(path: Path) -> list[str]:
    """The question of every record of a JSON-lines file."""
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def server_processes(port: int) -> list[str]:
    """Pids of the server listening on `port`: the process holding the socket and all its descendants."""
    inode = _listening_inode(port)
    if inode is None:
        return []
    family = {p for p in os.listdir("/proc") if p.isdigit() and _has_socket(p, inode)}
    roots = {p for p in family if _parent(p) not in family}
    grew = True
    while grew:
        children = {p for p in os.listdir("/proc") if p.isdigit() and _parent(p) in family} - family
        family |= children
        grew = bool(children)
    return sorted(family | roots, key=int)


def memory_mb(port: int) -> dict:
    """Total memory of the server (PSS: shared pages counted once), its anonymous part, and each process's RSS and PSS.

    Anonymous memory is what the processes allocated; the rest of PSS is index files mapped and touched.
    """
    per = {pid: (_status_kb(pid, "VmRSS:") / 1024, _pss_kb(pid) / 1024) for pid in server_processes(port)}
    anon = sum(_pss_kb(pid, "Pss_Anon:") for pid in per) / 1024
    return {"total_pss": sum(pss for _, pss in per.values()), "anon_pss": anon, "processes": per}


def describe(memory: dict) -> str:
    """One line: total, anonymous, and per process."""
    parts = ", ".join(f"pid {pid}: RSS {rss:.0f} / PSS {pss:.0f}" for pid, (rss, pss) in memory["processes"].items())
    return f"{memory['total_pss']:.0f} MB in all (PSS; {memory['anon_pss']:.0f} MB anonymous) — {parts}"


def _pss_kb(pid: str, field: str = "Pss:") -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _listening_inode(port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                return fields[9]
    return None


def _has_socket(pid: str, inode: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _parent(pid: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    except OSError:
        return None


def _status_kb(pid: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_level(url: str, asked: list[str], concurrency: int, total: int, offset: int = 0) -> dict:
    """`total` requests spread over `concurrency` clients, from question `offset` on; latencies in milliseconds."""
    target = urlparse(url)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        for i in counter:
            body = json.dumps({"question": asked[(offset + i) % len(asked)], "top_k": 5}).encode()
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                detail = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                ok, detail = False, f"{exc.__class__.__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                (latencies if ok else errors).append(elapsed if ok else detail)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"concurrency": concurrency, "requests": total, "errors": len(errors), "p50_ms": q[49], "p95_ms": q[94],
            "p99_ms": q[98], "per_second": len(latencies) / wall, "first_errors": errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=300, help="requests per level")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "seed_questions.jsonl")
    parser.add_argument("--warmup", type=int, default=20)

    args = parser.parse_args()
    asked = questions(args.questions)
    port = urlparse(args.url).port
    run_level(args.url, asked, 2, args.warmup)
    print("server memory before:", describe(memory_mb(port)))
    print(f"{'clients':>7} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>6}")
    for n, level in enumerate(args.concurrency):
        r = run_level(args.url, asked, level, args.requests, args.warmup + n * args.requests)
        print(f"{r['concurrency']:>7} {r['requests']:>8} {r['errors']:>6} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} "
              f"{r['p99_ms']:>7.1f} {r['per_second']:>6.1f}" + (f"  {r['first_errors']}" if r["errors"] else ""))
    print("server memory after:", describe(memory_mb(port)))


if __name__ == "__main__":
    main()
