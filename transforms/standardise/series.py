"""Column helpers: text columns as object strings, and a function run once per
*distinct* value (``pd.factorize``), not per row."""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_objects(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=object, na_value=None)


def map_unique(series: pd.Series, func, dtype="object") -> pd.Series:
    """``func`` (pure) applied once per distinct non-null value; None stays None. An
    object Series by default (pandas 3's ``map`` would infer a string dtype and turn
    None into NaN)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]
    mapped[-1] = None
    out = pd.Series(mapped[codes], index=series.index, dtype=object)
    return out if dtype == "object" else out.astype(dtype)


def lookup(series: pd.Series, table: dict, default=None) -> pd.Series:
    return map_unique(series, lambda v: table.get(v, default))


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def clean_text(series: pd.Series) -> pd.Series:
    """As object strings with None for missing/blank (whatever the input dtype).

    Text columns (the landing zone's) are trimmed in Arrow, not value by value in
    Python: a night's 9 M care contacts pass through here several times."""
    if isinstance(series.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(pa.array(series, from_pandas=True))
        blank = pc.equal(pc.utf8_length(trimmed), 0)
        trimmed = pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed)
        return pd.Series(trimmed.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
    return pd.Series([_clean(v) for v in as_objects(series)], index=series.index, dtype=object)


def optional_column(df: pd.DataFrame, name: str) -> pd.Series:
    """``df[name]``, or all None when the frame has no such column."""
    if name in df.columns:
        return df[name]
    return pd.Series([None] * len(df), index=df.index, dtype=object)
