"""The deterministic pass: same valid NHS number token and a compatible date of birth.

Compatible means one of: the same date; day and month swapped; two of the three parts
(year, month, day) equal; or either date unknown. A shared NHS number with an
incompatible date of birth is *not* linked here: it is a likely mistyped or shared
number, and the probabilistic pass weighs it with everything else.
"""

from __future__ import annotations

import pandas as pd

PAIR_COLUMNS = ["uid_l", "uid_r", "route", "match_probability"]


def record_uid(frame: pd.DataFrame) -> pd.Series:
    """``source:source_record_id``: unique across both systems."""
    return frame["source"].astype("string") + ":" + frame["source_record_id"].astype("string")


def dob_compatible(left: pd.DataFrame, right: pd.DataFrame) -> pd.Series:
    """Row-wise compatibility of two aligned frames of date-of-birth tokens."""
    unknown = left["tok_dob"].isna().to_numpy() | right["tok_dob"].isna().to_numpy()
    same = left["tok_dob"].to_numpy() == right["tok_dob"].to_numpy()
    swapped = left["tok_dob_swapped"].to_numpy() == right["tok_dob"].to_numpy()
    parts = sum(
        (left[c].to_numpy() == right[c].to_numpy()).astype(int)
        for c in ("tok_dob_ym", "tok_dob_yd", "tok_dob_md")
    )
    return pd.Series(unknown | same | swapped | (parts >= 1), index=left.index)


def deterministic_pairs(records: pd.DataFrame) -> pd.DataFrame:
    """Pairs (uid_l < uid_r) linked on NHS number token with compatible dates of birth.

    ``parts >= 1`` above means at least one two-part token agrees, i.e. two of the three
    date parts are equal.
    """
    cols = [
        "tok_nhs_number",
        "tok_dob",
        "tok_dob_swapped",
        "tok_dob_ym",
        "tok_dob_yd",
        "tok_dob_md",
    ]
    valid = records.loc[records["tok_nhs_number"].notna(), cols].copy()
    valid["uid"] = record_uid(records.loc[valid.index])
    shared = valid[valid.duplicated("tok_nhs_number", keep=False)]
    if shared.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    pairs = shared.merge(shared, on="tok_nhs_number", suffixes=("_l", "_r"))
    pairs = pairs[pairs["uid_l"] < pairs["uid_r"]].reset_index(drop=True)
    left = pairs[[f"{c}_l" for c in cols[1:]]].set_axis(cols[1:], axis=1)
    right = pairs[[f"{c}_r" for c in cols[1:]]].set_axis(cols[1:], axis=1)
    ok = dob_compatible(left, right)
    out = pairs.loc[ok.to_numpy(), ["uid_l", "uid_r"]].reset_index(drop=True)
    out["route"] = "deterministic"
    out["match_probability"] = 1.0
    return out[PAIR_COLUMNS]
