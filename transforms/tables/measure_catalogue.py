"""The measure catalogue: what each partnership measure counts, in words, and its version.

:mod:`transforms.tables.measures` computes every measure listed here (one SQL file each,
``sql/measures/<measure_id>.sql``) and stamps each metric row with the measure's
``version``; :mod:`transforms.tables.dictionary` turns the same entries into the data
dictionary, the measure views and their comments, so the documentation cannot drift from
the code. Change a measure's logic -> bump its ``version`` (and
``measure_rules.DEFINITIONS_VERSION``) and regenerate: ``python -m transforms.tables.dictionary``.
"""

from __future__ import annotations

from dataclasses import dataclass

from transforms.tables.measure_rules import (
    ACUTE_STAY_MAX_DAYS,
    ASCOF_2D_FOLLOW_UP_DAYS,
    CARE_HOME_AFTER_BED_DAYS,
    DISCHARGE_AFTER_DAYS,
    DISCHARGE_BEFORE_DAYS,
    INFERRED_ACUTE_LOS_DAYS,
    NEW_ADMISSION_LOOKBACK_DAYS,
    PATHWAY2_MAX_GAP_DAYS,
    REHAB_CLUSTER_GAP_DAYS,
    STILL_AT_HOME_DAYS,
)


@dataclass(frozen=True)
class Measure:
    measure_id: str
    name: str
    unit: str  # proportion (0-1) | per_100k | days
    version: str
    periods: tuple[str, ...]
    breakdowns: tuple[str, ...]
    summary: str
    numerator: str
    denominator: str
    rules: tuple[str, ...] = ()
    reference: str = ""
    caveats: tuple[str, ...] = ()

    @property
    def view(self) -> str:
        return f"shared_care.v_metric_{self.measure_id}"


_AT_HOME_RULES = (
    "Reablement / rehabilitation services (SALT STS004): DCC START (ST-Max, component "
    "Reablement) and Community Support Bed stays of service users (CLD client type 'Service "
    "User'), DCHS reablement (team 52) and home-based intermediate care (team 53) referrals. "
    "A community hospital stay is a hospital stay, not the rehabilitation.",
    f"Services no more than {REHAB_CLUSTER_GAP_DAYS} days apart (or overlapping) form one "
    "cluster, counted once.",
    "Discharge date D: the latest hospital discharge - acute or community hospital - from "
    f"{DISCHARGE_BEFORE_DAYS} days before to {DISCHARGE_AFTER_DAYS} days after the cluster "
    "starts, admitted (where known) no later than the cluster start. Hospital discharges: "
    "a DCC Request with route of access 'Discharge from Hospital'; a DCHS referral from "
    "hospital (H2); a community hospital admission from an NHS hospital (its admission "
    "date); a community hospital discharge, alive, admitted before discharged, to the "
    "community (not 49-52, 79, 87, 88, 98). Several records of one day are one discharge. "
    "A discharge without an admission date takes the latest admission signal in the "
    f"{ACUTE_STAY_MAX_DAYS} days before it.",
    "Aged 65+ at D (age at the discharge event, whole years); not in a long-term "
    "residential or nursing placement open on D.",
    f"Day 91 = D + {STILL_AT_HOME_DAYS}. The window is *pending* (in neither numerator "
    "nor denominator) until day 91 is before as_of.",
    "Not at home on day 91 when, by then: (a) died (the earliest of person.date_of_death and the end of an event ending in death: DCC 'NFA - Deceased', DCHS discharge method 4 or destination 79); (b) in a bed at "
    "the end of day 91 - a Pathway 2 episode or an inferred acute stay admitted on or "
    "before day 91 and not discharged by then; (c) a new DCC Long Term Support: "
    "Residential/Nursing Care service starting from D to day 91, or a community hospital "
    "discharge to a care home (54/55/56/65/85) from D to day 91.",
    "Deaths stay in the denominator. Numerator: closed windows at home on day 91.",
    "Inferred acute stay: from a DCC 'Admitted to hospital' outcome (at the event's end) "
    "or a community hospital discharge to an NHS ward (49-52, 87) to the next acute "
    f"discharge evidence within {ACUTE_STAY_MAX_DAYS} days, else "
    f"{INFERRED_ACUTE_LOS_DAYS} days (acute admissions are not a source).",
    "Logic: sql/measures/still_at_home_91.sql.",
)

MEASURES: tuple[Measure, ...] = (
    Measure(
        measure_id="still_at_home_91",
        name="Proportion of older people (65 and over) who were still at home 91 days after "
        "discharge from hospital into reablement/rehabilitation services",
        unit="proportion",
        version="2.1",
        periods=("quarter", "financial_year"),
        breakdowns=(
            "all",
            "age_band:65-74|75-84|85+",
            "sex:F|M",
            "route:home|bed (first service of the cluster)",
            "known_to:both|dcc|dchs",
            "outcome:died|in_bed|care_home (share of the denominator not at home for "
            "that reason; a window can have several)",
            "window:pending (denominator = windows not yet closed; value empty)",
        ),
        summary="SALT STS004 (legacy ASCOF 2B(1), the Better Care Fund metric), computed "
        "across both organisations: of discharges of people aged 65+ from an acute or "
        "community hospital into reablement or rehabilitation, the share at home 91 days "
        "after the discharge.",
        numerator="Discharges whose 91-day window has closed and the person is at home on "
        "day 91 (no death, no bed stay covering day 91, no new long-term residential or "
        "nursing placement by then).",
        denominator="Discharges of people aged 65+ from hospital into reablement or "
        "rehabilitation whose 91-day window has closed, deaths included; pending windows "
        "excluded. Period = discharge date D.",
        rules=_AT_HOME_RULES,
        reference="NHS Digital SALT STS004 guidance; ASCOF 2B(1) handbook; Better Care Fund "
        "metric 'still at home 91 days after discharge'. Derbyshire 65% vs England 82% "
        "(CQC's assessment of the council).",
        caveats=(
            "Acute hospital activity is not a source; acute discharges are seen through DCC "
            "requests, DCHS referrals and community hospital admissions.",
            "SALT counts discharges in October-December only; this gives every quarter and "
            "financial year (the October-December quarter is the SALT figure).",
            "Extra care housing and Shared Lives count as home (they are long-term "
            "community services, not residential care), as in ASCOF.",
        ),
    ),
    Measure(
        measure_id="ascof_2d",
        name="ASCOF 2D: people aged 65+ discharged from hospital into reablement who "
        "remained in the community within 12 weeks (part 1, outcomes)",
        unit="proportion",
        version="2.1",
        periods=("quarter", "financial_year"),
        breakdowns=(
            "all",
            "age_band:65-74|75-84|85+",
            "sex:F|M",
            "outcome:died|readmitted|care_home (share of the denominator)",
            "window:pending",
        ),
        summary="ASCOF 2D (from 2024/25) as DHSC computes it from CLD "
        "(DataS-DHSC/ASC-CLD-LA-Dashboard, ASCOF_measures/Create_ASCOF_2D.sql), with the "
        "hospital discharges the DCC and DCHS records show standing in for SUS.",
        numerator="Reablement clusters with no death, no readmission and no new long-term "
        f"residential/nursing service in the {ASCOF_2D_FOLLOW_UP_DAYS} days after discharge.",
        denominator="Reablement clusters of service users linked to a hospital discharge of "
        f"a person aged 65+ whose {ASCOF_2D_FOLLOW_UP_DAYS}-day window has closed. Period = "
        "discharge date.",
        rules=(
            "CLD rows of service users only (Client_Type_Cleaned = 'Service User'), with an "
            "end on or after the start, or none.",
            "Reablement: DCC services Short Term Support: ST-Max, component Reablement; "
            f"events no more than {REHAB_CLUSTER_GAP_DAYS} days after the latest end before "
            "them (or overlapping) form one cluster. DCHS reablement is not in CLD.",
            "Hospital discharges (SUS stand-in): DCC requests from hospital, DCHS referrals "
            "from hospital, community hospital admissions from hospital (the acute discharge "
            "date), community hospital discharges (admitted before discharged; not died, not "
            "to 49-52, 79, 87, 88, 98); one per person and day; age 65+ at discharge; not in "
            "long-term residential/nursing support on the admission date (the day before the "
            "discharge when no admission is seen). A discharge without "
            "an admission date takes the latest admission signal in the "
            f"{ACUTE_STAY_MAX_DAYS} days before it.",
            "Linked discharge, per period (DHSC runs once per period over its discharges): "
            "the latest discharge in the period from "
            f"{DISCHARGE_BEFORE_DAYS} days before to {DISCHARGE_AFTER_DAYS} days after the "
            "cluster starts, admitted (where known) no later than the cluster start; a "
            "cluster with discharges either side of a period's edge counts in both periods.",
            f"Outcomes within discharge .. discharge + {ASCOF_2D_FOLLOW_UP_DAYS} days: death "
            "(person.date_of_death, or an event ending in death: DCC 'NFA - Deceased', DCHS "
            "discharge method 4 or destination 79); readmission - an admission after the cluster start and "
            "after the discharge (a DCC 'Admitted to hospital' outcome, a community hospital "
            "discharge to an NHS ward, a community hospital admission later discharged), or "
            "any later hospital discharge in either organisation's records after the cluster "
            "start (its admission unseen); a DCC Long Term "
            "Support: Residential/Nursing Care service starting.",
            f"Pending until discharge + {ASCOF_2D_FOLLOW_UP_DAYS} is before as_of (DHSC runs "
            "after the year closes and has no pending rule).",
            "Logic: sql/measures/ascof_2d.sql; comparison with DHSC's code: docs/measures.md.",
        ),
        reference="DHSC, ASC-CLD-LA-Dashboard/ASCOF_measures/Create_ASCOF_2D.sql",
        caveats=(
            "No SUS: acute discharges and admissions are seen only through DCC and DCHS "
            "records; SUS admission method, management type, treatment function and "
            "last-episode fields cannot be applied.",
            "Ages are whole years at the discharge event, not DHSC's days / 365.25.",
        ),
    ),
    Measure(
        measure_id="ascof_2d_part2",
        name="ASCOF 2D: people aged 65+ discharged from hospital who were discharged into "
        "reablement (part 2, provision)",
        unit="proportion",
        version="1.1",
        periods=("quarter", "financial_year"),
        breakdowns=("all", "age_band:65-74|75-84|85+", "sex:F|M"),
        summary="ASCOF 2D part 2 as DHSC computes it (Create_ASCOF_2D.sql): of hospital "
        "discharges of people aged 65+, the share linked to a reablement cluster.",
        numerator="Reablement clusters linked to a discharge in the period (ascof_2d's "
        "cohort before the pending rule).",
        denominator="Hospital discharges of people aged 65+ in the period (one per person "
        "and day), not in long-term residential/nursing support on admission.",
        rules=(
            "Discharges, clusters and the link exactly as ascof_2d.",
            "Logic: sql/measures/ascof_2d_part2.sql.",
        ),
        reference="DHSC, ASC-CLD-LA-Dashboard/ASCOF_measures/Create_ASCOF_2D.sql",
        caveats=(
            "DHSC counts SUS spells; the partnership counts the discharges its records "
            "show, so the denominator misses discharges no DCC/DCHS record follows.",
        ),
    ),
    Measure(
        measure_id="ascof_2b_admissions_18_64",
        name="ASCOF 2B: adults aged 18-64 whose long-term support needs are met by "
        "admission to residential and nursing care homes, per 100,000 population",
        unit="per_100k",
        version="2.1",
        periods=("financial_year",),
        breakdowns=("all",),
        summary="New permanent admissions to residential or nursing care (DCC CLD), people "
        "aged 18-64, per 100,000 population aged 18-64, as DHSC computes it "
        "(Create_ASCOF_2B2C_2425_Onwards.sql).",
        numerator="People (person keys) living in the county with a *new* DCC Long Term "
        "Support: Residential Care or Nursing Care service starting in the period, aged "
        "18-64 at its start.",
        denominator="The county's population aged 18-64 (the population relation's "
        "in-county rows).",
        rules=(
            "Service users only (CLD client type 'Service User'; DHSC: Client_Type_Cleaned).",
            "Services whose outcome is 'NFA - Self-funded client (inc. 12wk disregard)' are "
            "left out; people who died before the period (person.date_of_death, or an event "
            "ending in death) are left out.",
            f"New: no other residential/nursing service for the same person started "
            f"earlier and was still open, or ended less than {NEW_ADMISSION_LOOKBACK_DAYS} "
            "days before - across every DCC record linked to the person (this is where "
            "linkage matters).",
            "A person counts once per period, in the younger band if admitted in both; "
            "under-18s and unknown ages are left out.",
            "Numerator scope: people whose person.district is an in-county district of the "
            "population; residents elsewhere (e.g. Derby City) are out of scope.",
            "value = numerator / population x 100,000.",
            "Status partial_history while the year or its 365-day look-back starts before "
            "the sources' history; no_population without a population.",
            "Logic: sql/measures/ascof_2b_admissions_18_64.sql.",
        ),
        reference="DHSC, ASC-CLD-LA-Dashboard/ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql",
        caveats=(
            "Temporary and permanent admissions cannot be told apart (as DHSC notes).",
            "The current financial year is provisional and part-year (not annualised).",
        ),
    ),
    Measure(
        measure_id="ascof_2c_admissions_65_plus",
        name="ASCOF 2C: adults aged 65+ whose long-term support needs are met by admission "
        "to residential and nursing care homes, per 100,000 population",
        unit="per_100k",
        version="2.1",
        periods=("financial_year",),
        breakdowns=("all",),
        summary="As ascof_2b_admissions_18_64, for people aged 65 and over.",
        numerator="People with a new DCC Long Term Support: Residential/Nursing Care service "
        "starting in the period, aged 65+ at its start (and not counted in 18-64).",
        denominator="The county's population aged 65+ (the population relation's in-county rows).",
        rules=(
            "Same rules as ascof_2b_admissions_18_64.",
            "Logic: sql/measures/ascof_2c_admissions_65_plus.sql.",
        ),
        reference="DHSC, ASC-CLD-LA-Dashboard/ASCOF_measures/Create_ASCOF_2B2C_2425_Onwards.sql",
    ),
    Measure(
        measure_id="discharge_usual_residence",
        name="Discharge to usual place of residence (every hospital discharge the records show)",
        unit="proportion",
        version="2.0",
        periods=("quarter", "financial_year"),
        breakdowns=("all", "setting:acute|community_hospital", "age_group:18-64|65+"),
        summary="Of hospital discharges ending alive in the period - community hospital "
        "discharges and the acute discharges the DCC and DCHS records show - the share to the "
        "person's usual place of residence.",
        numerator="Discharges in the period to the usual place of residence.",
        denominator="Hospital discharges in the period, excluding deaths in hospital.",
        rules=(
            "Community hospital discharges: destination code 19 = usual residence; 79 or a "
            "died outcome = death (left out); 98 with a date stays in the denominator.",
            "Acute discharges: DCC requests and DCHS referrals from hospital and community "
            "hospital admissions from hospital, one per person and day; not home when a "
            "community hospital admission from hospital that day, or a Community Support "
            "Bed or long-term residential/nursing service within "
            f"{CARE_HOME_AFTER_BED_DAYS} days, follows it.",
            "Logic: sql/measures/discharge_usual_residence.sql.",
        ),
        reference="NHS England / BCF 'discharge to usual place of residence' (destination "
        "code 19).",
        caveats=("Acute discharges not followed by any DCC or DCHS record are not seen (no SUS).",),
    ),
    Measure(
        measure_id="pathway2_los_median",
        name="Pathway 2 length of stay: median (days)",
        unit="days",
        version="1.1",
        periods=("quarter", "financial_year"),
        breakdowns=("all", "setting:<pathway2_stay.settings>"),
        summary="Median length of stay of Pathway 2 episodes ending in the period.",
        numerator="(empty)",
        denominator="Closed Pathway 2 episodes ending in the period (any exit).",
        rules=(
            "Length of stay = episode_end - episode_start in days (a same-day stay is 0); "
            "the episode spans every stay in it, gaps of up to "
            f"{PATHWAY2_MAX_GAP_DAYS} day included.",
            "Setting: the episode's settings in order, e.g. 'community_hospital', "
            "'community_support_bed', 'community_support_bed>community_hospital'.",
        ),
    ),
    Measure(
        measure_id="pathway2_los_mean",
        name="Pathway 2 length of stay: mean (days)",
        unit="days",
        version="1.1",
        periods=("quarter", "financial_year"),
        breakdowns=("all", "setting:<pathway2_stay.settings>"),
        summary="Mean length of stay of Pathway 2 episodes ending in the period.",
        numerator="(empty: a mean is not a count ratio, so output checks do not read it as a "
        "proportion)",
        denominator="Closed Pathway 2 episodes ending in the period (any exit).",
        rules=("As pathway2_los_median.",),
    ),
    Measure(
        measure_id="pathway2_los_p90",
        name="Pathway 2 length of stay: 90th percentile (days)",
        unit="days",
        version="1.1",
        periods=("quarter", "financial_year"),
        breakdowns=("all", "setting:<pathway2_stay.settings>"),
        summary="90th percentile of length of stay of Pathway 2 episodes ending in the "
        "period (linear interpolation between order statistics, numpy's default).",
        numerator="(empty)",
        denominator="Closed Pathway 2 episodes ending in the period (any exit).",
        rules=("As pathway2_los_median.",),
    ),
    Measure(
        measure_id="pathway2_exit_destination",
        name="Pathway 2 destination on exit",
        unit="proportion",
        version="1.1",
        periods=("quarter", "financial_year"),
        breakdowns=(
            "destination:usual_residence|temporary_residence|care_home|hospital|died|"
            "hospice|other|unknown",
        ),
        summary="Share of Pathway 2 episodes ending in the period by exit destination.",
        numerator="Closed episodes ending in the period with that exit_destination.",
        denominator="Closed episodes ending in the period.",
        rules=("Exit destination as in shared_care.pathway2_stay.exit_destination.",),
    ),
    Measure(
        measure_id="tio_known_to_both",
        name="Tell it once: people known to both organisations",
        unit="proportion",
        version="2.0",
        periods=("snapshot",),
        breakdowns=("all", "age_band:<person.age_band>|unknown", "district:<person.district>"),
        summary="Share of people in the shared record whose records in DCC and DCHS are "
        "linked to one person key.",
        numerator="People with known_to = 'both'.",
        denominator="Everyone in shared_care.person as of the night.",
        rules=(
            "Age band: the published person.age_band (at as_of, or at death).",
            "Logic: sql/measures/tio_known_to_both.sql.",
        ),
    ),
    Measure(
        measure_id="tio_comm_need_visible",
        name="Tell it once: communication needs recorded by one organisation now visible "
        "to the other",
        unit="proportion",
        version="1.1",
        periods=("snapshot",),
        breakdowns=(
            "all",
            "need:BSL|Interpreter",
            "recorded_by:dcc_only|dchs_only|both (share of the denominator)",
        ),
        summary="Of people known to both organisations with a communication need (BSL or "
        "an interpreter) recorded by either, the share whose need was recorded by one "
        "organisation only - which the shared record now shows to the other.",
        numerator="People known to both with a BSL/interpreter need recorded in one "
        "organisation's records only.",
        denominator="People known to both with a BSL/interpreter need recorded by at least "
        "one organisation.",
        rules=(
            "Needs both systems can record only: BSL and Interpreter (DCHS has no field for "
            "large print or easy read, DCC's 'Other'). BSL in one and Interpreter in the "
            "other counts as recorded by both (a need is known to both).",
            "need:<kind> breakdowns take the person's surviving need.",
        ),
    ),
)

MEASURE_BY_ID = {m.measure_id: m for m in MEASURES}


def measure(measure_id: str) -> Measure:
    return MEASURE_BY_ID[measure_id]
