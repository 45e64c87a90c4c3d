"""shared_care.care_event: event ids, merged records, age bands, columns."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from build_fixtures import dcc_request, dcc_service, dchs_referral, dchs_spell, frames, record

from transforms.contracts import SOURCE_EVENT
from transforms.nightly.accounting import EVENT_KEYS
from transforms.tables.care_event import CARE_EVENT_COLUMNS, build_care_event
from transforms.tables.ddl_columns import ddl_columns


def contact(rid, sid, cid, day):
    row = {c: None for c in SOURCE_EVENT}
    row.update(source="dchs", source_event_id=f"con:{sid}:{cid}", source_record_id=rid,
               organisation="DCHS", event_type="contact", setting="home",
               service_category="district_nursing", start_date=day, end_date=day,
               outcome="attended")  # fmt: skip
    return row


@pytest.fixture
def built():
    recs = [
        record("dcc", "MOS1", "P1"),
        record("dcc", "MOS2", "P1", record_status="Merged", merged_into_record_id="MOS1"),
        record("dchs", "S1", "P1", birth=(1990, 1)),
    ]
    events = [
        dcc_request("MOS1", "EV1", "2026-04-10"),
        dcc_service("MOS2", "EV2", "reablement", "2026-04-11", "2026-05-01"),
        dchs_referral("S1", "SR1", "district_nursing", "2026-02-01"),
        contact("S1", "SR1", "CC1", "2026-02-03"),
        dchs_spell("S1", "SP1", "2026-03-01", "2026-03-20", "19"),
    ]
    rec, ev = frames(recs, events)
    ev.loc[ev["source_event_id"] == "spell:SP1", "pathway"] = 2
    return build_care_event(rec, ev).set_index("event_id"), rec, ev


def test_event_ids_are_what_row_accounting_looks_for(built):
    ce, _, _ = built
    landing = {
        "dcc_event": pd.DataFrame({"event_reference": ["EV1", "EV2"]}),
        "dchs_referral": pd.DataFrame({"service_request_id": ["SR1"]}),
        "dchs_care_contact": pd.DataFrame(
            {"service_request_id": ["SR1"], "care_contact_id": ["CC1"]}
        ),
        "dchs_inpatient_spell": pd.DataFrame({"hospital_provider_spell_number": ["SP1"]}),
    }
    expected = set()
    for name, frame in landing.items():
        expected |= set(EVENT_KEYS[name](frame))
    assert expected == {"dcc:EV1", "dcc:EV2", "dchs:ref:SR1", "dchs:con:SR1:CC1", "dchs:spell:SP1"}
    assert set(ce.index) == expected


def test_events_of_a_merged_record_belong_to_the_surviving_person(built):
    ce, _, _ = built
    assert ce.loc["dcc:EV2", "person_key"] == "P1"
    assert ce["person_key"].eq("P1").all()


def test_columns_types_and_age_bands(built):
    ce, _, _ = built
    ce = ce.reset_index()
    assert [c for c, _ in ddl_columns()["shared_care.care_event"]] == CARE_EVENT_COLUMNS
    assert list(ce.columns) == CARE_EVENT_COLUMNS
    row = ce.set_index("event_id").loc["dchs:spell:SP1"]
    assert row["pathway"] == "2" and row["organisation"] == "DCHS"
    assert row["age_at_event"] == 36 and row["age_band"] == "35-39"
    assert ce.set_index("event_id").loc["dcc:EV1", "age_band"] == "85-89"
    assert ce["start_date"].dtype == "datetime64[ns]"
    assert ce.set_index("event_id").loc["dchs:ref:SR1", "end_date"] is pd.NaT


def test_an_event_without_a_person_record_is_left_out_and_logged(built, caplog):
    _, rec, ev = built
    stray = ev.iloc[[0]].assign(source_event_id="EV9", source_record_id="MOS9")
    with caplog.at_level(logging.WARNING):
        ce = build_care_event(rec, pd.concat([ev, stray], ignore_index=True))
    assert "dcc:EV9" not in set(ce["event_id"]) and len(ce) == len(ev)
    assert "no person record" in caplog.text


def test_duplicate_events_are_refused(built):
    _, rec, ev = built
    with pytest.raises(ValueError, match="duplicate event ids"):
        build_care_event(rec, pd.concat([ev, ev.iloc[[0]]], ignore_index=True))
