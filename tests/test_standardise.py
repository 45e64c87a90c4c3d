"""Standardisation of landing rows: identifiers, names, dates, postcodes, codes, events."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.contracts import (
    DCC_EVENT,
    DCC_PERSON,
    DCHS_CARE_CONTACT,
    DCHS_INPATIENT_SPELL,
    DCHS_PATIENT,
    DCHS_REFERRAL,
    PROVENANCE,
    SOURCE_EVENT,
)
from transforms.standardise.address import parse_address_line, parse_postcode
from transforms.standardise.dcc_events import standardise_dcc_events
from transforms.standardise.dchs_events import (
    dchs_referral_table,
    standardise_dchs_contacts,
    standardise_dchs_events,
)
from transforms.standardise.person import (
    STD_PERSON,
    standardise_dcc_person,
    standardise_dchs_patient,
)
from transforms.standardise.text import normalise_name


def landing(columns: list[str], rows: list[dict], file: str = "f.parquet") -> pd.DataFrame:
    """Landing-shaped frame: every column text, provenance added."""
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
    frame = frame.astype("str").where(frame.notna(), None) if len(frame) else frame
    frame["_source_file"] = file
    frame["_source_row"] = [str(i + 1) for i in range(len(frame))]
    return frame[[*columns, *PROVENANCE]]


def dcc_person(**over) -> dict:
    row = {
        "la_person_id": "MOS0000001",
        "nhs_number": "943 476 5919",
        "given_name": "William",
        "family_name": "Smith",
        "date_of_birth": "1940-03-07",
        "gender": "Male",
        "ethnicity": "White: Irish",
        "postcode": "de4 3ag",
        "address_line_1": "12 Oak St.",
        "address_town": "Matlock",
        "has_unpaid_carer": "Y",
        "record_status": "Active",
    }
    return {**row, **over}


def dchs_patient(**over) -> dict:
    row = {
        "local_patient_id": "S100000001",
        "nhs_number": "9434765919",
        "nhs_number_status": "01",
        "given_name": "Bill",
        "family_name": "SMITH",
        "person_birth_date": "1940-07-03",
        "person_stated_gender_code": "1",
        "ethnic_category": "B",
        "postcode": "DE43AG",
        "address_line_1": "12 Oak Street",
        "interpreter_required": "N",
        "preferred_language": "English",
    }
    return {**row, **over}


def std_dcc(*rows: dict) -> pd.DataFrame:
    return standardise_dcc_person(landing(DCC_PERSON, list(rows)))


def std_dchs(*rows: dict) -> pd.DataFrame:
    return standardise_dchs_patient(landing(DCHS_PATIENT, list(rows)))


def test_columns_and_one_row_per_input_both_sources():
    a = std_dcc(dcc_person(), dcc_person(la_person_id="MOS0000002"))
    b = std_dchs(dchs_patient())
    assert list(a.columns) == STD_PERSON == list(b.columns)
    assert len(a) == 2 and len(b) == 1
    assert a["source"].tolist() == ["dcc", "dcc"] and b["source"].tolist() == ["dchs"]
    assert a["_source_row"].tolist() == ["1", "2"]


def test_empty_input_gives_empty_frame_with_columns():
    out = std_dcc()
    assert list(out.columns) == STD_PERSON and len(out) == 0
    ev = standardise_dcc_events(landing(DCC_EVENT, []), out)
    assert list(ev.columns) == SOURCE_EVENT and len(ev) == 0


@pytest.mark.parametrize(
    ("raw", "normalised", "valid"),
    [
        ("943 476 5919", "9434765919", True),
        ("943-476-5919", "9434765919", True),
        (" 9434765919 ", "9434765919", True),
        ("9434765918", "9434765918", False),  # fails modulus 11
        ("0000000000", "0000000000", False),  # dummy
        ("1111111111", "1111111111", False),
        ("94347659", "94347659", False),  # too short
        ("943476591X", "943476591X", False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_nhs_numbers(raw, normalised, valid):
    out = std_dcc(dcc_person(nhs_number=raw))
    got = out["nhs_number"].iloc[0]
    assert (None if pd.isna(got) else got) == normalised
    assert bool(out["nhs_number_valid"].iloc[0]) is valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("O'Brien", "O'BRIEN"),
        ("o’ brien", "O'BRIEN"),
        ("Smith-Jones", "SMITH-JONES"),
        ("Smith - Jones", "SMITH-JONES"),
        ("  José   María ", "JOSE MARIA"),
        ("Zoë", "ZOE"),
        ("Łukasz", "LUKASZ"),
        ("Straße", "STRASSE"),
        ("Siobhán", "SIOBHAN"),
        ("Дмитрий", "ДМИТРИЙ"),
        ("王芳", "王芳"),
        ("محمد", "محمد"),
        ("Mary.Jane", "MARY JANE"),
        ("=cmd|' /C calc'!A0", "CMD'C CALC'A"),
        ("Robert'); DROP TABLE person;--", "ROBERT'DROP TABLE PERSON"),
        ("Hal1", "HAL"),
        ("---", None),
        ("", None),
    ],
)
def test_name_normalisation(raw, expected):
    assert normalise_name(raw) == expected


def test_names_in_the_frame_and_hostile_text_survives_as_plain_text():
    out = std_dcc(
        dcc_person(given_name='=HYPERLINK("http://x")', family_name="'; DELETE FROM x; --"),
        dcc_person(given_name="Анна", family_name="Müller-Lüdenscheidt"),
    )
    assert out["given_name"].iloc[0] == "HYPERLINK HTTP X"
    assert out["family_name"].iloc[0] == "DELETE FROM X"
    assert out["given_name"].iloc[1] == "АННА"
    assert out["family_name"].iloc[1] == "MULLER-LUDENSCHEIDT"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1940-03-07", pd.Timestamp("1940-03-07")),
        ("1940-03-07 00:00:00", pd.Timestamp("1940-03-07")),
        ("2020-02-31", pd.NaT),
        ("2019-02-29", pd.NaT),
        ("2020-02-29", pd.Timestamp("2020-02-29")),
        ("1940-13-01", pd.NaT),
        ("07/03/1940", pd.NaT),
        ("1850-01-01", pd.NaT),  # implausible
        ("2999-01-01", pd.NaT),  # future
        ("", pd.NaT),
        (None, pd.NaT),
    ],
)
def test_dates_of_birth(raw, expected):
    got = std_dcc(dcc_person(date_of_birth=raw))["date_of_birth"].iloc[0]
    assert (pd.isna(got) and pd.isna(expected)) or got == expected


def test_impossible_death_date_is_nat_and_valid_one_kept():
    out = std_dcc(dcc_person(date_of_death="2020-02-31"), dcc_person(date_of_death="2026-01-02"))
    assert pd.isna(out["date_of_death"].iloc[0])
    assert out["date_of_death"].iloc[1] == pd.Timestamp("2026-01-02")


@pytest.mark.parametrize(
    ("raw", "full", "sector", "district"),
    [
        ("DE4 3AG", "DE4 3AG", "DE4 3", "DE4"),
        ("de43ag", "DE4 3AG", "DE4 3", "DE4"),
        ("  DE4   3AG ", "DE4 3AG", "DE4 3", "DE4"),
        ("SK17 6AB", "SK17 6AB", "SK17 6", "SK17"),
        ("EC1A 1BB", "EC1A 1BB", "EC1A 1", "EC1A"),
        ("W1A 0AX", "W1A 0AX", "W1A 0", "W1A"),
        ("DE56", None, None, "DE56"),
        ("DE56 1", None, "DE56 1", "DE56"),
        ("DE4 3", None, "DE4 3", "DE4"),
        ("DE43", None, None, "DE43"),
        ("DE4 3A", None, None, None),
        ("12345", None, None, None),
        ("=SUM(A1)", None, None, None),
        (None, None, None, None),
    ],
)
def test_postcodes(raw, full, sector, district):
    assert parse_postcode(raw) == (full, sector, district)


def test_postcode_columns_and_la_district_in_frame():
    out = std_dcc(
        dcc_person(postcode="de4 3ag"), dcc_person(postcode="S40"), dcc_person(postcode=None)
    )
    assert out["postcode"].iloc[0] == "DE4 3AG"
    assert out["district"].iloc[0] == "Derbyshire Dales"
    assert pd.isna(out["postcode"].iloc[1]) and out["postcode_district"].iloc[1] == "S40"
    assert out["district"].iloc[1] == "Chesterfield"
    assert pd.isna(out["district"].iloc[2]) and pd.isna(out["postcode_district"].iloc[2])


@pytest.mark.parametrize(
    ("raw", "number", "street"),
    [
        ("12 Oak St.", "12", "OAK STREET"),
        ("12a Oak Street", "12A", "OAK STREET"),
        ("Flat 3 14 High Rd", "14", "HIGH ROAD"),
        ("Rose Cottage, Main Street", None, "ROSE COTTAGE MAIN STREET"),
        ("St John's Close", None, "ST JOHN'S CLOSE"),
        (None, None, None),
    ],
)
def test_address_line_parsing(raw, number, street):
    assert parse_address_line(raw) == (number, street)


def test_address_norm_is_common_to_both_sources():
    a = std_dcc(dcc_person())
    b = std_dchs(dchs_patient())
    assert a["address_norm"].iloc[0] == b["address_norm"].iloc[0] == "12 OAK STREET DE4 3AG"


def test_sex_ethnicity_carer_and_status():
    a = std_dcc(
        dcc_person(gender="Female", ethnicity="Asian, Asian British or Asian Welsh: Chinese"),
        dcc_person(gender="Other", ethnicity="Refused", has_unpaid_carer="N"),
        dcc_person(gender=None, ethnicity=None, has_unpaid_carer="U", record_status="Merged",
                   merged_into_id="MOS0000009"),
    )  # fmt: skip
    assert a["sex"].tolist() == ["F", "X", "U"]
    assert a["ethnicity_group"].tolist() == ["Asian", "Not stated", "Not stated"]
    assert a["unpaid_carer"].tolist()[:2] == [True, False] and pd.isna(a["unpaid_carer"].iloc[2])
    assert a["record_status"].tolist() == ["Active", "Active", "Merged"]
    assert a["merged_into_record_id"].iloc[2] == "MOS0000009"
    b = std_dchs(
        dchs_patient(person_stated_gender_code="2", ethnic_category="R"),
        dchs_patient(person_stated_gender_code="9", ethnic_category="99"),
        dchs_patient(person_stated_gender_code="X", ethnic_category="N"),
    )
    assert b["sex"].tolist() == ["F", "X", "U"]
    assert b["ethnicity_group"].tolist() == ["Asian", "Not stated", "Black"]
    assert b["record_status"].tolist() == ["Active"] * 3 and b["unpaid_carer"].isna().all()


def test_communication_needs():
    a = std_dcc(
        dcc_person(communication_needs="BSL interpreter"),
        dcc_person(communication_needs="Interpreter: Polish"),
        dcc_person(communication_needs="Large print"),
        dcc_person(communication_needs="Interpreter: call daughter Jane 07700900123"),
        dcc_person(communication_needs=None),
        dcc_person(communication_needs="Urdu interpreter needed"),
        dcc_person(communication_needs="Interpreter"),
    )
    assert a["communication_need"].tolist()[:4] == ["BSL", "Interpreter", "Other", "Interpreter"]
    assert pd.isna(a["communication_need"].iloc[4])
    langs = a["interpreter_language"].tolist()
    assert langs[:2] == ["British Sign Language", "Polish"]
    assert langs[3] == "Other"  # free text never leaves as a language
    assert langs[5] == "Urdu" and pd.isna(langs[6])
    b = std_dchs(
        dchs_patient(interpreter_required="Y", preferred_language="British Sign Language"),
        dchs_patient(interpreter_required="Y", preferred_language="polish"),
        dchs_patient(interpreter_required="N", preferred_language="English"),
        dchs_patient(interpreter_required="Y", preferred_language=None),
    )
    assert b["communication_need"].tolist()[:2] == ["BSL", "Interpreter"]
    assert pd.isna(b["communication_need"].iloc[2])
    assert b["communication_need"].iloc[3] == "Interpreter"
    assert b["interpreter_language"].tolist()[:2] == ["British Sign Language", "Polish"]


# ----------------------------------------------------------------------------- events
def dcc_event(**over) -> dict:
    row = {
        "event_reference": "EV1",
        "la_person_id": "MOS0000001",
        "event_type": "Service",
        "event_start_date": "2025-03-07",
        "event_end_date": "2025-03-20",
        "event_outcome": "NFA - Support ended as planned",
        "team": "START",
        "service_type": "Short Term Support: ST-Max",
        "service_component": "Reablement",
    }
    return {**row, **over}


def test_dcc_events_vocabulary_and_age():
    people = std_dcc(dcc_person())  # born 1940-03-07
    events = landing(
        DCC_EVENT,
        [
            dcc_event(),
            dcc_event(event_reference="EV2", team="CSB-DARLEY",
                      service_component="Short term residential care", event_start_date="2025-03-06"),
            dcc_event(event_reference="EV3", team="ASC-DALES",
                      service_type="Long Term Support: Residential Care",
                      service_component="Long term residential care", event_outcome=None),
            dcc_event(event_reference="EV4", team="ASC-DALES",
                      service_type="Long Term Support: Nursing Care",
                      service_component="Long term nursing care"),
            dcc_event(event_reference="EV5", event_type="Request", team="HOSPITAL-SW",
                      service_type=None, service_component=None,
                      request_route_of_access="Discharge from Hospital",
                      event_outcome="Progress to Reablement/ST-Max"),
            dcc_event(event_reference="EV6", la_person_id="MOS_UNKNOWN", event_start_date="2020-02-31"),
        ],
    )  # fmt: skip
    out = standardise_dcc_events(events, people)
    assert list(out.columns) == SOURCE_EVENT and len(out) == 6
    assert out["source_event_id"].tolist() == ["EV1", "EV2", "EV3", "EV4", "EV5", "EV6"]
    assert out["organisation"].unique().tolist() == ["DCC"]
    assert out["service_category"].tolist()[:4] == [
        "reablement", "st_max_bed", "long_term_residential", "long_term_nursing"
    ]  # fmt: skip
    assert pd.isna(out["service_category"].iloc[4])
    assert out["setting"].tolist()[:5] == [
        "home", "community_support_bed", "care_home", "care_home", "hospital"
    ]  # fmt: skip
    assert out["event_type"].tolist()[4] == "request"
    assert out["route_of_access"].iloc[4] == "discharge_from_hospital"
    assert out["outcome"].iloc[4] == "progress_to_reablement"
    assert out["outcome"].iloc[0] == "ended_as_planned"
    ages = out["age_at_event"].tolist()
    assert ages[0] == 85 and ages[1] == 84  # birthday on the day counts; the day before not
    assert pd.isna(ages[5]) and pd.isna(out["start_date"].iloc[5])


def test_dchs_events_vocabulary_ids_and_contact_category_from_referral():
    people = std_dchs(dchs_patient())  # born 1940-07-03
    referrals = landing(
        DCHS_REFERRAL,
        [
            {"service_request_id": "SR1", "local_patient_id": "S100000001",
             "referral_received_date": "2025-07-03", "source_of_referral": "H2",
             "priority_type_code": "2", "team_type_code": "52"},
            {"service_request_id": "SR2", "local_patient_id": "S100000001",
             "referral_received_date": "2025-07-01", "source_of_referral": "A1",
             "priority_type_code": "1", "team_type_code": "51",
             "service_discharge_date": "2025-07-09"},
        ] + [
            {"service_request_id": f"SR{t}", "local_patient_id": "S100000001",
             "referral_received_date": "2025-07-01", "team_type_code": t}
            for t in ("53", "54", "DN", "TH", "ZZ")
        ],
    )  # fmt: skip
    contacts = landing(
        DCHS_CARE_CONTACT,
        [
            {"service_request_id": "SR1", "care_contact_id": "C1", "local_patient_id": "S100000001",
             "care_contact_date": "2025-07-04", "activity_location_type_code": "A01",
             "attended_or_did_not_attend": "5"},
            {"service_request_id": "SR_OLD", "care_contact_id": "C2",
             "local_patient_id": "S100000001", "care_contact_date": "2025-07-05",
             "attended_or_did_not_attend": "3"},
            {"service_request_id": "SR_GONE", "care_contact_id": "C3",
             "local_patient_id": "S100000001", "care_contact_date": "2025-07-05"},
        ],
    )  # fmt: skip
    spells = landing(
        DCHS_INPATIENT_SPELL,
        [
            {"hospital_provider_spell_number": "SP1", "local_patient_id": "S100000001",
             "admission_date": "2025-06-01", "admission_source_code": "51",
             "discharge_date": "2025-06-20", "discharge_method_code": "1",
             "discharge_destination_code": "19", "discharge_pathway": "2"},
            {"hospital_provider_spell_number": "SP2", "local_patient_id": "S100000001",
             "admission_date": "2025-08-01", "admission_source_code": "19",
             "discharge_date": "2025-08-09", "discharge_method_code": "4",
             "discharge_destination_code": "79"},
            {"hospital_provider_spell_number": "SP3", "local_patient_id": "S100000001",
             "admission_date": "2025-09-01", "discharge_destination_code": "98"},
        ],
    )  # fmt: skip
    previous = pd.DataFrame(
        {"source": ["dchs"], "source_event_id": ["ref:SR_OLD"],
         "service_category": ["crisis_response"], "setting": ["home"]}
    )  # fmt: skip
    out = standardise_dchs_events(referrals, contacts, spells, people, previous_events=previous)
    assert list(out.columns) == SOURCE_EVENT and len(out) == 7 + 3 + 3
    # the nightly step standardises contacts in batches: the same rows, batch by batch
    table = dchs_referral_table(referrals, previous)
    batches = pd.concat(
        [standardise_dchs_contacts(contacts.iloc[i : i + 2], table, people) for i in (0, 2)],
        ignore_index=True,
    )
    whole = out[out["event_type"] == "contact"].reset_index(drop=True)
    pd.testing.assert_frame_equal(batches, whole)
    by_id = out.set_index("source_event_id")
    assert by_id.loc["ref:SR1", "service_category"] == "reablement"
    assert by_id.loc["ref:SR1", "route_of_access"] == "discharge_from_hospital"
    cats = by_id.loc[
        [f"ref:SR{t}" for t in ("2", "53", "54", "DN", "TH", "ZZ")], "service_category"
    ]
    assert cats.tolist() == [
        "crisis_response", "home_intermediate_care", "bed_intermediate_care",
        "district_nursing", "therapy", "other",
    ]  # fmt: skip
    assert by_id.loc["ref:SR2", "outcome"] == "discharged"
    assert by_id.loc["con:SR1:C1", "service_category"] == "reablement"
    assert by_id.loc["con:SR1:C1", "setting"] == "home"
    assert by_id.loc["con:SR1:C1", "outcome"] == "attended"
    assert by_id.loc["con:SR_OLD:C2", "service_category"] == "crisis_response"
    assert by_id.loc["con:SR_OLD:C2", "outcome"] == "did_not_attend"
    assert by_id.loc["con:SR_GONE:C3", "service_category"] == "other"
    sp1 = by_id.loc["spell:SP1"]
    assert sp1["setting"] == "community_hospital"
    assert sp1["service_category"] == "bed_intermediate_care"
    assert sp1["pathway"] == 2 and sp1["outcome"] == "usual_residence"
    assert sp1["discharge_destination_code"] == "19"
    assert sp1["route_of_access"] == "discharge_from_hospital"
    assert by_id.loc["spell:SP2", "outcome"] == "died"
    assert pd.isna(by_id.loc["spell:SP3", "outcome"]) and pd.isna(
        by_id.loc["spell:SP3", "end_date"]
    )
    assert by_id.loc["ref:SR1", "age_at_event"] == 85
    assert by_id.loc["ref:SR2", "age_at_event"] == 84
    assert out["organisation"].unique().tolist() == ["DCHS"]
