"""Behaviour pinned: a fixed seed's 3 nights publish, table for table and row for row,
what the stored digest holds (``tests/golden/golden_run.py`` says what is compared and
how to regenerate the digest for an intended change)."""

from __future__ import annotations

import json

import pytest

from tests.golden.golden_run import DIGEST_FILE, differences, run_nights, table_digests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def golden_sources(tmp_path_factory):
    return tmp_path_factory.mktemp("golden")


def check(backend: str, root, data, url) -> None:
    run_nights(root, data, url)
    expected = json.loads(DIGEST_FILE.read_text())[backend]
    diff = differences(expected, table_digests(url))
    assert not diff, f"{backend}: published tables differ from the golden digest:\n" + "\n".join(
        diff
    )


def test_duckdb_publishes_the_golden_tables(golden_sources, tmp_path):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    check("duckdb", golden_sources, tmp_path, url)
    # and the comparison is not vacuous: one published value changed is a difference
    from sqlalchemy import text

    from transforms.warehouse.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "update shared_care.person set sex = 'X' where person_key = "
                "(select min(person_key) from shared_care.person)"
            )
        )
    engine.dispose()
    expected = json.loads(DIGEST_FILE.read_text())["duckdb"]
    assert [line.split(":")[0] for line in differences(expected, table_digests(url))] == [
        "shared_care.person"
    ]


@pytest.mark.postgres
def test_postgres_publishes_the_golden_tables(golden_sources, tmp_path, pg_url):
    check("postgres", golden_sources, tmp_path, pg_url)
