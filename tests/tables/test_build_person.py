"""Survivorship and conflicts of shared_care.person (hand-built records)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from build_fixtures import AS_OF, dcc_request, dchs_referral, frames, record

from transforms.tables.ddl_columns import ddl_columns
from transforms.tables.person import (
    CONFLICT_COLUMNS,
    PERSON_COLUMNS,
    build_person,
    build_person_tables,
    person_internal,
)
from transforms.tables.values import age_band, age_from_birth_parts


def build(records, events=()):
    rec, ev = frames(records, list(events))
    person, conflict = build_person(rec, ev, as_of=AS_OF)
    return person.set_index("person_key"), conflict, rec


def conflicts_of(conflict, key):
    rows = conflict[conflict["person_key"] == key]
    return {r.attribute: (r.n_distinct, r.sources) for r in rows.itertuples()}


def test_columns_match_the_ddl():
    person, conflict, _ = build([record("dcc", "M1", "P1")])
    ddl = ddl_columns()
    assert [c for c, _ in ddl["shared_care.person"]] == PERSON_COLUMNS
    assert list(person.reset_index().columns) == PERSON_COLUMNS
    assert [c for c, _ in ddl["shared_care.person_conflict"]] == CONFLICT_COLUMNS
    assert list(conflict.columns) == CONFLICT_COLUMNS


@pytest.mark.parametrize(
    ("dcc_day", "dchs_day", "expected"),
    [("2026-01-05", "2026-06-01", "Bolsover"), ("2026-06-01", "2026-01-05", "Erewash")],
)
def test_district_comes_from_the_most_recently_active_record(dcc_day, dchs_day, expected):
    person, _, _ = build(
        [
            record("dcc", "M1", "P1", district="Erewash"),
            record("dchs", "S1", "P1", district="Bolsover"),
        ],
        [dcc_request("M1", "E1", dcc_day), dchs_referral("S1", "R1", "therapy", dchs_day)],
    )
    assert person.loc["P1", "district"] == expected


def test_sex_conflict_is_recorded_not_silently_resolved():
    person, conflict, _ = build(
        [record("dcc", "M1", "P1", sex="M"), record("dchs", "S1", "P1", sex="F")],
        [dcc_request("M1", "E1", "2026-06-01"), dchs_referral("S1", "R1", "therapy", "2026-01-01")],
    )
    assert person.loc["P1", "sex"] == "M"  # most recent known value
    assert conflicts_of(conflict, "P1") == {"sex": (2, "dcc,dchs")}


def test_unknown_sex_and_not_stated_ethnicity_do_not_win_or_conflict():
    person, conflict, _ = build(
        [
            record("dcc", "M1", "P1", sex="U", ethnicity_group="Not stated"),
            record("dchs", "S1", "P1", sex="F", ethnicity_group="Asian"),
        ],
        [dcc_request("M1", "E1", "2026-06-01"), dchs_referral("S1", "R1", "therapy", "2026-01-01")],
    )
    assert person.loc["P1", ["sex", "ethnicity_group"]].tolist() == ["F", "Asian"]
    assert conflicts_of(conflict, "P1") == {}
    alone, _, _ = build([record("dcc", "M2", "P2", sex="U", ethnicity_group="Not stated")])
    assert alone.loc["P2", ["sex", "ethnicity_group"]].tolist() == ["U", "Not stated"]


def test_conflicting_death_dates_keep_the_earliest_and_are_flagged():
    person, conflict, rec = build(
        [
            record("dcc", "M1", "P1", date_of_death="2026-06-09"),
            record("dchs", "S1", "P1", date_of_death="2026-05-28"),
        ]
    )
    assert person.loc["P1", "death_month"] == "2026-05"
    assert conflicts_of(conflict, "P1") == {"date_of_death": (2, "dcc,dchs")}
    internal = person_internal(rec, person.reset_index()).set_index("person_key")
    assert internal.loc["P1", "date_of_death"] == pd.Timestamp("2026-05-28")
    assert internal.loc["P1", "death_recorded_by"] == "both"


def test_a_death_known_to_one_organisation_only_is_flagged_for_the_other():
    person, conflict, _ = build(
        [record("dcc", "M1", "P1"), record("dchs", "S1", "P1", date_of_death="2026-03-02")]
    )
    assert person.loc["P1", "death_month"] == "2026-03"
    assert conflicts_of(conflict, "P1") == {"death_recorded": (2, "dchs")}
    # within one organisation (a duplicate without the death) it is not a conflict
    _, conflict, _ = build(
        [record("dcc", "M1", "P1"), record("dcc", "M2", "P1", date_of_death="2026-03-02")]
    )
    assert conflicts_of(conflict, "P1") == {}


def test_date_of_birth_parts_majority_wins_and_disagreement_is_flagged():
    person, conflict, rec = build(
        [
            record("dcc", "M1", "P1", birth=(1950, 3), tok_dob="t-0703"),
            record("dchs", "S1", "P1", birth=(1950, 3), tok_dob="t-0703"),
            record("dcc", "M2", "P1", birth=(1950, 7), tok_dob="t-0307"),  # day/month swap
        ]
    )
    internal = person_internal(rec, person.reset_index()).set_index("person_key")
    assert internal.loc["P1", ["birth_year", "birth_month"]].tolist() == [1950, 3]
    assert person.loc["P1", "age_band"] == "75-79"  # 76 at 2026-11
    assert conflicts_of(conflict, "P1") == {
        "date_of_birth": (2, "dcc,dchs"),
        "birth_month": (2, "dcc,dchs"),
    }


def test_birth_tie_goes_to_the_record_with_a_valid_nhs_number():
    person, _, rec = build(
        [
            record("dchs", "S1", "P1", birth=(1950, 3), nhs_number_valid=False),
            record("dcc", "M1", "P1", birth=(1951, 3), nhs_number_valid=True),
        ]
    )
    internal = person_internal(rec, person.reset_index()).set_index("person_key")
    assert internal.loc["P1", "birth_year"] == 1951


def test_age_band_at_as_of_or_at_death():
    person, _, _ = build(
        [
            record("dcc", "M1", "P1", birth=(1940, 6)),  # 86
            record("dcc", "M2", "P2", birth=(1941, 12)),  # 84: December not reached
            record("dcc", "M3", "P3", birth=(1940, 6), date_of_death="2020-01-15"),  # 79
            record("dcc", "M4", "P4", birth=None),
        ]
    )
    assert person["age_band"].tolist()[:3] == ["85-89", "80-84", "75-79"]
    assert pd.isna(person["age_band"].iloc[3])
    assert age_band([0, 4, 5, 89, 90, 104, None, -1]).tolist() == [
        "0-4", "0-4", "5-9", "85-89", "90+", "90+", None, None,
    ]  # fmt: skip
    on = pd.Series(pd.to_datetime(["2026-06-01", "2026-05-31", "2026-06-01"]))
    ages = age_from_birth_parts([1950, 1950, None], [6, 6, 6], on)
    assert ages.tolist()[:2] == [76, 75] and pd.isna(ages.iloc[2])


def test_communication_needs_of_both_organisations_are_joined():
    person, _, rec = build(
        [
            record("dcc", "M1", "P1", communication_need="Other"),
            record(
                "dchs",
                "S1",
                "P1",
                communication_need="BSL",
                interpreter_language="British Sign Language",
            ),  # fmt: skip
        ]
    )
    assert person.loc["P1", "communication_need"] == "BSL"
    assert person.loc["P1", "interpreter_language"] == "British Sign Language"
    internal = person_internal(rec, person.reset_index()).set_index("person_key")
    assert internal.loc["P1", ["comm_need_dcc", "comm_need_dchs"]].tolist() == ["Other", "BSL"]


def test_known_to_counts_probability_and_seen_dates():
    recs = [
        record("dcc", "M1", "P1", link_probability=0.991),
        record("dchs", "S1", "P1", link_probability=0.999),
        record("dcc", "M2", "P2", unpaid_carer=True),
        record("dchs", "S3", "P3"),
    ]
    events = [
        dcc_request("M1", "E1", "2025-07-01"),
        dchs_referral("S1", "R1", "therapy", "2026-02-03"),
        dcc_request("M2", "E2", "2026-01-01"),
    ]
    person, _, _ = build(recs, events)
    assert person["known_to"].tolist() == ["both", "dcc", "dchs"]
    assert person["source_record_count"].tolist() == [2, 1, 1]
    assert person.loc["P1", "min_link_probability"] == pytest.approx(0.991)
    assert person.loc["P1", "first_seen"] == pd.Timestamp("2025-07-01")
    assert person.loc["P1", "last_seen"] == pd.Timestamp("2026-02-03")
    assert pd.isna(person.loc["P3", "first_seen"])
    assert bool(person.loc["P2", "unpaid_carer"]) is True
    assert pd.isna(person.loc["P1", "unpaid_carer"])


def test_events_keyed_to_a_person_count_for_first_seen():
    """Events of a DCC Merged record carry their survivor's key when passed keyed."""
    rec, ev = frames([record("dcc", "M1", "P1")], [dcc_request("M1", "E1", "2026-03-01")])
    merged_event = ev.assign(source_record_id="M0", start_date=pd.Timestamp("2025-01-10"))
    keyed = pd.concat([ev, merged_event], ignore_index=True).assign(person_key="P1")
    person, _ = build_person(rec, keyed, as_of=AS_OF)
    assert person.loc[0, "first_seen"] == pd.Timestamp("2025-01-10")
    person, _ = build_person(rec, ev, as_of=AS_OF)
    assert person.loc[0, "first_seen"] == pd.Timestamp("2026-03-01")


def test_published_tables_hold_no_birth_parts_and_only_the_earliest_death_day():
    person, conflict, _ = build(
        [
            record("dcc", "M1", "P1", birth=(1950, 3), date_of_death="2026-06-09", sex="M"),
            record("dchs", "S1", "P1", birth=(1950, 7), date_of_death="2026-05-28", sex="F"),
        ]
    )
    assert not {"birth_year", "birth_month"} & set(person.columns)
    # the day of death is published (the measures' follow-up windows need it), the earliest
    assert person.loc["P1", "date_of_death"] == pd.Timestamp("2026-05-28")
    text = " ".join(conflict.astype(str).drop(columns="detected_on").to_numpy().ravel())
    assert not re.search(r"19[0-9]{2}|2026-0[56]", text)
    assert set(conflict["sources"]) <= {"dcc", "dchs", "dcc,dchs"}


def test_duplicate_records_are_refused():
    rec, ev = frames([record("dcc", "M1", "P1"), record("dcc", "M1", "P1")], [])
    with pytest.raises(ValueError, match="duplicate"):
        build_person(rec, ev, as_of=AS_OF)


def test_one_pass_gives_the_same_person_and_internal_tables_as_two():
    """The nightly build makes person and person_internal from one pass over the
    records; it must give exactly what the two functions give apart."""
    records = [
        record("dcc", "M1", "P1", communication_need="Other", date_of_death="2026-05-01"),
        record("dchs", "S1", "P1", communication_need="BSL", birth=(1941, 2)),
        record("dchs", "S2", "P1", birth=(1941, 2)),
        record("dcc", "M2", "P2", birth=None, sex="M"),
        record("dchs", "S3", "P3", birth=(1990, 12), date_of_death="2026-10-30"),
    ]
    rec, ev = frames(records, [dcc_request("M1", "E1", "2026-03-01")])
    person, conflict = build_person(rec, ev, as_of=AS_OF)
    expected = person_internal(rec, person)
    together = build_person_tables(rec, ev, as_of=AS_OF)
    pd.testing.assert_frame_equal(together[0], person)
    pd.testing.assert_frame_equal(together[1], conflict)
    pd.testing.assert_frame_equal(together[2], expected)
    assert expected.set_index("person_key").loc["P1", "birth_year"] == 1941
