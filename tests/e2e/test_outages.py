"""Outages in the real DAG: a source or the warehouse goes away mid-night.

Retries are cut to one, with no delay, through the DAG's environment knobs, so the
retry path runs for real without making the suite wait minutes.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import parse_dag
from transforms.config import Settings
from transforms.nightly.context import RunContext
from transforms.nightly.results import from_xcom
from transforms.nightly.stages.publish import publish
from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame

from .test_nightly_dag import PUBLISHED, tables

UNREACHABLE_DCC = "postgresql+psycopg://postgres@127.0.0.1:9/dcc?connect_timeout=2"


@pytest.fixture(scope="module")
def dag():
    """The DAG parsed with no retries, so outage tasks retry exactly once, at once."""
    return parse_dag()


def logical(night: str) -> datetime:
    return datetime.fromisoformat(f"{night}T02:00:00").replace(tzinfo=ZoneInfo("Europe/London"))


def tries(run, task_id: str) -> int:
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = next(t for t in run.get_task_instances(session=session) if t.task_id == task_id)
        return ti.try_number


def upstream_results(run) -> list:
    """The results the publish task takes, as the run's tasks left them in XCom."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    order = ["prepare", "extract.dcc", "extract.dchs", "validate_sources", "link_people"]
    order.append("build_tables")
    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(run_id=run.run_id, key="return_value", task_ids=order)
        ).all()
        values = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    return [from_xcom(values[task_id]) for task_id in order]


def audit(url: str):
    engine = make_engine(url)
    try:
        return (
            read_frame(
                engine,
                "select * from audit.pipeline_run where status = 'published' order by finished_at",
            ),
            read_frame(engine, "select * from audit.watermark"),
            read_frame(engine, "select task_id, error from audit.task_failure"),
        )
    finally:
        engine.dispose()


def test_dcc_unreachable_retries_then_fails_and_nothing_moves(
    dag, pipeline_env, pg_url, nights, monkeypatch
):
    pipeline_env(pg_url)
    assert str(dag.test(logical_date=logical(nights[0])).state).endswith("success")
    runs_before, marks_before, _ = audit(pg_url)
    published_before = tables(pg_url, "shared_care", PUBLISHED)

    monkeypatch.setenv("CARE_DCC_URL", UNREACHABLE_DCC)
    run = dag.test(logical_date=logical(nights[1]))

    assert str(run.state).endswith("failed")
    assert tries(run, "extract.dcc") == 2  # the first try and one retry
    runs_after, marks_after, failures = audit(pg_url)
    assert runs_after.run_id.tolist() == runs_before.run_id.tolist()
    assert marks_after.equals(marks_before), "the DCC watermark moved"
    failed = failures[failures.task_id == "extract.dcc"]
    assert len(failed) == 1  # the final failure, after the retry
    assert failed.error.str.contains("SourceUnavailableError").all()
    after = tables(pg_url, "shared_care", PUBLISHED)
    for name in PUBLISHED:
        assert after[name].equals(published_before[name]), name

    # the source comes back: the next run completes and takes the night's changes
    monkeypatch.delenv("CARE_DCC_URL")
    assert str(dag.test(logical_date=logical(nights[1])).state).endswith("success")
    runs_final, marks_final, _ = audit(pg_url)
    assert runs_final.status.tolist() == ["published", "published"]
    assert marks_final.watermark.iloc[0] > marks_before.watermark.iloc[0]


def block_when_built(pg_url: str, data_dir, stop: threading.Event) -> None:
    """Close the warehouse database to new connections once tonight's build is done."""
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    db = pg_url.rsplit("/", 1)[1]
    try:
        while not stop.is_set():
            if list(data_dir.glob("runs/*/*/build/build_summary.json")):
                with admin.connect() as conn:
                    conn.execute(text(f'alter database "{db}" allow_connections false'))
                    conn.execute(
                        text(
                            "select pg_terminate_backend(pid) from pg_stat_activity "
                            "where datname = :db and pid <> pg_backend_pid()"
                        ),
                        {"db": db},
                    )
                return
            time.sleep(0.2)
    finally:
        admin.dispose()


def reopen(pg_url: str) -> None:
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    db = pg_url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'alter database "{db}" allow_connections true'))
    admin.dispose()


def test_warehouse_down_at_publish_keeps_the_build_for_a_rerun(
    dag, pipeline_env, pg_url, nights, tmp_path
):
    pipeline_env(pg_url)
    data_dir = tmp_path / "data"
    stop = threading.Event()
    watcher = threading.Thread(target=block_when_built, args=(pg_url, data_dir, stop))
    watcher.start()
    try:
        run = dag.test(logical_date=logical(nights[0]))
    finally:
        stop.set()
        watcher.join()
        reopen(pg_url)

    assert str(run.state).endswith("failed")
    assert tries(run, "publish") == 2
    runs, marks, _ = audit(pg_url)
    assert runs.empty and marks.empty, "something was published while the warehouse was down"

    # the prepared night is still on disk: publishing it again needs no re-extract
    ctx = RunContext(
        settings=Settings.from_env(),
        run_id=run.run_id,
        night=logical(nights[0]).date(),
        until=logical(nights[0]).astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
    )
    assert (ctx.build_dir / "build_summary.json").exists()
    result = publish(ctx, *upstream_results(run))
    assert result["persons"] > 0
    runs, marks, _ = audit(pg_url)
    assert runs.status.tolist() == ["published"]
    assert len(marks) == 1
