"""The real DAG, run night by night with ``dag.test()``, on DuckDB and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from tests.e2e.conftest import parse_dag
from tests.e2e.leaks import clear_identifiers, scan_warehouse
from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame

PUBLISHED = [
    "person", "person_conflict", "care_event", "pathway2_stay", "metric", "metric_history",
]  # fmt: skip


@pytest.fixture(scope="module")
def dag():
    return parse_dag()


def run_night(dag, night: str, **conf):
    logical = datetime.fromisoformat(f"{night}T02:00:00").replace(tzinfo=ZoneInfo("Europe/London"))
    run = dag.test(logical_date=logical, run_conf=conf or None)
    assert str(run.state).endswith("success"), f"night {night} ended {run.state}"
    return run


def tables(url: str, schema: str, names: list[str]) -> dict[str, pd.DataFrame]:
    engine = make_engine(url)
    try:
        out = {}
        for name in names:
            frame = read_frame(engine, f"select * from {schema}.{name}")
            out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return out
    finally:
        engine.dispose()


def person_keys(url: str) -> pd.Series:
    idx = tables(url, "identity", ["person_index"])["person_index"]
    return idx.set_index(idx.source + ":" + idx.source_record_id)["person_key"]


def test_two_nights_end_to_end(dag, pipeline_env, warehouse_url, synthetic_sources, nights):
    pipeline_env(warehouse_url)
    first, second = nights[:2]

    run_night(dag, first)
    keys_1 = person_keys(warehouse_url)
    run_night(dag, second)
    keys_2 = person_keys(warehouse_url)
    engine = make_engine(warehouse_url)
    runs = read_frame(engine, "select * from audit.pipeline_run order by finished_at")
    accounting = read_frame(engine, "select * from audit.row_accounting")
    history = read_frame(engine, "select * from identity.person_key_history")
    engine.dispose()

    # both nights published, and every extracted row is accounted for
    assert runs.status.tolist() == ["published", "published"]
    assert accounting.balanced.all()
    for r in accounting.itertuples():
        assert r.extracted == r.published + r.quarantined + r.merged, r.table_name
    night1 = runs.iloc[0]
    assert night1.dcc_extracted > 0 and night1.dchs_extracted > 0
    assert night1.persons_both > 0
    # the key history only grows: the first night's keys are still recorded created
    created_1 = history[(history.run_id == night1.run_id) & (history.event == "created")]
    assert len(created_1) == night1.persons

    # the same person keeps the same key across nights, except for recorded merges/splits
    common = keys_1.index.intersection(keys_2.index)
    moved = keys_1[common] != keys_2[common]
    explained = set(
        history.loc[history.event.isin(["merged_into", "split_from"]), "person_key"]
    ) | set(history.loc[history.event == "split_from", "other_person_key"])
    assert set(keys_1[common][moved]) <= explained
    assert moved.mean() <= 0.001

    # every night's figures are kept, the latest alone in metric; the rates per 100,000
    # divide by the county's population from the sources' population.csv
    from transforms.tables.population import county_population, load_population

    published = tables(warehouse_url, "shared_care", ["metric", "metric_history"])
    kept = published["metric_history"]
    assert sorted(kept.as_of.astype(str).unique()) == [first, second]
    assert set(kept.run_id) == set(runs.run_id)
    assert published["metric"].as_of.astype(str).unique().tolist() == [second]
    county = county_population(load_population(synthetic_sources / "population.csv"))
    rates = published["metric"][published["metric"].measure_id.str.startswith("ascof_2c")]
    assert not rates.empty and set(rates.denominator) == {county["65+"]}

    # re-running the second night leaves every published table identical
    before = tables(warehouse_url, "shared_care", PUBLISHED)
    run = run_night(dag, second)
    after = tables(warehouse_url, "shared_care", PUBLISHED)
    for name in PUBLISHED:
        if name == "metric_history":  # the re-run is a new run id: it replaces its night's rows
            assert set(after[name].run_id) - set(before[name].run_id) == {run.run_id}
            before[name], after[name] = (t[name].drop(columns="run_id") for t in (before, after))
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)

    # no clear identifier from the sources anywhere in the warehouse
    found = scan_warehouse(warehouse_url, clear_identifiers(synthetic_sources))
    assert found == [], f"clear identifiers in the warehouse: {found[:5]}"


def test_a_missing_key_stops_the_night_before_anything_is_read(
    dag, pipeline_env, duckdb_url, nights, monkeypatch
):
    pipeline_env(duckdb_url)
    monkeypatch.delenv("CARE_KEY_FILE")
    logical = datetime.fromisoformat(f"{nights[0]}T02:00:00").replace(
        tzinfo=ZoneInfo("Europe/London")
    )
    run = dag.test(logical_date=logical)
    assert str(run.state).endswith("failed")
    engine = make_engine(duckdb_url)
    failures = read_frame(engine, "select task_id, error from audit.task_failure")
    runs = read_frame(engine, "select status, error from audit.pipeline_run")
    engine.dispose()
    # nothing published; the run-level callback recorded the failed run
    assert runs.status.tolist() == ["failed"]
    assert failures.task_id.tolist() == ["prepare"]
    assert "key" in failures.error.iloc[0].lower()
