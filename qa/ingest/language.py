"""Language of a question: langdetect, seeded, guarded for short text and Vietnamese without marks.

langdetect alone calls "chi thi 35 ve dai hoi" Indonesian or Somali; a Vietnamese syllable check
catches such text first, and lower-case words with letters only Vietnamese uses settle it (names
like "Phạm Minh Tấn" inside an English question do not). Foreign names do not count against text
typed without diacritics either ("Alan Thicke da viet cuon sach nao?"): its lower-case words decide.
"""
from __future__ import annotations

import re
import threading

from qa.ingest.text import fold

_VIETNAMESE_ONLY = set("ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĩũ")
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
                       r"(?:uye|uya|uoi|uou|ieu|yeu|oai|oay|oeo|uay|uyu|uoi|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi"
                       r"|ua|ue|ui|uo|uu|uy|ye|a|e|i|o|u|y)(?:ch|ng|nh|c|m|n|p|t)?")
_LETTERS = re.compile(r"[^\W\d_]+")
_ENGLISH = {"the", "of", "to", "in", "is", "are", "was", "were", "what", "who", "when", "where", "which",
            "how", "why", "did", "does", "do", "and", "about", "for", "with", "on", "it", "that"}
_lock = threading.Lock()
_factory = None


def prepare():
    """Load langdetect's profiles once (slow the first time), seeded so results repeat."""
    global _factory
    from langdetect import DetectorFactory, detector_factory

    with _lock:
        if _factory is None:
            DetectorFactory.seed = 0
            detector_factory.init_factory()
            _factory = detector_factory._factory
    return _factory


def _langdetect(text: str) -> tuple[str, float]:
    """Best language and its probability."""
    from langdetect.lang_detect_exception import LangDetectException

    factory = prepare()
    with _lock:
        detector = factory.create()
        detector.append(text)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return "", 0.0
    return best.lang, best.prob


def vietnamese_share(text: str) -> float:
    """Share of words that are well-formed Vietnamese syllables once marks are stripped."""
    words = [w.lower() for w in _LETTERS.findall(fold(text))]
    if not words:
        return 0.0
    vietnamese = sum(bool(_SYLLABLE.fullmatch(w)) for w in words)
    return vietnamese / len(words)


def detect(text: str, default: str = "vi") -> str:
    """ISO 639-1 code of the text's language ('vi', 'en', …); `default` when there is nothing to go on."""
    words = _LETTERS.findall(text)
    if not words:
        return default
    share = vietnamese_share(text)
    common = [w for w in words if not w[0].isupper()] or words
    marked = sum(any(c in _VIETNAMESE_ONLY for c in w.lower()) for w in common) / len(common)
    if marked >= 0.3 or (share >= 0.8 and len(words) >= 2):
        return "vi"
    if marked == 0 and any(w.lower() in _ENGLISH and not _SYLLABLE.fullmatch(w.lower()) for w in common):
        return "en"
    if sum(w.lower() not in _ENGLISH for w in common) >= 2 and vietnamese_share(" ".join(common)) >= 0.8:
        return "vi"
    code, prob = _langdetect(text)
    code = code.split("-")[0]
    if len(words) >= 3 and prob >= 0.8 and code:
        return code
    if share >= 0.6:
        return "vi"
    return "en" if all(w.isascii() for w in words) else code or default
