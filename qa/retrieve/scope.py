"""What one question is answered from: the rows its filters allow, and the time it prefers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from qa.index.versions import Index
from qa.retrieve import filters as filters_mod
from qa.retrieve.hybrid import Preference
from qa.retrieve.times import QuestionTime


@dataclass
class Scope:
    """A filter's row mask (None: every row), how many undated articles it left out, and a time preference."""

    allowed: np.ndarray | None = None
    undated: int = 0
    time: QuestionTime | None = None
    preference: Preference | None = None

    def matched_words_removed(self, question: str, rows: list[int]) -> str:
        """The question without the words naming a time that dates matched (some row is of that time),
        for the answer step to weigh only the other words; a time no article has stays a word to match."""
        weight = self.preference.weight if self.preference is not None else None
        if weight is None or not any(weight[r] > 0 for r in rows):
            return question
        return self.time.remove_from(question)

    @property
    def empty(self) -> bool:
        """True when the filters leave no passage at all."""
        return self.allowed is not None and not self.allowed.any()


def scope(index: Index, filters: filters_mod.Filters, time: QuestionTime | None) -> Scope:
    """The mask of the filters and the preference of the question's time, over this index version."""
    if not filters and time is None:
        return Scope()
    catalogue = filters_mod.catalogue(index)
    allowed, undated = catalogue.mask(filters) if filters else (None, 0)
    return Scope(allowed, undated, time, _preference(catalogue, time) if time else None)


def _preference(catalogue: filters_mod.Catalogue, time: QuestionTime) -> Preference:
    """Rows of the named time weigh 1; recency ranks by publication date among the relevant.

    For whole years, an article is of the year its title names ("Tổng kết … năm 2022", published in
    January 2023), else of its publication date; a shorter range goes by the publication date."""
    days = catalogue.day_of_rows()
    weight = None
    if time.start is not None:
        inside = (days >= time.start.toordinal()) & (days <= time.end.toordinal())
        if (time.start.month, time.start.day, time.end.month, time.end.day) == (1, 1, 12, 31):
            years = catalogue.title_year_of_rows()
            by_title = (years >= time.start.year) & (years <= time.end.year)
            inside = np.where(years != filters_mod.NO_DATE, by_title, inside)
        weight = inside.astype(np.float32)
    return Preference(weight, days if time.recency else None)


def today(setting: str) -> date:
    """The current date, or the configured one (`QA_TODAY`, for repeatable tests)."""
    return date.fromisoformat(setting) if setting else date.today()
