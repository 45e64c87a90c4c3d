"""The atomic, idempotent nightly publish.

Everything a night changes is written in ONE transaction:

* ``replace`` tables (``shared_care.*`` and the person index) are reloaded whole, so
  readers see either last night's rows or tonight's, never a mix (PostgreSQL: a shadow
  copy swapped in, or ``delete`` + ``COPY`` under MVCC for a table with views on it;
  DuckDB: the single-writer transaction);
* ``run_scoped`` tables (the audit tables, and the person key history, which only
  grows) lose any rows of this run id and get tonight's, so a re-run of a night
  replaces rather than duplicates;
* ``sliced`` tables (the metric history) lose the rows of tonight's slice (``as_of`` =
  the night) and get tonight's, whatever run wrote them before, and keep every other
  night's rows;
* state that drives the next night (watermarks, ingested DCHS drops) moves in the same
  transaction, so a failed publish leaves the next night starting from the same place.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from transforms.frames import sql_text
from transforms.warehouse.bulk import ContractError, delete_keys, insert_frame
from transforms.warehouse.lineage import Head, check_forward

log = logging.getLogger(__name__)


class PublishMismatch(RuntimeError):
    """An upserted table does not hold the rows the night expected it to: the warehouse
    is not the one the night built on. Nothing is published."""


@dataclass
class Upsert:
    """Rows that replace those with ``replaced`` keys in ``column``; the table must then
    hold ``expected_rows``, else the publish rolls back."""

    rows: pd.DataFrame
    column: str
    replaced: pd.Series
    expected_rows: int


@dataclass
class Slice:
    """Rows that replace every row whose ``column`` equals ``value``: one night's part of a
    table that keeps every night. Every row must carry ``value`` in ``column``, so the
    next publish of the same slice removes all of them."""

    rows: pd.DataFrame
    column: str
    value: object


@dataclass
class PublishPlan:
    run_id: str
    replace: dict[str, pd.DataFrame] = field(default_factory=dict)
    upsert: dict[str, Upsert] = field(default_factory=dict)
    run_scoped: dict[str, pd.DataFrame] = field(default_factory=dict)
    sliced: dict[str, Slice] = field(default_factory=dict)
    watermarks: dict[str, object] = field(default_factory=dict)  # source -> timestamp
    ingested_drops: pd.DataFrame | None = None  # drop_date, manifest_sha256, rows_total
    #: the published run the night was built on; the publish refuses when the warehouse
    #: has moved on since (None: no check, for callers outside the nightly run)
    based_on: Head | None = None


def publish(engine: Engine, plan: PublishPlan) -> dict[str, int]:
    """Apply ``plan`` in one transaction; returns rows written per table (empty when this
    run had already published on top of ``plan.based_on``: nothing is written again)."""
    started = time.monotonic()
    written: dict[str, int] = {}
    with engine.begin() as conn:
        if plan.based_on is not None and not check_forward(conn, plan.based_on, plan.run_id):
            log.info("run %s is already published; nothing written again", plan.run_id)
            return written
        _apply(conn, plan, written)
    log.info(
        "published run %s in %.1fs: %s",
        plan.run_id,
        time.monotonic() - started,
        ", ".join(f"{t}={n}" for t, n in written.items()),
    )
    return written


def _apply(conn, plan: PublishPlan, written: dict[str, int]) -> None:
    """Every change of ``plan``, inside the caller's transaction."""
    for table, frame in plan.replace.items():
        written[table] = replace_rows(conn, table, frame)
    for table, change in plan.upsert.items():
        written[table] = upsert_rows(conn, table, change)
    for table, frame in plan.run_scoped.items():
        conn.execute(text(f"delete from {table} where run_id = :r"), {"r": plan.run_id})
        written[table] = insert_frame(conn, table, frame)
    for table, part in plan.sliced.items():
        written[table] = replace_slice(conn, table, part)
    for source, mark in plan.watermarks.items():
        conn.execute(text("delete from audit.watermark where source = :s"), {"s": source})
        conn.execute(
            text("insert into audit.watermark (source, watermark, run_id) values (:s, :w, :r)"),
            {"s": source, "w": _timestamp(mark), "r": plan.run_id},
        )
    if plan.ingested_drops is not None and not plan.ingested_drops.empty:
        drops = plan.ingested_drops.assign(run_id=plan.run_id)
        # a full refresh ingests drops again: the latest ingestion of a drop is kept
        conn.execute(text("delete from audit.dchs_drop where run_id = :r"), {"r": plan.run_id})
        for day in drops["drop_date"].astype(str).unique():
            conn.execute(text("delete from audit.dchs_drop where drop_date = :d"), {"d": day})
        written["audit.dchs_drop"] = insert_frame(conn, "audit.dchs_drop", drops)


def settle_after_full_publish(engine: Engine) -> None:
    """DuckDB, after a publish that replaced the large tables: re-write the catalogue
    (the data dictionary's comments on every table) and checkpoint, in this process.

    The first write to the file after a full publish costs much more than the same
    write a night later, whichever step makes it (``bench/README.md``). Paid here, the
    full night absorbs it and the next incremental night starts from a settled file."""
    if engine.dialect.name != "duckdb":
        return
    from transforms.tables.warehouse_comments import apply_comments

    started = time.monotonic()
    apply_comments(engine)
    with engine.connect() as conn:
        conn.connection.driver_connection.execute("checkpoint")
    log.info("warehouse file settled after a full publish in %.1fs", time.monotonic() - started)


def refresh_dashboard_copy(engine: Engine, target: Path) -> Path:
    """DuckDB: checkpoint the warehouse and replace ``target`` with a copy of it.

    Dashboards open the copy (read-only), never the pipeline's file, so no reader can
    hold the lock the next publish needs. The copy is written beside the target and
    renamed over it: a reader that has the old copy open keeps reading it until it
    reconnects, and never sees a half-written file."""
    source = Path(engine.url.database)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    started = time.monotonic()
    with engine.connect() as conn:
        conn.connection.driver_connection.execute("checkpoint")
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    log.info("dashboard copy %s refreshed in %.1fs", target, time.monotonic() - started)
    return target


def replace_rows(conn, table: str, frame: pd.DataFrame) -> int:
    """Every row of ``table`` replaced by ``frame``, inside the caller's transaction.

    PostgreSQL loads a shadow copy with no index and swaps it in (``swap``: about twice
    the rows per second of ``COPY`` into an indexed table) unless a view depends on the
    table; then, and on DuckDB, the table is emptied and reloaded in place."""
    from transforms.warehouse.swap import can_swap, swap_load

    if conn.dialect.name == "postgresql" and can_swap(conn, table):
        return swap_load(conn, table, frame)
    empty_table(conn, table)
    return insert_frame(conn, table, frame)


def replace_slice(conn, table: str, part: Slice) -> int:
    """Delete the rows of ``table`` in ``part``'s slice, insert ``part.rows``."""
    if part.column not in part.rows.columns:
        raise ContractError(f"rows for {table} lack the slice column {part.column}")
    values = part.rows[part.column]
    if isinstance(part.value, date):  # a date column may arrive as datetime64
        outside = pd.to_datetime(values).ne(pd.Timestamp(part.value))
    else:
        outside = values.ne(part.value)
    if outside.any():
        raise ContractError(
            f"{table}: {int(outside.sum())} row(s) with {part.column} other than this "
            f"publish's {part.value}: a later publish of {part.value} would not replace them"
        )
    conn.execute(text(f'delete from {table} where "{part.column}" = :v'), {"v": part.value})
    return insert_frame(conn, table, part.rows)


def metric_history(metric: pd.DataFrame, *, run_id: str, as_of) -> Slice:
    """Tonight's ``shared_care.metric`` rows as the ``shared_care.metric_history`` slice of
    night ``as_of``: a night published again (a cleared run, or another run of the same
    night) replaces its own rows, whatever its run id, and leaves other nights alone."""
    return Slice(rows=metric.assign(run_id=run_id), column="as_of", value=as_of)


def upsert_rows(conn, table: str, change: Upsert) -> int:
    """Delete the replaced keys, insert the rows, check the table's row count."""
    deleted = delete_keys(conn, table, change.column, change.replaced)
    written = insert_frame(conn, table, change.rows)
    held = conn.execute(text(f"select count(*) from {table}")).scalar_one()
    if held != change.expected_rows:
        raise PublishMismatch(
            f"{table} would hold {held:,} rows after replacing {deleted:,} and inserting "
            f"{written:,}, but the night built {change.expected_rows:,}: the warehouse "
            "does not match the last published night's state (restored, or changed by "
            "hand?). Nothing was published; re-run with full_refresh=true to rebuild it"
        )
    log.info("%s: %d rows replaced, %d written (%d held)", table, deleted, written, held)
    return written


def empty_table(conn, table: str) -> None:
    """Empty ``table`` inside the caller's transaction.

    PostgreSQL: ``delete`` (MVCC: readers keep last night's rows until commit). DuckDB:
    the table is dropped and re-created from its own catalogue entry, with its indexes
    and comments. A ``delete`` there keeps every deleted key in the primary-key index
    until commit, which makes delete-all + re-insert of a large table many times slower
    than drop + create + insert (``bench/README.md``). DuckDB's DDL is transactional: a
    failed publish rolls back to the old table, rows and all."""
    if conn.dialect.name != "duckdb":
        conn.execute(text(f"delete from {table}"))
        return
    schema, name = table.split(".", 1)
    where = {"s": schema, "t": name}
    ddl, comment = conn.execute(
        text("select sql, comment from duckdb_tables() where schema_name = :s and table_name = :t"),
        where,
    ).one()
    indexes = (
        conn.execute(
            text("select sql from duckdb_indexes() where schema_name = :s and table_name = :t"),
            where,
        )
        .scalars()
        .all()
    )
    columns = conn.execute(
        text(
            "select column_name, comment from duckdb_columns() "
            "where schema_name = :s and table_name = :t and comment is not null"
        ),
        where,
    ).all()
    statements = [f"drop table {table}", ddl, *[i for i in indexes if i]]
    if comment:
        statements.append(f"comment on table {table} is {sql_text(comment)}")
    statements += [
        f'comment on column {table}."{col}" is {sql_text(text_)}' for col, text_ in columns
    ]
    raw = conn.connection.driver_connection
    for statement in statements:
        raw.execute(statement)


def _timestamp(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def read_frame(engine: Engine, sql: str, **params) -> pd.DataFrame:
    """A query's result as a DataFrame (state reads: watermark, index, decisions)."""
    with engine.connect() as conn:
        if conn.dialect.name == "duckdb" and not params:
            # Arrow straight from DuckDB: no Python object per value (state reads are
            # large; bench/README.md)
            return conn.connection.driver_connection.sql(sql).to_arrow_table().to_pandas()
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
