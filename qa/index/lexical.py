"""BM25 over Vietnamese syllables and syllable pairs, each also in a diacritic-free form.

Every word is indexed as typed (normalised) and folded; a question word typed with diacritics
matches the exact spelling, one typed without matches every spelling that folds to it.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.ingest.text import fold, normalize

_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[tuple[str, bool]]:
    """Lower-cased words, each flagged when only whitespace separates it from the previous one."""
    text = normalize(text).lower()
    out, last_end = [], None
    for m in _WORD.finditer(text):
        joined = last_end is not None and text[last_end:m.start()].isspace()
        out.append((m.group(), joined))
        last_end = m.end()
    return out


def document_tokens(text: str, bigrams: bool = True) -> list[str]:
    """Index-side tokens: exact and folded words, and exact and folded pairs of adjacent words."""
    tokens: list[str] = []
    previous = None
    for word, joined in _words(text):
        folded = fold(word)
        tokens.append(folded)
        if folded != word:
            tokens.append(word)
        if bigrams and joined and previous is not None:
            exact, loose = f"{previous}_{word}", f"{fold(previous)}_{folded}"
            tokens.append(loose)
            if loose != exact:
                tokens.append(exact)
        previous = word
    return tokens


def query_tokens(text: str, bigrams: bool = True) -> list[str]:
    """Question-side tokens: exact where the user typed diacritics, folded where they did not."""
    tokens: list[str] = []
    previous = None
    for word, joined in _words(text):
        tokens.append(word)
        if bigrams and joined and previous is not None:
            both_marked = fold(previous) != previous and fold(word) != word
            tokens.append(f"{previous}_{word}" if both_marked else f"{fold(previous)}_{fold(word)}")
        previous = word
    return list(dict.fromkeys(tokens))


def token_hash(token: str) -> int:
    """A stable 64-bit name for a token (Python's own hash changes between processes)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


class Vocabulary:
    """Token -> id through sorted 64-bit hashes in memory-mapped arrays: shared by workers, nothing to parse.

    A build can add tokens (new ids follow the old ones, so stored token ids stay valid). A delta
    segment's vocabulary extends its base's: it stores only the tokens the base lacks.
    """

    def __init__(self, hashes: np.ndarray, ids: np.ndarray, base: "Vocabulary | None" = None):
        self.hashes, self.ids, self.base = hashes, ids, base
        self.added: dict[int, int] = {}

    @classmethod
    def empty(cls, base: "Vocabulary | None" = None) -> "Vocabulary":
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32), base)

    def __len__(self) -> int:
        return (len(self.base) if self.base is not None else 0) + len(self.hashes) + len(self.added)

    def lookup(self, tokens: list[str]) -> list[int | None]:
        """Ids of known tokens, None for the others."""
        return [self._find(token_hash(t)) for t in tokens]

    def _find(self, h: int) -> int | None:
        """Id of a hash: in the base, then binary search in the stored table, then the tokens added since."""
        found = self.base._find(h) if self.base is not None else None
        if found is not None:
            return found
        i = int(np.searchsorted(self.hashes, np.uint64(h)))
        return int(self.ids[i]) if i < len(self.hashes) and int(self.hashes[i]) == h else self.added.get(h)

    def add(self, tokens: list[str]) -> np.ndarray:
        """Ids of the tokens, giving unknown ones the next free ids."""
        out = np.empty(len(tokens), dtype=np.int32)
        for j, token in enumerate(tokens):
            h = token_hash(token)
            found = self._find(h)
            if found is None:
                found = self.added[h] = len(self)
            out[j] = found
        return out

    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Hashes and ids of this vocabulary and its bases, unsorted."""
        hashes = [self.hashes, np.fromiter(self.added, dtype=np.uint64, count=len(self.added))]
        ids = [self.ids, np.fromiter(self.added.values(), dtype=np.int32, count=len(self.added))]
        if self.base is not None:
            base_hashes, base_ids = self.base._tables()
            hashes, ids = [base_hashes, *hashes], [base_ids, *ids]
        return np.concatenate(hashes), np.concatenate(ids)

    def merged(self) -> "Vocabulary":
        """One sorted table with the bases and the added tokens in it."""
        hashes, ids = self._tables()
        order = np.argsort(hashes, kind="stable")
        return Vocabulary(hashes[order], ids[order])

    def extension(self) -> "Vocabulary":
        """One sorted table of what this vocabulary adds to its base (the base stays as it is)."""
        own = Vocabulary(self.hashes, self.ids)
        own.added = self.added
        merged = own.merged()
        return Vocabulary(merged.hashes, merged.ids, self.base)

    def save(self, folder: Path) -> None:
        """Write this vocabulary's own table (a base is saved with its own segment)."""
        np.save(folder / "vocab_hashes.npy", self.hashes)
        np.save(folder / "vocab_ids.npy", self.ids)

    @classmethod
    def load(cls, folder: Path, base: "Vocabulary | None" = None) -> "Vocabulary":
        return cls(np.load(folder / "vocab_hashes.npy", mmap_mode="r"), np.load(folder / "vocab_ids.npy", mmap_mode="r"),
                   base)


@dataclass(frozen=True)
class Statistics:
    """Corpus-wide BM25 figures for a segment that is one part (a shard) of a larger corpus."""

    documents: int
    tokens: int
    frequencies: dict[int, int]  # token hash -> passages of the whole corpus containing it

    @classmethod
    def of(cls, token_lists: list[list[str]]) -> "Statistics":
        """The figures of a corpus given as each passage's index tokens."""
        frequencies = Counter(token_hash(t) for tokens in token_lists for t in set(tokens))
        return cls(len(token_lists), sum(map(len, token_lists)), dict(frequencies))

    def changed(self, removed: list[list[str]], added: list[list[str]]) -> "Statistics":
        """The figures once some passages (given as index tokens) left the corpus and others came in."""
        gone, new = Statistics.of(removed), Statistics.of(added)
        frequencies = Counter(self.frequencies)
        frequencies.subtract(gone.frequencies)
        frequencies.update(new.frequencies)
        return Statistics(self.documents - gone.documents + new.documents, self.tokens - gone.tokens + new.tokens,
                          {h: n for h, n in frequencies.items() if n > 0})


class Lexical:
    """A bm25s index over one segment's passage token ids; scores every passage for some token ids at once.

    Each passage's token ids are kept too, so a later build reuses them instead of re-tokenising.
    A delta segment is weighted with its base's statistics, a shard with the whole corpus's, so the
    segments' scores add up.
    """

    def __init__(self, bm25, vocab: Vocabulary, tokens: np.ndarray, offsets: np.ndarray):
        self.bm25, self.vocab, self.tokens, self.offsets = bm25, vocab, tokens, offsets

    @classmethod
    def build(cls, token_ids: list[np.ndarray], vocab: Vocabulary, base: "Lexical | None" = None,
              statistics: Statistics | None = None) -> "Lexical":
        """Index passages given as token ids (row order) of `vocab`; a delta segment names its `base`, a shard
        the `statistics` of the whole corpus."""
        import bm25s

        lists = [ids.tolist() for ids in token_ids]
        if base is not None:
            vocab = vocab.extension()
            bm25 = _weighted_by(lists, len(vocab), _with_base(base, lists))
        elif statistics is not None:
            vocab = vocab.merged()
            bm25 = _weighted_by(lists, len(vocab), _with_statistics(statistics, vocab))
        else:
            vocab = vocab.merged()
            bm25 = bm25s.BM25()
            bm25.index((lists, {i: i for i in range(len(vocab))}), create_empty_token=False, show_progress=False)
        offsets = np.zeros(len(token_ids) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids in token_ids], out=offsets[1:])
        tokens = np.concatenate(token_ids) if token_ids else np.zeros(0, dtype=np.int32)
        return cls(bm25, vocab, tokens.astype(np.int32), offsets)

    def save(self, folder: Path) -> None:
        """Write the bm25s arrays, the vocabulary and the passages' token ids (all memory-mappable)."""
        self.bm25.vocab_dict = {}
        self.bm25.save(str(folder), show_progress=False)
        self.vocab.save(folder)
        np.save(folder / "tokens.npy", self.tokens)
        np.save(folder / "token_offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path, base: "Lexical | None" = None) -> "Lexical":
        """Open a saved segment memory-mapped, so server workers share its pages."""
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), mmap=True, load_vocab=False, show_progress=False)
        return cls(bm25, Vocabulary.load(folder, base.vocab if base is not None else None),
                   np.load(folder / "tokens.npy", mmap_mode="r"), np.load(folder / "token_offsets.npy", mmap_mode="r"))

    def __len__(self) -> int:
        return int(self.bm25.scores["num_docs"])

    def passage_tokens(self, row: int) -> np.ndarray:
        """Token ids of one passage, as stored."""
        return np.asarray(self.tokens[self.offsets[row]:self.offsets[row + 1]])

    def _columns(self) -> int:
        """How many token ids this segment's matrix has columns for."""
        return len(self.bm25.scores["indptr"]) - 1

    def rows_with(self, token_id: int) -> np.ndarray:
        """Passages containing a token: its column of the BM25 matrix."""
        if token_id >= self._columns():
            return np.zeros(0, dtype=np.int64)
        indptr = self.bm25.scores["indptr"]
        return np.asarray(self.bm25.scores["indices"][indptr[token_id]:indptr[token_id + 1]])

    def document_frequencies(self, token_ids: np.ndarray) -> np.ndarray:
        """How many passages of this segment contain each token."""
        token_ids = np.asarray(token_ids, dtype=np.int64)
        known = token_ids < self._columns()
        indptr = self.bm25.scores["indptr"]
        out = np.zeros(len(token_ids), dtype=np.int64)
        out[known] = indptr[token_ids[known] + 1] - indptr[token_ids[known]]
        return out

    def scores(self, token_ids: list[int]) -> np.ndarray:
        """BM25 score of every passage of this segment for a question's token ids."""
        ids = [i for i in token_ids if i < self._columns()]
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)


def _with_base(base: Lexical, lists: list[list[int]]):
    """Document count, average length and frequencies of a delta segment and its base together."""
    n_docs = len(base) + len(lists)
    average = (int(base.offsets[-1]) + sum(map(len, lists))) / max(n_docs, 1)

    def frequencies(present: np.ndarray, own: np.ndarray) -> np.ndarray:
        return base.document_frequencies(present) + own

    return n_docs, average, frequencies


def _with_statistics(statistics: Statistics, vocab: Vocabulary):
    """Document count, average length and frequencies of the whole corpus a shard is part of."""
    hashes, ids = vocab._tables()
    hash_of = dict(zip(ids.tolist(), hashes.tolist()))

    def frequencies(present: np.ndarray, own: np.ndarray) -> np.ndarray:
        return np.array([statistics.frequencies[hash_of[int(i)]] for i in present], dtype=np.int64)

    return statistics.documents, statistics.tokens / max(statistics.documents, 1), frequencies


def _weighted_by(lists: list[list[int]], columns: int, corpus):
    """bm25s scores for a segment with the idf and average length of the corpus it is part of.

    bm25s' own `index` would weigh a few passages by themselves alone, making their scores
    incomparable with the other segments'; its scoring steps are reused with the corpus-wide figures.
    """
    import bm25s
    import scipy.sparse as sp
    from bm25s.scoring import _build_scores_and_indices_for_matrix, _select_idf_scorer

    n_docs, average, frequencies_of = corpus
    bm25 = bm25s.BM25()
    own = Counter(t for ids in lists for t in set(ids))
    present = np.fromiter(own, dtype=np.int64, count=len(own))
    frequencies = frequencies_of(present, np.fromiter(own.values(), dtype=np.int64, count=len(own)))
    idf = np.zeros(columns, dtype=bm25.dtype)
    score_idf = _select_idf_scorer(bm25.idf_method)
    idf[present] = [score_idf(int(df), N=n_docs) for df in frequencies]
    data, docs, vocab = _build_scores_and_indices_for_matrix(
        lists, idf, average, own, bm25.k1, bm25.b, bm25.delta, None, method=bm25.method,
        dtype=bm25.dtype, int_dtype=bm25.int_dtype, show_progress=False)
    matrix = sp.csc_matrix((data, (docs, vocab)), shape=(len(lists), columns), dtype=bm25.dtype)
    bm25.scores = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr, "num_docs": len(lists)}
    bm25.nonoccurrence_array = None
    return bm25
