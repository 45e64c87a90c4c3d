"""National code lists shared by the synthetic sources, validation and standardisation.

Collected from public national specifications (see /work/shared/CODES.md): Adult Social
Care Client Level Data (CLD) Release 2 for DCC, the Community Services Data Set (CSDS)
v1.6 for DCHS, and NHS Data Dictionary Admitted Patient Care codes for community
hospital spells. Lists marked *subset* are the values the partnership uses; the
national list is longer. Also the NHS number Modulus 11 check.
"""

from __future__ import annotations

import re

import numpy as np

# --------------------------------------------------------------------------------------
# DCC: Adult Social Care Client Level Data, Release 2
# --------------------------------------------------------------------------------------
CLD_EVENT_TYPE = ["Request", "Assessment", "Service", "Review"]

ST_MAX = "Short Term Support: ST-Max"
LTS_COMMUNITY = "Long Term Support: Community"
LTS_NURSING = "Long Term Support: Nursing Care"
LTS_RESIDENTIAL = "Long Term Support: Residential Care"
CLD_SERVICE_TYPE = [
    LTS_COMMUNITY,
    LTS_NURSING,
    LTS_RESIDENTIAL,
    "Long Term Support: Prison",
    ST_MAX,
    "Short Term Support: Ongoing Low Level",
    "Short Term Support: Other Short Term",
    "Carer Support: Direct to Carer",
    "Carer Support: Support involving the person cared-for",
]

#: Service components (subset of the CLD list, plus the long-term placements).
COMPONENT_REABLEMENT = "Reablement"
COMPONENT_ST_RESIDENTIAL = "Short term residential care"
CLD_SERVICE_COMPONENT = [
    COMPONENT_REABLEMENT,
    COMPONENT_ST_RESIDENTIAL,
    "Short term nursing care",
    "Equipment",
    "Home support / domiciliary care",
    "Community supported living",
    "Extra care housing",
    "Shared Lives",
    "Direct payment",
    "Long term residential care",
    "Long term nursing care",
    "Carer respite",
]

CLD_DELIVERY_MECHANISM = [
    "Direct Payment",
    "CASSR Managed Personal Budget",
    "CASSR Commissioned Support",
]
CLD_CLIENT_TYPE = ["Service User", "Unpaid Carer", "Unpaid Carer known by association"]
CLD_CLIENT_FUNDING_STATUS = [
    "Fully social care funded",
    "Joint client and social care funded",
    "Fully client funded",
]
CLD_ASSESSMENT_TYPE = ["Short Term Assessment", "Long Term Assessment", "Financial Assessment"]

ROUTE_DISCHARGE = "Discharge from Hospital"
CLD_REQUEST_ROUTE_OF_ACCESS = [
    "Planned Entry (Transition)",
    ROUTE_DISCHARGE,
    "Diversion from Hospital Services",
    "Self-Funder with Depleted Funds",
    "Community / Other route",
]

CLD_PRIMARY_SUPPORT_REASON = [
    "Physical Support: Personal Care Support",
    "Physical Support: Access and Mobility Only",
    "Learning Disability Support",
    "Mental Health Support",
    "Sensory Support: Visual Impairment",
    "Sensory Support: Hearing Impairment",
    "Sensory Support: Dual Impairment",
    "Social Support: Substance Misuse Support",
    "Social Support: Asylum Seeker Support",
    "Social Support: Support for Social Isolation / Other",
    "Support with Memory and Cognition",
]

#: Accommodation status (CLD / SALT list).
CLD_ACCOMMODATION_STATUS = [
    "Owner occupier or shared ownership scheme",
    "Tenant (including local authority, arm's length management organisations, registered social landlord, housing association)",
    "Tenant - private landlord",
    "Settled mainstream housing with family / friends",
    "Supported accommodation / supported lodgings / supported group home",
    "Shared Lives scheme",
    "Sheltered housing / extra care housing / other sheltered housing",
    "Mobile accommodation for Gypsy / Roma and Traveller communities",
    "Rough sleeper / squatting",
    "Night shelter / emergency hostel / direct access hostel",
    "Refuge",
    "Placed in temporary accommodation by the council (inc. homelessness resettlement)",
    "Staying with family / friends as a short-term guest",
    "Acute / long-term healthcare residential facility or hospital",
    "Registered care home",
    "Registered nursing home",
    "Prison / Young offenders institution / detention centre",
    "Other temporary accommodation",
    "Unknown",
]

OUTCOME_TO_REABLEMENT = "Progress to Reablement/ST-Max"
OUTCOME_TO_ASSESSMENT = "Progress to Assessment, Review or Reassessment"
OUTCOME_TO_SERVICES = "Progress to Support Planning / Services"
OUTCOME_CONTINUATION = "Continuation of Support or Services"
OUTCOME_ADMITTED = "Admitted to hospital"
OUTCOME_DECEASED = "NFA - Deceased"
OUTCOME_ENDED_PLANNED = "NFA - Support ended as planned"
OUTCOME_ENDED_OTHER = "NFA - Support ended for other reason"
#: Event outcome, in DHSC's priority order.
CLD_EVENT_OUTCOME = [
    OUTCOME_TO_REABLEMENT,
    OUTCOME_TO_ASSESSMENT,
    OUTCOME_TO_SERVICES,
    OUTCOME_CONTINUATION,
    OUTCOME_ADMITTED,
    "NFA - Moved to another LA",
    "NFA - 100% NHS funded care",
    "NFA - Self-funded client (inc. 12wk disregard)",
    "NFA - Information and advice / signposting only",
    "NFA - Support declined",
    OUTCOME_DECEASED,
    OUTCOME_ENDED_PLANNED,
    OUTCOME_ENDED_OTHER,
    "NFA - No services offered for other reason",
    "Other",
]

CLD_REVIEW_REASON = ["Planned", "Unplanned", "Hospital Discharge"]  # subset
CLD_GENDER = ["Male", "Female", "Other", "Unknown"]
HAS_UNPAID_CARER = ["Y", "N", "U"]
RECORD_STATUS = ["Active", "Merged"]

#: Census 2021 ethnic group labels (19), with the CSDS / NHS ethnic category letter.
CENSUS_2021_ETHNICITY: dict[str, str] = {
    "Asian, Asian British or Asian Welsh: Bangladeshi": "K",
    "Asian, Asian British or Asian Welsh: Chinese": "R",
    "Asian, Asian British or Asian Welsh: Indian": "H",
    "Asian, Asian British or Asian Welsh: Pakistani": "J",
    "Asian, Asian British or Asian Welsh: Other Asian": "L",
    "Black, Black British, Black Welsh, Caribbean or African: African": "N",
    "Black, Black British, Black Welsh, Caribbean or African: Caribbean": "M",
    "Black, Black British, Black Welsh, Caribbean or African: Other Black": "P",
    "Mixed or Multiple ethnic groups: White and Asian": "F",
    "Mixed or Multiple ethnic groups: White and Black African": "E",
    "Mixed or Multiple ethnic groups: White and Black Caribbean": "D",
    "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups": "G",
    "White: English, Welsh, Scottish, Northern Irish or British": "A",
    "White: Irish": "B",
    "White: Gypsy or Irish Traveller": "C",
    "White: Roma": "C",
    "White: Other White": "C",
    "Other ethnic group: Arab": "S",
    "Other ethnic group: Any other ethnic group": "S",
}
ETHNICITY_REFUSED = "Refused"
ETHNICITY_NOT_KNOWN = "Undeclared / Not known"
CLD_ETHNICITY = [*CENSUS_2021_ETHNICITY, ETHNICITY_REFUSED, ETHNICITY_NOT_KNOWN]

#: Local teams (partnership conventions).
TEAM_START = "START"
TEAM_HOSPITAL_SW = "HOSPITAL-SW"
CSB_PREFIX = "CSB-"
ASC_PREFIX = "ASC-"

# --------------------------------------------------------------------------------------
# DCHS: Community Services Data Set v1.6
# --------------------------------------------------------------------------------------
NHS_NUMBER_STATUS = {
    "01": "Number present and verified",
    "02": "Number present but not traced",
    "03": "Trace required",
    "04": "Trace attempted - no match or multiple match found",
    "05": "Trace needs to be resolved",
    "06": "Trace in progress",
    "07": "Number not present and trace not required",
    "08": "Trace postponed (baby under six weeks old)",
}
PERSON_STATED_GENDER = {"1": "Male", "2": "Female", "9": "Indeterminate", "X": "Not known"}
#: Ethnic category letters A-H, J-N, P, R, S, Z (not stated) and 99 (not known).
CSDS_ETHNIC_CATEGORY = [*list("ABCDEFGHJKLMNPRSZ"), "99"]

TEAM_TYPE = {
    "51": "Crisis response",
    "52": "Reablement",
    "53": "Home-based intermediate care",
    "54": "Community bed-based intermediate care",
    "DN": "District nursing (local code)",
    "TH": "Therapy (local code)",
}
ATTENDED_OR_DNA = {
    "5": "Attended on time",
    "6": "Arrived late, seen",
    "7": "Arrived late, not seen",
    "2": "Cancelled by patient",
    "4": "Cancelled or postponed by provider",
    "3": "Did not attend, no advance warning",
}
CONSULTATION_MECHANISM = {"01": "Face to face", "02": "Telephone", "11": "Video consultation"}
PRIORITY_TYPE = {"1": "Routine", "2": "Urgent", "3": "Two week wait"}
#: Source of referral (community) — subset used locally.
SOURCE_OF_REFERRAL = {
    "A1": "General Medical Practitioner",
    "A3": "Other primary health care",
    "B1": "Self-referral",
    "B2": "Carer / relative",
    "C1": "Local authority social services",
    "H1": "Acute secondary care: emergency care department",
    "H2": "Acute secondary care: inpatient ward (discharge)",
    "P1": "Internal referral",
}
#: Activity location type — subset used locally.
ACTIVITY_LOCATION_TYPE = {
    "A01": "Patient's / service user's home",
    "A03": "Care home",
    "B01": "Clinic / health centre",
    "E01": "Community hospital",
    "X01": "Other",
}

# --------------------------------------------------------------------------------------
# NHS Data Dictionary: Admitted Patient Care (community hospital spells)
# --------------------------------------------------------------------------------------
ADMISSION_METHOD = {
    "11": "Elective: waiting list",
    "12": "Elective: booked",
    "13": "Elective: planned",
    "21": "Emergency: emergency care department",
    "22": "Emergency: GP",
    "23": "Emergency: bed bureau",
    "24": "Emergency: consultant clinic",
    "25": "Emergency: mental health crisis team",
    "2A": "Emergency: emergency care department of another provider",
    "2B": "Emergency: transfer from another provider",
    "2C": "Emergency: baby born at home",
    "2D": "Emergency: other",
    "81": "Transfer from another provider (non-emergency)",
}
ADMISSION_SOURCE = {
    "19": "Usual place of residence",
    "29": "Temporary place of residence",
    "51": "NHS other hospital provider: ward for general patients",
    "54": "NHS run care home",
    "65": "Local authority residential accommodation",
    "85": "Non-NHS run care home",
    "87": "Non-NHS run hospital",
}
DISCHARGE_METHOD = {
    "1": "Discharged on clinical advice or with clinical consent",
    "2": "Self-discharged or discharged by relative",
    "3": "Discharged by mental health review tribunal / coroner",
    "4": "Patient died",
    "5": "Stillbirth",
}
DISCHARGE_METHOD_DIED = "4"
DISCHARGE_DESTINATION = {
    "19": "Usual place of residence",
    "29": "Temporary place of residence",
    "51": "NHS other hospital provider: ward for general patients",
    "54": "NHS run care home",
    "55": "Care home with nursing",
    "56": "Care home without nursing",
    "65": "Local authority residential accommodation",
    "85": "Non-NHS run care home",
    "79": "Not applicable - patient died or stillbirth",
    "88": "Non-NHS run hospice",
    "98": "Not applicable - hospital provider spell not finished",
}
DISCHARGE_DESTINATION_DIED = "79"
DISCHARGE_DESTINATION_NOT_FINISHED = "98"
CARE_HOME_DESTINATIONS = ["54", "55", "56", "65", "85"]
DISCHARGE_PATHWAY = {
    "0": "Home, no new support",
    "1": "Home with support",
    "2": "Short-term bed-based rehabilitation or reablement",
    "3": "Care home placement",
}

# --------------------------------------------------------------------------------------
# NHS number (Modulus 11)
# --------------------------------------------------------------------------------------
_WEIGHTS = np.arange(10, 1, -1)
_NON_DIGITS = re.compile(r"[\s-]")


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when it would be 10 (invalid)."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError(f"need nine digits, got {first_nine!r}")
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str | None) -> str | None:
    """Strip spaces and dashes; None for a missing value."""
    if value is None:
        return None
    out = _NON_DIGITS.sub("", str(value))
    return out or None


def is_valid_nhs_number(value: str | None) -> bool:
    """True for ten digits (spaces/dashes allowed) passing Modulus 11, not a dummy."""
    digits = normalise_nhs_number(value)
    if digits is None or len(digits) != 10 or not digits.isdigit():
        return False
    if len(set(digits)) == 1:  # 0000000000, 1111111111, ..., 9999999999
        return False
    return nhs_number_check_digit(digits[:9]) == int(digits[9])


def is_valid_nhs_numbers(values) -> np.ndarray:
    """Vectorised :func:`is_valid_nhs_number` over an iterable of strings or None."""
    arr = np.asarray(
        [normalise_nhs_number(v) if v is not None else "" for v in values], dtype="U16"
    )
    n = arr.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    ok_len = np.char.str_len(arr) == 10
    ok_dig = np.char.isdigit(arr)
    good = ok_len & ok_dig
    out = np.zeros(n, dtype=bool)
    if not good.any():
        return out
    digits = arr[good].view("U1").reshape(-1, 16)[:, :10].astype(np.int64)
    total = (digits[:, :9] * _WEIGHTS).sum(axis=1)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    passes = (check != 10) & (check == digits[:, 9])
    dummy = (digits == digits[:, :1]).all(axis=1)
    out[good] = passes & ~dummy
    return out


def check_digits(first_nine: np.ndarray) -> np.ndarray:
    """Vectorised check digits for an (n, 9) int array; 10 where the number is impossible."""
    total = (first_nine * _WEIGHTS).sum(axis=1)
    check = 11 - total % 11
    return np.where(check == 11, 0, check)


DUMMY_NHS_NUMBERS = ["0000000000", "1111111111", "9999999999", "1234567890", "4444444444"]
