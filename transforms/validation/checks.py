"""Vectorised check primitives over text columns (pandas, no Great Expectations).

Flags are pandas nullable booleans: True passes, False fails, NA means "does not apply"
(Great Expectations ignores nulls in ``expect_column_values_to_be_in_set``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.codes import DUMMY_NHS_NUMBERS
from transforms.frames import isin

#: GOV.UK Data Standards Authority postcode pattern (with the space optional).
POSTCODE = (
    r"(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKS-UW]"
    r"|[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})"
)
#: ODS GP practice code: a letter and five digits.
GP_PRACTICE = r"[A-Z][0-9]{5}"
_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)
_MIDNIGHT = ["", " 00:00:00", "T00:00:00"]
_NHS_SHAPED = r"(?<![0-9A-Za-z])[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}(?![0-9A-Za-z])"
_POSTCODE_SHAPED = rf"(?<![0-9A-Za-z]){POSTCODE}(?![0-9A-Za-z])"
_DATE_SHAPED = r"(?<![0-9])(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})(?![0-9])"
#: The same shapes for Arrow's RE2 engine, which has no look-arounds: a boundary group
#: that consumes the neighbouring character (or meets the end of the text) finds exactly
#: the values the look-around pattern finds, as only "contains" is asked. A whole column's
#: distinct values are screened in C++; Python's ``re`` sees only values that match.
_BEFORE, _AFTER = r"(?:^|[^0-9A-Za-z])", r"(?:$|[^0-9A-Za-z])"
_RE2 = {
    _NHS_SHAPED: rf"{_BEFORE}[0-9]{{3}}[ -]?[0-9]{{3}}[ -]?[0-9]{{4}}{_AFTER}",
    _POSTCODE_SHAPED: rf"{_BEFORE}{POSTCODE}{_AFTER}",
    _DATE_SHAPED: (
        r"(?:^|[^0-9])(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})(?:$|[^0-9])"
    ),
}


def text(series: pd.Series) -> pd.Series:
    """The column as pandas text ("str" dtype, NaN for missing), on a RangeIndex."""
    if not (isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is np.nan):
        series = series.astype("str")
    return series.reset_index(drop=True)


def flag(passes, applies=None) -> pd.Series:
    """A nullable boolean flag: ``passes`` where ``applies`` (default everywhere), else NA."""
    values = np.asarray(passes, dtype=bool)
    out = pd.array(values, dtype="boolean")
    if applies is not None:
        out[~np.asarray(applies, dtype=bool)] = pd.NA
    return pd.Series(out)


def present(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def is_in(series: pd.Series, values) -> np.ndarray:
    """Membership, False for missing values. Large sets of keys go through pyarrow
    (pandas builds one Arrow scalar per value, which costs seconds for 100k keys)."""
    if isinstance(values, pd.Index | pd.Series | np.ndarray) and len(values) > 1000:
        return isin(series, values)  # strings already: straight to Arrow (nulls never in)
    values = values if isinstance(values, (list, tuple)) else list(values)
    if len(values) <= 1000:
        return series.isin(values).to_numpy(dtype=bool, na_value=False)
    return isin(series, [v for v in values if isinstance(v, str)])


def matches(series: pd.Series, pattern: str) -> np.ndarray:
    """Full match; False for missing values."""
    return series.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)


# ------------------------------------------------------------------------------- dates
def parse_date(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ISO ``YYYY-MM-DD`` (a midnight time part tolerated) -> (datetime64, bad mask).

    ``bad`` marks values that are recorded but are not a real date in that form.
    """
    head = series.str.slice(0, 10)
    parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
    tail_ok = series.str.slice(10).isin(_MIDNIGHT).to_numpy(dtype=bool, na_value=False)
    parsed = parsed.where(tail_ok)
    bad = present(series) & parsed.isna().to_numpy()
    return parsed, bad


def parse_timestamp(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 date-time (``YYYY-MM-DD HH:MM:SS[.ffffff]``) -> (datetime64, bad mask)."""
    parsed = pd.to_datetime(series, format="ISO8601", errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = present(series) & parsed.isna().to_numpy()
    return parsed, bad


def any_datetimes(series: pd.Series) -> pd.Series:
    """Output date columns of any dtype (date objects, datetime64, text) -> datetime64."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = series
    else:
        out = pd.to_datetime(series.astype(object), errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.reset_index(drop=True)


def whole_years(born: pd.Series, on: pd.Series) -> np.ndarray:
    """Completed years from ``born`` to ``on`` as float (NaN when either is missing)."""
    years = (on.dt.year - born.dt.year).to_numpy(dtype=float, na_value=np.nan)
    before = (
        (on.dt.month < born.dt.month) | ((on.dt.month == born.dt.month) & (on.dt.day < born.dt.day))
    ).to_numpy(dtype=bool, na_value=False)
    return years - before


def lookup_dates(keys: pd.Series, dates: pd.Series | None) -> pd.Series:
    """For each key, its date in ``dates`` (a Series indexed by key; last one wins), else NaT."""
    n = len(keys)
    if dates is None or len(dates) == 0 or n == 0:
        return pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype="datetime64[ns]")
    values = pd.to_datetime(pd.Series(dates.to_numpy()), errors="coerce")
    index = pd.Index(dates.index.to_numpy(dtype=object), dtype=object)
    keep = ~index.duplicated(keep="last")
    index, values = index[keep], values[keep].reset_index(drop=True)
    pos = index.get_indexer(keys.to_numpy(dtype=object, na_value=None))
    return values.reindex(pos).reset_index(drop=True)


# -------------------------------------------------------------------------- NHS number
def nhs_number_valid(series: pd.Series) -> pd.Series:
    """Ten digits (spaces/dashes ignored), Modulus 11 passes, not a dummy; NA if missing.

    Same answer as :func:`transforms.codes.is_valid_nhs_number`, vectorised.
    """
    norm = series.str.replace(r"[\s-]", "", regex=True)
    recorded = present(series)
    ten = matches(norm, r"[0-9]{10}")
    ok = np.zeros(len(series), dtype=bool)
    idx = np.flatnonzero(ten)
    if len(idx):
        ok[idx] = _mod11(norm.to_numpy(dtype=object)[idx])
    ok &= ~is_in(norm, DUMMY_NHS_NUMBERS)
    return flag(ok, recorded)


def _mod11(ten_digit_strings) -> np.ndarray:
    raw = "".join(ten_digit_strings).encode("ascii")
    digits = (np.frombuffer(raw, dtype=np.uint8).reshape(-1, 10) - 48).astype(np.int64)
    check = 11 - (digits[:, :9] * _WEIGHTS).sum(axis=1) % 11
    check = np.where(check == 11, 0, check)
    dummy = (digits == digits[:, :1]).all(axis=1)
    return (check != 10) & (check == digits[:, 9]) & ~dummy


# ----------------------------------------------------------------------------- formats
def postcode_valid(series: pd.Series) -> pd.Series:
    norm = series.str.upper().str.replace(r"\s+", " ", regex=True).str.strip()
    return flag(matches(norm, POSTCODE), present(series))


def gp_practice_valid(series: pd.Series) -> pd.Series:
    return flag(matches(series.str.strip(), GP_PRACTICE), present(series))


# ----------------------------------------------------------------------------- keys
def unique_within(frame: pd.DataFrame, keys: list[str], by: list[str] | None = None) -> pd.Series:
    """False for every row whose key repeats (within ``by`` groups); NA if a key is missing."""
    cols = [*(by or []), *keys]
    recorded = np.logical_and.reduce([present(frame[k]) for k in keys])
    if len(frame) == 0:
        return flag(np.zeros(0, bool))
    codes = [pd.factorize(frame[c], use_na_sentinel=True)[0] for c in cols]
    dup = pd.DataFrame(dict(enumerate(codes))).duplicated(keep=False).to_numpy()
    return flag(~dup, recorded)


# ------------------------------------------------------------------ clear identifiers
def identifier_hits(frame: pd.DataFrame, date_columns: list[str]) -> tuple[np.ndarray, dict]:
    """Rows holding a value shaped like a clear identifier, and hit counts per column.

    Text cells: a valid NHS number (ten digits, optionally spaced, not inside a longer
    alphanumeric token), a full UK postcode, or — outside ``date_columns`` and ``*_id``
    columns — a full date. Integer cells: a valid ten-digit NHS number.
    """
    n = len(frame)
    hits = np.zeros(n, dtype=bool)
    per_column: dict[str, int] = {}
    for column in frame.columns:
        col = frame[column].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        if pd.api.types.is_numeric_dtype(col.dtype):
            mask = _numeric_nhs(col)
        else:
            check_dates = column not in date_columns and not column.endswith("_id")
            mask = _text_hits(col, check_dates)
        if mask.any():
            per_column[column] = int(mask.sum())
            hits |= mask
    return hits, per_column


def _numeric_nhs(col: pd.Series) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    shaped = (values >= 1e9) & (values < 1e10) & (np.floor(values) == values)
    out = np.zeros(len(col), dtype=bool)
    idx = np.flatnonzero(shaped)
    if len(idx):
        out[idx] = _mod11([f"{int(v):010d}" for v in values[idx]])
    return out


def _text_hits(col: pd.Series, check_dates: bool) -> np.ndarray:
    """Rows whose text is identifier-shaped; each distinct value is checked once, in Arrow
    (dictionary-encoded, so a column of a few distinct values costs a few checks)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    if not (isinstance(col.dtype, pd.StringDtype) or pd.api.types.infer_dtype(col, skipna=True)
            in ("string", "empty")):  # fmt: skip
        # mixed objects (dates, numbers...): only the strings among them
        values = col.to_numpy(dtype=object, na_value=None)
        col = pd.Series([v if isinstance(v, str) else None for v in values], dtype="str")
    arr = pa.array(col.astype("str"), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    encoded = pc.dictionary_encode(arr)
    uniques = encoded.dictionary
    if len(uniques) == 0:
        return np.zeros(n, dtype=bool)
    bad = _nhs_in_text(uniques) | _contains(pc.utf8_upper(uniques), _POSTCODE_SHAPED)
    if check_dates:
        bad |= _contains(uniques, _DATE_SHAPED)
    codes = encoded.indices.fill_null(len(uniques)).to_numpy(zero_copy_only=False)
    return np.append(bad, False)[codes]


def _contains(values, shape: str) -> np.ndarray:
    """Whether each value of an Arrow string array contains ``shape`` (RE2, exact)."""
    import pyarrow.compute as pc

    found = pc.match_substring_regex(values, _RE2[shape]).fill_null(False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _nhs_in_text(uniques) -> np.ndarray:
    """NHS-number-shaped text whose digits pass the modulus 11 check."""
    import re

    candidates = _contains(uniques, _NHS_SHAPED)
    out = np.zeros(len(uniques), dtype=bool)
    shaped = re.compile(_NHS_SHAPED)
    for i in np.flatnonzero(candidates):
        found = shaped.findall(uniques[i].as_py())
        numbers = [s.replace(" ", "").replace("-", "") for s in found]
        out[i] = bool(_mod11(numbers).any()) if numbers else False
    return out
