"""Building and serving on a Ray cluster: the only package that imports Ray (an extra: pip install .[cluster]).

Ray is imported inside functions, after `connect` or `prepare` has run, so the single-machine path
never loads it.
"""
from __future__ import annotations

import os
import sys

LOOPBACK = ("127.0.0.1", "localhost")
# Ray's own switch: when off, a Ray process asked for "127.0.0.1" keeps to it instead of swapping in
# the machine's primary address (which may be a private-range one). Read once, when Ray is imported.
LOCAL_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class ClusterError(ConnectionError):
    """The cluster cannot do what was asked; the message says what to run."""


def is_loopback(address: str | None) -> bool:
    """Whether a cluster address (host:port) is on this machine's loopback."""
    return address is None or address.rsplit(":", 1)[0] in LOOPBACK


def prepare(address: str | None = None) -> None:
    """Before Ray is imported: a loopback cluster keeps every connection on 127.0.0.1."""
    if not is_loopback(address):
        return
    os.environ.setdefault(LOCAL_ONLY, "0")
    if "ray" in sys.modules:
        from ray._private import ray_constants

        if ray_constants.ENABLE_RAY_CLUSTER:
            raise ClusterError(f"ray was imported before qa.cluster.prepare(), so it would reach a loopback "
                               f"cluster through this machine's primary address; set {LOCAL_ONLY}=0 first")


def connect(address: str) -> None:
    """Join the cluster at `address` as a driver (once per process)."""
    prepare(address)
    import ray

    if ray.is_initialized():
        joined = ray.get_runtime_context().gcs_address
        if joined != address:
            raise ClusterError(f"this process is already connected to the Ray cluster at {joined}, not {address}")
        return
    try:
        ray.init(address=address, _node_ip_address="127.0.0.1" if is_loopback(address) else None,
                 logging_level="warning", log_to_driver=False, include_dashboard=False)
    except ConnectionError as exc:
        raise ClusterError(f"no Ray cluster answers at {address} ({exc}); start one with: python -m qa cluster up") \
            from None
