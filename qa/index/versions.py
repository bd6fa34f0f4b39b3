"""Index versions on disk: build (re-embedding only changed passages), publish atomically, load.

Layout: `<index_dir>/versions/<version>/` holds manifest.json and the base segment (store.sqlite,
vectors.npy, sentence_vectors.npy, dense.hnsw or dense.ivf on large corpora, lexical/), and after
small updates on a large index a delta segment in delta/ (see layers.py); `<index_dir>/current` is a symlink
swapped in one rename once a version is complete, so a failed or killed build leaves the previous
version in place. Published files never change, so a new version hard-links the base's files.
"""
from __future__ import annotations

import dataclasses
import fcntl
from concurrent.futures import ThreadPoolExecutor
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from qa.ingest import language as lang
from qa.ingest import passages as passages_mod
from qa.ingest.articles import Article, Problem
from qa.config import Config
from qa.model.embedder import Embedder
from qa.index.layers import DELTA, LEXICAL, LayeredDense, LayeredLexical, LayeredStore, open_layers, open_store
from qa.index.lexical import Lexical, Statistics, Vocabulary, document_tokens
from qa.index.store import Entry, write as write_store
from qa.index import vectors as vectors_mod
from qa.index.vectors import Dense

FORMAT = 6
READS = (6,)  # format 6: articles keep fetched_at and alternate sources
MERGE_SHARE = 0.1  # of the base's passages: past it, hidden plus delta passages are merged by a full build
CURRENT = "current"
VERSIONS = "versions"
KEEP_VERSIONS = 3
SET_MANIFEST = "cluster.json"  # what makes a published folder a set of shards (qa/index/shards.py)


class IndexProblem(RuntimeError):
    """An index that cannot be used; the message says what to run."""


class IndexNotFound(IndexProblem):
    """No published version yet."""


class IndexMismatch(IndexProblem):
    """Built with another model or settings than the ones asked for."""


class IndexCorrupt(IndexProblem):
    """A file of the version is missing, truncated or altered."""


class UnknownArticle(ValueError):
    """An update names an article the index does not have."""


class DuplicateArticle(ValueError):
    """An added article's id is taken and replacing was not asked for."""


@dataclass(eq=False)
class Index:
    """A loaded, read-only version: passages and articles, vectors, lexical index (hashed by identity)."""

    folder: Path
    manifest: dict
    store: LayeredStore
    dense: LayeredDense
    lexical: LayeredLexical

    @property
    def version(self) -> str:
        """The published version's name."""
        return self.manifest["version"]

    @property
    def missing_shards(self) -> list[str]:
        """A single version has no shard to miss (see shards.ShardedIndex)."""
        return []

    def run(self, step, request) -> list:
        """A step of answering a question (a function of an index and a request) on this version, the one part
        of the index there is (a set of shards runs it on each, in one call to each: see shards.ShardedIndex)."""
        return [step(self, request)]

    def close(self) -> None:
        """Release the database connection of this thread."""
        self.store.close()


def rebuild_hint(config: Config) -> str:
    """The command that fixes an unusable index."""
    return (f"rebuild it with: python -m qa build --index {config.index_dir} --seeds {config.seeds_dir}"
            f" --model {config.model}")


def current_folder(index_dir: Path) -> Path | None:
    """The published version folder, or None before the first build."""
    link = Path(index_dir) / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def _is_set(folder: Path | None) -> bool:
    """Whether a published folder is a set of shards (qa/index/shards.py) rather than one version."""
    return folder is not None and (folder / SET_MANIFEST).is_file()


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder; readers never wait."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _checksum(path: Path) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> dict[str, dict]:
    """Size and checksum of every data file, recorded in the manifest to detect damage."""
    return {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": _checksum(p)}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


@dataclass
class _Previous:
    """What the current version can lend a new build: vectors and token ids by content hash, passages."""

    catalog: LayeredStore | None = None
    dense: LayeredDense | None = None
    lexical: LayeredLexical | None = None
    store: LayeredStore | None = None
    known: dict[str, tuple[int, range]] = field(default_factory=dict)

    def look_up(self, entries: list[Entry]) -> None:
        """Find, by content hash, which of these passages the previous version has vectors (and tokens) for."""
        self.known = self.catalog.hashes([e.hash for e in entries]) if self.catalog is not None else {}


def _reusable(config: Config, embedder: Embedder, folder: Path | None = None) -> _Previous:
    """The current (or a given) version's pieces, as far as they fit this model (vectors) and these settings."""
    folder = folder or current_folder(config.index_dir)
    if folder is None:
        return _Previous()
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest["format"] not in READS or manifest["model"]["fingerprint"] != embedder.fingerprint:
            return _Previous()
        store, dense, lexical = open_layers(folder, frozenset(manifest.get("hidden", ())), bigrams=config.bigrams,
                                            searching=False)
        same = manifest["settings"] == config.index_settings()
        return _Previous(store, dense, lexical if same else None, store if same else None)
    except (OSError, ValueError, KeyError, sqlite3.Error):
        return _Previous()


def _split_all(articles: list[Article], config: Config, embedder: Embedder,
               known: dict[str, list[Entry]]) -> list[Entry]:
    """Passages of every article with their content hash and sentences, in vector-row order.

    Articles in `known` (unchanged since the previous version) keep their passages as stored.
    """
    entries = []
    for article in articles:
        if article.id in known:
            entries += known[article.id]
            continue
        for passage in passages_mod.split(article.id, article.text, config.target_chars,
                                          config.max_chars, embedder.fits):
            entries.append(Entry(passage, passages_mod.content_hash(article.title, passage.text),
                                 passages_mod.sentence_spans(passage.text)))
    return entries


def _token_ids(entries: list[Entry], titles: dict[str, str], config: Config, previous: _Previous,
               vocab: Vocabulary) -> list[np.ndarray]:
    """Each passage's token ids: copied when its content hash was indexed before, else tokenised into `vocab`."""
    out = []
    for e in entries:
        if previous.lexical is not None and e.hash in previous.known:
            out.append(previous.lexical.passage_tokens(previous.known[e.hash][0]))
        else:
            out.append(vocab.add(passage_tokens(e, titles, config)))
    return out


def passage_tokens(entry: Entry, titles: dict[str, str], config: Config) -> list[str]:
    """The BM25 tokens of a passage: its article's title and its text."""
    return document_tokens(f"{titles[entry.passage.article_id]}\n{entry.passage.text}", config.bigrams)


def _embed(entries: list[Entry], titles: dict[str, str], embedder: Embedder, previous: _Previous,
           progress: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Passage and sentence vectors, copying those whose content hash is already embedded."""
    vectors = np.zeros((len(entries), embedder.dim), dtype=np.float32)
    sentences: list[np.ndarray] = [np.zeros((0, embedder.dim), np.float32)] * len(entries)
    reuse = previous.dense is not None
    todo = [i for i, e in enumerate(entries) if not (reuse and e.hash in previous.known)]
    kept = [i for i, e in enumerate(entries) if reuse and e.hash in previous.known]
    if kept:
        found = [previous.known[entries[i].hash] for i in kept]
        vectors[kept] = previous.dense.vectors_of([row for row, _ in found])
        flat = previous.dense.sentence_vectors_of(np.concatenate([np.arange(s.start, s.stop) for _, s in found]))
        for i, block in zip(kept, np.split(flat, np.cumsum([len(s) for _, s in found])[:-1])):
            sentences[i] = block
    if todo:
        texts, spans = [], []
        for i in todo:
            title = titles[entries[i].passage.article_id]
            text = passages_mod.embedding_input(title, entries[i].passage.text)
            shift = len(text) - len(entries[i].passage.text)
            texts.append(text)
            spans.append([(a + shift, b + shift) for a, b in entries[i].spans])
        with tqdm(total=len(texts), unit="passage", desc="embedding", disable=not progress,
                  dynamic_ncols=True) as bar:
            new_vectors, new_sentences = embedder.encode_passages(texts, spans, progress=bar.update)
        vectors[todo] = new_vectors
        for i, block in zip(todo, new_sentences):
            sentences[i] = block
    return vectors, np.concatenate(sentences) if sentences else np.zeros((0, embedder.dim)), len(todo)


def build(config: Config, articles: list[Article], embedder: Embedder,
          problems: list[Problem] = (), progress: bool = True, statistics: Statistics | None = None) -> dict:
    """Build and publish a new version from `articles`; returns its manifest.

    A shard of a larger corpus is given the corpus's BM25 `statistics` (see qa/index/shards.py)."""
    with _locked(Path(config.index_dir)):
        return _build(config, articles, embedder, problems, progress, statistics=statistics)


def update(config: Config, embedder: Embedder, add: list[Article] = (), remove: list[str] = (),
           replace: bool = True, progress: bool = False) -> dict:
    """Publish the current version with `add` put in (an article with the same id replaced) and `remove` taken out.

    On a large index the changed articles go into a delta segment beside the unchanged base (seconds);
    past MERGE_SHARE, or on a small index, everything is rebuilt into one segment (reusing vectors).
    The writer lock covers reading the current version too, so concurrent updates never lose each other.
    A set of shards is updated shard by shard (qa/index/shards.py).
    """
    with _locked(Path(config.index_dir)):
        folder = current_folder(config.index_dir)
        if _is_set(folder):
            from qa.index import shards

            return shards.update(config, embedder, add, remove, replace, progress)
        store = _current_store(config)
        previous = _reusable(config, embedder)
        live = set(store.ids()) if store else set()
        added, changed = change(live, add, remove, replace)
        if previous.store is not None and _delta_fits(config, previous, added, changed):
            kept = sorted(store.delta_ids - changed)
            hidden = store.hidden | ((live - store.delta_ids) & changed)
            return _build_delta(config, embedder, previous, [*store.articles(kept), *added.values()], set(kept),
                                hidden, progress)
        articles = {a.id: a for a in store.articles()} if store else {}
        articles.update(added)
        for article_id in remove:
            del articles[article_id]
        return _build(config, list(articles.values()), embedder, [], progress, keep=set(articles) - changed,
                      previous=previous)


def change(live: set[str], add: list[Article], remove: list[str], replace: bool) -> tuple[dict[str, Article], set[str]]:
    """The added articles by id and every changed id, once unknown ids, taken ids (without `replace`) and an
    emptied index are refused."""
    unknown = [i for i in remove if i not in live]
    if unknown:
        raise UnknownArticle(f"no article with id {', '.join(map(repr, unknown))}; nothing was changed")
    taken = [a.id for a in add if a.id in live]
    if taken and not replace:
        raise DuplicateArticle(f"article id {', '.join(map(repr, taken))} already exists; "
                               "send replace=true to replace it. Nothing was changed")
    added = {a.id: a for a in add}
    changed = set(added) | set(remove)
    if not live - changed and not added:
        raise UnknownArticle("removing every article would leave an empty index; nothing was changed")
    return added, changed


def current_articles(config: Config, article_ids: list[str]) -> list[Article]:
    """Those of the named articles the current version (or set) holds (none before the first build)."""
    with _current_stores(config) as stores:
        return [a for store in stores for a in store.articles(article_ids)]


def current_ids(config: Config) -> set[str]:
    """Ids of the current version's (or set's) articles (none before the first build)."""
    with _current_stores(config) as stores:
        return {i for store in stores for i in store.ids()}


@contextmanager
def _current_stores(config: Config) -> Iterator[list[LayeredStore]]:
    """The articles of the current version, or of each shard of the current set, closed after use."""
    folder = current_folder(config.index_dir)
    if _is_set(folder):
        from qa.index import shards

        places = [dataclasses.replace(config, index_dir=folder / e["name"])
                  for e in shards.current(config)[1]["shards"]]
    else:
        places = [config] if folder is not None else []
    stores = [_current_store(place) for place in places]
    try:
        yield stores
    finally:
        for store in stores:
            store.close()


def _current_store(config: Config) -> LayeredStore | None:
    """The articles of the current version, whatever model and settings built it (None before the first build)."""
    if current_folder(config.index_dir) is None:
        return None
    folder, manifest = _current(config)
    return open_store(folder, frozenset(manifest.get("hidden", ())))


def _delta_fits(config: Config, previous: _Previous, added: dict[str, Article], changed: set[str]) -> bool:
    """Whether a delta segment is worth it: a large base, and hidden plus delta passages under MERGE_SHARE of it."""
    store, base = previous.store, len(previous.dense.base)
    if base < max(config.delta_from, 1):
        return False
    hidden = store.hidden | ((set(store.base.ids()) - store.delta_ids) & changed)
    delta = len(store.delta.rows_of(store.delta_ids - changed)) if store.delta is not None else 0
    delta += sum(len(a.text) // config.target_chars + 1 for a in added.values())
    return len(store.base.rows_of(hidden)) + delta <= MERGE_SHARE * base


@dataclass
class _Segment:
    """The passages of some articles, embedded, ready to be written as a segment."""

    articles: list[Article]
    entries: list[Entry]
    titles: dict[str, str]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    embedded: int

    @property
    def reused(self) -> int:
        """Passages whose vectors were copied from the previous version."""
        return len(self.entries) - self.embedded


def _prepare(config: Config, articles: list[Article], embedder: Embedder, previous: _Previous, keep: set[str],
             progress: bool, timer: "_Timer") -> _Segment:
    """Split and embed articles; those in `keep` are unchanged, so their stored passages are taken as they are."""
    with timer("split"):
        for article in articles:
            article.language = article.language or lang.detect(f"{article.title}\n{article.text[:600]}")
        known = previous.store.entries(keep) if previous.store is not None and keep else {}
        entries = _split_all(articles, config, embedder, known)
        previous.look_up(entries)
    titles = {a.id: a.title for a in articles}
    with timer("embed"):
        vectors, sentence_vectors, embedded = _embed(entries, titles, embedder, previous, progress)
    return _Segment(articles, entries, titles, vectors, sentence_vectors, embedded)


def _write_segment(folder: Path, config: Config, segment: _Segment, previous: _Previous, vocab: Vocabulary,
                   kind: str, timer: "_Timer", base: Lexical | None = None,
                   statistics: Statistics | None = None) -> None:
    """Write a segment's store, vectors and lexical index; a delta names the base its BM25 is weighted by."""
    with timer("store"):
        write_store(folder / "store.sqlite", segment.articles, segment.entries)
        Dense.write(folder, segment.vectors, segment.sentence_vectors, kind,
                    previous.dense.base.ann if previous.dense is not None else None)
    with timer("lexical"):
        token_ids = _token_ids(segment.entries, segment.titles, config, previous, vocab)
        Lexical.build(token_ids, vocab, base, statistics).save(folder / LEXICAL)


def _build(config: Config, articles: list[Article], embedder: Embedder, problems: list[Problem],
           progress: bool, keep: set[str] = frozenset(), previous: _Previous | None = None,
           statistics: Statistics | None = None) -> dict:
    """Build and publish a version of one segment; the caller holds the writer lock."""
    timer = _Timer()
    previous = previous or _reusable(config, embedder)
    segment = _prepare(config, articles, embedder, previous, keep, progress, timer)
    kind = vectors_mod.choose(config.dense_index, len(segment.entries))

    def write(work: Path) -> dict:
        vocab = previous.lexical.vocab if previous.lexical is not None else Vocabulary.empty()
        _write_segment(work, config, segment, previous, vocab, kind, timer, statistics=statistics)
        sizes = {"passages": len(segment.entries), "sentences": len(segment.sentence_vectors)}
        return {"dense": kind, "segments": {"base": sizes}, "files": _files(work),
                "counts": {"articles": len(articles), **sizes}}

    return _publish_new(config, embedder, problems, timer, write, segment.embedded, segment.reused)


def _build_delta(config: Config, embedder: Embedder, previous: _Previous, articles: list[Article], keep: set[str],
                 hidden: set[str], progress: bool) -> dict:
    """Publish the current base (hard-linked) with `hidden` articles hidden and `articles` as the delta."""
    timer = _Timer()
    folder, manifest = _current(config)
    segment = _prepare(config, articles, embedder, previous, keep, progress, timer)
    base, store = previous.lexical.base, previous.store.base

    def write(work: Path) -> dict:
        files = _link_base(folder, manifest, work)
        sizes = {"passages": len(segment.entries), "sentences": len(segment.sentence_vectors)}
        if articles:
            (work / DELTA).mkdir()
            vocab = previous.lexical.delta.vocab if previous.lexical.delta is not None else Vocabulary.empty(base.vocab)
            _write_segment(work / DELTA, config, segment, previous, vocab, "exact", timer, base)
            files.update({f"{DELTA}/{name}": meta for name, meta in _files(work / DELTA).items()})
        shown = [i for i in store.ids() if i not in hidden]
        passages, sentences = store.totals(shown)
        return {"dense": manifest["dense"], "hidden": sorted(hidden), "files": files,
                "segments": {"base": {"passages": len(previous.dense.base),
                                      "sentences": len(previous.dense.base.sentence_vectors)},
                             **({DELTA: sizes} if articles else {})},
                "counts": {"articles": len(shown) + len(articles), "passages": passages + sizes["passages"],
                           "sentences": sentences + sizes["sentences"]}}

    return _publish_new(config, embedder, [], timer, write, segment.embedded, segment.reused)


def _link_base(folder: Path, manifest: dict, work: Path, leave: str = DELTA) -> dict[str, dict]:
    """Hard-link the base segment's files, but those under `leave`, into a new version (copy where links are not
    possible)."""
    files = {name: meta for name, meta in manifest["files"].items() if not name.startswith(f"{leave}/")}
    for name in files:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(folder / name, work / name)
        except OSError:
            shutil.copy2(folder / name, work / name)
    return files


def reweigh(config: Config, embedder: Embedder, source: Path, statistics: Statistics) -> dict:
    """Publish the one-segment version in `source` with its BM25 weighted by new corpus `statistics` (a shard
    whose articles stayed when others changed): its other files are hard-linked, nothing is embedded or split."""
    timer = _Timer()
    folder, manifest = _read(source)
    lexical = Lexical.load(folder / LEXICAL)

    def write(work: Path) -> dict:
        files = _link_base(folder, manifest, work, LEXICAL)
        with timer("lexical"):
            tokens = [lexical.passage_tokens(row) for row in range(len(lexical))]
            Lexical.build(tokens, lexical.vocab, statistics=statistics).save(work / LEXICAL)
        files.update({f"{LEXICAL}/{name}": meta for name, meta in _files(work / LEXICAL).items()})
        return {"dense": manifest["dense"], "segments": manifest["segments"], "files": files,
                "counts": {k: manifest["counts"][k] for k in ("articles", "passages", "sentences")}}

    return _publish_new(config, embedder, [], timer, write, 0, manifest["counts"]["passages"])


def _publish_new(config: Config, embedder: Embedder, problems: list[Problem], timer: "_Timer", write,
                 embedded: int, reused: int) -> dict:
    """Write a version in a scratch folder with `write` (which returns its part of the manifest), then publish it."""
    index_dir = Path(config.index_dir)
    version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)
    versions = index_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    work = versions / f".tmp-{version}"
    work.mkdir()
    try:
        written = write(work)
        written["counts"].update(embedded=embedded, reused=reused)
        manifest = {**_manifest(config, embedder, version, problems, timer), **written}
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        _publish(index_dir, work, versions / version)
    except sqlite3.Error as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise OSError(f"could not write the index store in {work}: {exc}") from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _prune(index_dir)
    return manifest


class _Timer:
    """Seconds spent in each stage of a build, for the manifest."""

    def __init__(self):
        self.started = time.time()
        self.stages: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        began = time.time()
        try:
            yield
        finally:
            self.stages[stage] = round(time.time() - began, 2)


def _manifest(config: Config, embedder: Embedder, version: str, problems: list[Problem], timer: "_Timer") -> dict:
    """What a loader must check and what a reader of the folder wants to know (the build adds counts and files)."""
    return {
        "format": FORMAT,
        "version": version,
        "model": {"name": config.model, "fingerprint": embedder.fingerprint, "dim": embedder.dim,
                  "backend": embedder.backend},
        "settings": config.index_settings(),
        "problems": [{"source": p.source, "message": p.message} for p in problems],
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.time() - timer.started, 2),
        "stage_seconds": timer.stages,
    }


def _publish(index_dir: Path, work: Path, final: Path) -> None:
    """Make the finished folder the current version with renames only."""
    for path in work.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
    os.replace(work, final)
    tmp_link = index_dir / f".{CURRENT}.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(Path(VERSIONS) / final.name, tmp_link)
    os.replace(tmp_link, index_dir / CURRENT)


def _prune(index_dir: Path) -> None:
    """Keep a few recent versions (fallback after damage) and drop leftovers of killed builds."""
    versions = index_dir / VERSIONS
    current = current_folder(index_dir)
    for leftover in versions.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    done = sorted((p for p in versions.iterdir() if not p.name.startswith(".")), reverse=True)
    for old in done[KEEP_VERSIONS:]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def _verify(folder: Path, manifest: dict, checksums: bool) -> None:
    """Refuse a version whose files differ from what its manifest recorded (sizes, and checksums if asked).

    Checksums are computed on all cores at once (hashlib releases the GIL).
    """
    files = manifest.get("files", {})
    for name, meta in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexCorrupt(f"index file {path} is missing")
        if path.stat().st_size != meta["size"]:
            raise IndexCorrupt(f"index file {path} is damaged (its size differs from the manifest)")
    if checksums:
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            sums = dict(zip(files, pool.map(lambda name: _checksum(folder / name), files)))
        for name, meta in files.items():
            if sums[name] != meta["sha256"]:
                raise IndexCorrupt(f"index file {folder / name} is damaged (its checksum differs from the manifest)")


def _check(manifest: dict, config: Config, embedder: Embedder | None, folder: Path) -> None:
    """Refuse an index built with another format, model or settings, saying how to rebuild."""
    if manifest.get("format") not in READS:
        raise IndexMismatch(f"index at {folder} has format {manifest.get('format')}, this program "
                            f"reads format {FORMAT}; {rebuild_hint(config)}")
    built = manifest["model"]
    if built["name"] != config.model or (embedder and built["fingerprint"] != embedder.fingerprint):
        raise IndexMismatch(f"index at {folder} was built with model {built['name']} "
                            f"(fingerprint {built['fingerprint']}), not {config.model}"
                            f"{' (fingerprint ' + embedder.fingerprint + ')' if embedder else ''}; "
                            f"{rebuild_hint(config)}")
    if manifest["settings"] != config.index_settings():
        raise IndexMismatch(f"index at {folder} was built with settings {manifest['settings']}, "
                            f"not {config.index_settings()}; {rebuild_hint(config)}")


def _current(config: Config) -> tuple[Path, dict]:
    """The current version's folder and manifest, or a clear error when there is none."""
    folder = current_folder(config.index_dir)
    if folder is None:
        raise IndexNotFound(f"no index in {config.index_dir}; build one with: python -m qa build "
                            f"--index {config.index_dir} --seeds {config.seeds_dir}")
    return _read(folder)


def _read(folder: Path) -> tuple[Path, dict]:
    """A version's folder and manifest."""
    try:
        return folder, json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest {folder / 'manifest.json'} is unreadable: {exc}") from exc


def verify(config: Config) -> Path:
    """Checksum every file of the current version and return its folder, for `load` to open exactly that one.

    Start-up runs it while the model loads."""
    folder, manifest = _current(config)
    _verify(folder, manifest, checksums=True)
    return folder


def load(config: Config, embedder: Embedder | None = None, verify: bool = True, folder: Path | None = None,
         previous: Index | None = None) -> Index:
    """Open the current version (or a given, already verified one) after checking it fits this model and settings.

    `verify` checks every file's checksum (at start-up); without it only sizes are checked. The
    `previous` version lends its base's dense index when the two share it.
    """
    folder, manifest = _read(folder) if folder is not None else _current(config)
    _check(manifest, config, embedder, folder)
    _verify(folder, manifest, verify)
    store, dense, lexical = open_layers(folder, frozenset(manifest.get("hidden", ())), config.bigrams, config.nprobe,
                                         config.ef_search, previous.dense.base if previous else None)
    return Index(folder, manifest, store, dense, lexical)
