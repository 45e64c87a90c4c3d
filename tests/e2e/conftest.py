"""End-to-end fixtures: synthetic sources, an initialised Airflow home, a key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The DAG as the end-to-end tests parse it: a failing task fails the run at once, and
#: tasks that retry outages (extract.dcc, publish) retry once without delay.
FAST_RETRIES = {"CARE_TASK_RETRIES": "0", "CARE_RETRY_DELAY_SECONDS": "0"}


def parse_dag():
    """``shared_care_record`` parsed with ``FAST_RETRIES`` (read at parse time only)."""
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_RETRIES.items():
            mp.setenv(name, value)
        bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags["shared_care_record"]


E2E_PEOPLE = int(os.environ.get("CARE_E2E_PEOPLE", "1500"))
E2E_NIGHTS = 2


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's SQLite metadata database in the session's AIRFLOW_HOME, migrated once."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session")
def synthetic_sources(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sources")
    subprocess.run(
        [sys.executable, "-m", "transforms.synthetic", "--people", str(E2E_PEOPLE), "--days",
         str(E2E_NIGHTS), "--seed", "7", "--out", str(out)],
        check=True, cwd=ROOT,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def nights(synthetic_sources) -> list[str]:
    return json.loads((synthetic_sources / "generation.json").read_text())["nights"]


@pytest.fixture
def key_file(tmp_path) -> Path:
    from transforms.keys import create_local_key_file

    path = tmp_path / "secrets" / "key.json"
    create_local_key_file(path)
    return path


@pytest.fixture
def pipeline_env(monkeypatch, tmp_path, synthetic_sources, key_file, airflow_db):
    """Point the pipeline at tmp data, the shared sources and a fresh key; returns a setter."""
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CARE_SOURCES_DIR", str(synthetic_sources))
    monkeypatch.setenv("CARE_KEY_FILE", str(key_file))
    monkeypatch.delenv("CARE_PSEUDONYMISATION_KEY", raising=False)

    def use_warehouse(url: str) -> None:
        monkeypatch.setenv("CARE_WAREHOUSE_URL", url)

    return use_warehouse
