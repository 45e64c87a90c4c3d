"""Pathway 2 (bed-based rehabilitation) episodes across both organisations.

Stays are DCHS community hospital spells (``event_type = inpatient_spell``) and DCC
Community Support Bed stays (service category ``st_max_bed``: ST-Max, Short term
residential care, team ``CSB-<unit>``). A person's stays form one episode when each
starts at most ``PATHWAY2_MAX_GAP_DAYS`` (1) day after the latest end so far (or
overlaps it), so a CSB -> community hospital transfer is one episode. An open stay
(no end yet) keeps the episode open.

Also here, because episodes and measures share it: :func:`hospital_discharges`, the
evidence of a discharge from hospital that the unified record holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.tables.measure_rules import (
    CARE_HOME_AFTER_BED_DAYS,
    CARE_HOME_DESTINATIONS,
    DISCHARGE_BEFORE_DAYS,
    LONG_TERM_CARE_HOME_CATEGORIES,
    NOT_COMMUNITY_DESTINATIONS,
    PATHWAY2_MAX_GAP_DAYS,
)
from transforms.tables.values import DATE, as_text, to_day

PATHWAY2_COLUMNS = [
    "stay_id", "person_key", "episode_start", "episode_end", "settings", "n_stays",
    "length_of_stay_days", "exit_destination", "age_at_admission", "entry_route",
]  # fmt: skip
EVIDENCE_COLUMNS = ["person_key", "date", "kind", "admitted", "event_id"]

#: Discharge destination code -> exit destination.
DESTINATION_EXIT = {
    "19": "usual_residence",
    "29": "temporary_residence",
    "49": "hospital",
    "50": "hospital",
    "51": "hospital",
    "52": "hospital",
    "79": "died",
    "87": "hospital",
    "88": "hospice",
    "98": "unknown",  # a discharge date with "not yet discharged": the date wins
    **dict.fromkeys(CARE_HOME_DESTINATIONS, "care_home"),
}
#: DCC outcome of a CSB stay -> exit destination (when no care home placement follows).
CSB_OUTCOME_EXIT = {
    "died": "died",
    "admitted_to_hospital": "hospital",
    "ended_as_planned": "usual_residence",
    "ended_other_reason": "usual_residence",
    "progress_to_services": "usual_residence",
    "progress_to_reablement": "usual_residence",
    "progress_to_assessment": "usual_residence",
    "continuation": "usual_residence",
    "support_declined": "usual_residence",
    "information_and_advice": "usual_residence",
    "no_services_offered": "usual_residence",
    "moved_to_another_la": "other",
    "nhs_funded_care": "other",
}
SPELL_ROUTES = ("discharge_from_hospital", "community_step_up", "care_home")
_OPEN = np.int64(10**9)  # day number of an open end (far future)


def _days(values: pd.Series) -> np.ndarray:
    """Day numbers (days since 1970-01-01); NaT -> -1 marker handled by callers."""
    d = to_day(values)
    out = (d.to_numpy(dtype="datetime64[D]").astype("int64")).astype(np.int64)
    return np.where(d.isna().to_numpy(), np.int64(-(10**9)), out)


def bed_stays(care_event: pd.DataFrame) -> pd.DataFrame:
    """Community hospital spells and CSB stays: event_id, person_key, setting, start, end,
    outcome, route, destination, age."""
    org = care_event["organisation"]
    etype = care_event["event_type"]
    spell = (org == "DCHS") & (etype == "inpatient_spell")
    csb = (org == "DCC") & (etype == "service") & (care_event["service_category"] == "st_max_bed")
    ev = care_event[(spell | csb).to_numpy()]
    is_spell = ((ev["organisation"] == "DCHS") & (ev["event_type"] == "inpatient_spell")).to_numpy()
    stays = pd.DataFrame(
        {
            "event_id": as_text(ev["event_id"]).to_numpy(),
            "person_key": as_text(ev["person_key"]).to_numpy(),
            "setting": np.where(is_spell, "community_hospital", "community_support_bed"),
            "start": to_day(ev["start_date"]).to_numpy(),
            "end": to_day(ev["end_date"]).to_numpy(),
            "outcome": as_text(ev["outcome"]).to_numpy(),
            "route": as_text(ev["route_of_access"]).to_numpy(),
            "destination": as_text(ev["discharge_destination_code"]).to_numpy(),
            "age": pd.array(pd.to_numeric(ev["age_at_event"], errors="coerce"), dtype="Int64"),
        }
    )
    stays = stays[stays["start"].notna()]
    return stays.sort_values(["person_key", "start", "end", "event_id"], kind="stable").reset_index(
        drop=True
    )


def hospital_discharges(care_event: pd.DataFrame) -> pd.DataFrame:
    """Evidence of discharges from hospital: person_key, date, kind, admitted, event_id.

    * ``dcc_request``: a DCC Request with route of access Discharge from Hospital;
    * ``dchs_referral``: a DCHS referral from hospital (source of referral H2);
    * ``ch_admission_from_hospital``: a community hospital admission from an NHS
      hospital (admission source 51/87): the acute discharge is its admission date;
    * ``ch_discharge``: a community hospital discharge, alive, to the community
      (destination not 49-52, 79, 87, 88, 98); ``admitted`` = the spell's admission.

    ``admitted`` is the hospital admission date where known (``ch_discharge``), else NaT.
    """
    ce = care_event
    org, etype, route = ce["organisation"], ce["event_type"], ce["route_of_access"]
    dfh = route == "discharge_from_hospital"
    parts = []

    def add(mask, date_col, kind, admitted_col=None):
        sub = ce[mask.to_numpy()]
        parts.append(
            pd.DataFrame(
                {
                    "person_key": as_text(sub["person_key"]).to_numpy(),
                    "date": to_day(sub[date_col]).to_numpy(),
                    "kind": kind,
                    "admitted": to_day(sub[admitted_col]).to_numpy()
                    if admitted_col
                    else np.full(len(sub), np.datetime64("NaT"), dtype=DATE),
                    "event_id": as_text(sub["event_id"]).to_numpy(),
                }
            )
        )

    add((org == "DCC") & (etype == "request") & dfh, "start_date", "dcc_request")
    add((org == "DCHS") & (etype == "referral") & dfh, "start_date", "dchs_referral")
    spell = (org == "DCHS") & (etype == "inpatient_spell")
    add(spell & dfh, "start_date", "ch_admission_from_hospital")
    dest = ce["discharge_destination_code"]
    alive = ~ce["outcome"].isin(["died"]) & ~dest.isin(list(NOT_COMMUNITY_DESTINATIONS))
    add(spell & ce["end_date"].notna() & alive, "end_date", "ch_discharge", "start_date")
    out = pd.concat(parts, ignore_index=True)
    out = out[out["date"].notna()]
    out["date"] = out["date"].astype(DATE)
    out["admitted"] = out["admitted"].astype(DATE)
    return out.sort_values(["person_key", "date", "kind"], kind="stable").reset_index(drop=True)[
        EVIDENCE_COLUMNS
    ]


def episode_numbers(person: np.ndarray, start: np.ndarray, end: np.ndarray, gap: int) -> np.ndarray:
    """Cluster ids for intervals sorted by (person, start): a new cluster starts when the
    person changes or ``start > max(end so far) + gap``. ``end`` is in day numbers with
    open ends already set far in the future."""
    n = len(start)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    frame = pd.DataFrame({"p": person, "e": end})
    running = frame.groupby("p", sort=False)["e"].cummax().to_numpy()
    prev = np.empty(n, dtype=np.int64)
    prev[0] = np.iinfo(np.int64).min // 2
    prev[1:] = running[:-1]
    new_person = np.ones(n, dtype=bool)
    new_person[1:] = person[1:] != person[:-1]
    new = new_person | (start > prev + gap)
    return np.cumsum(new) - 1


def _collapse(settings: pd.Series) -> str:
    out: list[str] = []
    for s in settings:
        if not out or out[-1] != s:
            out.append(s)
    return ">".join(out)


def build_pathway2_stays(care_event: pd.DataFrame) -> pd.DataFrame:
    """``shared_care.pathway2_stay``: one row per episode."""
    stays = bed_stays(care_event)
    if stays.empty:
        return _empty()
    start_d = _days(stays["start"])
    end_d = np.where(stays["end"].isna().to_numpy(), _OPEN, _days(stays["end"]))
    stays["episode"] = episode_numbers(
        stays["person_key"].to_numpy(dtype=object), start_d, end_d, PATHWAY2_MAX_GAP_DAYS
    )
    stays["end_d"] = end_d
    g = stays.groupby("episode", sort=True)
    first = g.head(1).set_index("episode")
    last = (
        stays.sort_values(["episode", "end_d", "start"], kind="stable")
        .drop_duplicates("episode", keep="last")
        .set_index("episode")
    )
    is_open = g["end"].apply(lambda s: s.isna().any())
    ep = pd.DataFrame(index=first.index)
    ep["stay_id"] = "p2:" + first["event_id"]
    ep["person_key"] = first["person_key"]
    ep["episode_start"] = g["start"].min()
    ep["episode_end"] = g["end"].max().where(~is_open)
    ep["settings"] = g["setting"].agg(_collapse)
    ep["n_stays"] = g.size().astype("int64")
    los = (ep["episode_end"] - ep["episode_start"]).dt.days
    ep["length_of_stay_days"] = pd.array(los, dtype="Int64")
    ep["exit_destination"] = _exit(last, is_open, care_event)
    ep["age_at_admission"] = pd.array(first["age"].tolist(), dtype="Int64")
    ep["entry_route"] = _entry_route(first, care_event)
    out = ep.reset_index(drop=True)
    for c in ("episode_start", "episode_end"):
        out[c] = out[c].astype(DATE)
    return out[PATHWAY2_COLUMNS]


def _exit(last: pd.DataFrame, is_open: pd.Series, care_event: pd.DataFrame) -> pd.Series:
    spell = last["setting"] == "community_hospital"
    by_code = last["destination"].map(DESTINATION_EXIT).fillna("other")
    out = pd.Series(np.where(spell, by_code, None), index=last.index, dtype=object)
    out[spell & (last["outcome"] == "died")] = "died"
    csb = ~spell
    if csb.any():
        placed = _care_home_after(last[csb], care_event)
        csb_exit = last.loc[csb, "outcome"].map(CSB_OUTCOME_EXIT).fillna("unknown")
        csb_exit = csb_exit.where(~(placed & ~csb_exit.isin(["died", "hospital"])), "care_home")
        out[csb] = csb_exit
    out[is_open.reindex(out.index).to_numpy()] = "not_yet_discharged"
    return out


def _care_home_after(stays: pd.DataFrame, care_event: pd.DataFrame) -> pd.Series:
    """Per stay (index kept): a DCC long-term residential/nursing service starts within
    [end - 1, end + CARE_HOME_AFTER_BED_DAYS]."""
    lt = care_event[
        (care_event["organisation"] == "DCC").to_numpy()
        & care_event["service_category"].isin(LONG_TERM_CARE_HOME_CATEGORIES).to_numpy()
    ]
    lt = pd.DataFrame(
        {"person_key": as_text(lt["person_key"]).to_numpy(), "lt_start": to_day(lt["start_date"])}
    )
    s = (
        stays[["person_key", "end"]]
        .reset_index()
        .rename(columns={stays.index.name or "index": "k"})
    )
    m = s.merge(lt, on="person_key", how="inner")
    lo = m["end"] - pd.Timedelta(days=1)
    hi = m["end"] + pd.Timedelta(days=CARE_HOME_AFTER_BED_DAYS)
    hit = m[(m["lt_start"] >= lo) & (m["lt_start"] <= hi)]["k"].unique()
    return pd.Series(stays.index.isin(hit), index=stays.index)


def _entry_route(first: pd.DataFrame, care_event: pd.DataFrame) -> pd.Series:
    spell = first["setting"] == "community_hospital"
    route = first["route"].where(first["route"].isin(list(SPELL_ROUTES)), "other")
    out = pd.Series(np.where(spell, route, "other"), index=first.index, dtype=object)
    csb = first[~spell]
    if not csb.empty:
        ev = hospital_discharges(care_event)
        s = (
            csb[["person_key", "start"]]
            .reset_index()
            .rename(columns={first.index.name or "index": "k"})
        )
        m = s.merge(ev[["person_key", "date"]], on="person_key", how="inner")
        lo = m["start"] - pd.Timedelta(days=DISCHARGE_BEFORE_DAYS)
        hit = m[(m["date"] >= lo) & (m["date"] <= m["start"])]["k"].unique()
        out[out.index.isin(hit) & ~spell.to_numpy()] = "discharge_from_hospital"
    return out


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in PATHWAY2_COLUMNS})
    for c in ("episode_start", "episode_end"):
        out[c] = out[c].astype(DATE)
    for c in ("n_stays",):
        out[c] = out[c].astype("int64")
    for c in ("length_of_stay_days", "age_at_admission"):
        out[c] = out[c].astype("Int64")
    return out
