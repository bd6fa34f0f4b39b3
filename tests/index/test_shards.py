"""A sharded index answers exactly as the single index over the same articles, also after updates; damage and
failed builds."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SEEDS, SHARED, assert_same, needs_shared, seed_dialogues

from qa import eval as eval_mod
from qa.answer import reading
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
    sharded = sharded_service(seed_config, embedder, articles, 2, tmp_path)
    assert_same(service, sharded, seed_dialogues())
    question, words = "Hội nghị lần thứ 53 bàn gì?", ["hoi", "nghi", "quang", "ninh", "xyzzy", "2023"]
    found = []
    for one in (service, sharded):
        rows = [p["row"] for p in one.search(question, 5)]
        found.append(reading.of(one.index, rows, 3, one.query(one.index, question, "vi"), words))
    assert found[1].occurring == found[0].occurring
    assert True in found[0].occurring.values() and False in found[0].occurring.values()
    assert [p["id"] for p in found[1].passages.values()] == [p["id"] for p in found[0].passages.values()]
    assert sorted(found[1].sentence_scores.values()) == pytest.approx(sorted(found[0].sentence_scores.values()),
                                                                    abs=1e-5)


def test_a_question_costs_one_call_to_each_shard_retrieving_and_reading_at_once(seed_config, embedder,
                                                                                tmp_path, monkeypatch):
    """Whatever a question looks up, each shard gets one call, which retrieves and reads ahead; 2 when it is
    typed without diacritics (its respelling)."""
    sharded = sharded_service(seed_config, embedder, load_folder(SEEDS)[0], 2, tmp_path)
    calls = []
    for method in ("run", "submit"):
        real = getattr(shards.LocalShard, method)
        monkeypatch.setattr(shards.LocalShard, method,
                            lambda shard, *args, real=real: calls.append(shard.name) or real(shard, *args))
    for question, rounds in [("Hội nghị lần thứ 6 có bao nhiêu điểm cầu?", 1),
                             ("Hoi nghi lan thu 6 co bao nhieu diem cau?", 2), ("Who chaired the 6th conference?", 1)]:
        calls.clear()
        result = sharded.ask(question)
        assert result["found"] and calls.count("shard-0") <= rounds and calls.count("shard-1") <= rounds, question
        assert max(calls.count("shard-0"), calls.count("shard-1")) == rounds, question


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


def single_copy(seed_config, embedder, tmp: Path, **change):
    """The seed index copied and changed as a single index: what a set must answer like after the same change."""
    from qa.service import Service

    config = replace(seed_config, index_dir=tmp / "single")
    shutil.copytree(seed_config.index_dir, config.index_dir, symlinks=True)
    versions.update(config, embedder, **change)
    return Service(config, embedder)


def test_removing_and_adding_on_a_set_answers_as_one_index(service, seed_config, embedder, tmp_path):
    from qa.service import Service

    articles, _ = load_folder(SEEDS)
    gone = articles[2]
    config = replace(seed_config, index_dir=tmp_path / "set")
    first = shards.build(config, articles, embedder, 2, progress=False)
    sharded = Service(config, embedder)
    removed = versions.update(config, embedder, remove=[gone.id])
    assert sharded.refresh() and sharded.index.version == removed["version"] != first["version"]
    assert removed["counts"]["embedded"] == 0 and removed["counts"]["reused"] == removed["counts"]["passages"]
    fresh = shards.statistics(config, articles[:2] + articles[3:], embedder)
    assert fresh == shards._statistics(*shards.current(config))
    assert_same(single_copy(seed_config, embedder, tmp_path, remove=[gone.id]), sharded, seed_dialogues())
    added = versions.update(config, embedder, add=[gone])
    assert sharded.refresh() and sharded.index.version == added["version"]
    own = len(service.index.store.article_passages(gone.id))
    assert added["counts"]["embedded"] == own and added["counts"]["reused"] == added["counts"]["passages"] - own
    assert added["statistics"] == first["statistics"]
    assert_same(service, sharded, seed_dialogues())


def test_a_shard_whose_articles_stayed_is_only_re_weighted(seed_config, embedder, tmp_path):
    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    first = shards.build(config, articles, embedder, 2, progress=False)
    before = shards.shard_folder(versions.current_folder(config.index_dir), first["shards"][0])
    versions.update(config, embedder, remove=[articles[2].id])
    folder = versions.current_folder(config.index_dir)
    after = shards.shard_folder(folder, shards.current(config)[1]["shards"][0])
    assert (after / "vectors.npy").stat().st_ino == (before / "vectors.npy").stat().st_ino
    assert (after / "lexical" / "tokens.npy").stat().st_ino != (before / "lexical" / "tokens.npy").stat().st_ino
    assert json.loads((after / "manifest.json").read_text())["counts"]["embedded"] == 0
    assert shards.load(config, embedder, verify=True).version == folder.name


def test_replacing_on_a_set_re_embeds_only_the_changed_passages(seed_config, embedder, tmp_path):
    from qa.service import Service

    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    shards.build(config, articles, embedder, 2, progress=False)
    changed = replace(articles[3], text=articles[3].text + "\n\nKinh phí thực hiện chương trình là 120 tỷ đồng.")
    manifest = versions.update(config, embedder, add=[changed])
    assert 1 <= manifest["counts"]["embedded"] <= 2 and manifest["counts"]["articles"] == len(articles)
    question = "Kinh phí thực hiện chương trình là bao nhiêu?"
    single = single_copy(seed_config, embedder, tmp_path, add=[changed])
    assert_same(single, Service(config, embedder), [(question, [])] + seed_dialogues()[:10])


@pytest.mark.parametrize("change, error, message", [
    (dict(add="taken", replace=False), versions.DuplicateArticle, "already exists; send replace=true"),
    (dict(remove=["no_such_article"]), versions.UnknownArticle, "no article with id 'no_such_article'"),
    (dict(remove="shard-0"), versions.UnknownArticle, "would leave shard-0 with no article"),
    (dict(remove="all"), versions.UnknownArticle, "would leave an empty index"),
])
def test_refused_changes_of_a_set_change_nothing(seed_config, embedder, tmp_path, change, error, message):
    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    first = shards.build(config, articles, embedder, 2, progress=False)
    alone = [a.id for a in articles if shards.shard_of(a.id, 2) == 0]
    named = {"taken": articles[:1], "shard-0": alone, "all": [a.id for a in articles]}
    with pytest.raises(error, match=message):
        versions.update(config, embedder, **{k: named.get(v, v) if isinstance(v, str) else v
                                             for k, v in change.items()})
    assert shards.current(config)[1]["version"] == first["version"]
    assert len(list((config.index_dir / versions.VERSIONS).iterdir())) == 1


def test_a_failed_update_leaves_the_previous_set_published(seed_config, embedder, tmp_path, monkeypatch):
    articles, _ = load_folder(SEEDS)
    config = replace(seed_config, index_dir=tmp_path / "set")
    first = shards.build(config, articles, embedder, 2, progress=False)
    reweighed, reweigh = [], versions.reweigh

    def counted(*args):
        reweighed.append(reweigh(*args))
        return reweighed[-1]

    def broken(*args, **options):
        raise RuntimeError("the node running the update went away")

    monkeypatch.setattr(versions, "reweigh", counted)
    monkeypatch.setattr(versions, "_build", broken)
    changed = replace(articles[2], text=articles[2].text + "\n\nMột đoạn mới.")
    with pytest.raises(RuntimeError, match="went away"):
        versions.update(config, embedder, add=[changed])
    assert len(reweighed) == 1 and shards.shard_of(changed.id, 2) == 1
    assert shards.current(config)[1]["version"] == first["version"]
    assert [p.name for p in (config.index_dir / versions.VERSIONS).iterdir()] == [first["version"]]
    assert shards.load(config, embedder).version == first["version"]


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
