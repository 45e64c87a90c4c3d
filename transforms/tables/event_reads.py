"""What the build needs from the tokens state's events, read in DuckDB from the file.

``source_event.parquet`` holds every event (about ten million at 800,000 people). The
build needs two things from it on every night, and neither is the whole table:

* :func:`record_spans`: each record's first and last event start (survivorship order
  and the person's first/last seen), a group-by over three columns;
* :func:`events_of`: on an incremental night, the events to rebuild: every event of
  the records re-sent or re-keyed tonight, and every event that landed tonight.

DuckDB scans only the columns it needs and groups them itself, where reading the ten
million rows into pandas to merge and group them would be a large part of an
incremental night's build (``bench/README.md``). The results equal those of that
pandas reading (``tests/tables/test_event_reads.py``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from transforms.contracts import EVENT_KEY as EVENT
from transforms.contracts import RECORD_KEY as RECORD


def _connect():
    import duckdb

    return duckdb.connect()


def record_spans(events: Path) -> pd.DataFrame:
    """``source, source_record_id, first, last``: per record, the day of its first and
    last event start (NaT when none of its events has a start date)."""
    con = _connect()
    try:
        table = con.sql(
            """
            select source, source_record_id,
                   date_trunc('day', min(start_date)) as "first",
                   date_trunc('day', max(start_date)) as "last"
            from read_parquet(?)
            group by source, source_record_id
            """,
            params=[str(events)],
        ).to_arrow_table()
    finally:
        con.close()
    out = table.to_pandas()
    for c in ("first", "last"):
        out[c] = out[c].astype("datetime64[ns]")
    return out


def events_of(events: Path, records: pd.DataFrame, landed: pd.DataFrame) -> pd.DataFrame:
    import pyarrow.parquet as pq

    """The rows of the events file ``events`` that belong to one of ``records``
    (source, source_record_id) or are one of ``landed`` (source, source_event_id), in
    the file's order, with the file's columns."""
    con = _connect()
    try:
        con.register("records", records[RECORD].drop_duplicates())
        con.register("landed", landed[EVENT].drop_duplicates())
        table = con.sql(
            """
            with hits as (
                select e.*, r.source is not null or l.source is not null as hit
                from read_parquet(?, file_row_number = true) e
                left join records r using (source, source_record_id)
                left join landed l using (source, source_event_id)
            )
            select * exclude (hit) from hits where hit order by file_row_number
            """,
            params=[str(events)],
        ).to_arrow_table()
    finally:
        con.close()
    # typed as the file, as pandas would read it (DuckDB's own types may differ)
    table = table.drop_columns(["file_row_number"]).cast(pq.read_schema(events))
    return table.to_pandas()
