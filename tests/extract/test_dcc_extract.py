"""DCC extract: incremental on last_updated, bounded above, clear failure when down."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import create_engine

from transforms.contracts import DCC_EVENT, DCC_PERSON
from transforms.extract.dcc import SourceUnavailableError, extract_dcc


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
    from transforms.extract.dchs import SchemaDriftError

    url = f"sqlite:///{tmp_path / 'drift.sqlite'}"
    engine = create_engine(url)
    pd.DataFrame(columns=[c for c in DCC_PERSON if c != "gender"]).to_sql("person", engine)
    pd.DataFrame(columns=DCC_EVENT).to_sql("event", engine)
    engine.dispose()
    with pytest.raises(SchemaDriftError, match=r"'person' lacks contracted columns \['gender'\]"):
        extract_dcc(url, since=None, until=datetime(2027, 1, 1), landing_dir=tmp_path / "l")
