"""BM25 over Vietnamese syllables and syllable pairs, each also in a diacritic-free form.

Every word is indexed as typed (normalised) and folded; a question word typed with diacritics
matches the exact spelling, one typed without matches every spelling that folds to it.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from .text import fold, normalize

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

    A build can add tokens (new ids follow the old ones, so stored token ids stay valid).
    """

    def __init__(self, hashes: np.ndarray, ids: np.ndarray):
        self.hashes, self.ids = hashes, ids
        self.added: dict[int, int] = {}

    @classmethod
    def empty(cls) -> "Vocabulary":
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.hashes) + len(self.added)

    def lookup(self, tokens: list[str]) -> list[int | None]:
        """Ids of known tokens, None for the others."""
        return [self._find(token_hash(t)) for t in tokens]

    def _find(self, h: int) -> int | None:
        """Id of a hash: binary search in the stored table, then the tokens added since."""
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

    def merged(self) -> "Vocabulary":
        """One sorted table with the added tokens in it."""
        hashes = np.concatenate([self.hashes, np.fromiter(self.added, dtype=np.uint64, count=len(self.added))])
        ids = np.concatenate([self.ids, np.fromiter(self.added.values(), dtype=np.int32, count=len(self.added))])
        order = np.argsort(hashes, kind="stable")
        return Vocabulary(hashes[order], ids[order])

    def save(self, folder: Path) -> None:
        np.save(folder / "vocab_hashes.npy", self.hashes)
        np.save(folder / "vocab_ids.npy", self.ids)

    @classmethod
    def load(cls, folder: Path) -> "Vocabulary":
        return cls(np.load(folder / "vocab_hashes.npy", mmap_mode="r"), np.load(folder / "vocab_ids.npy", mmap_mode="r"))


class Lexical:
    """A bm25s index over passage token ids; scores every passage for a question at once.

    Each passage's token ids are kept too, so a later build reuses them instead of re-tokenising.
    """

    def __init__(self, bm25, vocab: Vocabulary, tokens: np.ndarray, offsets: np.ndarray, bigrams: bool = True):
        self.bm25, self.vocab, self.tokens, self.offsets, self.bigrams = bm25, vocab, tokens, offsets, bigrams

    @classmethod
    def build(cls, token_ids: list[np.ndarray], vocab: Vocabulary, bigrams: bool = True) -> "Lexical":
        """Index passages given as token ids (row order) of `vocab`."""
        import bm25s

        vocab = vocab.merged()
        bm25 = bm25s.BM25()
        bm25.index(([ids.tolist() for ids in token_ids], {i: i for i in range(len(vocab))}),
                   create_empty_token=False, show_progress=False)
        offsets = np.zeros(len(token_ids) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids in token_ids], out=offsets[1:])
        tokens = np.concatenate(token_ids) if token_ids else np.zeros(0, dtype=np.int32)
        return cls(bm25, vocab, tokens.astype(np.int32), offsets, bigrams)

    def save(self, folder: Path) -> None:
        """Write the bm25s arrays, the vocabulary and the passages' token ids (all memory-mappable)."""
        self.bm25.vocab_dict = {}
        self.bm25.save(str(folder), show_progress=False)
        self.vocab.save(folder)
        np.save(folder / "tokens.npy", self.tokens)
        np.save(folder / "token_offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path, bigrams: bool = True) -> "Lexical":
        """Open a saved index memory-mapped, so server workers share its pages."""
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), mmap=True, load_vocab=False, show_progress=False)
        return cls(bm25, Vocabulary.load(folder), np.load(folder / "tokens.npy", mmap_mode="r"),
                   np.load(folder / "token_offsets.npy", mmap_mode="r"), bigrams)

    def passage_tokens(self, row: int) -> np.ndarray:
        """Token ids of one passage, as stored."""
        return np.asarray(self.tokens[self.offsets[row]:self.offsets[row + 1]])

    def rows_with(self, token: str) -> np.ndarray:
        """Passages containing a token: its column of the BM25 matrix."""
        i = self.vocab.lookup([token])[0]
        if i is None:
            return np.zeros(0, dtype=np.int64)
        indptr = self.bm25.scores["indptr"]
        return np.asarray(self.bm25.scores["indices"][indptr[i]:indptr[i + 1]])

    def known(self, tokens: list[str]) -> list[bool]:
        """Which tokens occur in the corpus."""
        return [i is not None for i in self.vocab.lookup(tokens)]

    def idf(self, tokens: list[str]) -> list[float]:
        """BM25 inverse document frequency of index tokens (unknown tokens count as rarest)."""
        n_docs = self.bm25.scores["num_docs"]
        indptr = self.bm25.scores["indptr"]
        out = []
        for i in self.vocab.lookup(tokens):
            df = int(indptr[i + 1] - indptr[i]) if i is not None else 0
            out.append(float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5))))
        return out

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for the question (zeros when no word is known)."""
        ids = [i for i in self.vocab.lookup(query_tokens(question, self.bigrams)) if i is not None]
        if not ids:
            return np.zeros(self.bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)
