"""ISO dates to datetime64 (impossible ones to NaT), and whole years between two dates."""

from __future__ import annotations

import pandas as pd

from transforms.standardise.series import clean_text, map_unique

MIN_BIRTH_DATE = pd.Timestamp("1880-01-01")
DATE_DTYPE = "datetime64[ns]"


def parse_dates(series: pd.Series, *, birth: bool = False) -> pd.Series:
    """ISO dates (a time part is ignored) -> datetime64; anything impossible -> NaT."""
    text = map_unique(clean_text(series), lambda v: v[:10])
    text = map_unique(text, lambda v: v if "1800" <= v[:4] <= "2200" else None)  # ns bounds
    out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").astype(DATE_DTYPE)
    if birth:
        today = pd.Timestamp.today().normalize()
        out = out.where((out >= MIN_BIRTH_DATE) & (out <= today))
    return out


def age_at(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years from ``dob`` to ``on`` (Int64, NA when either is unknown or negative)."""
    dob = pd.to_datetime(dob, errors="coerce")
    on = pd.to_datetime(on, errors="coerce")
    years = on.dt.year - dob.dt.year
    before = (on.dt.month < dob.dt.month) | (
        (on.dt.month == dob.dt.month) & (on.dt.day < dob.dt.day)
    )
    age = (years - before.astype(int)).astype("Int64")
    age = age.where(dob.notna().to_numpy() & on.notna().to_numpy())
    return age.where(age >= 0).astype("Int64")
