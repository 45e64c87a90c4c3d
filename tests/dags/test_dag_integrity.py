"""The DAG parses cleanly and fast, follows the project's conventions, imports nothing heavy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
HEAVY = [
    "pandas",
    "great_expectations",
    "splink",
    "duckdb",
    "pyarrow",
    "sqlalchemy",
    "numpy",
    "scipy",
]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["shared_care_record"]


def test_imports_without_errors_and_support_modules_are_not_parsed(dagbag):
    assert dagbag.import_errors == {}
    assert list(dagbag.dag_ids) == ["shared_care_record"]
    assert [Path(s.file).name for s in dagbag.dagbag_stats] == ["shared_care_record.py"]


def test_schedule_timezone_and_concurrency(dag):
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) == "Europe/London"
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "full_refresh" in dag.params
    assert dag.doc_md and "Re-run a night" in dag.doc_md
    assert set(dag.tags) >= {"shared-care", "pseudonymised"}


def test_every_task_retries_with_delay_timeout_and_failure_callback(dag):
    for task in dag.tasks:
        assert task.retries >= 0, task.task_id
        assert task.retry_delay >= timedelta(minutes=1), task.task_id
        assert task.execution_timeout is not None, task.task_id
        assert task.on_failure_callback, task.task_id
    extract = [t for t in dag.tasks if t.task_id.startswith("extract.")]
    assert all(t.retries >= 2 for t in extract)


def test_only_the_two_sources_form_a_group_and_they_extract_in_parallel(dag):
    groups = {t.task_id.split(".")[0] for t in dag.tasks if "." in t.task_id}
    assert groups == {"extract"}  # a group only where a stage has several tasks
    dcc, dchs = dag.get_task("extract.dcc"), dag.get_task("extract.dchs")
    assert dcc.upstream_task_ids == dchs.upstream_task_ids == {"prepare"}
    assert dchs.task_id not in dcc.downstream_task_ids
    order = [
        "prepare",
        "validate_sources",
        "pseudonymise",
        "link_people",
        "build_tables",
        "publish",
    ]
    for before, after in zip(order, order[1:], strict=False):
        assert after in dag.get_task(before).get_flat_relative_ids(upstream=False)


def test_publish_declares_the_published_tables_as_assets(dag):
    names = {a.name for a in dag.get_task("publish").outlets}
    assert names == {
        f"shared_care.{t}" for t in ("person", "care_event", "pathway2_stay", "metric")
    }


def test_dag_file_imports_nothing_heavy_and_parses_quickly():
    probe = f"""
import json, sys, time
import airflow.sdk  # baseline: what Airflow itself loads
before = set(sys.modules)
start = time.perf_counter()
import importlib.util
spec = importlib.util.spec_from_file_location("dagfile", {str(DAGS / "shared_care_record.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - start
new = sorted(set(sys.modules) - before)
print(json.dumps({{"elapsed": elapsed, "new": new}}))
"""
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [m for m in result["new"] if m.split(".")[0] in HEAVY]
    assert heavy == [], f"DAG file imports heavy modules at parse time: {heavy[:10]}"
    # the schedule settings (retries, deadline) are read at parse time from the light
    # transforms.config; the pipeline's logic is imported inside the tasks only
    assert {m for m in result["new"] if m.startswith("transforms")} <= {
        "transforms",
        "transforms.config",
    }
    assert result["elapsed"] < 2.0, f"DAG file took {result['elapsed']:.2f}s to import"


def test_failures_and_a_missed_deadline_reach_the_on_call_through_notifiers(dag, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseNotifier

    assert isinstance(dag.on_failure_callback, BaseNotifier)  # the run: a failed row
    for task in dag.tasks:  # each task: audit.task_failure and the notification
        assert isinstance(task.on_failure_callback[0], BaseNotifier), task.task_id
    assert not dag.deadline  # off unless configured (dag.test cannot run with one)
    monkeypatch.setenv("CARE_PUBLISH_DEADLINE_HOURS", "5")
    deadline = DagBag(dag_folder=str(DAGS)).dags["shared_care_record"].deadline
    (alert,) = deadline if isinstance(deadline, list) else [deadline]
    assert alert.interval == timedelta(hours=5)  # published by 07:00 London
    assert alert.callback.path == "airflow_glue.missed_deadline"
