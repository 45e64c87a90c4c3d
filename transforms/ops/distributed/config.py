"""What the distributed topology starts, and where it finds PostgreSQL and Redis."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DAG_ID = "shared_care_record"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
ADMIN_USER = "admin"


@dataclass
class TopologyConfig:
    """What to start. Defaults suit a 2-core machine and a few-minute check."""

    people: int = 1000
    nights: int = 1
    seed: int = 11
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    redis_url: str = DEFAULT_REDIS_URL
    work_dir: Path | None = None
    dags_folder: Path = ROOT / "dags"
    dag_id: str = DAG_ID  # the DAG to wait for at start
    worker_concurrency: int = 2
    parallelism: int = 4
    keep: bool = False  # keep databases and the work folder afterwards
    extra_env: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None, **values) -> TopologyConfig:
        """The configuration with the PostgreSQL admin URL (``CARE_TEST_PG_URL``) and the
        Redis URL (``CARE_REDIS_URL``) from the environment; ``values`` set the rest."""
        env = os.environ if env is None else env
        return cls(
            pg_admin_url=env.get("CARE_TEST_PG_URL", DEFAULT_PG_ADMIN_URL),
            redis_url=env.get("CARE_REDIS_URL", DEFAULT_REDIS_URL),
            **values,
        )
