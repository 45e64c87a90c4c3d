"""The measures' rules as numbers and vocabularies: windows in days, service categories,
discharge destination codes, periods, statuses and units.

The measure SQL reads the windows through ``params``
(:func:`transforms.tables.measure_sql.params_frame`), the Python builds read the categories
and codes, and the rule texts of :mod:`transforms.tables.measure_catalogue` quote them, so
one change here reaches all three. Change a rule -> bump ``DEFINITIONS_VERSION`` and the
version of each measure it changes, and regenerate: ``python -m transforms.tables.dictionary``.
"""

from __future__ import annotations

#: Version of the measure and table definitions as a whole (the dictionary's header).
DEFINITIONS_VERSION = "2026.12-2"

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

#: Units a measure is published in.
UNITS = {
    "proportion": "a share from 0 to 1 (views add `percent` = 100 x value); fidelity "
    "differences are in percentage points",
    "per_100k": "admissions per 100,000 population; fidelity differences in the same unit",
    "days": "days; fidelity differences in days",
}
