import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from qa.index import versions as index_mod
from qa.ingest.articles import load_folder
from qa.cli import build_from_folder

from conftest import ROOT


def test_manifest_records_model_settings_counts_and_version(seed_config, embedder):
    index = index_mod.load(seed_config, embedder)
    m = index.manifest
    assert m["format"] == index_mod.FORMAT
    assert m["model"] == {"name": seed_config.model, "fingerprint": embedder.fingerprint, "dim": 384,
                          "backend": embedder.backend}
    assert set(m["stage_seconds"]) == {"split", "embed", "store", "lexical"}
    assert m["settings"] == seed_config.index_settings()
    assert m["counts"]["articles"] == 5 and m["counts"]["passages"] == len(index.dense) > 5
    assert m["built_at"] and m["version"] == index.version
    assert set(m["files"]) >= {"store.sqlite", "vectors.npy"}


def test_missing_index_says_how_to_build(fresh_config):
    with pytest.raises(index_mod.IndexNotFound, match="python -m qa build"):
        index_mod.load(fresh_config)


def test_other_model_is_refused_with_rebuild_command(seed_config, embedder):
    other = replace(seed_config, model="intfloat/multilingual-e5-base")
    with pytest.raises(index_mod.IndexMismatch, match="rebuild it with: python -m qa build .*--model "
                                                      "intfloat/multilingual-e5-base"):
        index_mod.load(other)


def test_other_settings_are_refused(seed_config):
    with pytest.raises(index_mod.IndexMismatch, match="settings"):
        index_mod.load(replace(seed_config, target_chars=900))


def test_other_weights_are_refused(seed_config, embedder, monkeypatch):
    monkeypatch.setattr(embedder, "fingerprint", "0000000000000000")
    with pytest.raises(index_mod.IndexMismatch, match="fingerprint"):
        index_mod.load(seed_config, embedder)


def test_index_of_an_older_format_says_how_to_rebuild(fresh_config, embedder):
    build_from_folder(fresh_config, embedder, progress=False)
    manifest = index_mod.current_folder(fresh_config.index_dir) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 5}))
    with pytest.raises(index_mod.IndexMismatch, match="has format 5, this program reads format 6; rebuild it with"):
        index_mod.load(fresh_config, embedder)


def test_rebuild_reembeds_only_the_changed_article(fresh_config, embedder, seeds_copy):
    config = replace(fresh_config, seeds_dir=seeds_copy)
    first = build_from_folder(config, embedder, progress=False)
    assert first["counts"]["embedded"] == first["counts"]["passages"]
    path = seeds_copy / "001_c3d5175d572a1b4d.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Sáng 26.1", "Sáng ngày 26.1"), encoding="utf-8")
    changed = [p for p in index_mod.load(config).store.article_passages("001_c3d5175d572a1b4d")]
    before = embedder.encoded
    second = build_from_folder(config, embedder, progress=False)
    assert embedder.encoded - before == second["counts"]["embedded"]
    assert 0 < second["counts"]["embedded"] <= len(changed)
    assert second["counts"]["reused"] == second["counts"]["passages"] - second["counts"]["embedded"]
    before = embedder.encoded
    third = build_from_folder(config, embedder, progress=False)
    assert embedder.encoded == before and third["counts"]["embedded"] == 0


def test_damaged_file_is_refused_naming_it(fresh_config, embedder):
    build_from_folder(fresh_config, embedder, progress=False)
    vectors = index_mod.current_folder(fresh_config.index_dir) / "vectors.npy"
    data = vectors.read_bytes()
    vectors.write_bytes(data[: len(data) // 2])
    with pytest.raises(index_mod.IndexCorrupt, match="vectors.npy"):
        index_mod.load(fresh_config, embedder)


def test_old_versions_are_pruned(fresh_config, embedder):
    for _ in range(index_mod.KEEP_VERSIONS + 2):
        build_from_folder(fresh_config, embedder, progress=False)
    versions = list((fresh_config.index_dir / index_mod.VERSIONS).iterdir())
    assert len(versions) == index_mod.KEEP_VERSIONS
    assert index_mod.current_folder(fresh_config.index_dir) in versions


def _many_articles(folder, copies: int) -> None:
    """Enough distinct text that embedding takes several seconds."""
    articles, _ = load_folder(ROOT / "seeds")
    folder.mkdir()
    for n in range(copies):
        for a in articles:
            body = a.text.replace("Tỉnh ủy", f"Tỉnh ủy {n}")
            (folder / f"{a.id}_{n}.txt").write_text(f"{a.title} {n}\n\n{body}", encoding="utf-8")


def test_killed_build_leaves_the_previous_version(fresh_config, embedder, tmp_path):
    build_from_folder(fresh_config, embedder, progress=False)
    before = index_mod.load(fresh_config, embedder).version
    big = tmp_path / "big"
    _many_articles(big, 6)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QA_MODEL_CACHE=str(fresh_config.model_cache))
    proc = subprocess.Popen([sys.executable, "-m", "qa", "build", "--index", str(fresh_config.index_dir),
                             "--seeds", str(big)], stderr=subprocess.PIPE, env=env, cwd=ROOT)
    seen = b""
    deadline = time.time() + 120
    while b"passage/s" not in seen and time.time() < deadline:
        seen += proc.stderr.read1(4096)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert b"passage/s" in seen, seen[-500:]
    survived = index_mod.load(fresh_config, embedder)
    assert survived.version == before and survived.manifest["counts"]["articles"] == 5
    rerun = build_from_folder(replace(fresh_config, seeds_dir=big), embedder, progress=False)
    assert rerun["counts"]["articles"] == 30
    assert index_mod.load(fresh_config, embedder).version == rerun["version"]
    assert not list((fresh_config.index_dir / index_mod.VERSIONS).glob(".tmp-*"))


def test_failed_build_leaves_the_previous_version(fresh_config, embedder, monkeypatch):
    build_from_folder(fresh_config, embedder, progress=False)
    before = index_mod.load(fresh_config, embedder).version

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(index_mod.Dense, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        build_from_folder(fresh_config, embedder, progress=False)
    assert index_mod.load(fresh_config, embedder).version == before
    assert not list((fresh_config.index_dir / index_mod.VERSIONS).glob(".tmp-*"))


def test_store_offsets_match_article_text(seed_config):
    index = index_mod.load(seed_config)
    for summary in index.store.summaries():
        article = index.store.article(summary["id"])
        passages = index.store.article_passages(summary["id"])
        assert len(passages) == summary["passages"] > 0
        for p in passages:
            assert article.text[p["start"]:p["end"]] == p["text"]
    manifest = json.loads((index.folder / "manifest.json").read_text())
    assert manifest["counts"]["passages"] == sum(s["passages"] for s in index.store.summaries())


def test_updated_index_searches_like_a_fresh_build(fresh_config, embedder, tmp_path):
    from qa.ingest.articles import Article

    build_from_folder(fresh_config, embedder, progress=False)
    extra = Article(id="extra", title="Hội nghị về chuyển đổi số",
                    text="Ngày 12-3, Tỉnh ủy tổ chức hội nghị về chuyển đổi số. Mục tiêu là 90% thủ tục trực tuyến.")
    before = embedder.encoded
    manifest = index_mod.update(fresh_config, embedder, add=[extra], remove=["001_c3d5175d572a1b4d"])
    assert embedder.encoded - before == manifest["counts"]["embedded"] == 1
    articles, _ = load_folder(ROOT / "seeds")
    scratch = replace(fresh_config, index_dir=tmp_path / "scratch")
    index_mod.build(scratch, [a for a in articles if a.id != "001_c3d5175d572a1b4d"] + [extra], embedder,
                    progress=False)
    updated, fresh = index_mod.load(fresh_config), index_mod.load(scratch)
    rows = lambda ix: {p["id"]: p["row"] for s in ix.store.summaries() for p in ix.store.article_passages(s["id"])}
    a, b = rows(updated), rows(fresh)
    assert set(a) == set(b)
    for question in ["chuyển đổi số", "Chỉ thị 35-CT/TW", "tinh uy hoi nghi"]:
        sa, sb = updated.lexical.scores(question), fresh.lexical.scores(question)
        assert all(abs(sa[a[i]] - sb[b[i]]) < 1e-4 for i in a)
    for i in a:
        assert float(updated.dense.vectors_of([a[i]])[0] @ fresh.dense.vectors_of([b[i]])[0]) > 0.9999


REMOVED = "001_c3d5175d572a1b4d"
EXTRA_TEXT = "Ngày 12-3, Tỉnh ủy tổ chức hội nghị về chuyển đổi số. Mục tiêu là 90% thủ tục trực tuyến."


@pytest.fixture(params=["auto", "hnsw"])
def delta_config(request, fresh_config, embedder, monkeypatch):
    """A seed index that takes updates as a delta segment, as a large one does (with its HNSW graph, or exact)."""
    monkeypatch.setattr(index_mod, "MERGE_SHARE", 1.0)
    config = replace(fresh_config, delta_from=1, dense_index=request.param)
    build_from_folder(config, embedder, progress=False)
    return config


def test_update_of_a_large_index_writes_a_delta_and_links_the_base(delta_config, embedder, tmp_path):
    from qa.ingest.articles import Article
    from qa.service import Service

    before = index_mod.load(delta_config)
    extra = Article(id="extra", title="Hội nghị về chuyển đổi số", text=EXTRA_TEXT)
    manifest = index_mod.update(delta_config, embedder, add=[extra], remove=[REMOVED])
    after = index_mod.load(delta_config, embedder)
    assert manifest["hidden"] == [REMOVED] and manifest["counts"]["embedded"] == 1
    assert manifest["segments"]["delta"] == {"passages": 1, "sentences": 2}
    assert os.stat(after.folder / "vectors.npy").st_ino == os.stat(before.folder / "vectors.npy").st_ino
    assert (after.dense.base.ann is not None) is (delta_config.dense_index == "hnsw")
    assert index_mod.load(delta_config, embedder, previous=before).dense.base is before.dense.base
    summaries = after.store.summaries()
    assert [s["id"] for s in summaries] == sorted({s["id"] for s in before.store.summaries()} - {REMOVED} | {"extra"})
    assert manifest["counts"]["passages"] == sum(s["passages"] for s in summaries) == len(after.dense)
    assert after.store.article(REMOVED) is None and after.store.article_passages(REMOVED) == []
    service = Service(delta_config, embedder)
    assert service.search("chuyển đổi số thủ tục trực tuyến", 1)[0]["article_id"] == "extra"
    removed_title = before.store.article(REMOVED).title
    assert all(p["article_id"] != REMOVED for p in service.search(removed_title, 20))
    assert not set(after.lexical.rows_with("ủy")) & set(before.store.rows_of([REMOVED]))

    # The delta is weighted by the statistics of base and delta together, hidden articles included:
    # those of a fresh build over the seeds plus the new article.
    articles, _ = load_folder(ROOT / "seeds")
    scratch = replace(delta_config, index_dir=tmp_path / "scratch")
    index_mod.build(scratch, articles + [extra], embedder, progress=False)
    fresh = index_mod.load(scratch)
    row, fresh_row = after.store.rows_of(["extra"])[0], fresh.store.rows_of(["extra"])[0]
    for question in ["chuyển đổi số", "tinh uy hoi nghi"]:
        assert after.lexical.scores(question)[row] == pytest.approx(fresh.lexical.scores(question)[fresh_row], rel=1e-4)
    words = ["tỉnh", "số"]
    assert after.lexical.words(words).idf(words) == pytest.approx(fresh.lexical.words(words).idf(words), rel=1e-4)


def test_later_updates_keep_the_delta_and_past_the_share_merge_it(delta_config, embedder, monkeypatch):
    from qa.ingest.articles import Article

    index_mod.update(delta_config, embedder, add=[Article(id="extra", title="Chuyển đổi số", text=EXTRA_TEXT)])
    second = Article(id="second", title="Bóng đá", text="Đội tuyển của tỉnh thắng 3-0 trong trận chung kết.")
    manifest = index_mod.update(delta_config, embedder, add=[second], remove=[REMOVED])
    assert manifest["counts"]["embedded"] == 1 and manifest["hidden"] == [REMOVED]
    before = index_mod.load(delta_config)
    assert {"extra", "second"} <= {s["id"] for s in before.store.summaries()}
    monkeypatch.setattr(index_mod, "MERGE_SHARE", 0.0)
    merged = index_mod.update(delta_config, embedder, remove=["second"])
    assert "hidden" not in merged and not any(name.startswith("delta/") for name in merged["files"])
    assert merged["counts"]["embedded"] == 0 and merged["counts"]["articles"] == 5
    index = index_mod.load(delta_config, embedder, previous=before)
    assert index.dense.base is not before.dense.base
    assert len(index.dense) == merged["counts"]["passages"] == sum(s["passages"] for s in index.store.summaries())
    assert index.store.article("extra").text == EXTRA_TEXT


def test_update_with_other_settings_rebuilds_every_article(fresh_config, embedder):
    from qa.ingest.articles import Article

    build_from_folder(fresh_config, embedder, progress=False)
    other = replace(fresh_config, target_chars=900)
    manifest = index_mod.update(other, embedder, add=[Article(id="extra", title="Chuyển đổi số", text=EXTRA_TEXT)])
    assert manifest["counts"]["articles"] == 6 and manifest["settings"]["target_chars"] == 900
    assert index_mod.load(other, embedder).store.article(REMOVED) is not None
