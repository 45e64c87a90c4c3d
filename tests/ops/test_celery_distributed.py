"""The real DAG on the distributed topology: CeleryExecutor, Redis, PostgreSQL, REST API.

Runs ``scripts/run_distributed.py`` once for the module (a small synthetic dataset, one
night) and checks, separately:

* the topology: five components up, tasks executed by the Celery worker on our queue,
  and everything stopped afterwards (no process left, databases and login dropped);
* the pipeline: the run succeeded and the warehouse has a published night and people.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, ROOT
from tests.ops.helpers import ARTIFACTS, require_postgres_and_redis
from transforms.ops.distributed.config import DEFAULT_REDIS_URL
from transforms.ops.distributed.processes import processes_with_marker

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SCRIPT = ROOT / "scripts" / "run_distributed.py"
TIMEOUT = int(os.environ.get("CARE_DISTRIBUTED_TIMEOUT", "480"))


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    """One run of the script: its exit status, its JSON result and its output."""
    require_postgres_and_redis()
    tmp = tmp_path_factory.mktemp("distributed")
    result_path = tmp / "result.json"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--people", "1000", "--nights", "1",
         "--timeout", str(TIMEOUT - 120), "--work-dir", str(tmp / "work"),
         "--result-json", str(result_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # the script stops what it started
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        pytest.fail(f"run_distributed.py did not finish in {TIMEOUT}s:\n{output[-4000:]}")
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    logs = tmp / "work" / "logs"
    if not result.get("ok") and logs.exists():  # kept on failure: hand them to people/CI
        shutil.copytree(logs, ARTIFACTS / "distributed_logs", dirs_exist_ok=True)
        (ARTIFACTS / "distributed_logs" / "output.txt").write_text(output)
    summary = output[output.rfind("\nTopology") :] if "\nTopology" in output else output[-4000:]
    return proc.returncode, result, summary


def test_topology_runs_tasks_on_the_celery_worker(distributed):
    _, result, summary = distributed
    assert result, f"no result written:\n{summary}"
    health = result.get("health", {})
    for component in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
        assert health.get(component, {}).get("status") == "healthy", (component, summary)
    assert result["topology_ok"], summary
    run = result["runs"][0]
    assert run["ran_on_celery_worker"], summary
    for task_id in run["ran_on_celery_worker"]:
        task = run["tasks"][task_id]
        assert task["queue"] == result["queue"] and task["hostname"], (task_id, task)


def test_everything_it_started_is_gone(distributed):
    _, result, summary = distributed
    assert result, summary
    assert result["strays"] == [], "processes outlived their process group"
    assert processes_with_marker(result["topology_id"]) == []
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            dbs = conn.execute(
                text("select datname from pg_database where datname = any(:d)"),
                {"d": result["databases"]},
            ).fetchall()
            logins = conn.execute(
                text("select rolname from pg_roles where rolname = :r"),
                {"r": result["pipeline_login"]},
            ).fetchall()
    finally:
        engine.dispose()
    assert dbs == [] and logins == []
    import redis

    client = redis.Redis.from_url(os.environ.get("CARE_REDIS_URL", DEFAULT_REDIS_URL))
    try:
        assert list(client.scan_iter(match=f"*{result['queue']}*")) == []
    finally:
        client.close()


def test_the_night_is_published_through_the_distributed_topology(distributed):
    code, result, summary = distributed
    assert code == 0 and result.get("ok"), (
        "the distributed run did not publish (if the topology test passed, the failure is "
        f"in the pipeline's tasks, not in the topology):\n{summary}"
    )
    run = result["runs"][0]
    assert run["state"] == "success"
    assert all(t["state"] == "success" for t in run["tasks"].values()), run["tasks"]
    assert set(run["ran_on_celery_worker"]) == set(run["tasks"])
    assert result["warehouse"]["published_runs"] >= 1
    assert result["warehouse"]["persons"] > 0
