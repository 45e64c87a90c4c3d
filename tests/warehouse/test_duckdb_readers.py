"""A dashboard reading the embedded DuckDB warehouse cannot block the publish.

Dashboards open the read-only copy that every publish refreshes; a reader that opens
the pipeline's own file instead makes the publish wait a bounded time, then fail with
an error saying who holds it and what to do, touching nothing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

import duckdb
import pandas as pd
import pytest

from transforms.config import Settings
from transforms.warehouse.db import WarehouseLockedError, ensure_schema, make_engine
from transforms.warehouse.publish import PublishPlan, publish, read_frame, refresh_dashboard_copy

READER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("select count(*) from shared_care.metric").fetchall()
print("reading", flush=True)
time.sleep(60)
"""


def metric(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure_id": ["m0"],
            "measure_name": "test",
            "period_start": [date(2026, 1, 1)],
            "period_end": [date(2026, 3, 31)],
            "breakdown": "all",
            "numerator": 1.0,
            "denominator": 2.0,
            "value": value,
            "status": "final",
            "definition_version": "1",
            "as_of": date(2026, 11, 1),
        }
    )


def hold_open(path) -> subprocess.Popen:
    """Another process with ``path`` open read-only, as a BI tool would have it."""
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert reader.stdout.readline().strip() == "reading"
    return reader


def copy_value(path) -> float:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select value from shared_care.metric").fetchone()[0]


@pytest.fixture
def warehouse(tmp_path):
    settings = Settings.from_env({"CARE_DATA_DIR": str(tmp_path)})
    engine = make_engine(settings.warehouse_url)
    ensure_schema(engine)
    publish(engine, PublishPlan("night-1", replace={"shared_care.metric": metric(0.5)}))
    refresh_dashboard_copy(engine, settings.dashboard_copy)
    engine.dispose()
    return settings


def test_a_reader_of_the_dashboard_copy_does_not_block_the_publish(warehouse):
    reader = hold_open(warehouse.dashboard_copy)
    try:
        engine = make_engine(warehouse.warehouse_url, lock_wait=1)
        publish(engine, PublishPlan("night-2", replace={"shared_care.metric": metric(0.7)}))
        refresh_dashboard_copy(engine, warehouse.dashboard_copy)
        engine.dispose()
    finally:
        reader.kill()
        reader.wait()
    # new readers of the copy see the new night
    assert copy_value(warehouse.dashboard_copy) == 0.7


def test_a_reader_of_the_pipelines_own_file_fails_the_publish_clearly_after_a_bounded_wait(
    warehouse,
):
    path = warehouse.warehouse_url.removeprefix("duckdb:///")
    reader = hold_open(path)
    try:
        engine = make_engine(warehouse.warehouse_url, lock_wait=1.5)
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError, match=r"held open by another process .*PID"):
            publish(engine, PublishPlan("night-2", replace={"shared_care.metric": metric(0.9)}))
        waited = time.monotonic() - started
        engine.dispose()
    finally:
        reader.kill()
        reader.wait()
    assert 1.5 <= waited < 30
    # nothing was written: the night-1 figure stands, in the file and in the copy
    engine = make_engine(warehouse.warehouse_url)
    assert read_frame(engine, "select value from shared_care.metric").value.tolist() == [0.5]
    engine.dispose()
    assert copy_value(warehouse.dashboard_copy) == 0.5
