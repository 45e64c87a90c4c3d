"""Every partnership measure, published table and column, defined in one place.

:mod:`transforms.build.measures` computes what is defined here and stamps each metric
row with the measure's ``version``; :mod:`transforms.build.dictionary` turns the same
definitions into ``docs/data_dictionary.md``, the dashboard views (``sql/views``) and
the ``COMMENT ON`` statements, so the documentation cannot drift from the code.

Change a measure's logic -> bump its ``version`` (and ``DEFINITIONS_VERSION``) and
regenerate: ``python -m transforms.build.dictionary``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Version of this definitions set as a whole (the dictionary's header).
DEFINITIONS_VERSION = "2026.12-2"

# ------------------------------------------------------------------------ parameters
#: Follow-up of the Better Care Fund / legacy ASCOF 2B(1) measure: at home on day 91.
STILL_AT_HOME_DAYS = 91
#: ASCOF 2D follow-up window (12 weeks), as DHSC computes it from CLD.
ASCOF_2D_FOLLOW_UP_DAYS = 84
#: Reablement / rehabilitation services this close (days from the end of one to the
#: start of the next, or overlapping) form one cluster (DHSC ASCOF 2D uses 7).
REHAB_CLUSTER_GAP_DAYS = 7
#: A hospital discharge links to a cluster when it falls from this many days before the
#: cluster starts ...
DISCHARGE_BEFORE_DAYS = 7
#: ... to this many days after it (DHSC ASCOF 2D: -7 / +3). The latest such discharge wins.
DISCHARGE_AFTER_DAYS = 3
#: Pathway 2: consecutive bed stays with at most this many days between one's end and the
#: next one's start form one episode (a CSB -> community hospital transfer is one episode).
PATHWAY2_MAX_GAP_DAYS = 1
#: A CSB stay ends in a care home when a long-term residential or nursing service starts
#: within this many days after it.
CARE_HOME_AFTER_BED_DAYS = 7
#: An acute admission seen only as a signal (a DCC "Admitted to hospital" outcome, a
#: community hospital discharge to an NHS ward) lasts until the next hospital-discharge
#: evidence within ``ACUTE_STAY_MAX_DAYS``; without one it is assumed to last this long.
INFERRED_ACUTE_LOS_DAYS = 10
ACUTE_STAY_MAX_DAYS = 90
#: Deaths reach DCC up to 21 days late (DCHS up to 7): a period whose follow-up closed
#: within this many days of ``as_of`` is ``provisional``, not ``final``.
LATE_RECORDING_DAYS = 21
#: ASCOF 2B/2C: a residential / nursing admission is *new* unless another one started
#: earlier and was open, or ended less than this many days before it.
NEW_ADMISSION_LOOKBACK_DAYS = 365

#: Home-based reablement / rehabilitation: DCC START (ST-Max, Reablement) and DCHS team
#: types 52 (reablement) and 53 (home-based intermediate care). DCHS crisis response
#: (51, two-hour urgent community response, 2-5 days) is admission avoidance, not
#: rehabilitation, and is left out (SALT STS004: short-term intervention with active
#: therapy and a planned outcome of maximising independence).
HOME_REHAB_CATEGORIES = {
    "DCC": ("reablement",),
    "DCHS": ("reablement", "home_intermediate_care"),
}
LONG_TERM_CARE_HOME_CATEGORIES = ("long_term_residential", "long_term_nursing")
#: DCHS discharge destinations that are care homes (NHS Data Dictionary).
CARE_HOME_DESTINATIONS = ("54", "55", "56", "65", "85")
#: Community hospital discharge destinations that are not a discharge to the community
#: (DHSC ASCOF 2D excludes 49-52, 79, 87, 88 from its discharges; 98 = not discharged).
NOT_COMMUNITY_DESTINATIONS = ("49", "50", "51", "52", "79", "87", "88", "98")

#: ASCOF 2B/2C denominators: the population relation passed to ``compute_measures``.
POPULATION_NOTE = (
    "ASCOF 2B/2C divide by the population of the data's own county: a frame with columns "
    "district_code, district_name, in_county, age_band (0-17, 18-64, 65+), population. "
    "Denominator = the in-county rows of the band; numerator = people whose "
    "person.district is an in-county district_name (residents elsewhere are out of scope). "
    "Without one, 2B/2C rows have status no_population and no value."
)

#: Period kinds. Quarters are calendar quarters (Jan-Mar, ...); financial years run
#: 1 April - 31 March; a snapshot has period_start = period_end = as_of.
PERIOD_KINDS = ("quarter", "financial_year", "snapshot")

#: Metric status values.
STATUS = {
    "final": "every follow-up window in the period closed more than LATE_RECORDING_DAYS before as_of",
    "provisional": "the period is still running, some windows are pending, or a window closed "
    "recently enough that a late-recorded death or placement could still change it",
    "pending": "no window in the period has closed yet: numerator and denominator are empty; "
    "the row says how many discharges are waiting (denominator of breakdown window:pending)",
    "partial_history": "the period (or, for ASCOF 2B/2C, the 365-day look-back that decides "
    "whether an admission is new) starts before the earliest date the sources hold (the "
    "earliest care_event start): the figure is not comparable with a full period",
    "no_population": "ASCOF 2B/2C computed without a population: numerator only",
}


# ---------------------------------------------------------------------- measure model
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


UNITS = {
    "proportion": "a share from 0 to 1 (views add `percent` = 100 x value); fidelity "
    "differences are in percentage points",
    "per_100k": "admissions per 100,000 population; fidelity differences in the same unit",
    "days": "days; fidelity differences in days",
}

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


# ------------------------------------------------------------------- survivorship rules
SURVIVORSHIP: dict[str, str] = {
    "record order": "Records of a person are ranked most recent first: the latest event "
    "start date of the record (its last activity), then DCHS before DCC (NHS-traced "
    "demographics), then the record id (for a stable result).",
    "sex": "Most recent known value (M, F, X; U = unknown is skipped). Two or more known "
    "values -> person_conflict 'sex'.",
    "age_band": "5-year band (0-4 ... 85-89, 90+) of the age at as_of, or at death if "
    "earlier, from the surviving year and month of birth: the (year, month) held by most "
    "records; a tie goes to a record with a valid NHS number, then DCHS, then the lowest "
    "record id (not to activity, so the measures' ages always agree with the published "
    "band). Different dates of birth (tokens) -> "
    "conflict 'date_of_birth'; different years or months -> 'birth_year' / 'birth_month'. "
    "Year and month of birth are not published.",
    "ethnicity_group": "Most recent stated value; 'Not stated' only when no record states one.",
    "district": "Most recent known value (people move: the latest record is the current address).",
    "death_month": "Year-month (YYYY-MM) of the earliest date of death recorded by any "
    "record. Two or more different dates -> conflict 'date_of_death'. A death recorded by "
    "one organisation's records only, for a person known to both -> conflict "
    "'death_recorded' (sources = the organisation that has it).",
    "communication_need": "The most specific need recorded by any record: BSL, then "
    "Interpreter, then Other (a need recorded by one organisation is shown to both).",
    "interpreter_language": "Language of the most recent record holding the surviving "
    "communication need and a language.",
    "unpaid_carer": "Most recent known value (DCC only records it).",
    "known_to": "'both' when the person has active records in DCC and DCHS, else the one "
    "organisation ('dcc' / 'dchs').",
    "first_seen / last_seen": "Earliest / latest event start date of any of the person's "
    "records. Events of DCC Merged records count when the events passed to build_person "
    "carry a person_key column (their survivor's key).",
    "source_record_count": "Active (not Merged) source records linked to the person.",
    "min_link_probability": "Lowest link probability of the person's records (1.0 for a "
    "single record or deterministic links).",
}

CONFLICT_ATTRIBUTES = {
    "sex": "two or more known sexes (M/F/X) among the person's records",
    "date_of_birth": "two or more different date-of-birth tokens (full date; no value shown)",
    "birth_year": "two or more different years of birth",
    "birth_month": "two or more different months of birth (e.g. a day/month swap)",
    "date_of_death": "two or more different dates of death",
    "death_recorded": "known to both organisations, death recorded by one organisation only",
}


# ----------------------------------------------------------------------- table docs
@dataclass(frozen=True)
class TableDoc:
    name: str  # schema.table
    description: str
    columns: dict[str, str] = field(default_factory=dict)


_PERIOD_COLUMNS = {
    "period_start": "First day of the period (a snapshot: as_of).",
    "period_end": "Last day of the period (a snapshot: as_of).",
}

SHARED_CARE_TABLES: tuple[TableDoc, ...] = (
    TableDoc(
        "shared_care.person",
        "One row per person in the shared care record (pseudonymised; survivorship rules "
        "in the data dictionary). No name, NHS number, full date of birth, address or "
        "full postcode.",
        {
            "person_key": "Random surrogate key from the person index (P + 16 hex digits); "
            "stable across nights, never derived from an identifier.",
            "sex": "M, F, X (other/indeterminate) or U (unknown): most recent known value.",
            "age_band": "5-year age band (0-4 ... 90+) at as_of, or at death if earlier.",
            "ethnicity_group": "Census 2021 high-level group: White, Mixed, Asian, Black, "
            "Other, Not stated.",
            "district": "Local authority district of the most recent postcode district.",
            "death_month": "YYYY-MM of the earliest recorded date of death, else empty.",
            "date_of_death": "The earliest recorded date of death, else empty (the measures' "
            "84- and 91-day follow-up windows need the day).",
            "communication_need": "BSL, Interpreter, Other or empty: the most specific need "
            "recorded by either organisation.",
            "need_recorded_by": "Which organisations' records hold a BSL or interpreter "
            "need: dcc, dchs, both, or empty.",
            "interpreter_language": "Language for an interpreter (incl. British Sign "
            "Language), 'Other', or empty.",
            "unpaid_carer": "Has an unpaid carer (DCC CLD Has_Unpaid_Carer); empty if unknown.",
            "known_to": "dcc, dchs or both: which organisations hold active records.",
            "first_seen": "Earliest event start date of the person.",
            "last_seen": "Latest event start date of the person.",
            "source_record_count": "Active source records linked to the person.",
            "min_link_probability": "Lowest link probability among the person's records.",
        },
    ),
    TableDoc(
        "shared_care.person_conflict",
        "Attributes on which a person's source records disagree. Never silently resolved: "
        "the person table shows the surviving value, this table says it is contested. "
        "Counts only, no values.",
        {
            "person_key": "The person (shared_care.person).",
            "attribute": "sex, date_of_birth, birth_year, birth_month, date_of_death or "
            "death_recorded.",
            "n_distinct": "How many different values the records hold (death_recorded: 2 = "
            "recorded / not recorded).",
            "sources": "Comma-separated organisations (dcc, dchs) whose records hold the "
            "values in conflict.",
            "detected_on": "The night (as_of) the conflict was seen.",
        },
    ),
    TableDoc(
        "shared_care.care_event",
        "Every published source event on the person's key: DCC requests, assessments, "
        "services and reviews; DCHS referrals, care contacts and community hospital "
        "spells. Events of DCC records merged into another record belong to the surviving "
        "person.",
        {
            "event_id": "source:source_event_id - dcc:<event_reference>, "
            "dchs:ref:<service_request_id>, dchs:con:<service_request_id>:<care_contact_id>, "
            "dchs:spell:<hospital_provider_spell_number>.",
            "person_key": "The person (shared_care.person).",
            "organisation": "DCC or DCHS.",
            "event_type": "request, assessment, service, review (DCC); referral, contact, "
            "inpatient_spell (DCHS).",
            "setting": "home, community_hospital, care_home, community_support_bed, "
            "community, hospital or other.",
            "pathway": "Discharge pathway 0-3 of a community hospital spell (DCHS local "
            "field), else empty.",
            "service_category": "reablement, st_max_bed, long_term_residential, "
            "long_term_nursing, long_term_community, crisis_response, "
            "home_intermediate_care, bed_intermediate_care, district_nursing, therapy, other.",
            "start_date": "Start (request/contact date, referral received, admission).",
            "end_date": "End (service end, referral discharge, hospital discharge); empty "
            "while open.",
            "outcome": "Common outcome label (CLD event outcome or DCHS discharge destination "
            "/ attendance).",
            "route_of_access": "How the person came: e.g. discharge_from_hospital, "
            "community_step_up, care_home, primary_care.",
            "discharge_destination_code": "NHS Data Dictionary discharge destination of a "
            "community hospital spell (19 usual residence ... 98 not yet discharged).",
            "age_at_event": "Whole years at start_date from year and month of birth.",
            "age_band": "5-year band of age_at_event (0-4 ... 90+).",
            "age_at_end": "Whole years at end_date (e.g. a hospital discharge) from the "
            "record's year and month of birth.",
            "client_type": "DCC events: the CLD client type of the person record - "
            "service_user, carer or carer_known_by_association (ASCOF counts service users "
            "only); empty for DCHS.",
        },
    ),
    TableDoc(
        "shared_care.pathway2_stay",
        "Pathway 2 (bed-based rehabilitation / intermediate care) episodes: DCHS community "
        "hospital spells and DCC Community Support Bed stays of one person, joined when "
        f"one starts at most {PATHWAY2_MAX_GAP_DAYS} day after the previous one ends "
        "(a CSB -> community hospital transfer is one episode).",
        {
            "stay_id": "p2: + the event_id of the episode's first stay.",
            "person_key": "The person (shared_care.person).",
            "episode_start": "Admission date of the first stay.",
            "episode_end": "Discharge date of the last stay; empty while any stay is open.",
            "settings": "Settings of the stays in order, '>'-separated, repeats collapsed: "
            "community_hospital, community_support_bed, "
            "community_support_bed>community_hospital, ...",
            "n_stays": "Number of stays in the episode.",
            "length_of_stay_days": "episode_end - episode_start in days; empty while open.",
            "exit_destination": "usual_residence, temporary_residence, care_home, hospital, "
            "died, hospice, other, unknown, or not_yet_discharged.",
            "age_at_admission": "Age at the first admission (whole years).",
            "entry_route": "How the episode began: discharge_from_hospital (step-down; for a "
            f"CSB, hospital-discharge evidence up to {DISCHARGE_BEFORE_DAYS} days before), "
            "community_step_up, care_home, or other.",
        },
    ),
    TableDoc(
        "shared_care.metric",
        "One row per measure, period and breakdown (definitions in the data dictionary; "
        "one view per measure, shared_care.v_metric_<measure_id>).",
        {
            "measure_id": "Measure identifier (see the data dictionary).",
            "measure_name": "Measure name.",
            **_PERIOD_COLUMNS,
            "breakdown": "'all', or dimension:value (e.g. age_band:75-84, sex:F, "
            "setting:community_hospital, window:pending).",
            "numerator": "Numerator (a count); empty for a length-of-stay statistic or a "
            "pending row.",
            "denominator": "Denominator (count or population).",
            "value": "The measure: a 0-1 proportion, a rate per 100,000 or days (see the "
            "measure's unit).",
            "status": "final, provisional, pending, partial_history or no_population.",
            "definition_version": "Version of the measure definition it was computed under.",
            "as_of": "The night the data is as of (activity before this date).",
        },
    ),
)
_METRIC_DOC = SHARED_CARE_TABLES[-1]
SHARED_CARE_TABLES += (
    TableDoc(
        "shared_care.metric_history",
        "Every night's shared_care.metric rows, for trends (shared_care.metric holds the "
        "latest night only). A night published again replaces that night's rows; other "
        "nights' rows are kept. View: shared_care.v_metric_history.",
        {
            **_METRIC_DOC.columns,
            "as_of": "The night the figures are as of: one set of rows per night.",
            "run_id": "The pipeline run that published this night's rows.",
        },
    ),
)

IDENTITY_TABLES: tuple[TableDoc, ...] = (
    TableDoc(
        "identity.person_index",
        "Restricted. Which source record belongs to which person key.",
        {
            "source": "dcc or dchs.",
            "source_record_id": "DCC la_person_id or DCHS local_patient_id.",
            "person_key": "The person's random surrogate key.",
            "record_status": "active, or merged (a DCC record merged into another).",
            "link_route": "Strongest route that linked the record: singleton, "
            "deterministic, probabilistic, review or source_merge.",
            "link_probability": "Best match probability of the record's links (1.0 if none).",
            "first_seen_run": "Run that first indexed the record.",
            "last_changed_run": "Run that last changed the record's key.",
        },
    ),
    TableDoc(
        "identity.person_key_history",
        "Restricted. Key events: created, merged_into, split_from, retired.",
        {
            "person_key": "The key the event is about.",
            "event": "created, merged_into, split_from or retired.",
            "other_person_key": "The surviving key (merged_into) or the parent (split_from).",
            "records": "Source records in the cluster at the time.",
            "run_id": "Run that recorded the event.",
            "night": "Night of that run.",
        },
    ),
    TableDoc(
        "identity.review_queue",
        "Restricted. Uncertain record pairs for clerical review (this night's).",
        {
            "source_l": "Left record's source.",
            "source_record_id_l": "Left record's id.",
            "source_r": "Right record's source.",
            "source_record_id_r": "Right record's id.",
            "match_probability": "Model match probability.",
            "match_weight": "Model match weight (log2 Bayes factor).",
            "evidence": "Comparison levels (gamma_*) of the pair.",
            "run_id": "Run that queued the pair.",
        },
    ),
    TableDoc(
        "identity.review_decision",
        "Restricted. Reviewers' decisions; they override the model on later nights.",
        {
            "source_l": "Left record's source.",
            "source_record_id_l": "Left record's id.",
            "source_r": "Right record's source.",
            "source_record_id_r": "Right record's id.",
            "decision": "match or non-match.",
            "decided_by": "Reviewer (who decided).",
            "decided_at": "When decided (UTC).",
            "reason": "Why, in the reviewer's words (no identifiers); "
            "written by `python -m transforms.review decide`.",
        },
    ),
)

AUDIT_TABLES: tuple[TableDoc, ...] = (
    TableDoc(
        "audit.pipeline_run",
        "One row per published (or failed) nightly run.",
        {
            "run_id": "Airflow run id.",
            "night": "The night (Europe/London).",
            "status": "published or failed.",
            "full_refresh": "Whether the night rebuilt from all source data.",
            "key_version": "Pseudonymisation key version used.",
            "tokens_path": "Where the run's tokens-zone state is.",
            "dcc_extracted": "DCC rows extracted.",
            "dcc_published": "DCC rows published.",
            "dcc_quarantined": "DCC rows quarantined.",
            "dcc_merged": "DCC person rows merged into another record.",
            "dchs_extracted": "DCHS rows extracted.",
            "dchs_published": "DCHS rows published.",
            "dchs_quarantined": "DCHS rows quarantined.",
            "dchs_merged": "DCHS rows merged (always 0).",
            "persons": "People published.",
            "persons_both": "People known to both organisations.",
            "started_at": "Run start (UTC).",
            "finished_at": "Run end (UTC).",
            "timings_json": "Step timings.",
            "error": "Error of a failed run.",
            "generation": "Publish generation: one more than the run it was built on.",
            "based_on_run_id": "Published run this run was built on (none on a first night).",
            "key_fingerprint": "Keyed fingerprint of the pseudonymisation key (never the key).",
        },
    ),
    TableDoc(
        "audit.source_finding",
        "Source rows an extract saw but could not take that night, counted.",
        {
            "run_id": "Run.",
            "source": "dcc or dchs.",
            "table_name": "Source table.",
            "finding": "What was seen (e.g. null_last_updated, future_last_updated).",
            "row_count": "Rows concerned.",
            "detail": "What happens to them, in words (no values).",
        },
    ),
    TableDoc(
        "audit.row_accounting",
        "Per run and landing table: extracted = published + quarantined + merged.",
        {
            "run_id": "Run.",
            "source": "dcc or dchs.",
            "table_name": "Landing table.",
            "extracted": "Rows extracted.",
            "published": "Rows published.",
            "quarantined": "Rows quarantined.",
            "merged": "Rows merged into another record.",
            "balanced": "extracted = published + quarantined + merged.",
        },
    ),
    TableDoc(
        "audit.watermark",
        "DCC extract watermark (last_updated) of the last published run.",
        {
            "source": "Source (dcc).",
            "watermark": "Highest last_updated taken.",
            "run_id": "Run that moved it.",
        },
    ),
    TableDoc(
        "audit.schema_version",
        "The warehouse schema the pipeline last applied; a night whose fingerprint matches "
        "skips the DDL.",
        {
            "fingerprint": "Hash of sql/ddl, sql/views and the data dictionary's comments.",
            "applied_at": "When it was applied (UTC).",
        },
    ),
    TableDoc(
        "audit.dchs_drop",
        "DCHS drops ingested, each once.",
        {
            "drop_date": "Drop folder date.",
            "manifest_sha256": "SHA-256 of its manifest.",
            "rows_total": "Rows in the drop.",
            "run_id": "Run that ingested it.",
        },
    ),
    TableDoc(
        "audit.drop_rejection",
        "DCHS drops (and other entries of the drop folder) not applied by a run, and why.",
        {
            "run_id": "Run.",
            "drop_date": "Drop folder name as found.",
            "reason": "Why not applied: file, row where known, and rule; no data values.",
            "kind": "bad_name, not_a_directory, malformed, held_behind, late, changed or "
            "replay_failed.",
        },
    ),
    TableDoc(
        "audit.drop_acceptance",
        "Held DCHS drops an operator accepted as corrections "
        "(python -m transforms.ops.drops accept); the next night lands each and replays "
        "the drops ingested after it.",
        {
            "drop_date": "Drop folder date.",
            "manifest_sha256": "SHA-256 of the manifest accepted; a later change is held again.",
            "accepted_by": "Who accepted it.",
            "accepted_at": "When (UTC).",
            "reason": "Why it was accepted.",
        },
    ),
    TableDoc(
        "audit.validation_result",
        "Great Expectations suite results per run.",
        {
            "run_id": "Run.",
            "suite": "Suite name.",
            "rows_in": "Rows validated.",
            "rows_quarantined": "Rows quarantined by the suite.",
            "rows_warned": "Rows with warnings.",
            "success": "Whether the suite passed.",
            "rules_evaluated": "Expectations evaluated.",
            "data_docs_path": "Data Docs index.",
        },
    ),
    TableDoc(
        "audit.quarantine",
        "Rows held back, with the rule they broke.",
        {
            "run_id": "Run.",
            "source": "dcc or dchs.",
            "table_name": "Landing table.",
            "source_record_id": "Record id of the row, if any.",
            "source_file": "File (or table) the row came from.",
            "source_row": "Row number (or primary key).",
            "rule": "Rule broken.",
            "severity": "Severity.",
            "description": "What is wrong.",
        },
    ),
    TableDoc(
        "audit.linkage_summary",
        "Linkage counts per run (pairs by route, keys created/merged/split, review queue).",
        {"run_id": "Run.", "measure": "What is counted.", "value": "The count."},
    ),
    TableDoc(
        "audit.task_failure",
        "Airflow task failures (failure callback).",
        {
            "run_id": "Run.",
            "dag_id": "DAG.",
            "task_id": "Task.",
            "failed_at": "When (UTC).",
            "error": "Error message.",
        },
    ),
)

TABLES: tuple[TableDoc, ...] = SHARED_CARE_TABLES + IDENTITY_TABLES + AUDIT_TABLES
TABLE_BY_NAME = {t.name: t for t in TABLES}

#: Columns every measure view has, in order.
VIEW_COLUMNS: dict[str, str] = {
    "measure_id": "Measure identifier.",
    "measure_name": "Measure name.",
    "unit": "proportion, per_100k or days.",
    "period_type": "quarter, financial_year or snapshot (from the period's length).",
    "period_start": "First day of the period.",
    "period_end": "Last day of the period.",
    "breakdown": "'all' or dimension:value.",
    "breakdown_dimension": "The part before ':' ('all' for all).",
    "breakdown_value": "The part after ':' ('all' for all).",
    "numerator": "Numerator.",
    "denominator": "Denominator.",
    "value": "The measure in its unit.",
    "percent": "100 x value for proportions, else empty.",
    "status": "final, provisional, pending, partial_history or no_population.",
    "definition_version": "Definition version.",
    "as_of": "Night the data is as of.",
}

#: The trend view over shared_care.metric_history: every measure, every night.
HISTORY_VIEW = "shared_care.v_metric_history"
HISTORY_VIEW_COLUMNS: dict[str, str] = {
    **VIEW_COLUMNS,
    "as_of": "Night the figures are as of (one value per night published).",
    "run_id": "Run that published the night.",
}
