"""The tokens state: every person record and event seen so far, pseudonymised, folded
night by night file to file in DuckDB.

``source_event.parquet`` holds every event (about ten million at 800,000 people), and
an incremental night lands a few tens of thousands, so each night streams last night's
file minus the rows tonight re-sends, plus tonight's, and recomputes the age at event
only where it can have changed. A first night (or a full refresh) is the same fold over
an empty state.

An age depends on the event's start date and its record's year and month of birth. So
it is recomputed for tonight's events and for every event of a record re-sent tonight
(its birth may have been corrected); every other row keeps its age. The age is whole
years at the start date, a birthday month counting as reached; an age outside
``contracts.AGE_RANGE`` (an event before birth, or a century and more after it) is no
age: a wrong date somewhere, not a wrong age.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from transforms.contracts import AGE_RANGE, EVENT_KEY, RECORD_KEY, SOURCE_EVENT
from transforms.frames import sql_text, typed_like, write_query

log = logging.getLogger(__name__)

#: Whole years at ``e.start_date`` from ``b.birth_year`` / ``b.birth_month``, as
#: ``build.person.age_from_birth_parts`` computes them (NULL when a part is unknown).
_YEARS = (
    "(year(e.start_date) - b.birth_year"
    " - case when month(e.start_date) < b.birth_month then 1 else 0 end)"
)


def empty_state(tonight: pd.DataFrame, folder: Path, name: str) -> Path:
    """An empty state file with ``tonight``'s columns and types, for a first night."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".empty_{name}"
    schema = pa.Schema.from_pandas(tonight, preserve_index=False)
    pq.write_table(schema.empty_table(), path)
    return path


def fold_records(previous: Path | None, tonight: pd.DataFrame, keys: list[str], out: Path) -> int:
    """Write ``out``: the rows of ``previous`` (Parquet; None on a first night) whose
    ``keys`` tonight does not re-send, in their order, then ``tonight``'s (the last row
    per key), typed as ``previous``. Returns the rows written. ``out`` may be
    ``previous``."""
    if previous is None:
        previous = empty_state(tonight, out.parent, out.name)
        try:
            return fold_records(previous, tonight, keys, out)
        finally:
            previous.unlink(missing_ok=True)
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    before = pq.read_schema(previous).names
    if set(before) != set(tonight.columns):
        raise ValueError(
            f"{previous} holds other columns than tonight's records (added "
            f"{sorted(set(tonight.columns) - set(before))}, dropped "
            f"{sorted(set(before) - set(tonight.columns))}); re-run with full_refresh=true"
        )
    tonight = tonight.drop_duplicates(keys, keep="last")
    fresh = typed_like(tonight, previous)
    fresh = fresh.append_column("_row", pa.array(np.arange(len(fresh), dtype=np.int64)))
    using = ", ".join(keys)
    con = duckdb.connect()
    try:
        con.register("tonight", fresh)
        # the kept rows in the file's order, then tonight's in theirs
        table = con.sql(
            f"""
            with kept as (
                select p.* exclude (file_row_number), 0 as _part, p.file_row_number as _row
                from read_parquet({sql_text(previous)}, file_row_number = true) p
                anti join tonight t using ({using})
            ),
            sent as (select *, 1 as _part from tonight)
            select * exclude (_part, _row)
            from (select * from kept union all by name select * from sent)
            order by _part, _row
            """
        ).to_arrow_table()
    finally:
        con.close()
    # written by Arrow with the previous file's schema and its pandas metadata, so the
    # state reads back with the dtypes it was written with (DuckDB's writer keeps none)
    schema = pq.read_schema(previous)
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(table.cast(schema), tmp)
    tmp.replace(out)
    rows = table.num_rows
    log.info("records state %s: %d rows (%d sent tonight)", out, rows, len(tonight))
    return rows


def event_state_columns(previous: Path) -> list[str]:
    """The columns of an events state file, refused when it is not one or predates a
    column of the event contract (its rows would be carried forward without it)."""
    import pyarrow.parquet as pq

    cols = pq.read_schema(previous).names
    if "age_at_event" not in cols:
        raise ValueError(f"{previous} has no age_at_event column: not an event state file")
    missing = [c for c in SOURCE_EVENT if c not in cols]
    if missing:
        raise ValueError(
            f"{previous} predates the event column(s) {missing}: its events cannot be "
            "carried forward without them; re-run with full_refresh=true to rebuild the "
            "tokens state from the sources"
        )
    return cols


def register_births(con, people: pd.DataFrame | Path) -> None:
    """``births``: each record's year and month of birth (the folded records: one row
    per record, so joining them adds no rows)."""
    births = [*RECORD_KEY, "birth_year", "birth_month"]
    if isinstance(people, Path):
        columns = ", ".join(births)
        con.execute(
            f"create temp view births as select {columns} from read_parquet({sql_text(people)})"
        )
    else:
        con.register("births", people[births])


def fold_events(
    previous: Path | None,
    tonight: pd.DataFrame,
    people: pd.DataFrame | Path,
    resent: pd.DataFrame,
    out: Path,
) -> int:
    """Write ``out``: ``previous`` (Parquet; None on a first night) minus the events
    ``tonight`` re-sends, plus ``tonight`` (its last row per event key), typed as
    ``previous``. Ages are recomputed from ``people`` (source, source_record_id,
    birth_year, birth_month: the whole folded state) for tonight's events and every
    event of a ``resent`` record. Returns the rows written. ``out`` may be
    ``previous``. ``people`` may be a frame or a Parquet file holding those columns
    (only they are read)."""
    if previous is None:
        typed = tonight.assign(age_at_event=pd.Series(dtype="float64", index=tonight.index))
        previous = empty_state(typed, out.parent, out.name)
        try:
            return fold_events(previous, tonight, people, resent, out)
        finally:
            previous.unlink(missing_ok=True)
    import duckdb

    cols = event_state_columns(previous)
    tonight = tonight.drop_duplicates(EVENT_KEY, keep="last")
    con = duckdb.connect()
    try:
        con.register("tonight", typed_like(tonight, previous))
        register_births(con, people)
        con.register("resent", resent[RECORD_KEY].drop_duplicates())
        # the rows whose age is recomputed: tonight's, and last night's of a re-sent
        # record (not replaced tonight); every other row is copied as it is, with no
        # join (joining all ten million rows to the births was most of the refresh)
        path = sql_text(previous)  # a view takes no parameters
        con.execute(
            f"""
            create temp view previous as
            select p.* from read_parquet({path}) p
            anti join tonight t using (source, source_event_id);
            create temp table redo as
            with todo as (
                select p.* from previous p semi join resent r using (source, source_record_id)
                union all
                select * from tonight
            )
            select e.*, {_YEARS} as years
            from todo e left join births b using (source, source_record_id);
            """
        )
        low, high = AGE_RANGE
        implausible = con.execute(
            f"select count(*) from redo where years < {low} or years > {high}"
        ).fetchone()[0]
        ages = f"case when years between {low} and {high} then years end as age_at_event"
        order = ", ".join(f'"{c}"' for c in cols)
        # union all is positional: the recomputed age stands where the column stands
        redone = ", ".join(ages if c == "age_at_event" else f'"{c}"' for c in cols)
        rows = write_query(
            con,
            f"""
            select {order} from (
                select p.* from previous p anti join resent r using (source, source_record_id)
                union all
                select {redone} from redo
            )
            """,
            out,
        )
    finally:
        con.close()
    if implausible:
        log.warning(
            "%d events get no age: their date is before birth or over %d years after it",
            implausible,
            AGE_RANGE[1],
        )
    log.info("events state %s: %d rows (%d landed tonight)", out, rows, len(tonight))
    return int(rows)
