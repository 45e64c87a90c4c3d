"""The tokens state's events on an incremental night: last night's file plus tonight's.

``source_event.parquet`` holds every event (about ten million at 800,000 people). An
incremental night lands a few tens of thousands, so rewriting the file through pandas
(read, upsert, recompute ages, write: ~20 s) is mostly moving rows that did not change.
``refresh_events`` streams it in DuckDB instead: last night's rows minus those tonight
re-sends, plus tonight's, with the age at event recomputed only where it can have
changed. The result is the same rows as the pandas path (``tests/test_event_state.py``).

An age depends on the event's start date and its record's year and month of birth. So
it is recomputed for tonight's events and for every event of a record re-sent tonight
(its birth may have been corrected); every other row keeps its age. The age is whole
years at the start date, a birthday month counting as reached; an event before birth,
or 116 or more years after it, gets no age (a wrong date somewhere, not a wrong age).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from transforms.contracts import EVENT_KEY as EVENT
from transforms.contracts import RECORD_KEY as RECORD
from transforms.contracts import SOURCE_EVENT
from transforms.frames import sql_text, typed_like, write_query

log = logging.getLogger(__name__)

MAX_AGE = 115

#: Whole years at ``e.start_date`` from ``b.birth_year`` / ``b.birth_month``, as
#: ``steps.age_from_birth_parts`` computes them (NULL when a part is unknown).
_YEARS = (
    "(year(e.start_date) - b.birth_year"
    " - case when month(e.start_date) < b.birth_month then 1 else 0 end)"
)


def refresh_records(previous: Path, tonight: pd.DataFrame, keys: list[str], out: Path) -> int:
    """Write ``out``: the rows of ``previous`` (Parquet) whose ``keys`` tonight does not
    re-send, in their order, then ``tonight``'s (the last row per key), typed as
    ``previous``: what ``steps.upsert`` makes, file to file. Returns the rows written.
    ``out`` may be ``previous``.

    The person records (~750,000 at 800,000 people, three 128-byte Bloom filters each)
    were read into pandas, upserted and written back every night (~4 s)."""
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

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


def refresh_events(
    previous: Path, tonight: pd.DataFrame, people: pd.DataFrame, resent: pd.DataFrame, out: Path
) -> int:
    """Write ``out``: ``previous`` (Parquet) minus the events ``tonight`` re-sends, plus
    ``tonight`` (its last row per event key), typed as ``previous``. Ages are recomputed
    from ``people`` (source, source_record_id, birth_year, birth_month: the whole
    upserted state) for tonight's events and every event of a ``resent`` record.
    Returns the rows written. ``out`` may be ``previous``. ``people`` may be a frame or
    a Parquet file holding those columns (only they are read)."""
    import duckdb
    import pyarrow.parquet as pq

    cols = pq.read_schema(previous).names
    if "age_at_event" not in cols:
        raise ValueError(f"{previous} has no age_at_event column: not an event state file")
    # an older state would carry its rows forward without the newer columns' values
    missing = [c for c in SOURCE_EVENT if c not in cols]
    if missing:
        raise ValueError(
            f"{previous} predates the event column(s) {missing}: its events cannot be "
            "carried forward without them; re-run with full_refresh=true to rebuild the "
            "tokens state from the sources"
        )
    tonight = tonight.drop_duplicates(EVENT, keep="last")
    con = duckdb.connect()
    try:
        con.register("tonight", typed_like(tonight, previous))
        # people come from the upsert: one row per record, so the join adds no rows
        births = [*RECORD, "birth_year", "birth_month"]
        if isinstance(people, Path):
            columns = ", ".join(births)
            con.execute(
                f"create temp view births as select {columns} from read_parquet({sql_text(people)})"
            )
        else:
            con.register("births", people[births])
        con.register("resent", resent[RECORD].drop_duplicates())
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
        implausible = con.execute(f"select count(*) from redo where years > {MAX_AGE}")
        implausible = implausible.fetchone()[0]
        ages = f"case when years between 0 and {MAX_AGE} then years end as age_at_event"
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
            "%d events get no age: their date is 116+ years after the year and month of birth",
            implausible,
        )
    log.info("events state %s: %d rows (%d landed tonight)", out, rows, len(tonight))
    return int(rows)
