"""Split cleaned article text into sentence-aligned, overlapping passages with exact offsets."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[\w\d])", re.UNICODE)
_ABBREV = {"tp", "ths", "ts", "pgs", "gs", "bs", "ks", "mr", "mrs", "ms", "dr", "st", "no",
           "vs", "etc", "e.g", "i.e", "jr", "sr", "co", "inc", "ltd", "tt"}
_LAST_WORD = re.compile(r"([\w.]+)$", re.UNICODE)


@dataclass(frozen=True)
class Passage:
    """A slice of an article: `article.text[start:end] == text`."""

    article_id: str
    index: int
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        """Stable, URL-safe name used by the API and citations."""
        return f"{self.article_id}:{self.index}"


TITLE_CHARS = 200


def embedding_input(title: str, text: str) -> str:
    """What the model sees for a passage: its article's title, then the passage."""
    return f"{title[:TITLE_CHARS]}\n{text}"


def content_hash(title: str, text: str) -> str:
    """Hash of exactly what the embedder sees, so unchanged passages are never re-embedded."""
    return hashlib.sha256(embedding_input(title, text).encode("utf-8")).hexdigest()[:32]


def _is_abbreviation(text: str, stop: int) -> bool:
    """A period after 'TP', 'v.v' or a single capital initial does not end a sentence."""
    match = _LAST_WORD.search(text, 0, stop)
    if not match:
        return False
    word = match.group(1).rstrip(".").lower()
    return word in _ABBREV or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets; a line break always ends a sentence."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        start, stop = line.start(), line.end()
        cursor = start
        for end in _END.finditer(text, start, stop):
            if _is_abbreviation(text, end.start()):
                continue
            spans.append((cursor, end.end()))
            cursor = end.end() + 1
            while cursor < stop and text[cursor].isspace():
                cursor += 1
        if cursor < stop:
            spans.append((cursor, stop))
    return spans


def _cut_long(text: str, span: tuple[int, int], max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut a sentence longer than the model's limit at word boundaries (the only cut inside a sentence)."""
    start, end = span
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        cut = cut if cut > start else start + max_chars
        yield start, cut
        start = cut + 1 if text[cut] == " " else cut
    yield start, end


def split(article_id: str, text: str, target_chars: int = 500, max_chars: int = 1500,
          fits: Callable[[str], bool] | None = None) -> list[Passage]:
    """Group sentences into passages of about `target_chars`; consecutive passages share one sentence.

    `max_chars` bounds one piece; `fits` (e.g. a model token check) may shrink pieces further.
    """
    sentences = []
    for span in sentence_spans(text):
        limit = max_chars
        while True:
            pieces = list(_cut_long(text, span, limit))
            if fits is None or all(fits(text[a:b]) for a, b in pieces) or limit < 64:
                break
            limit //= 2
        sentences.extend(pieces)
    passages: list[Passage] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while j < len(sentences) and sentences[j][1] - sentences[i][0] <= target_chars:
            j += 1
        start, end = sentences[i][0], sentences[j - 1][1]
        passages.append(Passage(article_id, len(passages), start, end, text[start:end]))
        if j >= len(sentences):
            break
        overlap_fits = j - 1 > i and sentences[j][1] - sentences[j - 1][0] <= target_chars
        i = j - 1 if overlap_fits else j
    return passages
