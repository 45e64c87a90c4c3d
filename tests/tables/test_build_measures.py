"""Every measure against hand-built people with known answers (build_fixtures.scenario)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from build_fixtures import AS_OF, EXPECTED, POPULATION, Q2, scenario

from transforms.tables.care_event import build_care_event
from transforms.tables.measure_catalogue import MEASURES, measure
from transforms.tables.measure_rules import STATUS
from transforms.tables.measures import METRIC_COLUMNS, compute_measures
from transforms.tables.pathway2 import build_pathway2_stays
from transforms.tables.person import build_person


def build(rec: pd.DataFrame, ev: pd.DataFrame, population=POPULATION, as_of=AS_OF):
    linked = rec[rec["record_status"] != "Merged"].reset_index(drop=True)
    person, _ = build_person(linked, ev, as_of=as_of)
    care_event = build_care_event(rec, ev)
    pathway2 = build_pathway2_stays(care_event)
    return compute_measures(person, care_event, pathway2, as_of=as_of, population=population)


@pytest.fixture
def built(scenario_tables):
    return scenario_tables["metric"]


def recompute(tables, **kw):
    """Only the measures again, from already built tables."""
    t = {**tables, **{k: v for k, v in kw.items() if k in tables}}
    args = {k: v for k, v in kw.items() if k in ("as_of", "population")}
    return compute_measures(
        t["person"], t["care_event"], t["pathway2_stay"],
        **{"as_of": AS_OF, "population": POPULATION, **args},
    )  # fmt: skip


def row(metric, measure_id, period, breakdown):
    hit = metric[
        (metric["measure_id"] == measure_id)
        & (metric["period_start"] == period[0])
        & (metric["period_end"] == period[1])
        & (metric["breakdown"] == breakdown)
    ]
    assert len(hit) == 1, (measure_id, period, breakdown, len(hit))
    return hit.iloc[0]


def same(got, want) -> bool:
    if want is None:
        return bool(pd.isna(got))
    return bool(np.isclose(got, want))


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}-{k[1][0]:%Y%m}-{k[2]}")
def test_known_answer(built, key):
    metric = built
    measure_id, period, breakdown = key
    numerator, denominator, value, status = EXPECTED[key]
    got = row(metric, measure_id, period, breakdown)
    assert same(got["numerator"], numerator), got.to_dict()
    assert same(got["denominator"], denominator), got.to_dict()
    assert same(got["value"], value), got.to_dict()
    assert got["status"] == status


def test_every_measure_is_computed_with_its_definition_version(built):
    metric = built
    assert list(metric.columns) == METRIC_COLUMNS
    assert set(metric["measure_id"]) == {m.measure_id for m in MEASURES}
    versions = metric["measure_id"].map(lambda m: measure(m).version)
    assert (metric["definition_version"] == versions).all()
    assert (metric["as_of"] == AS_OF).all()
    assert not metric.duplicated(["measure_id", "period_start", "period_end", "breakdown"]).any()
    assert set(metric["status"]) <= set(STATUS)


def test_a_care_home_start_on_day_92_and_a_merged_record():
    """D's placement moves to day 92 (D is at home on day 91); K's reablement was recorded
    on a DCC record since merged into K's (it still belongs to K)."""
    rec, ev = scenario()
    merged = rec[rec["source_record_id"] == "MK"].assign(
        source_record_id="MK0", record_status="Merged", merged_into_record_id="MK",
        date_of_death=pd.NaT,
    )  # fmt: skip
    rec = pd.concat([rec, merged], ignore_index=True)
    ev = ev.copy()
    ev.loc[ev["source_event_id"] == "D2", "start_date"] = pd.Timestamp("2026-08-01")
    ev.loc[ev["source_event_id"] == "K2", "source_record_id"] = "MK0"
    metric = build(rec, ev)
    assert row(metric, "still_at_home_91", Q2, "all")["numerator"] == 4
    assert row(metric, "ascof_2d", Q2, "all")["denominator"] == 4


FY26 = (pd.Timestamp("2026-04-01"), pd.Timestamp("2027-03-31"))


def test_a_later_as_of_closes_the_pending_window(scenario_tables):
    metric = recompute(scenario_tables, as_of=pd.Timestamp("2027-03-01"))
    q3 = (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30"))
    got = row(metric, "still_at_home_91", q3, "all")
    assert (got["numerator"], got["denominator"], got["status"]) == (1, 1, "final")


def test_no_events_gives_no_rows_but_the_snapshots(scenario_tables):
    t = scenario_tables
    metric = recompute(
        t, care_event=t["care_event"].iloc[0:0], pathway2_stay=t["pathway2_stay"].iloc[0:0]
    )
    assert set(metric["measure_id"]) == {"tio_known_to_both", "tio_comm_need_visible"}


def test_without_a_population_2b_2c_have_no_value(scenario_tables):
    metric = recompute(scenario_tables, population=None)
    got = row(metric, "ascof_2c_admissions_65_plus", FY26, "all")
    assert got["status"] == "no_population"
    assert pd.isna(got["value"]) and pd.isna(got["denominator"])
    assert got["numerator"] == 1  # D
