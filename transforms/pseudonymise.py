"""Standardised person frame -> ``contracts.PERSON_RECORD``: keyed tokens, CLKs, no clear text.

Tokens. ``tok_<domain> = hex(HMAC-SHA256(key.secret, domain + '\\x1f' + value))[:32]``
(128 bits), None for a null input. The value is the standardised (normalised) clear
value. Domains and values:

| column | domain | value |
|---|---|---|
| tok_nhs_number | nhs_number | 10 digits, only when ``nhs_number_valid`` |
| tok_dob | dob | ``YYYY-MM-DD`` |
| tok_dob_swapped | dob (same domain) | the day/month-swapped date, when that is a real date; so one record's ``tok_dob_swapped`` equals another's ``tok_dob`` exactly when their dates are day/month swaps |
| tok_dob_ym, tok_dob_yd, tok_dob_md | dob_ym, dob_yd, dob_md | ``YYYY-MM``, ``YYYY-DD``, ``MM-DD`` |
| tok_dob_year | dob_year | ``YYYY`` |
| tok_given_name, tok_family_name | given_name, family_name | full normalised name |
| tok_given_name_canonical | given_name_canonical | first given name, nickname-resolved (``reference/nicknames.csv``; an ambiguous nickname such as Pat is resolved by sex) |
| tok_given_name_phonetic | given_name_phonetic | Metaphone (``jellyfish.metaphone``) of the first given name |
| tok_family_name_phonetic | family_name_phonetic | Metaphone of the family name, letters A-Z only |
| tok_family_name_first, tok_family_name_last | family_name_part (one domain for both) | the first and the last hyphen-separated part of the family name (``SMITH-JONES``: ``SMITH``, ``JONES``; ``SMITH``: ``SMITH`` twice), so that a double-barrelled name and either of its parts share a token |
| tok_postcode, tok_postcode_sector, tok_postcode_district | postcode, postcode_sector, postcode_district | ``DE4 3AG``, ``DE4 3``, ``DE4`` |
| tok_street_number | street_number | ``<house number>|<street>``, only when both are known |

Phonetic choice: Metaphone rather than NYSIIS or Soundex. It codes SMITH/SMYTH and
CATHERINE/KATHERINE alike, and it is closest to the Double Metaphone the design asks
for (jellyfish has no Double Metaphone). Names with no Latin letters get no phonetic
token (None) rather than a meaningless empty code.

CLKs (see :mod:`transforms.bloom`, 1024 bits, k=20):

* ``clk_name``: bigrams of the given name and of the family name, each padded on its
  own, in ONE domain (``clk_name``). The filter is therefore the same whichever field a
  name was typed in, so swapped given/family names still score a high Dice; the exact
  field-specific tokens keep the distinction.
* ``clk_address``: bigrams of the house number, the street and the postcode (full, else
  sector, else district), each in its own sub-domain (``clk_address/number`` ...), OR-ed;
  and of ``locality`` (``clk_address/locality``) when the frame has one: the two-file
  command's, the address after its first line (the nightly sources share no more than
  the first line, so theirs have none).
* ``clk_given``: the first given name alone: its bigrams (``clk_given``) OR-ed with its
  letters (``clk_given/letters``; each letter as the bigrams of `` L ``). Letters make
  the filter tolerant of transpositions, which break two bigrams in a short name
  (MARK/MAKR: bigram Dice 0.4, with letters ~0.77), while different names stay apart
  (JAMES/JOHN ~0.2). The linkage's look-alike guard reads it to tell a typed given
  name from a twin's (:func:`transforms.link.lookalike_guard.lookalike_guard`). A
  one-field filter is easier to attack by frequency than the composite ones; like
  every CLK it stays in the tokens zone and is never published.

Performance: every token is computed once per *distinct* value (``pd.factorize``; NHS
numbers, nearly all distinct, are hashed as they come), by the compiled batch HMAC of
:mod:`transforms.hmac_batch`; derived values (date parts, canonical and phonetic names)
are computed from the distinct base values and mapped back through the same codes with
Arrow's ``take``. The filters of distinct values are OR-ed per row by a compiled loop and
handed to Arrow as one buffer (Arrow-backed ``large_binary`` columns: no Python object
per row). Groups of columns are built on two threads, as most of that work releases the
GIL. Only counts are logged.
"""

from __future__ import annotations

import csv
import gc
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jellyfish
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.bloom import DEFAULT_BITS, DEFAULT_K, clk_matrix, composite_matrix, matrix_to_arrow
from transforms.contracts import PERSON_RECORD
from transforms.keys import PseudonymKey

log = logging.getLogger(__name__)

REFERENCE = Path(__file__).parent / "reference"
TOKEN_HEX = 32  # 128 bits
SEP = b"\x1f"
_NOT_AZ = re.compile(r"[^A-Z]")
#: Large column buffers come from the system allocator: with many live large buffers,
#: pyarrow's default mimalloc pool makes ``take`` several times slower (page-fault
#: churn; ``bench/README.md``).
_POOL = pa.system_memory_pool()
POSTCODE_COLUMNS = ("postcode", "postcode_sector", "postcode_district")
#: source columns copied as they are (none identifies a person)
PASSED_THROUGH = (
    "source", "source_record_id", "record_status", "merged_into_record_id", "sex",
    "ethnicity_group", "district", "communication_need", "interpreter_language",
)  # fmt: skip
#: token column, domain, part of the date (the swapped date shares the dob domain)
DOB_TOKENS = (
    ("tok_dob", "dob", "full"),
    ("tok_dob_swapped", "dob", "swapped"),
    ("tok_dob_ym", "dob_ym", "ym"),
    ("tok_dob_yd", "dob_yd", "yd"),
    ("tok_dob_md", "dob_md", "md"),
    ("tok_dob_year", "dob_year", "year"),
)
_FEMALE_ENDINGS = ("A", "INE", "ETTE", "OTTE", "ELLE", "IE", "Y")


# ------------------------------------------------------------------------------ tokens
class Tokeniser:
    """HMAC-SHA256 tokens under one key, domain-separated (``domain + 0x1f + value``)."""

    def __init__(self, secret: bytes):
        self._secret = secret

    def token_array(self, domain: str, values: pa.Array) -> pa.Array:
        """Token per value of an Arrow string array (null stays null)."""
        from transforms.hmac_batch import hmac_hex_tokens

        prefix = domain.encode("utf-8") + SEP
        return hmac_hex_tokens(self._secret, prefix, values, TOKEN_HEX)

    def tokens(self, domain: str, values) -> list[str | None]:
        """Token per value of a sequence of strings or None."""
        return self.token_array(domain, pa.array(list(values), pa.large_string())).to_pylist()

    def token(self, domain: str, value: str | None) -> str | None:
        return None if value is None else self.tokens(domain, [value])[0]


# ----------------------------------------------------------------------- name handling
@cache
def nickname_table() -> dict[str, tuple[str, ...]]:
    """NICKNAME -> canonical names (upper case), in file order."""
    path = REFERENCE / "nicknames.csv"
    table: dict[str, list[str]] = {}
    if not path.exists():  # pragma: no cover - the reference ships with the code
        log.warning("reference %s missing: canonical given names equal the names", path)
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            nick = row["nickname"].strip().upper()
            canon = row["canonical"].strip().upper()
            if nick and canon and canon not in table.setdefault(nick, []):
                table[nick].append(canon)
    return {k: tuple(v) for k, v in table.items()}


def _looks_female(name: str) -> bool:
    return name.endswith(_FEMALE_ENDINGS)


def canonical_given(first: str | None, sex: str | None = None) -> str | None:
    """The canonical form of a first given name (Bill -> WILLIAM); itself when unknown."""
    if first is None:
        return None
    options = nickname_table().get(first)
    if not options:
        return first
    if len(options) > 1 and sex in ("F", "M"):
        fitting = [o for o in options if _looks_female(o) == (sex == "F")]
        if fitting:
            return fitting[0]
    return options[0]


def first_name(name: str | None) -> str | None:
    if name is None:
        return None
    head = name.split(" ", 1)[0]
    return head or None


def phonetic(name: str | None) -> str | None:
    """Metaphone of the A-Z letters of ``name``; None when there are none."""
    if name is None:
        return None
    letters = _NOT_AZ.sub("", name)
    if not letters:
        return None
    return jellyfish.metaphone(letters) or None


def family_name_parts(name: str | None) -> tuple[str | None, str | None]:
    """First and last hyphen-separated parts of a family name (itself twice when it has
    no hyphen)."""
    if name is None:
        return None, None
    parts = [p for p in (x.strip() for x in name.split("-")) if p]
    if not parts:
        return None, None
    return parts[0], parts[-1]


def spaced_letters(name: str) -> str:
    """``JAMES`` -> ``J A M E S``: its space-padded bigrams are one letter each."""
    return " ".join(name)


# ----------------------------------------------------------------------------- helpers
def _factorize(series) -> tuple[np.ndarray, list]:
    """Codes (-1 for null) and the distinct non-null values as Python objects."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    # tolist(), not list(): iterating an Arrow-backed index builds one scalar at a time
    return np.asarray(codes, dtype=np.int64), uniques.tolist()


def _take(values, codes: np.ndarray) -> pa.Array:
    """``values[code]`` per row as an Arrow ``large_string`` array (null for code -1 or
    None); ``values`` a list or an Arrow string array."""
    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.large_string(), memory_pool=_POOL)
    table = values.cast(pa.large_string())  # Arrow's take is much faster on large_string
    if not len(codes):
        return table[:0]
    return pc.take(table, pa.array(codes, mask=codes < 0), memory_pool=_POOL)


def _strings(values, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """:func:`_take` as a pandas ``str`` array."""
    return pd.array(_take(values, codes), dtype="str")


def _combine(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of distinct combinations of several code columns (-1 kept as its own value),
    and for each combination the first row holding it."""
    n = len(codes[0])
    combo = np.zeros(n, dtype=np.int64)
    for c in codes:
        combo = pd.factorize(combo * (int(c.max(initial=-1)) + 2) + (c + 1))[0]
    n_keys = int(combo.max(initial=-1)) + 1
    first = np.zeros(n_keys, dtype=np.int64)
    first[combo[::-1]] = np.arange(n - 1, -1, -1)
    return combo, first


def _date_parts(dob: pd.Series):
    """codes into distinct dates, and per distinct date its string parts."""
    dates = pd.to_datetime(dob, errors="coerce")
    codes, uniques = pd.factorize(dates, use_na_sentinel=True)
    u = pd.DatetimeIndex(uniques)
    y = u.year.to_numpy()
    m = u.month.to_numpy()
    d = u.day.to_numpy()
    ys = [f"{v:04d}" for v in y]
    ms = [f"{v:02d}" for v in m]
    ds = [f"{v:02d}" for v in d]
    full = [f"{a}-{b}-{c}" for a, b, c in zip(ys, ms, ds, strict=True)]
    # the swap is a real date when the day is a month and the month fits in that month
    month_days = pd.DatetimeIndex(
        pd.to_datetime({"year": y, "month": np.clip(d, 1, 12), "day": 1})
    ).days_in_month.to_numpy()
    real = (d <= 12) & (m <= month_days)
    swapped = [
        f"{a}-{dd}-{mm}" if ok else None for a, mm, dd, ok in zip(ys, ms, ds, real, strict=True)
    ]
    return np.asarray(codes, dtype=np.int64), {
        "full": full,
        "swapped": swapped,
        "ym": [f"{a}-{b}" for a, b in zip(ys, ms, strict=True)],
        "yd": [f"{a}-{c}" for a, c in zip(ys, ds, strict=True)],
        "md": [f"{b}-{c}" for b, c in zip(ms, ds, strict=True)],
        "year": ys,
        "y": y,
        "m": m,
    }


def _ints(values: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    table = np.append(np.asarray(values, dtype=np.int64), 0)
    return pd.arrays.IntegerArray(table[codes], codes < 0)


def composite_clks(
    parts: list[tuple[np.ndarray, list, str]], secret: bytes, n_bits: int, k: int
) -> pd.api.extensions.ExtensionArray:
    """OR of per-part CLKs (each part: codes, distinct values, domain) as an Arrow-backed
    ``large_binary`` column; null where every part is null. Each distinct value is encoded
    once."""
    mats = [
        (clk_matrix(np.asarray(uniques, dtype=object), secret, domain, n_bits, k), codes)
        for codes, uniques, domain in parts
    ]
    return pd.arrays.ArrowExtensionArray(matrix_to_arrow(composite_matrix(mats)))


# ------------------------------------------------------------------------ main entry
def pseudonymise_persons(
    std_df: pd.DataFrame,
    key: PseudonymKey,
    *,
    n_bits: int = DEFAULT_BITS,
    k: int = DEFAULT_K,
) -> pd.DataFrame:
    """Tokens, CLKs and non-identifying attributes for each standardised person row."""
    if not isinstance(key, PseudonymKey):
        raise TypeError("key must be a transforms.keys.PseudonymKey")
    # Millions of short-lived str/bytes objects would trigger repeated full GC passes
    # over the (large) input frame; nothing here makes reference cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _pseudonymise(std_df, key, n_bits, k)
    finally:
        if was_enabled:
            gc.enable()


def _pseudonymise(std_df: pd.DataFrame, key: PseudonymKey, n_bits: int, k: int) -> pd.DataFrame:
    batch = _Batch.of(std_df, key, n_bits, k)
    cols = _build_column_groups(batch)
    n = len(batch.df)
    out = pd.DataFrame({c: cols[c] for c in PERSON_RECORD}, index=pd.RangeIndex(n))
    log.info(
        "pseudonymised %d person records (%d with a valid NHS number) under key %s",
        n,
        int(batch.valid.sum()),
        key.version,
    )
    return out


@dataclass(frozen=True)
class _Batch:
    """One call's rows, its key and CLK parameters, and what several column groups
    share, made once before the groups run: the valid-NHS-number mask, (codes, distinct
    values) of the given name, family name, house number and street, and the first given
    name of each distinct given name."""

    df: pd.DataFrame
    key: PseudonymKey
    tokeniser: Tokeniser
    n_bits: int
    k: int
    valid: np.ndarray
    given: tuple[np.ndarray, list]
    family: tuple[np.ndarray, list]
    firsts: list
    number: tuple[np.ndarray, list]
    street: tuple[np.ndarray, list]

    @classmethod
    def of(cls, std_df: pd.DataFrame, key: PseudonymKey, n_bits: int, k: int) -> _Batch:
        df = std_df.reset_index(drop=True)
        given = _factorize(df["given_name"])
        return cls(
            df=df,
            key=key,
            tokeniser=Tokeniser(key.secret),
            n_bits=n_bits,
            k=k,
            valid=df["nhs_number_valid"].fillna(False).astype(bool).to_numpy(),
            given=given,
            family=_factorize(df["family_name"]),
            firsts=[first_name(u) for u in given[1]],
            number=_factorize(df["street_number"]),
            street=_factorize(df["street"]),
        )

    def tok(self, domain: str, codes: np.ndarray, values):
        """Tokens of the distinct ``values`` in ``domain``, per row through ``codes``."""
        arr = values if isinstance(values, pa.Array) else pa.array(values, pa.large_string())
        return _strings(self.tokeniser.token_array(domain, arr), codes)

    def clks(self, parts: list[tuple[np.ndarray, list, str]]):
        return composite_clks(parts, self.key.secret, self.n_bits, self.k)


def _build_column_groups(batch: _Batch) -> dict[str, object]:
    """Every output column, built group by group. Hashing, Arrow's take and the filters'
    ORs release the GIL, so two threads keep both cores busy; each group makes its own
    distinct values."""
    cols: dict[str, object] = {}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pseudonymise") as pool:
        for future in [pool.submit(group, batch) for group in COLUMN_GROUPS]:
            cols.update(future.result())
    return cols


def _nhs_number_columns(batch: _Batch) -> dict:
    nhs = pa.array(batch.df["nhs_number"].where(batch.valid).astype("str").array, pa.large_string())
    token = batch.tokeniser.token_array("nhs_number", nhs)
    return {"tok_nhs_number": pd.array(token, dtype="str")}


def _date_of_birth_columns(batch: _Batch) -> dict:
    codes, dob = _date_parts(batch.df["date_of_birth"])
    out = {"birth_year": _ints(dob["y"], codes), "birth_month": _ints(dob["m"], codes)}
    for col, domain, part in DOB_TOKENS:
        out[col] = batch.tok(domain, codes, dob[part])
    return out


def _name_columns(batch: _Batch) -> dict:
    df, n, firsts = batch.df, len(batch.df), batch.firsts
    g_codes, g_uniques = batch.given
    f_codes, f_uniques = batch.family
    s_codes, s_uniques = _factorize(df["sex"]) if "sex" in df else (np.full(n, -1), [])
    gs_codes, gs_first = _combine(g_codes, s_codes)
    f_parts = [family_name_parts(x) for x in f_uniques]
    canon = [
        canonical_given(
            firsts[g_codes[r]] if g_codes[r] >= 0 else None,
            s_uniques[s_codes[r]] if s_codes[r] >= 0 else None,
        )
        for r in gs_first
    ]
    tok = batch.tok
    return {
        "tok_given_name": tok("given_name", g_codes, g_uniques),
        "tok_family_name": tok("family_name", f_codes, f_uniques),
        "tok_given_name_phonetic": tok(
            "given_name_phonetic", g_codes, [phonetic(x) for x in firsts]
        ),
        "tok_family_name_phonetic": tok(
            "family_name_phonetic", f_codes, [phonetic(x) for x in f_uniques]
        ),
        "tok_given_name_canonical": tok("given_name_canonical", gs_codes, canon),
        "tok_family_name_first": tok("family_name_part", f_codes, [p[0] for p in f_parts]),
        "tok_family_name_last": tok("family_name_part", f_codes, [p[1] for p in f_parts]),
        "clk_name": batch.clks(
            [(g_codes, g_uniques, "clk_name"), (f_codes, f_uniques, "clk_name")]
        ),
    }


def _first_given_name_columns(batch: _Batch) -> dict:
    # first names of the distinct given names, then per row through the same codes
    first_of_given, uniques = _factorize(pd.Series(batch.firsts, dtype=object))
    codes = np.append(first_of_given, -1)[batch.given[0]]
    letters = [spaced_letters(x) for x in uniques]
    return {
        "clk_given": batch.clks(
            [(codes, uniques, "clk_given"), (codes, letters, "clk_given/letters")]
        )
    }


def _postcode_columns(batch: _Batch) -> dict:
    return {f"tok_{col}": batch.tok(col, *_factorize(batch.df[col])) for col in POSTCODE_COLUMNS}


def _street_number_columns(batch: _Batch) -> dict:
    (n_codes, n_uniques), (st_codes, st_uniques) = batch.number, batch.street
    combo, first = _combine(n_codes, st_codes)
    number = _take(n_uniques, n_codes[first])
    street = _take(st_uniques, st_codes[first])
    both = pc.binary_join_element_wise(number, street, pa.scalar("|", pa.large_string()))
    return {"tok_street_number": batch.tok("street_number", combo, both)}


def _address_columns(batch: _Batch) -> dict:
    df = batch.df
    best = df["postcode"].fillna(df["postcode_sector"]).fillna(df["postcode_district"])
    pc_codes, pc_uniques = _factorize(best)
    parts = [
        (*batch.number, "clk_address/number"),
        (*batch.street, "clk_address/street"),
        (pc_codes, pc_uniques, "clk_address/postcode"),
    ]
    if "locality" in df:  # the two-file command's: the address after its first line
        parts.append((*_factorize(df["locality"]), "clk_address/locality"))
    return {"clk_address": batch.clks(parts)}


def _passed_through(values: pd.Series):
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.na_value is np.nan:
        return values.array  # already pandas 3 ``str``
    return values.astype("str").array


def _attribute_columns(batch: _Batch) -> dict:
    df = batch.df
    out = {col: _passed_through(df[col]) for col in PASSED_THROUGH}
    out["nhs_number_valid"] = batch.valid
    out["date_of_death"] = pd.to_datetime(df["date_of_death"], errors="coerce").to_numpy()
    out["unpaid_carer"] = df["unpaid_carer"].astype("boolean").array
    version = pa.repeat(pa.scalar(batch.key.version, pa.large_string()), len(df))
    out["key_version"] = pd.array(version, dtype="str")
    return out


#: the column groups, in the order they are handed to the two threads
COLUMN_GROUPS = (
    _address_columns,
    _date_of_birth_columns,
    _name_columns,
    _nhs_number_columns,
    _street_number_columns,
    _postcode_columns,
    _first_given_name_columns,
    _attribute_columns,
)
