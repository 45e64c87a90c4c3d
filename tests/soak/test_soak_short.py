"""The soak, shortened for CI: nights back to back in one process.

The full soak (ten nights at 50,000 people) is ``python bench/soak.py``; this runs the
same code with ``CARE_SOAK_PEOPLE`` people for ``CARE_SOAK_NIGHTS`` nights.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def load_soak():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_soak_balances_and_keeps_keys(tmp_path, pg_url):
    people = int(os.environ.get("CARE_SOAK_PEOPLE", "3000"))
    nights = int(os.environ.get("CARE_SOAK_NIGHTS", "5"))
    result = load_soak().soak(people, nights, tmp_path / "soak", pg_url, seed=11)
    assert len(result["nights"]) == nights
    assert result["failures"] == []
    assert all(n["balanced"] for n in result["nights"])
    # people arrive over the nights: later nights hold at least the earlier records
    records = [n["records"] for n in result["nights"]]
    assert records == sorted(records) and records[-1] > records[0]
