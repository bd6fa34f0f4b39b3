"""Building on the cluster: passages embedded by one actor per CPU, the shards answering as one index."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.index import shards
from qa.ingest.articles import load_folder

from conftest import SEEDS, assert_same, needs_ray, seed_dialogues


@needs_ray
def test_one_actor_per_cpu_embeds_as_the_local_model_does(ray_cluster, base_config, embedder):
    from qa.cluster.embedding import ClusterEmbedder

    texts = [f"passage: Hội nghị lần thứ {i} bàn về công tác cán bộ và phòng, chống tham nhũng." * (1 + i % 3)
             for i in range(10)]
    spans = [[(9, 30), (31, 60)] for _ in texts]
    seen = []
    with ClusterEmbedder(ray_cluster.address, base_config, embedder) as remote:
        assert len(remote.actors) == 3
        vectors, sentences = remote.encode_passages(texts, spans, batch_size=4, progress=seen.append)
    local_vectors, local_sentences = embedder.encode_passages(texts, spans)
    assert np.abs(vectors - local_vectors).max() < 1e-4
    assert all(np.abs(a - b).max() < 1e-4 for a, b in zip(sentences, local_sentences))
    assert sum(seen) == len(texts) and len(seen) == 3


@needs_ray
def test_build_on_the_cluster_answers_as_the_single_index(ray_cluster, runner, service, seed_config, embedder,
                                                          tmp_path):
    from qa.service import Service

    index = tmp_path / "sharded"
    code, out, err = runner("build", "--ray", ray_cluster.address, "--shards", "2", "--index", index,
                            "--seeds", SEEDS)
    assert code == 0, err
    assert f"built 2 shards on {ray_cluster.address}" in out and "5 articles" in out
    config = replace(seed_config, index_dir=index)
    assert [s["name"] for s in shards.current(config)[1]["shards"]] == ["shard-0", "shard-1"]
    assert_same(service, Service(config, embedder, layout=shards), seed_dialogues())



@needs_ray
def test_a_build_driver_killed_half_way_leaves_the_previous_set_and_a_rerun_completes(ray_cluster, seed_config,
                                                                                       embedder, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from qa.index import versions

    from conftest import ROOT

    config = replace(seed_config, index_dir=tmp_path / "index")
    first = shards.build(config, load_folder(SEEDS)[0], embedder, 2, progress=False)
    command = [sys.executable, "-m", "qa", "build", "--ray", ray_cluster.address, "--shards", "2",
               "--index", str(config.index_dir), "--seeds", str(SEEDS)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 180
    versions_dir = config.index_dir / versions.VERSIONS
    while not list(versions_dir.glob(".tmp-*/shard-0/current")):  # the first shard is written, the set is not
        assert proc.poll() is None and time.time() < deadline, "the build ended before its first shard was written"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert shards.current(config)[1]["version"] == first["version"]
    assert shards.load(config, embedder).version == first["version"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert shards.current(config)[1]["version"] != first["version"]
    assert not list(versions_dir.glob(".tmp-*"))
