"""The leak scanner finds what it is meant to find (so a clean scan means something)."""

from __future__ import annotations

import pytest

from tests.e2e.leaks import scan_text

IDENTIFIERS = {
    "name": {"MARGARET", "OKONKWO-SMITH"},
    "full_name": {"MARGARET OKONKWO-SMITH"},
    "nhs_number": {"9434765919"},
    "dob": {"1941-03-07"},
    "address": {"12 ACACIA AVENUE"},
    "postcode": {"DE22 3LT"},
}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("patient Margaret Okonkwo-Smith was late", "full_name"),
        ("nhs=943 476 5919", "nhs_number"),
        ("nhs 943-476-5919 ", "nhs_number"),
        ('{"dob": "1941-03-07"}', "dob"),
        ("born 07/03/1941", "dob"),
        ("lives at 12 Acacia Avenue, Derby", "address"),
        ("<td>de22 3lt</td>", "postcode"),
        ("<td>DE223LT</td>", "postcode"),
    ],
)
def test_each_kind_is_found(text, kind):
    assert kind in scan_text(text, IDENTIFIERS)


def test_innocent_text_is_clean():
    text = "run 2026-11-02 published 943476 rows; district DE22; Margaret Street; 12 Acacia"
    assert scan_text(text, IDENTIFIERS) == []


def test_warehouse_cells():
    from tests.e2e.leaks import scan_cells

    assert scan_cells({"MARGARET"}, IDENTIFIERS) == ["name"]
    assert scan_cells({"X9434765919"}, IDENTIFIERS) == []  # an id with digits in it
    assert scan_cells({"9434765919"}, IDENTIFIERS) == ["nhs_number"]
    assert scan_cells({"NOTE 9434765919 SEEN"}, IDENTIFIERS) == ["nhs_number (embedded)"]
    assert scan_cells({"1941-03-07 00:00:00"}, IDENTIFIERS) == ["dob"]
    assert scan_cells({"WHITE"}, {**IDENTIFIERS, "name": {"WHITE"}}) == []
    assert scan_cells({"ABCDEF"}, {**IDENTIFIERS, "key": {"ABCDEF"}}) == ["key"]
