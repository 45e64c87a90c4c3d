"""A run that did not publish is on record in audit.pipeline_run, never over a published one."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import text

from transforms.config import Settings
from transforms.nightly.failures import record_run_failure
from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import read_frame


def test_a_failed_run_gets_a_row_and_a_published_one_is_left_alone(warehouse_url, tmp_path):
    settings = Settings.from_env({"CARE_DATA_DIR": str(tmp_path)}, warehouse_url=warehouse_url)
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into audit.pipeline_run (run_id, night, status, generation) "
                "values ('ok', '2026-11-01', 'published', 1)"
            )
        )
    night = date(2026, 11, 2)
    record_run_failure(settings, run_id="bad", night=night, reason="timed out")
    record_run_failure(settings, run_id="bad", night=night, reason="timed out again")
    record_run_failure(settings, run_id="ok", night=night, reason="late callback")
    runs = read_frame(engine, "select run_id, status, error from audit.pipeline_run order by 1")
    engine.dispose()
    assert runs.run_id.tolist() == ["bad", "ok"]
    assert runs.status.tolist() == ["failed", "published"]
    assert runs.error.iloc[0] == "timed out again" and pd.isna(runs.error.iloc[1])


def test_extract_findings_are_published_to_audit_source_finding(warehouse_url):
    from transforms.nightly.stages.publish import source_findings
    from transforms.warehouse.publish import PublishPlan, publish

    findings = [
        {"table": "person", "finding": "null_last_updated", "rows": 3, "detail": "taken on a full refresh"},
        {"table": "event", "finding": "future_last_updated", "rows": 1, "detail": "deferred"},
    ]  # fmt: skip
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    publish(
        engine,
        PublishPlan("r1", run_scoped={"audit.source_finding": source_findings("r1", findings)}),
    )
    publish(
        engine, PublishPlan("r2", run_scoped={"audit.source_finding": source_findings("r2", [])})
    )
    got = read_frame(
        engine, "select run_id, table_name, finding, row_count from audit.source_finding order by 2"
    )
    engine.dispose()
    assert got.to_numpy().tolist() == [
        ["r1", "event", "future_last_updated", 1],
        ["r1", "person", "null_last_updated", 3],
    ]
