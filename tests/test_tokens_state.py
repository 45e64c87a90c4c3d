"""The tokens state folded file to file in DuckDB equals a plain pandas reading of the
same rule (upsert by key, last row wins; ages recomputed where they can have changed),
kept here only as the oracle."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from transforms.contracts import AGE_RANGE, SOURCE_EVENT
from transforms.frames import index_of, isin, key_strings
from transforms.nightly.tokens_state import fold_events, fold_records
from transforms.tables.person import age_from_birth_parts

EVENT = ["source", "source_event_id"]
RECORD = ["source", "source_record_id"]


def upsert(previous: pd.DataFrame | None, tonight: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The oracle: tonight's rows replace earlier ones with the same key, the last one
    winning; earlier rows keep their order and tonight's follow."""
    tonight = tonight.drop_duplicates(keys, keep="last")
    if previous is None or previous.empty:
        return tonight.reset_index(drop=True)
    stale = isin(key_strings(previous, keys), key_strings(tonight, keys))
    return pd.concat([previous[~stale], tonight], ignore_index=True)


def ages_at_events(people: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """The oracle: each event's person's age at its start."""
    pos = index_of(key_strings(events, RECORD), key_strings(people, RECORD))

    def parts(col: str) -> pd.Series:
        values = pd.to_numeric(people[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values = np.append(values, np.nan)  # position -1: no such person
        return pd.Series(pd.array(values[pos], dtype="Float64"))

    return age_from_birth_parts(parts("birth_year"), parts("birth_month"), events["start_date"])


def event_ages(people: pd.DataFrame, events: pd.DataFrame, todo: np.ndarray) -> np.ndarray:
    """The oracle: ages with the ``todo`` rows recomputed, outside AGE_RANGE none."""
    ages = ages_at_events(people, events[todo].reset_index(drop=True))
    implausible = ages.notna() & ~ages.between(*AGE_RANGE)
    out = pd.to_numeric(events["age_at_event"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan, copy=True
    )
    out[todo] = ages.mask(implausible).to_numpy(dtype=float, na_value=np.nan)
    return out


def test_the_oracle_takes_ages_from_each_events_own_person():
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


def test_the_oracle_upserts_by_key_and_keeps_everything_else():
    before = pd.DataFrame({"s": ["a", "a", "b"], "k": ["1", "2", "1"], "v": [1, 2, 3]})
    tonight = pd.DataFrame({"s": ["a", "c", "c"], "k": ["2", "9", "9"], "v": [20, 8, 9]})
    out = upsert(before, tonight, ["s", "k"])
    assert sorted(zip(out.s, out.k, out.v, strict=True)) == [
        ("a", "1", 1),
        ("a", "2", 20),
        ("b", "1", 3),
        ("c", "9", 9),
    ]


def events(rows: list[tuple]) -> pd.DataFrame:
    """(source, event id, record id, start, pathway, age) rows as the state holds them."""
    frame = pd.DataFrame({c: [None] * len(rows) for c in SOURCE_EVENT})
    frame["source"] = [r[0] for r in rows]
    frame["source_event_id"] = [r[1] for r in rows]
    frame["source_record_id"] = [r[2] for r in rows]
    frame["organisation"] = frame["source"].str.upper()
    frame["event_type"] = "contact"
    frame["start_date"] = pd.to_datetime([r[3] for r in rows])
    frame["end_date"] = pd.NaT
    frame["pathway"] = pd.array([r[4] for r in rows], dtype="Int64")
    frame["age_at_event"] = [r[5] for r in rows]
    return frame.astype({c: "str" for c in SOURCE_EVENT if frame[c].dtype == object})


def people(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": [r[0] for r in rows],
            "source_record_id": [r[1] for r in rows],
            "birth_year": pd.array([r[2] for r in rows], dtype="Int64"),
            "birth_month": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )


def pandas_path(previous, tonight, state_people, resent) -> pd.DataFrame:
    merged = upsert(previous, tonight, EVENT)
    keys = merged["source"] + "\x1f" + merged["source_record_id"]
    todo = keys.isin(resent["source"] + "\x1f" + resent["source_record_id"]).to_numpy(copy=True)
    todo[len(merged) - len(tonight.drop_duplicates(EVENT)) :] = True
    merged["age_at_event"] = event_ages(state_people, merged, todo)
    return merged


def norm(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values(EVENT).reset_index(drop=True)
    frame["pathway"] = pd.to_numeric(frame["pathway"]).astype("Float64")
    frame["age_at_event"] = pd.to_numeric(frame["age_at_event"]).astype("Float64")
    return frame.astype({c: object for c in frame.columns if frame[c].dtype == "str"})


def test_refreshed_events_equal_the_pandas_upsert_and_ages(tmp_path, caplog):
    previous = events(
        [
            ("dcc", "E1", "R1", "2026-01-10", 2, 75.0),  # kept as it is
            ("dcc", "E2", "R2", "2026-01-10", None, 40.0),  # R2 re-sent: age recomputed
            ("dchs", "C1", "S1", "2026-02-01", None, 30.0),  # re-sent tonight, new date
            ("dchs", "C2", "S9", "2026-02-01", None, None),  # record unknown: no age
            ("dcc", "E3", "R1", None, None, None),  # no date: no age, kept
        ]
    )
    tonight = events(
        [
            ("dchs", "C1", "S1", "2026-03-01", None, None),
            ("dchs", "C1", "S1", "2026-03-05", None, None),  # the last of a key wins
            ("dcc", "E4", "R2", "1979-12-01", 1, None),  # before birth: no age
            ("dcc", "E5", "R3", "2100-01-01", None, None),  # 116+ years: no age
        ]
    )
    state_people = people(
        [
            ("dcc", "R1", 1950, 6),
            ("dcc", "R2", 1980, 6),
            ("dchs", "S1", 1990, 3),
            ("dcc", "R3", 1960, 1),
        ]
    )
    resent = pd.DataFrame({"source": ["dcc"], "source_record_id": ["R2"]})
    path = tmp_path / "source_event.parquet"
    previous.to_parquet(path, index=False)

    with caplog.at_level(logging.WARNING):
        rows = fold_events(path, tonight, state_people, resent, path)
    got = pd.read_parquet(path)
    expected = pandas_path(previous, tonight, state_people, resent)

    assert rows == len(got) == 7
    pd.testing.assert_frame_equal(norm(got)[SOURCE_EVENT], norm(expected)[SOURCE_EVENT])
    ages = norm(got).set_index("source_event_id")["age_at_event"]
    assert ages["E1"] == 75 and ages["E2"] == 45 and ages["C1"] == 36
    assert (
        pd.isna(ages["C2"]) and pd.isna(ages["E3"]) and pd.isna(ages["E4"]) and pd.isna(ages["E5"])
    )
    assert "2 events get no age" in caplog.text  # E4 before birth, E5 116+ years after


def test_a_first_night_folds_tonights_events_into_an_empty_state(tmp_path):
    """No state yet: every event of tonight's, the last row per key, each with its age."""
    tonight = events(
        [
            ("dcc", "E1", "R1", "2026-01-10", 2, None),
            ("dcc", "E1", "R1", "2026-01-12", 2, None),  # the last of a key wins
            ("dchs", "C1", "S1", "2026-02-01", None, None),
            ("dcc", "E4", "R2", "1979-12-01", 1, None),  # before birth: no age
        ]
    )
    births = people([("dcc", "R1", 1950, 6), ("dcc", "R2", 1980, 6), ("dchs", "S1", 1990, 3)])
    out = tmp_path / "source_event.parquet"
    rows = fold_events(None, tonight, births, tonight[RECORD], out)
    got = pd.read_parquet(out)
    expected = upsert(None, tonight, EVENT)
    expected["age_at_event"] = event_ages(births, expected, np.ones(len(expected), dtype=bool))
    assert rows == len(got) == 3
    pd.testing.assert_frame_equal(norm(got)[SOURCE_EVENT], norm(expected)[SOURCE_EVENT])
    assert not list(tmp_path.glob(".empty_*"))  # the empty state is not left behind


def test_a_first_night_folds_tonights_records_as_the_upsert_does(tmp_path):
    tonight = pd.DataFrame(
        {
            "source": ["dcc", "dcc", "dchs"],
            "source_record_id": ["R1", "R1", "S1"],
            "birth_year": pd.array([1950, 1951, None], dtype="Int64"),
        }
    ).astype({"source": "str", "source_record_id": "str"})
    out = tmp_path / "person_record.parquet"
    assert fold_records(None, tonight, RECORD, out) == 2
    pd.testing.assert_frame_equal(pd.read_parquet(out), upsert(None, tonight, RECORD))


def test_a_quiet_night_rewrites_the_same_rows(tmp_path):
    previous = events([("dcc", "E1", "R1", "2026-01-10", 2, 75.0)])
    path = tmp_path / "source_event.parquet"
    previous.to_parquet(path, index=False)
    out = tmp_path / "next.parquet"
    nothing = previous.iloc[:0]
    assert fold_events(path, nothing, people([("dcc", "R1", 1950, 6)]), nothing[RECORD], out) == 1
    assert norm(pd.read_parquet(out)).equals(norm(previous))
    assert np.isclose(pd.read_parquet(out)["age_at_event"].iloc[0], 75.0)


def test_a_file_written_without_nulls_still_takes_rows_with_them(tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    path = tmp_path / "source_event.parquet"
    frame = events([("dcc", "E1", "R1", "2026-01-10", 2, 75.0)])
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(
        f"copy (select * exclude (age_at_event), 75.0 as age_at_event from frame) to '{path}'"
    )
    con.close()
    assert not pq.read_schema(path).field("age_at_event").nullable  # DuckDB: required
    tonight = events([("dcc", "E2", "R9", "2026-01-11", None, None)])  # unknown record
    rows = fold_events(path, tonight, people([("dcc", "R1", 1950, 6)]), tonight[RECORD], path)
    assert rows == 2 and pd.read_parquet(path)["age_at_event"].isna().sum() == 1


def test_refreshed_records_equal_the_pandas_upsert_in_order(tmp_path):

    def records(rows):
        frame = pd.DataFrame(rows, columns=["source", "source_record_id", "birth_year", "clk"])
        frame["birth_year"] = frame["birth_year"].astype("Int64")
        return frame.astype({"source": "str", "source_record_id": "str"})

    previous = records(
        [("dcc", f"R{i}", 1950 + i, bytes([i]) * 4) for i in range(9, -1, -1)]  # not sorted
    )
    tonight = records(
        [
            ("dcc", "R3", 1999, b"new3"),  # re-sent
            ("dchs", "S1", None, None),  # new
            ("dcc", "R7", 1900, b"old7"),
            ("dcc", "R7", 1901, b"new7"),  # the last of a key wins
        ]
    )
    path = tmp_path / "person_record.parquet"
    previous.to_parquet(path, index=False)
    rows = fold_records(path, tonight, RECORD, path)  # in place, as a re-run does
    got = pd.read_parquet(path)
    expected = upsert(previous, tonight, RECORD)
    assert rows == len(got) == 11
    # the same rows, order and dtypes as the pandas upsert (the file keeps the previous
    # file's schema and pandas metadata)
    pd.testing.assert_frame_equal(got, expected)
    assert got["source_record_id"].tolist()[-3:] == ["R3", "S1", "R7"]


def test_records_of_another_contract_are_refused(tmp_path):
    """A token column added since last night: the night must rebuild (prepare makes it a
    full refresh), not carry records without it forward."""
    import pytest

    previous = pd.DataFrame(
        {"source": ["dcc", "dcc"], "source_record_id": ["R1", "R2"], "tok_a": ["x1", "x2"]}
    ).astype("str")
    tonight = previous.assign(tok_new="n").iloc[1:]
    path = tmp_path / "person_record.parquet"
    previous.to_parquet(path, index=False)
    with pytest.raises(ValueError, match=r"added \['tok_new'\].*full_refresh=true"):
        fold_records(path, tonight, RECORD, path)


def test_a_state_older_than_the_event_contract_needs_a_full_refresh(tmp_path):
    """Last night's file has no client_type (written before the column existed): carrying
    it forward would leave every old DCC event with no client type, so no service user,
    and the ASCOF measures would lose them. Refused, naming the column and the remedy."""
    import pytest

    previous = events([("dcc", "E1", "R1", "2026-01-10", None, 75.0)])
    prev_file = tmp_path / "previous.parquet"
    previous.drop(columns="client_type").to_parquet(prev_file, index=False)
    tonight = events([("dcc", "E2", "R1", "2026-02-10", None, None)])
    with pytest.raises(ValueError, match=r"client_type.*full_refresh=true"):
        fold_events(
            prev_file,
            tonight,
            people([("dcc", "R1", 1950, 6)]),
            people([]),
            tmp_path / "out.parquet",
        )


def test_a_re_sent_records_events_keep_their_client_type_and_age(tmp_path):
    """R1 is re-sent tonight, so its event's age is recomputed: the event must still say
    'service_user' (ASCOF counts service users only) and carry its age, 75 in January 2026
    for a June 1950 birth."""
    previous = events([("dcc", "E1", "R1", "2026-01-10", None, 70.0)])
    previous["client_type"] = "service_user"
    prev_file = tmp_path / "previous.parquet"
    previous.to_parquet(prev_file, index=False)
    tonight = events([("dcc", "E2", "R1", "2026-02-10", None, None)])
    tonight["client_type"] = "service_user"
    out = tmp_path / "out.parquet"
    fold_events(
        prev_file, tonight, people([("dcc", "R1", 1950, 6)]), people([("dcc", "R1", 0, 0)]), out
    )
    got = pd.read_parquet(out).set_index("source_event_id")
    assert got["client_type"].tolist() == ["service_user", "service_user"]
    assert pd.to_numeric(got["age_at_event"]).tolist() == [75, 75]
