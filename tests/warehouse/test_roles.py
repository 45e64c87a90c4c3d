"""Warehouse roles on the real PostgreSQL: every role can do its job and nothing more.

Each test gets a fresh database (``pg_url``); the group roles are cluster-global and
shared, the grants are per database. Denials are proved with ``SET ROLE`` from the
admin connection: PostgreSQL answers 42501 (insufficient privilege).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import PublishPlan, publish, read_frame
from transforms.warehouse.roles import GROUP_ROLES, apply_roles, ensure_login, main, split_sql

pytestmark = pytest.mark.postgres

INSUFFICIENT_PRIVILEGE = "42501"

PERSON_ROW = (
    "insert into shared_care.person (person_key, sex, age_band) values ('pk-1', 'F', '65-69')"
)
INDEX_ROW = (
    "insert into identity.person_index (source, source_record_id, person_key, record_status, "
    "link_route) values ('dcc', 'MOS1', 'pk-1', 'active', 'singleton')"
)
DECISION_ROW = (
    "insert into identity.review_decision (source_l, source_record_id_l, source_r, "
    "source_record_id_r, decision, decided_by) values ('dcc', 'MOS1', 'dchs', 'P1', 'match', 'r')"
)


@pytest.fixture
def warehouse(pg_url):
    """A fresh warehouse database with schema, one row per table of interest, and roles."""
    engine = make_engine(pg_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text(PERSON_ROW))
        conn.execute(text(INDEX_ROW))
        conn.execute(
            text(
                "insert into audit.pipeline_run (run_id, night, status) "
                "values ('r1', '2026-11-01', 'published')"
            )
        )
        # a dashboard view created before the roles exist: the migration hands it over
        conn.execute(
            text(
                "create or replace view shared_care.v_people as "
                "select person_key, age_band from shared_care.person"
            )
        )
    assert apply_roles(engine)
    yield engine
    engine.dispose()


@contextmanager
def as_role(engine, role: str):
    """A connection acting as ``role``; everything is rolled back afterwards."""
    with engine.connect() as conn:
        trans = conn.begin()
        conn.exec_driver_sql(f"set local role {role}")
        try:
            yield conn
        finally:
            trans.rollback()


def denied(engine, role: str, sql: str) -> bool:
    """True if ``role`` is refused ``sql`` with insufficient privilege."""
    with as_role(engine, role) as conn:
        try:
            conn.exec_driver_sql(sql)
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            assert state == INSUFFICIENT_PRIVILEGE, f"{role}: {sql!r} failed otherwise: {exc}"
            return True
    return False


def allowed(engine, role: str, sql: str):
    with as_role(engine, role) as conn:
        result = conn.exec_driver_sql(sql)
        return result.fetchall() if result.returns_rows else result.rowcount


def test_split_sql_keeps_dollar_quoted_bodies_and_strings_whole():
    script = "do $$ begin perform 1; end $$;\nselect 'a;b'; -- c; d\nselect $x$;$x$"
    assert split_sql(script) == ["do $$ begin perform 1; end $$", "select 'a;b'", "select $x$;$x$"]


def test_group_roles_exist_cannot_log_in_and_migration_is_idempotent(warehouse):
    assert apply_roles(warehouse)  # a second time changes nothing and does not fail
    with warehouse.connect() as conn:
        rows = conn.execute(
            text("select rolname, rolcanlogin, rolsuper from pg_roles where rolname = any(:r)"),
            {"r": list(GROUP_ROLES)},
        ).fetchall()
    assert {r.rolname for r in rows} == set(GROUP_ROLES)
    assert not any(r.rolcanlogin or r.rolsuper for r in rows)


def test_not_applied_on_duckdb(duckdb_url):
    engine = make_engine(duckdb_url)
    try:
        assert apply_roles(engine) is False
    finally:
        engine.dispose()


# -- dashboard_reader ------------------------------------------------------------------


def test_dashboard_reader_reads_shared_care(warehouse):
    assert allowed(warehouse, "dashboard_reader", "select person_key from shared_care.person") == [
        ("pk-1",)
    ]
    assert allowed(warehouse, "dashboard_reader", "select * from shared_care.v_people")


def test_dashboard_reader_reads_the_metric_history_and_its_view(warehouse):
    with warehouse.begin() as conn:
        conn.execute(
            text(
                "insert into shared_care.metric_history (measure_id, value, as_of, run_id) "
                "values ('ascof_2d', 0.75, '2026-11-01', 'r1')"
            )
        )
    assert allowed(
        warehouse, "dashboard_reader", "select value, run_id from shared_care.metric_history"
    ) == [(0.75, "r1")]
    assert allowed(
        warehouse, "dashboard_reader", "select unit, percent from shared_care.v_metric_history"
    ) == [("proportion", 75.0)]


@pytest.mark.parametrize(
    "sql",
    [
        "select * from identity.person_index",
        "select * from identity.review_queue",
        "select * from identity.person_key_history",
        "select * from audit.pipeline_run",
        "select * from audit.quarantine",
        "insert into shared_care.person (person_key) values ('pk-2')",
        "update shared_care.person set sex = 'M'",
        "delete from shared_care.person",
        "truncate shared_care.metric",
        "delete from shared_care.metric_history",
        "insert into shared_care.metric_history (measure_id, as_of, run_id) "
        "values ('m', '2026-11-01', 'r')",
        "create table shared_care.scratch (a int)",
        "create or replace view shared_care.v_people as select 1 as a",
        "drop view shared_care.v_people",
    ],
)
def test_dashboard_reader_cannot(warehouse, sql):
    assert denied(warehouse, "dashboard_reader", sql)


# -- identity roles --------------------------------------------------------------------


def test_identity_reader_reads_identity(warehouse):
    rows = allowed(warehouse, "identity_reader", "select person_key from identity.person_index")
    assert rows == [("pk-1",)]


@pytest.mark.parametrize(
    "sql",
    [
        INDEX_ROW.replace("MOS1", "MOS2"),
        "update identity.person_index set person_key = 'pk-9'",
        "delete from identity.person_index",
        "truncate identity.person_key_history",
        DECISION_ROW,
        "create table identity.scratch (a int)",
        "select * from shared_care.person",
        "select * from audit.pipeline_run",
    ],
)
def test_identity_reader_cannot(warehouse, sql):
    assert denied(warehouse, "identity_reader", sql)


def test_identity_reviewer_records_decisions_and_changes_nothing_else(warehouse):
    assert allowed(warehouse, "identity_reviewer", DECISION_ROW) == 1
    assert allowed(warehouse, "identity_reviewer", "select count(*) from identity.review_queue")
    for sql in (
        "update identity.review_decision set decision = 'non-match'",
        "delete from identity.review_decision",
        "update identity.person_index set person_key = 'pk-9'",
        "select * from shared_care.person",
        "select * from audit.pipeline_run",
    ):
        assert denied(warehouse, "identity_reviewer", sql), sql


# -- audit_reader ----------------------------------------------------------------------


def test_audit_reader_reads_audit_and_shared_care_but_not_identity(warehouse):
    assert allowed(warehouse, "audit_reader", "select status from audit.pipeline_run") == [
        ("published",)
    ]
    assert allowed(warehouse, "audit_reader", "select count(*) from shared_care.person")
    for sql in (
        "select * from identity.person_index",
        "delete from audit.pipeline_run",
        "insert into audit.task_failure (run_id) values ('x')",
        "update shared_care.person set sex = 'M'",
    ):
        assert denied(warehouse, "audit_reader", sql), sql


# -- pipeline_writer -------------------------------------------------------------------


def _writer_engine(url: str):
    """An engine whose every connection acts as pipeline_writer (as the pipeline login does)."""
    from sqlalchemy import event

    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _set_role(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("set role pipeline_writer")
        dbapi_conn.commit()

    return engine


def test_pipeline_writer_runs_the_real_nightly_schema_and_publish(warehouse, pg_url):
    writer = _writer_engine(pg_url)
    try:
        with writer.connect() as conn:
            assert conn.execute(text("select current_user")).scalar_one() == "pipeline_writer"
        ensure_schema(writer)  # what `prepare` does every night
        metric = pd.DataFrame(
            {
                "measure_id": ["m1"],
                "measure_name": "test",
                "period_start": [date(2026, 1, 1)],
                "period_end": [None],
                "breakdown": "all",
                "numerator": 1.0,
                "denominator": 2.0,
                "value": 0.5,
                "status": "final",
                "definition_version": "1",
                "as_of": date(2026, 11, 1),
            }
        )
        publish(
            writer,
            PublishPlan(
                "run-roles",
                replace={"shared_care.metric": metric},
                watermarks={"dcc": "2026-10-31 12:00:00"},
            ),
        )
        assert len(read_frame(writer, "select * from shared_care.metric")) == 1
        with writer.begin() as conn:  # a dashboard view replaced by the pipeline
            conn.execute(
                text(
                    "create or replace view shared_care.v_people as "
                    "select person_key, age_band, sex from shared_care.person"
                )
            )
            conn.execute(text("insert into audit.task_failure (run_id) values ('r1')"))
    finally:
        writer.dispose()
    # grants survive a publish and a replaced view keeps them
    assert allowed(warehouse, "dashboard_reader", "select count(*) from shared_care.metric") == [
        (1,)
    ]
    assert allowed(warehouse, "dashboard_reader", "select sex from shared_care.v_people")


def test_pipeline_writer_cannot_manage_roles_or_read_other_schemas(warehouse):
    assert denied(warehouse, "pipeline_writer", "create role sneaky_role")
    assert denied(warehouse, "pipeline_writer", "grant pipeline_writer to dashboard_reader")
    assert denied(warehouse, "pipeline_writer", "select * from pg_catalog.pg_authid")


def test_tables_the_pipeline_creates_later_get_the_same_grants(warehouse):
    with warehouse.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("set local role pipeline_writer")
            conn.exec_driver_sql("create table shared_care.new_measure (a int)")
            conn.exec_driver_sql("create table identity.new_link (a int)")
    assert allowed(warehouse, "dashboard_reader", "select * from shared_care.new_measure") == []
    assert denied(warehouse, "dashboard_reader", "select * from identity.new_link")
    assert allowed(warehouse, "identity_reader", "select * from identity.new_link") == []
    assert denied(warehouse, "identity_reader", "select * from shared_care.new_measure")


def test_grants_are_per_database(warehouse, pg_admin):
    """Roles exist cluster-wide, but a database the migration has not run on grants nothing."""
    other = f"care_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'create database "{other}"'))
    engine = make_engine(make_url(str(pg_admin.url)).set(database=other).render_as_string(False))
    try:
        ensure_schema(engine)  # schema, but no roles applied here
        assert denied(engine, "dashboard_reader", "select * from shared_care.person")
        assert denied(
            engine, "pipeline_writer", "insert into audit.task_failure (run_id) values ('x')"
        )
        assert allowed(warehouse, "dashboard_reader", "select count(*) from shared_care.person")
    finally:
        engine.dispose()
        with pg_admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{other}" with (force)'))


# -- logins ----------------------------------------------------------------------------


def test_logins_act_as_their_group_role(warehouse, pg_url, pg_admin):
    suffix = uuid.uuid4().hex[:8]
    pipeline, dashboards = f"care_pipeline_{suffix}", f"care_dashboards_{suffix}"
    try:
        ensure_login(warehouse, pipeline, member_of="pipeline_writer", password="s3cret%'x")
        ensure_login(warehouse, pipeline, member_of="pipeline_writer")  # idempotent
        ensure_login(warehouse, dashboards, member_of="dashboard_reader")
        with warehouse.connect() as conn:
            has_password = conn.execute(
                text("select rolpassword is not null from pg_authid where rolname = :n"),
                {"n": pipeline},
            ).scalar_one()
        assert has_password
        url = make_url(pg_url)
        as_pipeline = create_engine(url.set(username=pipeline))
        as_dashboards = create_engine(url.set(username=dashboards))
        try:
            with as_pipeline.begin() as conn:
                assert conn.execute(text("select current_user")).scalar_one() == "pipeline_writer"
                conn.execute(text("create table shared_care.made_by_login (a int)"))
                owner = conn.execute(
                    text("select tableowner from pg_tables where tablename = 'made_by_login'")
                ).scalar_one()
                assert owner == "pipeline_writer"
            with as_dashboards.connect() as conn:
                assert (
                    conn.execute(text("select count(*) from shared_care.made_by_login")).scalar()
                    == 0
                )
                with pytest.raises(DBAPIError) as err:
                    conn.execute(text("select * from identity.person_index"))
                assert err.value.orig.sqlstate == INSUFFICIENT_PRIVILEGE
        finally:
            as_pipeline.dispose()
            as_dashboards.dispose()
    finally:
        with pg_admin.connect() as conn:
            for name in (pipeline, dashboards):
                conn.execute(text(f'drop role if exists "{name}"'))


def test_login_names_are_checked(warehouse):
    with pytest.raises(ValueError):
        ensure_login(warehouse, "pipeline_writer", member_of="pipeline_writer")
    with pytest.raises(ValueError):
        ensure_login(warehouse, 'x"; drop', member_of="dashboard_reader")
    with pytest.raises(ValueError):
        ensure_login(warehouse, "someone", member_of="superuser")


# -- grants applied by the pipeline with the schema --------------------------------------

STILL_AT_HOME = "shared_care.v_metric_still_at_home_91"


def test_the_pipelines_schema_step_grants_the_roles(pg_url):
    """A warehouse the pipeline built (as a superuser, as ``make run`` does) is readable
    by ``dashboard_reader`` without anyone running the roles command."""
    from transforms.warehouse.schema_version import ensure_current_schema

    engine = make_engine(pg_url)
    try:
        assert ensure_current_schema(engine) is True
        with engine.begin() as conn:
            conn.execute(text(PERSON_ROW))
        assert allowed(engine, "dashboard_reader", "select person_key from shared_care.person") == [
            ("pk-1",)
        ]
        assert allowed(engine, "dashboard_reader", f"select * from {STILL_AT_HOME}") == []
        assert denied(engine, "dashboard_reader", "select * from identity.person_index")
        assert allowed(engine, "identity_reviewer", DECISION_ROW) == 1
        assert ensure_current_schema(engine) is False  # current: nothing re-applied
    finally:
        engine.dispose()


def test_a_pipeline_login_that_is_not_superuser_grants_what_it_may(pg_url, pg_admin, caplog):
    """The usual production shape: the database belongs to ``pipeline_writer`` and the
    pipeline logs in as a login acting as it. What the login may not grant is logged."""
    from transforms.warehouse.roles import apply_grants
    from transforms.warehouse.schema_version import ensure_current_schema

    admin = make_engine(pg_url)
    db = make_url(pg_url).database
    login = f"care_pipeline_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        for role in GROUP_ROLES:
            conn.execute(
                text(
                    "do $$ begin if not exists (select 1 from pg_roles where rolname = "
                    f"'{role}') then create role {role} nologin; end if; end $$"
                )
            )
        conn.execute(text(f'alter database "{db}" owner to pipeline_writer'))
    ensure_login(admin, login, member_of="pipeline_writer")
    pipeline = make_engine(make_url(pg_url).set(username=login).render_as_string(False))
    try:
        with pipeline.connect() as conn:
            assert not conn.execute(
                text("select rolsuper from pg_roles where rolname = session_user")
            ).scalar_one()
        caplog.set_level("INFO", logger="transforms.warehouse.roles")
        assert ensure_current_schema(pipeline) is True
        with pipeline.begin() as conn:
            conn.execute(text(PERSON_ROW))
        assert allowed(admin, "dashboard_reader", "select person_key from shared_care.person") == [
            ("pk-1",)
        ]
        assert denied(admin, "dashboard_reader", "select * from identity.person_index")
        # role membership needs an administrator: refused, named in the log, not fatal
        outcome = apply_grants(pipeline)
        assert outcome.login == login
        assert outcome.refused and outcome.applied > 0
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert warnings
        for head, reason in outcome.refused:
            assert head in warnings[-1] and reason in warnings[-1]
        assert "python -m transforms.warehouse.roles" in warnings[-1]
    finally:
        pipeline.dispose()
        admin.dispose()
        with pg_admin.connect() as conn:
            conn.execute(text(f'drop role if exists "{login}"'))


def test_grants_are_not_applied_on_duckdb(duckdb_url):
    from transforms.warehouse.roles import apply_grants

    engine = make_engine(duckdb_url)
    try:
        assert apply_grants(engine) is None
    finally:
        engine.dispose()


def test_the_command_line_reads_its_url_and_passwords_from_the_environment_it_is_given(capsys):
    with pytest.raises(SystemExit):
        main([], env={})
    assert "give --url or set CARE_WAREHOUSE_ADMIN_URL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            ["--login", "someone:dashboard_reader:SOME_PASSWORD"],
            env={"CARE_WAREHOUSE_ADMIN_URL": "x"},
        )
    assert "environment variable SOME_PASSWORD is empty" in capsys.readouterr().err
