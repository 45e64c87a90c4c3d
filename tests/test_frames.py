"""transforms.frames.isin agrees with pandas' own isin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.frames import isin


def test_isin_matches_pandas_for_every_kind_of_input():
    values = pd.Series(["a", "b", None, "c", "a"], dtype="str")
    want = values.isin(["a", "c"]).to_numpy()
    for candidates in (["a", "c"], {"a", "c"}, pd.Index(["c", "a"]), pa.array(["a", "c"])):
        assert isin(values, candidates).tolist() == want.tolist()
    assert isin(values, []).tolist() == [False] * 5
    assert isin(pd.Index(["x", "a"]), np.array(["a"], dtype=object)).tolist() == [False, True]


def test_nulls_are_never_in():
    assert isin(pd.Series([None, "a"], dtype="str"), [None, "a"]).tolist() == [False, True]


def test_key_strings_tell_composite_keys_apart():
    from transforms.frames import key_strings

    frame = pd.DataFrame({"a": ["x", "x", "xy", None], "b": ["yz", "y", "z", "q"]})
    keys = key_strings(frame, ["a", "b"]).to_pylist()
    assert len(set(keys)) == 4  # x|yz and xy|z differ


def test_upsert_replaces_by_key_and_keeps_everything_else():
    from transforms.nightly.steps import upsert

    before = pd.DataFrame({"s": ["a", "a", "b"], "k": ["1", "2", "1"], "v": [1, 2, 3]})
    tonight = pd.DataFrame({"s": ["a", "c", "c"], "k": ["2", "9", "9"], "v": [20, 8, 9]})
    out = upsert(before, tonight, ["s", "k"])
    assert sorted(zip(out.s, out.k, out.v, strict=True)) == [
        ("a", "1", 1),
        ("a", "2", 20),
        ("b", "1", 3),
        ("c", "9", 9),
    ]
    assert len(upsert(None, tonight, ["s", "k"])) == 2


def test_ages_at_events_come_from_each_events_own_person():
    from transforms.nightly.steps import ages_at_events

    people = pd.DataFrame(
        {
            "source": ["dcc", "dchs"],
            "source_record_id": ["P1", "P1"],
            "birth_year": pd.array([1950, 2000], dtype="Int64"),
            "birth_month": pd.array([6, None], dtype="Int64"),
        }
    )
    events = pd.DataFrame(
        {
            "source": ["dchs", "dcc", "dcc", "dcc"],
            "source_record_id": ["P1", "P1", "P1", "P9"],
            "start_date": pd.to_datetime(["2026-01-01", "2026-05-31", "2026-06-01", "2026-06-01"]),
        }
    )
    ages = ages_at_events(people, events)
    assert ages.isna().tolist() == [True, False, False, True]  # no month; unknown person
    assert ages[1:3].tolist() == [75, 76]
    assert ages_at_events(people.iloc[:0], events).isna().all()


def test_event_ages_recompute_only_the_rows_asked_and_keep_the_others():
    from transforms.nightly.steps import event_ages

    people = pd.DataFrame(
        {
            "source": ["dcc", "dcc"],
            "source_record_id": ["P1", "P2"],
            "birth_year": pd.array([1950, 2020], dtype="Int64"),
            "birth_month": pd.array([6, 1], dtype="Int64"),
        }
    )
    events = pd.DataFrame(
        {
            "source": ["dcc"] * 4,
            "source_record_id": ["P1", "P2", "P1", "P2"],
            "start_date": pd.to_datetime(["2026-06-01"] * 3 + ["2010-01-01"]),
            "age_at_event": [40.0, 41.0, None, 42.0],
        }
    )
    todo = np.array([False, False, True, True])
    ages = event_ages(people, events, todo)
    # kept as they were; P1 at 76; P2's event is before birth: no age, not a wrong one
    assert ages[:3].tolist() == [40.0, 41.0, 76.0] and np.isnan(ages[3])


def test_index_of_gives_positions_and_minus_one_for_the_missing():
    from transforms.frames import index_of

    got = index_of(pd.Series(["b", None, "z", "a"], dtype="str"), ["a", "b", "b"])
    assert got.tolist() == [1, -1, -1, 0]
