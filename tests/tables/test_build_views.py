"""The published tables load into both warehouses; every measure view and comment works."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.tables.measure_catalogue import MEASURES
from transforms.tables.metric_views import VIEW_COLUMNS
from transforms.tables.table_docs import SHARED_CARE_TABLES
from transforms.tables.warehouse_comments import apply_comments
from transforms.warehouse.bulk import insert_frame
from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import read_frame

TABLES = ["person", "person_conflict", "care_event", "pathway2_stay", "metric"]


@pytest.fixture
def tables(scenario_tables):
    return scenario_tables


def comments(engine, backend: str) -> pd.DataFrame:
    if backend == "postgresql":
        sql = (
            "select c.table_name, c.column_name, "
            "col_description((c.table_schema || '.' || c.table_name)::regclass, "
            "c.ordinal_position) as comment "
            "from information_schema.columns c where c.table_schema = 'shared_care'"
        )
    else:
        sql = (
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'shared_care'"
        )
    return read_frame(engine, sql)


def test_tables_views_and_comments(warehouse_url, tables):
    engine = make_engine(warehouse_url)
    try:
        ensure_schema(engine)
        with engine.begin() as conn:
            for name in TABLES:
                assert insert_frame(conn, f"shared_care.{name}", tables[name]) == len(tables[name])
        ensure_schema(engine)  # nightly re-run: views are replaced in place
        assert apply_comments(engine) > 100

        metric = tables["metric"]
        for m in MEASURES:
            view = read_frame(engine, f"select * from {m.view}")
            assert list(view.columns) == list(VIEW_COLUMNS), m.view
            assert len(view) == int((metric["measure_id"] == m.measure_id).sum()), m.view
            assert set(view["unit"]) == {m.unit}

        home = read_frame(
            engine,
            "select * from shared_care.v_metric_still_at_home_91 "
            "where period_start = '2026-04-01' order by period_end, breakdown",
        )
        quarter = home[home["period_type"] == "quarter"].set_index("breakdown")
        assert quarter.loc["all", "percent"] == pytest.approx(300 / 7)
        assert quarter.loc["all", "status"] == "final"
        assert tuple(quarter.loc["outcome:died", ["breakdown_dimension", "breakdown_value"]]) == (
            "outcome",
            "died",
        )
        assert quarter.loc["all", "breakdown_dimension"] == "all"
        assert str(quarter.loc["all", "period_end"]) == "2026-06-30"
        year = home[home["period_type"] == "financial_year"].set_index("breakdown")
        assert year.loc["all", "status"] == "provisional"

        rate = read_frame(engine, "select * from shared_care.v_metric_ascof_2c_admissions_65_plus")
        assert rate["percent"].isna().all() and set(rate["period_type"]) == {"financial_year"}
        snap = read_frame(engine, "select * from shared_care.v_metric_tio_known_to_both")
        assert set(snap["period_type"]) == {"snapshot"}
        los = read_frame(
            engine,
            "select breakdown_value, value from shared_care.v_metric_pathway2_los_median "
            "where breakdown_dimension = 'setting' and period_start = '2026-04-01' "
            "and period_type = 'quarter'",
        )
        assert los.set_index("breakdown_value")["value"].to_dict() == {
            "community_hospital": 20.0,
            "community_support_bed": 3.0,
            "community_support_bed>community_hospital": 41.0,
        }

        stays = read_frame(engine, "select * from shared_care.pathway2_stay").set_index("stay_id")
        assert str(stays.loc["p2:dchs:spell:C3", "episode_start"]) == "2026-07-15"
        assert stays.loc["p2:dcc:H2", "length_of_stay_days"] == 41
        assert stays["entry_route"].notna().all()

        documented = {(t.name.split(".")[1], c) for t in SHARED_CARE_TABLES for c in t.columns}
        got = comments(engine, engine.dialect.name)
        got = got[got["table_name"].isin([t.name.split(".")[1] for t in SHARED_CARE_TABLES])]
        have = {(r.table_name, r.column_name) for r in got.itertuples() if r.comment}
        assert documented <= have
        assert len(got) == len(documented)  # no undocumented column in the published tables

        # the analyst's view: every column of every measure view carries its comment,
        # and a nightly re-run of the views (which drops them) then the comments keeps it
        ensure_schema(engine)
        apply_comments(engine)
        got = comments(engine, engine.dialect.name)
        views = got[got["table_name"].isin([m.view.split(".")[1] for m in MEASURES])]
        assert len(views) == len(MEASURES) * len(VIEW_COLUMNS)
        assert views["comment"].notna().all()
        home = views[views["table_name"] == "v_metric_still_at_home_91"].set_index("column_name")
        assert home.loc["percent", "comment"] == VIEW_COLUMNS["percent"]
        assert home.loc["value", "comment"] == "The measure in its unit (proportion)."
    finally:
        engine.dispose()
