"""The DCC (adult social care, CLD) source rules: ``dcc_person`` and ``dcc_event``."""

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
from transforms.validation.rules.core import Rule, code_list, flag


def dcc_person_rules() -> list[Rule]:
    return [
        present("la_person_id_present", "la_person_id", "the person key"),
        unique_key("la_person_id_unique", ["la_person_id"], "person"),
        present("record_status_present", "record_status", "active or merged"),
        code_list("record_status_code", "record_status", codes.RECORD_STATUS, "record statuses"),
        *_merge_rules(),
        *nhs_rules(0.80),
        *demographic_rules("date_of_birth", "date_of_death"),
        date_format("last_updated", "timestamp"),
        *_person_code_rules(),
        *address_rules(),
    ]


def _merge_rules() -> list[Rule]:
    return [
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
    ]


def _person_code_rules() -> list[Rule]:
    return [
        code_list("gender_code", "gender", codes.CLD_GENDER, "CLD Gender list", "warning"),
        code_list(
            "ethnicity_code",
            "ethnicity",
            codes.CLD_ETHNICITY,
            "Census 2021 ethnic groups",
            "warning",
        ),
        code_list(
            "primary_support_reason_code",
            "primary_support_reason",
            codes.CLD_PRIMARY_SUPPORT_REASON,
            "CLD Primary Support Reason list",
            "warning",
        ),
        code_list(
            "accommodation_status_code",
            "accommodation_status",
            codes.CLD_ACCOMMODATION_STATUS,
            "CLD Accommodation Status list",
            "warning",
        ),
        code_list(
            "has_unpaid_carer_code", "has_unpaid_carer", codes.HAS_UNPAID_CARER, "Y/N/U", "warning"
        ),
        code_list(
            "client_type_code",
            "client_type",
            codes.CLD_CLIENT_TYPE,
            "CLD Client Type list",
            "warning",
        ),
        code_list(
            "client_funding_status_code",
            "client_funding_status",
            codes.CLD_CLIENT_FUNDING_STATUS,
            "CLD Client Funding Status list",
            "warning",
        ),
    ]


def dcc_event_rules() -> list[Rule]:
    return [
        present("event_reference_present", "event_reference", "the event key"),
        unique_key("event_reference_unique", ["event_reference"], "event"),
        present("la_person_id_present", "la_person_id", "whose event"),
        person_exists("la_person_id", "DCC person"),
        present("event_type_present", "event_type", "Request, Assessment, Service, Review"),
        code_list("event_type_code", "event_type", codes.CLD_EVENT_TYPE, "CLD Event Type list"),
        *_event_date_rules(),
        code_list(
            "event_outcome_code", "event_outcome", codes.CLD_EVENT_OUTCOME, "CLD Event Outcome list"
        ),
        *_event_type_field_rules(),
        _duplicate_event(),
        flag(
            "team_convention",
            ["team"],
            "`team`, when recorded, follows the partnership's convention: `START`, "
            "`HOSPITAL-SW`, `CSB-<unit>` or `ASC-<area>` (a warning: Community Support Bed "
            "stays are recognised by their `CSB-` team).",
            "warning",
        ),
        date_format("last_updated", "timestamp"),
    ]


def _event_date_rules() -> list[Rule]:
    return [
        present("event_start_date_present", "event_start_date", "when the event began"),
        date_format("event_start_date"),
        date_format("event_end_date"),
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
    ]


def _required(rule, column, event_type) -> Rule:
    return flag(
        rule,
        ["event_type", column],
        f"A {event_type} event records `{column}` (CLD conditional mandatory field).",
    )


def _event_type_field_rules() -> list[Rule]:
    """Each event type's own fields: recorded when its type requires them, and coded."""
    return [
        _required("request_route_of_access_required", "request_route_of_access", "Request"),
        code_list(
            "request_route_of_access_code",
            "request_route_of_access",
            codes.CLD_REQUEST_ROUTE_OF_ACCESS,
            "CLD Request Route of Access list",
        ),
        _required("assessment_type_required", "assessment_type", "Assessment"),
        code_list(
            "assessment_type_code",
            "assessment_type",
            codes.CLD_ASSESSMENT_TYPE,
            "CLD Assessment Type list",
        ),
        _required("service_type_required", "service_type", "Service"),
        _required("service_component_required", "service_component", "Service"),
        code_list(
            "service_type_code", "service_type", codes.CLD_SERVICE_TYPE, "CLD Service Type list"
        ),
        code_list(
            "service_component_code",
            "service_component",
            codes.CLD_SERVICE_COMPONENT,
            "partnership's subset of the CLD Service Component list (a warning: the national "
            "list is longer)",
            "warning",
        ),
        code_list(
            "delivery_mechanism_code",
            "delivery_mechanism",
            codes.CLD_DELIVERY_MECHANISM,
            "CLD Delivery Mechanism list",
        ),
        _required("review_reason_required", "review_reason", "Review"),
        code_list(
            "review_reason_code",
            "review_reason",
            codes.CLD_REVIEW_REASON,
            "partnership's subset of the CLD Review Reason list (a warning: the national list "
            "is longer)",
            "warning",
        ),
    ]


def _duplicate_event() -> Rule:
    return flag(
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
    )
