"""Serving a sharded index on Ray Serve: each shard a deployment of R replicas, the front end the router.

Every replica opens its shard's files (memory-mapped) with the index code of one machine and answers
the store, dense and lexical calls of `shards.ShardedIndex`; the front end (Flask under gunicorn, as
on one machine) holds the model, embeds the question, and runs retrieval, fusion and the answer step
over the shards' merged candidates. A shard whose replicas are all lost is left out: answers then say
`partial: true` and name it in `missing_shards`, and health says `degraded`, until it answers again.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from qa.cluster import connect
from qa.config import Config
from qa.index import shards
from qa.index.versions import IndexProblem, current_folder
from qa.service import Service

log = logging.getLogger(__name__)
DEPLOYMENT = "Shard"
TIMEOUT_S = 5.0  # a shard slower than this is treated as lost for this question
RETRIES = 3  # a request to a replica that just died is sent again (Serve routes it to a live one)
REVIVE_S = 5.0  # how often a lost shard is asked whether it is back
PENDING_S = 0.5  # how often Serve is asked whether a newly published set is deployed
# A shard's calls are short: they run on the replica's own event loop rather than a second loop's thread (as
# Serve's throughput-optimised mode does), and the front end's access log is the one kept.
REPLICA_ENV = {"RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0"}


def app_name(entry: dict) -> str:
    """The Serve application of one shard version: a new set deploys new applications beside the old."""
    return f"qa-{entry['name']}-{entry['version']}"


class ShardServer:
    """One shard in a Serve replica: the index version opened from its files, checksums checked."""

    def __init__(self, config: Config, folder: str, entry: dict):
        self.index = shards.open_shard(config, Path(folder), entry, None, checksums=True)

    def call(self, part: str, method: str, *args):
        """A method of the shard's store, dense or lexical index (what ShardedIndex asks of a shard)."""
        return getattr(getattr(self.index, part), method)(*args)

    def run(self, step, request):
        """A step of answering a question on this shard (ShardedIndex.run: one call for all a step needs)."""
        return step(self.index, request)


def per_node(replicas: int) -> int:
    """The most replicas of one shard a node may hold, so a shard's replicas spread over the live nodes
    (Serve's own spreading is best effort: two replicas on one node die together)."""
    import ray

    nodes = sum(1 for n in ray.nodes() if n["Alive"])
    return max(1, -(-replicas // max(nodes, 1)))


def deploy(address: str, config: Config, replicas: int = 1) -> tuple[list[str], dict[str, str]]:
    """Deploy every usable shard of the published set (R replicas each) and remove other sets' shards.

    Returns the applications deployed and the shards refused (damaged files), each with the reason."""
    if replicas < 1:
        raise ValueError(f"--replicas must be at least 1, not {replicas}")
    connect(address)
    from ray import serve

    folder, manifest = shards.current(config)
    folder = folder.resolve()
    serve.start(proxy_location="Disabled")
    wanted, refused, spread = [], {}, per_node(replicas)
    for entry in manifest["shards"]:
        try:
            shards.open_shard(config, folder, entry, None, checksums=True).close()
        except IndexProblem as exc:
            log.error("refusing %s: %s", entry["name"], exc)
            refused[entry["name"]] = str(exc)
            continue
        deployment = serve.deployment(ShardServer, name=DEPLOYMENT, num_replicas=replicas,
                                      ray_actor_options={"num_cpus": 0, "runtime_env": {"env_vars": REPLICA_ENV}},
                                      logging_config={"enable_access_log": False}, max_ongoing_requests=64,
                                      max_replicas_per_node=spread,
                                      health_check_period_s=2, health_check_timeout_s=10)
        name = app_name(entry)
        serve.run(deployment.bind(config, str(folder), entry), name=name, route_prefix=None)
        wanted.append(name)
    for name in serve.status().applications:
        if name.startswith("qa-shard-") and name not in wanted:
            serve.delete(name)
    return wanted, refused


class _Pending:
    """A shard's answer on its way; failures other than the shard's own code become ShardUnavailable."""

    def __init__(self, shard: RemoteShard, method: str, args: tuple):
        self.shard, self.method, self.args = shard, method, args
        self.response = self._send()

    def _send(self):
        """Send the call to one of the shard's replicas."""
        return getattr(self.shard.handle(), self.method).remote(*self.args)

    def result(self):
        from grpc import RpcError
        from ray.exceptions import RayError, RayTaskError
        from ray.serve.exceptions import RayServeException

        for attempt in range(RETRIES):
            try:
                return self.response.result(timeout_s=self.shard.timeout)
            except RayTaskError as exc:  # the shard's own code failed: a bug, not a lost shard
                raise exc.as_instanceof_cause() from None
            except TimeoutError:
                raise shards.ShardUnavailable(self.shard.name, f"no answer within {self.shard.timeout} s") from None
            except (RayError, RayServeException, RpcError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            log.warning("shard %s failed (%s), attempt %d of %d", self.shard.name, reason[:200], attempt + 1, RETRIES)
            self.response = self._send()
        raise shards.ShardUnavailable(self.shard.name, reason[:500])


class RemoteShard:
    """A shard served by a Serve deployment; the connection is made on first use, in the process using it."""

    _lock = threading.Lock()

    def __init__(self, number: int, entry: dict, address: str, timeout: float = TIMEOUT_S):
        self.number, self.name, self.app = number, entry["name"], app_name(entry)
        self.passages, self.sentences = entry["passages"], entry["sentences"]
        self.address, self.timeout, self._handle = address, timeout, None

    def handle(self):
        """The deployment handle (connecting to the cluster the first time)."""
        with self._lock:
            if self._handle is None:
                connect(self.address)
                from ray import serve

                # Not by reference: a call goes over gRPC straight to a replica instead of as a Ray actor task
                # (1.5-1.7 ms against 2.5-2.9 ms a call here; docs/benchmarks.md, "Cluster").
                self._handle = serve.get_deployment_handle(DEPLOYMENT, app_name=self.app).options(_by_reference=False)
        return self._handle

    def submit(self, part: str, method: str, *args) -> _Pending:
        """Send a call of the shard's store, dense or lexical index to one of its replicas."""
        return self._pending("call", (part, method, *args))

    def run(self, step, request) -> _Pending:
        """Send a step of answering a question to one of the shard's replicas."""
        return self._pending("run", (step, request))

    def _pending(self, method: str, args: tuple) -> _Pending:
        """A call on its way to a replica."""
        try:
            return _Pending(self, method, args)
        except Exception as exc:  # an application deleted or never deployed: Serve says so here
            raise shards.ShardUnavailable(self.name, f"{type(exc).__name__}: {exc}") from None

    def alive(self) -> bool:
        """Whether the shard answers now."""
        try:
            self.submit("dense", "__len__").result()
            return True
        except shards.ShardUnavailable:
            return False


class ClusterLayout:
    """Opens the published set as remote shards (the `layout` of a Service, like qa/index/shards.py)."""

    def __init__(self, address: str, timeout: float = TIMEOUT_S):
        self.address, self.timeout = address, timeout

    def verify(self, config: Config) -> Path:
        """The published set's folder (each replica checks its shard's checksums as it opens it)."""
        return shards.verify(config)

    def load(self, config: Config, embedder=None, verify: bool = True, folder: Path | None = None,
             previous=None) -> shards.ShardedIndex:
        """Every shard of the set as a remote shard; nothing is contacted until a question comes."""
        folder, manifest = shards.current(config)
        remote = [RemoteShard(i, e, self.address, self.timeout) for i, e in enumerate(manifest["shards"])]
        return shards.ShardedIndex(folder, manifest, remote, {})


class ClusterService(Service):
    """The service over shards served on the cluster: a lost shard is left out, and taken back once it answers."""

    def __init__(self, config: Config, address: str, embedder=None, timeout: float = TIMEOUT_S):
        super().__init__(config, embedder, layout=ClusterLayout(address, timeout))
        self.whole, self._checked, self._lock = self.index, time.monotonic(), threading.Lock()
        self._asked = 0.0

    def _leave_out(self, index: shards.ShardedIndex, exc: shards.ShardUnavailable) -> None:
        """Answer without a shard from now on (unless another thread already did)."""
        log.error("answering without %s: %s", exc.name, exc)
        with self._lock:
            if self.index is index:
                self.index = index.without(exc.name, str(exc))

    def _despite_losses(self, call):
        """Run a call, leaving out each shard that turns out lost and trying again without it."""
        for _ in self.whole.shards:
            index = self.index
            try:
                return call()
            except shards.ShardUnavailable as exc:
                self._leave_out(index, exc)
        return call()

    def refresh(self) -> bool:
        """A newly published set once its shards are deployed, or lost shards answering again (asked every
        REVIVE_S seconds)."""
        if self._undeployed():
            return False
        if super().refresh():
            self.whole = self.index
            return True
        index = self.index
        if not index.missing or time.monotonic() - self._checked < REVIVE_S:
            return False
        self._checked = time.monotonic()
        back = [s for s in self.whole.shards if s.name in index.missing and s.alive()]
        if not back:
            return False
        names = {s.name for s in back}
        with self._lock:
            self.index = shards.ShardedIndex(index.folder, index.manifest, [s for s in self.whole.shards
                                             if s.name not in index.missing or s.name in names],
                                             {k: v for k, v in index.missing.items() if k not in names})
        log.warning("%s answering again", ", ".join(sorted(names)))
        return True

    def _undeployed(self) -> bool:
        """Whether a set was published (by `add`, `remove` or the admin API) that `python -m qa cluster deploy`
        has not deployed yet: until then the shards in use answer (Serve is asked every PENDING_S)."""
        folder = current_folder(self.config.index_dir)
        if folder in (None, self.index.folder, self._refused):
            return False
        if time.monotonic() - self._asked < PENDING_S:
            return True
        self._asked = time.monotonic()
        connect(self.layout.address)
        from ray import serve

        running = {name for name, app in serve.status().applications.items() if app.status == "RUNNING"}
        deployed = lambda manifest: all(app_name(entry) in running for entry in manifest["shards"])
        try:
            return deployed(self.index.manifest) and not deployed(shards.current(self.config)[1])
        except IndexProblem:
            return False  # not a readable set: Service.refresh refuses it and says why

    def warm_up(self) -> None:
        self._despite_losses(lambda: Service.warm_up(self))

    def ask(self, *args, **options) -> dict:
        return self._despite_losses(lambda: Service.ask(self, *args, **options))

    def timed_search(self, *args, **options):
        return self._despite_losses(lambda: Service.timed_search(self, *args, **options))

    def article(self, article_id: str) -> dict | None:
        return self._despite_losses(lambda: Service.article(self, article_id))

    def articles(self, *args, **options) -> list[dict]:
        return self._despite_losses(lambda: Service.articles(self, *args, **options))

    def examples(self, count: int = 4) -> list[dict]:
        return self._despite_losses(lambda: Service.examples(self, count))

    def health(self) -> dict:
        """Health after asking every shard in use whether it answers (a lost one makes it `degraded`)."""
        index = self.index
        for shard in index.shards:
            if not shard.alive():
                self._leave_out(index, shards.ShardUnavailable(shard.name, "it did not answer the health check"))
                index = self.index
        return Service.health(self)
