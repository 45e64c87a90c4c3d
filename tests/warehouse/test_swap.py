"""PostgreSQL's shadow-table swap: a replaced table is loaded with no index and swapped
in, keeping everything the old table had, and readers never see a half-loaded table."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from sqlalchemy import text
from warehouse_frames import person_index

from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import PublishPlan, publish, read_frame
from transforms.warehouse.swap import can_swap, shadow_index

pytestmark = pytest.mark.postgres

TABLE = "identity.person_index"


def catalogue(conn) -> dict:
    """What a swap must keep: constraints, indexes, grants, comments, not-nulls."""
    oid = {"t": TABLE}

    def rows(sql: str) -> list:
        return [tuple(r) for r in conn.execute(text(sql), oid).all()]

    return {
        "constraints": rows(
            "select conname, pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid = cast(:t as regclass) order by 1"
        ),
        "indexes": rows(
            "select indexname, indexdef from pg_indexes "
            "where schemaname || '.' || tablename = :t order by 1"
        ),
        "grants": rows(
            "select grantee, privilege_type from information_schema.role_table_grants "
            "where table_schema || '.' || table_name = :t order by 1, 2"
        ),
        "comment": rows("select obj_description(cast(:t as regclass), 'pg_class')"),
        "column_comments": rows(
            "select a.attname, col_description(a.attrelid, a.attnum), a.attnotnull "
            "from pg_attribute a where a.attrelid = cast(:t as regclass) and a.attnum > 0 "
            "and not a.attisdropped order by a.attnum"
        ),
    }


@pytest.fixture
def engine(pg_url):
    engine = make_engine(pg_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        if not conn.execute(
            text("select 1 from pg_roles where rolname = 'swap_test_reader'")
        ).first():
            conn.execute(text("create role swap_test_reader nologin"))
        conn.execute(text(f"grant select on {TABLE} to swap_test_reader"))
        conn.execute(text(f"comment on table {TABLE} is 'who is who; restricted'"))
        conn.execute(text(f"comment on column {TABLE}.person_key is 'random surrogate'"))
        conn.execute(text(f"create index person_index_by_key on {TABLE} (person_key)"))
    yield engine
    engine.dispose()


def test_a_swapped_table_keeps_keys_indexes_grants_and_comments(engine):
    with engine.connect() as conn:
        before = catalogue(conn)
        old_oid = conn.execute(text(f"select cast('{TABLE}' as regclass)::oid")).scalar()
    assert ("swap_test_reader", "SELECT") in before["grants"]
    for run in ("run-1", "run-2"):
        publish(engine, PublishPlan(run, replace={TABLE: person_index(1000, run)}))
    with engine.connect() as conn:
        after = catalogue(conn)
        new_oid = conn.execute(text(f"select cast('{TABLE}' as regclass)::oid")).scalar()
        shadows = conn.execute(
            text("select count(*) from pg_class where relname like '%\\_\\_load%'")
        ).scalar()
    assert new_oid != old_oid, "the table was not swapped: the test checks nothing"
    assert after == before
    assert shadows == 0
    rows = read_frame(engine, f"select first_seen_run, count(*) as n from {TABLE} group by 1")
    assert rows.to_dict("records") == [{"first_seen_run": "run-2", "n": 1000}]


def test_a_failed_swap_leaves_the_old_table_and_rows(engine):
    publish(engine, PublishPlan("run-1", replace={TABLE: person_index(10, "run-1")}))
    with engine.connect() as conn:
        before = catalogue(conn)
    twice = pd.concat([person_index(5, "dup"), person_index(5, "dup")], ignore_index=True)
    with pytest.raises(Exception, match="(?i)duplicate|unique"):
        publish(engine, PublishPlan("dup", replace={TABLE: twice}))
    with engine.connect() as conn:
        assert catalogue(conn) == before
    rows = read_frame(engine, f"select distinct first_seen_run from {TABLE}")
    assert rows["first_seen_run"].tolist() == ["run-1"]


def test_a_table_with_a_view_on_it_is_reloaded_in_place(engine):
    with engine.begin() as conn:
        conn.execute(text(f"create view identity.v_keys as select person_key from {TABLE}"))
        assert not can_swap(conn, TABLE)
        assert can_swap(conn, "shared_care.care_event")
        assert not can_swap(conn, "shared_care.metric")  # the measure views read it
    publish(engine, PublishPlan("run-1", replace={TABLE: person_index(7, "run-1")}))
    assert len(read_frame(engine, "select * from identity.v_keys")) == 7


def test_a_reader_arriving_at_the_swap_waits_and_then_reads_the_new_rows(engine):
    """Between the swap and the commit the old table is locked: a reader waits for the
    commit and then reads tonight's rows, never an empty or half-loaded table."""
    from transforms.warehouse.swap import swap_load

    publish(engine, PublishPlan("run-1", replace={TABLE: person_index(50, "run-1")}))
    swapped = threading.Event()
    seen: list = []

    def reader():
        swapped.wait(30)
        with engine.connect() as conn:
            seen.append(conn.execute(text(f"select count(*) from {TABLE}")).scalar())

    thread = threading.Thread(target=reader)
    thread.start()
    with engine.begin() as conn:
        swap_load(conn, TABLE, person_index(200, "run-2"))
        swapped.set()
        waiting = 0
        for _ in range(100):  # until the reader is queued on the swap's lock
            with engine.connect() as probe:
                waiting = probe.execute(
                    text("select count(*) from pg_locks where not granted")
                ).scalar()
            if waiting:
                break
            threading.Event().wait(0.05)
        assert waiting, "the reader never queued behind the swap: the test checks nothing"
        assert not seen
    thread.join(30)
    assert seen == [200]


def test_a_long_reader_makes_the_swap_fail_after_its_lock_wait(engine, monkeypatch):
    """A dashboard query holding the old table past LOCK_TIMEOUT fails the publish
    (the task's retry tries again); the old table and its rows are untouched."""
    from sqlalchemy.exc import OperationalError

    from transforms.warehouse import swap

    publish(engine, PublishPlan("run-1", replace={TABLE: person_index(50, "run-1")}))
    monkeypatch.setattr(swap, "LOCK_TIMEOUT", "300ms")
    with engine.connect() as reader:
        reader.execute(text("begin isolation level repeatable read"))
        assert reader.execute(text(f"select count(*) from {TABLE}")).scalar() == 50
        with pytest.raises(OperationalError, match="lock timeout"):
            publish(engine, PublishPlan("run-2", replace={TABLE: person_index(200, "run-2")}))
        assert reader.execute(text(f"select count(*) from {TABLE}")).scalar() == 50
        reader.execute(text("commit"))
    rows = read_frame(engine, f"select distinct first_seen_run from {TABLE}")
    assert rows["first_seen_run"].tolist() == ["run-1"]
    shadows = read_frame(engine, "select relname from pg_class where relname like '%\\_\\_load'")
    assert shadows.empty


def test_index_definitions_are_rebuilt_on_the_shadow():
    definition = "CREATE UNIQUE INDEX by_key ON identity.person_index USING btree (person_key)"
    assert shadow_index(definition, '"tmp_i0"', '"identity"."person_index__load"') == (
        'CREATE UNIQUE INDEX "tmp_i0" ON "identity"."person_index__load" USING btree (person_key)'
    )
    with pytest.raises(ValueError, match="cannot rebuild"):
        shadow_index("CREATE TABLE x", "a", "b")
