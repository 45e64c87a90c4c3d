"""`make run`: synthetic sources, then the real DAG night by night through Airflow.

Embedded defaults: DuckDB warehouse and SQLite Airflow metadata under CARE_DATA_DIR.
Environment: CARE_DATA_DIR (./data), CARE_SYNTHETIC_PEOPLE (20000), CARE_NIGHTS (3),
CARE_SEED (42), CARE_WAREHOUSE_URL, CARE_KEY_FILE / CARE_PSEUDONYMISATION_KEY.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.config import Settings  # noqa: E402
from transforms.nightly.context import LONDON  # noqa: E402
from transforms.ops.local_setup import (  # noqa: E402
    airflow_env,
    ensure_local_key,
    ensure_sources,
    nights_of,
    nights_to_run,
    published_night,
    summary_lines,
)
from transforms.ops.progress import follow  # noqa: E402

log = logging.getLogger("run_local")


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    env = dict(os.environ)
    # Airflow's CLI lives beside this interpreter (the project's virtualenv)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CARE_DATA_DIR", str(ROOT / "data"))
    people = int(env.get("CARE_SYNTHETIC_PEOPLE", "20000"))
    nights = int(env.get("CARE_NIGHTS", "3"))
    seed = int(env.get("CARE_SEED", "42"))
    settings = Settings.from_env(env)
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"make-run-{datetime.now():%Y%m%d-%H%M%S}.log"
    print(f"Shared care record: {nights} night(s) of {people:,} synthetic people (seed {seed})")
    print(f"  full log: {log_path}")
    env.update(ensure_local_key(settings.data_dir, env))
    with log_path.open("w", encoding="utf-8") as log_file:
        generation = ensure_sources(
            settings, people=people, nights=nights, seed=seed, env=env, output=log_file
        )
        env.update(airflow_env(settings.data_dir, ROOT / "dags", env))
        subprocess.run(
            ["airflow", "db", "migrate"], env=env, check=True, stdout=log_file, stderr=log_file
        )
        started = time.monotonic()
        todo, skipped = nights_to_run(nights_of(generation), published_night(settings))
        if skipped:
            print(f"  already published, not run again: {', '.join(skipped)}")
        for night in todo:
            code = run_night(night, env, log_file)
            if code:
                print(f"night {night} failed (exit {code}); the full log: {log_path}")
                return code
    print("\n".join(summary_lines(settings, elapsed=time.monotonic() - started, ran=len(todo))))
    return 0


def run_night(night: str, env: dict, log_file) -> int:
    """One night through the real DAG (``airflow dags test``), progress on the terminal."""
    from zoneinfo import ZoneInfo

    logical = datetime.fromisoformat(f"{night}T02:00:00").replace(tzinfo=ZoneInfo(LONDON))
    print(f"night {night}")
    started = time.monotonic()
    proc = subprocess.Popen(
        ["airflow", "dags", "test", "shared_care_record", logical.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    progress = follow(night, proc.stdout, log_file, lambda line: print(line, flush=True))
    code = proc.wait()
    for failure in progress.failed[:3]:
        print(f"  ! {failure}")
    state = "failed" if code else ("skipped" if progress.skipped else "published")
    print(f"  {state} in {time.monotonic() - started:.0f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
