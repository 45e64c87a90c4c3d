"""Row accounting: every landed row is published, quarantined or merged, counted from
evidence (the quarantine's file and row, the person index, tonight's event ids)."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.nightly.accounting import COLUMNS, AccountingError, account, check_balanced


def landing() -> dict[str, pd.DataFrame]:
    def rows(name, n, **cols):
        frame = pd.DataFrame({"_source_file": f"{name}.csv", "_source_row": range(2, n + 2)})
        return frame.assign(**cols)

    return {
        "dcc_person": rows("person", 3, la_person_id=["P1", "P2", "P3"]),
        "dchs_patient": rows("patient", 2, local_patient_id=["S1", "S2"]),
        "dcc_event": rows("event", 2, event_reference=["E1", "E2"]),
        "dchs_referral": rows("referral", 1, service_request_id=["R1"]),
        "dchs_care_contact": rows(
            "contact", 3, service_request_id=["R1", "R1", "R1"], care_contact_id=[1, 2, 3]
        ),
        "dchs_inpatient_spell": rows("spell", 0, hospital_provider_spell_number=[]),
    }


QUARANTINE = pd.DataFrame(
    {
        "table_name": ["dcc_person", "dchs_care_contact", "dcc_event"],
        "source_file": ["person.csv", "contact.csv", "other.csv"],
        "source_row": [4, 3, 2],  # the last names another file: not this table's row
    }
)
INDEX = pd.DataFrame(
    {
        "source": ["dcc", "dcc", "dchs", "dchs"],
        "source_record_id": ["P1", "P2", "S1", "S2"],
        "record_status": ["active", "merged", "active", "active"],
    }
)
EVENTS = pd.Series(
    ["dcc:E1", "dcc:E2", "dchs:ref:R1", "dchs:con:R1:1", "dchs:con:R1:3", "dchs:con:R9:9"]
)


def test_each_row_is_counted_once_from_evidence():
    out = account(landing(), QUARANTINE, INDEX, EVENTS, run_id="r").set_index("table_name")
    assert out.loc["dcc_person", ["published", "quarantined", "merged"]].tolist() == [1, 1, 1]
    assert out.loc["dchs_care_contact", ["published", "quarantined"]].tolist() == [2, 1]
    assert out.loc["dcc_event", ["published", "quarantined"]].tolist() == [2, 0]
    assert out.loc["dchs_inpatient_spell", "extracted"] == 0
    assert out["balanced"].all()
    check_balanced(out.reset_index())


def test_a_row_nobody_accounts_for_stops_the_night():
    events = EVENTS[EVENTS != "dchs:con:R1:1"]
    out = account(landing(), QUARANTINE, INDEX, events, run_id="r")
    assert not out.set_index("table_name").loc["dchs_care_contact", "balanced"]
    with pytest.raises(AccountingError, match="dchs_care_contact: extracted 3 != published 1"):
        check_balanced(out)


def test_accounting_reads_only_the_columns_it_names():
    frames = {name: frame[COLUMNS[name]] for name, frame in landing().items()}
    assert account(frames, QUARANTINE, INDEX, EVENTS, run_id="r")["balanced"].all()
