"""Where a night's files live, and what the night is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from transforms.config import Settings


def safe_name(run_id: str) -> str:
    """A run id as a folder name (Airflow run ids contain ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("_")


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    run_id: str
    night: date  # the night's date, Europe/London
    until: datetime  # upper bound for source changes (UTC, naive)
    full_refresh: bool = False

    @property
    def run_dir(self) -> Path:
        return self.settings.runs_dir / self.night.isoformat() / safe_name(self.run_id)

    @property
    def landing_dir(self) -> Path:
        return self.run_dir / "landing"

    @property
    def tokens_dir(self) -> Path:
        """Tonight's full pseudonymised state (tokens zone), one folder per run."""
        return self.settings.tokens_dir / self.night.isoformat() / safe_name(self.run_id)

    @property
    def build_dir(self) -> Path:
        return self.run_dir / "build"

    @property
    def data_docs_dir(self) -> Path:
        return self.settings.reports_dir / "data_docs"

    def warehouse(self):
        """A new engine on the warehouse (the caller disposes of it)."""
        from transforms.warehouse.db import make_engine

        settings = self.settings
        return make_engine(settings.warehouse_url, lock_wait=settings.duckdb_lock_wait_seconds)


LONDON = "Europe/London"


def context_from_airflow(context: dict, settings: Settings) -> RunContext:
    """Build a RunContext from an Airflow task context (duck-typed: no Airflow import).

    The night is the run's logical date in Europe/London; manual runs without a
    logical date use ``run_after``. Source changes are taken up to that instant.
    """
    from zoneinfo import ZoneInfo

    dag_run = context["dag_run"]
    when = context.get("logical_date") or dag_run.run_after
    params = context.get("params") or {}
    utc = when.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return RunContext(
        settings=settings,
        run_id=dag_run.run_id,
        night=when.astimezone(ZoneInfo(LONDON)).date(),
        until=utc,
        full_refresh=bool(params.get("full_refresh", False)),
    )
