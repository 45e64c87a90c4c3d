"""Publishing is atomic and idempotent on DuckDB and on the real PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from warehouse_frames import person_index

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


def test_reloaded_tables_keep_their_keys_and_comments(warehouse_url):
    """DuckDB reloads a replaced table by re-creating it (a delete keeps every old key in
    the primary-key index); what the DDL and the data dictionary put on it stays."""
    from sqlalchemy import text

    from transforms.tables.warehouse_comments import apply_comments

    table = "identity.person_index"
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    apply_comments(engine)
    comment_sql = (
        f"select obj_description('{table}'::regclass, 'pg_class')"
        if engine.dialect.name == "postgresql"
        else "select comment from duckdb_tables() "
        "where schema_name = 'identity' and table_name = 'person_index'"
    )
    with engine.connect() as conn:
        before = conn.execute(text(comment_sql)).scalar()
    assert before
    for run in ("run-1", "run-2"):
        publish(engine, PublishPlan(run, replace={table: person_index(3, run)}))
    rows = read_frame(engine, f"select first_seen_run from {table}")
    assert rows["first_seen_run"].tolist() == ["run-2"] * 3
    with engine.connect() as conn:
        assert conn.execute(text(comment_sql)).scalar() == before
    twice = pd.concat([person_index(1, "dup"), person_index(1, "dup")], ignore_index=True)
    with pytest.raises(Exception, match="(?i)duplicate|unique|primary key"):
        publish(engine, PublishPlan("dup", replace={table: twice}))
    rows = read_frame(engine, f"select first_seen_run from {table}")
    assert rows["first_seen_run"].tolist() == ["run-2"] * 3
    engine.dispose()


def care_events(ids: list[str], outcome: str) -> pd.DataFrame:
    from transforms.tables.care_event import CARE_EVENT_COLUMNS

    frame = pd.DataFrame({c: [None] * len(ids) for c in CARE_EVENT_COLUMNS})
    frame["event_id"] = ids
    frame["person_key"] = "P1"
    frame["organisation"] = "DCHS"
    frame["event_type"] = "contact"
    frame["start_date"] = date(2026, 1, 1)
    frame["outcome"] = outcome
    return frame


def events_now(engine) -> dict[str, str]:
    rows = read_frame(engine, "select event_id, outcome from shared_care.care_event")
    return dict(zip(rows.event_id, rows.outcome, strict=True))


def test_an_upsert_replaces_only_the_rebuilt_rows_and_checks_the_total(warehouse_url):
    from transforms.warehouse.publish import PublishMismatch, Upsert

    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    publish(engine, PublishPlan("n1", replace={"shared_care.care_event": care_events(
        ["e1", "e2", "e3"], "old")}))  # fmt: skip
    # e2 rebuilt, e3 rebuilt but left out (its record left the index), e4 new
    change = Upsert(
        rows=care_events(["e2", "e4"], "new"),
        column="event_id",
        replaced=pd.Series(["e2", "e3", "e4"]),
        expected_rows=3,
    )
    publish(engine, PublishPlan("n2", upsert={"shared_care.care_event": change}))
    assert events_now(engine) == {"e1": "old", "e2": "new", "e4": "new"}
    publish(engine, PublishPlan("n2", upsert={"shared_care.care_event": change}))  # a re-run
    assert events_now(engine) == {"e1": "old", "e2": "new", "e4": "new"}

    # a warehouse that is not the state the night built on: nothing is published
    wrong = Upsert(care_events(["e5"], "x"), "event_id", pd.Series(["e5"]), expected_rows=3)
    with pytest.raises(PublishMismatch, match="full_refresh"):
        publish(
            engine,
            PublishPlan(
                "n3",
                upsert={"shared_care.care_event": wrong},
                watermarks={"dcc": "2026-11-01 00:00:00"},
            ),
        )
    assert events_now(engine) == {"e1": "old", "e2": "new", "e4": "new"}
    assert read_frame(engine, "select count(*) as n from audit.watermark").n.iloc[0] == 0
    engine.dispose()


def test_settling_after_a_full_publish_keeps_rows_and_comments(warehouse_url):
    """DuckDB re-writes its catalogue and checkpoints after a full publish (the next
    night's first write then costs no more than any other); nothing it holds changes.
    On PostgreSQL it does nothing."""
    from sqlalchemy import text

    from transforms.tables.warehouse_comments import apply_comments
    from transforms.warehouse.publish import settle_after_full_publish

    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    apply_comments(engine)
    publish(engine, PublishPlan("run-1", replace={"identity.person_index": person_index(5, "r")}))
    before = read_frame(engine, "select * from identity.person_index order by source_record_id")
    comment_sql = (
        "select obj_description('identity.person_index'::regclass, 'pg_class')"
        if engine.dialect.name == "postgresql"
        else "select comment from duckdb_tables() where table_name = 'person_index'"
    )
    with engine.connect() as conn:
        comment = conn.execute(text(comment_sql)).scalar()
    settle_after_full_publish(engine)
    after = read_frame(engine, "select * from identity.person_index order by source_record_id")
    pd.testing.assert_frame_equal(before, after)
    with engine.connect() as conn:
        assert conn.execute(text(comment_sql)).scalar() == comment
    if engine.dialect.name == "duckdb":
        size = read_frame(engine, "select wal_size from pragma_database_size()")
        assert size["wal_size"].iloc[0] in ("0 bytes", "0B", "0 B")
    engine.dispose()


def night_metric(as_of: date, value: float) -> pd.DataFrame:
    """Three rows of one night: a real measure (so its view shows it) and two others."""
    frame = metric(value).assign(as_of=as_of)
    frame.loc[0, "measure_id"] = "still_at_home_91"
    return frame


def publish_night(engine, run_id: str, as_of: date, value: float) -> None:
    """What the nightly publish does with the metric: latest in metric, a night's slice
    in the history."""
    from transforms.warehouse.publish import metric_history

    frame = night_metric(as_of, value)
    sliced = {"shared_care.metric_history": metric_history(frame, run_id=run_id, as_of=as_of)}
    publish(engine, PublishPlan(run_id, replace={"shared_care.metric": frame}, sliced=sliced))


def history(engine) -> pd.DataFrame:
    return read_frame(
        engine, "select * from shared_care.metric_history order by as_of, measure_id, run_id"
    )


NIGHT_1, NIGHT_2 = date(2026, 11, 1), date(2026, 11, 2)


def test_the_metric_history_keeps_every_night_and_the_views_show_the_latest(warehouse_url):
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    publish_night(engine, "n1", NIGHT_1, 0.5)
    publish_night(engine, "n2", NIGHT_2, 0.6)

    kept = history(engine)
    assert len(kept) == 6
    by_night = kept.groupby(kept["as_of"].astype(str))
    assert by_night["value"].apply(set).to_dict() == {"2026-11-01": {0.5}, "2026-11-02": {0.6}}
    assert by_night["run_id"].apply(set).to_dict() == {"2026-11-01": {"n1"}, "2026-11-02": {"n2"}}
    latest = snapshot(engine)
    assert len(latest) == 3 and set(latest["value"]) == {0.6}
    assert set(latest["as_of"].astype(str)) == {"2026-11-02"}
    view = read_frame(
        engine, "select as_of, value, percent from shared_care.v_metric_still_at_home_91"
    )
    assert [(str(r.as_of), r.value, r.percent) for r in view.itertuples()] == [
        ("2026-11-02", 0.6, 60.0)
    ]
    trend = read_frame(
        engine,
        "select as_of, unit, value, percent, run_id from shared_care.v_metric_history "
        "where measure_id = 'still_at_home_91' order by as_of",
    )
    assert [(str(r.as_of), r.unit, r.value, r.percent, r.run_id) for r in trend.itertuples()] == [
        ("2026-11-01", "proportion", 0.5, 50.0, "n1"),
        ("2026-11-02", "proportion", 0.6, 60.0, "n2"),
    ]

    # the second night cleared and run again: the history is the same, row for row
    publish_night(engine, "n2", NIGHT_2, 0.6)
    pd.testing.assert_frame_equal(kept, history(engine))
    engine.dispose()


def test_another_run_of_a_night_replaces_that_night_only(warehouse_url):
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    publish_night(engine, "n1", NIGHT_1, 0.5)
    publish_night(engine, "n2", NIGHT_2, 0.6)
    publish_night(engine, "n2-full-refresh", NIGHT_2, 0.7)  # a new run id, same night
    kept = history(engine)
    assert len(kept) == 6
    rows = {(str(r.as_of), r.run_id, r.value) for r in kept.itertuples()}
    assert rows == {("2026-11-01", "n1", 0.5), ("2026-11-02", "n2-full-refresh", 0.7)}
    engine.dispose()


def test_history_rows_of_another_night_are_refused(warehouse_url):
    from transforms.warehouse.publish import Slice

    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    publish_night(engine, "n1", NIGHT_1, 0.5)
    before = history(engine)
    stray = night_metric(NIGHT_1, 0.9).assign(run_id="n2")  # rows as of night 1 ...
    plan = PublishPlan(
        "n2",
        replace={"shared_care.metric": night_metric(NIGHT_2, 0.9)},
        sliced={"shared_care.metric_history": Slice(stray, "as_of", NIGHT_2)},  # ... as night 2
    )
    with pytest.raises(ContractError, match="as_of other than"):
        publish(engine, plan)
    pd.testing.assert_frame_equal(before, history(engine))
    assert set(snapshot(engine)["value"]) == {0.5}
    engine.dispose()
