"""Bulk loading of a DataFrame into an existing table, inside the caller's transaction.

DuckDB: the Arrow table is registered on the same connection and inserted in one
statement. PostgreSQL: ``COPY ... FROM STDIN`` in CSV, streamed in chunks. Neither
path inserts row by row.
"""

from __future__ import annotations

import contextlib
import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from transforms.warehouse.db import table_columns

COPY_CHUNK_ROWS = 200_000


class ContractError(ValueError):
    """A frame's columns do not match the table it is loaded into."""


def _aligned(conn: Connection, qualified: str, df: pd.DataFrame) -> tuple[list[str], pa.Table]:
    columns = table_columns(conn, qualified)
    if not columns:
        raise ContractError(f"table {qualified} does not exist in the warehouse")
    missing = [c for c in columns if c not in df.columns]
    extra = [c for c in df.columns if c not in columns]
    if missing or extra:
        raise ContractError(
            f"columns for {qualified} do not match its DDL: missing {missing}, unexpected {extra}"
        )
    table = pa.Table.from_pandas(df[columns], preserve_index=False)
    return columns, table


@contextlib.contextmanager
def _arrow_view(raw, name: str, table: pa.Table):
    """``table`` as a view on the raw DuckDB connection while the block runs. A failed
    statement aborts the transaction, and unregistering would then raise "transaction
    is aborted" over the error that says what went wrong: that second error is dropped."""
    raw.register(name, table)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            raw.unregister(name)


def insert_frame(
    conn: Connection, qualified: str, df: pd.DataFrame, *, freeze: bool = False
) -> int:
    """Append ``df`` to ``qualified`` (schema.table); returns the rows written.

    ``freeze`` (PostgreSQL): ``COPY ... FREEZE``, for a table created or emptied by
    ``truncate`` in this transaction (its rows then need no later visibility work)."""
    if df.empty:
        return 0
    columns, table = _aligned(conn, qualified, df)
    collist = ", ".join(f'"{c}"' for c in columns)
    backend = conn.dialect.name
    raw = conn.connection.driver_connection
    if backend == "duckdb":
        with _arrow_view(raw, f"_load_{qualified.replace('.', '_')}", table) as view:
            raw.execute(f"insert into {qualified} ({collist}) select {collist} from {view}")
    elif backend == "postgresql":
        options = "format csv, header false" + (", freeze true" if freeze else "")
        sql = f"copy {qualified} ({collist}) from stdin with ({options})"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for batch in table.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                buf = io.BytesIO()
                pacsv.write_csv(
                    pa.Table.from_batches([batch]),
                    buf,
                    write_options=pacsv.WriteOptions(include_header=False),
                )
                copy.write(buf.getvalue())
    else:  # pragma: no cover - only the two supported warehouses
        raise ValueError(f"unsupported warehouse backend {backend!r}")
    return table.num_rows


def delete_keys(conn: Connection, qualified: str, column: str, keys: pd.Series) -> int:
    """Delete the rows of ``qualified`` whose ``column`` is in ``keys``, inside the
    caller's transaction; returns the rows deleted. The keys are bulk-loaded (an Arrow
    view on DuckDB, ``COPY`` into a temporary table on PostgreSQL), never inlined."""
    if keys.empty:
        return 0
    values = pa.table({"k": pa.array(keys.astype(str).unique(), pa.string())})
    backend = conn.dialect.name
    raw = conn.connection.driver_connection
    if backend == "duckdb":
        with _arrow_view(raw, f"_keys_{qualified.replace('.', '_')}", values) as view:
            sql = f'delete from {qualified} where "{column}" in (select k from {view})'
            return int(raw.execute(sql).fetchone()[0])
    if backend == "postgresql":
        with raw.cursor() as cur:
            cur.execute("create temporary table _delete_keys (k text) on commit drop")
            with cur.copy("copy _delete_keys (k) from stdin") as copy:
                for batch in values.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                    for key in batch.column(0).to_pylist():
                        copy.write_row((key,))
            cur.execute(f'delete from {qualified} t using _delete_keys d where t."{column}" = d.k')
            deleted = cur.rowcount
            cur.execute("drop table _delete_keys")
        return int(deleted)
    raise ValueError(f"unsupported warehouse backend {backend!r}")  # pragma: no cover
