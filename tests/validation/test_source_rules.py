"""Every row rule of every source suite, each failed by a fixture row of its own.

Each table gets one valid batch (1,000+ rows, so the full batch thresholds apply) with
known defects injected into known rows. The test checks that exactly those rows are
quarantined (error rules) or reported (warning rules), by exactly the expected rules,
and that every other row passes untouched.
"""

from __future__ import annotations

import pandas as pd

from tests.validation import factory
from transforms.validation import validate_source_table
from transforms.validation.engine import expectations_of, load_suite

N = 1000


def _set(**values):
    def apply(frame, row):
        for column, value in values.items():
            frame.loc[row, column] = value

    return apply


def _copy_from(offset: int, columns: list[str], **also):
    """Row takes ``columns`` from the row ``offset`` before it (and ``also``)."""

    def apply(frame, row):
        for column in columns:
            frame.loc[row, column] = frame.loc[row - offset, column]
        for column, value in also.items():
            frame.loc[row, column] = value

    apply.offset = offset
    return apply


def _merged_pair():
    """Row and the row before it merged into each other."""

    def apply(frame, row):
        for this, other in ((row, row - 1), (row - 1, row)):
            frame.loc[this, "record_status"] = "Merged"
            frame.loc[this, "merged_into_id"] = frame.loc[other, "la_person_id"]

    apply.offset = 1
    return apply


# (mutation, rules expected on the mutated row). A mutation given as (mutation, rules,
# partner_rules) also marks the row ``offset`` before it (duplicates).
DCC_PERSON = [
    (_set(la_person_id=None), {"la_person_id_present"}),
    (_copy_from(1, ["la_person_id"]), {"la_person_id_unique"}, {"la_person_id_unique"}),
    (_set(record_status=None), {"record_status_present"}),
    (_set(record_status="Deleted"), {"record_status_code"}),
    (_set(record_status="Merged", merged_into_id=None), {"merged_into_required"}),
    (_set(record_status="Merged", merged_into_id="MOS0000000"), set()),
    (_set(record_status="Merged", merged_into_id="MOS9999999"), {"merge_target_exists"}),
    (_set(record_status="Merged", merged_into_id="MOS8000001"), set()),  # earlier nights'
    (_merged_pair(), {"merge_not_cyclic"}, {"merge_not_cyclic"}),
    (_set(nhs_number="1234567890"), {"nhs_number_valid"}),
    (_set(nhs_number=factory.invalid_check_digit_10()), {"nhs_number_valid"}),
    (_set(nhs_number="1111111111"), {"nhs_number_valid"}),
    (_set(nhs_number="12345"), {"nhs_number_valid"}),
    (_set(nhs_number="943 476 5919"), set()),
    (_set(nhs_number="943-476-5919"), set()),
    (_set(nhs_number=None), set()),
    (_set(date_of_birth=None), {"date_of_birth_present"}),
    (_set(date_of_birth="1950-02-30"), {"date_of_birth_format"}),
    (_set(date_of_birth="2099-01-01"), {"date_of_birth_not_future"}),
    (_set(date_of_birth="1890-01-01"), {"age_in_range"}),
    (_set(date_of_birth="1890-01-01", date_of_death="1990-01-01"), set()),
    (_set(date_of_death="2020-13-01"), {"date_of_death_format"}),
    (_set(date_of_death="2099-01-01"), {"date_of_death_not_future"}),
    (_set(date_of_birth="1950-01-01", date_of_death="1940-01-01"), {"death_not_before_birth"}),
    (_set(last_updated="yesterday"), {"last_updated_format"}),
    (_set(gender="F"), {"gender_code"}),
    (_set(ethnicity="Martian"), {"ethnicity_code"}),
    (_set(primary_support_reason="X"), {"primary_support_reason_code"}),
    (_set(accommodation_status="Castle"), {"accommodation_status_code"}),
    (_set(has_unpaid_carer="Maybe"), {"has_unpaid_carer_code"}),
    (_set(client_type="Alien"), {"client_type_code"}),
    (_set(client_funding_status="Free"), {"client_funding_status_code"}),
    (_set(postcode="DE4"), {"postcode_format"}),
    (_set(postcode="DE4 3"), {"postcode_format"}),
    (_set(postcode="not a postcode"), {"postcode_format"}),
    (_set(postcode="de4  3ag"), set()),
    (_set(gp_practice_code="123456"), {"gp_practice_code_format"}),
]

_OPEN = dict(event_end_date=None, event_outcome=None)
DCC_EVENT = [
    # rows are chosen so that row % 4 gives the type: 0 Request, 1 Assessment, 2 Service, 3 Review
    (0, _set(event_reference=None), {"event_reference_present"}),
    (1, _copy_from(4, ["event_reference"]), {"event_reference_unique"}, {"event_reference_unique"}),
    (2, _set(la_person_id=None), {"la_person_id_present"}),
    (3, _set(la_person_id="MOS9999999"), {"person_exists"}),
    (0, _set(event_type=None), {"event_type_present"}),
    (1, _set(event_type="Visit"), {"event_type_code"}),
    (2, _set(event_start_date=None), {"event_start_date_present"}),
    (3, _set(event_start_date="2026-02-31"), {"event_start_date_format"}),
    (0, _set(event_end_date="31/01/2026"), {"event_end_date_format"}),
    (1, _set(event_end_date="2020-01-01"), {"end_not_before_start"}),
    (2, _set(event_end_date=None), {"end_date_missing_only_when_open"}),
    (2, _set(**_OPEN), set()),
    (1, _set(**_OPEN), set()),
    (3, "dies", {"start_not_after_death"}),
    (0, _set(event_outcome="Great"), {"event_outcome_code"}),
    (0, _set(request_route_of_access=None), {"request_route_of_access_required"}),
    (0, _set(request_route_of_access="Walk-in"), {"request_route_of_access_code"}),
    (1, _set(assessment_type=None), {"assessment_type_required"}),
    (1, _set(assessment_type="Quick"), {"assessment_type_code"}),
    (2, _set(service_type=None), {"service_type_required"}),
    (2, _set(service_component=None), {"service_component_required"}),
    (2, _set(service_type="Magic"), {"service_type_code"}),
    (2, _set(service_component="Massage"), {"service_component_code"}),
    (2, _set(delivery_mechanism="Cash"), {"delivery_mechanism_code"}),
    (3, _set(review_reason=None), {"review_reason_required"}),
    (3, _set(review_reason="Whim"), {"review_reason_code"}),
    (
        2,
        _copy_from(
            4,
            [
                "la_person_id",
                "event_start_date",
                "service_type",
                "service_component",
                "delivery_mechanism",
            ],
            last_updated="2026-09-01 00:00:00",
        ),
        {"duplicate_event"},
        set(),
    ),  # fmt: skip
    (2, _set(team="Team X"), {"team_convention"}),
    (2, _set(team="CSB-ASHBOURNE"), set()),
    (0, _set(last_updated="2026-13-01 00:00:00"), {"last_updated_format"}),
]

DCHS_PATIENT = [
    (_set(local_patient_id=None), {"local_patient_id_present"}),
    (_copy_from(1, ["local_patient_id"]), {"local_patient_id_unique"}, {"local_patient_id_unique"}),
    (_copy_from(1, ["local_patient_id"], _source_file="dchs/2026-11-02/patient.csv"), set(), set()),
    (_set(nhs_number="9434765918"), {"nhs_number_valid", "nhs_number_status_consistent"}),
    (_set(nhs_number="9434765918", nhs_number_status="02"), {"nhs_number_valid"}),
    (_set(nhs_number_status="09"), {"nhs_number_status_code"}),
    (_set(nhs_number=None), {"nhs_number_status_consistent"}),
    (_set(nhs_number=None, nhs_number_status="03"), set()),
    (_set(person_birth_date=None), {"person_birth_date_present"}),
    (_set(person_birth_date="1970-02-29"), {"person_birth_date_format"}),
    (_set(person_birth_date="2099-05-05"), {"person_birth_date_not_future"}),
    (_set(person_birth_date="1900-01-01"), {"age_in_range"}),
    (_set(person_death_date="tomorrow"), {"person_death_date_format"}),
    (_set(person_death_date="2099-05-05"), {"person_death_date_not_future"}),
    (
        _set(person_birth_date="1960-01-01", person_death_date="1959-12-31"),
        {"death_not_before_birth"},
    ),
    (_set(person_stated_gender_code="M"), {"person_stated_gender_code"}),
    (_set(ethnic_category="Q"), {"ethnic_category_code"}),
    (_set(postcode="S41 7"), {"postcode_format"}),
    (_set(gp_practice_code="C8100"), {"gp_practice_code_format"}),
    (_set(interpreter_required="Yes"), {"interpreter_required_code"}),
]

DCHS_REFERRAL = [
    (_set(service_request_id=None), {"service_request_id_present"}),
    (
        _copy_from(1, ["service_request_id"]),
        {"service_request_id_unique"},
        {"service_request_id_unique"},
    ),
    (_set(local_patient_id=None), {"local_patient_id_present"}),
    (_set(local_patient_id="S199999999"), {"person_exists"}),
    (_set(referral_received_date=None), {"referral_received_date_present"}),
    (_set(referral_received_date="2026-00-10"), {"referral_received_date_format"}),
    (_set(service_discharge_date="01/02/2026"), {"service_discharge_date_format"}),
    (
        _set(referral_received_date="2026-03-01", service_discharge_date="2026-02-01"),
        {"discharge_not_before_referral"},
    ),
    (_set(team_type_code=None), {"team_type_code_present"}),
    (_set(team_type_code="99"), {"team_type_code"}),
    (_set(source_of_referral="Z9"), {"source_of_referral_code"}),
    (_set(priority_type_code="4"), {"priority_type_code"}),
]

DCHS_CARE_CONTACT = [
    (_set(service_request_id=None), {"service_request_id_present"}),
    (_set(care_contact_id=None), {"care_contact_id_present"}),
    (
        _copy_from(1, ["service_request_id", "care_contact_id", "local_patient_id"]),
        {"contact_key_unique"},
        {"contact_key_unique"},
    ),
    (_set(local_patient_id=None), {"local_patient_id_present"}),
    (_set(local_patient_id="S199999999"), {"person_exists"}),
    (_set(care_contact_date=None), {"care_contact_date_present"}),
    (_set(care_contact_date="2026/01/01"), {"care_contact_date_format"}),
    (_set(care_contact_date="2000-01-01"), {"contact_not_before_referral"}),
    (_set(service_request_id="SR9999999999"), {"referral_exists"}),
    (_set(clinical_contact_duration_minutes="abc"), {"duration_numeric"}),
    (_set(clinical_contact_duration_minutes="2000"), {"duration_in_range"}),
    (_set(clinical_contact_duration_minutes="-5"), {"duration_in_range"}),
    (_set(clinical_contact_duration_minutes="1440"), set()),
    (_set(clinical_contact_duration_minutes=None), {"duration_recorded_when_attended"}),
    (_set(clinical_contact_duration_minutes=None, attended_or_did_not_attend="3"), set()),
    (_set(attended_or_did_not_attend="8"), {"attended_or_did_not_attend_code"}),
    (_set(consultation_mechanism="99"), {"consultation_mechanism_code"}),
    (_set(activity_location_type_code="Z99"), {"activity_location_type_code"}),
]

_CLOSED = dict(
    discharge_date="2026-03-01", discharge_method_code="1", discharge_destination_code="19"
)
DCHS_INPATIENT_SPELL = [
    (_set(hospital_provider_spell_number=None), {"spell_number_present"}),
    (
        _copy_from(1, ["hospital_provider_spell_number"]),
        {"spell_number_unique"},
        {"spell_number_unique"},
    ),
    (_set(local_patient_id=None), {"local_patient_id_present"}),
    (_set(local_patient_id="S199999999"), {"person_exists"}),
    (_set(admission_date=None), {"admission_date_present"}),
    (_set(admission_date="2026-01-32"), {"admission_date_format"}),
    (_set(discharge_date="2026-01-32"), {"discharge_date_format"}),
    (_set(admission_date="2026-04-01", **_CLOSED), {"discharge_not_before_admission"}),
    (_set(admission_method_code="99"), {"admission_method_code"}),
    (_set(admission_source_code="99"), {"admission_source_code"}),
    (_set(discharge_method_code="7"), {"discharge_method_code"}),
    (_set(discharge_destination_code="00"), {"discharge_destination_code"}),
    (_set(discharge_pathway="4"), {"discharge_pathway_code"}),
    (_set(discharge_method_code="4"), {"died_method_destination"}),
    (_set(discharge_destination_code="79"), {"died_method_destination"}),
    (_set(discharge_method_code="4", discharge_destination_code="79"), set()),
    (_set(discharge_method_code=None), {"closed_spell_discharge_fields"}),
    (_set(discharge_destination_code="98"), {"closed_spell_discharge_fields"}),
    (
        _set(discharge_date=None, discharge_method_code="1", discharge_destination_code="98"),
        {"open_spell_discharge_fields"},
    ),
    (
        _set(discharge_date=None, discharge_method_code=None, discharge_destination_code="19"),
        {"open_spell_discharge_fields"},
    ),
    (_set(discharge_date=None, discharge_method_code=None, discharge_destination_code=None), set()),
]


def _inject(frame: pd.DataFrame, defects, pick_row) -> dict[int, set]:
    """Apply each defect ``(mutate, rules[, partner_rules])`` to its own row; returns
    row -> expected rules (a partner is the row a duplicate was copied from)."""
    expected: dict[int, set] = {}
    for k, (mutate, rules, *partner) in enumerate(defects):
        row = pick_row(k)
        mutate(frame, row)
        expected[row] = set(rules)
        if partner:
            expected[row - mutate.offset] = set(partner[0])
    return expected


def _found(outcome, frame: pd.DataFrame) -> tuple[dict[int, set], set[int]]:
    where = {
        (f, r): i
        for i, (f, r) in enumerate(zip(frame["_source_file"], frame["_source_row"], strict=True))
    }
    found: dict[int, set] = {}
    for part in (outcome.quarantine, outcome.findings):
        for f, r, rule in zip(part["source_file"], part["source_row"], part["rule"], strict=True):
            found.setdefault(where[(f, r)], set()).add(rule)
    quarantined = {
        where[(f, r)]
        for f, r in zip(outcome.quarantine.source_file, outcome.quarantine.source_row, strict=True)
    }
    return found, quarantined


def _check(name, frame, expected, context, docs_dir):
    outcome = validate_source_table(
        name, frame.copy(), run_id="rules", docs_dir=docs_dir, context=context
    )
    found, quarantined = _found(outcome, frame)
    severity = {e.rule: e.severity for e in expectations_of(load_suite(name))}
    for row, rules in expected.items():
        assert found.get(row, set()) == rules, (name, row, frame.iloc[row].to_dict())
    stray = {row: rules for row, rules in found.items() if row not in expected}
    assert stray == {}, f"{name}: rules fired on untouched rows: {stray}"
    should_quarantine = {
        row for row, rules in expected.items() if any(severity[r] == "error" for r in rules)
    }
    assert quarantined == should_quarantine
    assert len(outcome.clean) == len(frame) - len(should_quarantine)
    assert outcome.summary["rows_quarantined"] == len(should_quarantine)
    assert set(outcome.quarantine.severity) <= {"error"}
    assert set(outcome.findings.severity) <= {"warning"}
    assert outcome.batch_breaches == [], outcome.batch_breaches
    # clean is the input minus the quarantined rows, values and dtypes untouched
    pd.testing.assert_frame_equal(
        outcome.clean, frame.drop(index=sorted(should_quarantine)).reset_index(drop=True)
    )
    assert outcome.summary["success"] is True and outcome.summary["rules_evaluated"] > 10
    return outcome, severity


def _covered(name: str, rule_sets) -> None:
    row_rules = {
        e.rule for e in expectations_of(load_suite(name)) if e.severity in ("error", "warning")
    }
    tested = set().union(*[set(r) for r in rule_sets])
    assert row_rules - tested == set(), f"{name}: rules without a failing fixture"


def _rule_sets(defects):
    return [r for _mutate, *sets in defects for r in sets]


def _person_ids(frame, column):
    return set(frame[column].dropna())


#: Earlier nights' DCC records: MOS8000001 merged into MOS8000000, which is active.
EARLIER_DCC = {
    "person_ids": pd.Index(["MOS8000000", "MOS8000001"]),
    "merged_into": pd.Series([None, "MOS8000000"], index=["MOS8000000", "MOS8000001"]),
}


def test_dcc_person_rules(docs_dir):
    frame = factory.dcc_person(N)
    expected = _inject(frame, DCC_PERSON, lambda k: 10 + 7 * k)
    _covered("dcc_person", _rule_sets(DCC_PERSON))
    _check("dcc_person", frame, expected, EARLIER_DCC, docs_dir)


# ------------------------------------------------------------------------ DCC merges
def _merges(docs_dir, merges: dict[int, str | None], context: dict, renamed=None):
    """Twelve dcc_person rows ``MOS<i>`` (or as ``renamed``, row -> id) merged as given
    (row -> target id); returns record id -> the rules that quarantined it, and the
    clean ids."""
    frame = factory.dcc_person(12)
    for row, pid in (renamed or {}).items():
        frame.loc[row, ["la_person_id", "_source_row"]] = pid
    for row, target in merges.items():
        frame.loc[row, "record_status"] = "Merged"
        frame.loc[row, "merged_into_id"] = target
    outcome = validate_source_table("dcc_person", frame, run_id="m", docs_dir=docs_dir,
                                    context=context)  # fmt: skip
    found: dict[str, set] = {}
    for rid, rule in zip(outcome.quarantine.source_record_id, outcome.quarantine.rule, strict=True):
        found.setdefault(rid, set()).add(rule)
    assert set(outcome.quarantine.severity) <= {"error"}
    for text in outcome.quarantine.description:
        assert "MOS" not in text
    return found, set(outcome.clean.la_person_id)


def _id(i: int) -> str:
    return f"MOS{i:07d}"


def test_a_merge_into_a_missing_record_is_quarantined(docs_dir):
    """1 -> a record that never existed; 2 -> 1 (upstream of the gap); 3 -> 4, which is
    merged into nothing (4 fails merged_into_required, 3 cannot reach a survivor)."""
    found, clean = _merges(docs_dir, {1: "MOS9999999", 2: _id(1), 3: _id(4), 4: None}, EARLIER_DCC)
    assert found == {
        _id(1): {"merge_target_exists"},
        _id(2): {"merge_target_exists"},
        _id(3): {"merge_target_exists"},
        _id(4): {"merged_into_required"},
    }
    assert clean == {_id(i) for i in (0, *range(5, 12))}


def test_merge_cycles_are_quarantined(docs_dir):
    """A 2-cycle (1 <-> 2), a 3-cycle (3 -> 4 -> 5 -> 3), a record merged into the
    3-cycle (6 -> 3), and a loop through an earlier night (7 -> MOS8000002 -> 7)."""
    context = {
        "person_ids": pd.Index(["MOS8000002"]),
        "merged_into": pd.Series([_id(7)], index=["MOS8000002"]),
    }
    merges = {1: _id(2), 2: _id(1), 3: _id(4), 4: _id(5), 5: _id(3), 6: _id(3),
              7: "MOS8000002"}  # fmt: skip
    found, clean = _merges(docs_dir, merges, context)
    assert found == {_id(i): {"merge_not_cyclic"} for i in range(1, 8)}
    assert clean == {_id(i) for i in (0, *range(8, 12))}


def test_a_merge_into_an_earlier_nights_record_passes(docs_dir):
    """1 -> MOS8000000 (active, known from an earlier night) and 2 -> MOS8000001 (merged
    into MOS8000000 earlier) pass; 3 -> MOS8000003 is known nowhere. Without earlier
    nights (a first night) 1 and 2 name nothing known."""
    merges = {1: "MOS8000000", 2: "MOS8000001", 3: "MOS8000003"}
    found, clean = _merges(docs_dir, merges, EARLIER_DCC)
    assert found == {_id(3): {"merge_target_exists"}}
    assert {_id(1), _id(2)} <= clean
    first_night = {
        "person_ids": pd.Index([], dtype="str"),
        "merged_into": pd.Series([], dtype="str"),
    }
    found, _clean = _merges(docs_dir, merges, first_night)
    assert found == {_id(i): {"merge_target_exists"} for i in (1, 2, 3)}


def test_a_merge_chain_ending_at_an_active_record_passes(docs_dir):
    """1 -> 2 -> 3 (active) passes; 4 -> 5 -> 6 -> MOS9999999 fails whole. Tonight's rows
    win over earlier nights': MOS8000001, merged earlier, is active again tonight, so
    7 -> MOS8000001 passes even though MOS8000000 it was merged into is not known."""
    earlier = {"person_ids": pd.Index(["MOS8000001"]),
               "merged_into": pd.Series(["MOS8000000"], index=["MOS8000001"])}  # fmt: skip
    merges = {1: _id(2), 2: _id(3), 4: _id(5), 5: _id(6), 6: "MOS9999999", 7: "MOS8000001"}
    found, clean = _merges(docs_dir, merges, earlier, renamed={11: "MOS8000001"})
    assert found == {_id(i): {"merge_target_exists"} for i in (4, 5, 6)}
    assert {_id(1), _id(2), _id(3), _id(7), "MOS8000001"} <= clean


def test_dcc_event_rules(docs_dir):
    frame = factory.dcc_event(N, persons=N)
    deaths = factory.no_deaths()
    expected: dict[int, set] = {}
    for k, (kind, mutate, rules, *partner) in enumerate(DCC_EVENT):
        row = 40 + 8 * k + kind  # row % 4 is the event type the defect needs
        if mutate == "dies":
            start = pd.Timestamp(frame.loc[row, "event_start_date"])
            deaths = pd.Series(
                [start - pd.Timedelta(days=3)], index=[frame.loc[row, "la_person_id"]]
            )
        else:
            mutate(frame, row)
        expected[row] = set(rules)
        if partner:
            expected[row - mutate.offset] = set(partner[0])
    _covered("dcc_event", [r for _k, _m, *sets in DCC_EVENT for r in sets])
    context = {"person_ids": {f"MOS{i:07d}" for i in range(N)}, "death_dates": deaths}
    _check("dcc_event", frame, expected, context, docs_dir)


def test_dchs_patient_rules(docs_dir):
    frame = factory.dchs_patient(N)
    expected = _inject(frame, DCHS_PATIENT, lambda k: 10 + 7 * k)
    _covered("dchs_patient", _rule_sets(DCHS_PATIENT))
    _check("dchs_patient", frame, expected, {}, docs_dir)


def _dchs_context(patients: int, referrals: pd.DataFrame | None = None) -> dict:
    context = {"person_ids": {f"S1{i:08d}" for i in range(patients)}}
    if referrals is not None:
        context["referral_dates"] = factory.referral_dates(referrals)
    return context


def test_dchs_referral_rules(docs_dir):
    frame = factory.dchs_referral(N, patients=N)
    expected = _inject(frame, DCHS_REFERRAL, lambda k: 10 + 7 * k)
    _covered("dchs_referral", _rule_sets(DCHS_REFERRAL))
    _check("dchs_referral", frame, expected, _dchs_context(N), docs_dir)


def test_dchs_care_contact_rules(docs_dir):
    referrals = factory.dchs_referral(N, patients=N)
    frame = factory.dchs_care_contact(N, referrals=N, patients=N)
    expected = _inject(frame, DCHS_CARE_CONTACT, lambda k: 10 + 7 * k)
    _covered("dchs_care_contact", _rule_sets(DCHS_CARE_CONTACT))
    _check("dchs_care_contact", frame, expected, _dchs_context(N, referrals), docs_dir)


def test_dchs_inpatient_spell_rules(docs_dir):
    frame = factory.dchs_inpatient_spell(N, patients=N)
    # closed spells are the rows not divisible by 5; open-spell defects reopen one
    expected = _inject(frame, DCHS_INPATIENT_SPELL, lambda k: 11 + 10 * k)
    _covered("dchs_inpatient_spell", _rule_sets(DCHS_INPATIENT_SPELL))
    _check("dchs_inpatient_spell", frame, expected, _dchs_context(N), docs_dir)


def test_the_nightly_context_follows_merges_into_earlier_nights_state(docs_dir):
    """source_context.suite_context hands the dcc_person suite last night's DCC ids and
    merges from the tokens state (person_record columns): 1 -> MOS8000001 -> MOS8000000
    passes; 2 -> MOS8000002 loops back (MOS8000002 was merged into 2); a DCHS id is not a
    DCC person."""
    from transforms.validation.source_context import suite_context

    prev_people = pd.DataFrame({
        "source": ["dcc", "dcc", "dcc", "dchs"],
        "source_record_id": ["MOS8000000", "MOS8000001", "MOS8000002", "S100000000"],
        "date_of_death": pd.NaT,
        "record_status": ["Active", "Merged", "Merged", "Active"],
        "merged_into_record_id": [None, "MOS8000000", _id(2), None],
    })  # fmt: skip
    context = suite_context("dcc_person", {}, prev_people, None)
    merges = {1: "MOS8000001", 2: "MOS8000002", 3: "S100000000"}
    found, clean = _merges(docs_dir, merges, context)
    assert found == {_id(2): {"merge_not_cyclic"}, _id(3): {"merge_target_exists"}}
    assert _id(1) in clean
    first_night = suite_context("dcc_person", {}, None, None)
    found, _clean = _merges(docs_dir, merges, first_night)
    assert found == {_id(i): {"merge_target_exists"} for i in (1, 2, 3)}
