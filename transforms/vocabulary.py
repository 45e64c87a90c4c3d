"""Every mapping from source codes to the common vocabulary, in one place.

Used by :mod:`transforms.standardise`. The common values are the ones listed in
``docs/data_contracts.md`` (tokens zone). Source code lists are in ``transforms.codes``.
"""

from __future__ import annotations

from transforms import codes

# ------------------------------------------------------------------------ person fields
#: CLD Gender text and CSDS person stated gender code -> M / F / X / U.
SEX = {
    "MALE": "M",
    "M": "M",
    "FEMALE": "F",
    "F": "F",
    "OTHER": "X",
    "INDETERMINATE": "X",
    "UNKNOWN": "U",
    "NOT KNOWN": "U",
    "U": "U",
    "1": "M",
    "2": "F",
    "9": "X",
    "X": "U",  # CSDS X = not known
    "0": "U",
}

#: Census 2021 high-level group from the label prefix (before ':').
ETHNICITY_PREFIX = {
    "WHITE": "White",
    "MIXED OR MULTIPLE ETHNIC GROUPS": "Mixed",
    "ASIAN, ASIAN BRITISH OR ASIAN WELSH": "Asian",
    "BLACK, BLACK BRITISH, BLACK WELSH, CARIBBEAN OR AFRICAN": "Black",
    "OTHER ETHNIC GROUP": "Other",
}
ETHNICITY_NOT_STATED_TEXT = {"REFUSED", "UNDECLARED / NOT KNOWN", "NOT KNOWN", "NOT STATED"}
#: CSDS / NHS ethnic category letter -> group. R (Chinese) is Asian under Census 2021,
#: which is how DCC's Census labels group it, so both sources agree.
ETHNIC_CATEGORY = {
    **dict.fromkeys("ABC", "White"),
    **dict.fromkeys("DEFG", "Mixed"),
    **dict.fromkeys("HJKLR", "Asian"),
    **dict.fromkeys("MNP", "Black"),
    "S": "Other",
    "Z": "Not stated",
    "99": "Not stated",
}
NOT_STATED = "Not stated"

UNPAID_CARER = {"Y": True, "N": False}
#: CLD Client Type -> common label (ASCOF counts service users only).
CLIENT_TYPE = {
    "SERVICE USER": "service_user",
    "UNPAID CARER": "carer",
    "UNPAID CARER KNOWN BY ASSOCIATION": "carer_known_by_association",
}

#: Street-type abbreviations expanded at the end of a street name.
STREET_TYPES = {
    "RD": "ROAD",
    "ST": "STREET",
    "STR": "STREET",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "LN": "LANE",
    "CL": "CLOSE",
    "CRES": "CRESCENT",
    "CRS": "CRESCENT",
    "DR": "DRIVE",
    "GDNS": "GARDENS",
    "CT": "COURT",
    "PL": "PLACE",
    "SQ": "SQUARE",
    "TER": "TERRACE",
    "TERR": "TERRACE",
    "GRN": "GREEN",
    "GRO": "GROVE",
    "GR": "GROVE",
    "WY": "WAY",
    "PK": "PARK",
    "MWS": "MEWS",
    "HL": "HILL",
}

#: Languages an interpreter may be recorded for. Free text outside this list becomes
#: "Other" so nothing typed into a free-text field (a name, a phone number) leaves the edge.
LANGUAGES = [
    "Albanian", "Amharic", "Arabic", "Bengali", "British Sign Language", "Bulgarian",
    "Cantonese", "Czech", "Dari", "Dutch", "Estonian", "Farsi", "French", "German", "Greek",
    "Gujarati", "Hindi", "Hungarian", "Italian", "Japanese", "Korean", "Kurdish", "Latvian",
    "Lithuanian", "Malayalam", "Mandarin", "Nepali", "Pashto", "Polish", "Portuguese",
    "Punjabi", "Romani", "Romanian", "Russian", "Serbian", "Slovak", "Somali", "Spanish",
    "Swahili", "Tamil", "Telugu", "Thai", "Tigrinya", "Turkish", "Twi", "Ukrainian", "Urdu",
    "Vietnamese", "Welsh", "Yoruba",
]  # fmt: skip
LANGUAGE_ALIASES = {
    "BSL": "British Sign Language",
    "SIGN LANGUAGE": "British Sign Language",
    "PERSIAN": "Farsi",
    "PANJABI": "Punjabi",
    "CHINESE MANDARIN": "Mandarin",
    "CHINESE CANTONESE": "Cantonese",
    "SYLHETI": "Bengali",
}
BSL = "British Sign Language"

# ------------------------------------------------------------------------ DCC events
EVENT_TYPE = {t: t.lower() for t in codes.CLD_EVENT_TYPE}

ROUTE_OF_ACCESS = {
    "Planned Entry (Transition)": "planned_entry_transition",
    "Discharge from Hospital": "discharge_from_hospital",
    "Diversion from Hospital Services": "diversion_from_hospital",
    "Self-Funder with Depleted Funds": "self_funder_depleted_funds",
    "Community / Other route": "community_other",
}

#: CLD Event_Outcome -> common outcome.
DCC_OUTCOME = {
    "Progress to Reablement/ST-Max": "progress_to_reablement",
    "Progress to Assessment, Review or Reassessment": "progress_to_assessment",
    "Progress to Support Planning / Services": "progress_to_services",
    "Continuation of Support or Services": "continuation",
    "Admitted to hospital": "admitted_to_hospital",
    "NFA - Moved to another LA": "moved_to_another_la",
    "NFA - 100% NHS funded care": "nhs_funded_care",
    "NFA - Self-funded client (inc. 12wk disregard)": "self_funded",
    "NFA - Information and advice / signposting only": "information_and_advice",
    "NFA - Support declined": "support_declined",
    "NFA - Deceased": "died",
    "NFA - Support ended as planned": "ended_as_planned",
    "NFA - Support ended for other reason": "ended_other_reason",
    "NFA - No services offered for other reason": "no_services_offered",
    "Other": "other",
}

#: (service_type, service_component) -> service_category; component None = any.
DCC_SERVICE_CATEGORY = {
    (codes.ST_MAX, codes.COMPONENT_REABLEMENT): "reablement",
    (codes.ST_MAX, codes.COMPONENT_ST_RESIDENTIAL): "st_max_bed",
    (codes.ST_MAX, "Short term nursing care"): "st_max_bed",
    (codes.LTS_RESIDENTIAL, None): "long_term_residential",
    (codes.LTS_NURSING, None): "long_term_nursing",
    (codes.LTS_COMMUNITY, None): "long_term_community",
}
#: service_category -> setting (DCC services).
DCC_SERVICE_SETTING = {
    "reablement": "home",
    "st_max_bed": "community_support_bed",
    "long_term_residential": "care_home",
    "long_term_nursing": "care_home",
    "long_term_community": "community",
    "other": "community",
}
#: Long-term community components delivered in the person's own home.
HOME_COMPONENTS = {"Home support / domiciliary care", "Equipment", "Direct payment"}

# ------------------------------------------------------------------------ DCHS events
TEAM_SERVICE_CATEGORY = {
    "51": "crisis_response",
    "52": "reablement",
    "53": "home_intermediate_care",
    "54": "bed_intermediate_care",
    "DN": "district_nursing",
    "TH": "therapy",
}
TEAM_SETTING = {
    "51": "home",
    "52": "home",
    "53": "home",
    "54": "community_hospital",
    "DN": "home",
    "TH": "community",
}
ACTIVITY_LOCATION_SETTING = {
    "A01": "home",
    "A03": "care_home",
    "B01": "community",
    "E01": "community_hospital",
    "X01": "other",
}
SOURCE_OF_REFERRAL_ROUTE = {
    "A1": "primary_care",
    "A3": "primary_care",
    "B1": "self_referral",
    "B2": "carer_or_relative",
    "C1": "social_care",
    "H1": "diversion_from_hospital",
    "H2": "discharge_from_hospital",
    "P1": "internal",
}
ADMISSION_SOURCE_ROUTE = {
    "19": "community_step_up",
    "29": "community_step_up",
    "51": "discharge_from_hospital",
    "87": "discharge_from_hospital",
    "54": "care_home",
    "65": "care_home",
    "85": "care_home",
}
ATTENDANCE_OUTCOME = {
    "5": "attended",
    "6": "attended",
    "7": "not_seen",
    "2": "cancelled_by_patient",
    "4": "cancelled_by_provider",
    "3": "did_not_attend",
}
#: Discharge destination code -> common outcome label.
DISCHARGE_DESTINATION_OUTCOME = {
    "19": "usual_residence",
    "29": "temporary_residence",
    "51": "hospital",
    "54": "care_home",
    "55": "care_home_nursing",
    "56": "care_home_residential",
    "65": "care_home_residential",
    "85": "care_home",
    "79": "died",
    "88": "hospice",
    "98": None,  # spell not finished
}
