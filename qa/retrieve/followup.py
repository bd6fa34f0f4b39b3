"""Follow-up questions, resolved against the conversation without a language model.

A question that points back ("văn bản đó", "ông ấy", "còn … thì sao", "it", "what about …") or is
too short to stand alone gets the key words of the previous question appended; any other question
is left alone, so a new topic in the middle of a conversation is not pulled back to the old one.
"""
from __future__ import annotations

import re

from qa.ingest.language import vietnamese_share
from qa.ingest.text import fold, is_question_word, words

_REFERS_MARKED = re.compile(r"\b(đó|này|ấy|kia|nói trên|trên đây|vừa rồi|vừa nêu|nó|họ|thế còn|vậy còn|"
                            r"còn .+ thì sao|thì sao|như vậy|cũng vậy)\b", re.IGNORECASE)
_REFERS_FOLDED = re.compile(r"(^|\s)(con|the con|vay con)\s|\b(thi sao|noi tren|vua roi|no|ho|ay|kia)\b|"
                            r"\b(do|nay)(\s*[?.!]?\s*$|\s+(la|do|co|duoc|thi|dien|ban|o|tai)\b)")
_REFERS_ENGLISH = re.compile(r"\b(it|its|they|them|their|that one|this one|those|these|he|she|him|her|his|"
                             r"there|the same|the second|the first|the other|what about|how about|and the)\b",
                             re.IGNORECASE)
_ANCHOR = re.compile(r"\d|[A-ZĐ]{2,}|[^\W\d_]+\s+[A-ZĐ]")
MAX_SHORT_WORDS = 3


def refers_back(question: str) -> bool:
    """Pronouns and elliptical openings that only make sense after an earlier turn."""
    if fold(question) != question:
        return bool(_REFERS_MARKED.search(question))
    lower = question.lower()
    pattern = _REFERS_FOLDED if vietnamese_share(question) >= 0.6 else _REFERS_ENGLISH
    return bool(pattern.search(lower))


def is_follow_up(question: str) -> bool:
    """Points back, or too short to mean anything on its own ("Ai chủ trì?", "Ngày nào?")."""
    if refers_back(question):
        return True
    content = [w for w in words(question) if not is_question_word(w)]
    return len(content) <= MAX_SHORT_WORDS and not _ANCHOR.search(question)


def key_words(question: str) -> str:
    """The previous question without its question words: the topic a follow-up carries on."""
    return " ".join(w for w in question.replace("?", " ").split() if not is_question_word(w.strip(",.;:")))


def resolve(question: str, history: list[dict]) -> str:
    """The question to search with: itself, or itself plus the topic of the conversation so far."""
    topic = ""
    for turn in history:
        if turn["role"] != "user" or not turn["content"].strip():
            continue
        asked = turn["content"].strip()
        topic = f"{asked} {key_words(topic)}".strip() if topic and is_follow_up(asked) else asked
    if not topic or not is_follow_up(question):
        return question
    return f"{question} {key_words(topic)}"
