"""The time model: days as integers since 1970-01-01, and which night a change lands in.

Night 0 is ``first_night``: the initial load, holding every change made before it.
Night ``i`` (``i >= 1``) holds the changes made during the day before it, i.e. during
``[first_night + i - 1, first_night + i)``. Changes on or after the last night (``end``)
have not happened yet and are not generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)
NEVER = np.int32(2**31 - 1)  #: "no date" sentinel for death, end and similar days


def day_of(d: date) -> int:
    return (d - EPOCH).days


@dataclass(frozen=True)
class Timeline:
    first: int  #: first night (day number)
    end: int  #: last night; activity happens strictly before it
    start: int  #: start of the history window

    @classmethod
    def of(cls, first_night: date, days: int, history_days: int) -> Timeline:
        f = day_of(first_night)
        return cls(first=f, end=f + days - 1, start=f - history_days)

    @property
    def years(self) -> float:
        return (self.end - self.start) / 365.25

    def night(self, record_day: np.ndarray) -> np.ndarray:
        """Night index for changes recorded on ``record_day``; -1 if not yet happened."""
        rd = np.asarray(record_day, dtype=np.int64)
        out = np.where(rd < self.first, 0, rd - self.first + 1)
        return np.where(rd >= self.end, -1, out).astype(np.int32)


def to_date64(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")
