"""The production topology without Docker: the real DAG under the CeleryExecutor.

Starts, as separate processes in their own process groups: Airflow's api-server (on a
free port), scheduler, dag-processor, triggerer and one Celery worker, with Redis as the
Celery broker and a fresh PostgreSQL database as metadata database and result backend.
Then it generates a small synthetic dataset, triggers ``shared_care_record`` through the
REST API (one run per night, in order), waits for each run, checks the warehouse (a
fresh PostgreSQL database the pipeline writes as a ``pipeline_writer`` login), and stops
everything it started, databases included, even when something fails.

    python scripts/run_distributed.py [--people 1000] [--nights 1] [--timeout 900]
        [--result-json out.json] [--keep] [--hold]

Needs PostgreSQL (``CARE_TEST_PG_URL``, default the local trust-auth server as
``postgres``) and Redis (``CARE_REDIS_URL``, default ``redis://127.0.0.1:6379/0``).
``--hold`` keeps the topology up after the runs, printing the UI address and password,
until Ctrl-C. Exit status 0 only if every run succeeded and the warehouse has a
published run and people.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.ops.distributed.config import DAG_ID, TopologyConfig  # noqa: E402
from transforms.ops.distributed.errors import RunFailed, TopologyError  # noqa: E402
from transforms.ops.distributed.reports import run_report  # noqa: E402
from transforms.ops.distributed.topology import Topology  # noqa: E402

log = logging.getLogger("run_distributed")


class Interrupted(Exception):
    pass


def _on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def summarise(result: dict) -> list[str]:
    lines = [""]
    topo = "OK" if result.get("topology_ok") else "NOT PROVEN"
    workers = sorted(
        {
            t["hostname"]
            for run in result.get("runs", [])
            for t in run["tasks"].values()
            if t.get("hostname")
        }
    )
    ran = sum(len(run["ran_on_celery_worker"]) for run in result.get("runs", []))
    lines.append(
        f"Topology (CeleryExecutor + Redis + PostgreSQL, 5 components): {topo}"
        + (f" - {ran} task(s) ran on Celery worker {', '.join(workers)}" if ran else "")
    )
    for run in result.get("runs", []):
        lines.append(f"Run {run['run_id']}: {run['state']}")
        for task_id in run["failed_tasks"]:
            lines.append(f"  failed task {task_id}; last log lines:")
            lines.extend(f"    {line}" for line in run["failure_logs"][task_id].splitlines())
    if "warehouse" in result:
        wh = result["warehouse"]
        lines.append(
            f"Warehouse: {wh.get('published_runs')} published run(s), {wh.get('persons')} "
            f"person(s), {wh.get('task_failures')} task failure(s) recorded"
        )
    if result.get("error"):
        lines.append(f"Error: {result['error']}")
    if result.get("strays"):
        lines.append(f"Processes that outlived their group (killed): {result['strays']}")
    lines.append(f"Timings (s): {result.get('timings')}")
    verdict = "PASSED" if result.get("ok") else "FAILED"
    if not result.get("ok") and result.get("topology_ok"):
        verdict += " (the topology works; the pipeline run did not succeed)"
    lines.append(f"Distributed run: {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--nights", type=int, default=1)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--timeout", type=float, default=900, help="seconds for all runs together")
    ap.add_argument("--worker-concurrency", type=int, default=2)
    ap.add_argument("--work-dir", type=Path, help="default: a temporary folder")
    ap.add_argument("--dags-folder", type=Path, default=ROOT / "dags", help=argparse.SUPPRESS)
    ap.add_argument("--dag-id", default=DAG_ID, help=argparse.SUPPRESS)
    ap.add_argument("--result-json", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep databases and work folder")
    ap.add_argument("--hold", action="store_true", help="stay up after the runs until Ctrl-C")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    config = TopologyConfig.from_env(
        people=args.people,
        nights=args.nights,
        seed=args.seed,
        work_dir=args.work_dir,
        worker_concurrency=args.worker_concurrency,
        keep=args.keep,
        dags_folder=args.dags_folder.resolve(),
        dag_id=args.dag_id,
    )
    topology = Topology(config)
    result: dict = {
        "ok": False,
        "topology_ok": False,
        "runs": [],
        "work_dir": str(topology.work_dir),
        "topology_id": topology.id,
        "queue": topology.queue,
        "databases": [topology.databases.meta_db, topology.databases.warehouse_db],
        "pipeline_login": topology.databases.pipeline_login,
    }
    started = time.monotonic()
    try:
        with topology:
            result["health"] = topology.client.health()
            topology.client.unpause(args.dag_id)
            deadline = started + args.timeout
            try:
                for night in topology.nights:
                    run_id = topology.client.trigger(night, dag_id=args.dag_id)
                    run = topology.client.wait_run(
                        run_id, timeout=max(30.0, deadline - time.monotonic()), dag_id=args.dag_id
                    )
                    report = run_report(topology, run_id, run, dag_id=args.dag_id)
                    result["runs"].append(report)
                    if report["ran_on_celery_worker"]:
                        result["topology_ok"] = True
                    if run["state"] != "success":
                        raise RunFailed(f"run {run_id} ended {run['state']}", report)
            finally:  # while the warehouse still exists
                try:
                    result["warehouse"] = topology.databases.warehouse_check(
                        night=topology.nights[-1]
                    )
                except Exception as exc:  # no schema if prepare never ran
                    result["warehouse"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            wh = result["warehouse"]
            result["ok"] = wh.get("published_runs", 0) >= 1 and wh.get("persons", 0) > 0
            if not result["ok"]:
                result["error"] = "the warehouse has no published run for the night, or no people"
                topology.failed = True
            elif args.hold:
                print(f"\nUI: {topology.base_url}  user admin  password {topology.password}")
                print("Ctrl-C to stop everything.", flush=True)
                try:
                    while True:
                        time.sleep(3600)
                except Interrupted:
                    pass
    except (RunFailed, TopologyError, Interrupted, OSError) as exc:
        result["ok"] = False
        result["error"] = str(exc)
    finally:
        result["strays"] = topology.strays
        result["timings"] = {**topology.timings, "total": round(time.monotonic() - started, 1)}
        if args.result_json:
            args.result_json.write_text(json.dumps(result, indent=2, default=str))
        print("\n".join(summarise(result)), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
