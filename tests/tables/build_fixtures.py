"""Hand-built person records and events with known answers for every measure.

Everyone below is a person key (``PK_*``) with one or two source records. The scenario
(as of 2026-11-01) and the answers the tests expect are spelled out next to each person;
``expected`` at the bottom collects them.
"""

from __future__ import annotations

import pandas as pd

from transforms.contracts import PERSON_RECORD, SOURCE_EVENT
from transforms.tables.values import age_from_birth_parts

AS_OF = pd.Timestamp("2026-11-01")
OLD = (1940, 6)  # 85-86 in 2026
YOUNG_OLD = (1955, 3)  # 71 in 2026


def record(source, rid, person_key, birth=OLD, **kw) -> dict:
    row = {c: None for c in PERSON_RECORD}
    row.update(
        source=source,
        source_record_id=rid,
        record_status="Active",
        nhs_number_valid=True,
        tok_dob=f"tok-{person_key}",
        sex="F",
        birth_year=birth[0] if birth else None,
        birth_month=birth[1] if birth else None,
        ethnicity_group="White",
        district="Erewash",
        key_version="v1",
        person_key=person_key,
        link_probability=1.0,
    )
    row.update(kw)
    return row


def _event(source, eid, rid, event_type, **kw) -> dict:
    row = {c: None for c in SOURCE_EVENT}
    row.update(
        source=source,
        source_event_id=eid,
        source_record_id=rid,
        organisation=source.upper(),
        event_type=event_type,
        client_type="service_user" if source == "dcc" else None,
    )
    row.update(kw)
    return row


def dcc_request(rid, eid, day, route="discharge_from_hospital"):
    return _event("dcc", eid, rid, "request", setting="hospital", start_date=day, end_date=day,
                  outcome="progress_to_reablement", route_of_access=route)  # fmt: skip


SETTING = {
    "reablement": "home",
    "st_max_bed": "community_support_bed",
    "long_term_residential": "care_home",
    "long_term_nursing": "care_home",
    "long_term_community": "home",
}


def dcc_service(rid, eid, category, start, end=None, outcome=None):
    return _event("dcc", eid, rid, "service", setting=SETTING[category], service_category=category,
                  start_date=start, end_date=end, outcome=outcome)  # fmt: skip


def dchs_referral(rid, sid, category, start, end=None, route="discharge_from_hospital"):
    return _event("dchs", f"ref:{sid}", rid, "referral", setting="home",
                  service_category=category, start_date=start, end_date=end,
                  outcome="discharged" if end else None, route_of_access=route)  # fmt: skip


DEST_OUTCOME = {"19": "usual_residence", "54": "care_home", "51": "hospital", "79": "died"}


def dchs_spell(rid, n, start, end=None, dest="98", route="discharge_from_hospital"):
    return _event("dchs", f"spell:{n}", rid, "inpatient_spell", setting="community_hospital",
                  service_category="bed_intermediate_care", start_date=start, end_date=end,
                  outcome=DEST_OUTCOME.get(dest), route_of_access=route,
                  discharge_destination_code=dest)  # fmt: skip


def frames(records: list[dict], events: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(keyed records, events) with the types the tokens zone has."""
    rec = pd.DataFrame(records)
    rec["birth_year"] = pd.array(rec["birth_year"], dtype="Int64")
    rec["birth_month"] = pd.array(rec["birth_month"], dtype="Int64")
    rec["date_of_death"] = pd.to_datetime(rec["date_of_death"])
    rec["unpaid_carer"] = pd.array(rec["unpaid_carer"], dtype="boolean")
    ev = pd.DataFrame(events, columns=SOURCE_EVENT)
    ev["start_date"] = pd.to_datetime(ev["start_date"])
    ev["end_date"] = pd.to_datetime(ev["end_date"])
    ev["pathway"] = pd.array([None] * len(ev), dtype="Int64")
    births = rec.set_index(["source", "source_record_id"])[["birth_year", "birth_month"]]
    births = births[~births.index.duplicated()]
    at = births.reindex(pd.MultiIndex.from_frame(ev[["source", "source_record_id"]]))
    ev["age_at_event"] = age_from_birth_parts(
        at["birth_year"].reset_index(drop=True),
        at["birth_month"].reset_index(drop=True),
        ev["start_date"],
    ).to_numpy()
    return rec, ev


def scenario() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The measures scenario: keyed records (person_key, link_probability) and events."""
    R, E = [], []
    # A: DCC only. Discharge 10 Apr -> START. Nothing after: AT HOME (91) and remained (2D).
    R.append(record("dcc", "MA", "PK_A"))
    E += [dcc_request("MA", "A1", "2026-04-10"),
          dcc_service("MA", "A2", "reablement", "2026-04-11", "2026-05-05", "ended_as_planned")]  # fmt: skip
    # B: known to both. DCHS reablement (team 52) from hospital 15 Apr; the death (20 Jun,
    # day 66) is recorded by DCC only: DIED, in the denominator. Not in 2D (not CLD).
    R.append(record("dchs", "SB", "PK_B"))
    R.append(record("dcc", "MB", "PK_B", date_of_death="2026-06-20"))
    E += [dchs_referral("SB", "B1", "reablement", "2026-04-15", "2026-05-10")]
    # C: known to both. Discharge 20 Apr -> START; step-up community hospital stay from
    # 15 Jul (day 86) to 30 Jul (day 101) covers day 91 (20 Jul): IN BED. For 2D the
    # admission is day 86 > 84: remained.
    R.append(record("dcc", "MC", "PK_C"))
    R.append(record("dchs", "SC", "PK_C"))
    E += [dcc_request("MC", "C1", "2026-04-20"),
          dcc_service("MC", "C2", "reablement", "2026-04-21", "2026-05-10", "ended_as_planned"),
          dchs_spell("SC", "C3", "2026-07-15", "2026-07-30", "19", route="community_step_up")]  # fmt: skip
    # D: known to both. DCHS home-based intermediate care (53) from hospital 1 May; DCC
    # long-term residential care starts 30 Jul = day 90: CARE HOME.
    R.append(record("dchs", "SD", "PK_D"))
    R.append(record("dcc", "MD", "PK_D"))
    E += [dchs_referral("SD", "D1", "home_intermediate_care", "2026-05-01", "2026-05-20"),
          dcc_service("MD", "D2", "long_term_residential", "2026-07-30")]  # fmt: skip
    # E: discharge 1 Sep -> START: day 91 = 1 Dec, after as_of: PENDING (and 2D pending).
    R.append(record("dcc", "ME", "PK_E"))
    E += [dcc_request("ME", "E1", "2026-09-01"),
          dcc_service("ME", "E2", "reablement", "2026-09-02", "2026-09-20", "ended_as_planned")]  # fmt: skip
    # F: aged 64 at discharge: not in either cohort.
    R.append(record("dcc", "MF", "PK_F", birth=(1962, 1)))
    E += [dcc_request("MF", "F1", "2026-05-05"),
          dcc_service("MF", "F2", "reablement", "2026-05-06", "2026-05-25", "ended_as_planned")]  # fmt: skip
    # H: known to both. Discharge 10 May to a Community Support Bed (to 30 May, "Admitted
    # to hospital" = the transfer), community hospital next day (31 May, from a care home
    # bed, source 65) to 20 Jun, home (19): ONE episode of 41 days; AT HOME on day 91.
    R.append(record("dcc", "MH", "PK_H"))
    R.append(record("dchs", "SH", "PK_H"))
    E += [dcc_request("MH", "H1", "2026-05-10"),
          dcc_service("MH", "H2", "st_max_bed", "2026-05-10", "2026-05-30", "admitted_to_hospital"),
          dchs_spell("SH", "H3", "2026-05-31", "2026-06-20", "19", route="care_home")]  # fmt: skip
    # I: DCC only. Discharge 1 Jun -> START ends 10 Jun "Admitted to hospital"; nothing
    # after: the inferred acute stay (10 days) is over long before day 91 -> AT HOME; for
    # 2D it is a readmission within 84 days -> not remained.
    R.append(record("dcc", "MI", "PK_I"))
    E += [dcc_request("MI", "I1", "2026-06-01"),
          dcc_service("MI", "I2", "reablement", "2026-06-02", "2026-06-10", "admitted_to_hospital")]  # fmt: skip
    # K: DCC only. Discharge 25 Apr -> START; died 22 Jul = day 88: DIED for 91 days,
    # but outside 2D's 84 days -> remained.
    R.append(record("dcc", "MK", "PK_K", date_of_death="2026-07-22"))
    E += [dcc_request("MK", "K1", "2026-04-25"),
          dcc_service("MK", "K2", "reablement", "2026-04-26", "2026-05-15", "ended_as_planned")]  # fmt: skip
    # L: already in long-term residential care (since Jan 2025) when discharged 15 May:
    # left out of both cohorts. Its placement is a 65+ admission in 2024/25.
    R.append(record("dcc", "ML", "PK_L"))
    E += [dcc_service("ML", "L0", "long_term_residential", "2025-01-01"),
          dcc_request("ML", "L1", "2026-05-15"),
          dcc_service("ML", "L2", "reablement", "2026-05-16", "2026-05-30", "ended_as_planned")]  # fmt: skip
    # M: aged 60. Step-down community hospital stay 1-21 May (20 days) to a care home (54).
    R.append(record("dchs", "SM", "PK_M", birth=(1966, 1)))
    E += [dchs_spell("SM", "M1", "2026-05-01", "2026-05-21", "54")]
    # N: aged 70. A Community Support Bed 1-4 Jun (3 days) with no hospital evidence, died:
    # a Pathway 2 episode (exit died) but not a discharge into rehabilitation.
    R.append(record("dcc", "MN", "PK_N", birth=YOUNG_OLD))
    E += [dcc_service("MN", "N1", "st_max_bed", "2026-06-01", "2026-06-04", "died")]
    # O: a community hospital stay still open (98): episode not yet discharged.
    R.append(record("dchs", "SO", "PK_O", birth=YOUNG_OLD))
    E += [dchs_spell("SO", "O1", "2026-10-20", None, "98")]
    # V: known to both. DCHS reablement from hospital 10-12 Feb, then DCC START from 14 Feb
    # (2 days later): two services, one discharge - one cluster, counted once. At home.
    R.append(record("dchs", "SV", "PK_V"))
    R.append(record("dcc", "MV", "PK_V"))
    E += [dchs_referral("SV", "V1", "reablement", "2026-02-10", "2026-02-12"),
          dcc_service("MV", "V2", "reablement", "2026-02-14", "2026-03-05", "ended_as_planned")]  # fmt: skip
    # ASCOF 2B/2C: P (50) self-funded nursing (left out); Q (39/40) residential Feb 2025 -
    # Jan 2026 then again Jun 2026 (not new: ended < 365 days before); R (30) new in Aug 2026.
    R.append(record("dcc", "MP", "PK_P", birth=(1976, 1)))
    E += [dcc_service("MP", "P1", "long_term_nursing", "2026-05-01", None, "self_funded")]
    R.append(record("dcc", "MQ", "PK_Q", birth=(1986, 1)))
    E += [dcc_service("MQ", "Q1", "long_term_residential", "2025-02-01", "2026-01-01"),
          dcc_service("MQ", "Q2", "long_term_residential", "2026-06-01")]  # fmt: skip
    R.append(record("dcc", "MR", "PK_R", birth=(1996, 1)))
    E += [dcc_service("MR", "R1", "long_term_residential", "2026-08-01")]
    # Tell it once: S (both; BSL recorded by DCC only), T (both; interpreter in both),
    # U (DCHS only, interpreter).
    R.append(record("dcc", "MS", "PK_S", communication_need="BSL",
                    interpreter_language="British Sign Language"))  # fmt: skip
    R.append(record("dchs", "SS", "PK_S"))
    R.append(
        record("dcc", "MT", "PK_T", communication_need="Interpreter", interpreter_language="Polish")
    )
    R.append(
        record(
            "dchs", "ST", "PK_T", communication_need="Interpreter", interpreter_language="Polish"
        )
    )
    R.append(
        record("dchs", "SU", "PK_U", communication_need="Interpreter", interpreter_language="Urdu")
    )
    return frames(R, E)


#: The population relation of ASCOF 2B/2C: Erewash (everyone's district) is in the county;
#: Derby is not, so its people are out of the denominators.
POPULATION = pd.DataFrame(
    {
        "district_code": ["E07000036", "E07000036", "E06000015", "E06000015"],
        "district_name": ["Erewash", "Erewash", "Derby", "Derby"],
        "in_county": [True, True, False, False],
        "age_band": ["18-64", "65+", "18-64", "65+"],
        "population": [1_000, 500, 300, 200],
    }
)

Q1 = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31"))
Q2 = (pd.Timestamp("2026-04-01"), pd.Timestamp("2026-06-30"))
Q3 = (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30"))
FY26 = (pd.Timestamp("2026-04-01"), pd.Timestamp("2027-03-31"))
FY24 = (pd.Timestamp("2024-04-01"), pd.Timestamp("2025-03-31"))

#: (measure_id, period, breakdown) -> (numerator, denominator, value, status)
EXPECTED = {
    # 91 days, April-June discharges: A, B, C, D, H, I, K; at home A, H, I.
    ("still_at_home_91", Q2, "all"): (3, 7, 3 / 7, "final"),
    ("still_at_home_91", Q2, "outcome:died"): (2, 7, 2 / 7, "final"),  # B, K
    ("still_at_home_91", Q2, "outcome:in_bed"): (1, 7, 1 / 7, "final"),  # C
    ("still_at_home_91", Q2, "outcome:care_home"): (1, 7, 1 / 7, "final"),  # D
    ("still_at_home_91", Q2, "route:bed"): (1, 1, 1.0, "final"),  # H
    ("still_at_home_91", Q2, "known_to:both"): (1, 4, 0.25, "final"),  # B C D H
    ("still_at_home_91", Q2, "known_to:dcc"): (2, 3, 2 / 3, "final"),  # A I K
    ("still_at_home_91", Q3, "all"): (None, 0, None, "pending"),  # E
    ("still_at_home_91", Q3, "window:pending"): (None, 1, None, "pending"),
    ("still_at_home_91", FY26, "all"): (3, 7, 3 / 7, "provisional"),
    ("still_at_home_91", Q1, "all"): (1, 1, 1.0, "final"),  # V, once
    ("ascof_2d", Q1, "all"): (1, 1, 1.0, "final"),  # V's START, discharge from DCHS evidence
    # ASCOF 2D: A, C, I, K (DCC START after a discharge); remained A, C, K.
    ("ascof_2d", Q2, "all"): (3, 4, 0.75, "final"),
    ("ascof_2d", Q2, "outcome:readmitted"): (1, 4, 0.25, "final"),  # I
    ("ascof_2d", Q2, "outcome:died"): (0, 4, 0.0, "final"),
    ("ascof_2d", Q3, "window:pending"): (None, 1, None, "pending"),  # E
    # ASCOF 2B/2C with populations 1,000 / 500.
    ("ascof_2b_admissions_18_64", FY26, "all"): (1, 1_000, 100.0, "provisional"),  # R
    ("ascof_2c_admissions_65_plus", FY26, "all"): (1, 500, 200.0, "provisional"),  # D
    # the sources start on 1 Jan 2025 (L's placement): 2024/25 is not covered
    ("ascof_2b_admissions_18_64", FY24, "all"): (1, 1_000, 100.0, "partial_history"),  # Q
    ("ascof_2c_admissions_65_plus", FY24, "all"): (1, 500, 200.0, "partial_history"),  # L
    # Pathway 2 episodes ending April-June: H (41 days, home), M (20, care home), N (3, died).
    # Hospital discharges April-June: acute (evidence) A B C D F H I K L M - home but H
    # (to a Community Support Bed) and M (to a community hospital); community hospital H3
    # (home, 19) and M1 (care home, 54): 9 of 12 home.
    ("discharge_usual_residence", Q2, "all"): (9, 12, 0.75, "final"),
    ("discharge_usual_residence", Q2, "setting:community_hospital"): (1, 2, 0.5, "final"),
    ("discharge_usual_residence", Q3, "all"): (2, 2, 1.0, "final"),  # E; C's step-up stay
    ("pathway2_los_median", Q2, "all"): (None, 3, 20.0, "final"),
    ("pathway2_los_mean", Q2, "all"): (None, 3, 64 / 3, "final"),
    ("pathway2_los_p90", Q2, "all"): (None, 3, 36.8, "final"),
    ("pathway2_los_median", Q2, "setting:community_support_bed>community_hospital"): (
        None,
        1,
        41.0,
        "final",
    ),  # fmt: skip
    ("pathway2_exit_destination", Q2, "destination:care_home"): (1, 3, 1 / 3, "final"),
    ("pathway2_exit_destination", Q2, "destination:died"): (1, 3, 1 / 3, "final"),
    ("pathway2_exit_destination", Q2, "destination:hospital"): (0, 3, 0.0, "final"),
    # Tell it once (snapshot): 20 people, 7 known to both (B C D H S T V).
    ("tio_known_to_both", (AS_OF, AS_OF), "all"): (7, 20, 7 / 20, "final"),
    ("tio_comm_need_visible", (AS_OF, AS_OF), "all"): (1, 2, 0.5, "final"),  # S of S, T
    ("tio_comm_need_visible", (AS_OF, AS_OF), "recorded_by:dcc_only"): (1, 2, 0.5, "final"),
}
