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

A value never stops the extract. Columns are read as the driver gives them, without
SQLAlchemy's type processing (SQLite keeps dates as text, and that processing raises on
an impossible date such as 31 February, naming no table, row or column). Each value is
then converted by its column type's own conversion where it can be, so valid values
land exactly as a typed read gives them; otherwise it lands as the text the source
holds, for the source suite to quarantine with its table, record, column and rule. An
unreadable ``last_updated`` lands as text and does not move the watermark.

Rows the watermark cannot place are counted, never skipped silently: rows without a
``last_updated`` are taken only when ``since`` is None (a first night or a full refresh),
and rows stamped after ``until`` wait for the night their stamp falls in. Both are
returned as ``findings`` and logged per table, as counts.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import MetaData, String, Table, create_engine, func, or_, select, type_coerce
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from transforms.contracts import DCC_TABLES
from transforms.extract.errors import SchemaDriftError, SourceUnavailableError
from transforms.extract.landing import LandingWriter
from transforms.warehouse.db import describe

log = logging.getLogger(__name__)

FETCH_ROWS = 50_000
IN_CHUNK = 1_000


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _converters(table: Table, columns: list[str], dialect) -> list:
    """Per column, the reflected type's own result conversion (None when there is none):
    applied by hand so that a value it cannot convert is kept rather than raised."""
    return [table.c[c].type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]


def _convert(value: object, convert) -> object:
    if value is None or convert is None:
        return value
    try:
        return convert(value)
    except (ValueError, TypeError, OverflowError):
        return value  # landed as the source holds it; the source suite judges it


def _count(conn, table: Table, condition) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(condition)).scalar())


def _findings(name: str, nulls: int, future: int, since, until) -> list[dict]:
    found = []
    if nulls:
        taken = (
            "taken tonight, as every row is when there is no watermark yet (first night or "
            "full refresh); an incremental night cannot take them"
            if since is None
            else "not taken: an incremental night cannot place them, only a full refresh takes them"
        )
        found.append(
            {
                "table": name,
                "finding": "null_last_updated",
                "rows": nulls,
                "detail": f"DCC {name} rows without a last_updated; {taken}",
            }
        )
    if future:
        found.append(
            {
                "table": name,
                "finding": "future_last_updated",
                "rows": future,
                "detail": f"DCC {name} rows whose last_updated is after this run's cut-off; "
                "deferred to the night their last_updated falls in",
            }
        )
    if found:
        log.warning(
            "DCC %s: %d rows without last_updated (%s), %d rows stamped after the cut-off "
            "(deferred)",
            name,
            nulls,
            "taken" if since is None else "not taken",
            future,
        )
    return found


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
    """Land changed ``person`` and ``event`` rows, every value as text.

    Returns ``{"rows": {"event": n, "person": n}, "watermark": "YYYY-MM-DD HH:MM:SS" | None,
    "findings": [{"table", "finding", "rows", "detail"}]}``; ``finding`` is
    ``null_last_updated`` or ``future_last_updated``, listed only when ``rows`` > 0, and
    ``detail`` holds no values.
    """
    engine = create_engine(dcc_url)
    counts: dict[str, int] = {}
    findings: list[dict] = []
    high_water: datetime | None = since
    event_people: set[str] = set()
    try:
        with engine.connect() as conn:
            meta = MetaData()
            for name in ("event", "person"):  # events first: they name the people to take
                table = _reflect(conn, meta, name, DCC_TABLES[name][0], dcc_url)
                batches = _batches(table, name, since, until, event_people)
                counts[name], high_water = _land(
                    conn, table, name, batches, landing_dir, high_water, event_people
                )
                if name == "person" and len(batches) > 1:
                    log.info(
                        "DCC: people of tonight's events whose rows changed after the cut-off taken as they stand"
                    )
                stamp = table.c.last_updated
                findings += _findings(
                    name,
                    _count(conn, table, stamp.is_(None)),
                    _count(conn, table, stamp > until),
                    since,
                    until,
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
    return {
        "rows": counts,
        "watermark": high_water.isoformat(sep=" ") if high_water else None,
        "findings": findings,
    }


def _batches(
    table: Table, name: str, since: datetime | None, until: datetime, event_people: set[str]
) -> list:
    """The queries for one table, every column untyped: first the watermark window, in key
    order; for ``person``, then the people of tonight's events stamped after ``until``."""
    columns, keys = DCC_TABLES[name]
    stamp = table.c.last_updated
    raw = [type_coerce(table.c[c], String).label(c) for c in columns]
    window = stamp <= until
    if since is None:  # no watermark yet: every row, stamped or not
        window = or_(window, stamp.is_(None))
    stmt = select(*raw).where(window)
    if since is not None:
        stmt = stmt.where(stamp > since)
    batches = [stmt.order_by(*[table.c[k] for k in keys])]
    if name == "person" and event_people:
        late = sorted(event_people)
        batches += [
            select(*raw)
            .where(stamp > until)
            .where(table.c.la_person_id.in_(late[i : i + IN_CHUNK]))
            .order_by(table.c.la_person_id)
            for i in range(0, len(late), IN_CHUNK)
        ]
    return batches


def _land(
    conn,
    table: Table,
    name: str,
    batches: list,
    landing_dir: Path,
    high_water: datetime | None,
    event_people: set[str],
) -> tuple[int, datetime | None]:
    """Stream the batches into ``dcc_<name>.parquet``; returns the rows landed and the
    watermark moved by the first batch's stamps. Landing ``event`` adds its people to
    ``event_people``."""
    columns, keys = DCC_TABLES[name]
    convert = _converters(table, columns, conn.dialect)
    lu = columns.index("last_updated")
    with LandingWriter(landing_dir / f"dcc_{name}.parquet", columns) as out:
        for n, batch in enumerate(batches):
            result = conn.execution_options(stream_results=True).execute(batch)
            while rows := result.fetchmany(FETCH_ROWS):
                rows = [[_convert(v, f) for v, f in zip(r, convert, strict=True)] for r in rows]
                if n == 0:  # only rows inside the window move the watermark
                    high_water = _high_water(rows, lu, high_water)
                cols = {c: [_text(r[i]) for r in rows] for i, c in enumerate(columns)}
                if name == "event":
                    event_people.update(v for v in cols["la_person_id"] if v)
                cols["_source_file"] = [f"dcc:{name}"] * len(rows)
                cols["_source_row"] = cols[keys[0]]
                out.write(pa.table(cols))
        return out.rows, high_water


def _high_water(rows: list, lu: int, high_water: datetime | None) -> datetime | None:
    """The largest readable ``last_updated`` (column ``lu``) of ``rows`` and ``high_water``."""
    for row in rows:
        if isinstance(row[lu], datetime) and (high_water is None or row[lu] > high_water):
            high_water = row[lu]
    return high_water
