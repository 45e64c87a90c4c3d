"""Pathway 2 episodes: CSB and community hospital stays joined across organisations."""

from __future__ import annotations

import pandas as pd
from build_fixtures import dcc_request, dcc_service, dchs_spell, frames, record

from transforms.tables.care_event import build_care_event
from transforms.tables.ddl_columns import ddl_columns
from transforms.tables.pathway2 import PATHWAY2_COLUMNS, build_pathway2_stays


def episodes(events, records=None):
    records = records or [record("dcc", "M1", "P1"), record("dchs", "S1", "P1")]
    rec, ev = frames(records, events)
    return build_pathway2_stays(build_care_event(rec, ev))


def test_csb_then_community_hospital_next_day_is_one_episode():
    ep = episodes(
        [
            dcc_request("M1", "R1", "2026-05-10"),
            dcc_service(
                "M1", "C1", "st_max_bed", "2026-05-10", "2026-05-30", "admitted_to_hospital"
            ),
            dchs_spell("S1", "SP1", "2026-05-31", "2026-06-20", "19", route="care_home"),
        ]
    )
    assert len(ep) == 1
    row = ep.iloc[0]
    assert row["stay_id"] == "p2:dcc:C1"
    assert row["settings"] == "community_support_bed>community_hospital"
    assert row["n_stays"] == 2
    assert row["episode_start"] == pd.Timestamp("2026-05-10")
    assert row["episode_end"] == pd.Timestamp("2026-06-20")
    assert row["length_of_stay_days"] == 41
    assert row["exit_destination"] == "usual_residence"
    assert row["entry_route"] == "discharge_from_hospital"
    assert row["age_at_admission"] == 85


def test_a_two_day_gap_makes_two_episodes():
    ep = episodes(
        [
            dcc_service(
                "M1", "C1", "st_max_bed", "2026-05-10", "2026-05-30", "admitted_to_hospital"
            ),
            dchs_spell("S1", "SP1", "2026-06-01", "2026-06-20", "19", route="community_step_up"),
        ]
    )
    assert ep["settings"].tolist() == ["community_support_bed", "community_hospital"]
    assert ep["length_of_stay_days"].tolist() == [20, 19]
    assert ep["exit_destination"].tolist() == ["hospital", "usual_residence"]
    assert ep["entry_route"].tolist() == ["other", "community_step_up"]


def test_overlapping_stays_and_other_people_stay_apart():
    ep = episodes(
        [
            dchs_spell("S1", "SP1", "2026-01-01", "2026-01-20", "51"),
            dchs_spell("S1", "SP2", "2026-01-10", "2026-01-15", "51"),  # inside the first
            dchs_spell("S2", "SP3", "2026-01-21", "2026-01-30", "79"),
        ],
        [record("dchs", "S1", "P1"), record("dchs", "S2", "P2")],
    )
    assert ep["person_key"].tolist() == ["P1", "P2"]
    assert ep["n_stays"].tolist() == [2, 1]
    assert ep["length_of_stay_days"].tolist() == [19, 9]
    assert ep["exit_destination"].tolist() == ["hospital", "died"]


def test_an_open_stay_keeps_the_episode_open():
    ep = episodes(
        [
            dchs_spell("S1", "SP1", "2025-10-01", "2025-10-09", "98"),  # dated: closed, unknown
            dchs_spell("S1", "SP2", "2026-10-01", None, "98"),
            dcc_service("M1", "C1", "st_max_bed", "2026-10-20", None),  # inside the open one
        ]
    )
    assert ep["exit_destination"].tolist() == ["unknown", "not_yet_discharged"]
    assert ep["length_of_stay_days"].iloc[0] == 8
    assert pd.isna(ep["episode_end"].iloc[1]) and pd.isna(ep["length_of_stay_days"].iloc[1])
    assert ep["n_stays"].tolist() == [1, 2]


def test_csb_exit_from_the_dcc_outcome_and_placements():
    ep = episodes(
        [
            dcc_service(
                "M1", "C1", "st_max_bed", "2026-01-01", "2026-01-20", "progress_to_services"
            ),
            dcc_service("M1", "LT", "long_term_nursing", "2026-01-23"),  # 3 days later
            dcc_service("M1", "C2", "st_max_bed", "2026-03-01", "2026-03-10", "ended_as_planned"),
            dcc_service("M1", "C3", "st_max_bed", "2026-04-01", "2026-04-05", "died"),
            dchs_spell("S1", "SP1", "2026-05-01", "2026-05-09", "54"),
        ]
    )
    assert ep["exit_destination"].tolist() == ["care_home", "usual_residence", "died", "care_home"]


def test_columns_match_the_ddl_and_empty_input():
    assert [c for c, _ in ddl_columns()["shared_care.pathway2_stay"]] == PATHWAY2_COLUMNS
    ep = episodes([dcc_request("M1", "R1", "2026-05-10")])
    assert ep.empty and list(ep.columns) == PATHWAY2_COLUMNS
