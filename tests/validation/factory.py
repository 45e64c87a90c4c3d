"""Valid landing and output frames for the validation tests, and ways to break them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms import codes, contracts

BASE = pd.Timestamp("2023-06-01")


def nhs_number(i: int) -> str:
    """A valid NHS number, different for each ``i``."""
    n = 400_000_000 + i * 7
    while True:
        prefix = f"{n:09d}"
        check = codes.nhs_number_check_digit(prefix)
        if check is not None and len(set(prefix + str(check))) > 1:
            return prefix + str(check)
        n += 1


def invalid_check_digit_10() -> str:
    """Ten digits whose first nine give a check digit of 10 (no last digit is valid)."""
    n = 400_000_000
    while codes.nhs_number_check_digit(f"{n:09d}") is not None:
        n += 1
    return f"{n:09d}0"


def _day(i: int) -> str:
    return (BASE + pd.Timedelta(days=i)).strftime("%Y-%m-%d")


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*columns, *contracts.PROVENANCE])
    return frame.astype("str")


def dcc_person(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        pid = f"MOS{i:07d}"
        rows.append({
            "la_person_id": pid, "nhs_number": nhs_number(i), "given_name": "Alice",
            "family_name": f"Testperson{i}", "date_of_birth": f"19{40 + i % 50}-0{1 + i % 9}-1{i % 10}",
            "gender": "Female", "ethnicity": codes.CLD_ETHNICITY[i % len(codes.CLD_ETHNICITY)],
            "postcode": "DE4 3AG", "address_line_1": f"{i} Oak Street", "address_town": "Matlock",
            "gp_practice_code": "C81001", "date_of_death": None,
            "primary_support_reason": codes.CLD_PRIMARY_SUPPORT_REASON[0],
            "accommodation_status": codes.CLD_ACCOMMODATION_STATUS[0], "has_unpaid_carer": "N",
            "client_type": "Service User", "client_funding_status": codes.CLD_CLIENT_FUNDING_STATUS[0],
            "communication_needs": None, "record_status": "Active", "merged_into_id": None,
            "last_updated": "2026-10-01 10:00:00", "_source_file": "dcc:person", "_source_row": pid,
        })  # fmt: skip
    return _frame(rows, contracts.DCC_PERSON)


EVENT_FIELDS = {
    "Request": {"request_route_of_access": codes.ROUTE_DISCHARGE},
    "Assessment": {"assessment_type": "Long Term Assessment"},
    "Service": {
        "service_type": codes.ST_MAX,
        "service_component": codes.COMPONENT_REABLEMENT,
        "delivery_mechanism": "CASSR Commissioned Support",
    },
    "Review": {"review_reason": "Planned"},
}
EVENT_OUTCOME = {
    "Request": codes.OUTCOME_TO_ASSESSMENT,
    "Assessment": codes.OUTCOME_TO_SERVICES,
    "Service": codes.OUTCOME_ENDED_PLANNED,
    "Review": codes.OUTCOME_CONTINUATION,
}


def dcc_event(n: int, persons: int) -> pd.DataFrame:
    rows = []
    types = list(EVENT_FIELDS)
    for i in range(n):
        etype = types[i % 4]
        ref = f"EV{i:010d}"
        row = dict.fromkeys(contracts.DCC_EVENT)
        row.update({
            "event_reference": ref, "la_person_id": f"MOS{i % persons:07d}", "event_type": etype,
            "event_start_date": _day(i), "event_end_date": _day(i + 5),
            "event_outcome": EVENT_OUTCOME[etype], "team": "START" if etype == "Service" else "ASC-EREWASH",
            **EVENT_FIELDS[etype], "last_updated": "2026-10-02 09:00:00",
            "_source_file": "dcc:event", "_source_row": ref,
        })  # fmt: skip
        rows.append(row)
    return _frame(rows, contracts.DCC_EVENT)


def dchs_patient(n: int, drop: str = "2026-11-01") -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append({
            "local_patient_id": f"S1{i:08d}", "nhs_number": nhs_number(10_000 + i),
            "nhs_number_status": "01", "given_name": "Bob", "family_name": f"Testpatient{i}",
            "person_birth_date": f"19{30 + i % 60}-1{i % 3}-2{i % 8}", "person_stated_gender_code": "1",
            "ethnic_category": "A", "postcode": "S41 7AB", "address_line_1": f"{i} Elm Road",
            "gp_practice_code": "C81002", "person_death_date": None, "interpreter_required": "N",
            "preferred_language": "English",
            "_source_file": f"dchs/{drop}/patient.csv", "_source_row": str(i + 1),
        })  # fmt: skip
    return _frame(rows, contracts.DCHS_PATIENT)


def dchs_referral(n: int, patients: int, drop: str = "2026-11-01") -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append({
            "service_request_id": f"SR{i:010d}", "local_patient_id": f"S1{i % patients:08d}",
            "referral_received_date": _day(i), "source_of_referral": "A1",
            "priority_type_code": "1", "team_type_code": "52",
            "service_discharge_date": _day(i + 30) if i % 3 else None,
            "_source_file": f"dchs/{drop}/referral.csv", "_source_row": str(i + 1),
        })  # fmt: skip
    return _frame(rows, contracts.DCHS_REFERRAL)


def dchs_care_contact(n: int, referrals: int, patients: int, drop="2026-11-01") -> pd.DataFrame:
    rows = []
    for i in range(n):
        r = i % referrals
        rows.append({
            "service_request_id": f"SR{r:010d}", "care_contact_id": f"CC{i:011d}",
            "local_patient_id": f"S1{r % patients:08d}", "care_contact_date": _day(r + 1 + i % 20),
            "clinical_contact_duration_minutes": str(15 + i % 60), "consultation_mechanism": "01",
            "activity_location_type_code": "A01", "attended_or_did_not_attend": "5",
            "_source_file": f"dchs/{drop}/care_contact.csv", "_source_row": str(i + 1),
        })  # fmt: skip
    return _frame(rows, contracts.DCHS_CARE_CONTACT)


def dchs_inpatient_spell(n: int, patients: int, drop: str = "2026-11-01") -> pd.DataFrame:
    rows = []
    for i in range(n):
        open_spell = i % 5 == 0
        rows.append({
            "hospital_provider_spell_number": f"SP{i:09d}", "local_patient_id": f"S1{i % patients:08d}",
            "site_code": "RY8A3", "ward_code": "ASH-W1", "admission_date": _day(i),
            "admission_method_code": "81", "admission_source_code": "51",
            "discharge_date": None if open_spell else _day(i + 12),
            "discharge_method_code": None if open_spell else "1",
            "discharge_destination_code": "98" if open_spell else "19",
            "discharge_pathway": None if open_spell else "1",
            "_source_file": f"dchs/{drop}/inpatient_spell.csv", "_source_row": str(i + 1),
        })  # fmt: skip
    return _frame(rows, contracts.DCHS_INPATIENT_SPELL)


def referral_dates(referrals: pd.DataFrame) -> pd.Series:
    return pd.Series(
        pd.to_datetime(referrals["referral_received_date"]).to_numpy(),
        index=referrals["service_request_id"].to_numpy(),
    )


def no_deaths() -> pd.Series:
    return pd.Series([], dtype="datetime64[ns]", index=pd.Index([], dtype=object))


# ------------------------------------------------------------------------------ outputs
def _ddl(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """In the DDL's column order; a DDL column the fixture does not set is empty."""
    from transforms.validation.rules.outputs import output_columns

    columns = output_columns()[name]
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame[columns]


def person_keys(n: int) -> list[str]:
    return [f"pk_{i:06x}a" for i in range(n)]


def person(n: int) -> pd.DataFrame:
    keys = person_keys(n)
    return _ddl("person", pd.DataFrame({
        "person_key": keys, "sex": ["F", "M"] * (n // 2) + ["F"] * (n % 2),
        "age_band": "65-69", "ethnicity_group": "White", "district": "Amber Valley",
        "death_month": None, "communication_need": None, "interpreter_language": None,
        "unpaid_carer": pd.array([True, False] * (n // 2) + [True] * (n % 2), dtype="boolean"),
        "known_to": (["dcc", "dchs", "both"] * n)[:n],
        "first_seen": pd.to_datetime("2025-01-01"), "last_seen": pd.to_datetime("2026-10-01"),
        "source_record_count": np.int64(2), "min_link_probability": 0.97,
    }))  # fmt: skip


def care_event(n: int, persons: int) -> pd.DataFrame:
    keys = person_keys(persons)
    return _ddl("care_event", pd.DataFrame({
        "event_id": [f"dcc:EV{i:010d}" for i in range(n)],
        "person_key": [keys[i % persons] for i in range(n)],
        "organisation": "DCC", "event_type": "service", "setting": "home", "pathway": pd.array([1] * n, dtype="Int64"),
        "service_category": "reablement",
        "start_date": pd.to_datetime([_day(i) for i in range(n)]),
        "end_date": pd.to_datetime([_day(i + 10) for i in range(n)]),
        "outcome": "ended_planned", "route_of_access": "discharge", "discharge_destination_code": None,
        "age_at_event": pd.array([70 + i % 20 for i in range(n)], dtype="Int64"), "age_band": "70-74",
    }))  # fmt: skip


def pathway2_stay(n: int, persons: int) -> pd.DataFrame:
    keys = person_keys(persons)
    return _ddl("pathway2_stay", pd.DataFrame({
        "stay_id": [f"stay_{i:06d}" for i in range(n)],
        "person_key": [keys[i % persons] for i in range(n)],
        "episode_start": pd.to_datetime([_day(i) for i in range(n)]),
        "episode_end": pd.to_datetime([_day(i + 14) for i in range(n)]),
        "settings": "community_hospital", "n_stays": np.int64(1), "length_of_stay_days": np.int64(14),
        "exit_destination": "home", "age_at_admission": pd.array([80] * n, dtype="Int64"),
        "entry_route": "step_down",
    }))  # fmt: skip


def metric() -> pd.DataFrame:
    """Four rows in the build's vocabulary: a proportion, a pending row, a rate, days."""
    return _ddl("metric", pd.DataFrame({
        "measure_id": ["still_at_home_91", "still_at_home_91", "ascof_2c_admissions_65_plus", "pathway2_los_median"],
        "measure_name": ["Still at home 91 days", "Still at home 91 days", "Admissions 65+", "Pathway 2 LOS"],
        "period_start": pd.to_datetime(["2026-04-01", "2026-04-01", "2026-04-01", "2026-04-01"]),
        "period_end": pd.to_datetime(["2026-06-30", "2026-06-30", "2026-06-30", "2026-06-30"]),
        "breakdown": ["all", "window:pending", "all", "all"],
        "numerator": [65.0, None, 120.0, None], "denominator": [100.0, 12.0, 150_000.0, None],
        "value": [0.65, None, 80.0, 21.5], "status": ["final", "pending", "provisional", "final"],
        "definition_version": "1.0", "as_of": pd.to_datetime("2026-11-01"),
    }))  # fmt: skip
