"""Values every build table derives the same way: days, ages and age bands, text, and the
per-record key that joins a source record's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATE = "datetime64[ns]"


def to_day(values) -> pd.Series:
    """Anything date-like -> datetime64[ns] at midnight (NaT when missing/unparseable)."""
    out = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype(DATE)


def as_day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def age_from_birth_parts(birth_year, birth_month, on) -> pd.Series:
    """Whole years at ``on`` from year and month of birth (a birthday month counts as
    reached; the day never leaves the edge). Int64, NA when anything is unknown."""
    on = pd.to_datetime(pd.Series(on).reset_index(drop=True), errors="coerce")
    year = pd.to_numeric(pd.Series(birth_year).reset_index(drop=True), errors="coerce")
    month = pd.to_numeric(pd.Series(birth_month).reset_index(drop=True), errors="coerce")
    years = on.dt.year.astype("Float64") - year.astype("Float64")
    before = (on.dt.month.astype("Float64") < month.astype("Float64")).astype("Float64")
    age = (years - before).astype("Int64")
    return age.where(age >= 0)


_BAND_LABELS = np.array([f"{i}-{i + 4}" for i in range(0, 90, 5)] + ["90+", None], dtype=object)


def age_band(age) -> pd.Series:
    """5-year band of an age: 0-4, 5-9, ..., 85-89, 90+ (None when unknown or negative)."""
    a = pd.to_numeric(pd.Series(age).reset_index(drop=True), errors="coerce")
    a = a.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        idx = np.where(np.isnan(a) | (a < 0), len(_BAND_LABELS) - 1, np.minimum(a // 5, 18))
    return pd.Series(_BAND_LABELS[idx.astype(int)], dtype=object)


def age_group(age, bands: tuple[tuple[int, int | None, str], ...]) -> pd.Series:
    """Ages -> labels for ``(low, high or None, label)`` bands (None when outside/unknown)."""
    a = pd.to_numeric(pd.Series(age).reset_index(drop=True), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    out = np.full(len(a), None, dtype=object)
    for low, high, label in bands:
        hit = (a >= low) & ((a <= high) if high is not None else True)
        out[hit] = label
    return pd.Series(out, dtype=object)


def as_text(series) -> pd.Series:
    """As pandas' string dtype (missing stays missing), index kept."""
    s = series if isinstance(series, pd.Series) else pd.Series(series)
    return s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")


def record_key(source, source_record_id) -> pd.Series:
    """One string per record, ``source`` + US + ``source_record_id`` (fast to hash)."""
    left = as_text(source).reset_index(drop=True)
    return left + "\x1f" + as_text(source_record_id).reset_index(drop=True)
