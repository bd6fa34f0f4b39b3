"""Vietnamese word segmentation with pyvi: which syllables make one word ("Chủ tịch", "Tổ chức", a name).

A Vietnamese word is often several syllables written apart, so an answer span taken syllable by
syllable could cut a word in two ("tịch HĐND tỉnh"); spans are taken word by word instead.
pyvi's CRF model is written to a temporary file when it loads: where that fails (a full disk),
each syllable stays a word of its own, and answers still come.
"""
from __future__ import annotations

import logging
from functools import lru_cache

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _tokenizer():
    """pyvi's tokenizer, loaded once (None when it cannot load)."""
    try:
        from pyvi import ViTokenizer

        ViTokenizer.tokenize("xin chào")
        return ViTokenizer
    except OSError as exc:
        log.error("word segmentation is off, answers are taken syllable by syllable: pyvi could not load (%s)", exc)
        return None


def prepare() -> bool:
    """Load the segmenter now (before workers fork), not on the first question; whether it is on."""
    return _tokenizer() is not None


@lru_cache(maxsize=4096)
def word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets of the words pyvi finds, in order; parts it cannot place in the text are left out."""
    tokenizer = _tokenizer()
    if tokenizer is None:
        return ()
    out, cursor = [], 0
    for token in tokenizer.tokenize(text).split():
        word = token.replace("_", " ")
        at = text.find(word, cursor)
        if at < 0:
            continue
        out.append((at, at + len(word)))
        cursor = at + len(word)
    return tuple(out)
