"""The short answer: the span of the chosen sentence that answers, word for word as the article has it.

Candidates are runs of whole words that never cross a clause break (comma, semicolon, colon,
brackets, quotes), plus whole clauses. Each is described by features — the kind of thing asked
for against what the span holds (digits, dates, capitalised names, time words, pyvi's parts of
speech of its words and neighbours), its length, how far it stands from the question's words in
the sentence, the words around it — and scored by a
logistic regression fitted by `bench/train_spans.py` on XQuAD (split by article; see docs/benchmarks.md).
"Nói về vấn đề gì" questions take what the sentence attaches to "về (việc)".
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Set as AbstractSet
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from qa.answer import questions
from qa.ingest import segment
from qa.ingest.text import fold, is_question_word, normalize, words

MODEL = Path(__file__).with_name("span_model.json")
MAX_TOKENS = 6  # words (of one or more syllables); longer answers are whole clauses
MAX_CLAUSE_TOKENS = 30
ABOUT_SCORE = 4.0  # a clause attached by "về (việc)" answers a "nói về gì" question: near-certain
_TOKEN = re.compile(r"[^\W_]+(?:[.,/:\-][^\W_]+)*%?")
_BREAK = re.compile(r"[,;:()\[\]\"“”«»!?]|\s[-–—]\s")
_DATE_TEXT, _YEAR_TEXT = r"\d{1,2}[-/.]\d{1,2}(?:[-/.]\d{2,4})?", r"(?:1\d|20)\d\d"
_DATE, _YEAR = re.compile(f"^{_DATE_TEXT}$"), re.compile(f"^{_YEAR_TEXT}$")
_TIME_WORDS = {"ngay", "thang", "nam", "quy", "sang", "chieu", "toi", "trua", "luc", "gio", "ky", "dem", "tuan",
               "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december", "century"}
_NUMBER_WORDS = {"một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười", "mươi", "trăm", "nghìn",
                 "ngàn", "triệu", "tỷ", "tỉ", "vạn", "nửa", "hàng"}
_ABOUT = ("về việc", "về vấn đề", "về")
_TOPIC_WORDS = ("việc", "vấn đề")
_JOINS = {"va", "con", "hoac", "and", "or"}  # words that join the items of a list inside a clause
_GOVERNMENT = {"tinh", "huyen", "xa", "thanh pho", "thi xa", "thi tran", "quan", "phuong", "thon", "ban", "ap"}
_RANGE = {"den", "toi"}  # "16.500 đến 47.000"
MIN_SAID = 2  # syllables of the question a list item must say in a row to be taken for the one asked about
_PERSON_TITLES = {"dong chi", "ong", "ba", "anh", "chi", "mr", "mrs", "ms", "dr", "ngai"}
# The commonest Vietnamese family names (and some of the ethnic minorities'), as written.
SURNAMES = set("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Lương Đinh Trương Lâm Mai "
               "Trịnh Đoàn Đào Cao Hà Tạ Châu Tô Lưu Quách Thái Tăng Triệu Kiều Tôn Mạc Vương Chu Lại Thân Hứa Nông "
               "Long Lò Lục Đàm Giang Khổng Phùng Doãn Quan Âu Lã Diệp Hầu Khúc Tống Đậu Nghiêm Viên".split())


@dataclass
class Span:
    """A stretch of a sentence: offsets inside the sentence text and the fitted score."""

    start: int
    end: int
    text: str
    score: float


@dataclass
class _Token:
    """A word of the sentence (one or more syllables), and the clause it stands in."""

    start: int
    end: int
    text: str
    syllables: tuple[str, ...]
    clause: int
    tag: str = ""
    folded: str = ""
    props: frozenset[str] = frozenset()
    cap: bool = False
    function: bool = False

    def __post_init__(self):
        """What the word holds, worked out once per sentence rather than once per candidate span."""
        self.folded = " ".join(self.syllables)
        self.props = frozenset(_word_properties(self))
        self.cap = self.text[0].isupper()
        self.function = is_question_word(self.text)

    def has(self, folded: set[str]) -> bool:
        """Whether one of its syllables is in the set."""
        return any(s in folded for s in self.syllables)


@lru_cache(maxsize=1)
def _weights() -> dict[str, float]:
    """The fitted weights, read once."""
    return json.loads(MODEL.read_text(encoding="utf-8"))["weights"]


@lru_cache(maxsize=1 << 16)
def _folded(syllable: str) -> tuple[str, ...]:
    """A syllable in matching form, folded, in the parts the question's words are split into ("17-CT/TU" →
    17, ct, tu); syllables repeat endlessly, so each spelling is worked out once."""
    return tuple(fold(w) for w in words(syllable)) or (fold(normalize(syllable).lower()),)


def tokens(sentence: str) -> list[_Token]:
    """Words of the sentence (syllables joined as pyvi segments them) with their offsets and clause number."""
    syllables, clause, last = [], 0, 0
    for m in _TOKEN.finditer(sentence):
        if syllables and _BREAK.search(sentence[last:m.start()]):
            clause += 1
        syllables.append(_Token(m.start(), m.end(), m.group(), _folded(m.group()), clause))
        last = m.end()
    out: list[_Token] = []
    found = {start: (end, tag) for start, end, tag in segment.tagged_words(sentence)}
    word_end = -1
    for s in syllables:
        if out and s.start < word_end and s.clause == out[-1].clause:
            w = out[-1]
            out[-1] = _Token(w.start, s.end, sentence[w.start:s.end], w.syllables + s.syllables, w.clause, w.tag)
            continue
        word_end, s.tag = found.get(s.start, (-1, ""))
        out.append(s)
    return out


def candidates(toks: list[_Token], kind: str | None = None, heads: AbstractSet[str] = frozenset()
               ) -> list[tuple[int, int]]:
    """(first, last+1) token ranges: short runs inside a clause that neither begin nor end with a function
    word ("của", "và", "là"…), and whole clauses. For a number, a time, a person or a place, only the
    spans that can be one (digits or number words; dates and time words; capitalised words), if any can,
    and of those the most specific kind there is (see `_preferred`)."""
    out = []
    for i in range(len(toks)):
        if toks[i].function:
            continue
        for j in range(i + 1, min(len(toks), i + MAX_TOKENS) + 1):
            if toks[j - 1].clause != toks[i].clause:
                break
            if not toks[j - 1].function:
                out.append((i, j))
    clauses: dict[int, list[int]] = {}
    for i, t in enumerate(toks):
        clauses.setdefault(t.clause, []).append(i)
    out += [(c[0], c[-1] + 1) for c in clauses.values() if MAX_TOKENS < len(c) <= MAX_CLAUSE_TOKENS]
    for fits in _preferred(kind, heads):
        typed = [(i, j) for i, j in out if fits(toks[i:j])]
        if typed:
            return typed
    return out


def _day(span: list[_Token]) -> bool:
    """A day: a date ("22-10", "4/7/2023") or "ngày" with its number."""
    return any("date" in t.props or (t.folded == "ngay" and k + 1 < len(span) and "digit" in span[k + 1].props)
               for k, t in enumerate(span))


def _person_name(span: list[_Token]) -> bool:
    """A Vietnamese personal name: a surname and one to three more syllables, each capitalised."""
    syllables = [s for t in span for s in t.text.split()]
    return 3 <= len(syllables) <= 4 and syllables[0] in SURNAMES and all(s[0].isupper() for s in syllables)


_FITS = {
    "number": lambda span: any(t.props & {"digit", "number_word"} for t in span),
    "time": lambda span: any(t.props & {"digit", "date", "year", "time_word"} for t in span),
    "person": lambda span: all(t.cap for t in span),
    "place": lambda span: all(t.cap for t in span),
}
_DAY_HEADS = {"ngay", "day", "date"}
_YEAR_HEADS = {"nam", "year"}


_NAME_START = re.compile(r"(?<!\w)(?=((?:" + "|".join(sorted(SURNAMES)) + r")(?: [^\W\d_]+){2,3}))")
_DAY_IN = re.compile(rf"(?<!\w)(?:{_DATE_TEXT}|ngày \d{{1,2}})(?!\w)", re.IGNORECASE)
_YEAR_IN = re.compile(rf"(?<![\w/.-]){_YEAR_TEXT}(?![\w/-]|\.\d)")


def personal_names(text: str) -> list[str]:
    """The Vietnamese personal names in a text (as `_person_name` takes them), found without segmenting it."""
    found = []
    for m in _NAME_START.finditer(text):
        syllables = m.group(1).split(" ")
        capitalised = next((k for k, w in enumerate(syllables) if not w[0].isupper()), len(syllables))
        if capitalised >= 3:
            found.append(" ".join(syllables[:capitalised]))
    return found


_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"|«([^»]+)»")


def _quoted(sentence: str, question: str) -> Span | None:
    """The first phrase the sentence quotes that the question does not already say."""
    asked = fold(question.lower())
    for m in _QUOTED.finditer(sentence):
        k = next(g for g in range(1, 4) if m.group(g) is not None)
        inside = m.group(k).strip()
        if re.search(r"\w", inside) and fold(inside.lower()) not in asked:
            start = m.start(k) + m.group(k).index(inside)
            return Span(start, start + len(inside), inside, ABOUT_SCORE)
    return None


def shape_test(question: str) -> Callable[[str], bool] | None:
    """What a sentence must hold, besides what the question says, to hold the specific thing asked for: a
    personal name for "ai", a day for "ngày nào", a year for "năm nào", a quoted phrase for "tên là gì"; None
    when nothing so specific is asked. Regular expressions, worked out once a question: cheap enough for
    every sentence (segmenting each costs about 3 ms)."""
    kind, heads, asked = questions.kind(question), questions.head_words(question), fold(question.lower())
    if questions.asks_name(question):
        return lambda sentence: _quoted(sentence, question) is not None
    if kind == "person":
        return lambda sentence: any(fold(n.lower()) not in asked for n in personal_names(sentence))
    if kind == "time" and heads & (_DAY_HEADS | _YEAR_HEADS):
        pattern = _DAY_IN if heads & _DAY_HEADS else _YEAR_IN
        return lambda sentence: any(d not in question for d in pattern.findall(sentence))
    return None


def mark_test(question: str) -> Callable[[str], bool] | None:
    """What a short answer must hold to answer a number question (a number), a day or year question (the day or
    year) or a person question (a personal name, or at least a capitalised name rather than a title such as
    "đồng chí Trưởng Ban…"); None for other questions."""
    kind = questions.kind(question)
    if kind == "number":
        return lambda text: bool(text.strip()) and _FITS["number"](tokens(text))
    if kind == "person":
        asked = fold(question.lower())
        return lambda text: text[:1].isupper() or any(fold(n.lower()) not in asked for n in personal_names(text))
    return shape_test(question) if kind == "time" else None


def _preferred(kind: str | None, heads: AbstractSet[str]) -> list:
    """The span tests a candidate should pass, most specific first: a day for "ngày nào", a year for "năm nào",
    a personal name for "ai" before any capitalised words."""
    general = [_FITS[kind]] if kind in _FITS else []
    if kind == "time" and heads & _DAY_HEADS:
        return [_day, *general]
    if kind == "time" and heads & _YEAR_HEADS:
        return [lambda span: any("year" in t.props for t in span), *general]
    if kind == "person":
        return [_person_name, *general]
    return general


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    """The first edge n does not exceed, or the last one with a plus."""
    return next((str(e) for e in edges if n <= e), f"{edges[-1]}+")


def _word_properties(t: _Token) -> list[str]:
    """What one word holds: digits, a year, a date, a time or number word, a proper name's capitals."""
    props = []
    if any(c.isdigit() for c in t.text):
        props.append("digit")
    if _YEAR.match(t.text):
        props.append("year")
    if _DATE.match(t.text):
        props.append("date")
    if t.has(_TIME_WORDS):
        props.append("time_word")
    if t.text.lower() in _NUMBER_WORDS:
        props.append("number_word")
    if all(s[0].isupper() for s in t.text.split()):
        props.append("proper_name")
    return props


def _properties(toks: list[_Token]) -> list[str]:
    """What a span holds: digits, dates, years, time and number words, capitalised names."""
    props = set().union(*(t.props for t in toks))
    if "proper_name" in props and not all("proper_name" in t.props for t in toks):
        props.discard("proper_name")  # every syllable capitalised: "Phạm Xuân Thăng", not the title "Ủy viên"
    if toks[0].text[0].isdigit():
        props.add("first_digit")
    capitals = [t.cap for t in toks]
    props.add("caps_all" if all(capitals) else "caps_some" if any(capitals) else "caps_none")
    return sorted(props)


@dataclass
class Matches:
    """Where the question's words and head nouns stand in a sentence, with running counts for spans."""

    hits: list[bool]
    heads: list[bool]
    hit_syllables: list[int]  # running count of question syllables before each word
    hit_words: list[int]  # running count of words holding a question syllable
    left: list[int]  # nearest matched word before each position (-1: none)
    right: list[int]  # nearest matched word at or after each position (len: none)


@dataclass
class Asked:
    """What the span features need to know of the question."""

    kind: str
    words: set[str]
    heads: set[str]
    before: list[str]
    after: list[str]

    @classmethod
    def of(cls, question: str, kind: str | None = None) -> Asked:
        """Kind, content words, head nouns and the words around the question word."""
        before, after = questions.context(question)
        return cls(kind or questions.kind(question), set(questions.content_words(question)),
                   questions.head_words(question), before, after)


def _aligned(toks: list[_Token], i: int, j: int, asked: Asked) -> dict[str, float]:
    """Whether the words around the span are the words around the question word."""
    f = {}
    left = [s for t in toks[max(0, i - 2):i] for s in t.syllables][-2:]
    right = [s for t in toks[j:j + 2] for s in t.syllables][:2]
    if asked.before and left and left[-1] == asked.before[-1]:
        f[f"{asked.kind}|left1"] = 1.0
        if len(asked.before) > 1 and left[-2:] == asked.before[-2:]:
            f["left2"] = 1.0
    if asked.after and right and right[0] == asked.after[0]:
        f[f"{asked.kind}|right1"] = 1.0
        if len(asked.after) > 1 and right[:2] == asked.after[:2]:
            f["right2"] = 1.0
    return f


def features(toks: list[_Token], i: int, j: int, asked: Asked, m: Matches) -> dict[str, float]:
    """The features of span toks[i:j] for a question described by `asked`, whose words stand at `m`."""
    kind = asked.kind
    span = toks[i:j]
    syllables = sum(len(t.syllables) for t in span)
    f = {"bias": 1.0, f"{kind}|len{_bucket(syllables, (1, 2, 3, 4, 6, 8, 12))}": 1.0}
    props = _properties(span)
    for p in props:
        f[f"{kind}|{p}"] = 1.0
    f["overlap"] = (m.hit_syllables[j] - m.hit_syllables[i]) / syllables
    f[f"{kind}|overlap"] = f["overlap"]
    left, right = m.left[i], m.right[j]
    if left >= 0 or right < len(toks):
        gap = min(i - left if left >= 0 else len(toks), right - j + 1 if right < len(toks) else len(toks))
        f[f"dist{_bucket(gap, (1, 2, 4, 8))}"] = 1.0
        f[f"{kind}|after_match" if left >= 0 else f"{kind}|before_match"] = 1.0
    else:
        f["no_match"] = 1.0
    window = (m.hit_words[i] - m.hit_words[max(0, i - 4)]) + (m.hit_words[min(len(toks), j + 4)] - m.hit_words[j])
    f["window_matches"] = window / 8
    before = toks[i - 1] if i > 0 else None
    after = toks[j] if j < len(toks) else None
    f["prev=" + ("<s>" if before is None else "<p>" if before.clause != span[0].clause else before.folded)] = 1.0
    f["next=" + ("<e>" if after is None else "<p>" if after.clause != span[-1].clause else after.folded)] = 1.0
    f.update(_tag_features(span, before, after, kind))
    f["first=" + span[0].folded] = 1.0
    f["last=" + span[-1].folded] = 1.0
    f[f"{kind}|first={span[0].folded}"] = 1.0
    f.update(_aligned(toks, i, j, asked))
    if before is not None and before.folded in _PERSON_TITLES:
        f[f"{kind}|after_title"] = 1.0
    if before is not None and before.syllables[-1] in asked.heads:
        f[f"{kind}|head_before"] = 1.0
        f.update({f"head_before|{p}": 1.0 for p in props})
    if after is not None and after.syllables[0] in asked.heads:
        f[f"{kind}|head_after"] = 1.0
        f.update({f"head_after|{p}": 1.0 for p in props})
    if any(m.heads[i:j]):
        f[f"{kind}|head_inside"] = 1.0
    if span[0].function:
        f["function_first"] = 1.0
    if span[-1].function:
        f["function_last"] = 1.0
    if before is None:
        f[f"{kind}|sentence_start"] = 1.0
    if before is None or before.clause != span[0].clause:
        f[f"{kind}|clause_start"] = 1.0
    if _capitalised_pair(before, span[0]) or _capitalised_pair(span[-1], after):
        f[f"{kind}|cuts_name"] = 1.0
    if after is None or after.clause != span[-1].clause:
        f[f"{kind}|clause_end"] = 1.0
    return f


def _tag_features(span: list[_Token], before: _Token | None, after: _Token | None, kind: str) -> dict[str, float]:
    """The parts of speech of the span's edges and neighbours, and its tag pattern, each with the kind asked."""
    pattern = "-".join(dict.fromkeys(t.tag for t in span)) if len(span) <= 4 else "long"
    return {f"{kind}|tag_first={span[0].tag}": 1.0, f"{kind}|tag_last={span[-1].tag}": 1.0,
            f"{kind}|tags={pattern}": 1.0,
            f"{kind}|tag_prev={before.tag if before is not None else '<s>'}": 1.0,
            f"{kind}|tag_next={after.tag if after is not None else '<e>'}": 1.0}


def matches(toks: list[_Token], asked: Asked) -> Matches:
    """Where the question's words and head nouns stand among the sentence's words."""
    hits = [t.has(asked.words) for t in toks]
    syllables, words, left, right = [0], [0], [], [len(toks)] * (len(toks) + 1)
    last = -1
    for k, t in enumerate(toks):
        syllables.append(syllables[-1] + sum(s in asked.words for s in t.syllables))
        words.append(words[-1] + hits[k])
        left.append(last)
        last = k if hits[k] else last
    left.append(last)
    for k in range(len(toks) - 1, -1, -1):
        right[k] = k if hits[k] else right[k + 1]
    return Matches(hits, [t.has(asked.heads) for t in toks], syllables, words, left, right)


def _capitalised_pair(left: _Token | None, right: _Token | None) -> bool:
    """Two capitalised words of one clause side by side: a span boundary between them cuts a name."""
    return (left is not None and right is not None and left.clause == right.clause
            and left.cap and right.cap)


def _score(f: dict[str, float], weights: dict[str, float]) -> float:
    """Linear score of a feature dict."""
    return sum(weights.get(name, 0.0) * value for name, value in f.items())


def _items(sentence: str, toks: list[_Token]) -> list[int]:
    """The list item (a stretch between semicolons) each word stands in."""
    out, item, last = [], 0, 0
    for t in toks:
        item += sentence.count(";", last, t.start)
        out.append(item)
        last = t.end
    return out


def _naming(toks: list[_Token], asked: set[str]) -> tuple[int, int]:
    """How well some words name what the question is about: the numbers of the question they give ("21" of
    "21-HD/BTCTW", which tell a document from its neighbours), then how many of its other words."""
    found = {s for t in toks for s in t.syllables if s in asked}
    return sum(s.isdigit() for s in found), len(found)


def _about(sentence: str, toks: list[_Token], asked: set[str]) -> tuple[Span, tuple[int, int]] | None:
    """For "X nói về gì": what follows the "về (việc)" whose list item best names X before it, to the end of
    that item ("Quy định 205 về việc Y; Hướng dẫn 21 về Z" → Y for Quy định 205), and how well it names X."""
    items = _items(sentence, toks)
    best, most = None, (0, 0)
    for k in range(len(toks) - 1):
        if toks[k].text.lower() in _ABOUT:
            named = _naming([t for t, item in zip(toks[:k], items) if item == items[k]], asked)
            best, most = (k, named) if named > most else (best, most)
    if best is None:
        return None
    begin = best + 1 + (toks[best].text.lower() == "về" and toks[best + 1].text.lower() in _TOPIC_WORDS)
    inside = [k for k in range(begin, min(len(toks), begin + MAX_CLAUSE_TOKENS)) if items[k] == items[best]]
    if not inside:
        return None
    start, end = toks[begin].start, toks[inside[-1]].end
    return Span(start, end, sentence[start:end], ABOUT_SCORE), most


def _with_unit(toks: list[_Token], i: int, j: int, asked: Asked) -> int:
    """A number keeps the unit the question names ("bao nhiêu điểm cầu" → "16 điểm cầu", not "16")."""
    unit = tuple(asked.after) if asked.after and asked.after[0] in asked.heads else ()
    while unit and j < len(toks) and toks[j].clause == toks[j - 1].clause:
        word = toks[j].syllables
        if unit[:len(word)] != word:
            break
        j, unit = j + 1, unit[len(word):]
    return j


def _count_shape(t: _Token) -> str | None:
    """The kind of number a word is (a share, a year, a count), so that only the items of one list are compared."""
    if not t.text[:1].isdigit():
        return None
    return "%" if t.text.endswith("%") else "year" if "year" in t.props else "count"


def _item(toks: list[_Token], k: int, shape: str, first: bool, template: int) -> list[_Token]:
    """The words of the list item numbered toks[k]: back to the previous item or joining word ("và"), on to the
    next, inside its clause, without the `template` words every item's number follows ("với dân số"). The first
    item's words before it are left out: they are the whole list's."""
    stops = lambda t: t.clause != toks[k].clause or t.folded in _JOINS or _count_shape(t) == shape
    left, right = k - template, k + 1
    while not first and left > 0 and not stops(toks[left - 1]):
        left -= 1
    while right < len(toks) and not stops(toks[right]):
        right += 1
    return toks[left:k - template] + toks[k:right]


def _template(toks: list[_Token], items: list[int]) -> int:
    """How many words stand, the same, before the number of every list item ("… với dân số 17.786.419 và …
    với dân số 5.105.768")."""
    n = 0
    while all(k - n > 0 and toks[k - n - 1].folded == toks[items[0] - n - 1].folded for k in items):
        n += 1
    return n


def _said(item: list[_Token], asked: list[str], initials: dict[str, int]) -> int:
    """How much of the question a list item says: its longest run of the question's syllables, in order; an
    abbreviation ("TCĐ") counts as the words whose `initials` it is ("tổ chức đảng")."""
    said = [s for t in item for s in t.syllables]
    run = SequenceMatcher(None, said, asked, autojunk=False).find_longest_match(0, len(said), 0, len(asked)).size
    return max([run, *(initials.get(t.folded, 0) for t in item if _abbreviation(t))])


def _abbreviation(t: _Token) -> bool:
    """An abbreviated name in capitals ("TCĐ", "ĐV", "UBND")."""
    return len(t.text) > 1 and t.text.isalpha() and t.text.isupper()


def _unit(toks: list[_Token], k: int) -> str | None:
    """What the number toks[k] counts, as the word after it says ("tuổi", "trở lên"; any abbreviation alike)."""
    if k + 1 == len(toks) or toks[k + 1].clause != toks[k].clause or toks[k + 1].folded in _JOINS:
        return None
    return "ABBR" if _abbreviation(toks[k + 1]) else toks[k + 1].folded


def _in_range(toks: list[_Token], k: int) -> bool:
    """Whether the number is an end of a range ("16.500 đến 47.000")."""
    joined = lambda a: 0 <= a and a + 2 < len(toks) and toks[a + 1].folded in _RANGE \
        and bool(_count_shape(toks[a]) and _count_shape(toks[a + 2]))
    return joined(k) or joined(k - 2)


def _listed(question: str, toks: list[_Token], start: int, end: int) -> tuple[int, int] | None:
    """For a number marked in a list ("… tỉnh đạt 10% trở lên, cấp ủy cấp huyện 20% trở lên, cấp xã 25%…"), the
    item whose own words say the most of the question, when it says more than the marked item (or the mark holds
    several): its number, the words that followed the number in the mark ("trở lên") and an abbreviated unit.
    Items are numbers of one kind counting one thing; ranges and the question's own numbers are not items."""
    marked = [k for k, t in enumerate(toks) if t.start < end and t.end > start and _count_shape(t)]
    if not marked or any(_in_range(toks, k) for k in marked):
        return None
    shape, unit = _count_shape(toks[marked[0]]), _unit(toks, marked[0])
    said_in_question = set(_TOKEN.findall(question))
    items = [k for k, t in enumerate(toks) if _count_shape(t) == shape and _unit(toks, k) == unit
             and not _in_range(toks, k) and t.text not in said_in_question]
    inside = [k for k in marked if k in items]
    if len(items) < 2 or not inside:
        return None
    asked = [s for m in _TOKEN.finditer(question) for s in _folded(m.group())]
    initials = {"".join(w[0] for w in asked[i:j]): j - i
                for i in range(len(asked)) for j in range(i + 2, min(len(asked), i + 5) + 1)}
    template = _template(toks, items)
    said = {k: _said(_item(toks, k, shape, k == items[0], template), asked, initials) for k in items}
    best = max(items, key=lambda k: (said[k], k in inside))
    rivals = [said[k] for k in (inside if best in inside else items) if k != best]
    if said[best] < MIN_SAID or not rivals or said[best] <= max(rivals):
        return None
    tail = [t.folded for t in toks[inside[-1] + 1:] if t.start < end]
    j = best + 1
    while j < len(toks) and j - best - 1 < len(tail) and toks[j].folded == tail[j - best - 1]:
        j += 1
    if j < len(toks) and toks[j].clause == toks[best].clause and _abbreviation(toks[j]):
        j += 1
    return toks[best].start, toks[j - 1].end


def _named_place(toks: list[_Token], end: int) -> int:
    """A place marked by a common noun keeps the name that follows it ("điểm cầu" → "điểm cầu UBND huyện Chi
    Lăng"): capitalised words, and the words of a unit of government between them, up to the last capitalised."""
    k = next((k for k, t in enumerate(toks) if t.end >= end), len(toks))
    if k == len(toks) or toks[k].end != end or toks[k].cap:
        return end
    j = k + 1
    while j < len(toks) and toks[j].clause == toks[k].clause and (toks[j].cap or toks[j].folded in _GOVERNMENT):
        j += 1
    named = [t for t in toks[k + 1:j] if t.cap]
    return named[-1].end if named else end


def shaped(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span found otherwise (by the reader) in the asked shape: the Vietnamese personal name it holds for "ai"
    ("Phó Bí thư Tỉnh ủy Phạm Minh Tấn" → "Phạm Minh Tấn"), the name after a place's common noun, the item of a
    list the question asks about, the unit the question names after a number."""
    asked = Asked.of(question)
    if asked.kind == "person":
        name = next(iter(personal_names(sentence[start:end])), None)
        if name is not None:
            at = sentence.index(name, start)
            return at, at + len(name)
    if asked.kind == "place":
        end = _named_place(tokens(sentence), end)
    if asked.kind == "number":
        toks = tokens(sentence)
        start, end = _listed(question, toks, start, end) or (start, end)
        inside = [k for k, t in enumerate(toks) if t.start < end and t.end > start]
        if inside:
            end = max(end, toks[_with_unit(toks, inside[0], inside[-1] + 1, asked) - 1].end)
    return start, end


def attached_topic(question: str, sentence: str) -> tuple[Span, tuple[int, int]] | None:
    """What the sentence says the question's subject is about ("X … về việc Y" → Y), if it says so, and how
    many of the question's words name X there."""
    toks = tokens(sentence)
    return _about(sentence, toks, Asked.of(question).words) if toks else None


def _offices(sentence: str, toks: list[_Token], asked: set[str]) -> Span | None:
    """The titles set after the question's person in apposition ("Phạm Văn Hậu, Phó Bí thư Tỉnh ủy, Chủ tịch
    HĐND tỉnh chủ trì" → "Phó Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh"): clauses that open with a capital, each cut
    at its first lower-case verb, up to the end of the list item."""
    items = _items(sentence, toks)
    for first, after in _names(toks, asked):
        last, k = None, after
        while k < len(toks) and toks[k].cap and items[k] == items[first] and toks[k].clause > toks[k - 1].clause:
            clause = toks[k].clause
            while k < len(toks) and toks[k].clause == clause and (toks[k].cap or toks[k].tag != "V"):
                last, k = k, k + 1
            if k < len(toks) and toks[k].clause == clause:
                break
        if last is not None:
            start, end = toks[after].start, toks[last].end
            return Span(start, end, sentence[start:end], ABOUT_SCORE)
    return None


def _names(toks: list[_Token], asked: set[str]) -> list[tuple[int, int]]:
    """(first, last+1) of each run of capitalised words of one clause, of two syllables or more, that the
    question names."""
    out, k = [], 0
    while k < len(toks):
        j = k
        while j < len(toks) and toks[j].cap and toks[j].clause == toks[k].clause:
            j += 1
        run = toks[k:j]
        if sum(len(t.syllables) for t in run) >= 2 and all(s in asked for t in run for s in t.syllables):
            out.append((k, j))
        k = max(j, k + 1)
    return out


def _lead_date(sentence: str, toks: list[_Token]) -> Span | None:
    """The date of a news lead's opening clause ("Ngày 22-10," → 22-10, "Sáng 26.1," → 26.1): when the reported
    event happened."""
    lead = [t for t in toks if t.clause == 0]
    if lead and len(lead) <= 3 and any("date" in t.props for t in lead) and len(toks) > len(lead):
        first = next(t for t in lead if "digit" in t.props)
        return Span(first.start, lead[-1].end, sentence[first.start:lead[-1].end], ABOUT_SCORE)
    return None


def ruled(question: str, sentence: str) -> Span | None:
    """The span a rule for the asked shape takes from `sentence`, if one applies (see `_ruled`)."""
    toks = tokens(sentence)
    return _ruled(question, sentence, toks, Asked.of(question)) if toks else None


def _ruled(question: str, sentence: str, toks: list[_Token], asked: Asked) -> Span | None:
    """What the sentence attaches to X for "X nói về gì", the quoted phrase for "tên là gì", the titles after a
    name for "chức vụ gì", the lead's date for "diễn ra ngày nào": rules that win over any scorer."""
    if asked.kind == "definition":
        about = _about(sentence, toks, asked.words)
        if about is not None:
            return about[0]
    if questions.asks_name(question):
        quoted = _quoted(sentence, question)
        if quoted is not None:
            return quoted
    if questions.asks_office(question):
        offices = _offices(sentence, toks, asked.words)
        if offices is not None:
            return offices
    if asked.kind == "time" and asked.heads <= _DAY_HEADS and questions.asks_event(question):
        return _lead_date(sentence, toks)
    return None


def best(question: str, sentence: str, kind: str | None = None) -> Span | None:
    """The span of `sentence` that best answers `question`, or None when it has no words."""
    toks = tokens(sentence)
    if not toks:
        return None
    asked = Asked.of(question, kind)
    ruled_span = _ruled(question, sentence, toks, asked)
    if ruled_span is not None:
        return ruled_span
    found = matches(toks, asked)
    weights = _weights()
    scored = [(_score(features(toks, i, j, asked, found), weights), i, j)
              for i, j in candidates(toks, asked.kind, asked.heads)]
    score, i, j = max(scored)
    if asked.kind == "number":
        j = _with_unit(toks, i, j, asked)
    start, end = toks[i].start, toks[j - 1].end
    return Span(start, end, sentence[start:end], score)
