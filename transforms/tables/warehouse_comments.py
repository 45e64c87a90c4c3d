"""``COMMENT ON`` statements for every documented table, column and view, and applying
them to a warehouse, so ``\\d+ shared_care.person`` and any catalogue tool show what each
column means.

Call :func:`apply_comments` after ``ensure_schema`` (PostgreSQL; DuckDB accepts the same
statements). ``sql/postgres/comments.sql`` holds the same statements for a DBA to run by
hand.
"""

from __future__ import annotations

from transforms.tables.measure_catalogue import MEASURES
from transforms.tables.metric_views import HISTORY_VIEW, view_column_docs
from transforms.tables.table_docs import TABLES


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(existing: dict[str, set[str]] | None = None) -> list[str]:
    """COMMENT ON statements for every documented table, column, measure view and view
    column (PostgreSQL and DuckDB both keep comments on view columns).

    ``existing``: ``{"schema.table": {columns}}`` of what the warehouse holds (as
    :func:`existing_columns` reads it); when given, objects that do not exist are
    skipped. Views and their columns are commented when ``existing`` is None or lists
    them; a ``create or replace view`` drops them, so run this after the views.
    """
    out = []
    for table in TABLES:
        if existing is not None and table.name not in existing:
            continue
        out.append(f"comment on table {table.name} is {_quote(table.description)}")
        for col, text in table.columns.items():
            if existing is not None and col not in existing[table.name]:
                continue
            out.append(f"comment on column {table.name}.{col} is {_quote(text)}")
    for m in MEASURES:
        if existing is not None and m.view not in existing:
            continue
        text = f"{m.name}. {m.summary} Unit: {m.unit}. Definition version {m.version}."
        out.append(f"comment on view {m.view} is {_quote(text)}")
        for col, text in view_column_docs(m).items():
            if existing is not None and col not in existing[m.view]:
                continue
            out.append(f"comment on column {m.view}.{col} is {_quote(text)}")
    if existing is None or HISTORY_VIEW in existing:
        text = (
            "Every measure, every night published (shared_care.metric_history), with the "
            "columns of the measure views and run_id: the figures' trend across nights."
        )
        out.append(f"comment on view {HISTORY_VIEW} is {_quote(text)}")
    return out


def existing_columns(conn) -> dict[str, set[str]]:
    """Tables and views of the three schemas with their columns."""
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('shared_care', 'identity', 'audit')"
        )
    ).fetchall()
    out: dict[str, set[str]] = {}
    for schema, table, column in rows:
        out.setdefault(f"{schema}.{table}", set()).add(column)
    return out


def apply_comments(engine) -> int:
    """Comment every documented object that exists (run after ``ensure_schema``).

    PostgreSQL is the target (``\\d+``, pg_description, catalogue tools); DuckDB accepts
    the same statements. One transaction; returns the number of statements run.
    """
    from sqlalchemy import text

    with engine.begin() as conn:
        statements = comment_statements(existing_columns(conn))
        for stmt in statements:
            conn.execute(text(stmt))
    return len(statements)
