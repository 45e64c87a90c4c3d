"""What a run did on the topology, task by task: state, host, queue and executor, which
tasks ran on our Celery worker, and the last log lines of those that failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from transforms.ops.distributed.config import DAG_ID

if TYPE_CHECKING:
    from transforms.ops.distributed.topology import Topology


def run_report(topology: Topology, run_id: str, run: dict, dag_id: str = DAG_ID) -> dict:
    tis = topology.client.task_instances(run_id, dag_id)
    tasks = {
        t["task_id"]: {
            "state": t["state"],
            "hostname": t.get("hostname"),
            "queue": t.get("queue"),
            "executor": t.get("executor"),
            "try_number": t.get("try_number"),
            "duration": t.get("duration"),
        }
        for t in tis
    }
    on_worker = [
        tid
        for tid, t in tasks.items()
        if t["queue"] == topology.queue
        and t["hostname"]
        and t["state"] in ("success", "failed", "up_for_retry")
    ]
    failed = [t for t in tis if t["state"] in ("failed", "up_for_retry", "upstream_failed")]
    first_failed = [t for t in failed if t["state"] != "upstream_failed"]
    return {
        "run_id": run_id,
        "state": run["state"],
        "logical_date": run.get("logical_date"),
        "tasks": tasks,
        "ran_on_celery_worker": on_worker,
        "failed_tasks": [t["task_id"] for t in first_failed],
        "failure_logs": {
            t["task_id"]: task_log_tail(topology.airflow_home, t) for t in first_failed
        },
    }


def task_log_tail(airflow_home: Path, ti: dict, lines: int = 25) -> str:
    """The last lines of a task attempt's log, from the shared log folder."""
    folder = (
        airflow_home
        / "logs"
        / f"dag_id={ti['dag_id']}"
        / f"run_id={ti['dag_run_id']}"
        / f"task_id={ti['task_id']}"
    )
    files = sorted(folder.glob("**/attempt=*.log"))
    if not files:
        return "(no log file)"
    out = []
    for raw in files[-1].read_text(errors="replace").splitlines():
        try:
            rec = json.loads(raw)
        except ValueError:
            out.append(raw)
            continue
        text = f"{rec.get('level', '')} {rec.get('event', '')}".strip()
        for detail in rec.get("error_detail") or []:
            text += f" | {detail.get('exc_type')}: {detail.get('exc_value')}"
        out.append(text)
    return "\n".join(out[-lines:])
