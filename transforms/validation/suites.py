"""The rule catalogue: every suite's expectations, written out as reviewable JSON.

``expectations/<suite>.json`` is what Great Expectations loads and runs. This module is
where those files come from, so that code lists come from :mod:`transforms.codes` and
columns from :mod:`transforms.contracts` instead of being copied by hand::

    python -m transforms.validation          # rewrite expectations/*.json
    python -m transforms.validation --check  # exit 1 if a file is out of date

A test fails when the committed JSON and this catalogue disagree.

Every expectation carries ``notes`` (rule, severity and description, shown in Data Docs)
and ``meta``:

| key | meaning |
|---|---|
| ``rule`` | stable rule id; what ``audit.quarantine.rule`` holds |
| ``severity`` | ``error`` (row quarantined), ``warning`` (row reported in findings, kept) or ``batch`` (a failure stops the night) |
| ``description`` | what the rule checks, also the ``audit.quarantine`` description; never holds a data value |
| ``inputs`` | the landing (or output) columns the rule reads; when one is absent the rule is skipped and the schema rule breaches |
| ``batch`` | ``schema``: checked on a zero-row copy of the batch (its columns and dtypes, no values); ``rows``: checked on the row batch |
| ``threshold`` / ``small_batch_threshold`` | for share rules: the ``mostly`` used at or above / below ``SMALL_BATCH_ROWS`` rows |

Columns whose names start ``ok_`` or ``num_`` are *derived check columns*, computed in
pandas by :mod:`transforms.validation.derive` (``ok_<rule>`` is True when the row passes,
null when the rule does not apply); the rest are the table's own columns. The row batch
Great Expectations sees holds the derived columns and the table columns a rule reads —
code columns with their values, key/date/identifier columns only as recorded-or-not — so
it never holds a clear identifier.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from transforms import codes as C
from transforms import contracts as K
from transforms.build import measure_catalogue, measure_rules

#: Share rules use their full threshold from this many rows; smaller batches (a quiet
#: incremental night) use the looser ``small_batch_threshold``, so that a handful of
#: rows cannot stop the night by chance.
SMALL_BATCH_ROWS = 500
#: Below this many rows a share says nothing (one row without an NHS number is 100%):
#: share rules are not applied; row rules and the quarantine still are.
TINY_BATCH_ROWS = 20
#: A batch breaches when more than this share of its rows fail error rules.
MAX_FAILING_SHARE = 0.05
MAX_FAILING_SHARE_SMALL = 0.5
#: Ages outside this range (at death, else at validation) are impossible.
AGE_RANGE = (0, 115)
#: Contact duration, minutes (one day at most).
DURATION_RANGE = (0, 1440)

SOURCE_SUITES = [
    "dcc_person",
    "dcc_event",
    "dchs_patient",
    "dchs_referral",
    "dchs_care_contact",
    "dchs_inpatient_spell",
]
OUTPUT_SUITES = ["person", "care_event", "pathway2_stay", "metric"]
ALL_SUITES = [*SOURCE_SUITES, *OUTPUT_SUITES]

#: Landing table -> contract columns (provenance is added to each).
SOURCE_COLUMNS = {
    "dcc_person": K.DCC_PERSON,
    "dcc_event": K.DCC_EVENT,
    "dchs_patient": K.DCHS_PATIENT,
    "dchs_referral": K.DCHS_REFERRAL,
    "dchs_care_contact": K.DCHS_CARE_CONTACT,
    "dchs_inpatient_spell": K.DCHS_INPATIENT_SPELL,
}
#: Landing table -> key columns (``audit.quarantine.source_record_id`` joins them with ':').
SOURCE_KEYS = {
    "dcc_person": ["la_person_id"],
    "dcc_event": ["event_reference"],
    "dchs_patient": ["local_patient_id"],
    "dchs_referral": ["service_request_id"],
    "dchs_care_contact": ["service_request_id", "care_contact_id"],
    "dchs_inpatient_spell": ["hospital_provider_spell_number"],
}

#: The warehouse DDL the output suites check against.
DDL = Path(__file__).resolve().parents[2] / "sql" / "ddl" / "040_shared_care.sql"
_CREATE = re.compile(r"create table if not exists shared_care\.(\w+) \((.*?)\n\);", re.S | re.I)
_ALTER = re.compile(r"alter table shared_care\.(\w+) add column if not exists (\w+) (\w+)", re.I)


def ddl_columns(path: Path = DDL) -> dict[str, list[tuple[str, str]]]:
    """shared_care table -> [(column, type)] from the DDL (``create`` then ``alter``)."""
    text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    tables: dict[str, list[tuple[str, str]]] = {}
    for name, body in _CREATE.findall(text):
        cols = []
        for line in body.split(","):
            words = line.split()
            if len(words) >= 2 and words[0].lower() not in ("primary", "unique", "constraint"):
                cols.append((words[0], words[1].lower()))
        tables[name] = cols
    for name, column, kind in _ALTER.findall(text):
        if column not in [c for c, _ in tables.get(name, [])]:
            tables.setdefault(name, []).append((column, kind.lower()))
    return tables


OUTPUT_TABLES = ("person", "care_event", "pathway2_stay", "metric")


@cache
def output_columns() -> dict[str, list[str]]:
    """Output table -> its DDL columns (read when suites are generated, not at run time:
    the suite JSON carries them)."""
    ddl = ddl_columns()
    return {t: [c for c, _ in ddl[t]] for t in OUTPUT_TABLES}


@cache
def output_date_columns() -> dict[str, list[str]]:
    ddl = ddl_columns()
    return {t: [c for c, kind in ddl[t] if kind in ("date", "timestamp")] for t in OUTPUT_TABLES}


def proportion_measures() -> list[str]:
    """Measures published as a proportion (0-1), from the build's definitions."""
    return [m.measure_id for m in measure_catalogue.MEASURES if m.unit == "proportion"]


PERSON_KNOWN_TO = ["dcc", "dchs", "both"]
ORGANISATIONS = ["DCC", "DCHS"]


@dataclass(frozen=True)
class Rule:
    rule: str
    severity: str  # error | warning | batch
    description: str
    type: str
    kwargs: dict
    inputs: tuple[str, ...] = ()
    extra_meta: dict = field(default_factory=dict)

    def expectation(self) -> dict:
        meta = {
            "rule": self.rule,
            "severity": self.severity,
            "description": self.description,
            "inputs": list(self.inputs),
            "batch": "rows",
            **self.extra_meta,
        }
        return {
            "type": self.type,
            "kwargs": self.kwargs,
            "meta": meta,
            "notes": f"**{self.rule}** ({self.severity}): {self.description}",
        }


# ------------------------------------------------------------------------ rule makers
def not_null(rule, column, description, severity="error") -> Rule:
    return Rule(
        rule,
        severity,
        description,
        "expect_column_values_to_not_be_null",
        {"column": column},
        (column,),
    )


def in_set(rule, column, values, description, severity="error") -> Rule:
    return Rule(
        rule,
        severity,
        description,
        "expect_column_values_to_be_in_set",
        {"column": column, "value_set": list(values)},
        (column,),
    )


def flag(rule, inputs, description, severity="error") -> Rule:
    """A derived ``ok_<rule>`` column must be True wherever it is not null."""
    return Rule(
        rule,
        severity,
        description,
        "expect_column_values_to_be_in_set",
        {"column": f"ok_{rule}", "value_set": [True]},
        tuple(inputs),
    )


def between(rule, column, low, high, inputs, description, severity="error") -> Rule:
    kwargs = {"column": column}
    if low is not None:
        kwargs["min_value"] = low
    if high is not None:
        kwargs["max_value"] = high
    return Rule(
        rule, severity, description, "expect_column_values_to_be_between", kwargs, tuple(inputs)
    )


def share(rule, base: Rule, threshold: float, small: float, description: str) -> Rule:
    """A batch rule: at least ``threshold`` of the rows satisfy ``base``'s expectation."""
    return Rule(
        rule,
        "batch",
        description,
        base.type,
        {**base.kwargs, "mostly": {"$PARAMETER": f"{rule}_mostly"}},
        base.inputs,
        {"threshold": threshold, "small_batch_threshold": small},
    )


def code_list(rule, column, values, label, severity="error") -> Rule:
    return in_set(
        rule,
        column,
        values,
        f"`{column}`, when recorded, is a code of the {label}.",
        severity,
    )


def schema_rules(columns: list[str], what: str, typed: bool) -> list[Rule]:
    """Schema drift, checked on the batch's columns and dtypes (a zero-row batch)."""
    rules = [
        Rule(
            "schema_columns",
            "batch",
            f"The batch has exactly the {what} columns: a missing, renamed or extra column "
            "is schema drift.",
            "expect_table_columns_to_match_set",
            {"column_set": list(columns), "exact_match": True},
            extra_meta={"batch": "schema"},
        )
    ]
    if typed:
        rules += [
            Rule(
                "schema_types",
                "batch",
                f"`{c}` is text, as landed (a retyped column is schema drift).",
                "expect_column_type_to_be",
                {"column": c, "type_": "str"},
                (c,),
                {"batch": "schema"},
            )
            for c in columns
        ]
    return rules


def row_count_rule(what: str) -> Rule:
    return Rule(
        "row_count",
        "batch",
        f"The {what} has at least `min_rows` rows. `min_rows` is 0 unless the caller "
        "says rows were expected (context `expect_rows` gives 1, `min_rows` gives its "
        "value): an empty incremental batch is legitimate.",
        "expect_table_row_count_to_be_between",
        {"min_value": {"$PARAMETER": "min_rows"}, "max_value": None},
    )


def failing_share_rule() -> Rule:
    return share(
        "failing_row_share",
        flag("row", (), ""),
        1 - MAX_FAILING_SHARE,
        1 - MAX_FAILING_SHARE_SMALL,
        f"At most {MAX_FAILING_SHARE:.0%} of the rows fail an error rule "
        f"({MAX_FAILING_SHARE_SMALL:.0%} below {SMALL_BATCH_ROWS} rows); more means the "
        "extract itself is broken, so the night stops instead of quarantining it.",
    )


def _present(rule, column, what) -> Rule:
    return not_null(rule, column, f"`{column}` ({what}) is recorded.")


def _unique(rule, keys, what) -> Rule:
    cols = ", ".join(f"`{k}`" for k in keys)
    return flag(
        rule,
        [*keys, "_source_file"],
        f"The {what} key ({cols}) appears once per source file; every row of a repeated "
        "key is quarantined, since which one is right cannot be told. (The same key in "
        "two different drops is a later version, not a duplicate.)",
    )


def _date_format(column, what="date") -> Rule:
    return flag(
        f"{column}_format",
        [column],
        f"`{column}`, when recorded, is a real {what} written `YYYY-MM-DD`"
        + (" (a midnight time part is tolerated)." if what == "date" else "."),
    )


def _nhs_rules(threshold_populated: float) -> list[Rule]:
    valid = flag(
        "nhs_number_valid",
        ["nhs_number"],
        "`nhs_number`, when recorded, is ten digits (spaces and dashes ignored) whose "
        "Modulus 11 check digit matches (a check digit of 10 is invalid) and is not a "
        "repeated-digit dummy. A warning: the record still links on other "
        "fields, and quarantining a person would drop all of their activity.",
        "warning",
    )
    populated = share(
        "nhs_number_populated_share",
        not_null("nhs_number_populated", "nhs_number", ""),
        threshold_populated,
        0.5,
        f"At least {threshold_populated:.0%} of the rows have an NHS number "
        f"(50% below {SMALL_BATCH_ROWS} rows).",
    )
    valid_share = share(
        "nhs_number_valid_share",
        valid,
        0.95,
        0.5,
        f"At least 95% of the recorded NHS numbers are valid (50% below {SMALL_BATCH_ROWS} rows).",
    )
    return [valid, populated, valid_share]


def _demographic_rules(dob: str, death: str) -> list[Rule]:
    low, high = AGE_RANGE
    return [
        not_null(
            f"{dob}_present",
            dob,
            f"`{dob}` is recorded (a warning: linkage and age bands suffer without it).",
            "warning",
        ),
        _date_format(dob),
        flag(f"{dob}_not_future", [dob], f"`{dob}` is not after the validation date."),
        between(
            "age_in_range",
            "num_age_years",
            low,
            high,
            [dob, death],
            f"Age in whole years, at death or else at the validation date, is {low}–{high}.",
        ),
        _date_format(death),
        flag(f"{death}_not_future", [death], f"`{death}` is not after the validation date."),
        flag(
            "death_not_before_birth",
            [dob, death],
            f"`{death}` is on or after `{dob}`.",
        ),
    ]


def _address_rules() -> list[Rule]:
    return [
        flag(
            "postcode_format",
            ["postcode"],
            "`postcode`, when recorded, is a full UK postcode (GOV.UK data standard "
            "pattern; case and spacing ignored). Partial postcodes (district or sector "
            "only) fail: a warning, as linkage still uses the district.",
            "warning",
        ),
        flag(
            "gp_practice_code_format",
            ["gp_practice_code"],
            "`gp_practice_code`, when recorded, is an ODS GP practice code: one letter "
            "and five digits (e.g. C81001).",
            "warning",
        ),
    ]


def _person_exists(id_col: str, what: str) -> Rule:
    return flag(
        "person_exists",
        [id_col],
        f"`{id_col}` names a {what} known to the pipeline (tonight's clean rows or an "
        "earlier night's); an orphan row cannot be attributed to anyone.",
    )


# ----------------------------------------------------------------------- source suites
def dcc_person_rules() -> list[Rule]:
    return [
        _present("la_person_id_present", "la_person_id", "the person key"),
        _unique("la_person_id_unique", ["la_person_id"], "person"),
        _present("record_status_present", "record_status", "active or merged"),
        code_list("record_status_code", "record_status", C.RECORD_STATUS, "record statuses"),
        flag(
            "merged_into_required",
            ["record_status", "merged_into_id", "la_person_id"],
            "A `Merged` record names the record it was merged into (`merged_into_id`), "
            "and not itself.",
        ),
        flag(
            "merge_target_exists",
            ["record_status", "merged_into_id", "la_person_id"],
            "A `Merged` record's `merged_into_id` names a DCC person known to the pipeline "
            "(tonight's rows or an earlier night's: context `person_ids` and "
            "`merged_into`), and so does every merge it leads on to, until a record that is "
            "not merged; otherwise the record would vanish from the person table. Every "
            "record whose chain meets a missing record, or a merged record naming none, "
            "fails, not only the one next to the gap. Without `person_ids` a chain that "
            "leaves tonight's rows is not judged.",
        ),
        flag(
            "merge_not_cyclic",
            ["record_status", "merged_into_id", "la_person_id"],
            "Following `merged_into_id` from a `Merged` record, through tonight's rows and "
            "earlier nights', never returns to a record already visited (A into B into A, "
            "or a longer loop): a loop has no surviving record, so every record on it, and "
            "every record merged into it, would vanish. A chain ending at a record that is "
            "not merged passes.",
        ),
        *_nhs_rules(0.80),
        *_demographic_rules("date_of_birth", "date_of_death"),
        _date_format("last_updated", "timestamp"),
        code_list("gender_code", "gender", C.CLD_GENDER, "CLD Gender list", "warning"),
        code_list(
            "ethnicity_code", "ethnicity", C.CLD_ETHNICITY, "Census 2021 ethnic groups", "warning"
        ),
        code_list(
            "primary_support_reason_code",
            "primary_support_reason",
            C.CLD_PRIMARY_SUPPORT_REASON,
            "CLD Primary Support Reason list",
            "warning",
        ),
        code_list(
            "accommodation_status_code",
            "accommodation_status",
            C.CLD_ACCOMMODATION_STATUS,
            "CLD Accommodation Status list",
            "warning",
        ),
        code_list(
            "has_unpaid_carer_code", "has_unpaid_carer", C.HAS_UNPAID_CARER, "Y/N/U", "warning"
        ),
        code_list(
            "client_type_code", "client_type", C.CLD_CLIENT_TYPE, "CLD Client Type list", "warning"
        ),
        code_list(
            "client_funding_status_code",
            "client_funding_status",
            C.CLD_CLIENT_FUNDING_STATUS,
            "CLD Client Funding Status list",
            "warning",
        ),
        *_address_rules(),
    ]


def dcc_event_rules() -> list[Rule]:
    def required(rule, column, event_type):
        return flag(
            rule,
            ["event_type", column],
            f"A {event_type} event records `{column}` (CLD conditional mandatory field).",
        )

    return [
        _present("event_reference_present", "event_reference", "the event key"),
        _unique("event_reference_unique", ["event_reference"], "event"),
        _present("la_person_id_present", "la_person_id", "whose event"),
        _person_exists("la_person_id", "DCC person"),
        _present("event_type_present", "event_type", "Request, Assessment, Service, Review"),
        code_list("event_type_code", "event_type", C.CLD_EVENT_TYPE, "CLD Event Type list"),
        _present("event_start_date_present", "event_start_date", "when the event began"),
        _date_format("event_start_date"),
        _date_format("event_end_date"),
        flag(
            "end_not_before_start",
            ["event_start_date", "event_end_date"],
            "`event_end_date` is on or after `event_start_date`.",
        ),
        flag(
            "end_date_missing_only_when_open",
            ["event_end_date", "event_outcome"],
            "`event_end_date` may be missing only while the event is open. An event is "
            "open while it has no `event_outcome`: CLD records the outcome when a "
            "request, assessment, service or review concludes, so an ongoing service (or "
            "an assessment or review in progress) has neither end date nor outcome. An "
            "outcome without an end date is a concluded event missing its end.",
        ),
        flag(
            "start_not_after_death",
            ["la_person_id", "event_start_date"],
            "No event starts after the person's recorded death (context `death_dates`).",
        ),
        code_list(
            "event_outcome_code", "event_outcome", C.CLD_EVENT_OUTCOME, "CLD Event Outcome list"
        ),
        required("request_route_of_access_required", "request_route_of_access", "Request"),
        code_list(
            "request_route_of_access_code",
            "request_route_of_access",
            C.CLD_REQUEST_ROUTE_OF_ACCESS,
            "CLD Request Route of Access list",
        ),
        required("assessment_type_required", "assessment_type", "Assessment"),
        code_list(
            "assessment_type_code",
            "assessment_type",
            C.CLD_ASSESSMENT_TYPE,
            "CLD Assessment Type list",
        ),
        required("service_type_required", "service_type", "Service"),
        required("service_component_required", "service_component", "Service"),
        code_list("service_type_code", "service_type", C.CLD_SERVICE_TYPE, "CLD Service Type list"),
        code_list(
            "service_component_code",
            "service_component",
            C.CLD_SERVICE_COMPONENT,
            "partnership's subset of the CLD Service Component list (a warning: the national "
            "list is longer)",
            "warning",
        ),
        code_list(
            "delivery_mechanism_code",
            "delivery_mechanism",
            C.CLD_DELIVERY_MECHANISM,
            "CLD Delivery Mechanism list",
        ),
        required("review_reason_required", "review_reason", "Review"),
        code_list(
            "review_reason_code",
            "review_reason",
            C.CLD_REVIEW_REASON,
            "partnership's subset of the CLD Review Reason list (a warning: the national list "
            "is longer)",
            "warning",
        ),
        flag(
            "duplicate_event",
            [
                "la_person_id",
                "event_type",
                "event_start_date",
                "request_route_of_access",
                "assessment_type",
                "service_type",
                "service_component",
                "delivery_mechanism",
                "review_reason",
                "last_updated",
                "event_reference",
            ],  # fmt: skip
            "No two events share the CLD unique-event key: person, event type, start date "
            "and the type's own fields (route of access for requests; service type, "
            "component and delivery mechanism for services — as in NHS England's CLD "
            "SALT/ASCOF code; assessment type for assessments and review reason for reviews "
            "by analogy). The most recently updated copy is kept; the others are quarantined.",
        ),
        flag(
            "team_convention",
            ["team"],
            "`team`, when recorded, follows the partnership's convention: `START`, "
            "`HOSPITAL-SW`, `CSB-<unit>` or `ASC-<area>` (a warning: Community Support Bed "
            "stays are recognised by their `CSB-` team).",
            "warning",
        ),
        _date_format("last_updated", "timestamp"),
    ]


def dchs_patient_rules() -> list[Rule]:
    return [
        _present("local_patient_id_present", "local_patient_id", "the patient key"),
        _unique("local_patient_id_unique", ["local_patient_id"], "patient"),
        *_nhs_rules(0.95),
        code_list(
            "nhs_number_status_code",
            "nhs_number_status",
            C.NHS_NUMBER_STATUS,
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
        *_demographic_rules("person_birth_date", "person_death_date"),
        code_list(
            "person_stated_gender_code",
            "person_stated_gender_code",
            C.PERSON_STATED_GENDER,
            "Person Stated Gender codes (1, 2, 9, X)",
            "warning",
        ),
        code_list(
            "ethnic_category_code",
            "ethnic_category",
            C.CSDS_ETHNIC_CATEGORY,
            "NHS ethnic category codes (A–Z, 99)",
            "warning",
        ),
        *_address_rules(),
        code_list(
            "interpreter_required_code", "interpreter_required", ["Y", "N"], "Y/N", "warning"
        ),
    ]


def dchs_referral_rules() -> list[Rule]:
    return [
        _present("service_request_id_present", "service_request_id", "the referral key"),
        _unique("service_request_id_unique", ["service_request_id"], "referral"),
        _present("local_patient_id_present", "local_patient_id", "whose referral"),
        _person_exists("local_patient_id", "DCHS patient"),
        _present("referral_received_date_present", "referral_received_date", "when received"),
        _date_format("referral_received_date"),
        _date_format("service_discharge_date"),
        flag(
            "discharge_not_before_referral",
            ["referral_received_date", "service_discharge_date"],
            "`service_discharge_date` is on or after `referral_received_date` (a referral "
            "without a discharge date is open, which is allowed).",
        ),
        _present("team_type_code_present", "team_type_code", "which service"),
        code_list(
            "team_type_code", "team_type_code", C.TEAM_TYPE, "CSDS team types (and local codes)"
        ),
        code_list(
            "source_of_referral_code",
            "source_of_referral",
            C.SOURCE_OF_REFERRAL,
            "local subset of CSDS Source of Referral codes (a warning: the national list is "
            "longer)",
            "warning",
        ),
        code_list(
            "priority_type_code", "priority_type_code", C.PRIORITY_TYPE, "CSDS Priority Type codes"
        ),
    ]


def dchs_care_contact_rules() -> list[Rule]:
    low, high = DURATION_RANGE
    return [
        _present("service_request_id_present", "service_request_id", "the referral"),
        _present("care_contact_id_present", "care_contact_id", "the contact"),
        _unique("contact_key_unique", ["service_request_id", "care_contact_id"], "contact"),
        _present("local_patient_id_present", "local_patient_id", "whose contact"),
        _person_exists("local_patient_id", "DCHS patient"),
        _present("care_contact_date_present", "care_contact_date", "when"),
        _date_format("care_contact_date"),
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
        code_list(
            "attended_or_did_not_attend_code",
            "attended_or_did_not_attend",
            C.ATTENDED_OR_DNA,
            "CSDS Attended or Did Not Attend codes",
        ),
        code_list(
            "consultation_mechanism_code",
            "consultation_mechanism",
            C.CONSULTATION_MECHANISM,
            "local subset of CSDS Consultation Mechanism codes (a warning: the national list "
            "is longer)",
            "warning",
        ),
        code_list(
            "activity_location_type_code",
            "activity_location_type_code",
            C.ACTIVITY_LOCATION_TYPE,
            "local subset of CSDS Activity Location Type codes (a warning: the national list "
            "is longer)",
            "warning",
        ),
    ]


def dchs_inpatient_spell_rules() -> list[Rule]:
    return [
        _present("spell_number_present", "hospital_provider_spell_number", "the spell key"),
        _unique("spell_number_unique", ["hospital_provider_spell_number"], "spell"),
        _present("local_patient_id_present", "local_patient_id", "whose spell"),
        _person_exists("local_patient_id", "DCHS patient"),
        _present("admission_date_present", "admission_date", "when admitted"),
        _date_format("admission_date"),
        _date_format("discharge_date"),
        flag(
            "discharge_not_before_admission",
            ["admission_date", "discharge_date"],
            "`discharge_date` is on or after `admission_date`.",
        ),
        code_list(
            "admission_method_code",
            "admission_method_code",
            C.ADMISSION_METHOD,
            "NHS Data Dictionary Admission Method codes",
        ),
        code_list(
            "admission_source_code",
            "admission_source_code",
            C.ADMISSION_SOURCE,
            "local subset of Data Dictionary Admission Source codes (a warning: the national "
            "list is longer)",
            "warning",
        ),
        code_list(
            "discharge_method_code",
            "discharge_method_code",
            C.DISCHARGE_METHOD,
            "NHS Data Dictionary Discharge Method codes",
        ),
        code_list(
            "discharge_destination_code",
            "discharge_destination_code",
            C.DISCHARGE_DESTINATION,
            "NHS Data Dictionary Discharge Destination codes",
        ),
        code_list(
            "discharge_pathway_code",
            "discharge_pathway",
            C.DISCHARGE_PATHWAY,
            "local discharge pathways 0–3",
        ),
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


SOURCE_RULES = {
    "dcc_person": dcc_person_rules,
    "dcc_event": dcc_event_rules,
    "dchs_patient": dchs_patient_rules,
    "dchs_referral": dchs_referral_rules,
    "dchs_care_contact": dchs_care_contact_rules,
    "dchs_inpatient_spell": dchs_inpatient_spell_rules,
}


# ----------------------------------------------------------------------- output suites
def _no_identifiers() -> Rule:
    return flag(
        "no_clear_identifiers",
        [],
        "No column holds a value shaped like a clear identifier: a valid NHS number "
        "(ten digits passing Modulus 11, with or without spaces), a full UK postcode, or a "
        "full date (YYYY-MM-DD or DD/MM/YYYY) in a column that is not one of the table's "
        "date columns.",
    )


def _output_key(rule, keys, what) -> Rule:
    cols = ", ".join(f"`{k}`" for k in keys)
    return flag(rule, keys, f"The {what} key ({cols}) is unique.")


def _person_key_known() -> Rule:
    return flag(
        "person_key_known",
        ["person_key"],
        "`person_key` is a key of tonight's `person` table (context `person_keys`).",
    )


def person_rules() -> list[Rule]:
    low, high = 0, 1
    return [
        _present("person_key_present", "person_key", "the surrogate key"),
        _output_key("person_key_unique", ["person_key"], "person"),
        _no_identifiers(),
        in_set("known_to_code", "known_to", PERSON_KNOWN_TO, "`known_to` is dcc, dchs or both."),
        between(
            "min_link_probability_range",
            "num_min_link_probability",
            low,
            high,
            ["min_link_probability"],
            "`min_link_probability` is a probability, 0–1.",
        ),
        between(
            "source_record_count_positive",
            "num_source_record_count",
            1,
            None,
            ["source_record_count"],
            "`source_record_count` is at least 1.",
        ),
        flag(
            "seen_dates_ordered",
            ["first_seen", "last_seen"],
            "`first_seen` is on or before `last_seen`.",
        ),
    ]


def care_event_rules() -> list[Rule]:
    low, high = AGE_RANGE
    return [
        _present("event_id_present", "event_id", "the event key"),
        _output_key("event_id_unique", ["event_id"], "event"),
        _present("person_key_present", "person_key", "whose event"),
        _person_key_known(),
        _no_identifiers(),
        in_set(
            "organisation_code", "organisation", ORGANISATIONS, "`organisation` is DCC or DCHS."
        ),
        flag(
            "end_not_before_start",
            ["start_date", "end_date"],
            "`end_date` is on or after `start_date`.",
        ),
        between(
            "age_at_event_range",
            "num_age_at_event",
            low,
            high,
            ["age_at_event"],
            f"`age_at_event` is {low}–{high}.",
        ),
    ]


def pathway2_stay_rules() -> list[Rule]:
    low, high = AGE_RANGE
    return [
        _present("stay_id_present", "stay_id", "the stay key"),
        _output_key("stay_id_unique", ["stay_id"], "stay"),
        _present("person_key_present", "person_key", "whose stay"),
        _person_key_known(),
        _no_identifiers(),
        flag(
            "episode_dates_ordered",
            ["episode_start", "episode_end"],
            "`episode_end` is on or after `episode_start`.",
        ),
        between(
            "length_of_stay_non_negative",
            "num_length_of_stay_days",
            0,
            None,
            ["length_of_stay_days"],
            "`length_of_stay_days` is not negative.",
        ),
        between(
            "n_stays_positive",
            "num_n_stays",
            1,
            None,
            ["n_stays"],
            "`n_stays` is at least 1.",
        ),
        between(
            "age_at_admission_range",
            "num_age_at_admission",
            low,
            high,
            ["age_at_admission"],
            f"`age_at_admission` is {low}–{high}.",
        ),
    ]


def metric_rules() -> list[Rule]:
    return [
        _present("measure_id_present", "measure_id", "which measure"),
        _output_key(
            "metric_key_unique",
            ["measure_id", "period_start", "period_end", "breakdown"],
            "metric",
        ),
        _present("status_present", "status", "final, provisional or pending"),
        _present("definition_version_present", "definition_version", "the definition used"),
        _no_identifiers(),
        between(
            "value_non_negative",
            "num_value",
            0,
            None,
            ["value"],
            "`value` is not negative (proportions, rates per 100,000 and lengths of stay alike).",
        ),
        flag(
            "proportion_in_unit_interval",
            ["numerator", "denominator", "value"],
            "A proportion — a row whose `value` equals `numerator` / `denominator` — is "
            "0–1, with `numerator` no larger than `denominator`.",
        ),
        between(
            "numerator_non_negative",
            "num_numerator",
            0,
            None,
            ["numerator"],
            "`numerator` is not negative.",
        ),
        flag(
            "denominator_positive",
            ["denominator", "value"],
            "A row with a `value` and a `denominator` has a positive denominator.",
        ),
        in_set(
            "status_code",
            "status",
            list(measure_rules.STATUS),
            "`status` is one of the build's metric statuses (transforms.build.measure_rules).",
        ),
        in_set(
            "measure_id_known",
            "measure_id",
            [m.measure_id for m in measure_catalogue.MEASURES],
            "`measure_id` is a measure defined in transforms.build.measure_catalogue.",
        ),
        flag(
            "proportion_measure_range",
            ["measure_id", "value"],
            "A measure whose unit is a proportion ("
            + ", ".join(f"`{m}`" for m in proportion_measures())
            + ") has a `value` of 0–1.",
        ),
        flag(
            "period_ordered",
            ["period_start", "period_end"],
            "`period_start` is on or before `period_end`.",
        ),
    ]


OUTPUT_RULES = {
    "person": person_rules,
    "care_event": care_event_rules,
    "pathway2_stay": pathway2_stay_rules,
    "metric": metric_rules,
}


# ---------------------------------------------------------------------------- assembly
def rules_for(name: str) -> list[Rule]:
    if name in SOURCE_RULES:
        columns = [*SOURCE_COLUMNS[name], *K.PROVENANCE]
        return [
            *schema_rules(columns, "landing contract (plus provenance)", typed=True),
            row_count_rule("landing batch"),
            failing_share_rule(),
            *SOURCE_RULES[name](),
        ]
    if name in OUTPUT_RULES:
        return [
            *schema_rules(output_columns()[name], "shared_care DDL", typed=False),
            row_count_rule("table"),
            *OUTPUT_RULES[name](),
        ]
    raise KeyError(f"no suite named {name!r}; suites are {ALL_SUITES}")


def suite_json(name: str) -> dict:
    rules = rules_for(name)
    seen = set()
    for r in rules:
        key = (r.rule, json.dumps(r.kwargs, sort_keys=True))
        if key in seen:
            raise ValueError(f"{name}: rule {r.rule} defined twice with the same kwargs")
        seen.add(key)
    kind = "source" if name in SOURCE_SUITES else "output"
    meta = {
        "table": name,
        "kind": kind,
        "generated_by": "python -m transforms.validation",
        "small_batch_rows": SMALL_BATCH_ROWS,
    }
    if kind == "source":
        meta["key"] = SOURCE_KEYS[name]
        meta["behaviour"] = (
            "error rules quarantine the row; warning rules record a finding; batch rules "
            "stop the night"
        )
    else:
        meta["behaviour"] = "any failed rule stops the night before anything is published"
        meta["columns"] = output_columns()[name]
        meta["date_columns"] = output_date_columns()[name]
    return {
        "name": name,
        "meta": meta,
        "expectations": [r.expectation() for r in rules],
    }


def render(name: str) -> str:
    return json.dumps(suite_json(name), indent=2, ensure_ascii=False) + "\n"


def default_dir() -> Path:
    from transforms.validation.engine import expectations_dir

    return expectations_dir()


def write_suites(folder: Path | None = None) -> list[Path]:
    folder = folder or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ALL_SUITES:
        path = folder / f"{name}.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


def stale_suites(folder: Path | None = None) -> list[str]:
    folder = folder or default_dir()
    return [
        name
        for name in ALL_SUITES
        if not (folder / f"{name}.json").exists()
        or (folder / f"{name}.json").read_text(encoding="utf-8") != render(name)
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        stale = stale_suites()
        if stale:
            print(f"out of date: {', '.join(stale)}; run python -m transforms.validation")
            return 1
        print(f"{len(ALL_SUITES)} suites up to date")
        return 0
    for path in write_suites():
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
