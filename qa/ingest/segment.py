"""Vietnamese word segmentation with pyvi: which syllables make one word ("Chủ tịch", "Tổ chức", a name).

A Vietnamese word is often several syllables written apart, so an answer span taken syllable by
syllable could cut a word in two ("tịch HĐND tỉnh"); spans are taken word by word instead.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets of the words pyvi finds, in order; parts it cannot place in the text are left out."""
    from pyvi import ViTokenizer

    out, cursor = [], 0
    for token in ViTokenizer.tokenize(text).split():
        word = token.replace("_", " ")
        at = text.find(word, cursor)
        if at < 0:
            continue
        out.append((at, at + len(word)))
        cursor = at + len(word)
    return tuple(out)
