"""Local, embedded set-up for `make run` and the end-to-end tests (no Airflow import)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from transforms.config import Settings
from transforms.warehouse.db import describe, make_engine
from transforms.warehouse.publish import read_frame

log = logging.getLogger(__name__)


def ensure_local_key(data_dir: Path, env: dict) -> dict:
    """A demo key file (mode 0600) unless a key is configured; returns env to add."""
    if env.get("CARE_PSEUDONYMISATION_KEY") or env.get("CARE_KEY_FILE"):
        return {}
    from transforms.keys import create_local_key_file

    path = data_dir / "secrets" / "pseudonymisation.key"
    if not path.exists():
        create_local_key_file(path)
        log.warning("created a local demo pseudonymisation key at %s (mode 0600)", path)
    return {"CARE_KEY_FILE": str(path)}


def ensure_sources(settings: Settings, *, people: int, nights: int, seed: int, env: dict) -> dict:
    """Generate synthetic sources unless ones with these arguments already exist."""
    out = settings.data_dir / "sources"
    marker = out / "generation.json"
    if marker.exists():
        meta = json.loads(marker.read_text())
        args = meta.get("args", {})
        if (args.get("people"), args.get("days"), args.get("seed")) != (people, nights, seed):
            raise SystemExit(
                f"{out} holds sources made with other arguments ({args}); "
                f"remove {settings.data_dir} or set CARE_DATA_DIR elsewhere"
            )
        if (out / "population.csv").exists():
            log.info("synthetic sources already in %s", out)
            return meta
        # the same arguments give the same sources, now with their population
        log.info("synthetic sources in %s lack population.csv: generating them again", out)
    log.info("generating synthetic sources: %d people, %d nights, seed %d", people, nights, seed)
    subprocess.run(
        [sys.executable, "-m", "transforms.synthetic", "--people", str(people), "--days",
         str(nights), "--seed", str(seed), "--out", str(out)],
        check=True,
        env=env,
    )  # fmt: skip
    return json.loads(marker.read_text())


def nights_of(generation: dict) -> list[str]:
    return list(generation["nights"])


def airflow_env(data_dir: Path, dags_folder: Path, env: dict) -> dict:
    """Airflow on the embedded defaults: SQLite metadata under the data folder."""
    home = Path(env.get("AIRFLOW_HOME") or data_dir / "airflow_home")
    home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


def summary_lines(settings: Settings, *, elapsed: float) -> list[str]:
    engine = make_engine(settings.warehouse_url)
    try:
        runs = read_frame(
            engine,
            "select night, persons, persons_both, dcc_extracted, dchs_extracted, "
            "dcc_quarantined, dchs_quarantined from audit.pipeline_run "
            "where status = 'published' order by finished_at",
        )
        quarantined = read_frame(engine, "select count(*) as n from audit.quarantine").n.iloc[0]
    finally:
        engine.dispose()
    last = runs.iloc[-1]
    lines = [
        "",
        "Shared care record: local run complete",
        f"  nights published        {len(runs)} ({', '.join(map(str, runs.night))}) in {elapsed:.0f}s",
        f"  people                  {int(last.persons):,}",
        f"  known to both DCC+DCHS  {int(last.persons_both):,}",
        f"  rows quarantined        {int(quarantined):,} (audit.quarantine, with reasons)",
        f"  warehouse               {describe(settings.warehouse_url)}",
        f"  reports                 {settings.reports_dir}",
        f"  data docs               {settings.reports_dir / 'data_docs'}",
    ]
    return lines
