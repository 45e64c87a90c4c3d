"""NHS number checks and the shared code lists."""

from __future__ import annotations

import numpy as np

from transforms import codes
from transforms.synthetic.population import nhs_numbers


def test_check_digit_and_validity():
    assert codes.nhs_number_check_digit("943476591") == 9
    assert codes.is_valid_nhs_number("9434765919")
    assert codes.is_valid_nhs_number("943 476 5919")
    assert codes.is_valid_nhs_number("943-476-5919")
    assert not codes.is_valid_nhs_number("9434765918")
    assert not codes.is_valid_nhs_number("943476591")
    assert not codes.is_valid_nhs_number(None)
    assert not codes.is_valid_nhs_number("94347659AB")
    for dummy in ("0000000000", "1111111111", "9999999999", "4444444444"):
        assert not codes.is_valid_nhs_number(dummy)
    # a nine-digit stem whose check digit would be 10 has no valid number
    stem = next(
        f"{i:09d}"
        for i in range(100_000_000, 100_010_000)
        if codes.nhs_number_check_digit(f"{i:09d}") is None
    )
    assert not any(codes.is_valid_nhs_number(stem + str(d)) for d in range(10))


def test_vectorised_agrees_with_scalar():
    rng = np.random.default_rng(0)
    values = [f"{x:010d}" for x in rng.integers(0, 10**10, 3000)] + [
        "943 476 5919",
        None,
        "",
        "0000000000",
    ]
    fast = codes.is_valid_nhs_numbers(values)
    slow = [codes.is_valid_nhs_number(v) for v in values]
    assert fast.tolist() == slow
    assert 0 < fast.sum() < len(values)


def test_generated_nhs_numbers_unique_and_valid():
    pid = np.arange(0, 200_000)
    nums = nhs_numbers(pid, seed=1)
    assert len(set(nums)) == pid.size
    assert codes.is_valid_nhs_numbers(nums).all()


def test_ethnicity_lists():
    assert len(codes.CENSUS_2021_ETHNICITY) == 19
    assert set(codes.CENSUS_2021_ETHNICITY.values()) <= set(codes.CSDS_ETHNIC_CATEGORY)
    assert codes.CLD_ETHNICITY[-2:] == ["Refused", "Undeclared / Not known"]
