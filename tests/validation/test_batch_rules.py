"""Batch rules: schema drift, empty and small batches, completeness, failing share."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.validation import factory
from transforms.validation import BatchValidationError, raise_for_breaches, validate_source_table
from transforms.validation.rules.core import MAX_FAILING_SHARE, SMALL_BATCH_ROWS, TINY_BATCH_ROWS


def _event_context(persons: int) -> dict:
    return {
        "person_ids": {f"MOS{i:07d}" for i in range(persons)},
        "death_dates": factory.no_deaths(),
    }


def _breached(outcome) -> set[str]:
    return {b["rule"] for b in outcome.batch_breaches}


def _identifiers(frame: pd.DataFrame) -> set[str]:
    cols = [
        c
        for c in ("nhs_number", "given_name", "family_name", "postcode", "address_line_1",
                  "date_of_birth", "person_birth_date", "la_person_id", "local_patient_id")
        if c in frame.columns
    ]  # fmt: skip
    return {str(v) for c in cols for v in frame[c].dropna()}


def test_dropped_column_is_a_breach_naming_suite_rule_and_docs(docs_dir):
    frame = factory.dcc_person(50).drop(columns=["nhs_number"])
    outcome = validate_source_table("dcc_person", frame, run_id="drift", docs_dir=docs_dir)
    assert _breached(outcome) == {"schema_columns"}
    assert outcome.summary["success"] is False
    # rules reading the missing column are skipped, the rest still run
    assert "nhs_number_valid" in outcome.summary["rules_skipped"]
    assert "postcode_format" not in outcome.summary["rules_skipped"]
    with pytest.raises(BatchValidationError) as err:
        raise_for_breaches([outcome], docs_dir / "index.html")
    message = str(err.value)
    first = message.splitlines()[0]
    assert "dcc_person.schema_columns" in first
    assert str(docs_dir / "index.html") in first
    assert "nhs_number" in message  # the column's name, not its values
    assert not _identifiers(factory.dcc_person(50)) & set(re.findall(r"[\w-]+", message))
    assert err.value.breaches[0]["suite"] == "dcc_person"


def test_renamed_and_extra_columns_are_drift(docs_dir):
    frame = factory.dchs_referral(30, patients=30).rename(columns={"team_type_code": "team_type"})
    outcome = validate_source_table(
        "dchs_referral",
        frame,
        run_id="drift",
        docs_dir=docs_dir,
        context={"person_ids": set(frame.local_patient_id)},
    )
    assert _breached(outcome) == {"schema_columns"}
    detail = outcome.batch_breaches[0]["detail"]
    assert "team_type_code" in detail and "team_type" in detail


def test_retyped_column_is_drift(docs_dir):
    frame = factory.dchs_care_contact(40, referrals=10, patients=10)
    frame["clinical_contact_duration_minutes"] = pd.to_numeric(
        frame["clinical_contact_duration_minutes"]
    ).astype("int64")
    referrals = factory.dchs_referral(10, patients=10)
    outcome = validate_source_table(
        "dchs_care_contact",
        frame,
        run_id="drift",
        docs_dir=docs_dir,
        context={
            "person_ids": set(referrals.local_patient_id),
            "referral_dates": factory.referral_dates(referrals),
        },
    )
    assert _breached(outcome) == {"schema_types"}
    assert "clinical_contact_duration_minutes" in outcome.batch_breaches[0]["detail"]
    assert "int64" in outcome.batch_breaches[0]["detail"]


def test_object_text_columns_are_not_drift(docs_dir):
    frame = factory.dcc_person(20).astype(object).where(lambda f: f.notna(), None)
    assert all(pd.api.types.is_object_dtype(t) for t in frame.dtypes)
    outcome = validate_source_table("dcc_person", frame, run_id="obj", docs_dir=docs_dir)
    assert outcome.batch_breaches == [] and outcome.quarantine.empty


def test_empty_batch_is_fine_unless_rows_were_expected(docs_dir):
    name, frame, context = "dcc_event", factory.dcc_event(4, 4).iloc[:0], _event_context(4)
    quiet = validate_source_table(name, frame, run_id="quiet", docs_dir=docs_dir, context=context)
    assert quiet.batch_breaches == [] and quiet.clean.empty and quiet.quarantine.empty
    assert quiet.summary["rows_in"] == 0 and quiet.summary["success"] is True
    expected = validate_source_table(
        name, frame, run_id="expected", docs_dir=docs_dir, context={**context, "expect_rows": True}
    )
    assert _breached(expected) == {"row_count"}
    assert "0 rows; at least 1 expected" in expected.batch_breaches[0]["detail"]


def test_small_batch_below_min_rows(docs_dir):
    frame = factory.dchs_patient(30)
    outcome = validate_source_table(
        "dchs_patient", frame, run_id="small", docs_dir=docs_dir, context={"min_rows": 1000}
    )
    assert _breached(outcome) == {"row_count"}


def _break_rows(frame: pd.DataFrame, share: float) -> int:
    bad = int(round(len(frame) * share))
    frame.loc[: bad - 1, "team_type_code"] = "XX"
    return bad


def test_failing_share_above_threshold_stops_the_night(docs_dir):
    n = 2 * SMALL_BATCH_ROWS
    frame = factory.dchs_referral(n, patients=n)
    bad = _break_rows(frame, MAX_FAILING_SHARE + 0.02)
    outcome = validate_source_table(
        "dchs_referral", frame, run_id="share", docs_dir=docs_dir, context=_patients(n)
    )
    assert _breached(outcome) == {"failing_row_share"}
    breach = outcome.batch_breaches[0]
    assert breach["count"] == bad
    assert f"{bad:,} of {n:,} rows" in breach["detail"]
    # the rows are still quarantined, so the evidence is there
    assert len(outcome.quarantine) == bad


def test_failing_share_below_threshold_only_quarantines(docs_dir):
    n = 2 * SMALL_BATCH_ROWS
    frame = factory.dchs_referral(n, patients=n)
    bad = _break_rows(frame, MAX_FAILING_SHARE - 0.02)
    outcome = validate_source_table(
        "dchs_referral", frame, run_id="share", docs_dir=docs_dir, context=_patients(n)
    )
    assert outcome.batch_breaches == []
    assert outcome.summary["rows_quarantined"] == bad


def test_small_batches_use_the_loose_threshold(docs_dir):
    n = 40  # a quiet incremental night: 4 bad rows is 10%, not a broken extract
    frame = factory.dchs_referral(n, patients=n)
    _break_rows(frame, 0.10)
    outcome = validate_source_table(
        "dchs_referral", frame, run_id="share", docs_dir=docs_dir, context=_patients(n)
    )
    assert outcome.batch_breaches == []
    frame = factory.dchs_referral(n, patients=n)
    _break_rows(frame, 0.6)
    outcome = validate_source_table(
        "dchs_referral", frame, run_id="share", docs_dir=docs_dir, context=_patients(n)
    )
    assert _breached(outcome) == {"failing_row_share"}


def _patients(n: int) -> dict:
    return {"person_ids": {f"S1{i:08d}" for i in range(n)}}


def test_nhs_number_completeness_threshold(docs_dir):
    n = SMALL_BATCH_ROWS + 100
    frame = factory.dcc_person(n)
    frame.loc[np.arange(n) % 4 == 0, "nhs_number"] = np.nan  # 25% missing; DCC allows 20%
    outcome = validate_source_table("dcc_person", frame, run_id="nhs", docs_dir=docs_dir)
    assert _breached(outcome) == {"nhs_number_populated_share"}
    assert outcome.quarantine.empty  # a missing NHS number is not a row error


def test_nhs_number_validity_threshold(docs_dir):
    n = SMALL_BATCH_ROWS + 100
    frame = factory.dchs_patient(n)
    frame.loc[np.arange(n) % 10 == 0, "nhs_number"] = "1234567890"  # 10% invalid; 5% allowed
    outcome = validate_source_table("dchs_patient", frame, run_id="nhs", docs_dir=docs_dir)
    assert _breached(outcome) == {"nhs_number_valid_share"}
    assert set(outcome.findings.rule) == {"nhs_number_valid", "nhs_number_status_consistent"}


def test_same_key_in_two_drops_is_a_later_version_not_a_duplicate(docs_dir):
    first = factory.dchs_care_contact(30, referrals=10, patients=10)
    second = first.head(5).assign(_source_file="dchs/2026-11-02/care_contact.csv")
    frame = pd.concat([first, second], ignore_index=True)
    referrals = factory.dchs_referral(10, patients=10)
    outcome = validate_source_table(
        "dchs_care_contact",
        frame,
        run_id="drops",
        docs_dir=docs_dir,
        context={
            "person_ids": set(referrals.local_patient_id),
            "referral_dates": factory.referral_dates(referrals),
        },
    )
    assert outcome.quarantine.empty and outcome.batch_breaches == []


def test_quarantine_descriptions_hold_no_identifiers(docs_dir):
    frame = factory.dchs_patient(60)
    frame.loc[3, "nhs_number"] = "9434765918"
    frame.loc[4, "postcode"] = "S41"
    frame.loc[5, "person_birth_date"] = "2099-01-01"
    frame.loc[6, "person_birth_date"] = "1970-02-31"
    outcome = validate_source_table("dchs_patient", frame, run_id="ids", docs_dir=docs_dir)
    reported = pd.concat([outcome.quarantine, outcome.findings])
    assert set(reported.rule) >= {
        "nhs_number_valid",
        "postcode_format",
        "person_birth_date_not_future",
        "person_birth_date_format",
    }
    values = _identifiers(frame) - set(frame["local_patient_id"])
    for text in reported.description:
        assert not any(v in text for v in values if len(v) >= 4), text
        assert not re.search(r"\d{6,}", text), text
    # each rule has one fixed description, whatever the row
    assert reported.groupby("rule").description.nunique().max() == 1
    # the record is named by its source key, file and row only
    assert set(reported.source_record_id) <= set(frame.local_patient_id)


def test_share_rules_do_not_judge_a_tiny_batch(docs_dir):
    frame = factory.dcc_person(TINY_BATCH_ROWS - 1)
    frame["nhs_number"] = None  # every row: 100% missing, but of a handful of rows
    outcome = validate_source_table("dcc_person", frame, run_id="tiny", docs_dir=docs_dir)
    assert _breached(outcome) == set()
    frame = factory.dcc_person(TINY_BATCH_ROWS)
    frame["nhs_number"] = None
    outcome = validate_source_table("dcc_person", frame, run_id="small", docs_dir=docs_dir)
    assert _breached(outcome) == {"nhs_number_populated_share"}
