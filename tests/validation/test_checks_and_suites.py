"""Check primitives, and the suites in expectations/ as GX loads them."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.validation import factory
from transforms import codes
from transforms.validation import checks
from transforms.validation.engine import expectations_dir, expectations_of, gx_suite, load_suite
from transforms.validation.suites import ALL_SUITES, SOURCE_SUITES, stale_suites


def test_vectorised_nhs_check_agrees_with_codes():
    rng = np.random.default_rng(5)
    values = [factory.nhs_number(i) for i in range(300)]
    values += ["".join(map(str, rng.integers(0, 10, 10))) for _ in range(3000)]
    values += [f"{v[:3]} {v[3:6]} {v[6:]}" for v in values[:50]]
    values += [f"{v[:3]}-{v[3:6]}-{v[6:]}" for v in values[:50]]
    values += [*codes.DUMMY_NHS_NUMBERS, "12345", "94347659190", "943476591X", " ", ""]
    values += [factory.invalid_check_digit_10()]
    series = pd.Series(values + [None], dtype="str")
    got = checks.nhs_number_valid(series)
    assert got.isna().tolist() == [False] * len(values) + [True]
    assert got[: len(values)].tolist() == [codes.is_valid_nhs_number(v) for v in values]
    # stricter than codes.is_valid_nhs_number on one point: only ASCII digits count
    assert not checks.nhs_number_valid(pd.Series(["０１２３４５６７８９"], dtype="str")).iloc[0]


def test_check_digit_of_ten_is_invalid_whatever_the_last_digit():
    nine = factory.invalid_check_digit_10()[:9]
    assert codes.nhs_number_check_digit(nine) is None
    series = pd.Series([nine + str(d) for d in range(10)], dtype="str")
    assert not checks.nhs_number_valid(series).any()


@pytest.mark.parametrize(
    "value,ok",
    [
        ("DE4 3AG", True), ("de4 3ag", True), ("DE43AG", True), ("SW1A 1AA", True),
        ("M1 1AE", True), ("B33 8TH", True), ("CR2 6XH", True), ("GIR 0AA", True),
        ("DE4", False), ("DE4 3", False), ("DE4 3A", False), ("QE4 3AG", False),
        ("DE4 3AC", False), ("12345", False), ("DE4 3AG X", False),
    ],
)  # fmt: skip
def test_postcode_format(value, ok):
    assert checks.postcode_valid(pd.Series([value], dtype="str")).iloc[0] == ok


def test_dates_are_iso_and_real():
    series = pd.Series(
        ["2026-01-31", "2026-02-30", "31/01/2026", "2026-01-31 00:00:00", "2026-01-31 10:00:00",
         None, "20260131"],
        dtype="str",
    )  # fmt: skip
    parsed, bad = checks.parse_date(series)
    assert bad.tolist() == [False, True, True, False, True, False, True]
    assert parsed.iloc[3] == pd.Timestamp("2026-01-31")


def test_lookup_dates_last_one_wins_and_unknown_is_nat():
    dates = pd.Series(
        pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]), index=["a", "b", "a"]
    )
    got = checks.lookup_dates(pd.Series(["a", "b", "c", None], dtype="str"), dates)
    assert got.tolist()[:2] == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-02-01")]
    assert got.iloc[2:].isna().all()


def test_is_in_large_sets_match_pandas():
    keys = {f"S1{i:08d}" for i in range(5000)}
    series = pd.Series([f"S1{i:08d}" for i in range(0, 10000, 3)] + [None], dtype="str")
    assert checks.is_in(series, keys).tolist() == series.isin(keys).tolist()


def test_committed_suites_are_up_to_date():
    assert stale_suites() == [], "run: python -m transforms.validation"


@pytest.mark.parametrize("name", ALL_SUITES)
def test_suite_json_loads_into_gx_whole(name):
    spec = load_suite(name)
    expectations = expectations_of(spec)
    suite = gx_suite(name, expectations, spec["meta"])
    assert len(suite.expectations) == len(expectations) == len(spec["expectations"])
    rules = [(e.rule, json.dumps(e.kwargs, sort_keys=True)) for e in expectations]
    assert len(set(rules)) == len(rules)
    for e in expectations:
        assert e.severity in ("error", "warning", "batch")
        assert e.meta["batch"] in ("schema", "rows")
        assert e.description and e.notes and e.rule in e.notes
        # descriptions never hold data values: no identifier-like digit runs or postcodes
        assert not re.search(r"\d{6,}", e.description), e.rule
        assert not re.search(checks.POSTCODE, e.description.upper()), e.rule
    if name in SOURCE_SUITES:
        assert {e.rule for e in expectations if e.severity == "batch"} >= {
            "schema_columns", "schema_types", "row_count", "failing_row_share",
        }  # fmt: skip


def test_code_lists_come_from_codes_module():
    spec = load_suite("dchs_inpatient_spell")
    sets = {e.rule: e.kwargs.get("value_set") for e in expectations_of(spec)}
    assert sets["discharge_destination_code"] == list(codes.DISCHARGE_DESTINATION)
    assert sets["discharge_method_code"] == list(codes.DISCHARGE_METHOD)
    assert (expectations_dir() / "dchs_inpatient_spell.json").exists()
