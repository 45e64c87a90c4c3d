"""The production topology from real processes, without Docker.

What ``docker-compose.yml`` runs, started here as local processes: Airflow's api-server,
scheduler, dag-processor, triggerer and a Celery worker, with the CeleryExecutor, Redis
as broker, and a fresh PostgreSQL database as Airflow metadata database and Celery result
backend. The warehouse is another fresh PostgreSQL database with the roles applied, and
the pipeline logs in to it as a ``pipeline_writer`` login, as in production.

Each component runs in its own process group (session) with the virtualenv's ``bin`` on
``PATH``; stopping sends SIGTERM to the group, then SIGKILL (Airflow's worker processes
ignore SIGTERM from outside). Every process carries ``CARE_TOPOLOGY_ID`` in its
environment, so anything left behind is found by that id and stopped too.

Nothing here imports Airflow: the topology is driven through the CLI and the REST API
(``/api/v2``, token from ``POST /auth/token`` with the simple auth manager), as an
operator would. Used by ``scripts/run_distributed.py`` and the browser test.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "shared_care_record"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
ADMIN_USER = "admin"
TERMINAL = {"success", "failed"}


class TopologyError(RuntimeError):
    """The topology could not start, or a component died."""


class RunFailed(RuntimeError):
    """A DAG run ended badly; ``report`` says where."""

    def __init__(self, message: str, report: dict) -> None:
        super().__init__(message)
        self.report = report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_ping(url: str, timeout: float = 3.0) -> None:
    """PING the Redis at ``url`` over a raw socket (AUTH first if it has a password)."""
    parts = urlsplit(url)
    with socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 6379), timeout
    ) as s:
        if parts.password:
            pw = parts.password.encode()
            s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw))
            if not s.recv(64).startswith(b"+OK"):
                raise TopologyError(f"Redis at {parts.hostname}:{parts.port} refused the password")
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        answer = s.recv(64)
    if not answer.startswith(b"+PONG"):
        raise TopologyError(f"Redis at {parts.hostname}:{parts.port} answered {answer!r}")


def processes_with_marker(marker: str) -> list[int]:
    """PIDs whose environment holds ``CARE_TOPOLOGY_ID=<marker>`` (Linux /proc)."""
    needle = f"CARE_TOPOLOGY_ID={marker}".encode()
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(entry.name))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fernet_key() -> str:
    """A Fernet key (urlsafe base64 of 32 random bytes) without importing cryptography."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Component:
    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


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


class Topology:
    """Start, drive and stop the distributed topology. Use as a context manager."""

    COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")

    def __init__(self, config: TopologyConfig | None = None) -> None:
        self.config = config or TopologyConfig.from_env()
        self.id = secrets.token_hex(4)
        self.meta_db = f"care_dist_meta_{self.id}"
        self.warehouse_db = f"care_dist_wh_{self.id}"
        self.pipeline_login = f"care_pipeline_{self.id}"
        self.pipeline_password = secrets.token_hex(16)  # for servers that check passwords
        self.queue = f"care_{self.id}"
        self.dag_id = self.config.dag_id
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        self.components: dict[str, Component] = {}
        self.nights: list[str] = []
        self._owns_work_dir = self.config.work_dir is None
        self.work_dir = Path(self.config.work_dir or tempfile.mkdtemp(prefix="care_distributed_"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir = self.work_dir / "logs"
        self.data_dir = self.work_dir / "data"
        self.airflow_home = self.work_dir / "airflow_home"
        self._created_dbs: list[str] = []
        self._login_created = False
        self._token: str | None = None
        self.env: dict[str, str] = {}
        self.failed = False
        self.strays: list[int] = []
        self.key_env: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    # -- URLs ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _pg_url(self, database: str, username: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.config.pg_admin_url).set(database=database)
        if username:
            url = url.set(username=username, password=None)
        return url.render_as_string(hide_password=False)

    @property
    def meta_url(self) -> str:
        return self._pg_url(self.meta_db).replace("postgresql://", "postgresql+psycopg://", 1)

    @property
    def warehouse_admin_url(self) -> str:
        return self._pg_url(self.warehouse_db)

    # -- lifecycle -------------------------------------------------------------------

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
        self._timed("databases", self._create_databases)
        self._timed("sources", self._prepare_sources)
        self.env = self._environment()
        self._seed_password()
        self._timed("db_migrate", self._migrate)

    def _admin_engine(self):
        from sqlalchemy import create_engine

        return create_engine(self.config.pg_admin_url, isolation_level="AUTOCOMMIT")

    def _create_databases(self) -> None:
        from sqlalchemy import text

        from transforms.warehouse.db import make_engine
        from transforms.warehouse.roles import apply_roles, ensure_login

        admin = self._admin_engine()
        try:
            with admin.connect() as conn:
                for name in (self.meta_db, self.warehouse_db):
                    conn.execute(text(f'create database "{name}"'))
                    self._created_dbs.append(name)
        finally:
            admin.dispose()
        warehouse = make_engine(self.warehouse_admin_url)
        try:
            apply_roles(warehouse)  # schema + roles, as the compose warehouse-init job does
            self._login_created = True
            ensure_login(
                warehouse,
                self.pipeline_login,
                member_of="pipeline_writer",
                password=self.pipeline_password,
            )
        finally:
            warehouse.dispose()
        log.info("databases %s (metadata) and %s (warehouse)", self.meta_db, self.warehouse_db)

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

    def _environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "CARE_", "_AIRFLOW", "PYTEST"))
        }
        base["PATH"] = os.pathsep.join([bin_dir, base.get("PATH", "")])
        warehouse = urlsplit(self.warehouse_admin_url.replace("+psycopg", ""))
        meta = self.meta_url
        env = {
            **base,
            "CARE_TOPOLOGY_ID": self.id,
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.config.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(self.config.parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # unpaused through the API
            "AIRFLOW__CORE__FERNET_KEY": fernet_key(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta,
            "AIRFLOW__CELERY__BROKER_URL": self.config.redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{meta}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.config.worker_concurrency),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,  # our own queue on a shared Redis
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs we trigger
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # a check, not a night: one quick retry for outages instead of 2-3 after minutes
            "CARE_TASK_RETRIES": "1",
            "CARE_RETRY_DELAY_SECONDS": "10",
            # the pipeline: data folder, sources, key, and the warehouse as a connection
            "CARE_DATA_DIR": str(self.data_dir),
            "CARE_SOURCES_DIR": str(self.data_dir / "sources"),
            **self.key_env,
            "AIRFLOW_CONN_WAREHOUSE": json.dumps(
                {
                    "conn_type": "postgres",
                    "host": warehouse.hostname,
                    "port": warehouse.port or 5432,
                    "login": self.pipeline_login,
                    "password": self.pipeline_password,
                    "schema": self.warehouse_db,
                }
            ),
        }
        env.update({k: str(v) for k, v in self.config.extra_env.items()})
        return env

    def _seed_password(self) -> None:
        """The simple auth manager keeps passwords in this file; we choose ours."""
        path = self.airflow_home / "simple_auth_manager_passwords.json.generated"
        path.write_text(json.dumps({ADMIN_USER: self.password}) + "\n")
        path.chmod(0o600)

    def airflow(self, *args: str, timeout: float = 600, log_name: str | None = None):
        """Run ``airflow ARGS`` to completion in the topology's environment."""
        log_path = self.logs_dir / f"{log_name or args[0]}.log"
        with open(log_path, "ab") as out:
            proc = subprocess.run(
                [self._airflow_bin(), *args],
                env=self.env,
                cwd=self.work_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                start_new_session=True,
                check=False,
            )
        if proc.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
            raise TopologyError(f"airflow {' '.join(args)} exited {proc.returncode}:\n{tail}")

    @staticmethod
    def _airflow_bin() -> str:
        candidate = Path(sys.executable).parent / "airflow"
        return str(candidate) if candidate.exists() else "airflow"

    def _migrate(self) -> None:
        self.airflow("db", "migrate", log_name="db-migrate")

    def _argv(self, name: str) -> list[str]:
        airflow = self._airflow_bin()
        return {
            "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "scheduler": [airflow, "scheduler"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer"],
            "celery-worker": [
                airflow,
                "celery",
                "worker",
                "--queues",
                self.queue,
                "--concurrency",
                str(self.config.worker_concurrency),
                "--celery-hostname",
                f"care-{self.id}@%h",
            ],
        }[name]

    def start(self) -> None:
        """Start every component, then wait until the API, the jobs and the DAG are ready."""
        started = time.monotonic()
        for name in self.COMPONENTS:
            comp = Component(name, self._argv(name), self.logs_dir / f"{name}.log")
            out = open(comp.log_path, "ab")  # noqa: SIM115 - the child keeps it
            try:
                comp.proc = subprocess.Popen(
                    comp.argv,
                    env=self.env,
                    cwd=self.work_dir,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group
                )
            finally:
                out.close()
            self.components[name] = comp
            log.info("started %s (pid %s)", name, comp.proc.pid)
        self.wait_api()
        self.wait_healthy()
        self.wait_worker()
        self.wait_dag(self.dag_id)
        self.timings["start"] = round(time.monotonic() - started, 1)

    def check_alive(self) -> None:
        for comp in self.components.values():
            if comp.proc is not None and comp.proc.poll() is not None:
                raise TopologyError(
                    f"{comp.name} exited with {comp.proc.returncode}; last lines of "
                    f"{comp.log_path}:\n{comp.tail()}"
                )

    def stop(self, grace: float = 20.0) -> list[int]:
        """Stop every process group we started, then anything left with our id.

        Returns the PIDs that had to be killed after the groups were gone (should be none).
        """
        groups = {
            name: comp.proc.pid for name, comp in self.components.items() if comp.proc is not None
        }
        for name, pgid in groups.items():
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            log.info("SIGTERM to %s (process group %s)", name, pgid)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            for comp in self.components.values():
                if comp.proc is not None:
                    comp.proc.poll()  # reap leaders so their group can empty
            if not any(_group_alive(pgid) for pgid in groups.values()):
                break
            time.sleep(0.3)
        for name, pgid in groups.items():
            if _group_alive(pgid):
                log.warning("%s did not stop on SIGTERM: SIGKILL to group %s", name, pgid)
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for comp in self.components.values():
            if comp.proc is not None:
                try:
                    comp.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    log.error("%s (pid %s) could not be reaped", comp.name, comp.proc.pid)
        strays = processes_with_marker(self.id)
        for pid in strays:
            log.warning("process %s with our topology id outlived its group: SIGKILL", pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.components = {}
        self.strays = strays
        self._cleanup_redis()
        self._cleanup_databases()
        if not self.config.keep and not self.failed and self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        elif self.failed:
            log.warning("logs kept in %s", self.logs_dir)
        return strays

    def _cleanup_redis(self) -> None:
        """Drop our queue and its kombu bindings from the (possibly shared) Redis."""
        if self.config.keep:
            return
        try:
            import redis  # the Celery Redis transport's client, present wherever this runs
        except ImportError:
            return
        try:
            client = redis.Redis.from_url(self.config.redis_url, socket_timeout=5)
            keys = list(client.scan_iter(match=f"*{self.queue}*", count=500))
            if keys:
                client.delete(*keys)
            client.close()
        except Exception:
            log.warning("could not remove queue %s from Redis", self.queue, exc_info=True)

    def _cleanup_databases(self) -> None:
        if self.config.keep or not (self._created_dbs or self._login_created):
            return
        from sqlalchemy import text

        admin = self._admin_engine()
        try:
            with admin.connect() as conn:
                for name in reversed(self._created_dbs):
                    conn.execute(text(f'drop database if exists "{name}" with (force)'))
                if self._login_created:
                    conn.execute(text(f'drop role if exists "{self.pipeline_login}"'))
        except Exception:
            log.exception("could not drop the topology's databases")
        finally:
            admin.dispose()
        self._created_dbs = []
        self._login_created = False

    # -- REST API --------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        url = self.base_url + path  # always our own http://127.0.0.1:<port>
        req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our own URL
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            if exc.code == 401 and auth and self._token is not None:
                self._token = None  # expired: once more with a fresh token
                return self._request(method, path, body, auth)
            return exc.code, payload

    def api(self, method: str, path: str, body: dict | None = None, expect=(200,)):
        status, payload = self._request(method, f"/api/v2{path}", body)
        if status not in expect:
            raise TopologyError(f"{method} /api/v2{path} answered {status}: {payload}")
        return payload

    def token(self) -> str:
        if self._token is None:
            status, payload = self._request(
                "POST",
                "/auth/token",
                {"username": ADMIN_USER, "password": self.password},
                auth=False,
            )
            if status not in (200, 201):
                raise TopologyError(f"POST /auth/token answered {status}: {payload}")
            self._token = payload["access_token"]
        return self._token

    def _wait(self, what: str, probe: Callable[[], object], timeout: float, every: float = 1.0):
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                last = probe()
            except (OSError, TopologyError) as exc:
                last = exc
            else:
                if last:
                    return last
            time.sleep(every)
        raise TopologyError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last}")

    def wait_api(self, timeout: float = 120) -> None:
        def probe():
            status, _ = self._request("GET", "/api/v2/monitor/health", auth=False)
            return status == 200

        self._wait("the api-server", probe, timeout)

    def health(self) -> dict:
        _, payload = self._request("GET", "/api/v2/monitor/health", auth=False)
        return payload or {}

    def wait_healthy(self, timeout: float = 120) -> dict:
        def probe():
            h = self.health()
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            return h if all((h.get(p) or {}).get("status") == "healthy" for p in parts) else None

        return self._wait("scheduler, triggerer and dag-processor heartbeats", probe, timeout)

    def wait_worker(self, timeout: float = 120) -> None:
        worker = self.components["celery-worker"]

        def probe():
            text = worker.log_path.read_text(errors="replace")
            return " ready." in text

        self._wait("the Celery worker", probe, timeout)

    def wait_dag(self, dag_id: str = DAG_ID, timeout: float = 180) -> dict:
        def probe():
            errors = self.api("GET", "/importErrors")
            mine = errors.get("import_errors", [])
            if mine:
                raise RunFailed(f"DAG import error: {mine[0].get('stack_trace')}", {"import": mine})
            status, payload = self._request("GET", f"/api/v2/dags/{dag_id}")
            return payload if status == 200 else None

        return self._wait(f"DAG {dag_id} to be parsed", probe, timeout, every=2.0)

    def unpause(self, dag_id: str = DAG_ID) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, night: str, conf: dict | None = None, dag_id: str = DAG_ID) -> str:
        """Trigger a run for ``night`` (logical date 02:00 UTC that day); returns its id."""
        run_id = f"distributed__{night}__{secrets.token_hex(3)}"
        self.api(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            {"dag_run_id": run_id, "logical_date": f"{night}T02:00:00+00:00", "conf": conf or {}},
        )
        log.info("triggered %s", run_id)
        return run_id

    def dag_run(self, run_id: str, dag_id: str = DAG_ID) -> dict:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict]:
        payload = self.api(
            "GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=100"
        )
        return payload.get("task_instances", [])

    def wait_run(
        self, run_id: str, timeout: float = 900, dag_id: str = DAG_ID, fail_fast: bool = True
    ) -> dict:
        """Wait for the run to finish. With ``fail_fast``, the first task that failed for
        good (no retries left) ends the wait before the run itself is marked failed."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            run = self.dag_run(run_id, dag_id)
            if run["state"] in TERMINAL:
                return run
            if fail_fast:
                tis = self.task_instances(run_id, dag_id)
                if any(t["state"] == "failed" for t in tis):
                    return {**run, "state": "failed", "fail_fast": True}
            if time.monotonic() > deadline:
                return {**run, "state": "timeout"}
            time.sleep(3)

    # -- reports ---------------------------------------------------------------------

    def task_log_tail(self, ti: dict, lines: int = 25) -> str:
        """The last lines of a task attempt's log, from the shared log folder."""
        folder = (
            self.airflow_home
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

    def run_report(self, run_id: str, run: dict, dag_id: str = DAG_ID) -> dict:
        tis = self.task_instances(run_id, dag_id)
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
            if t["queue"] == self.queue
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
            "failure_logs": {t["task_id"]: self.task_log_tail(t) for t in first_failed},
        }

    def warehouse_check(self, night: str | None = None) -> dict:
        """What the warehouse holds: published runs (for ``night``) and people."""
        from sqlalchemy import text

        from transforms.warehouse.db import make_engine

        engine = make_engine(self.warehouse_admin_url)
        try:
            with engine.connect() as conn:
                published = conn.execute(
                    text(
                        "select count(*) from audit.pipeline_run where status = 'published'"
                        + (" and night = :n" if night else "")
                    ),
                    {"n": night} if night else {},
                ).scalar_one()
                persons = conn.execute(text("select count(*) from shared_care.person")).scalar_one()
                failures = conn.execute(
                    text("select count(*) from audit.task_failure")
                ).scalar_one()
        finally:
            engine.dispose()
        return {"published_runs": published, "persons": persons, "task_failures": failures}
