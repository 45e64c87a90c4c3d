"""One tiny hand-built case per measure rule, each figure worked out by hand.

Everyone is 85 (born June 1940) unless said otherwise; as of 1 Nov 2026; the discharge D
is 10 April 2026 (a DCC request from hospital) and START reablement begins the day after.
Q2 = April-June 2026, the quarter of D.
"""

from __future__ import annotations

import pandas as pd
import pytest
from build_fixtures import (
    AS_OF,
    POPULATION,
    dcc_request,
    dcc_service,
    dchs_referral,
    dchs_spell,
    frames,
    record,
)

from transforms.tables.care_event import build_care_event
from transforms.tables.measure_sql import run_duckdb, run_postgres
from transforms.tables.pathway2 import build_pathway2_stays
from transforms.tables.person import build_person

Q2 = (pd.Timestamp("2026-04-01"), pd.Timestamp("2026-06-30"))
FY26 = (pd.Timestamp("2026-04-01"), pd.Timestamp("2027-03-31"))
D = pd.Timestamp("2026-04-10")


def day(n: int) -> str:
    """D + n days as text."""
    return (D + pd.Timedelta(days=n)).strftime("%Y-%m-%d")


def tables(records, events):
    rec, ev = frames(records, events)
    linked = rec[rec["record_status"] != "Merged"].reset_index(drop=True)
    person, _ = build_person(linked, ev, as_of=AS_OF)
    care_event = build_care_event(rec, ev)
    return {"person": person, "care_event": care_event,
            "pathway2_stay": build_pathway2_stays(care_event)}  # fmt: skip


def figure(records, events, measure_id, period=Q2, breakdown="all"):
    """(numerator, denominator) of one row, or None when the measure has no such row."""
    out = run_duckdb(tables(records, events), as_of=AS_OF, population=POPULATION,
                     measure_ids=[measure_id])[measure_id]  # fmt: skip
    hit = out[(out["period_start"] == period[0]) & (out["period_end"] == period[1])
              & (out["breakdown"] == breakdown)]  # fmt: skip
    if hit.empty:
        return None
    r = hit.iloc[0]
    return (None if pd.isna(r["numerator"]) else r["numerator"], r["denominator"])


def reablement_after_discharge(rid="M1", pk="P1", **kw):
    """D, then START from D + 1 to D + 20."""
    return [record("dcc", rid, pk, **kw)], [
        dcc_request(rid, f"{rid}-req", day(0)),
        dcc_service(rid, f"{rid}-st", "reablement", day(1), day(20), "ended_as_planned"),
    ]


# ------------------------------------------------------------------------ ASCOF 2D
@pytest.mark.parametrize(("later", "remained"), [(84, 0), (85, 1)])
def test_2d_readmission_is_a_later_hospital_discharge_within_84_days(later, remained):
    """Another discharge from hospital on day 84 means a readmission; on day 85 it does not."""
    R, E = reablement_after_discharge()
    E.append(dcc_request("M1", "M1-req2", day(later)))
    assert figure(R, E, "ascof_2d") == (remained, 1)


def test_2d_readmission_seen_only_as_a_dchs_referral_from_hospital():
    """No admission is recorded anywhere: a DCHS referral from hospital on day 30 shows one."""
    R, E = reablement_after_discharge()
    R.append(record("dchs", "S1", "P1"))
    E.append(dchs_referral("S1", "S1-ref", "district_nursing", day(30)))
    assert figure(R, E, "ascof_2d") == (0, 1)
    assert figure(R, E, "ascof_2d", breakdown="outcome:readmitted") == (1, 1)


@pytest.mark.parametrize(("gap", "denominator"), [(7, None), (8, 1)])
def test_2d_services_7_days_apart_are_one_cluster(gap, denominator):
    """START 1-5 April, then START again `gap` days after it ends, the day after a discharge.
    7 days: one cluster starting 1 April, which no discharge from 25 March to 4 April leads
    into - no cohort. 8 days: the second START is its own cluster, linked to its discharge."""
    second = pd.Timestamp("2026-04-05") + pd.Timedelta(days=gap)
    R = [record("dcc", "M1", "P1")]
    E = [
        dcc_service("M1", "s1", "reablement", "2026-04-01", "2026-04-05", "ended_as_planned"),
        dcc_request("M1", "r1", (second - pd.Timedelta(days=1)).strftime("%Y-%m-%d")),
        dcc_service("M1", "s2", "reablement", second.strftime("%Y-%m-%d"), "2026-05-20"),
    ]
    got = figure(R, E, "ascof_2d")
    assert (got[1] if got else None) == denominator


@pytest.mark.parametrize(("offset", "linked"), [(-7, True), (-8, False), (3, True), (4, False)])
def test_2d_discharge_window_is_7_days_before_to_3_days_after_the_start(offset, linked):
    """The discharge is `offset` days from the START's first day (1 May)."""
    start = pd.Timestamp("2026-05-01")
    R = [record("dcc", "M1", "P1")]
    E = [
        dcc_request("M1", "r1", (start + pd.Timedelta(days=offset)).strftime("%Y-%m-%d")),
        dcc_service("M1", "s1", "reablement", "2026-05-01", "2026-05-20", "ended_as_planned"),
    ]
    assert (figure(R, E, "ascof_2d") is not None) == linked


def test_2d_and_2c_count_service_users_only():
    """The same journey, and a care home admission, on an unpaid carer's record: not counted."""
    R, E = reablement_after_discharge()
    R2, E2 = reablement_after_discharge("M2", "P2")
    for e in E2:
        e["client_type"] = "carer"
    E2.append(dcc_service("M2", "M2-lt", "long_term_residential", day(100)))
    E2[-1]["client_type"] = "carer"
    assert figure(R + R2, E + E2, "ascof_2d") == (1, 1)  # P1 only
    assert figure(R + R2, E + E2, "ascof_2c_admissions_65_plus", FY26) is None  # no admission
    E2[-1]["client_type"] = "service_user"
    assert figure(R + R2, E + E2, "ascof_2c_admissions_65_plus", FY26) == (1, 500)


def test_2d_a_discharge_needs_an_admission_before_it():
    """A community hospital spell admitted and discharged the same day is no discharge
    (DHSC: Admission_Date < Discharge_Date); one night in hospital is."""
    for end, denominator in ((day(0), None), (day(1), 1)):
        R = [record("dchs", "S1", "P1"), record("dcc", "M1", "P1")]
        E = [
            dchs_spell("S1", "1", day(0), end, "19", route="community_step_up"),
            dcc_service("M1", "s1", "reablement", day(2), day(20), "ended_as_planned"),
        ]
        got = figure(R, E, "ascof_2d")
        assert (got[1] if got else None) == denominator


@pytest.mark.parametrize(("placement", "expected"), [(-1, None), (0, (0, 1))])
def test_2d_a_placement_from_the_discharge_day_began_after_the_unseen_admission(
    placement, expected
):
    """A discharge with no admission seen and a care home placement from `placement` days
    from it. DHSC tests the admission day, which came before the discharge: a placement from
    the day before was open then (left out); one from the discharge day was not (in the
    cohort, and a care home admission within 84 days)."""
    R, E = reablement_after_discharge()
    E.append(dcc_service("M1", "lt", "long_term_residential", day(placement)))
    assert figure(R, E, "ascof_2d") == expected
    assert figure(R, E, "ascof_2d_part2") == ((1, 1) if expected else None)


@pytest.mark.parametrize(
    "death",
    [
        dcc_service("M1", "rv", "long_term_community", day(2), day(30), "died"),
        dchs_spell("S1", "9", day(25), day(30), "79", route="community_step_up"),
    ],
    ids=["dcc_nfa_deceased", "dchs_discharge_destination_79"],
)
def test_2d_and_91_days_a_death_recorded_only_as_an_outcome_is_a_death(death):
    """No date of death on any person record; a DCC service ended 'NFA - Deceased' or a
    community hospital discharge to 79 (died) on day 30: died within 84 and 91 days."""
    R, E = reablement_after_discharge()
    R.append(record("dchs", "S1", "P1"))
    E.append(death)
    assert figure(R, E, "ascof_2d", breakdown="outcome:died") == (1, 1)
    assert figure(R, E, "still_at_home_91", breakdown="outcome:died") == (1, 1)


Q1_2026 = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31"))
FY25 = (pd.Timestamp("2025-04-01"), pd.Timestamp("2026-03-31"))


def discharges_either_side_of_a_year_end():
    """Discharges on 30 March and 1 April 2026 (DCC requests), START from 2 April."""
    R = [record("dcc", "M1", "P1")]
    E = [
        dcc_request("M1", "r1", "2026-03-30"),
        dcc_request("M1", "r2", "2026-04-01"),
        dcc_service("M1", "s1", "reablement", "2026-04-02", "2026-04-20", "ended_as_planned"),
    ]
    return R, E


def test_2d_each_period_links_the_latest_discharge_inside_it():
    """DHSC runs the procedure once per period over the discharges in it: 2025/26 (and
    Jan-Mar 2026) link the cluster to 30 March, 2026/27 (and Apr-Jun) to 1 April."""
    R, E = discharges_either_side_of_a_year_end()
    for period in (FY25, Q1_2026, FY26, Q2):
        assert figure(R, E, "ascof_2d", period) == (1, 1), period
        assert figure(R, E, "ascof_2d_part2", period)[0] == 1, period


def test_2d_a_discharge_by_the_cluster_start_is_no_readmission():
    """Linked to 30 March (2025/26), the 1 April discharge came before the cluster started
    (2 April), so its admission did too: DHSC's readmission is admitted after the cluster
    start. A discharge on 3 April (after the start) is one."""
    R, E = discharges_either_side_of_a_year_end()
    assert figure(R, E, "ascof_2d", FY25, "outcome:readmitted") == (0, 1)
    E.append(dcc_request("M1", "r3", "2026-04-03"))
    assert figure(R, E, "ascof_2d", FY25, "outcome:readmitted") == (1, 1)


def test_2d_part2_is_the_share_of_65_plus_discharges_into_reablement():
    """Two discharges of people aged 85 in April: one into START, one not: 1 of 2."""
    R, E = reablement_after_discharge()
    R.append(record("dcc", "M2", "P2"))
    E.append(dcc_request("M2", "M2-req", day(5)))
    assert figure(R, E, "ascof_2d_part2") == (1, 2)


def test_2c_a_death_recorded_only_as_an_outcome_before_the_year_leaves_the_person_out():
    """No date of death on the person record; a DCC review-like service ended 'NFA -
    Deceased' on 20 March 2026. A residential placement recorded as starting on 5 April
    2026 is not a 2026/27 admission (DHSC: people who died before the year are left out)."""
    R = [record("dcc", "M1", "P1")]
    E = [
        dcc_service("M1", "lc", "long_term_community", "2026-01-05", "2026-03-20", "died"),
        dcc_service("M1", "lt", "long_term_residential", "2026-04-05"),
    ]
    assert figure(R, E, "ascof_2c_admissions_65_plus", FY26) is None
    E[0]["outcome"] = "ended_as_planned"
    assert figure(R, E, "ascof_2c_admissions_65_plus", FY26) == (1, 500)


# ------------------------------------------------------------------ STS004 (91 days)
@pytest.mark.parametrize(("start", "at_home"), [(91, 0), (92, 1)])
def test_91_days_a_care_home_on_day_91_is_not_at_home_day_92_is(start, at_home):
    R, E = reablement_after_discharge()
    E.append(dcc_service("M1", "lt", "long_term_residential", day(start)))
    assert figure(R, E, "still_at_home_91") == (at_home, 1)


def test_91_days_community_hospital_to_care_home_is_not_a_discharge_into_reablement():
    """Acute -> community hospital -> care home: no reablement, so not in the cohort; acute ->
    community hospital -> home -> DCHS reablement counts from the community hospital
    discharge (20 April), at home."""
    R = [record("dchs", "S1", "P1"), record("dchs", "S2", "P2")]
    E = [
        dchs_spell("S1", "1", day(0), day(10), "54"),
        dchs_spell("S2", "2", day(0), day(10), "19"),
        dchs_referral("S2", "r2", "reablement", day(11), day(30), route="other"),
    ]
    assert figure(R, E, "still_at_home_91") == (1, 1)


# ------------------------------------------------------------------------- status
def test_a_period_before_the_sources_history_is_partial():
    """The sources start on 1 April 2026 (a service), so 2025/26 look-backs are not covered:
    ASCOF 2C for 2026/27 needs the 365 days before 1 April 2026."""
    R = [record("dcc", "M1", "P1")]
    E = [dcc_service("M1", "lt", "long_term_residential", "2026-04-01")]
    out = run_duckdb(tables(R, E), as_of=AS_OF, population=POPULATION,
                     measure_ids=["ascof_2c_admissions_65_plus"])  # fmt: skip
    assert out["ascof_2c_admissions_65_plus"]["status"].tolist() == ["partial_history"]


# ---------------------------------------------------------- DuckDB = PostgreSQL
def test_every_measure_file_gives_the_same_figures_on_postgresql(pg_url, scenario_tables):
    """The scenario's tables published to PostgreSQL's shared_care; every sql/measures file
    run there and in DuckDB: the same rows."""
    from sqlalchemy import create_engine

    from transforms.warehouse.db import ensure_schema
    from transforms.warehouse.publish import replace_rows

    published = {k: scenario_tables[k] for k in ("person", "care_event", "pathway2_stay")}
    engine = create_engine(pg_url)
    try:
        ensure_schema(engine)
        with engine.begin() as conn:
            for name, frame in published.items():
                replace_rows(conn, f"shared_care.{name}", frame)
        on_pg = run_postgres(engine, as_of=AS_OF, population=POPULATION)
    finally:
        engine.dispose()
    on_duck = run_duckdb(published, as_of=AS_OF, population=POPULATION)
    assert set(on_pg) == set(on_duck)
    for mid, duck in on_duck.items():
        assert len(duck) > 0 or mid.startswith("ascof_2b"), mid
        pd.testing.assert_frame_equal(
            on_pg[mid].reset_index(drop=True), duck.reset_index(drop=True), check_exact=False,
            rtol=1e-9, obj=mid,
        )  # fmt: skip


# ---------------------------------------------------------- shared rules
def test_each_shared_rule_is_one_file_and_no_measure_redefines_it():
    """Every sql/measures/shared file is created (and only those); a CTE of the same name in
    any file would shadow the shared rule there alone."""
    import re

    from transforms.tables.measure_sql import SHARED, SHARED_DIR, SQL_DIR

    assert sorted(p.stem for p in SHARED_DIR.glob("*.sql")) == sorted(SHARED)
    for path in sorted(SQL_DIR.glob("*.sql")) + sorted(SHARED_DIR.glob("*.sql")):
        ctes = set(re.findall(r"^(\w+) as \($", path.read_text(encoding="utf-8"), flags=re.M))
        assert not ctes & set(SHARED), (path.name, sorted(ctes & set(SHARED)))


@pytest.mark.parametrize(
    ("district", "counted"), [("Erewash", 1), ("Derby", 0), (None, 1)], ids=str
)
def test_2c_counts_county_residents_and_those_with_no_district_not_derby_city(district, counted):
    """A residential admission in 2026/27 of a person in Erewash (in the county) counts;
    one in Derby (a unitary authority outside it) does not; one with no district recorded
    is the council's client and counts. Denominator: the county's 65+, 500."""
    R = [record("dcc", "M1", "P1", district=district)]
    E = [dcc_service("M1", "lt", "long_term_residential", "2026-05-01")]
    assert figure(R, E, "ascof_2c_admissions_65_plus", FY26) == (counted, 500)
