"""The population file: band sums worked out by hand, and errors naming file, row, column."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms.config import Settings
from transforms.tables.population import PopulationFileError, county_population, load_population

HEADER = "district_code,district_name,in_county,age,population"


def rows(code: str, name: str, in_county: str, per_age, ages=range(91)) -> list[str]:
    return [f"{code},{name},{in_county},{a},{per_age(a)}" for a in ages]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def good(tmp_path) -> list[str]:
    # Amber Valley: 10 at every age but 90 (and over), which holds 1000.5;
    # Derby City: 1 at every age
    return [
        HEADER,
        *rows("E07000032", "Amber Valley", "Y", lambda a: 1000.5 if a == 90 else 10),
        *rows("E06000015", "Derby City", "N", lambda a: 1),
    ]


def test_band_sums_by_hand(tmp_path, good):
    frame = load_population(write(tmp_path / "population.csv", good))
    assert list(frame.columns) == [
        "district_code", "district_name", "in_county", "age_band", "population"
    ]  # fmt: skip
    got = {
        (r.district_code, r.district_name, r.in_county, r.age_band): r.population
        for r in frame.itertuples()
    }
    assert got == {
        # ages 0-17: 18 ages; 18-64: 47 ages; 65-89: 25 ages, plus the 90+ row
        ("E06000015", "Derby City", False, "0-17"): 18.0,
        ("E06000015", "Derby City", False, "18-64"): 47.0,
        ("E06000015", "Derby City", False, "65+"): 26.0,
        ("E07000032", "Amber Valley", True, "0-17"): 180.0,
        ("E07000032", "Amber Valley", True, "18-64"): 470.0,
        ("E07000032", "Amber Valley", True, "65+"): 1250.5,
    }
    assert frame["in_county"].dtype == bool and frame["population"].dtype == float
    # only the county's districts: Derby City is outside it
    assert county_population(frame) == {"0-17": 180.0, "18-64": 470.0, "65+": 1250.5}


def test_county_population_without_a_county_district_is_zero(tmp_path):
    path = write(tmp_path / "p.csv", [HEADER, *rows("E06000015", "Derby City", "N", lambda a: 2)])
    assert county_population(load_population(path)) == {"0-17": 0.0, "18-64": 0.0, "65+": 0.0}


def _error(tmp_path, lines) -> str:
    path = write(tmp_path / "population.csv", lines)
    with pytest.raises(PopulationFileError) as err:
        load_population(path)
    message = str(err.value)
    assert str(path) in message
    return message


def test_a_missing_column_is_named(tmp_path, good):
    lines = [line.rsplit(",", 1)[0] for line in good]
    assert "missing column(s) population" in _error(tmp_path, lines)


def test_a_non_numeric_population_names_row_and_column(tmp_path, good):
    good[3] = "E07000032,Amber Valley,Y,2,many"  # data row 3
    message = _error(tmp_path, good)
    assert "row 3, column population: must be a number" in message


def test_a_negative_population_names_row_and_column(tmp_path, good):
    good[92] = "E06000015,Derby City,N,0,-4"  # data row 92
    assert "row 92, column population: must not be negative" in _error(tmp_path, good)


def test_a_non_numeric_or_out_of_range_age(tmp_path, good):
    good[5] = "E07000032,Amber Valley,Y,four,10"
    assert "row 5, column age: must be a whole number" in _error(tmp_path, good)
    good[5] = "E07000032,Amber Valley,Y,91,10"
    assert "row 5, column age: must be from 0 to 90" in _error(tmp_path, good)


def test_in_county_must_be_y_or_n(tmp_path, good):
    good[1] = "E07000032,Amber Valley,yes,0,10"
    assert "row 1, column in_county: must be Y or N" in _error(tmp_path, good)


def test_a_duplicate_row_names_both_rows(tmp_path, good):
    lines = [*good, "E07000032,Amber Valley,Y,40,10"]  # data row 183 repeats row 41
    message = _error(tmp_path, lines)
    assert "row 183, columns district_code, age" in message and "also on row 41" in message


def test_a_district_with_two_names(tmp_path, good):
    good[10] = "E07000032,Amber Vale,Y,9,10"
    assert "row 10, column district_name: district E07000032" in _error(tmp_path, good)


def test_a_district_lacking_ages(tmp_path, good):
    lines = [good[0], *good[1:50], *good[60:]]  # Amber Valley ages 49-57 left out
    assert "district E07000032 lacks age(s) 49, 50, 51, 52, 53, ..." in _error(tmp_path, lines)


def test_a_missing_or_empty_file(tmp_path):
    with pytest.raises(PopulationFileError, match="not found"):
        load_population(tmp_path / "nowhere.csv")
    assert "no rows" in _error(tmp_path, [HEADER])


def test_settings_look_for_the_file_beside_the_sources(tmp_path, good):
    sources = tmp_path / "sources"
    (sources / "dchs").mkdir(parents=True)
    env = {"CARE_DATA_DIR": str(tmp_path)}
    settings = Settings.from_env(env)
    assert settings.population_file is None
    write(sources / "population.csv", good)
    assert settings.population_file == sources / "population.csv"
    named = write(tmp_path / "ons.csv", good)
    assert Settings.from_env({**env, "CARE_POPULATION_FILE": str(named)}).population_file == named
    missing = {**env, "CARE_POPULATION_FILE": str(tmp_path / "missing.csv")}
    assert Settings.from_env(missing).population_file is None
