"""`make run` on a data folder that already has published nights runs only later ones."""

from __future__ import annotations

from sqlalchemy import text

from transforms.config import Settings
from transforms.ops.local_setup import nights_to_run, published_night
from transforms.warehouse.db import ensure_schema, make_engine


def test_nights_already_published_are_not_run_again(tmp_path):
    settings = Settings.from_env({"CARE_DATA_DIR": str(tmp_path)})
    nights = ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert published_night(settings) is None  # no warehouse yet
    assert nights_to_run(nights, None) == (nights, [])

    engine = make_engine(settings.warehouse_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into audit.pipeline_run (run_id, night, status, generation, finished_at) "
                "values ('r2', '2026-11-02', 'published', 1, '2026-11-02 03:00:00')"
            )
        )
    engine.dispose()

    assert published_night(settings) == "2026-11-02"
    assert nights_to_run(nights, "2026-11-02") == (["2026-11-03"], ["2026-11-01", "2026-11-02"])


def test_local_runs_write_openlineage_events_to_a_file(tmp_path):
    import json

    from transforms.ops.local_setup import airflow_env

    env = airflow_env(tmp_path, tmp_path / "dags", {})
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport == {
        "type": "file",
        "log_file_path": str(tmp_path / "lineage" / "openlineage.jsonl"),
        "append": True,
    }
    assert (tmp_path / "lineage").is_dir()
    # Airflow's official provider, installed with the project, is on with it
    import importlib.util

    assert importlib.util.find_spec("airflow.providers.openlineage") is not None
