"""A sharded index answers exactly as the single index over the same articles; damage and failed builds."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SEEDS, SHARED, assert_same, needs_shared, seed_dialogues

from qa import eval as eval_mod
from qa.index import shards, versions
from qa.ingest.articles import load_folder

XQUAD = SHARED / "benchmarks" / "xquad_vi"


def sharded_service(config, embedder, articles, count: int, tmp: Path):
    """A service over `articles` built into `count` shards in this process."""
    from qa.service import Service

    sharded = replace(config, index_dir=tmp / f"shards-{count}")
    shards.build(sharded, articles, embedder, count, progress=False)
    return Service(sharded, embedder, layout=shards)


def test_two_shards_answer_as_one_index_over_the_seeds(service, seed_config, embedder, tmp_path):
    articles, _ = load_folder(SEEDS)
    assert_same(service, sharded_service(seed_config, embedder, articles, 2, tmp_path), seed_dialogues())


@pytest.fixture(scope="module")
def news_and_xquad(base_config, embedder, tmp_path_factory):
    """The seeds plus the xquad_vi paragraphs: one single index and its articles."""
    from qa.service import Service

    articles = load_folder(SEEDS)[0] + eval_mod.load_benchmark(XQUAD)[0]
    config = replace(base_config, index_dir=tmp_path_factory.mktemp("single"))
    versions.build(config, articles, embedder, progress=False)
    return Service(config, embedder), articles


@needs_shared("benchmarks", "xquad_vi")
@pytest.mark.parametrize("count", [2, 3])
def test_shards_answer_as_one_index_over_seeds_and_a_benchmark(news_and_xquad, embedder, count, tmp_path):
    single, articles = news_and_xquad
    sharded = sharded_service(single.config, embedder, articles, count, tmp_path)
    questions = eval_mod.load_benchmark(XQUAD)[1][::40]
    assert len(sharded.index.shards) == count
    assert_same(single, sharded, seed_dialogues() + [(q.text, []) for q in questions])


def test_set_manifest_names_each_shard_and_the_corpus_statistics(seed_config, embedder, tmp_path):
    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    manifest = shards.build(config, articles, embedder, 2, progress=False)
    folder = versions.current_folder(config.index_dir)
    assert [s["name"] for s in manifest["shards"]] == ["shard-0", "shard-1"]
    assert sum(s["articles"] for s in manifest["shards"]) == len(articles)
    for entry in manifest["shards"]:
        assert (shards.shard_folder(folder, entry) / "manifest.json").is_file()
    single = versions.load(seed_config, embedder)
    assert manifest["statistics"]["documents"] == len(single.dense) == manifest["counts"]["passages"]
    assert manifest["statistics"]["tokens"] == int(single.lexical.base.offsets[-1])


def test_more_shards_than_the_articles_fill_is_refused(seed_config, embedder, tmp_path):
    articles, _ = load_folder(SEEDS)
    with pytest.raises(ValueError, match="shard-2 would hold no article"):
        shards.build(replace(seed_config, index_dir=tmp_path / "set"), articles, embedder, 3, progress=False)


class _Failing:
    """An embedder that breaks down once it has embedded some passages (a build dying half-way)."""

    def __init__(self, embedder, after: int):
        self.embedder, self.left = embedder, after

    def __getattr__(self, name):
        return getattr(self.embedder, name)

    def encode_passages(self, texts, spans=None, **options):
        self.left -= len(texts)
        if self.left < 0:
            raise RuntimeError("the node running the build went away")
        return self.embedder.encode_passages(texts, spans, **options)


def test_a_failed_build_leaves_the_previous_set_published(seed_config, embedder, tmp_path):
    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    first = shards.build(config, articles, embedder, 2, progress=False)
    with pytest.raises(RuntimeError, match="went away"):
        shards.build(config, articles, embedder, 2, progress=False, shard_embedder=_Failing(embedder, 5))
    assert shards.current(config)[1]["version"] == first["version"]
    assert not list((tmp_path / "set" / versions.VERSIONS).glob(".tmp-*"))
    assert shards.load(config, embedder).version == first["version"]


def test_a_damaged_shard_is_refused_by_name_and_the_others_answer(seed_config, embedder, tmp_path, caplog):
    from qa.service import Service

    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    manifest = shards.build(config, articles, embedder, 2, progress=False)
    folder = versions.current_folder(config.index_dir)
    vectors = shards.shard_folder(folder, manifest["shards"][0]) / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-8:] = bytes(8)
    vectors.write_bytes(bytes(data))
    service = Service(config, embedder, layout=shards)
    assert "shard-0" in caplog.text and "damaged" in caplog.text
    result = service.ask("Ai chủ trì Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 6?")
    assert result["partial"] is True and result["missing_shards"] == ["shard-0"]
    held = {a.id for a in articles if shards.shard_of(a.id, 2) == 1}
    assert result["passages"] and {p["article_id"] for p in result["passages"]} <= held
    health = service.health()
    assert health["status"] == "degraded" and health["missing_shards"] == ["shard-0"]


def test_updates_of_a_sharded_set_are_refused_with_what_to_run(seed_config, embedder, tmp_path):
    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    first = shards.build(config, articles, embedder, 2, progress=False)
    with pytest.raises(versions.ShardedSet, match="python -m qa build --ray ADDRESS --shards S"):
        versions.update(config, embedder, remove=[articles[0].id])
    assert shards.current(config)[1]["version"] == first["version"]


def test_shards_filter_and_prefer_times_as_one_index(time_service, time_config, embedder, tmp_path):
    """Filters (a mask over the set's rows, split among the shards) and question times give the same answers."""
    from conftest import TIME_NEWS

    from qa.retrieve.filters import parse

    articles = [a for folder in (SEEDS, TIME_NEWS) for a in load_folder(folder)[0]]
    sharded = sharded_service(time_config, embedder, articles, 2, tmp_path)
    questions = ["Hội nghị tổng kết công tác xây dựng Đảng năm 2021 do ai chủ trì?",
                 "hoi nghi ban chap hanh dang bo tinh gan day nhat do ai chu tri",
                 "What was GRDP growth in the first six months of 2024?"]
    assert_same(time_service, sharded, [(q, []) for q in questions])
    for raw in ({"date_to": "2019-12-31"}, {"sources": ["tinhuy.vn"]}, {"date_from": "2023-01-01", "language": "vi"}):
        one = time_service.ask("Ai chủ trì hội nghị?", filters=parse(raw))
        many = sharded.ask("Ai chủ trì hội nghị?", filters=parse(raw))
        assert [p["id"] for p in many["passages"]] == [p["id"] for p in one["passages"]], raw
        assert many["answer"] == one["answer"] and many["excluded_undated"] == one["excluded_undated"], raw
    assert sharded.articles(parse({"date_from": "2023-01-01"}), sort="date") == \
        time_service.articles(parse({"date_from": "2023-01-01"}), sort="date")
