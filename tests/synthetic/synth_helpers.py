"""Helpers for the generator tests: read the DCC database and the DCHS drops."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd

from transforms.contracts import DCHS_FILES
from transforms.synthetic import GenConfig, Rates

SMALL = GenConfig(people=4000, days=4, seed=11, first_night=date(2026, 11, 1), history_days=400)


def read_dcc(out: Path, table: str) -> pd.DataFrame:
    with sqlite3.connect(out / "dcc.sqlite") as conn:
        return pd.read_sql(f"select * from {table}", conn)


def read_drops(out: Path, name: str) -> pd.DataFrame:
    """Every drop's rows of one file, as text, with the drop date in ``_drop``."""
    assert name in DCHS_FILES
    frames = []
    for folder in sorted((out / "dchs").iterdir()):
        df = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        df["_drop"] = folder.name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def latest(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The current state after applying drops in order (whole-row replacement on keys)."""
    return df.sort_values("_drop", kind="stable").drop_duplicates(keys, keep="last")


#: Rates raised so that each error type is counted in the hundreds at 20,000 people.
MEDIUM_OVERRIDES = {
    "name_typo": 0.05, "name_ocr": 0.04, "nickname": 0.06, "family_name_change": 0.04,
    "name_swap": 0.04, "dob_day_month_swap": 0.04, "dob_typo": 0.04, "nhs_missing": 0.12,
    "nhs_mistyped": 0.05, "nhs_dummy": 0.04, "nhs_formatted": 0.06, "house_move": 0.06,
    "postcode_partial": 0.05, "postcode_missing": 0.05, "duplicate": 0.05, "late_arrival": 0.05,
}  # fmt: skip
MEDIUM = GenConfig(people=20_000, days=3, seed=5, rates=Rates().with_overrides(MEDIUM_OVERRIDES))
