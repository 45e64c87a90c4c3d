"""A person's timeline reads ``shared_care.care_event`` through its ``person_key`` index,
and every way the publish replaces the table keeps that index."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from transforms.tables.ddl_columns import ddl_columns
from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import PublishPlan, Upsert, publish, read_frame

TABLE = "shared_care.care_event"
INDEX = "care_event_person_key"
COLUMNS = ddl_columns()[TABLE]


def events(n: int, people: int) -> pd.DataFrame:
    """``n`` events, ``ev{i}`` belonging to ``pk{i % people}``; other columns empty."""
    frame = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c, _ in COLUMNS})
    frame["event_id"] = [f"ev{i}" for i in range(n)]
    frame["person_key"] = [f"pk{i % people}" for i in range(n)]
    frame["organisation"], frame["event_type"] = "dcc", "service"
    frame["age_at_event"] = pd.array([70] * n, dtype="Int64")
    return frame


def person_key_indexes(engine) -> list[str]:
    """Index names on care_event covering person_key alone."""
    if engine.dialect.name == "postgresql":
        sql = (
            "select indexname as name from pg_indexes where schemaname = 'shared_care' "
            "and tablename = 'care_event' and indexdef like '%(person_key)'"
        )
    else:
        sql = (
            "select index_name as name from duckdb_indexes() where schema_name = "
            "'shared_care' and table_name = 'care_event' and expressions = '[person_key]'"
        )
    return read_frame(engine, sql)["name"].tolist()


def test_the_person_key_index_survives_every_publish(warehouse_url):
    engine = make_engine(warehouse_url)
    try:
        ensure_schema(engine)
        ensure_schema(engine)  # idempotent
        assert person_key_indexes(engine) == [INDEX]
        # a full night replaces the table (PostgreSQL: shadow swap; DuckDB: re-created)
        for run in ("run-1", "run-2"):
            publish(engine, PublishPlan(run, replace={TABLE: events(40, 7)}))
            assert person_key_indexes(engine) == [INDEX], run
        # an incremental night upserts into it
        rows = events(40, 7).iloc[:5].assign(person_key="pk0")
        change = Upsert(rows=rows, column="event_id", replaced=rows["event_id"], expected_rows=40)
        publish(engine, PublishPlan("run-3", upsert={TABLE: change}))
        assert person_key_indexes(engine) == [INDEX]
        timeline = read_frame(engine, f"select event_id from {TABLE} where person_key = 'pk0'")
        # pk0 held ev0, ev7, ..., ev35 (6 events); ev1-ev4 moved to it
        assert len(timeline) == 10
    finally:
        engine.dispose()


def test_postgres_reads_a_timeline_through_the_index(pg_url):
    engine = make_engine(pg_url)
    try:
        ensure_schema(engine)
        publish(engine, PublishPlan("run-1", replace={TABLE: events(2000, 400)}))
        with engine.connect() as conn:
            conn.execute(text(f"analyze {TABLE}"))
            plan = "\n".join(
                conn.execute(
                    text(f"explain select * from {TABLE} where person_key = 'pk3'")
                ).scalars()
            )
        assert INDEX in plan and "Seq Scan" not in plan
    finally:
        engine.dispose()
