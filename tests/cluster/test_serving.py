"""Shards served by Ray Serve: the same answers, and faults really made on the local multi-node cluster."""
from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from qa.index import shards
from qa.ingest.articles import load_folder

from conftest import SEEDS, assert_same, needs_ray, seed_dialogues, start_server, stop_server

pytestmark = needs_ray
QUESTION = "Ai chủ trì Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 6?"


def in_thread(call):
    """Run a call in a thread of its own, as a gunicorn worker thread does: Serve refuses blocking calls from a
    thread running an asyncio loop, which earlier tests (Playwright's) may leave in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


@pytest.fixture(scope="module")
def sharded_config(ray_cluster, seed_config, embedder, tmp_path_factory):
    """The seeds in 2 shards, each deployed with 2 replicas on the cluster."""
    from qa.cluster import serving

    config = replace(seed_config, index_dir=tmp_path_factory.mktemp("served") / "index")
    shards.build(config, load_folder(SEEDS)[0], embedder, 2, progress=False)
    names, refused = serving.deploy(ray_cluster.address, config, replicas=2)
    assert len(names) == 2 and not refused
    return config


def test_served_shards_answer_as_the_single_index(ray_cluster, sharded_config, service, embedder):
    from qa.cluster import serving

    served = serving.ClusterService(sharded_config, ray_cluster.address, embedder)
    assert in_thread(served.health)["status"] == "ok"
    for entry in shards.current(sharded_config)[1]["shards"]:
        assert len(set(_replica_nodes(serving.app_name(entry)))) == 2, "a shard's 2 replicas share a node"
    in_thread(lambda: assert_same(service, served, seed_dialogues()))
    calls = in_thread(lambda: [shard.submit("dense", "__len__") for shard in served.index.shards])
    assert not any(call.response.by_reference for call in calls)  # sent over gRPC, not as actor tasks
    assert sum(in_thread(lambda: [call.result() for call in calls])) == sum(s.passages for s in served.index.shards)


def test_damaged_shard_is_refused_by_name_and_the_other_serves(ray_cluster, sharded_config, embedder, tmp_path):
    from ray import serve

    from qa.cluster import serving

    config = replace(sharded_config, index_dir=tmp_path / "index")
    shutil.copytree(sharded_config.index_dir, config.index_dir, symlinks=True)
    folder, manifest = shards.current(config)
    store = shards.shard_folder(folder, manifest["shards"][1]) / "store.sqlite"
    data = bytearray(store.read_bytes())
    data[200:208] = b"damaged!"
    store.write_bytes(bytes(data))
    names, refused = serving.deploy(ray_cluster.address, config, replicas=1)
    try:
        assert list(refused) == ["shard-1"] and "checksum" in refused["shard-1"]
        assert names == [serving.app_name(manifest["shards"][0])]
        served = serving.ClusterService(config, ray_cluster.address, embedder, timeout=2)
        result = in_thread(lambda: served.ask(QUESTION))
        assert result["partial"] is True and result["missing_shards"] == ["shard-1"] and result["passages"]
    finally:
        serving.deploy(ray_cluster.address, sharded_config, replicas=2)
    assert serving.app_name(manifest["shards"][1]) in serve.status().applications


def test_a_set_changed_while_served_is_taken_up_once_deployed(ray_cluster, sharded_config, embedder, tmp_path):
    """An update publishes a set whose shards are not deployed yet: the shards in use answer until `deploy` ran."""
    from qa.cluster import serving
    from qa.index import versions

    config = replace(sharded_config, index_dir=tmp_path / "index")
    shutil.copytree(sharded_config.index_dir, config.index_dir, symlinks=True)
    before = shards.current(config)[1]["version"]
    served = serving.ClusterService(config, ray_cluster.address, embedder)
    article = replace(load_folder(SEEDS)[0][0], id="served_new", title="Khánh thành cầu vượt sông Hồng Thịnh",
                      text="Sáng 9-4, tỉnh Hồng Thịnh khánh thành cầu vượt sông dài 1.240 mét sau 26 tháng thi công.")
    published = versions.update(config, embedder, add=[article])
    assert not in_thread(served.refresh)
    result = in_thread(lambda: served.ask(QUESTION))
    assert result["index_version"] == before and result["passages"] and "partial" not in result
    try:
        serving.deploy(ray_cluster.address, config, replicas=1)
        time.sleep(serving.PENDING_S)
        assert in_thread(served.refresh) and served.index.version == published["version"]
        result = in_thread(lambda: served.ask("Cầu vượt sông Hồng Thịnh dài bao nhiêu mét?"))
        assert result["passages"][0]["article_id"] == "served_new" and "1.240 mét" in result["answer"]["text"]
        assert "partial" not in result
    finally:
        serving.deploy(ray_cluster.address, sharded_config, replicas=2)


def _post(url: str, question: str) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/ask", json.dumps({"question": question}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def _health(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url + "/api/health", timeout=60) as response:
        return response.status, json.loads(response.read())


def _replica_nodes(app: str) -> list[str]:
    """Node ids of an application's live replicas."""
    import ray

    return [a["Address"]["NodeID"] for a in ray._private.state.actors().values()
            if a["State"] == "ALIVE" and a["ActorClassName"].startswith(f"ServeReplica:{app}:")]


def test_the_http_front_end_rides_out_a_lost_node_and_a_lost_shard(ray_cluster, sharded_config, base_config,
                                                                    tmp_path):
    from ray import serve

    from qa.cluster import serving
    from qa.cluster.local import OBJECT_STORE_MB

    proc, url = start_server(sharded_config.index_dir, SEEDS, base_config.model_cache,
                             options=("--ray", ray_cluster.address, "--replicas", "2"))
    try:
        status, health = _health(url)
        assert status == 200 and health["status"] == "ok" and health["index"]["format"] == shards.FORMAT
        manifest = shards.current(sharded_config)[1]

        # a node holding one of a shard's two replicas dies while questions keep coming
        head = ray_cluster.head_node.node_id
        victim, app = next((node, serving.app_name(e)) for e in manifest["shards"]
                           for node in set(_replica_nodes(serving.app_name(e))) if node != head
                           and len(set(_replica_nodes(serving.app_name(e)))) == 2)
        node = next(n for n in ray_cluster.list_all_nodes() if n.node_id == victim)
        killer = threading.Timer(1.0, ray_cluster.remove_node, (node,), {"allow_graceful": False})
        killer.start()
        questions = [q for q, history in seed_dialogues() if not history][:30]
        answers = [_post(url, q) for q in questions]
        killer.join()
        assert [s for s, _ in answers] == [200] * len(questions)
        assert not [a for _, a in answers if a.get("partial")], "a lost replica made answers partial"
        deadline = time.time() + 60  # until Serve has seen the node die (its replica may still be listed a while)
        while (victim in _replica_nodes(app) or len(set(_replica_nodes(app))) < 2) and time.time() < deadline:
            time.sleep(1)
        assert victim not in _replica_nodes(app) and len(set(_replica_nodes(app))) == 2, "no replacement elsewhere"

        # every replica of shard-1 gone: answers come from shard-0 and say so; health is degraded, never a 5xx
        lost = manifest["shards"][1]
        serve.delete(serving.app_name(lost))
        status, result = _post(url, QUESTION + " (1)")
        assert status == 200 and result["partial"] is True and result["missing_shards"] == ["shard-1"]
        held = {a.id for a in load_folder(SEEDS)[0] if shards.shard_of(a.id, 2) == 0}
        assert {p["article_id"] for p in result["passages"]} <= held
        status, health = _health(url)
        assert status == 200 and health["status"] == "degraded" and health["missing_shards"] == ["shard-1"]

        # the shard deployed again: after a few seconds the answers are whole again
        serving.deploy(ray_cluster.address, sharded_config, replicas=2)
        deadline = time.time() + 60
        while _post(url, QUESTION + f" ({int(time.time())})")[1].get("partial") and time.time() < deadline:
            time.sleep(1)
        status, result = _post(url, QUESTION)
        assert status == 200 and "partial" not in result
        assert _health(url)[1]["status"] == "ok"
    finally:
        stop_server(proc)
        ray_cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE_MB * 1024 * 1024,
                             node_ip_address="127.0.0.1")


def test_a_node_added_back_gets_its_replicas_again(ray_cluster, sharded_config):
    from qa.cluster import serving
    from qa.cluster.local import OBJECT_STORE_MB

    apps = [serving.app_name(e) for e in shards.current(sharded_config)[1]["shards"]]
    serving.deploy(ray_cluster.address, sharded_config, replicas=3)  # one on each of the 3 nodes
    try:
        assert all(len(set(_replica_nodes(app))) == 3 for app in apps)
        head = ray_cluster.head_node.node_id
        ray_cluster.remove_node(next(n for n in ray_cluster.list_all_nodes() if n.node_id != head),
                                allow_graceful=False)
        deadline = time.time() + 60
        while any(len(_replica_nodes(app)) != 2 for app in apps) and time.time() < deadline:
            time.sleep(1)
        assert all(len(set(_replica_nodes(app))) == 2 for app in apps), "a lost node's replica found no place"
        added = ray_cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE_MB * 1024 * 1024,
                                     node_ip_address="127.0.0.1")
        deadline = time.time() + 120
        while not all(added.node_id in _replica_nodes(app) for app in apps) and time.time() < deadline:
            time.sleep(1)
        assert all(added.node_id in _replica_nodes(app) and len(set(_replica_nodes(app))) == 3 for app in apps)
    finally:
        serving.deploy(ray_cluster.address, sharded_config, replicas=2)
