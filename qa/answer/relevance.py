"""Knowing when the corpus holds no answer.

Evidence: the best candidate sentence's cosine with the question, its IDF-weighted share of the
question's words, and "anchors" — numbers, and names where they can match — that the question
names but none of the top articles contains ("Nghị quyết 57" when the corpus only has 116).
Cosines run lower across languages and for Vietnamese typed without diacritics, so each of the
three cases has its own thresholds, fitted by `python bench/calibrate_found.py` (see README; the
cross-language cosine sits between the benchmarks' best, 0.78, and the seeds'). Across
languages, a matching specific number or name supports a lower cosine; a year does not (news
mentions years everywhere).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from qa.ingest.text import fold, words

_NUMBER = re.compile(r"\d+")
_YEAR = re.compile(r"(1[5-9]|20)\d\d")
_NAME = re.compile(r"(?<=\s)[A-ZĐ][^\W\d_]+")


@dataclass(frozen=True)
class Thresholds:
    """Where found becomes true; the defaults are the calibrated ones."""

    dense_min: float = 0.83
    lexical_min: float = 0.55
    dense_alone: float = 0.85
    folded_dense_min: float = 0.72
    folded_lexical_min: float = 0.4
    cross_dense_min: float = 0.80
    cross_anchored_min: float = 0.74


CALIBRATED = Thresholds()


@dataclass
class Evidence:
    """Why an answer is (or is not) believed to be in the corpus."""

    dense: float
    lexical: float
    coverage: float
    same_language: bool = True
    folded: bool = False
    anchors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Rounded, for the API response."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def anchors(question: str, language: str) -> list[str]:
    """Specifics an answering article must mention: numbers, and names it could spell alike."""
    found = _NUMBER.findall(question)
    names = _NAME.findall(question)
    found += names if language == "vi" else [w for w in names if fold(w) != w]
    return list(dict.fromkeys(found))


def anchor_words(question: str, language: str) -> list[str]:
    """The folded words of the question's anchors, which the top articles are searched for."""
    return sorted({fold(w) for a in anchors(question, language) for w in words(a)})


def missing_anchors(question: str, language: str, occurring: dict[str, bool]) -> list[str]:
    """Anchors of the question of which some word is in none of the top articles (`occurring` says, for
    each of its anchor words, whether those articles hold it)."""
    return [a for a in anchors(question, language) if not all(occurring[fold(w)] for w in words(a))]


def found(e: Evidence, t: Thresholds = CALIBRATED) -> bool:
    """Decide, with thresholds for cross-language, diacritic-free and ordinary questions."""
    if e.missing:
        return False
    if not e.same_language:
        specific = [a for a in e.anchors if not _YEAR.fullmatch(a)]
        return e.dense >= t.cross_dense_min or (bool(specific) and e.dense >= t.cross_anchored_min)
    if e.folded:
        return e.dense >= t.folded_dense_min and e.lexical >= t.folded_lexical_min
    return e.dense >= t.dense_min and (e.lexical >= t.lexical_min or e.dense >= t.dense_alone)
