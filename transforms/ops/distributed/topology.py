"""The run-through of the distributed topology: set up its databases, sources and
environment, start every component, wait until the API, the jobs, the worker and the DAG
are ready, and stop and clean up everything it made, even when something fails."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from transforms.ops.distributed.api_client import ApiClient
from transforms.ops.distributed.broker import redis_ping, remove_queue
from transforms.ops.distributed.config import TopologyConfig
from transforms.ops.distributed.databases import Databases
from transforms.ops.distributed.environment import airflow_environment, seed_password
from transforms.ops.distributed.processes import (
    COMPONENTS,
    Component,
    check_running,
    component_argv,
    free_port,
    run_airflow,
    start_component,
    stop_components,
    wait_for,
)

log = logging.getLogger(__name__)


class Topology:
    """Start, drive (through ``client``) and stop the distributed topology. Use as a
    context manager."""

    def __init__(self, config: TopologyConfig | None = None) -> None:
        self.config = config or TopologyConfig.from_env()
        self.id = secrets.token_hex(4)
        self.databases = Databases(
            admin_url=self.config.pg_admin_url,
            meta_db=f"care_dist_meta_{self.id}",
            warehouse_db=f"care_dist_wh_{self.id}",
            pipeline_login=f"care_pipeline_{self.id}",
            pipeline_password=secrets.token_hex(16),
        )
        self.queue = f"care_{self.id}"
        self.dag_id = self.config.dag_id
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        self.client = ApiClient(self.base_url, self.password, self.check_alive)
        self.components: dict[str, Component] = {}
        self.nights: list[str] = []
        self._owns_work_dir = self.config.work_dir is None
        self.work_dir = Path(self.config.work_dir or tempfile.mkdtemp(prefix="care_distributed_"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir = self.work_dir / "logs"
        self.data_dir = self.work_dir / "data"
        self.airflow_home = self.work_dir / "airflow_home"
        self.env: dict[str, str] = {}
        self.failed = False
        self.strays: list[int] = []
        self.key_env: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Topology:
        try:
            self.setup()
            self.start()
        except BaseException:
            self.failed = True
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.failed = True
        self.stop()

    def _timed(self, name: str, fn: Callable[[], object]) -> object:
        started = time.monotonic()
        try:
            return fn()
        finally:
            self.timings[name] = round(time.monotonic() - started, 1)

    def setup(self) -> None:
        """Databases, warehouse roles, key, synthetic sources, environment, migration."""
        redis_ping(self.config.redis_url)
        for path in (self.logs_dir, self.data_dir, self.airflow_home):
            path.mkdir(parents=True, exist_ok=True)
        self._timed("databases", self.databases.create)
        self._timed("sources", self._prepare_sources)
        self.env = airflow_environment(self)
        seed_password(self.airflow_home, self.password)
        self._timed("db_migrate", self._migrate)

    def _prepare_sources(self) -> None:
        from transforms.config import Settings
        from transforms.ops.local_setup import ensure_local_key, ensure_sources, nights_of

        env = {"CARE_DATA_DIR": str(self.data_dir), "PATH": os.environ.get("PATH", "")}
        settings = Settings.from_env(env)
        self.key_env = ensure_local_key(self.data_dir, {})
        generation = ensure_sources(
            settings,
            people=self.config.people,
            nights=self.config.nights,
            seed=self.config.seed,
            env={**os.environ, **env},
        )
        self.nights = nights_of(generation)

    def _migrate(self) -> None:
        run_airflow(
            "db",
            "migrate",
            env=self.env,
            cwd=self.work_dir,
            logs_dir=self.logs_dir,
            log_name="db-migrate",
        )

    def start(self) -> None:
        """Start every component, then wait until the API, the jobs and the DAG are ready."""
        started = time.monotonic()
        for name in COMPONENTS:
            argv = component_argv(
                name,
                port=self.port,
                queue=self.queue,
                concurrency=self.config.worker_concurrency,
                topology_id=self.id,
            )
            comp = Component(name, argv, self.logs_dir / f"{name}.log")
            start_component(comp, env=self.env, cwd=self.work_dir)
            self.components[name] = comp
        self.client.wait_api()
        self.client.wait_healthy()
        self.wait_worker()
        self.client.wait_dag(self.dag_id)
        self.timings["start"] = round(time.monotonic() - started, 1)

    def wait_worker(self, timeout: float = 120) -> None:
        worker = self.components["celery-worker"]

        def probe():
            text = worker.log_path.read_text(errors="replace")
            return " ready." in text

        wait_for("the Celery worker", probe, timeout, check_alive=self.check_alive)

    def check_alive(self) -> None:
        check_running(self.components)

    def stop(self, grace: float = 20.0) -> list[int]:
        """Stop every process group we started, then anything left with our id; drop our
        queue and databases, and the work folder unless kept or failed.

        Returns the PIDs that had to be killed after the groups were gone (should be none).
        """
        strays = stop_components(self.components, self.id, grace)
        self.components = {}
        self.strays = strays
        if not self.config.keep:
            remove_queue(self.config.redis_url, self.queue)
            self.databases.drop()
        if not self.config.keep and not self.failed and self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        elif self.failed:
            log.warning("logs kept in %s", self.logs_dir)
        return strays
