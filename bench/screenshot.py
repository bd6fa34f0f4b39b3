"""Take README's screenshot of the chat: docs/chat.png.

Starts a real server (`python -m qa serve`) on 127.0.0.1 and a free port over a temporary index built
from seeds/, asks one question in Debian's chromium through Playwright, waits for the answer, saves
the page and stops the server.

    command -v chromium || (apt-get update -qq && apt-get install -y -qq chromium)
    HF_HUB_OFFLINE=1 .venv/bin/python bench/screenshot.py [--question Q] [--out docs/chat.png]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, seeds: Path, log_path: Path, timeout: float = 300):
    """`python -m qa serve` on a free port; (process, URL) once it answers and has printed "ready:"."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--index", str(index_dir), "--seeds", str(seeds)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2).read()
            if "ready:" in log_path.read_text():
                return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            stop_server(proc)
            raise RuntimeError("server did not start:\n" + log_path.read_text())
        time.sleep(0.3)


def stop_server(proc) -> None:
    """Stop the server and its worker (its whole process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def shoot(url: str, question: str, out: Path, width: int, height: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=url, viewport={"width": width, "height": height},
                                          locale="vi-VN")
            context.set_default_timeout(60_000)
            page = context.new_page()
            page.goto("/")
            expect(page.locator("#question")).to_be_editable()
            page.fill("#question", question)
            page.press("#question", "Enter")
            turn = page.locator("#thread > .turn").first
            expect(turn).to_be_visible()
            expect(turn.locator(".reply.pending")).to_have_count(0)
            expect(page.locator("#thread")).to_have_attribute("aria-busy", "false")
            expect(turn.locator(".answer-text")).to_be_visible()
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.wait_for_timeout(300)  # let transitions settle
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--question", default=QUESTION)
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "chat.png")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=800)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-screenshot-") as tmp:
        log_path = Path(tmp) / "server.log"
        proc, url = start_server(Path(tmp) / "index", args.seeds.resolve(), log_path)
        try:
            shoot(url, args.question, args.out, args.width, args.height)
        finally:
            stop_server(proc)
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
