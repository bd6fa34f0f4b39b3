"""Vietnamese words with pyvi: which syllables make one word ("Chủ tịch", a name), and what part of speech it is.

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
def _tagger():
    """pyvi's tokenizer and part-of-speech tagger, loaded once (None when they cannot load)."""
    try:
        from pyvi import ViPosTagger, ViTokenizer

        ViPosTagger.postagging(ViTokenizer.tokenize("xin chào"))
        return ViTokenizer, ViPosTagger
    except OSError as exc:
        log.error("word segmentation is off, answers are taken syllable by syllable: pyvi could not load (%s)", exc)
        return None


def prepare() -> bool:
    """Load the segmenter now (before workers fork), not on the first question; whether it is on."""
    return _tagger() is not None


@lru_cache(maxsize=4096)
def tagged_words(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, part of speech) of the words pyvi finds, in order; parts it cannot place are left out.

    The tags (N noun, Np proper noun, M number, V verb, A adjective, E preposition…) tell the span scorer
    what a word is, which its spelling alone does not."""
    loaded = _tagger()
    if loaded is None:
        return ()
    tokenizer, tagger = loaded
    out, cursor = [], 0
    for token, tag in zip(*tagger.postagging(tokenizer.tokenize(text))):
        word = token.replace("_", " ")
        at = text.find(word, cursor)
        if at < 0:
            continue
        out.append((at, at + len(word), str(tag)))
        cursor = at + len(word)
    return tuple(out)
