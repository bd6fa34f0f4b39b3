"""BM25 over Vietnamese syllables and syllable pairs, each also in a diacritic-free form.

Every word is indexed as typed (normalised) and folded; a question word typed with diacritics
matches the exact spelling, one typed without matches every spelling that folds to it.
"""
from __future__ import annotations

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


class Lexical:
    """A bm25s index over passage tokens; scores every passage for a question at once."""

    def __init__(self, bm25, bigrams: bool = True):
        self.bm25 = bm25
        self.bigrams = bigrams

    @classmethod
    def build(cls, texts: list[str], bigrams: bool = True) -> "Lexical":
        """Index `texts` (one per passage, row order)."""
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([document_tokens(t, bigrams) or [""] for t in texts], show_progress=False)
        return cls(bm25, bigrams)

    def save(self, folder: Path) -> None:
        """Write the bm25s arrays (memory-mappable)."""
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, bigrams: bool = True, mmap: bool = True) -> "Lexical":
        """Open a saved index; mmap lets server workers share its pages."""
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False), bigrams)

    def idf(self, tokens: list[str]) -> list[float]:
        """BM25 inverse document frequency of index tokens (unknown tokens count as rarest)."""
        n_docs = self.bm25.scores["num_docs"]
        indptr = self.bm25.scores["indptr"]
        vocab = self.bm25.vocab_dict
        out = []
        for token in tokens:
            df = int(indptr[vocab[token] + 1] - indptr[vocab[token]]) if token in vocab else 0
            out.append(float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5))))
        return out

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for the question (zeros when no word is known)."""
        vocab = self.bm25.vocab_dict
        known = [t for t in query_tokens(question, self.bigrams) if t in vocab]
        n_docs = self.bm25.scores["num_docs"]
        if not known:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)
