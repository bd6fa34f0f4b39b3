"""The command line, run in-process (main) and once as a real `python -m qa` process."""
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import replace
from itertools import islice
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS, SHARED, needs_shared

BENCH = SHARED / "benchmarks" / "xquad_vi"


def test_ask_prints_ranked_passages(seed_config, runner):
    code, out, _ = runner("ask", "Chỉ thị 35-CT/TW của Bộ Chính trị nói về gì?", "-k", 2,
                        "--index", seed_config.index_dir)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("answer: ") and "[1]" in lines[1]
    first = next(line for line in lines if line.startswith("1. ["))
    assert "\n2. [" in out and ("002_8c712d888035ba10" in first or "004_30c59f19e71aa1d8" in first)


def test_ask_prints_the_short_answer_or_says_not_found(seed_config, runner):
    code, out, _ = runner("ask", "Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?", "--index",
                          seed_config.index_dir)
    assert code == 0 and out.splitlines()[0] == "answer: Phạm Xuân Thăng"
    code, out, _ = runner("ask", "Giá vàng SJC hôm nay bao nhiêu một lượng?", "--index", seed_config.index_dir)
    assert code == 0 and out.startswith("answer: not found in the articles")
    code, out, _ = runner("ask", "hội nghị", "--mode", "lexical", "--index", seed_config.index_dir)
    assert code == 0 and out.startswith("1. [")


def test_ask_json(seed_config, runner):
    code, out, _ = runner("ask", "Ai chủ trì hội nghị lần thứ 53?", "--json", "-k", 3,
                        "--index", seed_config.index_dir)
    data = json.loads(out)
    assert code == 0 and len(data["passages"]) == 3 and data["answer"]["short"] == "Phạm Xuân Thăng"
    assert {"rank", "id", "article_id", "title", "score", "text", "start", "end"} <= set(data["passages"][0])


def test_empty_question_is_an_error(seed_config, runner):
    code, _, err = runner("ask", "   ", "--index", seed_config.index_dir)
    assert code == 2 and "question is empty" in err


def test_bad_k_is_an_error(seed_config, runner):
    code, _, err = runner("ask", "hội nghị", "-k", 0, "--index", seed_config.index_dir)
    assert code == 2 and "-k" in err


def test_ask_without_index_says_how_to_build(tmp_path, runner):
    code, _, err = runner("ask", "hội nghị", "--index", tmp_path / "none")
    assert code == 3 and "python -m qa build" in err


def test_build_missing_folder(tmp_path, runner):
    code, _, err = runner("build", "--seeds", tmp_path / "nope", "--index", tmp_path / "idx")
    assert code == 2 and "does not exist" in err


def test_build_empty_folder(tmp_path, runner):
    (tmp_path / "empty").mkdir()
    code, _, err = runner("build", "--seeds", tmp_path / "empty", "--index", tmp_path / "idx")
    assert code == 2 and "no article files" in err


def test_build_only_bad_files(tmp_path, runner):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "latin1.txt").write_bytes("Tiêu đề\n\nNội dung".encode("utf-16"))
    (folder / "empty.txt").write_text("", encoding="utf-8")
    code, _, err = runner("build", "--seeds", folder, "--index", tmp_path / "idx")
    assert code == 2
    assert "latin1.txt" in err and "empty.txt" in err and "no usable article" in err


def test_one_bad_file_does_not_stop_the_others(tmp_path, seeds_copy, runner):
    (seeds_copy / "broken.txt").write_bytes(b"Ti\xeau \xf0\x28 \xff\xfe")
    code, out, err = runner("build", "--seeds", seeds_copy, "--index", tmp_path / "idx")
    assert code == 0
    assert "broken.txt" in err and "UTF-8" in err
    assert "5 articles" in out


@needs_shared("benchmarks", "xquad_vi")
def test_eval_prints_metrics(tmp_path, runner):
    bench = tmp_path / "tiny"
    bench.mkdir()
    paragraphs = list(islice((BENCH / "paragraphs.jsonl").open(encoding="utf-8"), 6))
    ids = {json.loads(p)["id"] for p in paragraphs}
    questions = [q for q in (BENCH / "questions.jsonl").open(encoding="utf-8") if json.loads(q)["paragraph_id"] in ids]
    (bench / "paragraphs.jsonl").write_text("".join(paragraphs), encoding="utf-8")
    (bench / "questions.jsonl").write_text("".join(questions[:12]), encoding="utf-8")
    code, out, _ = runner("eval", bench, "--index", tmp_path / "idx", "--json")
    metrics = json.loads(out)
    assert code == 0 and metrics["questions"] == 12
    assert metrics["R@1"] <= metrics["R@5"] <= metrics["R@10"] and metrics["R@10"] > 0.5
    assert metrics["latency_p50_ms"] > 0 and 0 < metrics["MRR@10"] <= 1


def test_eval_missing_benchmark(tmp_path, runner):
    code, _, err = runner("eval", tmp_path)
    assert code == 2 and "paragraphs.jsonl" in err


def test_real_process_offline(seed_config):
    env = dict(os.environ, HF_HUB_OFFLINE="1", QA_MODEL_CACHE=str(seed_config.model_cache))
    done = subprocess.run([sys.executable, "-m", "qa", "ask", "chi thi 35 ve dai hoi dang bo cac cap", "-k", "1",
                           "--index", str(seed_config.index_dir)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    first = next(line for line in done.stdout.splitlines() if line.startswith("1. ["))
    assert first.split("] ")[1].split(" ")[0] in {"002_8c712d888035ba10", "004_30c59f19e71aa1d8"}


def test_the_qa_command_is_python_m_qa():
    """`pip install -e .` (make does it) installs a `qa` command running the same main."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"qa": "qa.cli:main"}
    script = Path(sys.executable).with_name("qa")
    if not script.exists():
        pytest.skip(f"{script} is not installed (pip install -e .)")
    ours = subprocess.run([str(script), "serve", "--help"], capture_output=True, text=True, timeout=120)
    module = subprocess.run([sys.executable, "-m", "qa", "serve", "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert ours.returncode == module.returncode == 0 and ours.stdout == module.stdout


@pytest.fixture
def news_site(monkeypatch):
    from news_site import NewsSite

    monkeypatch.setenv("QA_CRAWL_DELAY_MS", "10")
    with NewsSite(faults=False) as site:
        yield site


def test_crawl_json_then_a_rerun_finds_everything_unchanged(tmp_path, news_site, runner):
    index = tmp_path / "idx"
    code, out, _ = runner("crawl", news_site.url("/feed.rss"), "--allow-private", "--json", "--index", index)
    report = json.loads(out)
    assert code == 0 and report["totals"]["fetched"] == 5 and report["version"]
    assert {i["status"] for i in report["items"]} == {"fetched"} and report["counts"]["articles"] == 5
    code, out, _ = runner("crawl", news_site.url("/sitemap.xml"), "--allow-private", "--max", "3", "--index", index)
    assert code == 0 and out.strip() == ("crawl: 0 fetched, 3 unchanged, 0 duplicate, 0 disallowed by robots.txt, "
                                         "0 failed; index unchanged")


def test_crawl_refuses_loopback_without_allow_private(tmp_path, news_site, runner):
    code, out, err = runner("crawl", news_site.url("/feed.rss"), "--index", tmp_path / "idx")
    assert code == 1 and "loopback, private or link-local" in err and "--allow-private" in err
    assert "0 fetched" in out and "1 failed" in out


def test_add_takes_urls_and_files_in_one_version(tmp_path, news_site, runner):
    path = tmp_path / "bai.txt"
    path.write_text("Tiêu đề bài thử\n\nNội dung của bài thử, đủ dài để thành một đoạn văn.\n", encoding="utf-8")
    index = tmp_path / "idx"
    code, out, _ = runner("add", news_site.url("/news/seed-1.html"), path, "--allow-private", "--index", index)
    assert code == 0 and out.startswith("crawl: 1 fetched") and "published index" in out
    from qa.config import Config
    from qa.index import versions

    ids = versions.current_ids(Config.from_env(index_dir=index))
    assert len(ids) == 2 and "bai" in ids


def test_add_of_a_page_to_a_set_of_shards_then_again_finds_it_unchanged(base_config, embedder, tmp_path, news_site,
                                                                       runner):
    from qa.index import shards, versions
    from qa.ingest.articles import load_folder

    config = replace(base_config, index_dir=tmp_path / "set")
    shards.build(config, load_folder(SEEDS)[0], embedder, 2, progress=False)
    page = news_site.url("/news/seed-1.html")
    code, out, err = runner("add", page, "--allow-private", "--index", config.index_dir)
    assert code == 0 and out.startswith("crawl: 1 fetched") and "published index" in out, err
    assert len(versions.current_ids(config)) == 6 and shards.current(config)[1]["counts"]["articles"] == 6
    before = shards.current(config)[1]["version"]
    code, out, _ = runner("add", page, "--allow-private", "--index", config.index_dir)
    assert code == 0 and "1 unchanged" in out and shards.current(config)[1]["version"] == before


@pytest.mark.parametrize("option, message", [(("--since", "hôm qua"), "is not a date"),
                                             (("--every", "soon"), "is not a positive number"),
                                             (("--max", "0"), "--max must be at least 1")])
def test_crawl_bad_options(tmp_path, runner, option, message):
    code, _, err = runner("crawl", "https://example.invalid/feed", *option, "--index", tmp_path / "idx")
    assert code == 2 and message in err


def test_crawl_every_keeps_refreshing_until_interrupted(tmp_path, news_site):
    import signal

    from news_site import generated_story, wait_until

    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", QA_CRAWL_DELAY_MS="10")
    ignore_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a job started in the background
    proc = subprocess.Popen([sys.executable, "-m", "qa", "crawl", news_site.url("/feed.atom"), "--every", "1s",
                             "--allow-private", "--index", str(tmp_path / "idx")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore_sigint)
    try:
        assert wait_until(lambda: news_site.hits("/feed.atom") >= 2, timeout=120)
        news_site.stories.append(generated_story(77))
        assert wait_until(lambda: news_site.hits("/news/story-77.html") >= 1, timeout=30)
        assert wait_until(lambda: news_site.hits("/feed.atom") >= 4, timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("crawl: 5 fetched") and any(line.startswith("crawl: 1 fetched, 5 unchanged")
                                                           for line in lines)
    assert "stopped; the last published version stays served" in err


def test_ask_takes_filters_and_says_what_they_left_out(seed_config, runner):
    code, out, _ = runner("ask", "Ai chủ trì hội nghị?", "--from", "2020-01-01", "--index", seed_config.index_dir)
    assert code == 0 and "001_c3d5175d572a1b4d" in out and "002_8c712d888035ba10" not in out
    assert "3 articles without a date were left out" in out
    code, out, _ = runner("ask", "Hội nghị tháng 11/2019 có bao nhiêu điểm cầu?", "--index", seed_config.index_dir)
    assert code == 0 and out.splitlines()[0] == "answer: 16 điểm cầu"
    assert "time: 'tháng 11/2019' → 2019-11-01 to 2019-11-30" in out
    code, _, err = runner("ask", "Ai chủ trì?", "--to", "2019-02-30", "--index", seed_config.index_dir)
    assert code == 2 and "date_to" in err and "not an ISO date" in err


def test_articles_lists_filtered_and_sorted(seed_config, runner):
    code, out, _ = runner("articles", "--sort", "date", "--index", seed_config.index_dir)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 5 and lines[0].startswith("2022-01-26") and "001_c3d5175d572a1b4d" in lines[0]
    code, out, _ = runner("articles", "--q", "truc tuyen", "--json", "--index", seed_config.index_dir)
    assert code == 0 and [a["id"] for a in json.loads(out)] == ["002_8c712d888035ba10"]
