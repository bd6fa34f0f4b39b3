"""A Ray cluster of several nodes on this machine, every node on 127.0.0.1, for trying the cluster commands.

`up` starts a small supervisor process that holds the cluster (ray.cluster_utils.Cluster, a developer
API: Ray is pinned) and writes its address to a state file; `down` stops that process, which shuts its
own nodes down. No other Ray process on the machine is touched.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qa.cluster import ClusterError, prepare

STATE = Path(tempfile.gettempdir()) / f"qa-cluster-{os.getuid()}.json"
OBJECT_STORE_MB = 80


def start(nodes: int = 3, cpus_per_node: int = 1, object_store_mb: int = OBJECT_STORE_MB, head_cpus: int | None = None):
    """A head and `nodes - 1` more nodes in this process's care, all on 127.0.0.1, dashboard off.

    `head_cpus` (default `cpus_per_node`) 0 keeps work off the head, as on a real cluster."""
    _check(nodes, cpus_per_node, head_cpus or 0)
    prepare()
    from ray.cluster_utils import Cluster

    node = {"num_cpus": cpus_per_node, "object_store_memory": object_store_mb * 1024 * 1024,
            "node_ip_address": "127.0.0.1"}
    head = {**node, "num_cpus": cpus_per_node if head_cpus is None else head_cpus, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(nodes - 1):
        cluster.add_node(**node)
    cluster.wait_for_nodes()
    return cluster


def _check(nodes: int, cpus_per_node: int, head_cpus: int = 0) -> None:
    """Refuse a cluster that cannot exist before anything is started."""
    if nodes < 1 or cpus_per_node < 1 or head_cpus < 0:
        raise ClusterError(f"a cluster needs at least 1 node of at least 1 CPU, not {nodes} of {cpus_per_node}")


def _running(state: Path) -> dict | None:
    """The recorded cluster, if its supervisor is still alive."""
    try:
        found = json.loads(state.read_text())
        os.kill(found["pid"], 0)
        return found
    except (OSError, ValueError, KeyError):
        return None


def up(nodes: int = 3, cpus_per_node: int = 1, state: Path | None = None, timeout: float = 240) -> str:
    """Start a local cluster in a supervisor process and return its address once every node is up."""
    _check(nodes, cpus_per_node)
    state = state or STATE
    found = _running(state)
    if found:
        raise ClusterError(f"a local cluster is already running at {found['address']}; "
                           "stop it with: python -m qa cluster down")
    state.unlink(missing_ok=True)
    log = state.with_suffix(".log")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "qa.cluster.local", str(nodes), str(cpus_per_node), str(state)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + timeout
    while not state.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise ClusterError(f"the local cluster did not start; its log {log} ends with: "
                               f"{log.read_text()[-2000:]}")
        time.sleep(0.5)
    return json.loads(state.read_text())["address"]


def down(state: Path | None = None, timeout: float = 120) -> str | None:
    """Stop the local cluster `up` started; its address, or None when none was running."""
    state = state or STATE
    found = _running(state)
    if found is None:
        state.unlink(missing_ok=True)
        return None
    os.kill(found["pid"], signal.SIGTERM)
    deadline = time.time() + timeout
    while _running(state) is not None and time.time() < deadline:
        time.sleep(0.5)
    if _running(state) is not None:
        raise ClusterError(f"the local cluster (supervisor pid {found['pid']}) did not stop within {timeout} s")
    return found["address"]


def _supervise(nodes: int, cpus_per_node: int, state: Path) -> None:
    """Hold the cluster until SIGTERM, then shut its nodes down and remove the state file."""
    cluster = start(nodes, cpus_per_node)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        work = state.with_suffix(".tmp")
        work.write_text(json.dumps({"pid": os.getpid(), "address": cluster.address, "nodes": nodes,
                                    "cpus_per_node": cpus_per_node}))
        os.replace(work, state)
        while True:
            signal.pause()
    finally:
        cluster.shutdown()
        state.unlink(missing_ok=True)


if __name__ == "__main__":
    _supervise(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
