"""An independent reading of DHSC's ASCOF rules (2D parts 1 and 2, 2B / 2C) and of SALT
STS004, in pandas, over the published tables ``person``, ``care_event``, ``pathway2_stay``.

Written from DHSC's T-SQL (``DataS-DHSC/ASC-CLD-LA-Dashboard``:
``ASCOF_measures/Create_ASCOF_2D.sql``, ``Create_ASCOF_2B2C_2425_Onwards.sql``,
``Create_personal_details_table.sql``, ``Stored_procedures/
create_FilterToEventsInPeriod_procedure.sql``), not from ``sql/measures``: the bench
``bench_dhsc_agreement.py`` compares the two. Like DHSC's procedures, each reporting period is
computed by its own run (:func:`ascof_2d` and :func:`ascof_2bc` take the period's dates).

DHSC reads SUS APC spells for 2D; the partnership has none. The stand-in for SUS (the one
place this module has to choose rather than follow DHSC) is :func:`hospital_spells`:

* a community hospital spell (DCHS ``inpatient_spell``) is a SUS spell with its own admission
  and discharge dates, discharge method (died) and destination;
* an acute spell is seen by its discharge only: a DCC request or a DCHS referral with route
  'Discharge from Hospital', or a community hospital admission from an NHS hospital (the
  acute discharge is that admission day). Its admission is the latest acute admission the
  records show since the person's previous discharge (a DCC event ending 'Admitted to
  hospital'; a community hospital discharge to an NHS ward, 49-52 / 87), else unknown;
* an acute admission seen without any later discharge is a spell with an unknown discharge.

A comparison with an unknown date follows what the data can tell: an acute discharge's
admission came before it (so ``Admission_Date < Discharge_Date`` and ``<= cluster start``
hold); the long-term-care test at admission looks at the day before the discharge.

Deaths (DHSC: the CLD date of death) are the earliest of ``person.date_of_death`` and the end
of any event whose outcome is a death (DCC 'NFA - Deceased', DCHS discharge method 4 or
destination 79): each is a record of the death.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

FOLLOW_UP_2D = 84
STILL_AT_HOME = 91
CLUSTER_GAP = 7
BEFORE, AFTER = 7, 3
NEW_LOOKBACK = 365
FAR = pd.Timestamp("2200-01-01")  # an open end (within datetime64[ns])
WARD = {"49", "50", "51", "52", "87"}
NOT_COMMUNITY = {"49", "50", "51", "52", "79", "87", "88"}
CARE_HOME_DEST = {"54", "55", "56", "65", "85"}
RES_NURS = {"long_term_residential", "long_term_nursing"}


@dataclass(frozen=True)
class Period:
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"


def periods_between(first: date, last: date) -> list[Period]:
    """Every calendar quarter and financial year touching [first, last]."""
    out = []
    q = pd.Timestamp(first).to_period("Q")
    while q.start_time <= pd.Timestamp(last):
        out.append(Period(q.start_time.normalize(), q.end_time.normalize()))
        q += 1
    y = pd.Timestamp(first).year - (1 if pd.Timestamp(first).month < 4 else 0)
    while pd.Timestamp(y, 4, 1) <= pd.Timestamp(last):
        out.append(Period(pd.Timestamp(y, 4, 1), pd.Timestamp(y + 1, 3, 31)))
        y += 1
    return sorted(out, key=lambda p: (p.start, p.end))


def _day(s) -> pd.Series:
    return pd.to_datetime(s, errors="coerce").astype("datetime64[ns]")


def deaths(person: pd.DataFrame, care_event: pd.DataFrame) -> pd.Series:
    """Earliest recorded death per person_key: person.date_of_death or a died outcome."""
    a = pd.Series(_day(person["date_of_death"]).to_numpy(), index=person["person_key"])
    died = care_event[care_event["outcome"] == "died"]
    b = pd.Series(_day(died["end_date"]).to_numpy(), index=died["person_key"])
    both = pd.concat([a, b]).dropna()
    return both.groupby(level=0).min()


def cld_cleaned(
    care_event: pd.DataFrame, dod: pd.Series, period_start, *, valid_end: bool = True
) -> pd.DataFrame:
    """DHSC stage 1 (2D) / step 1 (2B2C) input: DCC rows of service users, the person alive
    at the period start, end on or after start or open; the end cut at a death inside the
    event (FilterToEventsInPeriod's Der_Event_End_Date); open ends set far in the future."""
    e = care_event[(care_event["organisation"] == "DCC")].copy()
    e = e[e["client_type"] == "service_user"]
    e["start"] = _day(e["start_date"])
    e["end"] = _day(e["end_date"])
    e["dod"] = e["person_key"].map(dod)
    e = e[e["dod"].isna() | (e["dod"] >= pd.Timestamp(period_start))]
    if valid_end:  # 2D only; 2B2C's build has no such filter
        e = e[e["end"].isna() | (e["end"] >= e["start"])]
    cut = (e["dod"].notna()) & (
        ((e["dod"] >= e["start"]) & (e["dod"] <= e["end"]))
        | (e["end"].isna() & (e["dod"] > e["start"]))
    )
    e.loc[cut, "end"] = e.loc[cut, "dod"]
    e["end_raw_open"] = e["end"].isna()
    e["end"] = e["end"].fillna(FAR)
    return e


def clusters(reab: pd.DataFrame) -> pd.DataFrame:
    """Reablement events <= 7 days apart or overlapping -> one cluster (person, start)."""
    if reab.empty:
        return pd.DataFrame(columns=["person_key", "cluster_start", "cluster_end"])
    r = reab.sort_values(["person_key", "start", "end", "event_id"]).reset_index(drop=True)
    prev_end = r.groupby("person_key")["end"].transform(lambda s: s.cummax().shift(1))
    new = prev_end.isna() | ((r["start"] - prev_end).dt.days > CLUSTER_GAP)
    r["cid"] = new.cumsum()
    out = r.groupby("cid").agg(
        person_key=("person_key", "first"),
        cluster_start=("start", "min"),
        cluster_end=("end", "max"),
    )
    return out.reset_index(drop=True)


def hospital_spells(care_event: pd.DataFrame) -> pd.DataFrame:
    """The SUS stand-in: one row per spell - person_key, kind (community / acute /
    acute_admission), admission, discharge, age (at discharge), died, destination."""
    ce = care_event
    ch = ce[(ce["organisation"] == "DCHS") & (ce["event_type"] == "inpatient_spell")]
    community = pd.DataFrame(
        {
            "person_key": ch["person_key"].to_numpy(),
            "kind": "community",
            "admission": _day(ch["start_date"]).to_numpy(),
            "discharge": _day(ch["end_date"]).to_numpy(),
            "age": pd.to_numeric(ch["age_at_end"], errors="coerce").to_numpy(),
            "died": (ch["outcome"] == "died").to_numpy(),
            "destination": ch["discharge_destination_code"].to_numpy(),
        }
    )
    ev = ce[
        (ce["route_of_access"] == "discharge_from_hospital")
        & (
            ((ce["organisation"] == "DCC") & (ce["event_type"] == "request"))
            | (
                (ce["organisation"] == "DCHS")
                & ce["event_type"].isin(["referral", "inpatient_spell"])
            )
        )
    ]
    ev = pd.DataFrame(
        {
            "person_key": ev["person_key"].to_numpy(),
            "discharge": _day(ev["start_date"]).to_numpy(),
            "age": pd.to_numeric(ev["age_at_event"], errors="coerce").to_numpy(),
        }
    ).dropna(subset=["discharge"])
    # several records of one discharge: one spell per person and day
    acute = ev.groupby(["person_key", "discharge"], as_index=False)["age"].max()
    sig = ce[
        (ce["outcome"] == "admitted_to_hospital")
        | (
            (ce["organisation"] == "DCHS")
            & (ce["event_type"] == "inpatient_spell")
            & ce["discharge_destination_code"].isin(WARD)
        )
    ]
    sig = pd.DataFrame(
        {"person_key": sig["person_key"].to_numpy(), "admitted": _day(sig["end_date"]).to_numpy()}
    ).dropna()
    sig = sig.drop_duplicates()
    # previous discharge of the person (any spell), so an admission belongs to one stay
    all_dis = pd.concat(
        [acute[["person_key", "discharge"]], community[["person_key", "discharge"]].dropna()]
    ).drop_duplicates()
    adm = []
    used = set()
    dis_by = {k: np.sort(g["discharge"].to_numpy()) for k, g in all_dis.groupby("person_key")}
    sig_by = {k: np.sort(g["admitted"].to_numpy()) for k, g in sig.groupby("person_key")}
    for row in acute.itertuples():
        d = np.datetime64(row.discharge)
        prev = dis_by.get(row.person_key, np.array([], dtype="datetime64[ns]"))
        prev = prev[prev < d]
        lo = prev.max() if len(prev) else np.datetime64("1900-01-01")
        s = sig_by.get(row.person_key, np.array([], dtype="datetime64[ns]"))
        s = s[(s < d) & (s >= lo)]
        if len(s):
            adm.append(s.max())
            used.add((row.person_key, pd.Timestamp(s.max())))
        else:
            adm.append(np.datetime64("NaT"))
    acute = acute.assign(
        kind="acute",
        admission=pd.to_datetime(pd.Series(adm, dtype="datetime64[ns]")).to_numpy(),
        died=False,
        destination=None,
    )
    # an admission with no later discharge seen: a spell whose discharge is unknown
    orphans = sig[
        [
            (k, pd.Timestamp(a)) not in used
            for k, a in zip(sig["person_key"], sig["admitted"], strict=True)
        ]
    ]
    orphan = pd.DataFrame(
        {
            "person_key": orphans["person_key"].to_numpy(),
            "kind": "acute_admission",
            "admission": orphans["admitted"].to_numpy(),
            "discharge": pd.NaT,
            "age": np.nan,
            "died": False,
            "destination": None,
        }
    )
    cols = ["person_key", "kind", "admission", "discharge", "age", "died", "destination"]
    return pd.concat([community[cols], acute[cols], orphan[cols]], ignore_index=True)


def ascof_2d(tables: dict, period: Period, *, as_of, spells: pd.DataFrame | None = None) -> dict:
    """One run of Create_ASCOF2D for ``period``: part 1 (clusters with their outcomes) and
    part 2 (eligible discharges). Returns {'clusters': frame, 'discharges': frame}.
    ``spells``: another SUS stand-in (default :func:`hospital_spells`)."""
    ce, person = tables["care_event"], tables["person"]
    dod = deaths(person, ce)
    cld = cld_cleaned(ce, dod, period.start)
    svc = cld[cld["event_type"] == "service"]
    lts = svc[svc["service_category"].isin(RES_NURS)]
    reab = svc[svc["service_category"] == "reablement"]
    cl = clusters(reab)

    # stage 2: discharges in the period, 65+, not died, destination, admission < discharge,
    # admission >= 2023-04-01, not in residential / nursing LTS at admission
    sp = hospital_spells(ce) if spells is None else spells
    d = sp[sp["kind"].isin(["community", "acute"]) & sp["discharge"].notna()].copy()
    d = d[(d["discharge"] >= period.start) & (d["discharge"] <= period.end)]
    d = d[d["age"] >= 65]
    d = d[~d["died"]]
    d = d[~d["destination"].isin(NOT_COMMUNITY | {"98"})]
    d = d[d["admission"].isna() | (d["admission"] < d["discharge"])]
    d = d[d["admission"].isna() | (d["admission"] >= pd.Timestamp("2023-04-01"))]
    test_day = d["admission"].fillna(d["discharge"] - pd.Timedelta(days=1))
    j = (
        d.assign(test_day=test_day)
        .reset_index()
        .merge(lts[["person_key", "start", "end"]], on="person_key", how="left")
    )
    inside = (j["test_day"] >= j["start"]) & (j["test_day"] <= j["end"])
    excluded = set(j.loc[inside, "index"])
    d = d[~d.index.isin(excluded)]
    # one discharge per person and day (APCS_Ident stand-in)
    d = (
        d.sort_values(["person_key", "discharge", "admission"])
        .groupby(["person_key", "discharge"], as_index=False)
        .agg(admission=("admission", "max"), age=("age", "max"), kind=("kind", "first"))
    )

    # stage 3: latest discharge from cluster start - 7 to + 3, admitted <= cluster start
    m = cl.merge(d, on="person_key")
    m = m[
        (m["discharge"] >= m["cluster_start"] - pd.Timedelta(days=BEFORE))
        & (m["discharge"] <= m["cluster_start"] + pd.Timedelta(days=AFTER))
        & (m["admission"].isna() | (m["admission"] <= m["cluster_start"]))
    ]
    linked = m.sort_values("discharge").groupby(["person_key", "cluster_start"]).tail(1)
    linked = linked.reset_index(drop=True)

    # stage 4: outcomes within 84 days of the discharge
    # readmission spells: a community hospital spell once discharged (Admission_Date <
    # Discharge_Date; SUS holds a spell from its discharge); every acute spell seen - by its
    # admission, or by its discharge when the admission is unseen
    community = sp["kind"] == "community"
    readm = sp[~community | (sp["discharge"].notna() & (sp["admission"] < sp["discharge"]))]
    rows = []
    for k in linked.itertuples():
        end84 = k.discharge + pd.Timedelta(days=FOLLOW_UP_2D)
        death = dod.get(k.person_key, pd.NaT)
        died = pd.notna(death) and k.discharge <= death <= end84
        r = readm[readm["person_key"] == k.person_key]
        known = r["admission"].notna()
        re_known = (
            known
            & (r["admission"] > k.cluster_start)
            & (r["admission"] > k.discharge)
            & (r["admission"] <= end84)
        )
        # an acute discharge with no admission seen: admitted after this discharge, and
        # after the cluster start unless discharged by it
        re_unknown = (
            ~known
            & (r["discharge"] > k.discharge)
            & (r["discharge"] > k.cluster_start)
            & (r["discharge"] <= end84)
        )
        readmitted = bool((re_known | re_unknown).any())
        placed = lts[lts["person_key"] == k.person_key]
        care_home = bool(((placed["start"] >= k.discharge) & (placed["start"] <= end84)).any())
        rows.append(
            {
                "person_key": k.person_key,
                "cluster_start": k.cluster_start,
                "discharge": k.discharge,
                "admission": k.admission,
                "age": k.age,
                "closed": int(end84 < pd.Timestamp(as_of)),
                "died": int(died),
                "readmitted": int(readmitted),
                "care_home": int(care_home),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "person_key", "cluster_start", "discharge", "admission", "age", "closed", "died",
            "readmitted", "care_home",
        ],
    )  # fmt: skip
    out["remained"] = ((out["died"] + out["readmitted"] + out["care_home"]) == 0).astype(int)
    return {"clusters": out, "discharges": d}


def ascof_2bc(tables: dict, period: Period) -> pd.DataFrame:
    """One run of Create_ASCOF2BC_2425_Onwards: the new admissions counted, one row per
    person (person_key, start, age, band)."""
    ce, person = tables["care_event"], tables["person"]
    dod = deaths(person, ce)
    cld = cld_cleaned(ce, dod, period.start, valid_end=False)
    build = cld[
        (cld["event_type"] == "service")
        & cld["service_category"].isin(RES_NURS)
        & pd.to_numeric(cld["age_at_event"], errors="coerce").notna()
    ].copy()
    build["age"] = pd.to_numeric(build["age_at_event"], errors="coerce")
    build["end_open"] = build["end_raw_open"]
    adm = build[
        (build["start"] >= period.start)
        & (build["start"] <= period.end)
        & (build["outcome"].isna() | (build["outcome"] != "self_funded"))
    ]
    keep = []
    for a in adm.itertuples():
        b = build[(build["person_key"] == a.person_key) & (build["start"] < a.start)]
        existing = (b["end_open"] | ((a.start - b["end"]).dt.days < NEW_LOOKBACK)).any()
        keep.append(not existing)
    new = adm[np.array(keep, dtype=bool)] if len(adm) else adm
    new = new[new["age"] >= 18]
    band = np.where(new["age"] <= 64, "18-64", "65+")
    per = (
        new.assign(band=band)
        .groupby("person_key", as_index=False)
        .agg(band=("band", "min"), start=("start", "min"), age=("age", "min"))
    )
    return per


def sts004(
    tables: dict, period: Period, *, as_of, spells: pd.DataFrame | None = None
) -> pd.DataFrame:
    """SALT STS004 reading: people 65+ discharged from an acute or community hospital into
    reablement / rehabilitation in the period; at home on day 91 unless dead, in a hospital
    bed or in residential / nursing care (a new placement, or a discharge to a care home)
    by then. Reablement / rehabilitation: DCC ST-Max (reablement or a bed) of service users,
    DCHS reablement (52) and home intermediate care (53); spells <= 7 days apart are one."""
    ce, person = tables["care_event"], tables["person"]
    dod = deaths(person, ce)
    u = ce[
        (
            (ce["organisation"] == "DCC")
            & (ce["event_type"] == "service")
            & (ce["client_type"] == "service_user")
            & ce["service_category"].isin(["reablement", "st_max_bed"])
        )
        | (
            (ce["organisation"] == "DCHS")
            & (ce["event_type"] == "referral")
            & ce["service_category"].isin(["reablement", "home_intermediate_care"])
        )
    ].copy()
    u["start"] = _day(u["start_date"])
    u["end"] = _day(u["end_date"]).fillna(FAR)
    u = u.dropna(subset=["start"])
    cl = clusters(u)
    sp = hospital_spells(ce) if spells is None else spells
    d = sp[sp["kind"].isin(["community", "acute"]) & sp["discharge"].notna()]
    d = d[~d["died"] & ~d["destination"].isin(NOT_COMMUNITY | {"98"})]
    d = d.groupby(["person_key", "discharge"], as_index=False).agg(
        admission=("admission", "max"), age=("age", "max")
    )
    m = cl.merge(d, on="person_key")
    m = m[
        (m["discharge"] >= m["cluster_start"] - pd.Timedelta(days=BEFORE))
        & (m["discharge"] <= m["cluster_start"] + pd.Timedelta(days=AFTER))
        & (m["admission"].isna() | (m["admission"] <= m["cluster_start"]))
    ]
    linked = m.sort_values("discharge").groupby(["person_key", "cluster_start"]).tail(1)
    linked = linked[(linked["discharge"] >= period.start) & (linked["discharge"] <= period.end)]
    linked = linked[linked["age"] >= 65]
    lts_all = ce[
        (ce["organisation"] == "DCC")
        & (ce["event_type"] == "service")
        & ce["service_category"].isin(RES_NURS)
    ]
    lstart, lend = _day(lts_all["start_date"]), _day(lts_all["end_date"]).fillna(FAR)
    p2 = tables["pathway2_stay"]
    rows = []
    for k in linked.itertuples():
        day91 = k.discharge + pd.Timedelta(days=STILL_AT_HOME)
        mine = (lts_all["person_key"] == k.person_key).to_numpy()
        # already living in a care home at the discharge: not discharged home for rehab
        if ((lstart[mine] < k.discharge) & (lend[mine] >= k.discharge)).any():
            continue
        death = dod.get(k.person_key, pd.NaT)
        died = pd.notna(death) and death <= day91
        s = sp[sp["person_key"] == k.person_key]
        in_ch = (
            (s["kind"] == "community")
            & (s["admission"] <= day91)
            & (s["discharge"].isna() | (s["discharge"] > day91))
        ).any()
        b = p2[p2["person_key"] == k.person_key]
        in_p2 = (
            (_day(b["episode_start"]) <= day91) & (_day(b["episode_end"]).fillna(FAR) > day91)
        ).any()
        care_home = bool(((lstart[mine] >= k.discharge) & (lstart[mine] <= day91)).any()) or bool(
            (
                (s["kind"] == "community")
                & s["destination"].isin(CARE_HOME_DEST)
                & (s["discharge"] >= k.discharge)
                & (s["discharge"] <= day91)
            ).any()
        )
        rows.append(
            {
                "person_key": k.person_key,
                "cluster_start": k.cluster_start,
                "discharge": k.discharge,
                "closed": int(day91 < pd.Timestamp(as_of)),
                "died": int(died),
                "in_bed": int(bool(in_ch or in_p2)),
                "care_home": int(care_home),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "person_key",
            "cluster_start",
            "discharge",
            "closed",
            "died",
            "in_bed",
            "care_home",
        ],
    )
    out["at_home"] = ((out["died"] + out["in_bed"] + out["care_home"]) == 0).astype(int)
    return out


def summary(tables: dict, *, as_of) -> pd.DataFrame:
    """Every period's figures: measure, period, numerator, denominator (closed windows only
    for 2D part 1 and STS004, as published)."""
    ce = tables["care_event"]
    first, last = _day(ce["start_date"]).min(), pd.Timestamp(as_of)
    rows = []
    for p in periods_between(first.date(), last.date()):
        r = ascof_2d(tables, p, as_of=as_of)
        c = r["clusters"]
        closed = c[c["closed"] == 1]
        rows.append(("ascof_2d", p, closed["remained"].sum(), len(closed)))
        rows.append(("ascof_2d_part2", p, len(c), len(r["discharges"])))
        s = sts004(tables, p, as_of=as_of)
        sc = s[s["closed"] == 1]
        rows.append(("still_at_home_91", p, sc["at_home"].sum(), len(sc)))
        if (p.end - p.start).days > 100:
            per = ascof_2bc(tables, p)
            rows.append(("ascof_2b_admissions_18_64", p, int((per["band"] == "18-64").sum()), None))
            rows.append(("ascof_2c_admissions_65_plus", p, int((per["band"] == "65+").sum()), None))
    out = pd.DataFrame(rows, columns=["measure_id", "period", "numerator", "denominator"])
    out["period_start"] = [p.start for p in out["period"]]
    out["period_end"] = [p.end for p in out["period"]]
    return out.drop(columns="period")
