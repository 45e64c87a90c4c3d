"""The environment every component of the topology shares: Airflow's settings (one JWT
secret and an execution API URL on the api-server's actual port, the CeleryExecutor on
our own queue) and the pipeline's (data folder, sources, key, the warehouse as a
connection)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from transforms.ops.distributed.config import ADMIN_USER
from transforms.ops.distributed.processes import free_port

if TYPE_CHECKING:
    from transforms.ops.distributed.topology import Topology


def fernet_key() -> str:
    """A Fernet key (urlsafe base64 of 32 random bytes) without importing cryptography."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def airflow_environment(topology: Topology) -> dict[str, str]:
    """The caller's environment without its Airflow, pipeline and pytest variables, the
    virtualenv's ``bin`` first on ``PATH``, and the topology's settings."""
    config, databases = topology.config, topology.databases
    bin_dir = str(Path(sys.executable).parent)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "CARE_", "_AIRFLOW", "PYTEST"))
    }
    base["PATH"] = os.pathsep.join([bin_dir, base.get("PATH", "")])
    warehouse = urlsplit(databases.warehouse_admin_url.replace("+psycopg", ""))
    meta = databases.meta_url
    env = {
        **base,
        "CARE_TOPOLOGY_ID": topology.id,
        "AIRFLOW_HOME": str(topology.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(config.parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # unpaused through the API
        "AIRFLOW__CORE__FERNET_KEY": fernet_key(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{topology.base_url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(topology.port),
        "AIRFLOW__API__BASE_URL": topology.base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta,
        "AIRFLOW__CELERY__BROKER_URL": config.redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{meta}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(config.worker_concurrency),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": topology.queue,  # our own queue on a shared Redis
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs we trigger
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        # a check, not a night: one quick retry for outages instead of 2-3 after minutes
        "CARE_TASK_RETRIES": "1",
        "CARE_RETRY_DELAY_SECONDS": "10",
        # the pipeline: data folder, sources, key, and the warehouse as a connection
        "CARE_DATA_DIR": str(topology.data_dir),
        "CARE_SOURCES_DIR": str(topology.data_dir / "sources"),
        **topology.key_env,
        "AIRFLOW_CONN_WAREHOUSE": json.dumps(
            {
                "conn_type": "postgres",
                "host": warehouse.hostname,
                "port": warehouse.port or 5432,
                "login": databases.pipeline_login,
                "password": databases.pipeline_password,
                "schema": databases.warehouse_db,
            }
        ),
    }
    env.update({k: str(v) for k, v in config.extra_env.items()})
    return env


def seed_password(airflow_home: Path, password: str) -> None:
    """The simple auth manager keeps passwords in this file; we choose ours."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    path.write_text(json.dumps({ADMIN_USER: password}) + "\n")
    path.chmod(0o600)
