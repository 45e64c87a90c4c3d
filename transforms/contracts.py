"""Column contracts for every zone (see docs/data_contracts.md).

Modules import these lists rather than restating column names, so a change to a
contract is one edit and the tests that compare written files against it fail loudly.
"""

from __future__ import annotations

DCC_PERSON = [
    "la_person_id", "nhs_number", "given_name", "family_name", "date_of_birth", "gender",
    "ethnicity", "postcode", "address_line_1", "address_town", "gp_practice_code",
    "date_of_death", "primary_support_reason", "accommodation_status", "has_unpaid_carer",
    "client_type", "client_funding_status", "communication_needs", "record_status",
    "merged_into_id", "last_updated",
]  # fmt: skip
DCC_EVENT = [
    "event_reference", "la_person_id", "event_type", "event_start_date", "event_end_date",
    "event_outcome", "team", "request_route_of_access", "assessment_type", "service_type",
    "service_component", "delivery_mechanism", "review_reason", "last_updated",
]  # fmt: skip

DCHS_PATIENT = [
    "local_patient_id", "nhs_number", "nhs_number_status", "given_name", "family_name",
    "person_birth_date", "person_stated_gender_code", "ethnic_category", "postcode",
    "address_line_1", "gp_practice_code", "person_death_date", "interpreter_required",
    "preferred_language",
]  # fmt: skip
DCHS_REFERRAL = [
    "service_request_id", "local_patient_id", "referral_received_date", "source_of_referral",
    "priority_type_code", "team_type_code", "service_discharge_date",
]  # fmt: skip
DCHS_CARE_CONTACT = [
    "service_request_id", "care_contact_id", "local_patient_id", "care_contact_date",
    "clinical_contact_duration_minutes", "consultation_mechanism",
    "activity_location_type_code", "attended_or_did_not_attend",
]  # fmt: skip
DCHS_INPATIENT_SPELL = [
    "hospital_provider_spell_number", "local_patient_id", "site_code", "ward_code",
    "admission_date", "admission_method_code", "admission_source_code", "discharge_date",
    "discharge_method_code", "discharge_destination_code", "discharge_pathway",
]  # fmt: skip

#: DCHS drop files, their columns and their keys.
DCHS_FILES: dict[str, tuple[list[str], list[str]]] = {
    "patient.csv": (DCHS_PATIENT, ["local_patient_id"]),
    "referral.csv": (DCHS_REFERRAL, ["service_request_id"]),
    "care_contact.csv": (DCHS_CARE_CONTACT, ["service_request_id", "care_contact_id"]),
    "inpatient_spell.csv": (DCHS_INPATIENT_SPELL, ["hospital_provider_spell_number"]),
}

#: DCC tables, their columns and their keys.
DCC_TABLES: dict[str, tuple[list[str], list[str]]] = {
    "person": (DCC_PERSON, ["la_person_id"]),
    "event": (DCC_EVENT, ["event_reference"]),
}

#: Landing adds provenance to every raw row so errors can name file and row.
PROVENANCE = ["_source_file", "_source_row"]

TRUTH = ["source", "source_record_id", "true_person_id"]

PERSON_RECORD = [
    "source", "source_record_id", "record_status", "merged_into_record_id",
    "nhs_number_valid", "tok_nhs_number", "tok_dob", "tok_dob_swapped", "tok_dob_ym",
    "tok_dob_yd", "tok_dob_md", "tok_dob_year", "tok_given_name", "tok_family_name",
    "tok_given_name_canonical", "tok_given_name_phonetic", "tok_family_name_phonetic",
    "tok_family_name_first", "tok_family_name_last", "tok_postcode", "tok_postcode_sector", "tok_postcode_district", "tok_street_number",
    "clk_name", "clk_address", "clk_given", "sex", "birth_year", "birth_month", "ethnicity_group",
    "district", "date_of_death", "communication_need", "interpreter_language",
    "unpaid_carer", "key_version",
]  # fmt: skip

SOURCE_EVENT = [
    "source", "source_event_id", "source_record_id", "organisation", "event_type",
    "setting", "pathway", "service_category", "start_date", "end_date", "outcome",
    "route_of_access", "discharge_destination_code", "age_at_event", "client_type",
]  # fmt: skip

#: The key of a person record, and of a source event, across both sources.
RECORD_KEY = ["source", "source_record_id"]
EVENT_KEY = ["source", "source_event_id"]

#: The plausible age range, in whole years: an age outside it is a data error (a wrong
#: birth or event date). The source suites, the output suites and the events state all
#: apply this one rule.
AGE_RANGE = (0, 115)
