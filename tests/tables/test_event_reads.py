"""DuckDB reads of the events state file give what the pandas path gave."""

from __future__ import annotations

import numpy as np
import pandas as pd
from build_fixtures import frames, record

from transforms.contracts import SOURCE_EVENT
from transforms.tables.event_reads import events_of, record_spans
from transforms.tables.incremental import affected_events
from transforms.tables.person import build_person


def events_state(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Events of 40 records over two sources, some with times of day and some without a
    start date, in no particular order."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        src = "dcc" if i % 3 else "dchs"
        start = pd.Timestamp("2025-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 600_000)))
        rows.append(
            {c: None for c in SOURCE_EVENT}
            | {
                "source": src,
                "source_event_id": f"E{i}",
                "source_record_id": f"R{int(rng.integers(0, 40))}",
                "organisation": src.upper(),
                "event_type": "request",
                "start_date": None if i % 17 == 0 else start,
                "pathway": None if i % 5 else 2,
                "age_at_event": float(i % 90),
            }
        )
    frame = pd.DataFrame(rows)[SOURCE_EVENT]
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


def test_record_spans_match_the_pandas_reduction(tmp_path):
    events = events_state()
    path = tmp_path / "source_event.parquet"
    events.to_parquet(path, index=False)
    spans = record_spans(path).sort_values(["source", "source_record_id"], ignore_index=True)
    day = events.assign(start=events["start_date"].dt.normalize())
    expected = (
        day.groupby(["source", "source_record_id"])["start"]
        .agg(first="min", last="max")
        .reset_index()
    )
    assert len(spans) == len(expected)
    np.testing.assert_array_equal(spans["first"].to_numpy(), expected["first"].to_numpy())
    np.testing.assert_array_equal(spans["last"].to_numpy(), expected["last"].to_numpy())
    assert spans["first"].dtype == "datetime64[ns]"


def test_build_person_from_spans_equals_build_person_from_events(tmp_path):
    records = [record("dcc", f"R{i}", f"P{i // 2}") for i in range(40)]
    records += [record("dchs", f"R{i}", f"P{i // 3}") for i in range(40)]
    rec, _ = frames(records, [])
    events = events_state()
    path = tmp_path / "source_event.parquet"
    events.to_parquet(path, index=False)
    keyed = rec[["source", "source_record_id", "person_key"]]
    from_events = build_person(
        rec, events.merge(keyed, on=["source", "source_record_id"], how="left"), as_of="2026-11-01"
    )
    spans = record_spans(path).merge(keyed, on=["source", "source_record_id"], how="left")
    from_spans = build_person(rec, spans=spans, as_of="2026-11-01")
    assert from_events[0]["first_seen"].notna().sum() > 10, "spans reach the persons"
    pd.testing.assert_frame_equal(from_spans[0], from_events[0])
    pd.testing.assert_frame_equal(from_spans[1], from_events[1])


def test_events_of_selects_what_affected_events_selects_in_file_order(tmp_path):
    events = events_state()
    path = tmp_path / "source_event.parquet"
    events.to_parquet(path, index=False)
    records = pd.DataFrame(
        {"source": ["dcc", "dchs", "dcc", "dcc"], "source_record_id": ["R1", "R2", "R1", "R99"]}
    )
    # E3 and E6 may belong to R1/R2 too: an event hit both ways comes back once
    landed = pd.DataFrame({"source": ["dcc", "dchs", "dcc"], "source_event_id": ["E1", "E3", "E6"]})
    expected = events[affected_events(events, records, landed)].reset_index(drop=True)
    got = events_of(path, records, landed)
    assert len(expected) > 5
    assert got["source_event_id"].tolist() == expected["source_event_id"].tolist()
    positions = np.flatnonzero(affected_events(events, records, landed))
    pd.testing.assert_frame_equal(got, pd.read_parquet(path).iloc[positions].reset_index(drop=True))
    nothing = events_of(path, records.iloc[:0], landed.iloc[:0])
    assert nothing.empty and list(nothing.columns) == list(events.columns)
