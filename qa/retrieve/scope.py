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
        """The question without its time words when dates matched them (some row is of that time), for
        the answer step to weigh only the other words; a time no article has stays a word to match."""
        if self.time is None:
            return question
        weight = self.preference.weight
        if weight is not None and not any(weight[r] > 0 for r in rows):
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
    return Scope(allowed, undated, time, _preference(catalogue.day_of_rows(), time) if time else None)


def _preference(days: np.ndarray, time: QuestionTime) -> Preference:
    """Rows dated inside the named range weigh 1; recency ranks by date among the relevant."""
    weight = None
    if time.start is not None:
        inside = (days >= time.start.toordinal()) & (days <= time.end.toordinal())
        weight = inside.astype(np.float32)
    return Preference(weight, days if time.recency else None)


def today(setting: str) -> date:
    """The current date, or the configured one (`QA_TODAY`, for repeatable tests)."""
    return date.fromisoformat(setting) if setting else date.today()
