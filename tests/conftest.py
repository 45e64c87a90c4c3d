"""Shared fixtures.

PostgreSQL: tests marked ``postgres`` get a fresh database of their own on the server
at ``CARE_TEST_PG_URL`` (default: the local trust-auth server), dropped afterwards.
Locally a missing server skips them; under ``CI=true`` it is a failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Airflow reads its configuration at import: give the test session a home of its own
# (SQLite metadata), never the developer's, before anything imports Airflow.
if "AIRFLOW_HOME" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _HOME = tempfile.mkdtemp(prefix="care_airflow_home_")
    _OWNER = os.getpid()
    os.environ["AIRFLOW_HOME"] = _HOME
    # removed when the session ends (not by forked children, which share the home)
    atexit.register(lambda: os.getpid() == _OWNER and shutil.rmtree(_HOME, ignore_errors=True))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))

PG_ADMIN_URL = os.environ.get(
    "CARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin_engine():
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_admin():
    """An AUTOCOMMIT engine on the admin database, or skip (fail under CI)."""
    from sqlalchemy import text

    engine = _pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin):
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"care_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with pg_admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def duckdb_url(tmp_path):
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    """Both warehouse backends: the embedded DuckDB default and the real PostgreSQL."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("pg_url")
