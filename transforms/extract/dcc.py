"""Incremental extract from the DCC (Mosaic-like) case system.

Rows are pulled on the ``last_updated`` watermark: ``since < last_updated <= until``.
``since`` comes from ``audit.watermark`` (the last published night); ``until`` is the
run's logical time, so a backfill of an old night never pulls later changes. The new
watermark is the largest ``last_updated`` read, and only moves when the night publishes.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from transforms.contracts import DCC_TABLES
from transforms.extract.landing import LandingWriter
from transforms.warehouse.db import describe

log = logging.getLogger(__name__)

FETCH_ROWS = 50_000


class SourceUnavailableError(RuntimeError):
    """A source system could not be reached; the task should retry, then fail."""


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def extract_dcc(
    dcc_url: str, *, since: datetime | None, until: datetime, landing_dir: Path
) -> dict:
    """Land changed ``person`` and ``event`` rows; returns counts and the new watermark."""
    engine = create_engine(dcc_url)
    counts: dict[str, int] = {}
    high_water: datetime | None = since
    try:
        with engine.connect() as conn:
            meta = MetaData()
            for name, (columns, keys) in DCC_TABLES.items():
                try:
                    table = Table(name, meta, autoload_with=conn)
                except NoSuchTableError as exc:
                    raise SourceUnavailableError(
                        f"DCC table {name!r} not found at {describe(dcc_url)}"
                    ) from exc
                absent = [c for c in columns if c not in table.c]
                if absent:
                    raise ValueError(
                        f"DCC table {name!r} lacks contracted columns {absent} "
                        f"(schema drift at source {describe(dcc_url)})"
                    )
                stmt = select(*[table.c[c] for c in columns]).where(table.c.last_updated <= until)
                if since is not None:
                    stmt = stmt.where(table.c.last_updated > since)
                stmt = stmt.order_by(*[table.c[k] for k in keys])
                result = conn.execution_options(stream_results=True).execute(stmt)
                lu = columns.index("last_updated")
                with LandingWriter(landing_dir / f"dcc_{name}.parquet", columns) as out:
                    while rows := result.fetchmany(FETCH_ROWS):
                        for row in rows:
                            if row[lu] is not None and (high_water is None or row[lu] > high_water):
                                high_water = row[lu]
                        cols = {c: [_text(r[i]) for r in rows] for i, c in enumerate(columns)}
                        cols["_source_file"] = [f"dcc:{name}"] * len(rows)
                        cols["_source_row"] = cols[keys[0]]
                        out.write(pa.table(cols))
                    counts[name] = out.rows
    except DBAPIError as exc:
        raise SourceUnavailableError(
            f"DCC database unreachable at {describe(dcc_url)}: {type(exc.orig).__name__}"
        ) from exc
    finally:
        engine.dispose()
    log.info(
        "DCC extract since=%s until=%s: %s",
        since,
        until,
        ", ".join(f"{k}={v}" for k, v in counts.items()),
    )
    return {"rows": counts, "watermark": high_water.isoformat(sep=" ") if high_water else None}
