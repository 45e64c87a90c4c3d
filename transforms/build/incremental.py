"""An incremental night's care events: rebuild what changed, keep the rest.

A care event row depends only on its source event (dates, codes, age at the event) and
on its record's person key. So on an incremental night the rows to rebuild are the
events that landed tonight, and every event of a record that was re-sent tonight or
whose person key changed (new, merged, split). Every other row of the last published
``care_event`` is still exactly what a full build would make of it, and is kept.

``tests/build/test_build_incremental.py`` checks the result against a full build, and
the short soak compares the published table with a full build after several nights.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.contracts import EVENT_KEY as EVENT
from transforms.contracts import RECORD_KEY as RECORD
from transforms.frames import isin, key_strings, typed_like, write_query

log = logging.getLogger(__name__)


def affected_events(
    events: pd.DataFrame, records: pd.DataFrame, landed_events: pd.DataFrame
) -> np.ndarray:
    """Which ``events`` rows to rebuild: those of ``records`` (source, source_record_id)
    and those in ``landed_events`` (source, source_event_id)."""
    by_record = isin(key_strings(events, RECORD), key_strings(records, RECORD))
    by_event = isin(key_strings(events, EVENT), key_strings(landed_events, EVENT))
    return by_record | by_event


def event_ids(events: pd.DataFrame) -> pd.Series:
    """``source:source_event_id``, the care event id (as ``build_care_event`` makes it)."""
    return pd.Series(key_strings(events, EVENT, sep=":"), dtype="str", index=events.index)


def rekeyed_records(index: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Records whose person key was set by this run (new, merged or split records):
    the person index stamps them with ``last_changed_run``."""
    return index.loc[index["last_changed_run"] == run_id, RECORD]


def refresh_care_event(
    previous: Path, rebuilt: pd.DataFrame, replaced_ids: pd.Series, out: Path
) -> int:
    """Write ``out``: the last published night's rows (the Parquet file ``previous``)
    minus every rebuilt event id (``replaced_ids``: all events that were rebuilt,
    including any the rebuild had to leave out), plus the rebuilt rows. Returns the
    rows written.

    DuckDB streams the ten million rows from file to file (about 4 s at 800,000
    people); reading them into pandas, filtering and writing them back took 11 s.
    ``out`` may be ``previous`` (a re-run of the night): it is written to a temporary
    file first and renamed."""
    import duckdb

    from transforms.build.care_event import CARE_EVENT_COLUMNS

    cols = ", ".join(f'"{c}"' for c in CARE_EVENT_COLUMNS)
    con = duckdb.connect()
    try:
        con.register("rebuilt", typed_like(rebuilt, previous))
        con.register("replaced", pd.DataFrame({"event_id": replaced_ids.astype(str)}))
        rows = write_query(
            con,
            f"""
            select {cols} from read_parquet(?)
            where event_id not in (select event_id from replaced)
            union all
            select {cols} from rebuilt
            """,
            out,
            [str(previous)],
        )
    finally:
        con.close()
    log.info(
        "care events: %d kept from the last published night, %d rebuilt",
        rows - len(rebuilt),
        len(rebuilt),
    )
    return rows


def without_contacts(care_event: pd.DataFrame | Path) -> pd.DataFrame:
    """Care events other than DCHS care contacts (most of the rows): what the Pathway 2
    stays and the measures read. From a frame, or read from a Parquet file."""
    if isinstance(care_event, Path):
        import pyarrow.dataset as ds

        field = ds.field("event_type")
        return pd.read_parquet(care_event, filters=(field != "contact") | field.is_null())
    return care_event[(care_event["event_type"] != "contact").to_numpy()].reset_index(drop=True)
