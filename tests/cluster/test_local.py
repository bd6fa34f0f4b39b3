"""The local multi-node cluster: every node on loopback; `cluster up` and `down`; Ray stays out of one machine."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, needs_ray


@needs_ray
def test_every_node_is_alive_on_loopback(ray_cluster):
    import ray

    nodes = [n for n in ray.nodes() if n["Alive"]]
    assert len(nodes) == 3
    assert {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}
    assert ray_cluster.address.startswith("127.0.0.1:")
    assert ray.cluster_resources()["CPU"] == 3


def test_the_single_machine_path_never_imports_ray():
    code = "import sys, qa.service, qa.cli, qa.serve.app; sys.exit('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert done.returncode == 0, "importing the service, the CLI or the app imported ray"


@needs_ray
def test_cluster_up_prints_its_address_and_down_stops_it(runner, tmp_path, monkeypatch):
    from qa.cluster import local

    monkeypatch.setattr(local, "STATE", tmp_path / "cluster.json")
    code, out, _ = runner("cluster", "up", "--nodes", "2")
    assert code == 0
    address = out.strip()
    assert address.startswith("127.0.0.1:") and address == local._running(local.STATE)["address"]
    code, _, err = runner("cluster", "up")
    assert code == 2 and f"already running at {address}" in err
    code, out, _ = runner("cluster", "down")
    assert code == 0 and f"stopped the local cluster at {address}" in out
    assert local._running(tmp_path / "cluster.json") is None
    assert runner("cluster", "down")[1].strip() == "no local cluster was running"


def test_impossible_counts_are_refused_before_any_cluster_is_reached(runner):
    unreachable = "127.0.0.1:1"
    cases = [(("cluster", "up", "--nodes", "0"), "at least 1 node of at least 1 CPU, not 0 of 1"),
             (("cluster", "up", "--cpus-per-node", "0"), "not 3 of 0"),
             (("cluster", "deploy", "--ray", unreachable, "--replicas", "0"), "--replicas must be at least 1, not 0"),
             (("serve", "--ray", unreachable, "--replicas", "-1"), "--replicas must be at least 1, not -1"),
             (("build", "--ray", unreachable, "--shards", "0"), "--shards must be at least 1, not 0")]
    for argv, message in cases:
        code, _, err = runner(*argv)
        assert code == 2 and message in err, (argv, err)
