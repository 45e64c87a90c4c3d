"""The DCHS (community health, CSDS) source rules: ``dchs_patient``, ``dchs_referral``,
``dchs_care_contact`` and ``dchs_inpatient_spell``."""

from __future__ import annotations

from transforms import codes
from transforms.validation.rules.common import (
    address_rules,
    date_format,
    demographic_rules,
    nhs_rules,
    person_exists,
    present,
    unique_key,
)
from transforms.validation.rules.core import Rule, between, code_list, flag

#: Contact duration, minutes (one day at most).
DURATION_RANGE = (0, 1440)


def dchs_patient_rules() -> list[Rule]:
    return [
        present("local_patient_id_present", "local_patient_id", "the patient key"),
        unique_key("local_patient_id_unique", ["local_patient_id"], "patient"),
        *nhs_rules(0.95),
        code_list(
            "nhs_number_status_code",
            "nhs_number_status",
            codes.NHS_NUMBER_STATUS,
            "NHS Number Status Indicator codes (01–08)",
            "warning",
        ),
        flag(
            "nhs_number_status_consistent",
            ["nhs_number_status", "nhs_number"],
            "A patient whose NHS number status is 01 (present and verified) has a valid NHS "
            "number.",
            "warning",
        ),
        *demographic_rules("person_birth_date", "person_death_date"),
        code_list(
            "person_stated_gender_code",
            "person_stated_gender_code",
            codes.PERSON_STATED_GENDER,
            "Person Stated Gender codes (1, 2, 9, X)",
            "warning",
        ),
        code_list(
            "ethnic_category_code",
            "ethnic_category",
            codes.CSDS_ETHNIC_CATEGORY,
            "NHS ethnic category codes (A–Z, 99)",
            "warning",
        ),
        *address_rules(),
        code_list(
            "interpreter_required_code", "interpreter_required", ["Y", "N"], "Y/N", "warning"
        ),
    ]


def dchs_referral_rules() -> list[Rule]:
    return [
        present("service_request_id_present", "service_request_id", "the referral key"),
        unique_key("service_request_id_unique", ["service_request_id"], "referral"),
        present("local_patient_id_present", "local_patient_id", "whose referral"),
        person_exists("local_patient_id", "DCHS patient"),
        present("referral_received_date_present", "referral_received_date", "when received"),
        date_format("referral_received_date"),
        date_format("service_discharge_date"),
        flag(
            "discharge_not_before_referral",
            ["referral_received_date", "service_discharge_date"],
            "`service_discharge_date` is on or after `referral_received_date` (a referral "
            "without a discharge date is open, which is allowed).",
        ),
        present("team_type_code_present", "team_type_code", "which service"),
        code_list(
            "team_type_code", "team_type_code", codes.TEAM_TYPE, "CSDS team types (and local codes)"
        ),
        code_list(
            "source_of_referral_code",
            "source_of_referral",
            codes.SOURCE_OF_REFERRAL,
            "local subset of CSDS Source of Referral codes (a warning: the national list is "
            "longer)",
            "warning",
        ),
        code_list(
            "priority_type_code",
            "priority_type_code",
            codes.PRIORITY_TYPE,
            "CSDS Priority Type codes",
        ),
    ]


def dchs_care_contact_rules() -> list[Rule]:
    return [
        present("service_request_id_present", "service_request_id", "the referral"),
        present("care_contact_id_present", "care_contact_id", "the contact"),
        unique_key("contact_key_unique", ["service_request_id", "care_contact_id"], "contact"),
        present("local_patient_id_present", "local_patient_id", "whose contact"),
        person_exists("local_patient_id", "DCHS patient"),
        present("care_contact_date_present", "care_contact_date", "when"),
        date_format("care_contact_date"),
        flag(
            "contact_not_before_referral",
            ["service_request_id", "care_contact_date"],
            "`care_contact_date` is on or after its referral's `referral_received_date` "
            "(context `referral_dates`; a contact whose referral is unknown is not checked "
            "here, see `referral_exists`).",
        ),
        flag(
            "referral_exists",
            ["service_request_id"],
            "`service_request_id` names a referral known to the pipeline (a warning: the "
            "contact still belongs to its patient).",
            "warning",
        ),
        *_contact_duration_rules(),
        *_contact_code_rules(),
    ]


def _contact_duration_rules() -> list[Rule]:
    low, high = DURATION_RANGE
    return [
        flag(
            "duration_numeric",
            ["clinical_contact_duration_minutes"],
            "`clinical_contact_duration_minutes`, when recorded, is a whole number.",
        ),
        between(
            "duration_in_range",
            "num_clinical_contact_duration_minutes",
            low,
            high,
            ["clinical_contact_duration_minutes"],
            f"`clinical_contact_duration_minutes` is {low}–{high} (at most one day).",
        ),
        flag(
            "duration_recorded_when_attended",
            ["attended_or_did_not_attend", "clinical_contact_duration_minutes"],
            "An attended contact (codes 5, 6) records its duration (a warning).",
            "warning",
        ),
    ]


def _contact_code_rules() -> list[Rule]:
    return [
        code_list(
            "attended_or_did_not_attend_code",
            "attended_or_did_not_attend",
            codes.ATTENDED_OR_DNA,
            "CSDS Attended or Did Not Attend codes",
        ),
        code_list(
            "consultation_mechanism_code",
            "consultation_mechanism",
            codes.CONSULTATION_MECHANISM,
            "local subset of CSDS Consultation Mechanism codes (a warning: the national list "
            "is longer)",
            "warning",
        ),
        code_list(
            "activity_location_type_code",
            "activity_location_type_code",
            codes.ACTIVITY_LOCATION_TYPE,
            "local subset of CSDS Activity Location Type codes (a warning: the national list "
            "is longer)",
            "warning",
        ),
    ]


def dchs_inpatient_spell_rules() -> list[Rule]:
    return [
        present("spell_number_present", "hospital_provider_spell_number", "the spell key"),
        unique_key("spell_number_unique", ["hospital_provider_spell_number"], "spell"),
        present("local_patient_id_present", "local_patient_id", "whose spell"),
        person_exists("local_patient_id", "DCHS patient"),
        present("admission_date_present", "admission_date", "when admitted"),
        date_format("admission_date"),
        date_format("discharge_date"),
        flag(
            "discharge_not_before_admission",
            ["admission_date", "discharge_date"],
            "`discharge_date` is on or after `admission_date`.",
        ),
        *_spell_code_rules(),
        *_spell_discharge_rules(),
    ]


def _spell_code_rules() -> list[Rule]:
    return [
        code_list(
            "admission_method_code",
            "admission_method_code",
            codes.ADMISSION_METHOD,
            "NHS Data Dictionary Admission Method codes",
        ),
        code_list(
            "admission_source_code",
            "admission_source_code",
            codes.ADMISSION_SOURCE,
            "local subset of Data Dictionary Admission Source codes (a warning: the national "
            "list is longer)",
            "warning",
        ),
        code_list(
            "discharge_method_code",
            "discharge_method_code",
            codes.DISCHARGE_METHOD,
            "NHS Data Dictionary Discharge Method codes",
        ),
        code_list(
            "discharge_destination_code",
            "discharge_destination_code",
            codes.DISCHARGE_DESTINATION,
            "NHS Data Dictionary Discharge Destination codes",
        ),
        code_list(
            "discharge_pathway_code",
            "discharge_pathway",
            codes.DISCHARGE_PATHWAY,
            "local discharge pathways 0–3",
        ),
    ]


def _spell_discharge_rules() -> list[Rule]:
    """A spell's discharge fields agree with each other and with whether it is closed."""
    return [
        flag(
            "died_method_destination",
            ["discharge_method_code", "discharge_destination_code"],
            "Discharge method 4 (patient died) goes with discharge destination 79 (not "
            "applicable, died), and destination 79 with method 4.",
        ),
        flag(
            "closed_spell_discharge_fields",
            ["discharge_date", "discharge_method_code", "discharge_destination_code"],
            "A spell with a `discharge_date` records its discharge method and a discharge "
            "destination other than 98 (not yet discharged).",
        ),
        flag(
            "open_spell_discharge_fields",
            ["discharge_date", "discharge_method_code", "discharge_destination_code"],
            "A spell without a `discharge_date` is open: no discharge method, and discharge "
            "destination 98 or none.",
        ),
    ]
