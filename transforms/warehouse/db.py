"""Engines, schema creation and table introspection for DuckDB and PostgreSQL."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB warehouse file open past the bounded wait."""


SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def make_engine(url: str, *, lock_wait: float = 0) -> Engine:
    """An engine for the warehouse URL; DuckDB files get their folder created.

    DuckDB lets one process at a time open a file for writing, and none while another
    holds it open at all. A connection that meets another process's lock tries again
    for up to ``lock_wait`` seconds, then raises :class:`WarehouseLockedError` saying
    who holds it and where dashboards should read instead."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "duckdb" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"pool_pre_ping": True} if parsed.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "duckdb":
        _wait_for_file_lock(engine, parsed.database, lock_wait)
    return engine


def _wait_for_file_lock(engine: Engine, path: str | None, lock_wait: float) -> None:
    @event.listens_for(engine, "do_connect")
    def connect(dialect, conn_rec, cargs, cparams):
        deadline = time.monotonic() + lock_wait
        delay = 0.5
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except Exception as exc:  # duckdb.IOException: the only sign of a lock
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    holder = str(exc).split("Conflicting lock is held in", 1)[-1].strip()
                    raise WarehouseLockedError(
                        f"the DuckDB warehouse {path} is held open by another process "
                        f"({holder if holder != str(exc) else 'unknown'}) and was still "
                        f"locked after {lock_wait:g}s. Nothing was written. Dashboards "
                        "and other readers must open the dashboard copy beside it "
                        "(*_dashboard.duckdb, refreshed after every publish), never the "
                        "pipeline's own file; close the reader and re-run the task."
                    ) from None
                log.warning("DuckDB warehouse %s is locked by another process; waiting", path)
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 5.0)


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
