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
        create_local_key_file(path)  # says so, once
    return {"CARE_KEY_FILE": str(path)}


def ensure_sources(
    settings: Settings, *, people: int, nights: int, seed: int, env: dict, output=None
) -> dict:
    """Generate synthetic sources unless ones with these arguments already exist; the
    generator's output goes to ``output`` (a file), if given."""
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
        # the same arguments give the same sources, this time with their population file
        log.info("synthetic sources in %s lack population.csv: generating them again", out)
    log.info("generating synthetic sources: %d people, %d nights, seed %d", people, nights, seed)
    subprocess.run(
        [sys.executable, "-m", "transforms.synthetic", "--people", str(people), "--days",
         str(nights), "--seed", str(seed), "--out", str(out)],
        check=True,
        env=env,
        stdout=output,
        stderr=output,
    )  # fmt: skip
    return json.loads(marker.read_text())


def nights_of(generation: dict) -> list[str]:
    return list(generation["nights"])


def published_night(settings: Settings) -> str | None:
    """The night of the latest published run in the warehouse, if any."""
    from transforms.warehouse.lineage import read_head

    engine = make_engine(settings.warehouse_url)
    try:
        with engine.connect() as conn:
            if not conn.dialect.has_table(conn, "pipeline_run", schema="audit"):
                return None
            head = read_head(conn)
    finally:
        engine.dispose()
    return head.night.isoformat() if head.night else None


def nights_to_run(nights: list[str], published: str | None) -> tuple[list[str], list[str]]:
    """(nights to run, nights skipped): those on or before the latest published night
    are already in the warehouse, and running them again would be refused."""
    if published is None:
        return list(nights), []
    return [n for n in nights if n > published], [n for n in nights if n <= published]


def airflow_env(data_dir: Path, dags_folder: Path, env: dict) -> dict:
    """Airflow on the embedded defaults: SQLite metadata under the data folder."""
    home = Path(env.get("AIRFLOW_HOME") or data_dir / "airflow_home")
    home.mkdir(parents=True, exist_ok=True)
    lineage = data_dir / "lineage" / "openlineage.jsonl"
    lineage.parent.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        # OpenLineage: a START and a COMPLETE event per task and run, one JSON a line
        "AIRFLOW__OPENLINEAGE__TRANSPORT": env.get("AIRFLOW__OPENLINEAGE__TRANSPORT")
        or json.dumps({"type": "file", "log_file_path": str(lineage), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": env.get(
            "AIRFLOW__OPENLINEAGE__NAMESPACE", "shared-care-record"
        ),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


def summary_lines(settings: Settings, *, elapsed: float, ran: int | None = None) -> list[str]:
    """What the local run leaves behind, on one screen."""
    engine = make_engine(settings.warehouse_url)
    try:
        runs = read_frame(
            engine,
            "select run_id, night, persons, persons_both from audit.pipeline_run "
            "where status = 'published' order by finished_at",
        )
        last_run = str(runs.run_id.iloc[-1])
        quarantined = read_frame(engine, "select count(*) as n from audit.quarantine").n.iloc[0]
        link = read_frame(
            engine, "select measure, value from audit.linkage_summary where run_id = :r", r=last_run
        )
        held = read_frame(
            engine, "select drop_date from audit.drop_rejection where run_id = :r", r=last_run
        )
    finally:
        engine.dispose()
    last = runs.iloc[-1]
    measures = dict(zip(link.measure, link.value, strict=True))
    ran_text = f"{ran} this time, " if ran is not None else ""
    lines = [
        "",
        "Shared care record: local run complete",
        f"  nights published        {len(runs)} ({', '.join(map(str, runs.night))}); "
        f"{ran_text}{elapsed:.0f}s",
        f"  people                  {int(last.persons):,}",
        f"  known to both DCC+DCHS  {int(last.persons_both):,}",
        f"  rows quarantined        {int(quarantined):,} (audit.quarantine, with reasons)",
        f"  review queue            {int(measures.get('review_queue', 0)):,} pairs "
        "(python -m transforms.review)",
    ]
    if "truth_precision" in measures:
        lines.append(
            f"  linkage vs truth        precision {measures['truth_precision']:.4f}, "
            f"recall {measures.get('truth_recall', float('nan')):.4f} (synthetic data only)"
        )
    if not held.empty:
        lines.append(
            f"  DCHS drops held         {', '.join(held.drop_date.astype(str))} "
            "(docs/runbook.md, Held and corrected DCHS drops)"
        )
    lines += [
        f"  warehouse               {describe(settings.warehouse_url)}",
        f"  linkage report          {settings.reports_dir / 'linkage' / 'latest.html'}",
        f"  partnership dashboard   {settings.reports_dir / 'dashboard' / 'dashboard.html'}",
        f"  data docs               {settings.reports_dir / 'data_docs' / 'index.html'}",
        f"  lineage (OpenLineage)   {settings.data_dir / 'lineage' / 'openlineage.jsonl'}",
    ]
    if settings.dashboard_copy is not None:
        lines.append(f"  dashboards read         {settings.dashboard_copy} (read-only copy)")
    return lines
