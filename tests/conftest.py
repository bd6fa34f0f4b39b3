"""Shared fixtures: the real model and a seed index, each built once per test session."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.config import Config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"  # benchmarks and corpora beside the repository, not shipped with it
DATA = ROOT / "tests" / "data"


def needs_shared(*parts: str):
    """Skip a test, with the reason, when the data it reads from ../shared is absent."""
    path = SHARED.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"needs {path} (../shared/{'/'.join(parts)}, the shared "
                                                        f"data folder beside the repository), which is absent")


@pytest.fixture(scope="session")
def base_config(tmp_path_factory) -> Config:
    """Default settings with a private index folder; the model cache is the user's (converted once)."""
    return Config.from_env(index_dir=tmp_path_factory.mktemp("index"), seeds_dir=SEEDS)


@pytest.fixture(scope="session")
def embedder(base_config):
    """The real default model, loaded once."""
    from qa.model.embedder import Embedder

    return Embedder.from_config(base_config)


@pytest.fixture(scope="session")
def reader(base_config, embedder):
    """The real shipped reader (int8 ONNX), exported once, sharing the embedder's tokenizer as the service does."""
    from qa.model.reader import Reader

    return Reader.from_config(base_config, embedder)


@pytest.fixture(scope="session")
def seed_config(base_config, embedder) -> Config:
    """A configuration whose index holds the five seed articles."""
    from qa.cli import build_from_folder

    build_from_folder(base_config, embedder, progress=False)
    return base_config


@pytest.fixture(scope="session")
def service(seed_config, embedder, reader):
    """The question-answering service over the seed index."""
    from qa.service import Service

    return Service(seed_config, embedder, reader=reader)


@pytest.fixture(scope="session")
def app(seed_config, service):
    """The Flask app over the seed index (model and index loaded once for the session)."""
    from qa import create_app

    return create_app(seed_config, service)


TIME_NEWS = ROOT / "tests" / "data" / "time_news"


@pytest.fixture(scope="session")
def time_config(tmp_path_factory, base_config, embedder) -> Config:
    """An index of the seeds plus tests/data/time_news: the same kinds of event, dated across years."""
    from qa.index import versions
    from qa.ingest.articles import load_folder

    config = replace(base_config, index_dir=tmp_path_factory.mktemp("time-index"), today="2025-06-15")
    versions.build(config, [a for folder in (SEEDS, TIME_NEWS) for a in load_folder(folder)[0]], embedder,
                   progress=False)
    return config


@pytest.fixture(scope="session")
def time_service(time_config, embedder, reader):
    """The service over the dated corpus, on 2025-06-15."""
    from qa.service import Service

    return Service(time_config, embedder, reader=reader)


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(capsys):
    """Runs `python -m qa ...` in-process; returns (exit status, stdout, stderr)."""
    from qa.cli import main

    def run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


ADMIN_TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def admin_config(tmp_path_factory, base_config, embedder) -> Config:
    """A seed index of this test module's own, with corpus changes turned on and no rate limit."""
    from qa.cli import build_from_folder

    config = replace(base_config, index_dir=tmp_path_factory.mktemp("admin-index"), admin_token=ADMIN_TOKEN,
                     rate_limit="")
    build_from_folder(config, embedder, progress=False)
    return config


@pytest.fixture(scope="module")
def admin_client(admin_config, embedder):
    """Test client of an app over `admin_config`'s index."""
    from qa import create_app
    from qa.service import Service

    return create_app(admin_config, Service(admin_config, embedder)).test_client()


@pytest.fixture
def fresh_config(tmp_path, base_config) -> Config:
    """An empty index folder for tests that build or break indexes."""
    return replace(base_config, index_dir=tmp_path / "index")


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the seed folder."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


XSS_ARTICLE = ("<script>alert(1)</script> Bài kiểm tra <img src=x onerror=alert(1)>\n\n"
               "Ngày 5-6, Ban Thường vụ Tỉnh ủy tổ chức hội nghị về an toàn thông tin, nội dung "
               "<script>alert(1)</script> và <img src=x onerror=alert(1)> phải hiện đúng nguyên văn.\n\n"
               "Hội nghị giao Sở Thông tin và Truyền thông rà soát <b>toàn bộ</b> cổng thông tin điện tử "
               "trước ngày 30-6.\n")


WEB_ARTICLE = {"id": "web_test", "title": "Khánh thành cầu vượt sông Hồng Thịnh", "date": "2018-04-09",
               "url": "https://bao-mau.example/tin/cau-vuot-song-hong-thinh.html",
               "text": "Sáng 9-4, tỉnh Hồng Thịnh khánh thành cầu vượt sông dài 1.240 mét, nối hai huyện "
                       "Đông Thịnh và Tây Thịnh sau 26 tháng thi công.\n\nCây cầu có tổng vốn đầu tư 870 tỷ đồng."}


def free_port() -> int:
    """A port nobody listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_corpus(tmp_path_factory) -> Path:
    """The seeds plus an article full of markup that must stay inert."""
    folder = tmp_path_factory.mktemp("live") / "seeds"
    shutil.copytree(SEEDS, folder)
    (folder / "xss_test.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    (folder / "web_test.json").write_text(json.dumps(WEB_ARTICLE, ensure_ascii=False), encoding="utf-8")
    return folder


def start_server(index_dir: Path, seeds: Path, model_cache: Path, workers: int = 1, env: dict | None = None,
                 preexec=None, timeout: float = 240, options: tuple = ()):
    """Start `python -m qa serve` on a free port; returns (process, base URL) once it answers and every
    worker has said it is ready (a worker still warming up would not take requests yet)."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", QA_MODEL_CACHE=str(model_cache), PYTHONPATH=str(ROOT),
                    **(env or {}))
    log = open(Path(index_dir).parent / f"server-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port), "--workers", str(workers),
                             "--index", str(index_dir), "--seeds", str(seeds), *options], stdout=log,
                            stderr=subprocess.STDOUT, env=full_env, cwd=ROOT, preexec_fn=preexec,
                            start_new_session=True)
    proc.log_path = log.name
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2).read()
            if Path(log.name).read_text().count("ready:") >= workers:
                return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            stop_server(proc)
            raise RuntimeError("server did not start: " + Path(log.name).read_text())
        time.sleep(0.3)


def stop_server(proc, kill: bool = False) -> None:
    """Stop the server and its workers (the whole process group)."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


@pytest.fixture(scope="session")
def live_server(live_corpus, base_config, tmp_path_factory):
    """A real `python -m qa serve` process on a free port (it builds its index first); its base URL."""
    proc, url = start_server(tmp_path_factory.mktemp("live") / "index", live_corpus, base_config.model_cache)
    yield url
    stop_server(proc)


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def seed_dialogues() -> list[tuple[str, list[dict]]]:
    """Seed questions (with diacritics, without, in English), metadata questions and follow-ups with history."""
    asked = [(q["question"], []) for q in _jsonl("seed_questions.jsonl")]
    asked += [(q["question"], []) for q in _jsonl("metadata_questions.jsonl")][:8]
    asked += [(q["question"], []) for q in _jsonl("out_of_corpus.jsonl")][:8]
    for c in _jsonl("conversations.jsonl"):
        first, then = c["turns"][0], c["turns"][1]
        asked.append((then, [{"role": "user", "content": first}, {"role": "assistant", "content": "…"}]))
    return asked


def assert_same(single, sharded, dialogues) -> None:
    """Same passages in the same order with scores within 1e-4, and the same answer, citations and found."""
    for question, history in dialogues:
        one, many = single.ask(question, 5, history), sharded.ask(question, 5, history)
        where = f"question {question!r}"
        assert [p["id"] for p in many["passages"]] == [p["id"] for p in one["passages"]], where
        for a, b in zip(one["passages"], many["passages"]):
            for key in ("score", "dense_score", "lexical_score"):
                assert b[key] == pytest.approx(a[key], abs=1e-4), f"{where}: {key} of {a['id']}"
        assert many["found"] == one["found"], where
        assert many["answer"] == one["answer"], where
        assert many["resolved_question"] == one["resolved_question"], where
        assert "partial" not in many


needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="the cluster extra is not installed (pip install -r requirements-cluster.txt)")


@pytest.fixture(scope="session")
def ray_cluster():
    """One real multi-node Ray cluster for every cluster test: a head and 2 nodes of 1 CPU, all on 127.0.0.1,
    with this process connected as a driver."""
    from qa.cluster import connect, local

    cluster = local.start(nodes=3, cpus_per_node=1)
    connect(cluster.address)
    yield cluster
    import ray

    ray.shutdown()
    cluster.shutdown()
