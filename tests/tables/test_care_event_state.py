"""The care-event state (a base and the changes since it) reads, every night of a
chain, as the whole table a full rewrite gives."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from transforms.tables import care_event_state as ces
from transforms.tables.care_event import CARE_EVENT_COLUMNS
from transforms.tables.care_event_state import CareEventState


def rows(ids, night: int) -> pd.DataFrame:
    frame = pd.DataFrame({c: [None] * len(ids) for c in CARE_EVENT_COLUMNS})
    frame["event_id"] = list(ids)
    frame["person_key"] = [f"P{night}" for _ in ids]
    frame["organisation"] = "DCHS"
    frame["event_type"] = ["contact" if i.endswith(("0", "1", "2")) else "referral" for i in ids]
    frame["start_date"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(night, unit="D")
    frame["end_date"] = pd.NaT
    frame["age_at_event"] = pd.array([night] * len(ids), dtype="Int64")
    return frame.astype({"event_id": "str", "person_key": "str"})


def whole(table: pd.DataFrame) -> pd.DataFrame:
    out = table.sort_values("event_id").reset_index(drop=True)
    out["age_at_event"] = pd.to_numeric(out["age_at_event"]).astype("Int64")
    return out.astype({c: object for c in out.columns if out[c].dtype != "Int64"})


@pytest.mark.parametrize("compact", [0.2, 1e9])
def test_a_chain_of_nights_reads_as_the_full_rewrite(tmp_path, monkeypatch, compact):
    monkeypatch.setattr(ces, "COMPACT_FRACTION", compact)
    rng = np.random.default_rng(7)
    ids = [f"dchs:con:{i}" for i in range(400)]
    expected = rows(ids, 0)
    folder = tmp_path / "night-0"
    assert ces.write_base(expected, folder) == 400
    compactions = 0
    for night in range(1, 9):
        replaced = list(rng.choice(ids, 40, replace=False)) + [f"dchs:new:{night}"]
        dropped = set(replaced[:3])  # rebuilt away: their record left the index
        rebuilt = rows([i for i in replaced if i not in dropped], night)
        ids = sorted((set(ids) - dropped) | {f"dchs:new:{night}"})
        expected = pd.concat(
            [expected[~expected["event_id"].isin(replaced)], rebuilt], ignore_index=True
        )
        previous = CareEventState(folder)
        folder = tmp_path / f"night-{night}"
        n = ces.refresh(previous, rebuilt, pd.Series(replaced), folder)
        state = CareEventState(folder)
        compactions += not state.has_changes
        got = ces.read_table(state)
        assert n == len(got) == len(expected), night
        pd.testing.assert_frame_equal(whole(got), whole(expected), check_dtype=False)
        not_contacts = ces.read_table(state, contacts=False)
        assert sorted(not_contacts["event_id"]) == sorted(
            expected.loc[expected["event_type"] != "contact", "event_id"]
        )
        # a re-run of the night in its own folder gives the same state
        assert ces.refresh(previous, rebuilt, pd.Series(replaced), folder) == n
        pd.testing.assert_frame_equal(whole(ces.read_table(state)), whole(got))
    if compact < 1:
        assert compactions >= 1, "the chain never compacted: the test checks less than it says"
    else:
        assert compactions == 0
        # no night copied the base: every folder links the first night's file
        assert os.path.samefile(tmp_path / "night-0" / ces.BASE, folder / ces.BASE)


def test_a_full_night_in_a_folder_with_changes_leaves_only_a_base(tmp_path, monkeypatch):
    monkeypatch.setattr(ces, "COMPACT_FRACTION", 1e9)
    first = tmp_path / "a"
    ces.write_base(rows(["e1", "e2"], 0), first)
    ces.refresh(CareEventState(first), rows(["e2"], 1), pd.Series(["e2"]), first)
    assert CareEventState(first).has_changes
    ces.write_base(rows(["e1", "e2", "e3"], 2), first)
    assert not CareEventState(first).has_changes
    assert len(ces.read_table(CareEventState(first))) == 3
