"""Person keys: stable across nights, merges keep the older key, splits the larger part."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from transforms.link.person_index import HISTORY_COLUMNS, INDEX_COLUMNS, assign_person_keys


def records(*uids: str, merged: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = []
    for uid in uids:
        source, rid = uid.split(":")
        rows.append(
            {
                "source": source,
                "source_record_id": rid,
                "record_status": "Merged" if uid in merged else "Active",
            }
        )
    return pd.DataFrame(rows)


def edges(*pairs: tuple[str, str], route: str = "probabilistic", p: float = 0.99) -> pd.DataFrame:
    return pd.DataFrame(
        [{"uid_l": a, "uid_r": b, "route": route, "match_probability": p} for a, b in pairs],
        columns=["uid_l", "uid_r", "route", "match_probability"],
    )


EMPTY_INDEX = pd.DataFrame(columns=INDEX_COLUMNS)
EMPTY_HISTORY = pd.DataFrame(columns=HISTORY_COLUMNS)


class Keys:
    def __init__(self):
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return f"K{next(self.counter):03d}"


def night(recs, e, prev, hist, run, day, keys):
    index, new = assign_person_keys(recs, e, prev, hist, run_id=run, night=day, make_key=keys)
    return index, pd.concat([hist, new], ignore_index=True), new


def key_of(index: pd.DataFrame, uid: str) -> str:
    source, rid = uid.split(":")
    row = index[(index.source == source) & (index.source_record_id == rid)]
    assert len(row) == 1
    return row.person_key.iloc[0]


def test_first_night_clusters_get_one_key_each_and_are_recorded_created():
    keys = Keys()
    recs = records("dcc:A", "dchs:1", "dchs:2")
    index, hist, new = night(
        recs, edges(("dcc:A", "dchs:1")), EMPTY_INDEX, EMPTY_HISTORY, "r1", "2026-11-01", keys
    )
    assert key_of(index, "dcc:A") == key_of(index, "dchs:1") != key_of(index, "dchs:2")
    assert sorted(new.event) == ["created", "created"]
    assert list(index.columns) == INDEX_COLUMNS


def test_keys_are_stable_across_nights_and_new_records_join_existing_people():
    keys = Keys()
    recs = records("dcc:A", "dchs:1", "dchs:2")
    e = edges(("dcc:A", "dchs:1"))
    i1, h1, _ = night(recs, e, EMPTY_INDEX, EMPTY_HISTORY, "r1", "2026-11-01", keys)
    recs2 = records("dcc:A", "dchs:1", "dchs:2", "dchs:3")
    e2 = pd.concat([e, edges(("dchs:2", "dchs:3"))])
    i2, h2, new = night(recs2, e2, i1, h1, "r2", "2026-11-02", keys)
    for uid in ("dcc:A", "dchs:1", "dchs:2"):
        assert key_of(i2, uid) == key_of(i1, uid)
    assert key_of(i2, "dchs:3") == key_of(i1, "dchs:2")
    assert new.empty
    # a re-run with the same inputs changes nothing
    i3, _, new3 = night(recs2, e2, i2, h2, "r2", "2026-11-02", keys)
    pd.testing.assert_frame_equal(i2, i3)
    assert new3.empty


def test_merge_keeps_the_older_key_and_records_the_other_as_merged_into():
    keys = Keys()
    recs = records("dcc:A", "dchs:1")
    i1, h1, _ = night(recs, edges(), EMPTY_INDEX, EMPTY_HISTORY, "r1", "2026-11-01", keys)
    older = key_of(i1, "dcc:A")
    recs2 = records("dcc:A", "dchs:1", "dchs:9")
    i2, h2, _ = night(recs2, edges(), i1, h1, "r2", "2026-11-02", keys)
    newer = key_of(i2, "dchs:9")
    # night 3: dchs:9 turns out to be the same person as dcc:A
    i3, h3, new = night(recs2, edges(("dcc:A", "dchs:9")), i2, h2, "r3", "2026-11-03", keys)
    assert key_of(i3, "dchs:9") == key_of(i3, "dcc:A") == older
    merged = new[new.event == "merged_into"]
    assert merged[["person_key", "other_person_key"]].to_numpy().tolist() == [[newer, older]]
    # the retired key is never handed out again, even if its record splits off again
    i4, _, new4 = night(recs2, edges(), i3, h3, "r4", "2026-11-04", keys)
    assert key_of(i4, "dchs:9") not in {newer, older}
    assert "split_from" in set(new4.event)


def test_split_keeps_the_key_with_the_larger_part():
    keys = Keys()
    recs = records("dcc:A", "dchs:1", "dchs:2")
    e = edges(("dcc:A", "dchs:1"), ("dchs:1", "dchs:2"))
    i1, h1, _ = night(recs, e, EMPTY_INDEX, EMPTY_HISTORY, "r1", "2026-11-01", keys)
    original = key_of(i1, "dcc:A")
    i2, _, new = night(recs, edges(("dcc:A", "dchs:1")), i1, h1, "r2", "2026-11-02", keys)
    assert key_of(i2, "dcc:A") == key_of(i2, "dchs:1") == original
    assert key_of(i2, "dchs:2") != original
    split = new[new.event == "split_from"]
    assert split[["person_key", "other_person_key"]].to_numpy().tolist() == [
        [key_of(i2, "dchs:2"), original]
    ]


def test_source_merged_records_follow_their_survivor_and_are_marked_merged():
    keys = Keys()
    recs = records("dcc:A", "dcc:B", merged=("dcc:B",))
    i1, _, _ = night(
        recs,
        edges(("dcc:A", "dcc:B"), route="source_merge", p=1.0),
        EMPTY_INDEX,
        EMPTY_HISTORY,
        "r1",
        "2026-11-01",
        keys,
    )
    assert key_of(i1, "dcc:A") == key_of(i1, "dcc:B")
    row = i1.set_index("source_record_id").loc["B"]
    assert (row.record_status, row.link_route) == ("merged", "source_merge")


def test_duplicate_input_records_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        assign_person_keys(
            records("dcc:A", "dcc:A"),
            edges(),
            EMPTY_INDEX,
            EMPTY_HISTORY,
            run_id="r",
            night="2026-11-01",
        )
