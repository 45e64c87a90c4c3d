"""DCC extract: incremental on last_updated, bounded above, clear failure when down."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import create_engine

from tests.validation import factory
from transforms.contracts import DCC_EVENT, DCC_PERSON
from transforms.extract.dcc import extract_dcc
from transforms.extract.errors import SourceUnavailableError


@pytest.fixture
def dcc_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'dcc.sqlite'}"
    engine = create_engine(url)
    people = pd.DataFrame(
        [
            {c: None for c in DCC_PERSON}
            | {"la_person_id": f"MOS{i:07d}", "last_updated": datetime(2026, 10, i + 1, 12)}
            for i in range(4)
        ]
    )
    people["date_of_birth"] = pd.to_datetime("1940-03-02").date()
    events = pd.DataFrame(columns=DCC_EVENT)
    people.to_sql("person", engine, index=False)
    events.astype({"last_updated": "datetime64[ns]"}).to_sql("event", engine, index=False)
    engine.dispose()
    return url


def test_watermark_window_is_half_open_and_bounded(dcc_db, tmp_path):
    result = extract_dcc(
        dcc_db,
        since=datetime(2026, 10, 1, 12),
        until=datetime(2026, 10, 3, 12),
        landing_dir=tmp_path / "l",
    )
    landed = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet")
    assert landed["la_person_id"].tolist() == ["MOS0000001", "MOS0000002"]
    assert landed["date_of_birth"].tolist() == ["1940-03-02", "1940-03-02"]
    assert landed["_source_row"].tolist() == landed["la_person_id"].tolist()
    assert result["watermark"] == "2026-10-03 12:00:00"
    assert result["rows"] == {"person": 2, "event": 0}


def test_first_night_takes_everything_up_to_the_bound(dcc_db, tmp_path):
    result = extract_dcc(dcc_db, since=None, until=datetime(2027, 1, 1), landing_dir=tmp_path / "l")
    assert result["rows"]["person"] == 4


def test_unreachable_database_is_a_clear_retryable_error(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with pytest.raises(SourceUnavailableError, match="DCC database unreachable at postgresql"):
        extract_dcc(url, since=None, until=datetime(2027, 1, 1), landing_dir=tmp_path / "l")


def test_an_event_whose_person_changed_after_the_cut_off_brings_its_person(dcc_db, tmp_path):
    """MOS0000003 changed on 4 Oct, after the bound; its event of 2 Oct must not be
    orphaned. The person comes as it stands, without moving the watermark."""
    engine = create_engine(dcc_db)
    event = {c: None for c in DCC_EVENT} | {
        "event_reference": "EV0000000001",
        "la_person_id": "MOS0000003",
        "event_type": "Request",
        "last_updated": datetime(2026, 10, 2, 9),
    }
    pd.DataFrame([event]).to_sql("event", engine, index=False, if_exists="append")
    engine.dispose()
    result = extract_dcc(
        dcc_db,
        since=datetime(2026, 10, 1, 12),
        until=datetime(2026, 10, 3, 12),
        landing_dir=tmp_path / "l",
    )
    landed = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet")
    assert landed["la_person_id"].tolist() == ["MOS0000001", "MOS0000002", "MOS0000003"]
    assert result["watermark"] == "2026-10-03 12:00:00"
    assert result["rows"] == {"person": 3, "event": 1}


def test_a_missing_contracted_column_is_schema_drift(tmp_path):
    from transforms.extract.errors import SchemaDriftError

    url = f"sqlite:///{tmp_path / 'drift.sqlite'}"
    engine = create_engine(url)
    pd.DataFrame(columns=[c for c in DCC_PERSON if c != "gender"]).to_sql("person", engine)
    pd.DataFrame(columns=DCC_EVENT).to_sql("event", engine)
    engine.dispose()
    with pytest.raises(SchemaDriftError, match=r"'person' lacks contracted columns \['gender'\]"):
        extract_dcc(url, since=None, until=datetime(2027, 1, 1), landing_dir=tmp_path / "l")


# ------------------------------------------------------------- values, stamps, findings
def _typed(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Factory landing rows as the DCC database holds them (dates and times typed)."""
    rows = []
    for rec in frame[columns].astype(object).to_dict("records"):
        row = {c: (None if pd.isna(v) else v) for c, v in rec.items()}
        for c in ("date_of_birth", "date_of_death", "event_start_date", "event_end_date"):
            if row.get(c):
                row[c] = date.fromisoformat(row[c])
        if row["last_updated"]:
            row["last_updated"] = datetime.fromisoformat(row["last_updated"])
        rows.append(row)
    return rows


def production_db(tmp_path, people: pd.DataFrame, events: pd.DataFrame, url=None) -> str:
    """The DCC schema the synthetic source builds (DATE and DATETIME columns) holding
    ``people`` and ``events`` (factory landing frames)."""
    from sqlalchemy import insert

    from transforms.synthetic.writers import dcc_metadata

    url = url or f"sqlite:///{tmp_path / 'dcc.sqlite'}"
    meta = dcc_metadata()
    engine = create_engine(url)
    with engine.begin() as conn:
        meta.create_all(conn)
        for name, frame, columns in (("person", people, DCC_PERSON), ("event", events, DCC_EVENT)):
            if len(frame):
                conn.execute(insert(meta.tables[name]), _typed(frame, columns))
    engine.dispose()
    return url


def source_sql(url: str, sql: str) -> None:
    """Store a value as the source may hold it, bypassing SQLAlchemy's types."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


UNTIL = datetime(2026, 10, 3, 12)


def test_an_impossible_date_lands_as_text_and_is_quarantined_naming_record_and_column(tmp_path):
    """31 February in a DATE column used to fail the whole extract ("day is out of range
    for month", no table, row or column). It lands as text and the source suites
    quarantine just that row, naming the table, the record, the column and the rule."""
    from transforms.validation import validate_source_table

    url = production_db(tmp_path, factory.dcc_person(3), factory.dcc_event(2, persons=3))
    source_sql(
        url, "update person set date_of_birth = '1950-02-31' where la_person_id = 'MOS0000001'"
    )
    source_sql(
        url, "update event set event_end_date = '2026-02-30' where event_reference = 'EV0000000001'"
    )
    result = extract_dcc(url, since=None, until=UNTIL, landing_dir=tmp_path / "l")
    assert result["rows"] == {"event": 2, "person": 3}
    people = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet")
    events = pd.read_parquet(tmp_path / "l" / "dcc_event.parquet")
    assert people.loc[people.la_person_id == "MOS0000001", "date_of_birth"].tolist() == [
        "1950-02-31"
    ]
    assert events.loc[events.event_reference == "EV0000000001", "event_end_date"].tolist() == [
        "2026-02-30"
    ]

    docs = tmp_path / "docs"
    person_q = validate_source_table("dcc_person", people, run_id="r", docs_dir=docs).quarantine
    event_q = validate_source_table(
        "dcc_event", events, run_id="r", docs_dir=docs,
        context={"person_ids": pd.Index(people.la_person_id), "death_dates": factory.no_deaths()},
    ).quarantine  # fmt: skip
    got = [
        (q.table_name, q.source_record_id, q.rule, q.severity)
        for q in pd.concat([person_q, event_q]).itertuples()
    ]
    assert got == [
        ("dcc_person", "MOS0000001", "date_of_birth_format", "error"),
        ("dcc_event", "EV0000000001", "event_end_date_format", "error"),
    ]
    assert "`date_of_birth`" in person_q.description.iloc[0]
    assert "`event_end_date`" in event_q.description.iloc[0]
    for q in (person_q, event_q):
        assert (
            not q.astype(str).apply(lambda c: c.str.contains("1950-02-31|2026-02-30")).any().any()
        )


def test_valid_values_land_byte_identical_to_the_typed_read(tmp_path):
    """Beside an impossible date, every valid value lands exactly as it did when the
    extract read typed values: dates YYYY-MM-DD, times as isoformat(sep=" ") (SQLite
    holds '2026-10-01 10:00:00.000000'; the landing keeps '2026-10-01 10:00:00')."""
    from sqlalchemy import MetaData, Table, select

    from transforms.extract.dcc import _text

    people = factory.dcc_person(3)
    people.loc[2, "date_of_death"] = "2025-12-31"
    people.loc[2, "last_updated"] = "2026-10-01 10:00:00.123456"
    url = production_db(tmp_path, people, factory.dcc_event(2, persons=3))
    source_sql(
        url, "update person set date_of_death = '2023-02-29' where la_person_id = 'MOS0000000'"
    )
    result = extract_dcc(url, since=None, until=UNTIL, landing_dir=tmp_path / "l")
    assert result["watermark"] == "2026-10-02 09:00:00"  # the events' stamp
    engine = create_engine(url)
    with engine.connect() as conn:
        for name, key in (("person", "la_person_id"), ("event", "event_reference")):
            table = Table(name, MetaData(), autoload_with=conn)
            rows = conn.execute(
                select(table).where(table.c[key] != "MOS0000000").order_by(table.c[key])
            ).mappings()
            typed = [{c: _text(v) for c, v in r.items()} for r in rows]
            landed = pd.read_parquet(tmp_path / "l" / f"dcc_{name}.parquet")
            landed = landed[landed[key] != "MOS0000000"].astype(object)
            columns = DCC_PERSON if name == "person" else DCC_EVENT
            landed = landed[columns].where(landed[columns].notna(), None)
            assert len(typed) == len(landed) > 0
            assert landed.to_dict("records") == typed
    engine.dispose()
    landed = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet").set_index("la_person_id")
    assert landed.loc["MOS0000002", ["date_of_birth", "date_of_death", "last_updated"]].tolist() == [
        "1942-03-12", "2025-12-31", "2026-10-01 10:00:00.123456",
    ]  # fmt: skip
    assert landed.loc["MOS0000001", "last_updated"] == "2026-10-01 10:00:00"
    assert landed.loc["MOS0000000", "date_of_death"] == "2023-02-29"


def test_an_impossible_last_updated_lands_as_text_and_leaves_the_watermark(tmp_path):
    people = factory.dcc_person(2)
    people.loc[0, "last_updated"] = "2026-10-02 08:00:00"
    url = production_db(tmp_path, people, factory.dcc_event(0, persons=2))
    source_sql(
        url,
        "update person set last_updated = '2026-10-02 25:00:00' where la_person_id = 'MOS0000001'",
    )
    result = extract_dcc(url, since=datetime(2026, 9, 1), until=UNTIL, landing_dir=tmp_path / "l")
    landed = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet")
    assert landed.last_updated.tolist() == ["2026-10-02 08:00:00", "2026-10-02 25:00:00"]
    assert result["watermark"] == "2026-10-02 08:00:00"


def _null_and_future_db(tmp_path, url=None) -> str:
    """Four people: MOS0 and MOS1 inside the window, MOS2 without a last_updated, MOS3
    stamped after the cut-off; one event without a last_updated."""
    people = factory.dcc_person(4)
    people["last_updated"] = [
        "2026-10-02 09:00:00",
        "2026-10-02 10:00:00",
        None,
        "2026-11-05 08:00:00",
    ]
    events = factory.dcc_event(2, persons=2)
    events.loc[1, "last_updated"] = None
    return production_db(tmp_path, people, events, url)


def test_null_last_updated_rows_are_counted_on_an_incremental_night_and_taken_on_a_full_one(
    tmp_path,
):
    url = _null_and_future_db(tmp_path)
    night = extract_dcc(url, since=datetime(2026, 10, 1), until=UNTIL, landing_dir=tmp_path / "a")
    assert pd.read_parquet(tmp_path / "a" / "dcc_person.parquet").la_person_id.tolist() == [
        "MOS0000000", "MOS0000001",
    ]  # fmt: skip
    nulls = [
        (f["table"], f["rows"]) for f in night["findings"] if f["finding"] == "null_last_updated"
    ]
    assert nulls == [("event", 1), ("person", 1)]

    full = extract_dcc(url, since=None, until=UNTIL, landing_dir=tmp_path / "b")
    assert pd.read_parquet(tmp_path / "b" / "dcc_person.parquet").la_person_id.tolist() == [
        "MOS0000000", "MOS0000001", "MOS0000002",
    ]  # fmt: skip
    assert pd.read_parquet(tmp_path / "b" / "dcc_event.parquet").event_reference.tolist() == [
        "EV0000000000", "EV0000000001",
    ]  # fmt: skip
    assert full["rows"] == {"event": 2, "person": 3}
    assert full["watermark"] == "2026-10-02 10:00:00"
    nulls = [
        (f["table"], f["rows"]) for f in full["findings"] if f["finding"] == "null_last_updated"
    ]
    assert nulls == [("event", 1), ("person", 1)]


def test_rows_stamped_after_the_cut_off_are_counted_and_deferred(tmp_path, caplog):
    url = _null_and_future_db(tmp_path)
    with caplog.at_level("WARNING", logger="transforms.extract.dcc"):
        result = extract_dcc(url, since=None, until=UNTIL, landing_dir=tmp_path / "l")
    landed = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet")
    assert "MOS0000003" not in landed.la_person_id.tolist()
    future = [f for f in result["findings"] if f["finding"] == "future_last_updated"]
    assert [(f["table"], f["rows"]) for f in future] == [("person", 1)]
    assert {f["finding"] for f in result["findings"]} == {
        "null_last_updated",
        "future_last_updated",
    }
    for f in result["findings"]:
        assert set(f) == {"table", "finding", "rows", "detail"}
        assert not any(ch.isdigit() for ch in f["detail"])  # plain words, no values
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and all("MOS" not in w for w in warnings)


def test_postgres_typed_values_land_as_before_and_unplaceable_rows_are_counted(tmp_path, pg_url):
    url = _null_and_future_db(tmp_path, pg_url)
    result = extract_dcc(url, since=None, until=UNTIL, landing_dir=tmp_path / "l")
    landed = pd.read_parquet(tmp_path / "l" / "dcc_person.parquet").set_index("la_person_id")
    assert landed.loc["MOS0000001", ["date_of_birth", "last_updated"]].tolist() == [
        "1941-02-11", "2026-10-02 10:00:00",
    ]  # fmt: skip
    assert landed.index.tolist() == ["MOS0000000", "MOS0000001", "MOS0000002"]
    assert result["watermark"] == "2026-10-02 10:00:00"
    assert sorted((f["table"], f["finding"], f["rows"]) for f in result["findings"]) == [
        ("event", "null_last_updated", 1),
        ("person", "future_last_updated", 1),
        ("person", "null_last_updated", 1),
    ]
