"""The generator's population.csv: its own people, by district and single year of age."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from transforms.synthetic import GenConfig, generate, generate_chunk
from transforms.tables.population import load_population

#: Three chunks, so the file sums people generated apart.
CFG = GenConfig(people=2400, days=2, seed=21, history_days=400, chunk_people=800)
DERBYSHIRE = {
    "Amber Valley", "Bolsover", "Chesterfield", "Derbyshire Dales", "Erewash", "High Peak",
    "North East Derbyshire", "South Derbyshire",
}  # fmt: skip


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    generate(CFG, folder, workers=1)
    return folder


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """The generator's own person table, every chunk."""
    return pd.concat(
        [generate_chunk(CFG, c)["people"].to_pandas() for c in range(CFG.n_chunks)],
        ignore_index=True,
    )


def _band(age: int) -> str:
    return "0-17" if age < 18 else "18-64" if age < 65 else "65+"


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_population_file_has_every_district_and_age(out):
    raw = pd.read_csv(out / "population.csv", dtype=str)
    assert list(raw.columns) == ["district_code", "district_name", "in_county", "age", "population"]
    assert len(raw) == 9 * 91
    assert (
        raw.groupby("district_name")["age"]
        .apply(list)
        .map(lambda ages: ages == [str(a) for a in range(91)])
        .all()
    )
    flags = raw.drop_duplicates("district_name").set_index("district_name")["in_county"]
    assert flags.to_dict() == {**dict.fromkeys(DERBYSHIRE, "Y"), "Derby City": "N"}
    codes = raw.drop_duplicates("district_name").set_index("district_name")["district_code"]
    assert codes["Derby City"] == "E06000015" and codes["Amber Valley"] == "E07000032"


def test_population_totals_are_the_generated_people_alive_at_the_first_night(out, people):
    truth = pd.read_parquet(out / "truth.parquet")
    # the person table is the population the sources were drawn from
    assert set(truth["true_person_id"]) <= set(people["true_person_id"])
    assert len(people) == CFG.people == people["true_person_id"].nunique()
    on = CFG.first_night
    expected: Counter = Counter()
    for row in people.itertuples():
        died = row.date_of_death
        if pd.notna(died) and died < on:
            continue
        county = "Y" if row.la_district in DERBYSHIRE else "N"
        assert row.la_district in DERBYSHIRE | {"Derby City"}
        expected[(county, _band(_age(row.date_of_birth, on)))] += 1
    assert 0 < sum(expected.values()) < CFG.people  # some died in the history window
    raw = pd.read_csv(out / "population.csv")
    raw["band"] = raw["age"].map(_band)
    got = raw.groupby(["in_county", "band"])["population"].sum()
    assert {k: int(v) for k, v in got.items() if v} == dict(expected)
    loaded = load_population(out / "population.csv")
    by_band = loaded.groupby(["in_county", "age_band"])["population"].sum()
    assert {("Y" if c else "N", b): v for (c, b), v in by_band.items() if v} == dict(expected)


def test_ages_of_ninety_and_over_share_the_last_row(out, people):
    on = CFG.first_night
    alive = people[people["date_of_death"].isna() | (people["date_of_death"] >= on)]
    old = sum(_age(b, on) >= 90 for b in alive["date_of_birth"])
    raw = pd.read_csv(out / "population.csv")
    assert old > 0 and raw.loc[raw["age"] == 90, "population"].sum() == old


def test_population_file_does_not_depend_on_workers(out, tmp_path):
    generate(CFG, tmp_path, workers=2)
    assert (tmp_path / "population.csv").read_bytes() == (out / "population.csv").read_bytes()
