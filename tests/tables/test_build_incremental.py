"""An incremental night's care events equal a full build of the same state."""

from __future__ import annotations

import pandas as pd
import pytest
from build_fixtures import dcc_request, dcc_service, dchs_referral, dchs_spell, frames, record

from transforms.frames import isin
from transforms.tables import care_event_state
from transforms.tables.care_event import build_care_event
from transforms.tables.care_event_state import CareEventState
from transforms.tables.incremental import affected_events, event_ids, rekeyed_records


def state(records, events):
    rec, ev = frames(records, events)
    ev.loc[ev["source_event_id"].str.startswith("spell:"), "pathway"] = 2
    return rec, ev


def night_one():
    records = [
        record("dcc", "MOS1", "P1"),
        record("dcc", "MOS2", "P2"),
        record("dchs", "S1", "P3", birth=(1990, 1)),
        record("dchs", "S2", "P4"),
    ]
    events = [
        dcc_request("MOS1", "EV1", "2026-04-10"),
        dcc_service("MOS2", "EV2", "reablement", "2026-04-11", "2026-05-01"),
        dchs_referral("S1", "SR1", "district_nursing", "2026-02-01"),
        dchs_spell("S1", "SP1", "2026-03-01", "2026-03-20", "19"),
        dchs_referral("S2", "SR2", "district_nursing", "2026-02-05"),
    ]
    return records, events


def sort(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("event_id").reset_index(drop=True)


def refresh(tmp_path, previous, rebuilt, replaced) -> pd.DataFrame:
    """The tokens state's care events (``care_event_state``) after last night's table
    ``previous`` and tonight's rebuild, read back whole (the step's use)."""
    outs = []
    for compact in (0.0, float("inf")):  # folded into a new base, and kept as changes
        last, tonight = tmp_path / f"last{compact}", tmp_path / f"tonight{compact}"
        care_event_state.write_base(previous, last)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(care_event_state, "COMPACT_FRACTION", compact)
            rows = care_event_state.refresh(CareEventState(last), rebuilt, replaced, tonight)
        assert CareEventState(tonight).has_changes == (compact > 0) or len(replaced) == 0
        outs.append(care_event_state.read_table(CareEventState(tonight)))
        assert rows == len(outs[-1])
    pd.testing.assert_frame_equal(sort(outs[0]), sort(outs[1]))
    return outs[1]


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """As a Parquet round trip types it."""
    return frame.astype({"age_at_event": "Int64"}).astype(
        {c: "str" for c in frame.columns if frame[c].dtype == object}
    )


def test_rebuilding_what_changed_gives_the_full_build(tmp_path):
    records, events = night_one()
    rec1, ev1 = state(records, events)
    previous = build_care_event(rec1, ev1)

    # tonight: S1 re-sent with a corrected birth (its events' ages change), MOS2 merged
    # into P1 by the linkage (rekeyed, nothing re-sent), SR2 re-landed with an end date,
    # a new event for MOS1; S2's record and EV1 are untouched
    records[2] = record("dchs", "S1", "P3", birth=(1950, 6))
    records[1] = record("dcc", "MOS2", "P1")
    events[4] = dchs_referral("S2", "SR2", "district_nursing", "2026-02-05", "2026-03-01")
    events.append(dcc_request("MOS1", "EV3", "2026-06-01"))
    rec2, ev2 = state(records, events)
    index = rec2[["source", "source_record_id", "person_key"]].assign(
        last_changed_run=["r1", "r2", "r1", "r1"]
    )
    changed = pd.DataFrame({"source": ["dchs"], "source_record_id": ["S1"]})
    landed = pd.DataFrame({"source": ["dchs", "dcc"], "source_event_id": ["ref:SR2", "EV3"]})

    todo = affected_events(ev2, pd.concat([changed, rekeyed_records(index, "r2")]), landed)
    assert sorted(event_ids(ev2[todo])) == [
        "dcc:EV2", "dcc:EV3", "dchs:ref:SR1", "dchs:ref:SR2", "dchs:spell:SP1",
    ]  # fmt: skip
    rebuilt = build_care_event(rec2, ev2[todo])
    refreshed = refresh(tmp_path, previous, rebuilt, event_ids(ev2[todo]))

    full = build_care_event(rec2, ev2)
    pd.testing.assert_frame_equal(sort(refreshed), sort(typed(full)), check_dtype=False)
    # and the kept row is last night's, untouched
    assert refreshed["event_id"].tolist()[0] == "dcc:EV1"


def test_an_event_whose_record_left_the_index_is_dropped_not_kept(tmp_path):
    records, events = night_one()
    rec1, ev1 = state(records, events)
    previous = build_care_event(rec1, ev1)
    rec2 = rec1[rec1["source_record_id"] != "S2"]
    todo = isin(ev1["source_record_id"], ["S2"])
    rebuilt = build_care_event(rec2, ev1[todo])  # logged and left out: no person key
    refreshed = refresh(tmp_path, previous, rebuilt, event_ids(ev1[todo]))
    assert "dchs:ref:SR2" not in set(refreshed["event_id"])
    assert len(refreshed) == len(previous) - 1


def test_nothing_changed_keeps_every_row(tmp_path):
    records, events = night_one()
    rec, ev = state(records, events)
    previous = build_care_event(rec, ev)
    nothing = ev.iloc[:0]
    todo = affected_events(ev, nothing[["source", "source_record_id"]], nothing)
    assert not todo.any()
    rebuilt = build_care_event(rec, ev[todo])
    refreshed = refresh(tmp_path, previous, rebuilt, event_ids(ev[todo]))
    pd.testing.assert_frame_equal(refreshed, typed(previous), check_dtype=False)


def test_pathway2_and_measures_read_everything_but_care_contacts(tmp_path):
    from transforms.tables.incremental import without_contacts

    records, events = night_one()
    events.append(dcc_request("MOS1", "EV9", "2026-07-01") | {"event_type": "contact"})
    rec, ev = state(records, events)
    ce = build_care_event(rec, ev)
    ce.loc[0, "event_type"] = None  # unknown type: kept, as the frame filter keeps it
    path = tmp_path / "ce.parquet"
    ce.to_parquet(path, index=False)
    from_file, from_frame = without_contacts(path), without_contacts(ce)
    assert sorted(from_file["event_id"]) == sorted(from_frame["event_id"])
    assert "dcc:EV9" not in set(from_file["event_id"]) and len(from_file) == len(ce) - 1


def test_the_refreshed_state_keeps_the_previous_files_types(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(care_event_state, "COMPACT_FRACTION", float("inf"))
    records, events = night_one()
    rec, ev = state(records, events)
    previous = build_care_event(rec, ev)
    last, tonight = tmp_path / "last", tmp_path / "tonight"
    care_event_state.write_base(previous, last)

    def types(p):  # Arrow's string flavour is not part of the file's types
        return [str(t).replace("large_string", "string") for t in pq.read_schema(p).types]

    before = types(last / care_event_state.BASE)
    todo = isin(ev["source_record_id"], ["S1"])
    rebuilt = build_care_event(rec, ev[todo])
    # rebuilt rows whose ages are all unknown, held as a text column: untyped, DuckDB
    # would union the file's integers with text
    rebuilt["age_at_event"] = pd.Series([None] * len(rebuilt), dtype="str")
    care_event_state.refresh(CareEventState(last), rebuilt, event_ids(ev[todo]), tonight)
    assert types(tonight / care_event_state.DELTA) == before
    assert "int64" in before and "timestamp[ns]" in before
    whole = care_event_state.read_table(CareEventState(tonight))
    assert str(whole["age_at_event"].dtype) == str(previous["age_at_event"].dtype)
