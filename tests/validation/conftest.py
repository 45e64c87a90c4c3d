from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session", autouse=True)
def _quiet_gx_import():
    # Great Expectations imports pyspark when present, which warns about pandas 3.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import great_expectations  # noqa: F401
    yield


@pytest.fixture
def docs_dir(tmp_path):
    return tmp_path / "data_docs"
