"""Vietnamese text normalisation: one spelling per word, so that variants match each other.

Display text is only NFC- and whitespace-cleaned (`tidy`); matching (lexical tokens, model input,
answer comparison) goes through `normalize`, which also fixes tone-mark placement, quotes and dashes.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONES = {"\u0300": "grave", "\u0301": "acute", "\u0303": "tilde", "\u0309": "hook", "\u0323": "dot"}
_TONE_MARKS = "".join(_TONES)
_VOWELS = set("aăâeêioôơuưy")
_MARKED = set("ăâêôơư")
_ONSETS = {"", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
           "p", "ph", "q", "qu", "r", "s", "t", "th", "tr", "v", "x"}
_CODAS = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"}
_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»″"} | {c: "'" for c in "‘’‚‛′`"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u200c-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_BREAKS = re.compile(r"[\u200b\u2028\u2029\x0b\x0c\x85]")
_SPACES = re.compile(r"[^\S\n]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
_FOLD = str.maketrans("đĐ", "dD")
_QUESTION_WORDS_VI = set("ai gì nào bao nhiêu mấy khi đâu sao thế là của có được và các những một trong cho với về "
                         "để tại ở thì hay không chưa đã sẽ như vậy gồm".split())
_QUESTION_WORDS_EN = set("what who whom whose when where which why how many much is are was were did does do the a "
                         "an of in on to for by and or it its".split())


def tidy(text: str) -> str:
    """NFC, no control or invisible characters, single spaces, trimmed lines: safe for display and offsets.

    A zero-width space separates words, so it becomes a space; joiners, direction marks and
    control characters are dropped.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _BREAKS.sub(" ", _INVISIBLE.sub("", text)).replace("\u00a0", " ")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(lines).strip()


@lru_cache(maxsize=1 << 18)
def _place_tone(word: str) -> str:
    """Move a syllable's tone mark to one canonical vowel (hòa, thủy, khỏe, quý, giá, người)."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return word
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    lower = base.lower()
    start = 0
    while start < len(lower) and lower[start] not in _VOWELS:
        start += 1
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    if end == start or lower[:start] not in _ONSETS | {"g", "q"} or lower[end:] not in _CODAS:
        return word
    prefix = lower[max(0, start - 1):start]
    if end - start > 1 and ((prefix == "q" and lower[start] == "u") or (prefix == "g" and lower[start] == "i")):
        start += 1
    nucleus = range(start, end)
    marked = [i for i in nucleus if lower[i] in _MARKED]
    if marked:
        pos = marked[-1]
    elif len(nucleus) >= 3:
        pos = start + 1
    elif len(nucleus) == 2:
        pos = start + 1 if end < len(lower) else start
    else:
        pos = start
    out = base[:pos + 1] + tones[0] + base[pos + 1:]
    return unicodedata.normalize("NFC", out)


def normalize(text: str) -> str:
    """Matching form: tidy, straight quotes, ASCII dashes and one tone-mark placement."""
    text = _DASHES.sub("-", tidy(text).translate(_QUOTES))
    return _LETTERS.sub(lambda m: _place_tone(m.group()), text)


def fold(text: str) -> str:
    """Strip diacritics (and đ→d) so a question typed without them still matches."""
    if len(text) < 32:
        return _fold_short(text)
    return _fold(text)


@lru_cache(maxsize=1 << 18)
def _fold_short(text: str) -> str:
    """Words repeat endlessly in a corpus: fold each spelling once."""
    return _fold(text)


def _fold(text: str) -> str:
    """Decompose, drop combining marks, recompose."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def has_diacritics(text: str) -> bool:
    """True when folding would change the text: a sign it was typed with Vietnamese marks."""
    return fold(text) != text


def words(text: str) -> list[str]:
    """Lower-cased syllables and numbers in matching form: the unit of Vietnamese lexical search."""
    return _WORD.findall(normalize(text).lower())



def is_question_word(word: str) -> bool:
    """Question and function words ("ai", "bao nhiêu", "what"): they never carry the topic.

    A word typed with diacritics is checked as spelled, so "thị" or "báo" are kept; one typed
    without them is checked against the folded list.
    """
    lower = word.lower()
    if lower in _QUESTION_WORDS_EN:
        return True
    if has_diacritics(lower):
        return lower in _QUESTION_WORDS_VI
    return lower in _FOLDED_QUESTION_WORDS


_FOLDED_QUESTION_WORDS = {fold(w) for w in _QUESTION_WORDS_VI}
