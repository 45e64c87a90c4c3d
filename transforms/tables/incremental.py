"""An incremental night's care events: rebuild what changed, keep the rest.

A care event row depends only on its source event (dates, codes, age at the event) and
on its record's person key. So on an incremental night the rows to rebuild are the
events that landed tonight, and every event of a record that was re-sent tonight or
whose person key changed (new, merged, split). Every other row of the last published
``care_event`` is still exactly what a full build would make of it, and is kept.

``tests/tables/test_build_incremental.py`` checks the result against a full build, and
the short soak compares the published table with a full build after several nights.
The tokens state keeps the table as a base and the changes since it
(:mod:`transforms.tables.care_event_state`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.contracts import EVENT_KEY as EVENT
from transforms.contracts import RECORD_KEY as RECORD
from transforms.frames import isin, key_strings

log = logging.getLogger(__name__)


def affected_events(
    events: pd.DataFrame, records: pd.DataFrame, landed_events: pd.DataFrame
) -> np.ndarray:
    """Which ``events`` rows to rebuild: those of ``records`` (source, source_record_id)
    and those in ``landed_events`` (source, source_event_id)."""
    by_record = isin(key_strings(events, RECORD), key_strings(records, RECORD))
    by_event = isin(key_strings(events, EVENT), key_strings(landed_events, EVENT))
    return by_record | by_event


def care_events_to_build(
    keyed: pd.DataFrame,
    events_file: Path,
    *,
    base: Path | None,
    index: pd.DataFrame,
    run_id: str,
    changed_records: Path,
    changed_events: Path,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """``(rebuilt, replaced_ids)``: the care event rows built tonight from the events
    state file, and the event ids they replace in ``base``, the last published night's
    table (``None`` without one: every row is built)."""
    from transforms.tables.care_event import build_care_event
    from transforms.tables.event_reads import events_of

    if base is None:
        return build_care_event(keyed, pd.read_parquet(events_file)), None
    records = pd.concat(
        [pd.read_parquet(changed_records), rekeyed_records(index, run_id)], ignore_index=True
    )
    # only the events to rebuild leave the file: the others stay in DuckDB
    todo = events_of(events_file, records, pd.read_parquet(changed_events))
    return build_care_event(keyed, todo), event_ids(todo).reset_index(drop=True)


def event_ids(events: pd.DataFrame) -> pd.Series:
    """``source:source_event_id``, the care event id (as ``build_care_event`` makes it)."""
    return pd.Series(key_strings(events, EVENT, sep=":"), dtype="str", index=events.index)


def rekeyed_records(index: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Records whose person key was set by this run (new, merged or split records):
    the person index stamps them with ``last_changed_run``."""
    return index.loc[index["last_changed_run"] == run_id, RECORD]


def without_contacts(care_event: pd.DataFrame | Path) -> pd.DataFrame:
    """Care events other than DCHS care contacts (most of the rows): what the Pathway 2
    stays and the measures read. From a frame, or read from a Parquet file."""
    if isinstance(care_event, Path):
        import pyarrow.dataset as ds

        field = ds.field("event_type")
        return pd.read_parquet(care_event, filters=(field != "contact") | field.is_null())
    return care_event[(care_event["event_type"] != "contact").to_numpy()].reset_index(drop=True)
