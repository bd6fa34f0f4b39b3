"""The loaded model and index answering questions: what the CLI and the HTTP API both call."""
from __future__ import annotations

import copy
import functools
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qa.answer import metadata, questions, reading, relevance, sentences
from qa.config import Config
from qa.index import shards, versions as index_mod
from qa.index.layers import WordStats
from qa.ingest import language as lang, segment
from qa.ingest.text import has_diacritics
from qa.model.embedder import Embedder
from qa.model.reader import Reader
from qa.retrieve import accents, filters as filters_mod, followup, hybrid, times
from qa.retrieve.filters import Filters
from qa.retrieve.scope import Scope, scope, today

log = logging.getLogger(__name__)


class Service:
    """Loads the model and the current index once; every question reuses them.

    Each call reads `self.index` once, so a version published meanwhile (see `refresh`, which the
    app runs before every request) is used whole by the next call and never mixed into a running one.
    """

    def __init__(self, config: Config, embedder: Embedder | None = None, layout=None, reader: Reader | None = None):
        """Load the models while the index files are checksummed (hashlib runs beside Python code).

        `layout` opens the index: one version (qa/index/versions.py) or a set of shards, in this process
        (qa/index/shards.py) or on a cluster (qa/cluster/serving.py); each has `verify` and `load`. By default
        it is the one that fits what the index folder holds.
        """
        self.config, self.layout = config, layout or shards.layout(config.index_dir)
        with ThreadPoolExecutor(1) as pool:
            verified = pool.submit(self.layout.verify, config)
            self.embedder = embedder or Embedder.from_config(config)
            self.reader = reader or Reader.from_config(config, self.embedder)
            folder = verified.result()
        self.index = self.layout.load(config, self.embedder, verify=False, folder=folder)
        self._refresh_lock = threading.Lock()
        self._refused = None
        lang.prepare()
        segment.prepare()

    def warm_up(self) -> None:
        """Run the models once, so the first real question is not the slow one."""
        self.search("hội nghị", 1)
        if self.reader is not None:
            self.reader.read("Hội nghị nào?", "Hội nghị tỉnh.")

    def refresh(self) -> bool:
        """Switch to the published version if it changed; a damaged new version is refused and the old kept.

        The answer cache is emptied on a switch, so no old version stays mapped through it.
        """
        folder = index_mod.current_folder(self.config.index_dir)
        if folder is None or folder in (self.index.folder, self._refused):
            return False
        with self._refresh_lock:
            if folder == self.index.folder:
                return False
            try:
                self.index = self.layout.load(self.config, self.embedder, verify=False, previous=self.index)
                self._answer.cache_clear()
            except index_mod.IndexProblem as exc:
                self._refused = folder
                log.error("keeping index version %s: the published one cannot be used: %s", self.index.version, exc)
                return False
            return True

    def search(self, question: str, k: int = 5, mode: str | None = None, vector=None,
               index: index_mod.Index | None = None, within: Scope | None = None) -> list[dict]:
        """Ranked passages with their article, score and the rank each method gave them."""
        index = index or self.index
        hits, _, ahead = self._retrieve(index, question, k, mode, vector, within or Scope())
        found = reading.ranked(index, ahead, [h.row for h in hits], 0, None, [])
        return [_passage(rank, hit, found.passages[hit.row]) for rank, hit in enumerate(hits, 1)]

    def _retrieve(self, index: index_mod.Index, question: str, k: int, mode: str | None, vector, within: Scope,
                  words: list[str] = (), searched: int = 0, anchors: list[str] = (), language: str = ""
                  ) -> tuple[list[hybrid.Hit], WordStats, reading.Reading]:
        """The k best hits, the statistics of the question's words and of `words`, and what each part of the
        index read ahead of its best rows (the first `searched` for sentences, with `anchors`): one round."""
        if within.empty:
            return [], WordStats({}, {}, 0), reading.of(index, [], 0, None, anchors)
        language = language or lang.detect(question)
        if vector is None:
            vector = self.query(index, question, language)
        mode = mode or self.config.mode
        request = hybrid.request(vector, question, mode, self.config.candidates, within.allowed, within.preference,
                                 words, language)
        parts = index.run(reading.ahead, reading.Ahead(request, within.preference, k, searched, list(anchors)))
        found = hybrid.merge([p.found for p in parts], self.config.candidates)
        hits = hybrid.rank(found, question, k, mode, within.preference, language)
        return hits, found.words, reading.merge([p.reading for p in parts])

    def query(self, index: index_mod.Index, question: str, language: str) -> np.ndarray:
        """The question's embedding.

        The model reads unaccented Vietnamese poorly, so such a question is embedded as the
        passages it matches lexically spell its words (see qa/retrieve/accents.py).
        """
        if language == "vi" and not has_diacritics(question):
            question = accents.respell(index, question)
        return self.embedder.encode_queries([question])[0]

    def timed_search(self, question: str, k: int = 5, mode: str | None = None, filters: Filters = Filters(),
                     question_time: bool = True) -> tuple[dict, float]:
        """Passages (no answer is picked, so no highlights), what scoped them, and the wall time in milliseconds."""
        started = time.perf_counter()
        index = self.index
        within = self.scope(index, question, filters, question_time)
        found = [{**_public(p), "highlights": []} for p in self.search(question, k, mode, index=index, within=within)]
        return {"passages": found, **_scoped(filters, within)}, (time.perf_counter() - started) * 1000

    def scope(self, index: index_mod.Index, question: str, filters: Filters, question_time: bool) -> Scope:
        """The rows the filters allow and the time the question names (unless told to ignore it)."""
        named = times.understand(question, today(self.config.today)) if question_time else None
        return scope(index, filters, named)

    def ask(self, question: str, top_k: int = 5, history: list[dict] = (), filters: Filters = Filters(),
            question_time: bool = True) -> dict:
        """The API's answer: language, resolved question, cited answer (or found=false) and passages.

        Answers are cached per index version (a new version starts a new cache) and per day, so a
        question asked again costs a copy, not a model run.
        """
        started = time.perf_counter()
        turns = tuple((t["role"], t["content"]) for t in history)
        result = copy.deepcopy(self._answer(self.index, question, top_k, turns, filters, question_time,
                                            today(self.config.today)))
        result["cached"] = result.pop("computed_at") < started
        result["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return result

    @functools.lru_cache(maxsize=4096)
    def _answer(self, index: index_mod.Index, question: str, top_k: int, history: tuple, filters: Filters,
                question_time: bool, day) -> dict:
        """The answer as computed from one index version (on one day, which relative times depend on)."""
        language = lang.detect(question)
        resolved = followup.resolve(question, [{"role": r, "content": c} for r, c in history])
        within = self.scope(index, resolved, filters, question_time)
        vector = self.query(index, resolved, language)
        hits, stats, ahead = self._retrieve(index, resolved, top_k, None, vector, within,
                                            questions.content_words(resolved), sentences.PASSAGES_SEARCHED,
                                            relevance.anchor_words(resolved, language), language)
        rows = [h.row for h in hits]
        plain = within.matched_words_removed(resolved, rows)
        stats = _covering(index, stats, [*questions.content_words(plain), *hybrid.coverage_words(plain)])
        read = reading.ranked(index, ahead, rows, sentences.PASSAGES_SEARCHED, vector,
                              relevance.anchor_words(plain, language))
        passages = [_passage(rank, hit, read.passages[hit.row]) for rank, hit in enumerate(hits, 1)]
        cross = bool(passages) and passages[0]["language"] != language
        ranked = sentences.score(plain, sentences.candidates(passages, read), passages, stats, read, cross)
        evidence = _evidence(question, plain, language, ranked, passages, stats, read)
        asked = metadata.field(question)
        if asked is not None:
            answer = _from_metadata(index, asked, passages, language) if passages and not evidence.missing else None
            chosen = []
        else:
            answerable = relevance.found(evidence)
            if answerable and self.reader is not None:
                ranked = sentences.read_first(ranked, plain, passages, self.reader.read, evidence.folded)
            chosen = sentences.choose(ranked) if answerable else []
            answer = sentences.compose(chosen, passages, ranked[0], plain) if chosen else None
        for p in passages:
            p["highlights"] = sentences.highlights(chosen, p)
        return {"question": question, "resolved_question": resolved, "language": language,
                "found": answer is not None, "answer": answer,
                "evidence": evidence.to_dict(), "passages": [_public(p) for p in passages],
                **_scoped(filters, within), "index_version": index.version, **_completeness(index),
                "computed_at": time.perf_counter()}

    def article(self, article_id: str) -> dict | None:
        """A whole article with its metadata and its passages (offsets into its text)."""
        store = self.index.store
        found = store.article(article_id)
        if found is None:
            return None
        passages = [{k: p[k] for k in ("id", "article_id", "index", "start", "end", "text")}
                    for p in store.article_passages(article_id)]
        return {**vars(found), "passages": passages}

    def articles(self, filters: Filters = Filters(), words: str = "", sort: str = "id") -> list[dict]:
        """Id, title, date, author and passage count of the articles that pass the filters and hold the words."""
        index = self.index
        keep = filters_mod.catalogue(index).article_mask(filters)[0] if filters else None
        return filters_mod.listed(index.store.summaries(), keep, words, sort)

    def examples(self, count: int = 4) -> list[dict]:
        """Questions about a few articles of the corpus, for an empty chat to offer."""
        summaries = self.index.store.summaries()
        step = max(1, len(summaries) // count)
        return [{"question": _example_question(s["title"], s.get("language")), "article_id": s["id"]}
                for s in summaries[::step][:count] if s["title"]]

    def health(self) -> dict:
        """What is loaded: model, index version and counts, and which worker process answered."""
        index = self.index
        m = index.manifest
        return {"status": "degraded" if index.missing_shards else "ok", **_completeness(index),
                "model": {**m["model"], "backend": self.embedder.backend, "query_backend": self.embedder.query_backend,
                          "reader": self.reader is not None},
                "index": {"version": m["version"], "format": m["format"], "built_at": m["built_at"],
                          "settings": m["settings"]},
                "counts": {k: m["counts"][k] for k in ("articles", "passages", "sentences")}, "pid": os.getpid()}


def _completeness(index: index_mod.Index) -> dict:
    """For a sharded index missing some shards, which ones (a single version adds nothing)."""
    missing = index.missing_shards
    return {"partial": True, "missing_shards": missing} if missing else {}


def _covering(index: index_mod.Index, stats: WordStats, tokens: list[str]) -> WordStats:
    """The statistics, asked for the tokens they lack (only when removing a time's words changed the question)."""
    lacking = stats.lacks(tokens)
    return stats.joined(index.lexical.words(lacking)) if lacking else stats


def _evidence(question: str, resolved: str, language: str, ranked: list, passages: list[dict], stats: WordStats,
              read: reading.Reading) -> relevance.Evidence:
    """What the found/not-found decision rests on."""
    top = passages[:sentences.PASSAGES_SEARCHED]
    return relevance.Evidence(
        dense=max((c.dense for c in ranked), default=0.0),
        lexical=max((c.lexical for c in ranked), default=0.0),
        coverage=stats.coverage(hybrid.coverage_words(resolved)),
        same_language=bool(top) and top[0]["language"] == language,
        folded=language == "vi" and not has_diacritics(question),
        anchors=relevance.anchors(resolved, language),
        missing=relevance.missing_anchors(resolved, language, read.occurring))


def _from_metadata(index: index_mod.Index, field: str, passages: list[dict], language: str) -> dict | None:
    """The asked field of the best passage's article, cited to that article; None when it does not say."""
    top = passages[0]
    found = index.store.article(top["article_id"])
    value = metadata.value(vars(found), field) if found is not None else None
    if value is None:
        return None
    return {"text": f"{metadata.sentence(field, value, language)} [1]",
            "citations": [{"n": 1, "passage_id": top["id"], "article_id": top["article_id"], "title": top["title"]}],
            "short": value, "short_source": {"passage_id": None, "article_id": top["article_id"], "field": field}}


def _scoped(filters: Filters, within: Scope) -> dict:
    """What narrowed or steered the search, as the API reports it."""
    return {"filters": filters.to_dict(), "excluded_undated": within.undated,
            "time": within.time.to_dict() if within.time else None}


def _example_question(title: str, language: str | None) -> str:
    """A question whose answer is the article with this title."""
    title = title.rstrip(" .!?:;")
    if len(title) > 90:
        title = title[:90].rsplit(" ", 1)[0]
    return f"{title}: what is it about?" if language and language != "vi" else f"{title} có nội dung gì?"


def _public(passage: dict) -> dict:
    """A passage without the internal fields (vector and sentence rows)."""
    return {k: v for k, v in passage.items() if k not in ("row", "sentences", "hash", "language")}


def _passage(rank: int, hit: hybrid.Hit, row: dict) -> dict:
    """One result as the CLI and API show it."""
    return {"rank": rank, "id": row["id"], "article_id": row["article_id"], "index": row["index"],
            "title": row["title"], "date": row["date"], "site": filters_mod.host(row["original_url"]),
            "source": row["source"], "original_url": row["original_url"], "text": row["text"], "start": row["start"],
            "end": row["end"],
            "score": round(hit.score, 6), "dense_score": round(hit.dense_score, 6),
            "lexical_score": round(hit.lexical_score, 6), "dense_rank": hit.dense_rank,
            "lexical_rank": hit.lexical_rank, "row": row["row"], "sentences": row["sentences"],
            "language": row["language"]}
