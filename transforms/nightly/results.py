"""What each stage of the night hands to the next: references to the files it wrote,
and its counts. Never data: the files are the data.

A stage returns one of these; Airflow carries it to the next task as XCom
(:meth:`Result.to_xcom`, a small JSON object of paths and counts) and the next task
gets it back with :func:`from_xcom`. Read the DAG's last lines to see the flow::

    plan = prepare()
    dcc, dchs = extract(plan)
    checked = validate_sources(plan, dcc, dchs)
    tokens = pseudonymise(plan, checked)
    links = link_people(plan, tokens)
    tables = build_tables(plan, checked, tokens, links)
    publish(plan, dcc, dchs, checked, links, tables)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Result:
    def to_xcom(self) -> dict:
        return {"kind": type(self).__name__, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class NightPlan(Result):
    """What ``prepare`` found and decided: the published run tonight builds on, where
    the sources stand, the key, and whether the night rebuilds from all source data."""

    full_refresh: bool
    key_version: str
    key_fingerprint: str
    key_rotated: bool
    based_on: dict  # the published head (lineage.Head.as_dict)
    started_at: str
    last_run_id: str | None = None
    #: the tokens folder of the last published night (None: first night, full refresh)
    previous_tokens: str | None = None
    dcc_watermark: str | None = None
    ingested_drops: dict[str, str] = field(default_factory=dict)  # drop date -> manifest
    accepted_drops: dict[str, str] = field(default_factory=dict)
    plan_file: str | None = None

    @property
    def first_or_full(self) -> bool:
        """A night that reads every source row: the first one, or a full refresh."""
        return self.full_refresh or self.last_run_id is None


@dataclass(frozen=True)
class Landed(Result):
    """An extract's landing files (table -> Parquet path), their rows, and its summary."""

    source: str
    files: dict[str, str]
    rows: dict[str, int]
    summary_file: str
    watermark: str | None = None  # DCC: the highest last_updated taken
    drops: int = 0  # DCHS: drops ingested tonight
    held: int = 0  # DCHS: drops held (late, changed or malformed)


@dataclass(frozen=True)
class CheckedSources(Result):
    """The source suites' outcome: the landing files they checked, the rows quarantined
    (with reasons) and warned, and the suites' counts."""

    landing: dict[str, str]
    quarantine_file: str
    findings_file: str
    suites_file: str
    data_docs: str
    quarantined: int
    warnings: int


@dataclass(frozen=True)
class Tokens(Result):
    """Tonight's pseudonymised state: every person record and event, and the keys of
    what tonight sent."""

    folder: str
    person_records: int
    events: int


@dataclass(frozen=True)
class Links(Result):
    """The person index, tonight's key history, the review queue and the summary."""

    person_index_file: str
    key_history_file: str
    review_queue_file: str
    summary_file: str
    model_file: str
    report: str
    persons: int
    review_queue: int


@dataclass(frozen=True)
class Tables(Result):
    """The built shared_care tables (table -> Parquet path), the audit frames, the
    tokens folder (the night's state, the whole care_event table in it), and whether care_event is
    rebuilt in part (an incremental night) or whole."""

    files: dict[str, str]
    tokens_folder: str
    accounting_file: str
    validation_file: str
    summary_file: str
    care_event_rows: int
    persons: int
    persons_both: int
    #: an incremental night's rebuilt care events and the event ids they replace
    care_event_rebuilt_file: str | None = None
    care_event_replaced_file: str | None = None

    @property
    def care_event_incremental(self) -> bool:
        return self.care_event_rebuilt_file is not None


RESULTS = {cls.__name__: cls for cls in (NightPlan, Landed, CheckedSources, Tokens, Links, Tables)}


def from_xcom(payload: dict) -> Result:
    """The result a task returned, from its XCom JSON."""
    values = dict(payload)
    kind = values.pop("kind", None)
    if kind not in RESULTS:
        raise ValueError(f"not a stage result: kind {kind!r}")
    return RESULTS[kind](**values)
