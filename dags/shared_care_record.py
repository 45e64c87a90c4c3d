"""Nightly shared care record: DCC + DCHS -> pseudonymised 'tell it once' warehouse.

Wiring only. Every task calls one stage of ``transforms.nightly.stages`` with the
results of the tasks before it; the logic, its tests and its docs live there. The
last lines of ``shared_care_record`` show the night's data flow.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import (
    Asset,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    SyncCallback,
    dag,
    task,
    task_group,
)

from transforms.config import ScheduleSettings

# the Airflow glue beside this file (not itself a DAG: .airflowignore) holds the callbacks
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from airflow_glue import RunFailureNotifier, TaskFailureNotifier, missed_deadline  # noqa: E402

RUNBOOK = """
# Shared care record — nightly

Pulls the night's changes from **DCC** (Mosaic-like database, on the `last_updated`
watermark) and **DCHS** (SystmOne-like drops, manifest-checked), validates them,
pseudonymises them at the edge, links people, builds the unified record and measures,
validates the output, and publishes everything **in one transaction**.

| stage | what it does | if it fails |
|---|---|---|
| prepare | checks the key, creates the schema, reads last night's state | key missing/weak: set the `pseudonymisation_key` connection or `CARE_KEY_FILE` |
| extract | DCC since the watermark; DCHS drops not yet ingested | DCC unreachable: retries, then fails; nothing moves. A bad drop waits for a later night |
| validate_sources | source suites (Great Expectations): bad rows quarantined with reasons | a batch breach stops the night; see Data Docs under `CARE_DATA_DIR/reports/data_docs` |
| pseudonymise | standardise, then keyed tokens and Bloom filters; clear identifiers stop here | |
| link_people | NHS-number pass, then Splink; stable person keys | |
| build_tables | person, care_event, pathway2_stay, metric; output suites | a breach stops here; nothing published |
| publish | one transaction: shared_care, identity, audit, watermark, drops | warehouse down: retries; the prepared build is kept, re-run the task |

**Re-run a night**: clear the run; it is idempotent. **Rebuild everything**: trigger with
`full_refresh = true` (person keys are kept). **Audit**: `audit.pipeline_run`,
`audit.row_accounting`, `audit.quarantine`, `audit.validation_result`.
More in `docs/runbook.md`.
"""

PUBLISHED = [
    Asset(name=f"shared_care.{table}", uri=f"care-warehouse://shared_care/{table}")
    for table in ("person", "care_event", "pathway2_stay", "metric")
]

# Retries: sources and the warehouse get one more try than the default, since their
# outages are the ones that pass. Operators may tune both through the environment.
SCHEDULE = ScheduleSettings.from_env()
RETRIES = SCHEDULE.task_retries
RETRY_DELAY = timedelta(seconds=SCHEDULE.retry_delay_seconds)
OUTAGE_RETRIES = RETRIES + 1
#: The night should have published this long after its 02:00 start; past it, on call hears.
#: Off unless set (compose sets 5): Airflow 3.3's ``dag.test()`` fails on a DAG with a
#: deadline alert, and the local run and the end-to-end tests use it.
PUBLISH_DEADLINE_HOURS = SCHEDULE.publish_deadline_hours
DEADLINE = (
    DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=timedelta(hours=PUBLISH_DEADLINE_HOURS),
        callback=SyncCallback(missed_deadline, kwargs={"hours": PUBLISH_DEADLINE_HOURS}),
        name="night published",
    )
    if PUBLISH_DEADLINE_HOURS
    else None
)

DEFAULT_ARGS = {
    "owner": "care-data-engineering",
    "retries": RETRIES,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=2),
}


def _settings():
    from airflow_glue import settings_from_airflow

    return settings_from_airflow()


def _ctx(context):
    from transforms.nightly.context import context_from_airflow

    return context_from_airflow(context, _settings())


def _key():
    from airflow_glue import key_from_airflow

    return key_from_airflow()


def _run(stage, context, *results: dict, with_key: bool = False) -> dict:
    """Run one stage with the run's context (and the key, for the stages that use it)
    and the results of the tasks it follows, as XCom carried them; return its result.
    Failures that no retry can mend (a missing key, schema drift, a validation breach,
    unbalanced accounting) fail the task at once; outages raise as they are, and the
    task's retries apply."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from transforms.nightly.errors import (
        describe_error,
        nothing_to_do_types,
        permanent_error_types,
    )
    from transforms.nightly.results import Result, from_xcom

    try:
        args = [_ctx(context), *([_key()] if with_key else []), *map(from_xcom, results)]
        output = stage(*args)
    except nothing_to_do_types() as exc:
        raise AirflowSkipException(describe_error(exc)) from exc
    except permanent_error_types() as exc:
        raise AirflowFailException(describe_error(exc)) from exc
    return output.to_xcom() if isinstance(output, Result) else output


@dag(
    dag_id="shared_care_record",
    description="Nightly pseudonymised shared care record for the DCC/DCHS partnership",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": TaskFailureNotifier()},
    on_failure_callback=RunFailureNotifier(),
    deadline=DEADLINE,
    doc_md=RUNBOOK,
    tags=["shared-care", "dcc", "dchs", "pseudonymised"],
    params={
        "full_refresh": Param(
            False,
            type="boolean",
            description="Ignore watermarks and ingested drops and rebuild from all source "
            "data. Person keys are kept.",
        )
    },
    dagrun_timeout=timedelta(hours=6),
)
def shared_care_record():
    @task
    def prepare(**context) -> dict:
        from transforms.nightly.stages.prepare import prepare

        return _run(prepare, context, with_key=True)

    @task(task_id="dcc", retries=OUTAGE_RETRIES)
    def extract_dcc(plan: dict, **context) -> dict:
        from transforms.nightly.stages.extract import extract_dcc

        return _run(extract_dcc, context, plan)

    @task(task_id="dchs")
    def extract_dchs(plan: dict, **context) -> dict:
        from transforms.nightly.stages.extract import extract_dchs

        return _run(extract_dchs, context, plan)

    @task_group(group_id="extract")
    def extract(plan):
        """The two sources, side by side."""
        return extract_dcc(plan), extract_dchs(plan)

    @task(retries=0)
    def validate_sources(plan: dict, dcc: dict, dchs: dict, **context) -> dict:
        from transforms.nightly.stages.validate import validate_sources

        return _run(validate_sources, context, plan, dcc, dchs)

    @task
    def pseudonymise(plan: dict, checked: dict, **context) -> dict:
        from transforms.nightly.stages.pseudonymise import pseudonymise

        return _run(pseudonymise, context, plan, checked, with_key=True)

    @task
    def link_people(plan: dict, tokens: dict, **context) -> dict:
        from transforms.nightly.stages.link import link_people

        return _run(link_people, context, plan, tokens)

    @task(retries=0)
    def build_tables(plan: dict, checked: dict, tokens: dict, links: dict, **context) -> dict:
        from transforms.nightly.stages.build import build_tables

        return _run(build_tables, context, plan, checked, tokens, links)

    @task(outlets=PUBLISHED, retries=OUTAGE_RETRIES)
    def publish(plan, dcc, dchs, checked, links, tables, **context) -> dict:
        from transforms.nightly.stages.publish import publish

        return _run(publish, context, plan, dcc, dchs, checked, links, tables)

    plan = prepare()
    dcc, dchs = extract(plan)
    checked = validate_sources(plan, dcc, dchs)
    tokens = pseudonymise(plan, checked)
    links = link_people(plan, tokens)
    tables = build_tables(plan, checked, tokens, links)
    publish(plan, dcc, dchs, checked, links, tables)


shared_care_record()
