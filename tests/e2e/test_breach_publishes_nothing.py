"""A batch-level breach stops the night before publish: the warehouse is exactly what
it was after the last good night (only the failure itself is recorded, in
``audit.task_failure``)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

import pandas as pd
import pytest

from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame

from .test_nightly_dag import dag, run_night  # noqa: F401  (fixture)
from .test_outages import logical


def empty_the_drop(folder) -> None:
    """Every file of the drop keeps its header and loses its rows; the manifest agrees,
    so the drop is well formed and accepted: an empty drop, not a broken one."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        path = folder / name
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow(header)
        manifest["files"][name] = {
            "rows": 0,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def snapshot(url: str) -> dict[str, pd.DataFrame]:
    engine = make_engine(url)
    try:
        listing = read_frame(
            engine,
            "select table_schema, table_name from information_schema.tables where "
            "table_schema in ('shared_care', 'identity', 'audit') and table_type = 'BASE TABLE'",
        )
        out = {}
        for schema, table in sorted(listing.itertuples(index=False)):
            if (schema, table) == ("audit", "task_failure"):
                continue
            # the run-level callback records the failed run; published rows must not change
            where = " where status = 'published'" if table == "pipeline_run" else ""
            frame = read_frame(engine, f"select * from {schema}.{table}{where}")
            out[f"{schema}.{table}"] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return out
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_empty_drop_publishes_nothing_and_leaves_the_warehouse_as_it_was(
    dag,  # noqa: F811
    pipeline_env,
    pg_url,
    synthetic_sources,
    nights,
    tmp_path,
    monkeypatch,
):
    sources = tmp_path / "sources"
    shutil.copytree(synthetic_sources, sources)
    empty_the_drop(sources / "dchs" / nights[1])
    pipeline_env(pg_url)
    monkeypatch.setenv("CARE_SOURCES_DIR", str(sources))

    run_night(dag, nights[0])
    before = snapshot(pg_url)
    run = dag.test(logical_date=logical(nights[1]))
    assert str(run.state).endswith("failed")

    after = snapshot(pg_url)
    assert after.keys() == before.keys()
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    engine = make_engine(pg_url)
    failures = read_frame(engine, "select task_id, error from audit.task_failure")
    engine.dispose()
    assert failures.task_id.tolist() == ["validate_sources"]
    assert "row_count" in failures.error.iloc[0] and "dchs_care_contact" in failures.error.iloc[0]
