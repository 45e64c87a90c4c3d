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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.config import Settings  # noqa: E402
from transforms.local_setup import (  # noqa: E402
    airflow_env,
    ensure_local_key,
    ensure_sources,
    nights_of,
    nights_to_run,
    published_night,
    summary_lines,
)
from transforms.warehouse.db import describe  # noqa: E402

log = logging.getLogger("run_local")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    env = dict(os.environ)
    env.setdefault("CARE_DATA_DIR", str(ROOT / "data"))
    people = int(env.get("CARE_SYNTHETIC_PEOPLE", "20000"))
    nights = int(env.get("CARE_NIGHTS", "3"))
    seed = int(env.get("CARE_SEED", "42"))
    settings = Settings.from_env(env)
    env.update(ensure_local_key(settings.data_dir, env))
    generation = ensure_sources(settings, people=people, nights=nights, seed=seed, env=env)
    env.update(airflow_env(settings.data_dir, ROOT / "dags", env))
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.monotonic()
    todo, skipped = nights_to_run(nights_of(generation), published_night(settings))
    if skipped:
        log.info(
            "nights %s are already published in %s: not run again",
            ", ".join(skipped),
            describe(settings.warehouse_url),
        )
    for night in todo:
        log.info("night %s: running shared_care_record through Airflow", night)
        logical = f"{night}T02:00:00+00:00"
        proc = subprocess.run(
            ["airflow", "dags", "test", "shared_care_record", logical], env=env, check=False
        )
        if proc.returncode != 0:
            log.error("night %s failed (exit %s); see the task logs above", night, proc.returncode)
            return proc.returncode
    print("\n".join(summary_lines(settings, elapsed=time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
