"""The warehouse password can come from a file (a container secret), never the
environment: ``CARE_WAREHOUSE_PASSWORD_FILE`` fills a URL or connection that has none."""

from __future__ import annotations

import json
import sys

import pytest
from sqlalchemy.engine import make_url

from tests.ops.helpers import ROOT
from transforms.config import Settings

URL = "postgresql+psycopg://care_pipeline@warehouse-db:5432/warehouse"


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "warehouse_pipeline_password"
    path.write_text("s3cret%'@x\n")  # the file's trailing newline is not the password
    path.chmod(0o600)
    return path


def test_the_password_comes_from_the_file(password_file):
    env = {"CARE_WAREHOUSE_URL": URL, "CARE_WAREHOUSE_PASSWORD_FILE": str(password_file)}
    url = make_url(Settings.from_env(env).warehouse_url)
    assert url.password == "s3cret%'@x"
    assert (url.username, url.host, url.database) == ("care_pipeline", "warehouse-db", "warehouse")
    # a URL that has its password, or is not PostgreSQL, is left alone
    given = "postgresql+psycopg://care_pipeline:other@db/warehouse"
    for url in (given, "duckdb:///tmp/w.duckdb"):
        env = {"CARE_WAREHOUSE_URL": url, "CARE_WAREHOUSE_PASSWORD_FILE": str(password_file)}
        assert Settings.from_env(env).warehouse_url == url


def test_a_missing_or_empty_file_is_refused_by_name(tmp_path):
    missing = tmp_path / "absent"
    with pytest.raises(ValueError, match=f"CARE_WAREHOUSE_PASSWORD_FILE {missing}: cannot read"):
        Settings.from_env({"CARE_WAREHOUSE_URL": URL, "CARE_WAREHOUSE_PASSWORD_FILE": str(missing)})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        Settings.from_env({"CARE_WAREHOUSE_URL": URL, "CARE_WAREHOUSE_PASSWORD_FILE": str(empty)})


def test_the_airflow_connection_without_a_password_takes_it_from_the_file(
    password_file, monkeypatch
):
    """As the compose workers run: the connection in the environment has no password."""
    conn = {
        "conn_type": "postgres",
        "host": "warehouse-db",
        "port": 5432,
        "schema": "warehouse",
        "login": "care_pipeline",
    }
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(conn))
    monkeypatch.setenv("CARE_WAREHOUSE_PASSWORD_FILE", str(password_file))
    monkeypatch.syspath_prepend(str(ROOT / "dags"))
    sys.modules.pop("airflow_glue", None)
    from airflow_glue import settings_from_airflow

    url = make_url(settings_from_airflow().warehouse_url)
    assert url.password == "s3cret%'@x"
    assert (url.username, url.host, url.port) == ("care_pipeline", "warehouse-db", 5432)
