"""How ``shared_care.person`` chooses each attribute among a person's records
(survivorship), and the disagreements it records in ``shared_care.person_conflict``.

:mod:`transforms.tables.person` implements these rules; the data dictionary prints them.
"""

from __future__ import annotations

SURVIVORSHIP: dict[str, str] = {
    "record order": "Records of a person are ranked most recent first: the latest event "
    "start date of the record (its last activity), then DCHS before DCC (NHS-traced "
    "demographics), then the record id (for a stable result).",
    "sex": "Most recent known value (M, F, X; U = unknown is skipped). Two or more known "
    "values -> person_conflict 'sex'.",
    "age_band": "5-year band (0-4 ... 85-89, 90+) of the age at as_of, or at death if "
    "earlier, from the surviving year and month of birth: the (year, month) held by most "
    "records; a tie goes to a record with a valid NHS number, then DCHS, then the lowest "
    "record id (not to activity, so the measures' ages always agree with the published "
    "band). Different dates of birth (tokens) -> "
    "conflict 'date_of_birth'; different years or months -> 'birth_year' / 'birth_month'. "
    "Year and month of birth are not published.",
    "ethnicity_group": "Most recent stated value; 'Not stated' only when no record states one.",
    "district": "Most recent known value (people move: the latest record is the current address).",
    "death_month": "Year-month (YYYY-MM) of the earliest date of death recorded by any "
    "record. Two or more different dates -> conflict 'date_of_death'. A death recorded by "
    "one organisation's records only, for a person known to both -> conflict "
    "'death_recorded' (sources = the organisation that has it).",
    "communication_need": "The most specific need recorded by any record: BSL, then "
    "Interpreter, then Other (a need recorded by one organisation is shown to both).",
    "interpreter_language": "Language of the most recent record holding the surviving "
    "communication need and a language.",
    "unpaid_carer": "Most recent known value (DCC only records it).",
    "known_to": "'both' when the person has active records in DCC and DCHS, else the one "
    "organisation ('dcc' / 'dchs').",
    "first_seen / last_seen": "Earliest / latest event start date of any of the person's "
    "records. Events of DCC Merged records count when the events passed to build_person "
    "carry a person_key column (their survivor's key).",
    "source_record_count": "Active (not Merged) source records linked to the person.",
    "min_link_probability": "Lowest link probability of the person's records (1.0 for a "
    "single record or deterministic links).",
}

CONFLICT_ATTRIBUTES = {
    "sex": "two or more known sexes (M/F/X) among the person's records",
    "date_of_birth": "two or more different date-of-birth tokens (full date; no value shown)",
    "birth_year": "two or more different years of birth",
    "birth_month": "two or more different months of birth (e.g. a day/month swap)",
    "date_of_death": "two or more different dates of death",
    "death_recorded": "known to both organisations, death recorded by one organisation only",
}
