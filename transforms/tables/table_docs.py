"""What every warehouse table and column holds, in words.

:mod:`transforms.tables.dictionary` prints these in the data dictionary and
:mod:`transforms.tables.warehouse_comments` puts them on the tables as ``COMMENT ON``;
a test checks that they name exactly the columns of ``sql/ddl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transforms.tables.measure_rules import DISCHARGE_BEFORE_DAYS, PATHWAY2_MAX_GAP_DAYS


@dataclass(frozen=True)
class TableDoc:
    name: str  # schema.table
    description: str
    columns: dict[str, str] = field(default_factory=dict)


_PERIOD_COLUMNS = {
    "period_start": "First day of the period (a snapshot: as_of).",
    "period_end": "Last day of the period (a snapshot: as_of).",
}

SHARED_CARE_TABLES: tuple[TableDoc, ...] = (
    TableDoc(
        "shared_care.person",
        "One row per person in the shared care record (pseudonymised; survivorship rules "
        "in the data dictionary). No name, NHS number, full date of birth, address or "
        "full postcode.",
        {
            "person_key": "Random surrogate key from the person index (P + 16 hex digits); "
            "stable across nights, never derived from an identifier.",
            "sex": "M, F, X (other/indeterminate) or U (unknown): most recent known value.",
            "age_band": "5-year age band (0-4 ... 90+) at as_of, or at death if earlier.",
            "ethnicity_group": "Census 2021 high-level group: White, Mixed, Asian, Black, "
            "Other, Not stated.",
            "district": "Local authority district of the most recent postcode district.",
            "death_month": "YYYY-MM of the earliest recorded date of death, else empty.",
            "date_of_death": "The earliest recorded date of death, else empty (the measures' "
            "84- and 91-day follow-up windows need the day).",
            "communication_need": "BSL, Interpreter, Other or empty: the most specific need "
            "recorded by either organisation.",
            "need_recorded_by": "Which organisations' records hold a BSL or interpreter "
            "need: dcc, dchs, both, or empty.",
            "interpreter_language": "Language for an interpreter (incl. British Sign "
            "Language), 'Other', or empty.",
            "unpaid_carer": "Has an unpaid carer (DCC CLD Has_Unpaid_Carer); empty if unknown.",
            "known_to": "dcc, dchs or both: which organisations hold active records.",
            "first_seen": "Earliest event start date of the person.",
            "last_seen": "Latest event start date of the person.",
            "source_record_count": "Active source records linked to the person.",
            "min_link_probability": "Lowest link probability among the person's records.",
        },
    ),
    TableDoc(
        "shared_care.person_conflict",
        "Attributes on which a person's source records disagree. Never silently resolved: "
        "the person table shows the surviving value, this table says it is contested. "
        "Counts only, no values.",
        {
            "person_key": "The person (shared_care.person).",
            "attribute": "sex, date_of_birth, birth_year, birth_month, date_of_death or "
            "death_recorded.",
            "n_distinct": "How many different values the records hold (death_recorded: 2 = "
            "recorded / not recorded).",
            "sources": "Comma-separated organisations (dcc, dchs) whose records hold the "
            "values in conflict.",
            "detected_on": "The night (as_of) the conflict was seen.",
        },
    ),
    TableDoc(
        "shared_care.care_event",
        "Every published source event on the person's key: DCC requests, assessments, "
        "services and reviews; DCHS referrals, care contacts and community hospital "
        "spells. Events of DCC records merged into another record belong to the surviving "
        "person.",
        {
            "event_id": "source:source_event_id - dcc:<event_reference>, "
            "dchs:ref:<service_request_id>, dchs:con:<service_request_id>:<care_contact_id>, "
            "dchs:spell:<hospital_provider_spell_number>.",
            "person_key": "The person (shared_care.person).",
            "organisation": "DCC or DCHS.",
            "event_type": "request, assessment, service, review (DCC); referral, contact, "
            "inpatient_spell (DCHS).",
            "setting": "home, community_hospital, care_home, community_support_bed, "
            "community, hospital or other.",
            "pathway": "Discharge pathway 0-3 of a community hospital spell (DCHS local "
            "field), else empty.",
            "service_category": "reablement, st_max_bed, long_term_residential, "
            "long_term_nursing, long_term_community, crisis_response, "
            "home_intermediate_care, bed_intermediate_care, district_nursing, therapy, other.",
            "start_date": "Start (request/contact date, referral received, admission).",
            "end_date": "End (service end, referral discharge, hospital discharge); empty "
            "while open.",
            "outcome": "Common outcome label (CLD event outcome or DCHS discharge destination "
            "/ attendance).",
            "route_of_access": "How the person came: e.g. discharge_from_hospital, "
            "community_step_up, care_home, primary_care.",
            "discharge_destination_code": "NHS Data Dictionary discharge destination of a "
            "community hospital spell (19 usual residence ... 98 not yet discharged).",
            "age_at_event": "Whole years at start_date from year and month of birth.",
            "age_band": "5-year band of age_at_event (0-4 ... 90+).",
            "age_at_end": "Whole years at end_date (e.g. a hospital discharge) from the "
            "record's year and month of birth.",
            "client_type": "DCC events: the CLD client type of the person record - "
            "service_user, carer or carer_known_by_association (ASCOF counts service users "
            "only); empty for DCHS.",
        },
    ),
    TableDoc(
        "shared_care.pathway2_stay",
        "Pathway 2 (bed-based rehabilitation / intermediate care) episodes: DCHS community "
        "hospital spells and DCC Community Support Bed stays of one person, joined when "
        f"one starts at most {PATHWAY2_MAX_GAP_DAYS} day after the previous one ends "
        "(a CSB -> community hospital transfer is one episode).",
        {
            "stay_id": "p2: + the event_id of the episode's first stay.",
            "person_key": "The person (shared_care.person).",
            "episode_start": "Admission date of the first stay.",
            "episode_end": "Discharge date of the last stay; empty while any stay is open.",
            "settings": "Settings of the stays in order, '>'-separated, repeats collapsed: "
            "community_hospital, community_support_bed, "
            "community_support_bed>community_hospital, ...",
            "n_stays": "Number of stays in the episode.",
            "length_of_stay_days": "episode_end - episode_start in days; empty while open.",
            "exit_destination": "usual_residence, temporary_residence, care_home, hospital, "
            "died, hospice, other, unknown, or not_yet_discharged.",
            "age_at_admission": "Age at the first admission (whole years).",
            "entry_route": "How the episode began: discharge_from_hospital (step-down; for a "
            f"CSB, hospital-discharge evidence up to {DISCHARGE_BEFORE_DAYS} days before), "
            "community_step_up, care_home, or other.",
        },
    ),
    TableDoc(
        "shared_care.metric",
        "One row per measure, period and breakdown (definitions in the data dictionary; "
        "one view per measure, shared_care.v_metric_<measure_id>).",
        {
            "measure_id": "Measure identifier (see the data dictionary).",
            "measure_name": "Measure name.",
            **_PERIOD_COLUMNS,
            "breakdown": "'all', or dimension:value (e.g. age_band:75-84, sex:F, "
            "setting:community_hospital, window:pending).",
            "numerator": "Numerator (a count); empty for a length-of-stay statistic or a "
            "pending row.",
            "denominator": "Denominator (count or population).",
            "value": "The measure: a 0-1 proportion, a rate per 100,000 or days (see the "
            "measure's unit).",
            "status": "final, provisional, pending, partial_history or no_population.",
            "definition_version": "Version of the measure definition it was computed under.",
            "as_of": "The night the data is as of (activity before this date).",
        },
    ),
)
_METRIC_DOC = SHARED_CARE_TABLES[-1]
SHARED_CARE_TABLES += (
    TableDoc(
        "shared_care.metric_history",
        "Every night's shared_care.metric rows, for trends (shared_care.metric holds the "
        "latest night only). A night published again replaces that night's rows; other "
        "nights' rows are kept. View: shared_care.v_metric_history.",
        {
            **_METRIC_DOC.columns,
            "as_of": "The night the figures are as of: one set of rows per night.",
            "run_id": "The pipeline run that published this night's rows.",
        },
    ),
)

IDENTITY_TABLES: tuple[TableDoc, ...] = (
    TableDoc(
        "identity.person_index",
        "Restricted. Which source record belongs to which person key.",
        {
            "source": "dcc or dchs.",
            "source_record_id": "DCC la_person_id or DCHS local_patient_id.",
            "person_key": "The person's random surrogate key.",
            "record_status": "active, or merged (a DCC record merged into another).",
            "link_route": "Strongest route that linked the record: singleton, "
            "deterministic, probabilistic, review or source_merge.",
            "link_probability": "Best match probability of the record's links (1.0 if none).",
            "first_seen_run": "Run that first indexed the record.",
            "last_changed_run": "Run that last changed the record's key.",
        },
    ),
    TableDoc(
        "identity.person_key_history",
        "Restricted. Key events: created, merged_into, split_from, retired.",
        {
            "person_key": "The key the event is about.",
            "event": "created, merged_into, split_from or retired.",
            "other_person_key": "The surviving key (merged_into) or the parent (split_from).",
            "records": "Source records in the cluster at the time.",
            "run_id": "Run that recorded the event.",
            "night": "Night of that run.",
        },
    ),
    TableDoc(
        "identity.review_queue",
        "Restricted. Uncertain record pairs for clerical review (this night's).",
        {
            "source_l": "Left record's source.",
            "source_record_id_l": "Left record's id.",
            "source_r": "Right record's source.",
            "source_record_id_r": "Right record's id.",
            "match_probability": "Model match probability.",
            "match_weight": "Model match weight (log2 Bayes factor).",
            "evidence": "Comparison levels (gamma_*) of the pair.",
            "run_id": "Run that queued the pair.",
        },
    ),
    TableDoc(
        "identity.review_decision",
        "Restricted. Reviewers' decisions; they override the model on later nights.",
        {
            "source_l": "Left record's source.",
            "source_record_id_l": "Left record's id.",
            "source_r": "Right record's source.",
            "source_record_id_r": "Right record's id.",
            "decision": "match or non-match.",
            "decided_by": "Reviewer (who decided).",
            "decided_at": "When decided (UTC).",
            "reason": "Why, in the reviewer's words (no identifiers); "
            "written by `python -m transforms.review decide`.",
        },
    ),
)

AUDIT_TABLES: tuple[TableDoc, ...] = (
    TableDoc(
        "audit.pipeline_run",
        "One row per published (or failed) nightly run.",
        {
            "run_id": "Airflow run id.",
            "night": "The night (Europe/London).",
            "status": "published or failed.",
            "full_refresh": "Whether the night rebuilt from all source data.",
            "key_version": "Pseudonymisation key version used.",
            "tokens_path": "Where the run's tokens-zone state is.",
            "dcc_extracted": "DCC rows extracted.",
            "dcc_published": "DCC rows published.",
            "dcc_quarantined": "DCC rows quarantined.",
            "dcc_merged": "DCC person rows merged into another record.",
            "dchs_extracted": "DCHS rows extracted.",
            "dchs_published": "DCHS rows published.",
            "dchs_quarantined": "DCHS rows quarantined.",
            "dchs_merged": "DCHS rows merged (always 0).",
            "persons": "People published.",
            "persons_both": "People known to both organisations.",
            "started_at": "Run start (UTC).",
            "finished_at": "Run end (UTC).",
            "timings_json": "Step timings.",
            "error": "Error of a failed run.",
            "generation": "Publish generation: one more than the run it was built on.",
            "based_on_run_id": "Published run this run was built on (none on a first night).",
            "key_fingerprint": "Keyed fingerprint of the pseudonymisation key (never the key).",
        },
    ),
    TableDoc(
        "audit.source_finding",
        "Source rows an extract saw but could not take that night, counted.",
        {
            "run_id": "Run.",
            "source": "dcc or dchs.",
            "table_name": "Source table.",
            "finding": "What was seen (e.g. null_last_updated, future_last_updated).",
            "row_count": "Rows concerned.",
            "detail": "What happens to them, in words (no values).",
        },
    ),
    TableDoc(
        "audit.row_accounting",
        "Per run and landing table: extracted = published + quarantined + merged.",
        {
            "run_id": "Run.",
            "source": "dcc or dchs.",
            "table_name": "Landing table.",
            "extracted": "Rows extracted.",
            "published": "Rows published.",
            "quarantined": "Rows quarantined.",
            "merged": "Rows merged into another record.",
            "balanced": "extracted = published + quarantined + merged.",
        },
    ),
    TableDoc(
        "audit.watermark",
        "DCC extract watermark (last_updated) of the last published run.",
        {
            "source": "Source (dcc).",
            "watermark": "Highest last_updated taken.",
            "run_id": "Run that moved it.",
        },
    ),
    TableDoc(
        "audit.schema_version",
        "The warehouse schema the pipeline last applied; a night whose fingerprint matches "
        "skips the DDL.",
        {
            "fingerprint": "Hash of sql/ddl, sql/views and the data dictionary's comments.",
            "applied_at": "When it was applied (UTC).",
        },
    ),
    TableDoc(
        "audit.dchs_drop",
        "DCHS drops ingested, each once.",
        {
            "drop_date": "Drop folder date.",
            "manifest_sha256": "SHA-256 of its manifest.",
            "rows_total": "Rows in the drop.",
            "run_id": "Run that ingested it.",
        },
    ),
    TableDoc(
        "audit.drop_rejection",
        "DCHS drops (and other entries of the drop folder) not applied by a run, and why.",
        {
            "run_id": "Run.",
            "drop_date": "Drop folder name as found.",
            "reason": "Why not applied: file, row where known, and rule; no data values.",
            "kind": "bad_name, not_a_directory, malformed, held_behind, late, changed or "
            "replay_failed.",
        },
    ),
    TableDoc(
        "audit.drop_acceptance",
        "Held DCHS drops an operator accepted as corrections "
        "(python -m transforms.ops.drops accept); the next night lands each and replays "
        "the drops ingested after it.",
        {
            "drop_date": "Drop folder date.",
            "manifest_sha256": "SHA-256 of the manifest accepted; a later change is held again.",
            "accepted_by": "Who accepted it.",
            "accepted_at": "When (UTC).",
            "reason": "Why it was accepted.",
        },
    ),
    TableDoc(
        "audit.validation_result",
        "Great Expectations suite results per run.",
        {
            "run_id": "Run.",
            "suite": "Suite name.",
            "rows_in": "Rows validated.",
            "rows_quarantined": "Rows quarantined by the suite.",
            "rows_warned": "Rows with warnings.",
            "success": "Whether the suite passed.",
            "rules_evaluated": "Expectations evaluated.",
            "data_docs_path": "Data Docs index.",
        },
    ),
    TableDoc(
        "audit.quarantine",
        "Rows held back, with the rule they broke.",
        {
            "run_id": "Run.",
            "source": "dcc or dchs.",
            "table_name": "Landing table.",
            "source_record_id": "Record id of the row, if any.",
            "source_file": "File (or table) the row came from.",
            "source_row": "Row number (or primary key).",
            "rule": "Rule broken.",
            "severity": "Severity.",
            "description": "What is wrong.",
        },
    ),
    TableDoc(
        "audit.linkage_summary",
        "Linkage counts per run (pairs by route, keys created/merged/split, review queue).",
        {"run_id": "Run.", "measure": "What is counted.", "value": "The count."},
    ),
    TableDoc(
        "audit.task_failure",
        "Airflow task failures (failure callback).",
        {
            "run_id": "Run.",
            "dag_id": "DAG.",
            "task_id": "Task.",
            "failed_at": "When (UTC).",
            "error": "Error message.",
        },
    ),
)

TABLES: tuple[TableDoc, ...] = SHARED_CARE_TABLES + IDENTITY_TABLES + AUDIT_TABLES
TABLE_BY_NAME = {t.name: t for t in TABLES}
