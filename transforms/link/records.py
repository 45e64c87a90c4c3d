"""The frame the linkage model reads: person records as tokens and Bloom-filter words.

Input is ``contracts.PERSON_RECORD`` rows (both sources, ``Merged`` rows already left
out by the caller); no clear value exists here. The record id is
``uid = source:source_record_id``, and each CLK is split into 64-bit words once per
record (:mod:`transforms.link.dice`) so that Dice is cheap per pair.
"""

from __future__ import annotations

import pandas as pd

from transforms.link.dice import add_clk_word_columns

TOKEN_COLUMNS = [
    "tok_nhs_number", "tok_dob", "tok_dob_swapped", "tok_dob_ym", "tok_dob_yd", "tok_dob_md",
    "tok_dob_year", "tok_given_name", "tok_family_name", "tok_given_name_canonical",
    "tok_given_name_phonetic", "tok_family_name_phonetic", "tok_postcode",
    "tok_postcode_sector", "tok_postcode_district", "tok_street_number",
]  # fmt: skip
#: Tokens a record may lack (encoded without them): null, so their level never applies.
LATER_TOKEN_COLUMNS = ["tok_family_name_first", "tok_family_name_last"]
CLK_COLUMNS = ["clk_name", "clk_address"]
#: The first given name's own filter, read by the look-alike guard and by the given-name
#: level "given Dice >= 0.7" (a model without that level still applies); a record
#: without the filter has null Dice there, so the level never applies.
GUARD_CLK = "clk_given"


def prepare_records(records: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """PERSON_RECORD rows -> the frame Splink reads (tokens, uid, CLK words)."""
    cols = ["source", "source_record_id", *TOKEN_COLUMNS, "sex", *CLK_COLUMNS]
    missing = [c for c in cols if c not in records.columns]
    if missing:
        raise ValueError(f"person records lack columns {missing}")
    df = records[cols].reset_index(drop=True)
    for c in LATER_TOKEN_COLUMNS:
        df[c] = records[c].reset_index(drop=True) if c in records else None
    df[GUARD_CLK] = records[GUARD_CLK].reset_index(drop=True) if GUARD_CLK in records else None
    out = pd.DataFrame(
        {
            "uid": (df["source"].astype(str) + ":" + df["source_record_id"].astype(str)).array,
            "source": df["source"].astype(str).array,
            "source_record_id": df["source_record_id"].astype(str).array,
        }
    )
    for c in [*TOKEN_COLUMNS, *LATER_TOKEN_COLUMNS, "sex"]:
        out[c] = df[c].astype("str").array if len(df) else pd.array([], dtype="str")
    if out["uid"].duplicated().any():
        dup = out.loc[out["uid"].duplicated(), "uid"].iloc[0]
        raise ValueError(f"duplicate person record id {dup!r}")
    n_words = None  # from the first filter found; every CLK has the same size
    for c in [*CLK_COLUMNS, GUARD_CLK]:
        words_df, n_words = add_clk_word_columns(df[[c]], c, n_words=n_words)
        out = pd.concat([out, words_df], axis=1)
    return out, n_words
