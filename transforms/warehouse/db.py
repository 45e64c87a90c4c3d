"""Engines, schema creation and table introspection for DuckDB and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def make_engine(url: str) -> Engine:
    """An engine for the warehouse URL; DuckDB files get their folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"pool_pre_ping": True} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, **kwargs)


def describe(url: str) -> str:
    """The URL without a password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def sql_statements(path: Path) -> list[str]:
    """Statements of a SQL file, split on ';' at line ends (our DDL has no procedures)."""
    body = "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("--")
    )
    return [s.strip() for s in body.split(";") if s.strip()]


def schema_files() -> list[Path]:
    """The DDL files, then the measure views, in the order they are applied."""
    return sorted((SQL_DIR / "ddl").glob("*.sql")) + sorted((SQL_DIR / "views").glob("*.sql"))


def ensure_schema(engine: Engine) -> None:
    """Create schemas, tables and dashboard views if missing. Safe to run every night."""
    files = schema_files()
    with engine.begin() as conn:
        for path in files:
            for stmt in sql_statements(path):
                conn.execute(text(stmt))
    log.info("warehouse schema ensured (%d SQL files)", len(files))


def table_columns(conn: Connection, qualified: str) -> list[str]:
    schema, table = qualified.split(".")
    rows = conn.execute(
        text(
            "select column_name from information_schema.columns "
            "where table_schema = :s and table_name = :t order by ordinal_position"
        ),
        {"s": schema, "t": table},
    ).fetchall()
    return [r[0] for r in rows]


def table_exists(conn: Connection, qualified: str) -> bool:
    return bool(table_columns(conn, qualified))
