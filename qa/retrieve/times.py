"""The time a question names ("năm 2023", "tháng 11/2019", "quý I", "tuần trước", "latest").

Explicit and relative times become a date range, resolved against today (`QA_TODAY` makes it
repeatable); recency words ask for the newest articles. Retrieval takes either as a soft
preference (see hybrid.py): articles of that time rank higher, the others stay below.
Patterns match the folded question (no diacritics, lower case), so "nam ngoai" is "năm ngoái".
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from qa.ingest.text import fold

_MONTHS_EN = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS_EN |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = r"((?:19|20)\d{2})"
_EN_MONTH = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))

_RECENCY = re.compile(r"\b(?:moi nhat|gan day nhat|gan nhat|gan day|hien nay|hien tai|latest|most recent|newest|"
                      r"recently|recent|nowadays|currently)\b")
_RELATIVE = [
    (re.compile(r"\b(?:hom nay|today)\b"), lambda t: (t, t)),
    (re.compile(r"\b(?:hom qua|yesterday)\b"), lambda t: (t - timedelta(1), t - timedelta(1))),
    (re.compile(r"\b(?:tuan (?:truoc|qua)|last week)\b"), lambda t: _week(t - timedelta(7))),
    (re.compile(r"\b(?:tuan nay|this week)\b"), lambda t: _week(t)),
    (re.compile(r"\b(?:thang (?:truoc|qua)|last month)\b"), lambda t: _month(*_previous_month(t))),
    (re.compile(r"\b(?:thang nay|this month)\b"), lambda t: _month(t.year, t.month)),
    (re.compile(r"\b(?:nam (?:ngoai|truoc|qua)|last year)\b"), lambda t: _year(t.year - 1)),
    (re.compile(r"\b(?:nam nay|this year)\b"), lambda t: _year(t.year)),
]
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-]" + _YEAR + r"\b")
_MONTH_YEAR = re.compile(r"\bthang (\d{1,2})(?:/| nam )" + _YEAR + r"\b|\b(\d{1,2})/" + _YEAR + r"\b")
_EN_MONTH_YEAR = re.compile(rf"\b({_EN_MONTH})\.?,? (?:of )?{_YEAR}\b")
_QUARTER = re.compile(r"\b(?:quy ([1-4]|iv|iii|ii|i)|q([1-4])|(first|second|third|fourth) quarter)"
                      r"(?:(?:(?: nam| of|,)? |/)" + _YEAR + r")?\b")
_DAY_MONTH = re.compile(r"\bngay (\d{1,2})[/.-](\d{1,2})\b(?![/.-]\d)")
_MONTH = re.compile(r"\bthang (\d{1,2})\b(?![/.-]?\d)")
_YEAR_ONLY = re.compile(r"\b(?:nam|in|of|year|during|since)\s+" + _YEAR + r"\b")
_PUNCTUATION = " ?.,;:!()\"'"
_ORDINAL_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4}


@dataclass(frozen=True)
class QuestionTime:
    """What the question says about time: a date range, or a wish for the newest (or both)."""

    start: date | None = None
    end: date | None = None
    recency: bool = False
    text: str = ""

    def remove_from(self, question: str) -> str:
        """The question without the words that named the time."""
        return " ".join(question.replace(self.text, " ").split()) if self.text else question

    def to_dict(self) -> dict:
        """The API's `time` object."""
        return {"from": self.start and self.start.isoformat(), "to": self.end and self.end.isoformat(),
                "recency": self.recency, "text": self.text, "from_question": True}


def understand(question: str, today: date) -> QuestionTime | None:
    """The time the question names, or None when it names none."""
    folded = " ".join(fold(question).lower().split())
    recency = _RECENCY.search(folded)
    span = _span(folded, today)
    if span is None and recency is None:
        return None
    said = (span[2] if span else "") or (recency.group() if recency else "")
    return QuestionTime(span[0] if span else None, span[1] if span else None, recency is not None,
                        _original(question, folded, said))


def named_year(text: str) -> int | None:
    """The year a title says it is about ("… năm 2022", "… in 2022"), if it names one."""
    found = _year_only(" ".join(fold(text).lower().split()), date.today())
    return found[0].year if found else None


def _span(folded: str, today: date) -> tuple[date, date, str] | None:
    """The first range the question names, most specific patterns first."""
    for finder in (_full_date, _month_year, _quarter, _day_month, _relative, _month_only, _year_only):
        found = finder(folded, today)
        if found is not None:
            return found
    return None


def _full_date(folded: str, today: date) -> tuple[date, date, str] | None:
    """"ngày 7/3/2023", "07-03-2023"."""
    for m in _DAY_MONTH_YEAR.finditer(folded):
        day = _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if day is not None:
            return day, day, m.group()
    return None


def _month_year(folded: str, today: date) -> tuple[date, date, str] | None:
    """"tháng 11/2019", "tháng 11 năm 2019", "11/2019", "November 2019"."""
    m = _MONTH_YEAR.search(folded)
    if m is not None:
        month, year = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if 1 <= int(month) <= 12:
            return (*_month(int(year), int(month)), m.group())
    m = _EN_MONTH_YEAR.search(folded)
    if m is not None:
        return (*_month(int(m.group(2)), _MONTHS_EN[m.group(1)]), m.group())
    return None


def _quarter(folded: str, today: date) -> tuple[date, date, str] | None:
    """"quý I/2023", "quý III năm 2022", "Q2 2021", "first quarter" (this year when none is said)."""
    m = _QUARTER.search(folded)
    if m is None:
        return None
    quarter = _ROMAN.get(m.group(1) or m.group(2) or "") or _ORDINAL_QUARTER[m.group(3)]
    year = int(m.group(4)) if m.group(4) else today.year
    first = date(year, 3 * quarter - 2, 1)
    return first, _month(year, 3 * quarter)[1], m.group()


def _day_month(folded: str, today: date) -> tuple[date, date, str] | None:
    """"ngày 7/3": the latest such day not after today."""
    m = _DAY_MONTH.search(folded)
    if m is None:
        return None
    day, month = int(m.group(1)), int(m.group(2))
    for year in (today.year, today.year - 1):
        found = _valid(year, month, day)
        if found is not None and found <= today:
            return found, found, m.group()
    return None


def _relative(folded: str, today: date) -> tuple[date, date, str] | None:
    """"hôm qua", "tuần trước", "tháng này", "năm ngoái", "last week", "this year"."""
    for pattern, resolve in _RELATIVE:
        m = pattern.search(folded)
        if m is not None:
            return (*resolve(today), m.group())
    return None


def _month_only(folded: str, today: date) -> tuple[date, date, str] | None:
    """"tháng 11": the latest such month not after this one."""
    m = _MONTH.search(folded)
    if m is None or not 1 <= int(m.group(1)) <= 12:
        return None
    month = int(m.group(1))
    year = today.year if month <= today.month else today.year - 1
    return (*_month(year, month), m.group())


def _year_only(folded: str, today: date) -> tuple[date, date, str] | None:
    """"năm 2023", "in 2022"; not a target such as "đến năm 2025" or "by 2030"."""
    for m in _YEAR_ONLY.finditer(folded):
        if folded[:m.start()].split()[-1:] not in (["den"], ["toi"], ["by"], ["until"]):
            return (*_year(int(m.group(1))), m.group())
    return None


def _valid(year: int, month: int, day: int) -> date | None:
    """The date, or None for an impossible one such as 31/2."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _week(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding the day."""
    monday = day - timedelta(day.weekday())
    return monday, monday + timedelta(6)


def _month(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _previous_month(day: date) -> tuple[int, int]:
    """Year and month before the day's month."""
    return (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)


def _year(year: int) -> tuple[date, date]:
    """First and last day of a year."""
    return date(year, 1, 1), date(year, 12, 31)


def _original(question: str, folded: str, said: str) -> str:
    """The words as the user typed them (folding keeps lengths word for word), for the chat's chip."""
    bare = lambda w: w.strip(_PUNCTUATION)
    words, said_words = question.split(), said.split()
    folded_words = [bare(w) for w in folded.split()]
    for i in range(len(folded_words) - len(said_words) + 1):
        if folded_words[i:i + len(said_words)] == [bare(w) for w in said_words]:
            return " ".join(words[i:i + len(said_words)]).strip(_PUNCTUATION)
    return said
