"""Faults done for real: killed updates, damaged files, a full disk, and two workers following a change."""
import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pytest

from qa.cli import build_from_folder
from qa.index import versions as index_mod

from conftest import ROOT, SEEDS, free_port, start_server, stop_server

TOKEN = "fault-token"


def call(url, data=None, headers=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post_article(url, article, token=TOKEN):
    return call(url + "/api/articles", json.dumps(article, ensure_ascii=False).encode(),
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})


def articles(count, tag):
    """Distinct articles, enough to make embedding take a few seconds."""
    body = ("Ngày 5-6, Ban Thường vụ Tỉnh ủy họp bàn kế hoạch số {n} về xây dựng đội ngũ cán bộ, chuyển đổi số "
            "và cải cách hành chính. Hội nghị giao các sở, ngành triển khai ngay trong quý {n}. ") * 6
    return [{"id": f"{tag}_{n}", "title": f"Kế hoạch {tag} số {n}", "text": body.format(n=n)} for n in range(count)]


@pytest.fixture
def built(tmp_path, base_config, embedder):
    config = replace(base_config, index_dir=tmp_path / "index", admin_token=TOKEN, rate_limit="")
    build_from_folder(config, embedder, progress=False)
    return config


@pytest.mark.parametrize("delta_from", ["20000", "1"], ids=["rebuilt", "delta"])
def test_two_workers_move_to_the_new_version(built, delta_from):
    proc, url = start_server(built.index_dir, SEEDS, built.model_cache, workers=2,
                             env={"QA_ADMIN_TOKEN": TOKEN, "QA_DELTA_FROM": delta_from})
    try:
        status, body = post_article(url, articles(1, "two_workers")[0])
        assert status == 201
        manifest = json.loads((built.index_dir / index_mod.VERSIONS / body["version"] / "manifest.json").read_text())
        assert ("delta/vectors.npy" in manifest["files"]) == (delta_from == "1")
        seen = {}
        for _ in range(200):
            health = call(url + "/api/health")[1]
            seen.setdefault(health["pid"], set()).add(health["index"]["version"])
            if len(seen) == 2:
                break
        assert len(seen) == 2, "both workers should have answered"
        assert all(versions == {body["version"]} for versions in seen.values()), seen
        for _ in range(10):
            _, result = call(url + "/api/ask", json.dumps({"question": "kế hoạch two_workers số 0"}).encode(),
                             {"Content-Type": "application/json"})
            assert result["index_version"] == body["version"]
    finally:
        stop_server(proc)


def test_server_killed_during_an_update_restarts_on_the_previous_version(built):
    before = index_mod.load(built).version
    proc, url = start_server(built.index_dir, SEEDS, built.model_cache, env={"QA_ADMIN_TOKEN": TOKEN})
    request = subprocess.Popen([sys.executable, "-c", (
        "import json, sys, urllib.request; urllib.request.urlopen(urllib.request.Request("
        f"{url + '/api/articles'!r}, json.dumps(json.load(sys.stdin)).encode(), "
        f"{{'Content-Type': 'application/json', 'Authorization': 'Bearer {TOKEN}'}}), timeout=300)")],
        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    request.stdin.write(json.dumps(articles(40, "killed")).encode())
    request.stdin.close()
    time.sleep(3)
    stop_server(proc, kill=True)
    request.wait(timeout=60)
    assert index_mod.load(built).version == before
    proc, url = start_server(built.index_dir, SEEDS, built.model_cache, env={"QA_ADMIN_TOKEN": TOKEN})
    try:
        assert call(url + "/api/health")[1]["index"]["version"] == before
        status, body = post_article(url, articles(40, "killed"))
        assert status == 201 and body["counts"]["articles"] == 45
    finally:
        stop_server(proc)
    assert not list((built.index_dir / index_mod.VERSIONS).glob(".tmp-*"))


def test_killed_cli_update_leaves_the_previous_version(built, tmp_path, embedder):
    before = index_mod.load(built).version
    folder = tmp_path / "many"
    folder.mkdir()
    for record in articles(40, "cli_killed"):
        (folder / f"{record['id']}.txt").write_text(f"{record['title']}\n\n{record['text']}", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), QA_MODEL_CACHE=str(built.model_cache))
    proc = subprocess.Popen([sys.executable, "-m", "qa", "add", *map(str, sorted(folder.iterdir())), "--index",
                             str(built.index_dir)], stderr=subprocess.PIPE, env=env, cwd=ROOT)
    seen = b""
    while b"passage/s" not in seen and proc.poll() is None:
        seen += proc.stderr.read1(4096)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert index_mod.load(built, embedder).version == before
    done = subprocess.run([sys.executable, "-m", "qa", "add", *map(str, sorted(folder.iterdir())), "--index",
                           str(built.index_dir)], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert index_mod.load(built, embedder).manifest["counts"]["articles"] == 45


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_damaged_index_is_refused_at_start_naming_the_file(built, damage):
    target = index_mod.current_folder(built.index_dir) / "lexical" / "data.csc.index.npy"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 3])
    elif damage == "flip":
        target.write_bytes(data[:-10] + bytes(b ^ 0xFF for b in data[-10:]))
    else:
        target.unlink()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QA_MODEL_CACHE=str(built.model_cache))
    done = subprocess.run([sys.executable, "-m", "qa", "serve", "--index", str(built.index_dir),
                           "--port", str(free_port())], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 3
    assert "data.csc.index.npy" in done.stderr and "Traceback" not in done.stderr


def _small_file_limit():
    """Files larger than 64 KiB cannot be written by the server: a full disk, as the kernel reports it."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_full_disk_during_an_update_keeps_serving_the_old_version(built):
    before = index_mod.load(built).version
    proc, url = start_server(built.index_dir, SEEDS, built.model_cache, env={"QA_ADMIN_TOKEN": TOKEN},
                             preexec=_small_file_limit)
    try:
        status, body = post_article(url, articles(1, "disk_full")[0])
        assert status == 507 and body["error"]["code"] == "storage_error"
        assert "previous version is still served" in body["error"]["message"]
        assert call(url + "/api/health")[1]["index"]["version"] == before
        status, answer = call(url + "/api/ask", json.dumps({"question": "Ai chủ trì hội nghị lần thứ 53?"}).encode(),
                              {"Content-Type": "application/json"})
        assert status == 200 and answer["found"]
    finally:
        stop_server(proc)
    assert index_mod.load(built).version == before
    assert not list((built.index_dir / index_mod.VERSIONS).glob(".tmp-*"))
