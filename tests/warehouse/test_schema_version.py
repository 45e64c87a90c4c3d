"""The nightly prepare applies the DDL only when it is not already current."""

from __future__ import annotations

from sqlalchemy import text

from transforms.warehouse import schema_version
from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame
from transforms.warehouse.schema_version import ensure_current_schema, missing_objects

VIEW = "shared_care.v_metric_still_at_home_91"


def test_the_ddl_runs_once_then_only_when_it_changes(warehouse_url, monkeypatch):
    engine = make_engine(warehouse_url)
    assert ensure_current_schema(engine) is True
    with engine.connect() as conn:
        assert missing_objects(conn) == []
    assert ensure_current_schema(engine) is False
    recorded = read_frame(engine, "select fingerprint from audit.schema_version")
    assert recorded["fingerprint"].tolist() == [schema_version.schema_fingerprint()]

    monkeypatch.setattr(schema_version, "schema_fingerprint", lambda: "changed-ddl")
    assert ensure_current_schema(engine) is True
    assert ensure_current_schema(engine) is False
    recorded = read_frame(engine, "select fingerprint from audit.schema_version")
    assert recorded["fingerprint"].tolist() == ["changed-ddl"]
    engine.dispose()


def test_an_object_dropped_by_hand_is_put_back(warehouse_url):
    engine = make_engine(warehouse_url)
    ensure_current_schema(engine)
    with engine.begin() as conn:
        conn.execute(text(f"drop view {VIEW}"))
        assert missing_objects(conn) == [VIEW]
    assert ensure_current_schema(engine) is True
    assert read_frame(engine, f"select count(*) as n from {VIEW}")["n"].tolist() == [0]
    engine.dispose()


def test_a_dropped_trend_view_is_put_back(warehouse_url):
    trend = "shared_care.v_metric_history"
    engine = make_engine(warehouse_url)
    ensure_current_schema(engine)
    with engine.begin() as conn:
        conn.execute(text(f"drop view {trend}"))
        assert missing_objects(conn) == [trend]
    assert ensure_current_schema(engine) is True
    assert read_frame(engine, f"select count(*) as n from {trend}")["n"].tolist() == [0]
    engine.dispose()


def test_any_change_to_a_schema_file_or_the_comments_changes_the_fingerprint(tmp_path, monkeypatch):
    from transforms.tables import warehouse_comments

    ddl = tmp_path / "ddl" / "010.sql"
    ddl.parent.mkdir()
    ddl.write_text("create schema if not exists audit;")
    monkeypatch.setattr(schema_version, "SQL_DIR", tmp_path)
    monkeypatch.setattr(schema_version, "schema_files", lambda: [ddl])
    before = schema_version.schema_fingerprint()
    assert before == schema_version.schema_fingerprint()
    ddl.write_text("create schema if not exists audit; -- edited")
    edited = schema_version.schema_fingerprint()
    assert edited != before
    original = warehouse_comments.comment_statements
    monkeypatch.setattr(
        warehouse_comments, "comment_statements", lambda: [*original(), "comment x"]
    )
    assert schema_version.schema_fingerprint() not in (before, edited)
