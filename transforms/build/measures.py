"""The partnership measures (DESIGN section 7) as functions of the unified data.

``compute_measures(person_internal, care_event, pathway2, as_of=..., population=None)``
returns ``shared_care.metric``: one row per measure, period and breakdown, stamped
with the measure's definition version. What each measure means - cohort, numerator,
denominator, windows, exclusions - is written once, in
:mod:`transforms.build.definitions`, and the code below follows it rule by rule.

The cohort builders (``still_at_home_cohort``, ``ascof_2d_cohort``, ...) are public so
tests and the fidelity check can look at the row-level decisions behind a figure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from transforms.build import definitions as D
from transforms.build.pathway2 import episode_numbers, hospital_discharges
from transforms.build.person import DATE, _text, age_from_birth_parts, age_group, as_day, to_day

log = logging.getLogger(__name__)

METRIC_COLUMNS = [
    "measure_id", "measure_name", "period_start", "period_end", "breakdown", "numerator",
    "denominator", "value", "status", "definition_version", "as_of",
]  # fmt: skip
ROW_COLUMNS = ["period_start", "period_end", "breakdown", "numerator", "denominator", "value"]

BANDS_65 = ((65, 74, "65-74"), (75, 84, "75-84"), (85, None, "85+"))
BANDS_ADULT = ((18, 64, "18-64"), (65, None, "65+"))
BANDS_ALL = ((0, 17, "0-17"), (18, 64, "18-64"), (65, None, "65+"))
DESTINATIONS = (
    "usual_residence", "temporary_residence", "care_home", "hospital", "died", "hospice",
    "other", "unknown",
)  # fmt: skip
FAR = pd.Timestamp("2200-01-01")


# =============================================================================== inputs
class Inputs:
    """The three inputs, normalised once, and what several measures share."""

    def __init__(self, person_internal: pd.DataFrame, care_event: pd.DataFrame, pathway2, as_of):
        self.as_of = as_day(as_of)
        pi = person_internal.drop_duplicates("person_key").copy()
        pi["person_key"] = _text(pi["person_key"]).to_numpy()
        pi["date_of_death"] = to_day(pi["date_of_death"]).to_numpy()
        self.people = pi.set_index("person_key")
        # care contacts (most of the rows) feed no measure
        ce = care_event[(care_event["event_type"] != "contact").to_numpy()].copy()
        ce["start_date"] = to_day(ce["start_date"]).to_numpy()
        ce["end_date"] = to_day(ce["end_date"]).to_numpy()
        self.ce = ce
        p2 = pathway2.copy()
        if "entry_route" not in p2.columns:  # published without it: derive it again
            from transforms.build.pathway2 import build_pathway2_stays

            again = build_pathway2_stays(care_event)[["stay_id", "entry_route"]]
            p2 = p2.merge(again, on="stay_id", how="left")
        p2["episode_start"] = to_day(p2["episode_start"]).to_numpy()
        p2["episode_end"] = to_day(p2["episode_end"]).to_numpy()
        self.p2 = p2
        self.evidence = hospital_discharges(ce)
        self.deaths = self._deaths()
        self.lt_placements = self._lt_placements()

    # ------------------------------------------------------------------ shared facts
    def _deaths(self) -> pd.Series:
        """Earliest death per person: recorded date of death, or a died outcome."""
        died = self.ce[self.ce["outcome"].eq("died").to_numpy()]
        when = died["end_date"].fillna(died["start_date"])
        by_event = pd.Series(when.to_numpy(), index=_text(died["person_key"]).to_numpy())
        by_event = by_event.groupby(level=0).min()
        recorded = self.people["date_of_death"].dropna()
        both = pd.concat([recorded, by_event])
        return both.groupby(level=0).min().astype(DATE)

    def _lt_placements(self) -> pd.DataFrame:
        ce = self.ce
        lt = ce[
            (ce["organisation"] == "DCC").to_numpy()
            & (ce["event_type"] == "service").to_numpy()
            & ce["service_category"].isin(D.LONG_TERM_CARE_HOME_CATEGORIES).to_numpy()
        ]
        return pd.DataFrame(
            {
                "person_key": _text(lt["person_key"]).to_numpy(),
                "start": lt["start_date"].to_numpy(),
                "end": lt["end_date"].to_numpy(),
                "outcome": _text(lt["outcome"]).to_numpy(),
                "event_id": _text(lt["event_id"]).to_numpy(),
            }
        ).dropna(subset=["start"])

    def birth(self, keys) -> tuple[pd.Series, pd.Series]:
        p = self.people.reindex(pd.Index(keys))
        return p["birth_year"].reset_index(drop=True), p["birth_month"].reset_index(drop=True)

    def age_at(self, keys, dates) -> pd.Series:
        by, bm = self.birth(keys)
        return age_from_birth_parts(by, bm, pd.Series(dates).reset_index(drop=True))

    def attr(self, keys, col: str) -> pd.Series:
        return self.people[col].reindex(pd.Index(keys)).reset_index(drop=True)

    def death_of(self, keys) -> pd.Series:
        return self.deaths.reindex(pd.Index(keys)).reset_index(drop=True).astype(DATE)

    def admission_signals(self) -> pd.DataFrame:
        """Acute admissions seen as signals: person_key, admitted. A DCC 'Admitted to
        hospital' outcome (at the event's end) or a community hospital discharge to a
        hospital ward (49-52, 87) - unless the person is still in the same Pathway 2
        episode afterwards (a CSB -> community hospital transfer is not an admission)."""
        ce = self.ce
        admitted = ce["outcome"].eq("admitted_to_hospital").to_numpy()
        to_ward = (ce["event_type"] == "inpatient_spell").to_numpy() & ce[
            "discharge_destination_code"
        ].isin(["49", "50", "51", "52", "87"]).to_numpy()
        sig = ce[admitted | to_ward]
        out = pd.DataFrame(
            {
                "person_key": _text(sig["person_key"]).to_numpy(),
                "admitted": sig["end_date"].fillna(sig["start_date"]).to_numpy(),
            }
        ).dropna()
        if out.empty:
            return out
        eps = self.p2[["person_key", "episode_start", "episode_end"]]
        m = out.reset_index().merge(eps, on="person_key", how="inner")
        inside = (m["admitted"] >= m["episode_start"]) & (
            m["admitted"] < m["episode_end"].fillna(FAR)
        )
        drop = m.loc[inside, "index"].unique()
        return out[~out.index.isin(drop)].reset_index(drop=True)

    def acute_stays(self) -> pd.DataFrame:
        """Inferred acute stays: person_key, start, end (the next hospital-discharge
        evidence or Pathway 2 admission within ACUTE_STAY_MAX_DAYS, else
        INFERRED_ACUTE_LOS_DAYS)."""
        sig = self.admission_signals()
        if sig.empty:
            return pd.DataFrame(columns=["person_key", "start", "end"])
        ev = self.evidence
        ends = pd.concat(
            [
                ev.loc[ev["kind"] != "ch_discharge", ["person_key", "date"]],
                self.p2[["person_key", "episode_start"]].rename(columns={"episode_start": "date"}),
            ],
            ignore_index=True,
        ).dropna()
        s = sig.reset_index()
        m = s.merge(ends, on="person_key", how="left")
        ok = (m["date"] >= m["admitted"]) & (
            m["date"] <= m["admitted"] + pd.Timedelta(days=D.ACUTE_STAY_MAX_DAYS)
        )
        first = m[ok].groupby("index")["date"].min()
        end = first.reindex(s["index"]).to_numpy()
        default = (s["admitted"] + pd.Timedelta(days=D.INFERRED_ACUTE_LOS_DAYS)).to_numpy()
        return pd.DataFrame(
            {
                "person_key": s["person_key"],
                "start": s["admitted"],
                "end": np.where(pd.isna(end), default, end).astype(DATE),
            }
        )


# ============================================================================ helpers
def _period_bounds(dates: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    d = pd.Series(pd.to_datetime(dates).to_numpy(), index=dates.index, dtype=DATE)
    freq = {"quarter": "Q-DEC", "financial_year": "Y-MAR"}[kind]
    per = d.dt.to_period(freq)
    return per.dt.start_time.astype(DATE), per.dt.end_time.dt.normalize().astype(DATE)


def _interval_any(left: pd.DataFrame, right: pd.DataFrame, test) -> pd.Series:
    """For each row of ``left`` (must have ``person_key``; index kept), whether any row of
    ``right`` with the same person_key satisfies ``test(merged) -> bool mask``."""
    if left.empty or right.empty:
        return pd.Series(False, index=left.index)
    lhs = left.reset_index(names="_row")
    rhs = right.rename(columns={c: f"{c}_r" for c in right.columns if c != "person_key"})
    m = lhs.merge(rhs, on="person_key", how="inner")
    hit = m.loc[test(m).to_numpy(), "_row"].unique()
    return pd.Series(left.index.isin(hit), index=left.index)


def _cluster(units: pd.DataFrame, gap: int) -> pd.DataFrame:
    """Cluster ``units`` (person_key, start, end, kind) per person: a unit joins the
    current cluster when it starts no more than ``gap`` days after the latest end so far
    (open ends never close). One row per cluster: person_key, start, end (NaT if open),
    first_kind, n_units."""
    if units.empty:
        return pd.DataFrame(columns=["person_key", "start", "end", "first_kind", "n_units"])
    u = units.sort_values(["person_key", "start", "end"], kind="stable").reset_index(drop=True)
    start_d = u["start"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    end_d = np.where(
        u["end"].isna().to_numpy(),
        np.int64(10**9),
        u["end"].to_numpy(dtype="datetime64[D]").astype(np.int64),
    )
    u["cluster"] = episode_numbers(u["person_key"].to_numpy(dtype=object), start_d, end_d, gap)
    u["open"] = u["end"].isna()
    g = u.groupby("cluster", sort=True)
    out = pd.DataFrame(
        {
            "person_key": g["person_key"].first(),
            "start": g["start"].min(),
            "end": g["end"].max().where(~g["open"].any()),
            "first_kind": g["kind"].first(),
            "n_units": g.size(),
        }
    ).reset_index(drop=True)
    out["start"] = out["start"].astype(DATE)
    out["end"] = out["end"].astype(DATE)
    return out


def _anchor(clusters: pd.DataFrame, evidence: pd.DataFrame, *, need_admitted: bool) -> pd.Series:
    """Latest discharge date in [start - BEFORE, start + AFTER] per cluster (NaT if none).
    With ``need_admitted``, the discharge's admission (if known) must be on or before the
    cluster start (DHSC ASCOF 2D)."""
    if clusters.empty or evidence.empty:
        return pd.Series(pd.NaT, index=clusters.index, dtype=DATE)
    c = clusters[["person_key", "start"]].reset_index(names="_row")
    m = c.merge(evidence[["person_key", "date", "admitted"]], on="person_key", how="inner")
    ok = (m["date"] >= m["start"] - pd.Timedelta(days=D.DISCHARGE_BEFORE_DAYS)) & (
        m["date"] <= m["start"] + pd.Timedelta(days=D.DISCHARGE_AFTER_DAYS)
    )
    if need_admitted:
        ok &= m["admitted"].isna() | (m["admitted"] <= m["start"])
    best = m[ok].groupby("_row")["date"].max()
    return best.reindex(clusters.index).astype(DATE)


def _admission_date(evidence_rows: pd.DataFrame) -> pd.Series:
    return evidence_rows["admitted"].fillna(evidence_rows["date"])


def _status_followup(period_end, pending, closed, follow_up: int, as_of) -> str:
    if closed == 0 and pending > 0:
        return "pending"
    late = period_end + pd.Timedelta(days=follow_up + D.LATE_RECORDING_DAYS)
    if pending > 0 or period_end >= as_of or late >= as_of:
        return "provisional"
    return "final"


def _status_plain(period_end, as_of) -> str:
    if period_end >= as_of or period_end + pd.Timedelta(days=D.LATE_RECORDING_DAYS) >= as_of:
        return "provisional"
    return "final"


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _proportions(
    cohort: pd.DataFrame,
    *,
    date_col: str,
    kinds: Iterable[str],
    success: str,
    dims: dict[str, str | None],
    shares: dict[str, str] | None = None,
    closed: str | None = None,
    follow_up: int | None = None,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Rows for a proportion over ``cohort``: for each period kind, and each breakdown
    (``dims``: label -> column, None = all), numerator = closed & success, denominator =
    closed. ``shares`` adds ``outcome:<name>`` rows (numerator = closed & column). With
    ``closed``/``follow_up`` the period status follows the window rule, and a
    ``window:pending`` row counts the open windows."""
    if cohort.empty:
        return pd.DataFrame(columns=[*ROW_COLUMNS, "status"])
    closed_flag = (
        cohort[closed].astype(bool).to_numpy() if closed else np.ones(len(cohort), dtype=bool)
    )
    success_flag = closed_flag & cohort[success].astype(bool).to_numpy()
    long = []
    for kind in kinds:
        ps, pe = _period_bounds(cohort[date_col], kind)
        base = {"period_start": ps.to_numpy(), "period_end": pe.to_numpy(), "den": closed_flag}
        for label, col in dims.items():
            if col is None:
                long.append(pd.DataFrame({**base, "breakdown": label, "num": success_flag}))
                continue
            values = cohort[col]
            keep = values.notna().to_numpy()
            part = pd.DataFrame({**base, "num": success_flag})[keep]
            part["breakdown"] = (label + ":" + values[keep].astype(str)).to_numpy()
            long.append(part)
        for name, col in (shares or {}).items():
            hit = closed_flag & cohort[col].astype(bool).to_numpy()
            long.append(pd.DataFrame({**base, "breakdown": f"outcome:{name}", "num": hit}))
        if closed:
            long.append(
                pd.DataFrame(
                    {
                        **base,
                        "breakdown": "window:pending",
                        "num": False,
                        "den": False,
                        "pending": ~closed_flag,
                    }  # fmt: skip
                )
            )
    frame = pd.concat(long, ignore_index=True)
    frame["pending"] = frame["pending"].fillna(False).astype(bool) if closed else False
    keys = ["period_start", "period_end"]
    agg = frame.groupby([*keys, "breakdown"], sort=True)[["num", "den", "pending"]].sum()
    agg = agg.reset_index()
    per = agg[agg["breakdown"] == next(iter(dims))][[*keys, "den"]].rename(columns={"den": "n"})
    pend = agg[agg["breakdown"] == "window:pending"][[*keys, "pending"]]
    per = per.merge(pend, on=keys, how="left").fillna({"pending": 0})
    if follow_up is not None:
        per["status"] = [
            _status_followup(e, int(p), int(n), follow_up, as_of)
            for e, p, n in zip(per["period_end"], per["pending"], per["n"], strict=True)
        ]
    else:
        per["status"] = [_status_plain(e, as_of) for e in per["period_end"]]
    agg = agg[(agg["breakdown"] != "window:pending") | (agg["pending"] > 0)]
    is_pending = (agg["breakdown"] == "window:pending").to_numpy()
    out = agg[keys + ["breakdown"]].copy()
    out["numerator"] = np.where(is_pending, np.nan, agg["num"].astype(float))
    out["denominator"] = np.where(is_pending, agg["pending"], agg["den"]).astype(float)
    out["value"] = np.where(is_pending, np.nan, _ratio(out["numerator"], out["denominator"]))
    out.loc[(out["denominator"] == 0).to_numpy() & ~is_pending, "numerator"] = np.nan
    out = out.merge(per[[*keys, "status"]], on=keys, how="left")
    return out[[*ROW_COLUMNS, "status"]]


# ================================================================== still at home 91
def rehab_units(inp: Inputs) -> pd.DataFrame:
    """Reablement / rehabilitation services: person_key, start, end, kind (home|bed)."""
    ce = inp.ce
    org, etype, cat = ce["organisation"], ce["event_type"], ce["service_category"]
    home = ((org == "DCC") & (etype == "service") & cat.isin(D.HOME_REHAB_CATEGORIES["DCC"])) | (
        (org == "DCHS") & (etype == "referral") & cat.isin(D.HOME_REHAB_CATEGORIES["DCHS"])
    )
    h = ce[home.to_numpy()]
    units = [
        pd.DataFrame(
            {
                "person_key": _text(h["person_key"]).to_numpy(),
                "start": h["start_date"].to_numpy(),
                "end": h["end_date"].to_numpy(),
                "kind": "home",
            }
        )
    ]
    beds = step_down_episodes(inp)
    units.append(
        pd.DataFrame(
            {
                "person_key": beds["person_key"].to_numpy(),
                "start": beds["episode_start"].to_numpy(),
                "end": beds["episode_end"].to_numpy(),
                "kind": "bed",
            }
        )
    )
    out = pd.concat(units, ignore_index=True).dropna(subset=["start"])
    out["start"] = out["start"].astype(DATE)
    out["end"] = out["end"].astype(DATE)
    return out


def step_down_episodes(inp: Inputs) -> pd.DataFrame:
    p2 = inp.p2
    return p2[p2["entry_route"].eq("discharge_from_hospital").to_numpy()].copy()


def still_at_home_cohort(inp: Inputs) -> pd.DataFrame:
    """One row per discharge into reablement/rehabilitation of a person aged 65+ (the
    measure's cohort before the pending rule): person_key, discharge, day_91, route,
    age, age_band, sex, known_to, closed, died, in_bed, care_home, at_home."""
    clusters = _cluster(rehab_units(inp), D.REHAB_CLUSTER_GAP_DAYS)
    ev = inp.evidence
    # a community hospital discharge inside a step-down episode is the rehabilitation
    # itself ending, not the discharge that led into it
    beds = step_down_episodes(inp)[["person_key", "episode_start", "episode_end"]]
    ch = ev[ev["kind"] == "ch_discharge"]
    internal = _interval_any(
        ch,
        beds,
        lambda m: (
            (m["admitted"] >= m["episode_start_r"]) & (m["date"] <= m["episode_end_r"].fillna(FAR))
        ),
    )
    ev = ev.drop(index=ch.index[internal.to_numpy()])
    clusters["discharge"] = _anchor(clusters, ev, need_admitted=False)
    c = clusters.dropna(subset=["discharge"]).reset_index(drop=True)
    c["age"] = inp.age_at(c["person_key"], c["discharge"]).to_numpy()
    c = c[(c["age"] >= 65).fillna(False).to_numpy()].reset_index(drop=True)
    # people in a long-term residential/nursing placement on the discharge date
    lt = inp.lt_placements
    in_care_home = (
        _interval_any(
            c,
            lt,
            lambda m: (m["start_r"] < m["discharge"]) & (m["end_r"].fillna(FAR) >= m["discharge"]),
        )
        if not lt.empty
        else pd.Series(False, index=c.index)
    )
    c = c[~in_care_home.to_numpy()].reset_index(drop=True)
    c["day_91"] = c["discharge"] + pd.Timedelta(days=D.STILL_AT_HOME_DAYS)
    c["closed"] = c["day_91"] < inp.as_of
    death = inp.death_of(c["person_key"])
    c["died"] = (death.notna() & (death <= c["day_91"])).to_numpy()
    t = c[["person_key", "day_91"]]
    p2 = inp.p2[["person_key", "episode_start", "episode_end"]]
    in_p2 = _interval_any(
        t,
        p2,
        lambda m: (
            (m["episode_start_r"] <= m["day_91"]) & (m["episode_end_r"].fillna(FAR) > m["day_91"])
        ),
    )
    acute = inp.acute_stays()
    in_acute = _interval_any(
        t, acute, lambda m: (m["start_r"] <= m["day_91"]) & (m["end_r"] > m["day_91"])
    )
    c["in_bed"] = (in_p2 | in_acute).to_numpy()
    w = c[["person_key", "discharge", "day_91"]]
    new_lt = _interval_any(
        w,
        lt,
        lambda m: (m["start_r"] >= m["discharge"]) & (m["start_r"] <= m["day_91"]),
    )
    ce = inp.ce
    ch_home = ce[
        (ce["event_type"] == "inpatient_spell").to_numpy()
        & ce["discharge_destination_code"].isin(D.CARE_HOME_DESTINATIONS).to_numpy()
    ]
    ch_home = pd.DataFrame(
        {"person_key": _text(ch_home["person_key"]).to_numpy(), "to_home": ch_home["end_date"]}
    ).dropna()
    to_care_home = _interval_any(
        w, ch_home, lambda m: (m["to_home_r"] >= m["discharge"]) & (m["to_home_r"] <= m["day_91"])
    )
    c["care_home"] = (new_lt | to_care_home).to_numpy()
    c["at_home"] = ~(c["died"] | c["in_bed"] | c["care_home"])
    c["route"] = c["first_kind"]
    c["age_band"] = age_group(c["age"], BANDS_65).to_numpy()
    c["sex"] = inp.attr(c["person_key"], "sex").to_numpy()
    c["known_to"] = inp.attr(c["person_key"], "known_to").to_numpy()
    cols = ["person_key", "start", "discharge", "day_91", "route", "age", "age_band", "sex",
            "known_to", "closed", "died", "in_bed", "care_home", "at_home"]  # fmt: skip
    return c[cols]


def still_at_home_rows(inp: Inputs) -> pd.DataFrame:
    m = D.measure("still_at_home_91")
    cohort = still_at_home_cohort(inp)
    return _proportions(
        cohort,
        date_col="discharge",
        kinds=m.periods,
        success="at_home",
        dims={
            "all": None,
            "age_band": "age_band",
            "sex": "sex",
            "route": "route",
            "known_to": "known_to",
        },  # fmt: skip
        shares={"died": "died", "in_bed": "in_bed", "care_home": "care_home"},
        closed="closed",
        follow_up=D.STILL_AT_HOME_DAYS,
        as_of=inp.as_of,
    )


# ========================================================================= ASCOF 2D
def _dhsc_age(inp: Inputs, keys, dates) -> pd.Series:
    """DHSC: floor(days from the first of the birth month to the date / 365.25)."""
    by, bm = inp.birth(keys)
    ok = by.notna() & bm.notna()
    born = pd.to_datetime(
        pd.DataFrame({"year": by.where(ok, 1900), "month": bm.where(ok, 1), "day": 1}),
        errors="coerce",
    )
    days = (pd.Series(pd.to_datetime(dates)).reset_index(drop=True) - born).dt.days
    age = np.floor(days.astype(float) / 365.25)
    return pd.Series(age, dtype="Float64").where(ok.to_numpy()).astype("Int64")


def ascof_2d_cohort(inp: Inputs) -> pd.DataFrame:
    """One row per reablement cluster linked to a discharge of a person aged 65+:
    person_key, start, discharge, age_band, sex, closed, died, readmitted, care_home,
    remained (the numerator flag)."""
    ce = inp.ce
    reab = ce[
        (ce["organisation"] == "DCC").to_numpy()
        & (ce["event_type"] == "service").to_numpy()
        & ce["service_category"].isin(D.HOME_REHAB_CATEGORIES["DCC"]).to_numpy()
    ]
    units = pd.DataFrame(
        {
            "person_key": _text(reab["person_key"]).to_numpy(),
            "start": reab["start_date"].to_numpy(),
            "end": reab["end_date"].to_numpy(),
            "kind": "reablement",
        }
    ).dropna(subset=["start"])
    clusters = _cluster(units, D.REHAB_CLUSTER_GAP_DAYS)
    ev = inp.evidence.copy()
    ev["age"] = _dhsc_age(inp, ev["person_key"], ev["date"]).to_numpy()
    ev = ev[(ev["age"] >= 65).fillna(False).to_numpy()]
    # discharges of people in long-term residential / nursing care at admission
    lt = inp.lt_placements
    if not ev.empty and not lt.empty:
        e = ev.assign(adm=_admission_date(ev)).reset_index(drop=True)
        in_lt = _interval_any(
            e,
            lt,
            lambda m: (m["start_r"] <= m["adm"]) & (m["end_r"].fillna(FAR) >= m["adm"]),
        )
        ev = e[~in_lt.to_numpy()]
    clusters["discharge"] = _anchor(clusters, ev, need_admitted=True)
    c = clusters.dropna(subset=["discharge"]).reset_index(drop=True)
    follow = pd.Timedelta(days=D.ASCOF_2D_FOLLOW_UP_DAYS)
    c["window_end"] = c["discharge"] + follow
    c["closed"] = c["window_end"] < inp.as_of
    death = inp.death_of(c["person_key"])
    c["died"] = (death.notna() & (death >= c["discharge"]) & (death <= c["window_end"])).to_numpy()
    sig = inp.admission_signals()
    spells = ce[(ce["event_type"] == "inpatient_spell").to_numpy()]
    admissions = pd.concat(
        [
            sig,
            pd.DataFrame(
                {
                    "person_key": _text(spells["person_key"]).to_numpy(),
                    "admitted": spells["start_date"],
                }
            ),
        ],
        ignore_index=True,
    ).dropna()
    w = c[["person_key", "start", "discharge", "window_end"]]
    c["readmitted"] = _interval_any(
        w,
        admissions,
        lambda m: (
            (m["admitted_r"] > m["start"])
            & (m["admitted_r"] > m["discharge"])
            & (m["admitted_r"] <= m["window_end"])
        ),
    ).to_numpy()
    c["care_home"] = _interval_any(
        w,
        lt,
        lambda m: (m["start_r"] >= m["discharge"]) & (m["start_r"] <= m["window_end"]),
    ).to_numpy()
    c["remained"] = ~(c["died"] | c["readmitted"] | c["care_home"])
    age = _dhsc_age(inp, c["person_key"], c["discharge"])
    c["age_band"] = age_group(age, BANDS_65).to_numpy()
    c["sex"] = inp.attr(c["person_key"], "sex").to_numpy()
    cols = ["person_key", "start", "discharge", "age_band", "sex", "closed", "died",
            "readmitted", "care_home", "remained"]  # fmt: skip
    return c[cols]


def ascof_2d_rows(inp: Inputs) -> pd.DataFrame:
    m = D.measure("ascof_2d")
    return _proportions(
        ascof_2d_cohort(inp),
        date_col="discharge",
        kinds=m.periods,
        success="remained",
        dims={"all": None, "age_band": "age_band", "sex": "sex"},
        shares={"died": "died", "readmitted": "readmitted", "care_home": "care_home"},
        closed="closed",
        follow_up=D.ASCOF_2D_FOLLOW_UP_DAYS,
        as_of=inp.as_of,
    )


# ====================================================================== ASCOF 2B / 2C
def care_home_admissions(inp: Inputs) -> pd.DataFrame:
    """New long-term residential/nursing admissions: person_key, start, age, age_group,
    new (bool), self_funded (bool)."""
    lt = inp.lt_placements.reset_index(drop=True)
    if lt.empty:
        return pd.DataFrame(columns=["person_key", "start", "age", "age_group", "new"])
    lt["age"] = inp.age_at(lt["person_key"], lt["start"]).to_numpy()
    lt["age_group"] = age_group(lt["age"], BANDS_ADULT).to_numpy()
    lookback = pd.Timedelta(days=D.NEW_ADMISSION_LOOKBACK_DAYS)
    prior = lt[["person_key", "start", "end", "event_id"]]
    existing = _interval_any(
        lt[["person_key", "start", "event_id"]],
        prior,
        lambda m: (
            (m["event_id_r"] != m["event_id"])
            & (m["start_r"] < m["start"])
            & (m["end_r"].isna() | ((m["start"] - m["end_r"]) < lookback))
        ),
    )
    lt["new"] = ~existing.to_numpy()
    lt["self_funded"] = lt["outcome"].eq("self_funded").to_numpy()
    return lt


def ascof_2bc_rows(inp: Inputs, population: dict[str, float]) -> dict[str, pd.DataFrame]:
    adm = care_home_admissions(inp)
    out = {}
    ids = {"18-64": "ascof_2b_admissions_18_64", "65+": "ascof_2c_admissions_65_plus"}
    if adm.empty:
        return {mid: pd.DataFrame(columns=[*ROW_COLUMNS, "status"]) for mid in ids.values()}
    adm = adm[adm["new"] & ~adm["self_funded"] & adm["age_group"].notna()].copy()
    adm["period_start"], adm["period_end"] = _period_bounds(adm["start"], "financial_year")
    death = inp.death_of(adm["person_key"])
    adm = adm[~(death.notna() & (death < adm["period_start"].reset_index(drop=True))).to_numpy()]
    # one band per person and period: the younger one (DHSC: MIN of the band labels)
    per_person = adm.groupby(["period_start", "period_end", "person_key"])["age_group"].min()
    counts = per_person.reset_index().groupby(["period_start", "period_end", "age_group"]).size()
    periods = sorted(set(zip(adm["period_start"], adm["period_end"], strict=True)))
    for band, mid in ids.items():
        pop = float(population[band])
        rows = []
        for ps, pe in periods:
            n = float(counts.get((ps, pe, band), 0))
            rows.append(
                {
                    "period_start": ps,
                    "period_end": pe,
                    "breakdown": "all",
                    "numerator": n,
                    "denominator": pop,
                    "value": n / pop * 100_000 if pop > 0 else np.nan,
                    "status": _status_plain(pe, inp.as_of),
                }
            )
        out[mid] = pd.DataFrame(rows, columns=[*ROW_COLUMNS, "status"])
    return out


# ========================================================================= Pathway 2
def closed_episodes(inp: Inputs) -> pd.DataFrame:
    p2 = inp.p2
    ep = p2[
        p2["episode_end"].notna().to_numpy() & (p2["episode_end"] < inp.as_of).to_numpy()
    ].copy()
    ep["age_group"] = age_group(ep["age_at_admission"], BANDS_ADULT).to_numpy()
    ep["home"] = ep["exit_destination"].eq("usual_residence").to_numpy()
    ep["alive"] = ~ep["exit_destination"].eq("died").to_numpy()
    return ep.reset_index(drop=True)


def discharge_usual_residence_rows(inp: Inputs) -> pd.DataFrame:
    m = D.measure("discharge_usual_residence")
    ep = closed_episodes(inp)
    ep = ep[ep["alive"]]
    return _proportions(
        ep,
        date_col="episode_end",
        kinds=m.periods,
        success="home",
        dims={
            "all": None,
            "setting": "settings",
            "entry_route": "entry_route",
            "age_group": "age_group",
        },  # fmt: skip
        as_of=inp.as_of,
    )


def los_rows(inp: Inputs) -> dict[str, pd.DataFrame]:
    ep = closed_episodes(inp)
    out: dict[str, list] = {
        "pathway2_los_median": [],
        "pathway2_los_mean": [],
        "pathway2_los_p90": [],
    }
    if ep.empty:
        return {k: pd.DataFrame(columns=[*ROW_COLUMNS, "status"]) for k in out}
    ep["los"] = pd.to_numeric(ep["length_of_stay_days"], errors="coerce").astype(float)
    for kind in D.measure("pathway2_los_median").periods:
        ep["period_start"], ep["period_end"] = _period_bounds(ep["episode_end"], kind)
        for (ps, pe), grp in ep.groupby(["period_start", "period_end"]):
            status = _status_plain(pe, inp.as_of)
            subsets = [("all", grp)] + [
                (f"setting:{s}", g) for s, g in grp.groupby("settings", sort=True)
            ]
            for label, g in subsets:
                los = g["los"].dropna().to_numpy()
                if len(los) == 0:
                    continue
                n = float(len(los))
                base = {"period_start": ps, "period_end": pe, "breakdown": label, "status": status}
                out["pathway2_los_median"].append(
                    {**base, "numerator": np.nan, "denominator": n, "value": float(np.median(los))}
                )
                out["pathway2_los_mean"].append(
                    {
                        **base,
                        "numerator": np.nan,  # a mean is not a ratio of counts
                        "denominator": n,
                        "value": float(los.mean()),
                    }  # fmt: skip
                )
                out["pathway2_los_p90"].append(
                    {
                        **base,
                        "numerator": np.nan,
                        "denominator": n,
                        "value": float(np.percentile(los, 90)),
                    }  # fmt: skip
                )
    return {k: pd.DataFrame(v, columns=[*ROW_COLUMNS, "status"]) for k, v in out.items()}


def exit_destination_rows(inp: Inputs) -> pd.DataFrame:
    ep = closed_episodes(inp)
    rows = []
    for kind in D.measure("pathway2_exit_destination").periods:
        if ep.empty:
            break
        ep["period_start"], ep["period_end"] = _period_bounds(ep["episode_end"], kind)
        for (ps, pe), grp in ep.groupby(["period_start", "period_end"]):
            n = float(len(grp))
            counts = grp["exit_destination"].value_counts()
            for dest in DESTINATIONS:
                k = float(counts.get(dest, 0))
                rows.append(
                    {
                        "period_start": ps,
                        "period_end": pe,
                        "breakdown": f"destination:{dest}",
                        "numerator": k,
                        "denominator": n,
                        "value": k / n,
                        "status": _status_plain(pe, inp.as_of),
                    }
                )
    return pd.DataFrame(rows, columns=[*ROW_COLUMNS, "status"])


# ====================================================================== tell it once
def _snapshot_rows(frame: pd.DataFrame, success: str, dims: dict, as_of, shares=None):
    rows = []
    if frame.empty:
        return pd.DataFrame(columns=[*ROW_COLUMNS, "status"])

    def add(label, sub, num_mask):
        den = float(len(sub))
        num = float(num_mask.sum())
        rows.append(
            {
                "period_start": as_of,
                "period_end": as_of,
                "breakdown": label,
                "numerator": num,
                "denominator": den,
                "value": num / den if den else np.nan,
                "status": "final",
            }
        )

    for label, col in dims.items():
        if col is None:
            add(label, frame, frame[success])
            continue
        for value, sub in frame.groupby(col, sort=True, dropna=True):
            add(f"{label}:{value}", sub, sub[success])
    for name, col in (shares or {}).items():
        add(name, frame, frame[col])
    return pd.DataFrame(rows, columns=[*ROW_COLUMNS, "status"])


def tio_rows(inp: Inputs) -> dict[str, pd.DataFrame]:
    people = inp.people.reset_index()
    death = people["date_of_death"]
    on = pd.Series([inp.as_of] * len(people), dtype=DATE)
    on = on.where(~(death < inp.as_of).to_numpy(), death.to_numpy())
    ages = age_from_birth_parts(people["birth_year"], people["birth_month"], on)
    people["age_group"] = age_group(ages, BANDS_ALL).fillna("unknown").to_numpy()
    people["both"] = people["known_to"].eq("both").to_numpy()
    known = _snapshot_rows(
        people,
        "both",
        {"all": None, "age_group": "age_group", "district": "district"},
        inp.as_of,
    )
    shared = ("BSL", "Interpreter")
    both = people[people["both"]].copy()
    dcc = both["comm_need_dcc"].isin(shared).to_numpy()
    dchs = both["comm_need_dchs"].isin(shared).to_numpy()
    both["dcc_only"] = dcc & ~dchs
    both["dchs_only"] = dchs & ~dcc
    both["by_both"] = dcc & dchs
    both["one_only"] = both["dcc_only"] | both["dchs_only"]
    needs = both[dcc | dchs].copy()
    needs["need"] = needs["communication_need"].where(needs["communication_need"].isin(shared))
    visible = _snapshot_rows(
        needs,
        "one_only",
        {"all": None, "need": "need"},
        inp.as_of,
        shares={
            "recorded_by:dcc_only": "dcc_only",
            "recorded_by:dchs_only": "dchs_only",
            "recorded_by:both": "by_both",
        },
    )
    return {"tio_known_to_both": known, "tio_comm_need_visible": visible}


# ============================================================================= entry
def default_population() -> dict[str, float]:
    return dict(D.DEFAULT_POPULATION)


def compute_measures(
    person_internal: pd.DataFrame,
    care_event: pd.DataFrame,
    pathway2: pd.DataFrame,
    *,
    as_of,
    population: dict[str, float] | None = None,
) -> pd.DataFrame:
    """``shared_care.metric`` rows for every measure in ``definitions.MEASURES``.

    ``population``: ``{"18-64": n, "65+": n}`` for ASCOF 2B/2C (default: ONS mid-year
    estimates for Derbyshire, ``definitions.DEFAULT_POPULATION``).
    """
    inp = Inputs(person_internal, care_event, pathway2, as_of)
    population = {**default_population(), **(population or {})}
    blocks: dict[str, pd.DataFrame] = {
        "still_at_home_91": still_at_home_rows(inp),
        "ascof_2d": ascof_2d_rows(inp),
        **ascof_2bc_rows(inp, population),
        "discharge_usual_residence": discharge_usual_residence_rows(inp),
        **los_rows(inp),
        "pathway2_exit_destination": exit_destination_rows(inp),
        **tio_rows(inp),
    }
    frames = []
    for m in D.MEASURES:
        block = blocks.get(m.measure_id)
        if block is None or block.empty:
            continue
        block = block.copy()
        block["measure_id"] = m.measure_id
        block["measure_name"] = m.name
        block["definition_version"] = m.version
        frames.append(block)
    if not frames:
        return _empty_metric()
    out = pd.concat(frames, ignore_index=True)
    out["as_of"] = inp.as_of
    out["period_start"] = to_day(out["period_start"]).to_numpy()
    out["period_end"] = to_day(out["period_end"]).to_numpy()
    out["as_of"] = to_day(out["as_of"]).to_numpy()
    for c in ("numerator", "denominator", "value"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    order = {m.measure_id: i for i, m in enumerate(D.MEASURES)}
    out["_o"] = out["measure_id"].map(order)
    out = out.sort_values(["_o", "period_start", "period_end", "breakdown"], kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    for c in ("measure_id", "measure_name", "breakdown", "status", "definition_version"):
        out[c] = out[c].astype(str)
    log.info("computed %d metric rows for %d measures", len(out), out["measure_id"].nunique())
    return out[METRIC_COLUMNS]


def _empty_metric() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in METRIC_COLUMNS})
    for c in ("period_start", "period_end", "as_of"):
        out[c] = out[c].astype(DATE)
    for c in ("numerator", "denominator", "value"):
        out[c] = out[c].astype(float)
    return out
