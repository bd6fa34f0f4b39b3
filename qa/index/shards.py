"""A sharded index: articles split by a stable hash of their id, each shard an ordinary index version.

Layout: `<index_dir>/versions/<set>/` holds cluster.json (every shard's version, passage and sentence
counts, and the corpus-wide BM25 figures), bm25_statistics.npz, and `shard-<i>/`, each an index
folder of its own (versions/, current) written by qa/index/versions.py. Every shard's BM25 is weighted
by the whole corpus's statistics, so scores add up across shards as across base and delta segments.
`<index_dir>/current` names the set; it is swapped only once every shard is written, so a failed or
killed build leaves the previous set in place.

`ShardedIndex` shows the shards as one row space (shard 0's rows, then shard 1's, …). A question is
answered in steps that each part of an index runs on its own rows (`run`): retrieval's candidates
with the reading of each part's own best passages (qa/answer/reading.py) and, for a question typed
without diacritics, the lexical matches that respell it (qa/retrieve/accents.py). A single version is
one part; a set sends each step to every shard it concerns in one call, so a question costs one round
to the shards (two without diacritics; one more in the few cases where the merged ranking holds a
passage its shard did not read ahead) whatever it looks up. Articles, their passages and the catalogue that
filters read are asked of the shards directly. A shard may be in this process or behind a remote
handle (qa/cluster/serving.py): both answer `submit(part, method, *args)` and `run(step, request)`.
Ray is not imported here.
"""
from __future__ import annotations

import heapq
import json
import logging
import secrets
import shutil
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from qa.config import Config
from qa.index import versions
from qa.index.layers import WordStats
from qa.index.lexical import Statistics, token_hash
from qa.ingest.articles import Article, Problem
from qa.model.embedder import Embedder

log = logging.getLogger(__name__)
FORMAT = "sharded-1"
MANIFEST = versions.SET_MANIFEST
STATISTICS = "bm25_statistics.npz"


class ShardUnavailable(RuntimeError):
    """A shard did not answer (every replica lost, or too slow); the message names it."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"shard {name} is unavailable: {reason}")
        self.name = name


def shard_of(article_id: str, shards: int) -> int:
    """The shard an article belongs to: the same on every machine and in every process."""
    return token_hash(article_id) % shards


def shard_name(number: int) -> str:
    """A shard's folder and deployment name."""
    return f"shard-{number}"


def statistics(config: Config, articles: list[Article], embedder: Embedder) -> Statistics:
    """The corpus-wide BM25 figures, from every article split and tokenised as a build does."""
    return Statistics.of(_tokens(config, articles, versions._split_all(articles, config, embedder, {})))


def _tokens(config: Config, articles, entries) -> list[list[str]]:
    """The BM25 tokens of each of the articles' passages."""
    titles = {a.id: a.title for a in articles}
    return [versions.passage_tokens(e, titles, config) for e in entries]


def build(config: Config, articles: list[Article], embedder: Embedder, shards: int, problems: list[Problem] = (),
          progress: bool = True, shard_embedder=None) -> dict:
    """Build every shard with the corpus's BM25 statistics and publish the set; returns its manifest.

    `shard_embedder` (default `embedder`) embeds the passages, e.g. on a cluster's actors.
    """
    if shards < 1:
        raise ValueError(f"--shards must be at least 1, not {shards}")
    started = time.time()
    with versions._locked(Path(config.index_dir)):
        corpus = statistics(config, articles, embedder)
        return _publish_set(config, embedder, corpus, started, lambda work: _write_shards(
            config, articles, shard_embedder or embedder, shards, problems, progress, corpus, work))


def _publish_set(config: Config, embedder: Embedder, corpus: Statistics, started: float, write) -> dict:
    """Write a set in a scratch folder with `write` (which returns the shards' manifests), then publish it whole.

    The caller holds the writer lock; on any failure the scratch folder goes and the previous set stays."""
    root = Path(config.index_dir)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)
    (root / versions.VERSIONS).mkdir(parents=True, exist_ok=True)
    work = root / versions.VERSIONS / f".tmp-{version}"
    try:
        manifest = _set_manifest(config, embedder, version, write(work), corpus, work, started)
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        versions._publish(root, work, root / versions.VERSIONS / version)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    versions._prune(root)
    return manifest


def update(config: Config, embedder: Embedder, add: list[Article], remove: list[str], replace_ids: bool,
           progress: bool) -> dict:
    """Publish the set with `add` put in their shards (an article with the same id replaced) and `remove` taken out.

    The corpus statistics are brought up to date from the changed passages alone. A shard whose articles
    changed is rebuilt (reusing the vectors and tokens of unchanged passages); every other one is only
    re-weighted by the new statistics, which every BM25 weight depends on. The caller (versions.update)
    holds the writer lock.
    """
    started = time.time()
    folder, manifest = current(config)
    entries, count = manifest["shards"], len(manifest["shards"])
    old = [_previous(config, embedder, folder, entry) for entry in entries]
    try:
        held = [set(p.store.ids()) for p in old]
        added, changed = versions.change(set().union(*held), list(add), list(remove), replace_ids)
        new = [[a for a in added.values() if shard_of(a.id, count) == n] for n in range(count)]
        kept = [ids - changed for ids in held]
        emptied = [shard_name(n) for n in range(count) if not kept[n] and not new[n]]
        if emptied:
            raise versions.UnknownArticle(f"removing these articles would leave {', '.join(emptied)} with no "
                                          "article; nothing was changed")
        gone = [t for n, p in enumerate(old) for t in _stored_tokens(config, p.store, held[n] & changed)]
        fresh = [t for group in new for t in _tokens(config, group, versions._split_all(group, config, embedder, {}))]
        corpus = _statistics(folder, manifest).changed(gone, fresh)

        def write(work: Path) -> list[dict]:
            parts = []
            for n, entry in enumerate(entries):
                shard = replace(config, index_dir=work / entry["name"])
                if kept[n] == held[n] and not new[n]:
                    parts.append(versions.reweigh(shard, embedder, shard_folder(folder, entry), corpus))
                    continue
                articles = [*old[n].store.articles(sorted(kept[n])), *new[n]]
                parts.append(versions._build(shard, articles, embedder, [], progress, keep=kept[n], previous=old[n],
                                             statistics=corpus))
            return parts

        return _publish_set(config, embedder, corpus, started, write)
    finally:
        for p in old:
            p.store.close()


def _previous(config: Config, embedder: Embedder, folder: Path, entry: dict) -> versions._Previous:
    """What a shard of the published set lends its next version; a shard built for another model or settings
    is refused, saying how to rebuild."""
    shard, manifest = versions._read(shard_folder(folder, entry))
    versions._check(manifest, config, embedder, shard)
    return versions._reusable(config, embedder, shard)


def _stored_tokens(config: Config, store, article_ids: set[str]) -> list[list[str]]:
    """The BM25 tokens of the stored passages of some articles."""
    if not article_ids:
        return []
    stored = store.entries(article_ids)
    return _tokens(config, store.articles(sorted(article_ids)), [e for group in stored.values() for e in group])


def _statistics(folder: Path, manifest: dict) -> Statistics:
    """The corpus statistics a set's shards were weighted by, as written beside them."""
    figures = manifest["statistics"]
    path = folder / figures["file"]
    if not path.is_file() or versions._checksum(path) != figures["sha256"]:
        raise versions.IndexCorrupt(f"the BM25 statistics {path} of the index set are missing or damaged; "
                                    f"rebuild the set: python -m qa build --ray ADDRESS --shards "
                                    f"{len(manifest['shards'])} --index {folder.parent.parent}")
    data = np.load(path)
    return Statistics(figures["documents"], figures["tokens"],
                      dict(zip(data["hashes"].tolist(), data["frequencies"].tolist())))


def _write_shards(config: Config, articles: list[Article], embedder, shards: int, problems: list[Problem],
                  progress: bool, corpus: Statistics, work: Path) -> list[dict]:
    """Each shard built as an index version of its own in the scratch folder; their manifests."""
    groups: list[list[Article]] = [[] for _ in range(shards)]
    for article in articles:
        groups[shard_of(article.id, shards)].append(article)
    empty = [shard_name(i) for i, group in enumerate(groups) if not group]
    if empty:
        raise ValueError(f"{', '.join(empty)} would hold no article ({len(articles)} articles in {shards} shards); "
                         "use fewer shards")
    return [versions.build(replace(config, index_dir=work / shard_name(i)), group, embedder,
                           problems if i == 0 else (), progress, statistics=corpus)
            for i, group in enumerate(groups)]


def _set_manifest(config: Config, embedder: Embedder, version: str, parts: list[dict], corpus: Statistics,
                  work: Path, started: float) -> dict:
    """What the set is made of: each shard's version and counts, and the statistics they were weighted by."""
    hashes = np.array(sorted(corpus.frequencies), dtype=np.uint64)  # sorted: the same corpus, the same file
    np.savez(work / STATISTICS, hashes=hashes, frequencies=np.array([corpus.frequencies[int(h)] for h in hashes],
                                                                     dtype=np.int64))
    counts = {k: sum(p["counts"][k] for p in parts) for k in ("articles", "passages", "sentences", "embedded",
                                                              "reused")}
    return {"format": FORMAT, "version": version,
            "model": parts[0]["model"], "settings": config.index_settings(),
            "shards": [{"name": shard_name(i), "version": p["version"], "articles": p["counts"]["articles"],
                        "passages": p["counts"]["passages"], "sentences": p["counts"]["sentences"]}
                       for i, p in enumerate(parts)],
            "statistics": {"documents": corpus.documents, "tokens": corpus.tokens, "terms": len(hashes),
                           "file": STATISTICS, "sha256": versions._checksum(work / STATISTICS)},
            "counts": counts, "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.time() - started, 2), "problems": parts[0]["problems"]}


def is_sharded(index_dir: Path) -> bool:
    """Whether the published index is a set of shards."""
    return versions._is_set(versions.current_folder(index_dir))


def layout(index_dir: Path):
    """What opens the index published in a folder (the `layout` of a Service): this module for a set, else versions."""
    return sys.modules[__name__] if is_sharded(index_dir) else versions


def current(config: Config) -> tuple[Path, dict]:
    """The published set's folder and manifest, or a clear error."""
    folder = versions.current_folder(config.index_dir)
    if folder is None or not (folder / MANIFEST).is_file():
        raise versions.IndexNotFound(f"no sharded index in {config.index_dir}; build one with: python -m qa build "
                                     f"--ray ADDRESS --shards S --index {config.index_dir}")
    try:
        return folder, json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise versions.IndexCorrupt(f"sharded index manifest {folder / MANIFEST} is unreadable: {exc}") from exc


def verify(config: Config) -> Path:
    """The published set's folder (each shard is checksummed as it is opened, so one damaged shard is refused alone)."""
    return current(config)[0]


def shard_folder(folder: Path, entry: dict) -> Path:
    """The version folder of one shard of a set."""
    return folder / entry["name"] / versions.VERSIONS / entry["version"]


def open_shard(config: Config, folder: Path, entry: dict, embedder: Embedder | None, checksums: bool):
    """One shard loaded as the index version it is (qa/index/versions.py checks and opens it)."""
    return versions.load(replace(config, index_dir=folder / entry["name"]), embedder, checksums,
                         shard_folder(folder, entry))


def load(config: Config, embedder: Embedder | None = None, verify: bool = True, folder: Path | None = None,
         previous: ShardedIndex | None = None) -> ShardedIndex:
    """Open every shard of the published set in this process; a shard that cannot be used is left out, named.

    Checksums are checked when asked and whenever a set is opened for the first time (no `previous`).
    """
    folder, manifest = current(config) if folder is None else (folder, json.loads((folder / MANIFEST).read_text()))
    shards, missing = [], {}
    for number, entry in enumerate(manifest["shards"]):
        try:
            shards.append(LocalShard(number, entry, open_shard(config, folder, entry, embedder,
                                                               verify or previous is None)))
        except versions.IndexProblem as exc:
            log.error("refusing %s of index set %s: %s", entry["name"], manifest["version"], exc)
            missing[entry["name"]] = str(exc)
    return ShardedIndex(folder, manifest, shards, missing)


class _Done:
    """The result of a call already made, looking like a remote call's pending answer."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class LocalShard:
    """A shard opened in this process."""

    def __init__(self, number: int, entry: dict, index: versions.Index):
        self.number, self.name, self.index = number, entry["name"], index
        self.passages, self.sentences = entry["passages"], entry["sentences"]

    def submit(self, part: str, method: str, *args) -> _Done:
        """Call a method of the shard's store, dense or lexical index."""
        return _Done(getattr(getattr(self.index, part), method)(*args))

    def run(self, step, request) -> _Done:
        """Run a step of answering a question on the shard (see ShardedIndex.run)."""
        return _Done(step(self.index, request))

    def close(self) -> None:
        """Release this thread's database connection."""
        self.index.close()


class ShardedIndex:
    """The available shards of a set as one read-only index (hashed by identity, like a version)."""

    def __init__(self, folder: Path, manifest: dict, shards: list, missing: dict[str, str]):
        if not shards:
            raise versions.IndexCorrupt(f"no shard of index set {manifest['version']} can be used: "
                                        + "; ".join(missing.values()))
        self.folder, self.manifest, self.shards, self.missing = folder, manifest, shards, missing
        self.offsets = np.cumsum([0] + [s.passages for s in shards])
        self.sentence_offsets = np.cumsum([0] + [s.sentences for s in shards])
        self.by_number = {s.number: i for i, s in enumerate(shards)}
        self.store, self.dense, self.lexical = _Store(self), _Dense(self), _Lexical(self)

    @property
    def version(self) -> str:
        """The published set's name."""
        return self.manifest["version"]

    @property
    def missing_shards(self) -> list[str]:
        """Shards of the set this index answers without."""
        return sorted(self.missing)

    def without(self, name: str, reason: str) -> ShardedIndex:
        """The same set with one more shard left out."""
        return ShardedIndex(self.folder, self.manifest, [s for s in self.shards if s.name != name],
                            {**self.missing, name: reason})

    def close(self) -> None:
        """Release the shards' database connections of this thread."""
        for shard in self.shards:
            if isinstance(shard, LocalShard):
                shard.close()

    def each(self, part: str, method: str, *args) -> list:
        """The same call on every shard, sent to all before any answer is awaited."""
        pending = [s.submit(part, method, *args) for s in self.shards]
        return [p.result() for p in pending]

    def run(self, step, request) -> list:
        """A step of answering a question run on each shard it concerns, in one call to each, all sent before
        any answer is awaited: `request.within(rows)` is the request for one shard's rows (None: it
        has nothing to ask that shard), and each answer's `shifted` puts its rows in the set's row space."""
        rows, sentences = self.offsets, self.sentence_offsets
        pending = []
        for i, shard in enumerate(self.shards):
            part = request.within(slice(int(rows[i]), int(rows[i + 1])))
            if part is not None:
                pending.append((i, shard.run(step, part)))
        return [p.result().shifted(int(rows[i]), int(sentences[i])) for i, p in pending]

    def holder(self, article_id: str):
        """Position of the shard an article's id hashes to, or None when that shard is left out."""
        return self.by_number.get(shard_of(article_id, len(self.manifest["shards"])))


def shifted(passage: dict, rows: int, sentences: int) -> dict:
    """A shard's passage with its passage and sentence rows moved by the shard's first rows in a set."""
    own = passage["sentences"]
    return {**passage, "row": passage["row"] + rows, "sentences": range(own.start + sentences, own.stop + sentences)}


def _shifted(passage: dict, index: ShardedIndex, i: int) -> dict:
    """A shard's passage with its rows in the set's row space."""
    return shifted(passage, int(index.offsets[i]), int(index.sentence_offsets[i]))


class _Store:
    """Articles and passages of every available shard."""

    def __init__(self, index: ShardedIndex):
        self.index = index

    def article_passages(self, article_id: str) -> list[dict]:
        """An article's passages in reading order."""
        i = self.index.holder(article_id)
        if i is None:
            return []
        found = self.index.shards[i].submit("store", "article_passages", article_id).result()
        return [_shifted(p, self.index, i) for p in found]

    def article(self, article_id: str):
        """The whole cleaned article, or None."""
        i = self.index.holder(article_id)
        return self.index.shards[i].submit("store", "article", article_id).result() if i is not None else None

    def summaries(self) -> list[dict]:
        """Id, title, date, author and passage count of every available article, in id order."""
        return list(heapq.merge(*self.index.each("store", "summaries"), key=lambda s: s["id"]))

    def row_articles(self) -> tuple[np.ndarray, list[str]]:
        """Every passage row of the set with its article id."""
        found = self.index.each("store", "row_articles")
        rows = [np.asarray(r, dtype=np.int64) + self.index.offsets[i] for i, (r, _) in enumerate(found)]
        return (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)), [a for _, ids in found for a in ids]


class _Dense:
    """The set's row space (dense search itself is a step each shard runs: see `run`)."""

    def __init__(self, index: ShardedIndex):
        self.index = index

    def __len__(self) -> int:
        return int(self.index.offsets[-1])

    @property
    def rows(self) -> int:
        """Rows of the set's row space."""
        return int(self.index.offsets[-1])


class _Lexical:
    """Word statistics over every available shard (BM25 itself is a step each shard runs: see `run`)."""

    def __init__(self, index: ShardedIndex):
        self.index = index

    def words(self, tokens: list[str]) -> WordStats:
        """Whether some available shard knows each token, and how many passages of all of them hold it."""
        return WordStats.merged(self.index.each("lexical", "words", tokens))
