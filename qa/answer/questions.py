"""What a question asks for, from its Vietnamese or English question words (typed with or without diacritics).

Factoid kinds (number, time, person, place, which) take a name, number, date or short phrase as
their answer; the others (definition, reason, manner, what) take the shortest clause that answers.
"""
from __future__ import annotations

import re

from qa.ingest.text import fold, is_question_word, words

FACTOID = ("number", "time", "person", "place", "which")
# Question phrases as written, for spelling a question typed without diacritics (qa/retrieve/accents.py)
SPELLED = ("bao nhiêu, có bao nhiêu, mấy, khi nào, bao giờ, lúc nào, ngày nào, tháng nào, năm nào, ở đâu, tại đâu, "
           "nơi nào, ai, là ai, người nào, vì sao, tại sao, lý do gì, như thế nào, ra sao, thế nào, là gì, gì, nào, "
           "đâu, diễn ra, được, của, những, các, và, về, việc, vấn đề")
# Checked in this order on the folded, lower-cased question: the first that matches wins.
_KINDS = [
    ("definition", r"\b(noi ve|de cap (den|toi)|ban ve|(noi|de) (cap )?ve) (van de|dieu|viec|chuyen)? ?gi\b|"
                   r"\bve (viec|van de) gi\b|\bnoi dung (chinh )?(cua .+ )?(la )?gi\b|"
                   r"\bwhat (is|was|are|were) .+ about\b|\bwhat does .+ say\b"),
    ("time", r"\b(khi nao|bao gio|ngay nao|nam nao|thang nao|luc nao|thoi gian nao|thoi diem nao|dip nao|"
             r"nam bao nhieu|ngay bao nhieu|when|what (year|date|day|month|time|century))\b"),
    ("number", r"\b(bao nhieu|may (nguoi|lan|nam|thang|ngay|trieu|ty|nghin|tram)|ty le|so luong|"
               r"how (many|much|long|old|far|large|big)|what (percentage|number|amount|proportion))\b"),
    ("person", r"(^|\W)(ai|nguoi nao|dong chi nao|ong nao|ba nao|who|whom|whose)\b"),
    ("place", r"\b(o dau|tai dau|noi nao|dia diem nao|tinh nao|nuoc nao|quoc gia nao|thanh pho nao|where|"
              r"(tu|den|o|tai) dau)\b"),
    ("reason", r"\b(vi sao|tai sao|vi ly do gi|ly do (gi|nao)|nguyen nhan|de lam gi|why|what (caused|led))\b"),
    ("manner", r"\b(nhu the nao|ra sao|the nao|bang cach nao|lam sao|how)\b"),
    ("which", r"\b(nao|which|what \w+ (is|was|are|were|did|does|do))\b"),
    ("what", r"\b(gi|what|la\s*\?|\?\s*$)"),
]
_PATTERNS = [(name, re.compile(pattern)) for name, pattern in _KINDS]
_HEAD_VI = re.compile(r"\b(\w+) (nao|gi)\b|\bbao nhieu (\w+)|\bmay (\w+)")
_HEAD_EN = re.compile(r"\b(?:what|which|how many|how much) (\w+)")


def kind(question: str) -> str:
    """The kind of answer asked for; 'what' when nothing more specific is said."""
    folded = fold(question.lower())
    return next((name for name, pattern in _PATTERNS if pattern.search(folded)), "what")


def head_words(question: str) -> set[str]:
    """Folded nouns the question attaches to its question word ("năm nào" → năm, "bao nhiêu điểm" → điểm)."""
    folded = fold(question.lower())
    found = {w for m in _HEAD_VI.finditer(folded) for w in m.groups() if w} | {
        m.group(1) for m in _HEAD_EN.finditer(folded)}
    return {w for w in found if not is_question_word(w)}


_WH = re.compile(r"\b(ai|gi|nao|bao nhieu|bao gio|dau|sao|may|who|whom|whose|what|when|where|which|why|how many|"
                 r"how much|how)\b")


def context(question: str) -> tuple[list[str], list[str]]:
    """Folded words just before and just after the question word ("vào năm [nào] thì" → vao nam | thi).

    In the sentence that answers, the answer tends to stand where the question word stands."""
    folded = fold(question.lower())
    m = _WH.search(folded)
    if m is None:
        return [], []
    return words(folded[:m.start()])[-2:], words(folded[m.end():])[:2]


_EVENT = re.compile(r"\b(dien ra|to chuc|hop|khai mac|be mac|held|take place|took place|happen|happened|"
                    r"convened|met)\b")


_OFFICE = re.compile(r"\b(chuc vu|chuc danh|giu chuc|cuong vi|"
                     r"(what|which)( other)? (posts?|positions?|offices?|titles?))\b")


def asks_office(question: str) -> bool:
    """The question asks what posts someone holds ("giữ chức vụ gì", "what posts does X hold")."""
    return bool(_OFFICE.search(fold(question.lower())))


_NAMED = re.compile(r"\b(ten|ten goi|phuong cham|khau hieu|tieu de|chu de|name|title|motto|slogan|theme|called)\b")


def asks_name(question: str) -> bool:
    """The question asks what something is called ("có tên là gì", "theo phương châm gì", "what is it called"):
    the answer is often a phrase the article quotes."""
    return kind(question) in ("what", "which") and bool(_NAMED.search(fold(question.lower())))


def asks_event(question: str) -> bool:
    """The question asks when an event took place ("diễn ra", "tổ chức", "held"), not when a text was dated."""
    return bool(_EVENT.search(fold(question.lower())))


def content_words(question: str) -> list[str]:
    """Folded words of the question without the question words themselves."""
    all_words = words(question)
    return [fold(w) for w in all_words if not is_question_word(w)] or [fold(w) for w in all_words]
