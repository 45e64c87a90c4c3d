"""Output suites: any failed rule is a batch breach; nothing is quarantined."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.validation import factory
from transforms.validation import BatchValidationError, raise_for_breaches, validate_output_table
from transforms.validation.engine import expectations_of, load_suite

PERSONS = 40
KEYS = set(factory.person_keys(PERSONS))


def _validate(name, frame, docs_dir, **context):
    return validate_output_table(
        name, frame, run_id="out", docs_dir=docs_dir, context={"person_keys": KEYS, **context}
    )


def _breaches(outcome) -> dict[str, int]:
    return {b["rule"]: b["count"] for b in outcome.batch_breaches}


def _rows_rules(name: str) -> set[str]:
    return {e.rule for e in expectations_of(load_suite(name)) if e.meta.get("batch") == "rows"} - {
        "row_count"
    }


def test_person_rules(docs_dir):
    frame = factory.person(PERSONS)
    frame.loc[1, "person_key"] = None
    frame.loc[3, "person_key"] = frame.loc[2, "person_key"]
    frame.loc[5, "district"] = "943 476 5919"  # an NHS number in a text column
    frame.loc[6, "known_to"] = "nhs"
    frame.loc[7, "min_link_probability"] = 1.2
    frame.loc[8, "source_record_count"] = 0
    frame.loc[9, "first_seen"] = pd.Timestamp("2027-01-01")
    outcome = _validate("person", frame, docs_dir)
    assert _breaches(outcome) == {
        "person_key_present": 1,
        "person_key_unique": 2,
        "no_clear_identifiers": 1,
        "known_to_code": 1,
        "min_link_probability_range": 1,
        "source_record_count_positive": 1,
        "seen_dates_ordered": 1,
    }
    assert set(_breaches(outcome)) == _rows_rules("person")
    ids = next(b for b in outcome.batch_breaches if b["rule"] == "no_clear_identifiers")
    assert "district" in ids["detail"] and "943" not in ids["detail"]


def test_care_event_rules(docs_dir):
    frame = factory.care_event(60, PERSONS)
    frame.loc[0, "event_id"] = None
    frame.loc[2, "event_id"] = frame.loc[1, "event_id"]
    frame.loc[3, "person_key"] = None
    frame.loc[4, "person_key"] = "pk_unknown"
    frame.loc[5, "outcome"] = "moved to DE4 3AG"  # a full postcode
    frame.loc[6, "organisation"] = "NHS"
    frame.loc[7, "end_date"] = pd.Timestamp("2020-01-01")
    frame.loc[8, "age_at_event"] = 130
    outcome = _validate("care_event", frame, docs_dir)
    assert _breaches(outcome) == {
        "event_id_present": 1,
        "event_id_unique": 2,
        "person_key_present": 1,
        "person_key_known": 1,
        "no_clear_identifiers": 1,
        "organisation_code": 1,
        "end_not_before_start": 1,
        "age_at_event_range": 1,
    }
    assert set(_breaches(outcome)) == _rows_rules("care_event")


def test_pathway2_stay_rules(docs_dir):
    frame = factory.pathway2_stay(30, PERSONS)
    frame.loc[0, "stay_id"] = None
    frame.loc[2, "stay_id"] = frame.loc[1, "stay_id"]
    frame.loc[3, "person_key"] = None
    frame.loc[4, "person_key"] = "pk_unknown"
    frame.loc[5, "settings"] = "born 1948-10-27"  # a full date outside the date columns
    frame.loc[6, "episode_end"] = pd.Timestamp("2020-01-01")
    frame.loc[7, "length_of_stay_days"] = -1
    frame.loc[8, "n_stays"] = 0
    frame.loc[9, "age_at_admission"] = 200
    outcome = _validate("pathway2_stay", frame, docs_dir)
    assert _breaches(outcome) == {
        "stay_id_present": 1,
        "stay_id_unique": 2,
        "person_key_present": 1,
        "person_key_known": 1,
        "no_clear_identifiers": 1,
        "episode_dates_ordered": 1,
        "length_of_stay_non_negative": 1,
        "n_stays_positive": 1,
        "age_at_admission_range": 1,
    }
    assert set(_breaches(outcome)) == _rows_rules("pathway2_stay")


def test_metric_rules(docs_dir):
    frame = pd.concat([factory.metric()] * 4, ignore_index=True)
    frame["breakdown"] = [f"b{i}" for i in range(len(frame))]
    frame.loc[1, "measure_id"] = None
    frame.loc[3, "breakdown"] = frame.loc[2, "breakdown"]
    frame.loc[3, "measure_id"] = frame.loc[2, "measure_id"]
    frame.loc[4, "status"] = None
    frame.loc[5, "definition_version"] = None
    frame.loc[6, "measure_name"] = "S41 7AB"
    frame.loc[7, "value"] = -3.0
    frame.loc[8, ["numerator", "denominator", "value"]] = [120.0, 100.0, 1.2]
    frame.loc[10, "numerator"] = -1.0
    frame.loc[11, ["denominator", "value"]] = [0.0, 5.0]
    frame.loc[12, ["numerator", "denominator", "value"]] = [None, None, 1.5]
    frame.loc[13, "status"] = "ok"
    frame.loc[14, "measure_id"] = "made_up_measure"
    frame.loc[0, "period_end"] = pd.Timestamp("2026-01-01")
    outcome = _validate("metric", frame, docs_dir)
    assert _breaches(outcome) == {
        "measure_id_present": 1,
        "metric_key_unique": 2,
        "status_present": 1,
        "definition_version_present": 1,
        "no_clear_identifiers": 1,
        "value_non_negative": 1,
        "proportion_in_unit_interval": 1,
        "numerator_non_negative": 1,
        "denominator_positive": 1,
        "status_code": 1,
        "measure_id_known": 1,
        "proportion_measure_range": 2,  # row 8 (shaped as one too) and row 12
        "period_ordered": 1,
    }
    assert set(_breaches(outcome)) == _rows_rules("metric")


def test_identifier_shapes(docs_dir):
    frame = factory.pathway2_stay(12, PERSONS)
    frame["settings"] = frame["settings"].astype(object)
    frame.loc[0, "settings"] = "9434765919"  # NHS number, no spaces
    frame.loc[1, "settings"] = "nhs 943-476-5919 recorded"  # NHS number inside text
    frame.loc[2, "settings"] = "9434765918"  # ten digits, Modulus 11 fails: not an NHS number
    frame.loc[3, "settings"] = "ref SP0000000150"  # digits inside an id token
    frame.loc[4, "settings"] = "de4 3ag"  # postcode, any case
    frame.loc[5, "settings"] = "DE4"  # a postcode district is not an identifier
    frame.loc[6, "settings"] = "27/10/1948"  # a date, UK style
    frame.loc[7, "settings"] = "2026-05"  # month only
    frame["n_stays"] = frame["n_stays"].astype("int64")
    frame.loc[8, "n_stays"] = 9434765919  # an NHS number held as a number
    frame["stay_id"] = frame["stay_id"].astype(object)
    frame.loc[9, "stay_id"] = "stay_2026-05-01"  # ids may embed event dates
    frame["episode_start"] = frame["episode_start"].dt.strftime("%Y-%m-%d")  # text dates
    outcome = _validate("pathway2_stay", frame, docs_dir)
    breaches = _breaches(outcome)
    assert breaches.pop("no_clear_identifiers") == 5
    assert set(breaches) <= {"n_stays_positive"}  # 9434765919 stays is positive anyway
    detail = next(
        b["detail"] for b in outcome.batch_breaches if b["rule"] == "no_clear_identifiers"
    )
    assert "first row positions [0, 1, 4, 6, 8]" in detail
    assert "settings" in detail and "n_stays" in detail


def test_output_breach_message(docs_dir):
    frame = factory.care_event(20, PERSONS)
    frame.loc[4, "person_key"] = "pk_unknown"
    outcomes = [
        _validate("care_event", frame, docs_dir),
        _validate("person", factory.person(PERSONS), docs_dir),
    ]
    with pytest.raises(BatchValidationError) as err:
        raise_for_breaches(outcomes, docs_dir / "index.html")
    first = str(err.value).splitlines()[0]
    assert first.startswith(
        "data validation failed, nothing published: care_event.person_key_known"
    )
    assert "pk_unknown" not in str(err.value)
    assert "person." not in first


def test_missing_output_column_is_drift(docs_dir):
    frame = factory.metric().drop(columns=["definition_version"]).assign(extra=np.int64(1))
    outcome = _validate("metric", frame, docs_dir)
    breaches = _breaches(outcome)
    assert "schema_columns" in breaches
    assert "definition_version_present" in outcome.summary["rules_skipped"]


def test_empty_outputs(docs_dir):
    frame = factory.care_event(5, PERSONS).iloc[:0]
    assert _validate("care_event", frame, docs_dir).batch_breaches == []
    assert _breaches(_validate("care_event", frame, docs_dir, expect_rows=True)) == {"row_count": 0}
