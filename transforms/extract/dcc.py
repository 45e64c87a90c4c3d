"""Incremental extract from the DCC (Mosaic-like) case system.

Rows are pulled on the ``last_updated`` watermark: ``since < last_updated <= until``.
``since`` comes from ``audit.watermark`` (the last published night); ``until`` is the
run's logical time, so a backfill of an old night never pulls later changes. The new
watermark is the largest ``last_updated`` read, and only moves when the night publishes.

Events come first, then people. An event can reach tonight's window while its person's
row was changed again after ``until`` (Mosaic keeps only the current row). Without care
that event would fail its person check, be quarantined, and fall behind the watermark
for ever. So the people tonight's events refer to are also taken, as they stand now,
when their row is newer than ``until``; they do not move the watermark, and the night
their change falls in takes them again (an idempotent upsert).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from transforms.contracts import DCC_TABLES
from transforms.extract.dchs import SchemaDriftError
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


IN_CHUNK = 1_000


def _reflect(conn, meta: MetaData, name: str, columns: list[str], dcc_url: str) -> Table:
    try:
        table = Table(name, meta, autoload_with=conn)
    except NoSuchTableError as exc:
        raise SourceUnavailableError(
            f"DCC table {name!r} not found at {describe(dcc_url)}"
        ) from exc
    absent = [c for c in columns if c not in table.c]
    if absent:
        raise SchemaDriftError(
            f"DCC table {name!r} lacks contracted columns {absent} "
            f"(schema drift at source {describe(dcc_url)})"
        )
    return table


def extract_dcc(
    dcc_url: str, *, since: datetime | None, until: datetime, landing_dir: Path
) -> dict:
    """Land changed ``person`` and ``event`` rows; returns counts and the new watermark."""
    engine = create_engine(dcc_url)
    counts: dict[str, int] = {}
    high_water: datetime | None = since
    event_people: set[str] = set()
    try:
        with engine.connect() as conn:
            meta = MetaData()
            for name in ("event", "person"):
                columns, keys = DCC_TABLES[name]
                table = _reflect(conn, meta, name, columns, dcc_url)
                stmt = select(*[table.c[c] for c in columns]).where(table.c.last_updated <= until)
                if since is not None:
                    stmt = stmt.where(table.c.last_updated > since)
                batches = [stmt.order_by(*[table.c[k] for k in keys])]
                if name == "person" and event_people:
                    late = sorted(event_people)
                    batches += [
                        select(*[table.c[c] for c in columns])
                        .where(table.c.last_updated > until)
                        .where(table.c.la_person_id.in_(late[i : i + IN_CHUNK]))
                        .order_by(table.c.la_person_id)
                        for i in range(0, len(late), IN_CHUNK)
                    ]
                lu = columns.index("last_updated")
                with LandingWriter(landing_dir / f"dcc_{name}.parquet", columns) as out:
                    for n, batch in enumerate(batches):
                        result = conn.execution_options(stream_results=True).execute(batch)
                        while rows := result.fetchmany(FETCH_ROWS):
                            if n == 0:  # only rows inside the window move the watermark
                                for row in rows:
                                    if row[lu] is not None and (
                                        high_water is None or row[lu] > high_water
                                    ):
                                        high_water = row[lu]
                            cols = {c: [_text(r[i]) for r in rows] for i, c in enumerate(columns)}
                            if name == "event":
                                event_people.update(v for v in cols["la_person_id"] if v)
                            cols["_source_file"] = [f"dcc:{name}"] * len(rows)
                            cols["_source_row"] = cols[keys[0]]
                            out.write(pa.table(cols))
                    counts[name] = out.rows
                if name == "person" and len(batches) > 1:
                    log.info(
                        "DCC: people of tonight's events whose rows changed after the cut-off taken as they stand"
                    )
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
