"""Every file a night writes, where it lives, which stage writes it and which read it.

A night's files live in three zones:

* ``run``: the run's own folder (``runs/<night>/<run>``): the plan, the checks, the
  built tables and the timings; kept for diagnosis.
* ``landing``: the extracted source rows, clear identifiers included (mode 0700);
  deleted once the night is published, or after the retention period.
* ``tokens``: the pseudonymised state (``tokens/<night>/<run>``): what the next night
  starts from, once this night is published.

Stages name a file by its :class:`Artifact` constant, never by a string, and
:func:`path_of` places it. ``docs/architecture.md`` shows the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transforms.nightly.context import RunContext

PREPARE, EXTRACT, VALIDATE, PSEUDONYMISE, LINK, BUILD, PUBLISH = (
    "prepare",
    "extract",
    "validate_sources",
    "pseudonymise",
    "link_people",
    "build_tables",
    "publish",
)
NEXT_NIGHT = "the next night"


@dataclass(frozen=True)
class Artifact:
    zone: str  # run | landing | tokens
    file: str  # relative to the zone's folder
    written_by: str
    read_by: tuple[str, ...]
    what: str


def _landing(table: str, readers=(VALIDATE, PSEUDONYMISE, BUILD)) -> Artifact:
    return Artifact(
        "landing", f"{table}.parquet", EXTRACT, readers, f"extracted {table} rows, as sent"
    )


PLAN = Artifact(
    "run", "plan.json", PREPARE, (),
    "the night's plan as prepare returned it (every stage gets it as its first result)",
)  # fmt: skip
DCC_EXTRACT = Artifact(
    "run", "extract/dcc.json", EXTRACT, (PUBLISH,),
    "the DCC extract's rows, new watermark and findings",
)  # fmt: skip
DCHS_EXTRACT = Artifact(
    "run", "extract/dchs.json", EXTRACT, (PUBLISH,),
    "the DCHS drops ingested and held, with their manifests",
)  # fmt: skip
DCC_PERSON = _landing("dcc_person")
DCC_EVENT = _landing("dcc_event")
DCHS_PATIENT = _landing("dchs_patient")
DCHS_REFERRAL = _landing("dchs_referral")
DCHS_CARE_CONTACT = _landing("dchs_care_contact")
DCHS_INPATIENT_SPELL = _landing("dchs_inpatient_spell")
#: landing table name -> its artifact, in the order the source suites run
LANDING = {
    "dcc_person": DCC_PERSON,
    "dchs_patient": DCHS_PATIENT,
    "dcc_event": DCC_EVENT,
    "dchs_referral": DCHS_REFERRAL,
    "dchs_care_contact": DCHS_CARE_CONTACT,
    "dchs_inpatient_spell": DCHS_INPATIENT_SPELL,
}
QUARANTINE = Artifact(
    "run", "checks/quarantine.parquet", VALIDATE, (PSEUDONYMISE, BUILD, PUBLISH),
    "source rows held back, each with its file, row, rule and reason",
)  # fmt: skip
FINDINGS = Artifact(
    "run", "checks/findings.parquet", VALIDATE, (),
    "source rows kept with a warning, and why (for diagnosis)",
)  # fmt: skip
SOURCE_SUITES = Artifact(
    "run", "checks/source_validation.json", VALIDATE, (BUILD,),
    "each source suite's counts and outcome",
)  # fmt: skip
PERSON_RECORDS = Artifact(
    "tokens", "person_record.parquet", PSEUDONYMISE, (LINK, BUILD, NEXT_NIGHT),
    "every source person record, standardised and tokenised (no clear identifier)",
)  # fmt: skip
SOURCE_EVENTS = Artifact(
    "tokens", "source_event.parquet", PSEUDONYMISE, (BUILD, NEXT_NIGHT),
    "every source event, standardised, with the age at the event",
)  # fmt: skip
CHANGED_RECORDS = Artifact(
    "tokens", "changed.parquet", PSEUDONYMISE, (LINK, BUILD),
    "the keys of the person records tonight sent",
)  # fmt: skip
CHANGED_EVENTS = Artifact(
    "tokens", "changed_events.parquet", PSEUDONYMISE, (BUILD,),
    "the keys of the events tonight sent",
)  # fmt: skip
LINKAGE_MODEL = Artifact(
    "tokens", "linkage_model.json", LINK, (LINK, NEXT_NIGHT),
    "the Splink model this night scored with (trained on a full night, else carried)",
)  # fmt: skip
SCORED_PAIRS = Artifact(
    "tokens", "scored_pairs.parquet", LINK, (NEXT_NIGHT,),
    "every candidate pair's score, so the next night scores only what changed",
)  # fmt: skip
CARE_EVENTS = Artifact(
    "tokens", "care_event.parquet", BUILD, (PUBLISH, NEXT_NIGHT),
    "the whole care_event table as a base (and, beside it, the changes since the base)",
)  # fmt: skip
PERSON_INDEX = Artifact(
    "run", "build/identity.person_index.parquet", LINK, (BUILD, PUBLISH),
    "each source record's person key",
)  # fmt: skip
KEY_HISTORY = Artifact(
    "run", "build/identity.person_key_history.parquet", LINK, (PUBLISH,),
    "person keys created, merged and split tonight",
)  # fmt: skip
REVIEW_QUEUE = Artifact(
    "run", "build/identity.review_queue.parquet", LINK, (PUBLISH,),
    "pairs in the review band, with their comparison evidence",
)  # fmt: skip
LINKAGE_SUMMARY = Artifact(
    "run", "build/linkage_summary.json", LINK, (PUBLISH,),
    "the linkage's counts (and accuracy, against synthetic truth)",
)  # fmt: skip


def _table(name: str, what: str) -> Artifact:
    return Artifact("run", f"build/{name}.parquet", BUILD, (PUBLISH,), what)


PERSON = _table("shared_care.person", "one row per person")
PERSON_CONFLICT = _table("shared_care.person_conflict", "attributes the sources disagree on")
PATHWAY2_STAY = _table("shared_care.pathway2_stay", "Pathway 2 bed-based stays")
METRIC = _table("shared_care.metric", "the partnership measures")
CARE_EVENTS_REBUILT = _table(
    "shared_care.care_event.rebuilt", "care events rebuilt tonight (an incremental night)"
)
CARE_EVENTS_REPLACED = _table("shared_care.care_event.replaced", "the event ids those rows replace")
ROW_ACCOUNTING = _table("audit.row_accounting", "every landed row's fate, per table")
VALIDATION_RESULT = _table("audit.validation_result", "every suite's outcome tonight")
BUILD_SUMMARY = Artifact(
    "run", "build/build_summary.json", BUILD, (PUBLISH,), "the built tables' row counts"
)
#: shared_care table -> the artifact the build writes it to (care_event: its own state)
SHARED_CARE_TABLES = {
    "person": PERSON,
    "person_conflict": PERSON_CONFLICT,
    "pathway2_stay": PATHWAY2_STAY,
    "metric": METRIC,
}

ARTIFACTS = tuple(v for v in list(globals().values()) if isinstance(v, Artifact))


def path_of(ctx: RunContext, artifact: Artifact) -> Path:
    """Where ``artifact`` lives for the run ``ctx``."""
    folder = {"run": ctx.run_dir, "landing": ctx.landing_dir, "tokens": ctx.tokens_dir}
    return folder[artifact.zone] / artifact.file


def previous(folder: str | Path | None, artifact: Artifact, *, required: bool = True):
    """``artifact`` in the tokens folder of the night tonight builds on, or None on a
    first night or a full refresh (``folder`` None) and, unless ``required``, when that
    night has no such file."""
    if artifact.zone != "tokens":
        raise ValueError(f"{artifact.file} is not kept in the tokens zone")
    if folder is None:
        return None
    path = Path(folder) / artifact.file
    if path.exists():
        return path
    if not required:
        return None
    raise FileNotFoundError(
        f"the last published night's tokens state has no {artifact.file} at {folder}; "
        "re-run with full_refresh=true to rebuild it from the sources"
    )


def write_json(ctx: RunContext, artifact: Artifact, payload: dict) -> Path:
    import json

    path = path_of(ctx, artifact)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str, sort_keys=True))
    tmp.replace(path)
    return path


def write_parquet(ctx: RunContext, artifact: Artifact, frame) -> Path:
    path = path_of(ctx, artifact)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path
