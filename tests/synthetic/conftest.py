"""A small synthetic source set shared by the generator tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.synthetic.synth_helpers import MEDIUM, SMALL
from transforms.synthetic import generate


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic_small")
    generate(SMALL, out, workers=1)
    return out


@pytest.fixture(scope="session")
def errors(small) -> pd.DataFrame:
    return pd.read_parquet(small / "errors.parquet")


@pytest.fixture(scope="session")
def truth(small) -> pd.DataFrame:
    return pd.read_parquet(small / "truth.parquet")


@pytest.fixture(scope="session")
def medium(tmp_path_factory) -> Path:
    """20,000 people with raised error rates, for rate, coverage and journey checks."""
    out = tmp_path_factory.mktemp("synthetic_medium")
    generate(MEDIUM, out, workers=2)
    return out
