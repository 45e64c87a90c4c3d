"""The population behind the rates per 100,000 (ASCOF 2B/2C), read from a CSV file.

The file (``docs/population.md``) holds one row per local authority district and single
year of age:

| column | meaning |
|---|---|
| district_code | ONS district code (``E07000032``) |
| district_name | district name as ``shared_care.person.district`` spells it (``Amber Valley``) |
| in_county | ``Y`` if the district is in Derbyshire County Council's area, else ``N`` |
| age | whole years, 0 to 90; 90 means 90 and over |
| population | residents of that age (a number, at least 0) |

The synthetic generator writes it beside its sources; a real deployment makes it from
the ONS mid-year estimates. :func:`load_population` checks it and sums it into the three
age bands the measures use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["district_code", "district_name", "in_county", "age", "population"]
OLDEST_AGE = 90
#: Age bands (label, youngest, oldest) the measures divide by.
AGE_BANDS = (("0-17", 0, 17), ("18-64", 18, 64), ("65+", 65, OLDEST_AGE))
BAND_LABELS = [label for label, _, _ in AGE_BANDS]
FRAME_COLUMNS = ["district_code", "district_name", "in_county", "age_band", "population"]


class PopulationFileError(ValueError):
    """The population file cannot be used: the message names file, row and column."""


def load_population(path: Path) -> pd.DataFrame:
    """``district_code, district_name, in_county (bool), age_band ('0-17', '18-64', '65+'),
    population (float)``: the file's rows summed by district and band, one row per
    district and band, ordered by district code then band.

    Raises :class:`PopulationFileError` for a missing or empty file, a missing column, an
    empty code or name, an age that is not a whole number from 0 to 90, ``in_county``
    other than Y/N, a population that is not a number or is negative, a district with
    two names or two ``in_county`` values, a district and age given twice, or a district
    without every age from 0 to 90. Rows are numbered from 1 after the header."""
    path = Path(path)
    if not path.is_file():
        raise PopulationFileError(f"{path}: population file not found")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise PopulationFileError(
            f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(COLUMNS)})"
        )
    if raw.empty:
        raise PopulationFileError(f"{path}: no rows after the header")
    frame = raw[COLUMNS].apply(lambda s: s.str.strip())
    frame.index = pd.RangeIndex(1, len(frame) + 1)

    def fail(mask: pd.Series, column: str, rule: str) -> None:
        if mask.any():
            rows = mask[mask].index
            more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
            value = frame.loc[rows[0], column]
            raise PopulationFileError(
                f"{path}: row {rows[0]}{more}, column {column}: {rule}, got {value!r}"
            )

    for column in ("district_code", "district_name"):
        fail(frame[column].eq(""), column, "must not be empty")
    fail(~frame["in_county"].str.upper().isin(["Y", "N"]), "in_county", "must be Y or N")
    age = pd.to_numeric(frame["age"], errors="coerce")
    fail(age.isna() | (age % 1 != 0), "age", "must be a whole number")
    fail((age < 0) | (age > OLDEST_AGE), "age", f"must be from 0 to {OLDEST_AGE}")
    population = pd.to_numeric(frame["population"], errors="coerce")
    fail(population.isna() | ~np.isfinite(population), "population", "must be a number")
    fail(population < 0, "population", "must not be negative")
    frame["age"] = age.astype(int)
    frame["population"] = population.astype(float)
    frame["in_county"] = frame["in_county"].str.upper().eq("Y")

    repeated = frame.duplicated(["district_code", "age"], keep="first")
    if repeated.any():
        row = repeated[repeated].index[0]
        code, at = frame.loc[row, "district_code"], frame.loc[row, "age"]
        first = frame.index[(frame["district_code"] == code) & (frame["age"] == at)][0]
        raise PopulationFileError(
            f"{path}: row {row}, columns district_code, age: district {code} age {at} "
            f"is also on row {first} (one row per district and age)"
        )
    for column in ("district_name", "in_county"):
        first = frame.groupby("district_code")[column].transform("first")
        differs = frame[column].ne(first)
        if differs.any():
            row = differs[differs].index[0]
            code = frame.loc[row, "district_code"]
            raise PopulationFileError(
                f"{path}: row {row}, column {column}: district {code} has another "
                f"{column} on an earlier row (one per district)"
            )
    every_age = set(range(OLDEST_AGE + 1))
    for code, ages in frame.groupby("district_code", sort=True)["age"]:
        lacking = sorted(every_age - set(ages))
        if lacking:
            shown = ", ".join(map(str, lacking[:5])) + (", ..." if len(lacking) > 5 else "")
            raise PopulationFileError(
                f"{path}: column age: district {code} lacks age(s) {shown} "
                f"(every age from 0 to {OLDEST_AGE} is needed)"
            )

    bins = [-1, *[oldest for _, _, oldest in AGE_BANDS]]
    frame["age_band"] = pd.cut(frame["age"], bins=bins, labels=BAND_LABELS).astype(str)
    out = (
        frame.groupby(["district_code", "district_name", "in_county", "age_band"], sort=False)[
            "population"
        ]
        .sum()
        .reset_index()
    )
    out["_band"] = out["age_band"].map({b: i for i, b in enumerate(BAND_LABELS)})
    out = out.sort_values(["district_code", "_band"], kind="stable").reset_index(drop=True)
    out["in_county"] = out["in_county"].astype(bool)
    out["population"] = out["population"].astype(float)
    return out[FRAME_COLUMNS]


def county_population(frame: pd.DataFrame) -> dict[str, float]:
    """``{"0-17": n, "18-64": n, "65+": n}``: the in-county districts' population by band
    (a band with no in-county row is 0.0), from :func:`load_population`'s frame."""
    county = frame[frame["in_county"].astype(bool).to_numpy()]
    sums = county.groupby("age_band")["population"].sum()
    return {band: float(sums.get(band, 0.0)) for band in BAND_LABELS}
