"""Publishing is atomic and idempotent on DuckDB and on the real PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from transforms.warehouse.bulk import ContractError
from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import PublishPlan, publish, read_frame


def metric(value: float, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure_id": [f"m{i}" for i in range(n)],
            "measure_name": "test",
            "period_start": [date(2026, 1, 1)] * n,
            "period_end": [None] * n,
            "breakdown": "all",
            "numerator": 1.0,
            "denominator": 2.0,
            "value": value,
            "status": "final",
            "definition_version": "1",
            "as_of": date(2026, 11, 1),
        }
    )


def drift(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"value": "valu"})


def snapshot(engine) -> pd.DataFrame:
    return read_frame(engine, "select * from shared_care.metric order by measure_id")


def test_publish_replaces_and_a_rerun_is_identical(warehouse_url):
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    plan = PublishPlan(
        "run-1",
        replace={"shared_care.metric": metric(0.5)},
        watermarks={"dcc": "2026-10-31 12:00:00"},
    )
    publish(engine, plan)
    first = snapshot(engine)
    publish(engine, plan)
    pd.testing.assert_frame_equal(first, snapshot(engine))
    assert len(first) == 3 and first.period_end.isna().all()
    wm = read_frame(engine, "select watermark from audit.watermark")
    assert str(wm.watermark.iloc[0]) == "2026-10-31 12:00:00"
    engine.dispose()


def test_a_failure_part_way_leaves_the_previous_night_untouched(warehouse_url):
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    publish(
        engine,
        PublishPlan(
            "night-1",
            replace={"shared_care.metric": metric(0.5)},
            watermarks={"dcc": "2026-10-31 00:00:00"},
        ),
    )
    before = snapshot(engine)
    broken = PublishPlan(
        "night-2",
        replace={
            "shared_care.metric": metric(0.9, n=5),
            "shared_care.person_conflict": drift(metric(1)),
        },
        watermarks={"dcc": "2026-11-01 00:00:00"},
    )
    with pytest.raises(ContractError, match="person_conflict"):
        publish(engine, broken)
    pd.testing.assert_frame_equal(before, snapshot(engine))
    wm = read_frame(engine, "select watermark from audit.watermark")
    assert str(wm.watermark.iloc[0]) == "2026-10-31 00:00:00"
    engine.dispose()
