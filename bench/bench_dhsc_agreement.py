"""Our measures against an independent reading of DHSC's rules (``bench/dhsc_reference.py``).

    python bench/bench_dhsc_agreement.py [--people 20000] [--seed 42] [--days 3]
                                         [--data-root DIR] [--via nights|build]
                                         [--identities linked|truth]

Generates the synthetic sources (``python -m transforms.synthetic``) unless
``--data-root/syn<N>_s<seed>_d<days>`` holds them. ``--via nights`` (the default) runs every
night through the nightly runner (``transforms.ops.stage_runner.run_night``: extract,
validate, pseudonymise with a bench-only key, link, build, publish) into a DuckDB warehouse
and reads what it published; ``--via build`` builds the tables in memory the way
``bench_fidelity.py`` does (no validation), with linked or true identities
(``--identities``). Then, for ASCOF 2D parts 1 and 2 (every quarter and financial year),
ASCOF 2B / 2C counts (every financial year) and still-at-home-91 (STS004 reading), prints
ours (``sql/measures``) beside the reference, the reference under other readings of the
SUS stand-in, and every cluster, discharge or admission on one side only or with different
outcomes. Exit 1 when any unit differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import dhsc_reference  # noqa: E402

MEASURES = (
    "ascof_2d", "ascof_2d_part2", "ascof_2b_admissions_18_64", "ascof_2c_admissions_65_plus",
    "still_at_home_91",
)  # fmt: skip
#: Per measure: the CTE of our SQL with one row per counted unit, and its key columns.
UNITS = {
    "ascof_2d": ("flags", ["person_key", "cluster_start"]),
    "ascof_2d_part2": ("provision", ["person_key", "discharge"]),
    "still_at_home_91": ("outcomes", ["person_key", "discharge"]),
    "ascof_2bc": ("ascof_2bc_per_person", ["person_key"]),
}


BENCH_KEY = "8c1f4e2a9b7d3c6e5f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4"  # bench only


def nightly_tables(data: Path, work: Path, *, first: date, days: int) -> dict[str, pd.DataFrame]:
    """Run every night into a fresh DuckDB warehouse under ``work``; its published tables."""
    import shutil

    import duckdb

    from transforms.config import Settings
    from transforms.keys import key_from_material
    from transforms.ops.stage_runner import night_context, run_night

    shutil.rmtree(work, ignore_errors=True)
    settings = Settings(
        data_dir=work,
        warehouse_url=f"duckdb:///{work / 'warehouse.duckdb'}",
        dcc_url=f"sqlite:///{data / 'dcc.sqlite'}",
        dchs_drop_dir=data / "dchs",
        named_ground_truth=data / "truth.parquet",
    )
    key = key_from_material(BENCH_KEY)
    for i in range(days):
        ctx = night_context(settings, first + timedelta(days=i), full_refresh=(i == 0))
        run_night(ctx, key, isolate=False)
    con = duckdb.connect(str(work / "warehouse_dashboard.duckdb"), read_only=True)
    try:
        return {
            name: con.execute(f"select * from shared_care.{name}").df()
            for name in ("person", "care_event", "pathway2_stay", "metric")
        }
    finally:
        con.close()


def published_tables(data: Path, *, as_of: date, identities: str) -> dict[str, pd.DataFrame]:
    from bench_fidelity import link, tokens_zone

    from transforms.ops.fidelity import build_all, truth_keys

    records, events = tokens_zone(data, contacts=False)
    if identities == "truth":
        keys = truth_keys(pd.read_parquet(data / "truth.parquet"))
    else:
        keys, _ = link(records, night=as_of)
    built = build_all(records, events, keys, as_of=as_of)
    return {k: built[k] for k in ("person", "care_event", "pathway2_stay", "metric")}


def cte_rows(tables: dict, measure_id: str, cte: str, *, as_of) -> pd.DataFrame:
    """The rows of one CTE of ``sql/measures/<measure_id>.sql`` (the file cut after it), or of
    the shared relation ``cte`` (``sql/measures/shared/<cte>.sql``)."""
    import duckdb

    from transforms.tables import measure_sql

    if cte in measure_sql.SHARED:
        body = ""
    else:
        sql = measure_sql.measure_sql(measure_id)
        heads = [m for m in re.finditer(r"^(\w+) as \($", sql, flags=re.M)]
        names = [m.group(1) for m in heads]
        nxt = names.index(cte) + 1
        cut = heads[nxt].start() if nxt < len(heads) else re.search(r"^select ", sql, re.M).start()
        body = sql[:cut]
        body = body[: body.rstrip().rfind(")") + 1]
    con = duckdb.connect()
    try:
        for name in measure_sql.PUBLISHED:
            measure_sql._register_dated(con, name, tables[name])
        con.register("params", measure_sql.params_frame(as_of, has_population=False))
        con.register("population", measure_sql.population_frame(None))
        measure_sql.create_shared_views(con)
        out = con.execute(f"{body}\nselect * from {cte}").df()
    finally:
        con.close()
    for c in ("cluster_start", "discharge", "start"):
        if c in out.columns:
            out[c] = pd.to_datetime(out[c])
    return out


def _in(frame: pd.DataFrame, col: str, p: dhsc_reference.Period) -> pd.DataFrame:
    return frame[(frame[col] >= p.start) & (frame[col] <= p.end)]


def compare(tables: dict, *, as_of: date) -> tuple[pd.DataFrame, list[str]]:
    """(figures: measure, period, ours and reference numerator / denominator, difference in
    pp; the differing units, one line each)."""
    metric = tables["metric"]
    metric = metric[metric["breakdown"] == "all"].copy()
    for c in ("period_start", "period_end"):
        metric[c] = pd.to_datetime(metric[c])
    ours_2d = cte_rows(tables, "ascof_2d", "flags", as_of=as_of)
    ours_p2 = cte_rows(tables, "ascof_2d_part2", "provision", as_of=as_of)
    ours_91 = cte_rows(tables, "still_at_home_91", "outcomes", as_of=as_of)
    ours_2b = cte_rows(tables, "ascof_2b_admissions_18_64", "ascof_2bc_per_person", as_of=as_of)
    first = pd.to_datetime(tables["care_event"]["start_date"]).min().date()
    rows, diffs = [], []
    for p in dhsc_reference.periods_between(first, as_of):
        d2 = dhsc_reference.ascof_2d(tables, p, as_of=as_of)
        ref_cl, ref_dis = d2["clusters"], d2["discharges"]
        ref_91 = dhsc_reference.sts004(tables, p, as_of=as_of)
        closed = ref_cl[ref_cl["closed"] == 1]
        closed91 = ref_91[ref_91["closed"] == 1]
        ref = {
            "ascof_2d": (closed["remained"].sum(), len(closed)),
            "ascof_2d_part2": (len(ref_cl), len(ref_dis)),
            "still_at_home_91": (closed91["at_home"].sum(), len(closed91)),
        }
        yearly = (p.end - p.start).days > 100
        if yearly:
            per = dhsc_reference.ascof_2bc(tables, p)
            ref["ascof_2b_admissions_18_64"] = (int((per["band"] == "18-64").sum()), None)
            ref["ascof_2c_admissions_65_plus"] = (int((per["band"] == "65+").sum()), None)
        for mid in MEASURES:
            if mid not in ref:
                continue
            hit = metric[
                (metric["measure_id"] == mid)
                & (metric["period_start"] == p.start)
                & (metric["period_end"] == p.end)
            ]
            on, od = (hit["numerator"].iloc[0], hit["denominator"].iloc[0]) if len(hit) else (0, 0)
            on = 0 if pd.isna(on) else on
            rn, rd = ref[mid]
            rows.append(
                {
                    "measure_id": mid,
                    "period": p.label,
                    "status": hit["status"].iloc[0] if len(hit) else "-",
                    "ours_num": on,
                    "ours_den": od,
                    "ref_num": rn,
                    "ref_den": rd,
                }
            )
        # unit lists
        o = _in(ours_2d, "discharge", p)
        o = o[o["closed"] == 1]
        diffs += _unit_diff(
            "ascof_2d", p, o, closed, ["person_key", "cluster_start"],
            ["discharge", "died", "readmitted", "care_home"],
        )  # fmt: skip
        diffs += _unit_diff(
            "ascof_2d_part2", p, _in(ours_p2, "discharge", p), ref_dis,
            ["person_key", "discharge"], [],
        )  # fmt: skip
        o = _in(ours_91, "discharge", p)
        diffs += _unit_diff(
            "still_at_home_91", p, o[o["closed"] == 1], closed91,
            ["person_key", "discharge"], ["died", "in_bed", "care_home"],
        )  # fmt: skip
        if yearly:
            o = ours_2b[pd.to_datetime(ours_2b["period_start"]) == p.start]
            diffs += _unit_diff("ascof_2b/2c", p, o, per, ["person_key"], ["band"])
    out = pd.DataFrame(rows)
    num = lambda n, d: n / d if d else float("nan")  # noqa: E731
    out["ours"] = [num(n, d) for n, d in zip(out["ours_num"], out["ours_den"], strict=True)]
    out["ref"] = [num(n, d) for n, d in zip(out["ref_num"], out["ref_den"], strict=True)]
    out["diff_pp"] = 100 * (out["ours"] - out["ref"])
    return out, diffs


def _unit_diff(mid, p, ours, ref, key, flags) -> list[str]:
    o = ours[key + flags].drop_duplicates(key)
    r = ref[key + flags].drop_duplicates(key)
    m = o.merge(r, on=key, how="outer", suffixes=("_ours", "_ref"), indicator="side")
    lines = []
    for row in m.itertuples(index=False):
        rec = row._asdict()
        ident = " ".join(
            f"{k}={rec[k]:%Y-%m-%d}" if isinstance(rec[k], pd.Timestamp) else f"{k}={rec[k]}"
            for k in key
        )
        if rec["side"] != "both":
            side = "ours only" if rec["side"] == "left_only" else "reference only"
            lines.append(f"{mid} {p.label} {side}: {ident}")
            continue
        bad = [
            f"{f} ours={rec[f + '_ours']} ref={rec[f + '_ref']}"
            for f in flags
            if str(rec[f + "_ours"]) != str(rec[f + "_ref"])
            and not (f == "discharge" and pd.Timestamp(rec[f + "_ours"]) == rec[f + "_ref"])
        ]
        if bad:
            lines.append(f"{mid} {p.label} differs: {ident}: " + "; ".join(bad))
    return lines


def stand_in_sensitivity(tables: dict, *, as_of: date) -> list[str]:
    """The reference's ASCOF 2D FY 2025/26 and STS004 Oct-Dec 2025 under other SUS
    stand-ins: where a reading of 'hospital discharge' other than the reference's lands."""
    fy = dhsc_reference.Period(pd.Timestamp("2025-04-01"), pd.Timestamp("2026-03-31"))
    q3 = dhsc_reference.Period(pd.Timestamp("2025-10-01"), pd.Timestamp("2025-12-31"))
    ce = tables["care_event"]
    base = dhsc_reference.hospital_spells(ce)
    dcc_req = (ce["organisation"] == "DCC") & (ce["event_type"] == "request")
    dchs_ref = (ce["organisation"] == "DCHS") & (ce["event_type"] == "referral")
    from_hospital = ce["route_of_access"] == "discharge_from_hospital"
    variants = {
        "the reference": base,
        "community hospital spells not SUS spells": base[base["kind"] != "community"],
        "acute discharges need an admission seen": base[
            (base["kind"] != "acute") | base["admission"].notna()
        ],
        "DCC requests not discharge evidence": dhsc_reference.hospital_spells(
            ce[~(dcc_req & from_hospital)]
        ),
        "DCHS referrals not discharge evidence": dhsc_reference.hospital_spells(
            ce[~(dchs_ref & from_hospital)]
        ),
    }
    lines = []
    for name, spells in variants.items():
        c = dhsc_reference.ascof_2d(tables, fy, as_of=as_of, spells=spells)["clusters"]
        s = dhsc_reference.sts004(tables, q3, as_of=as_of, spells=spells)
        f2d = f"{100 * c['remained'].mean():5.1f}% ({c['remained'].sum()}/{len(c)})"
        f91 = f"{100 * s['at_home'].mean():5.1f}% ({s['at_home'].sum()}/{len(s)})"
        lines.append(f"{name:42s} 2D FY 2025/26 {f2d:18s} STS004 Oct-Dec 2025 {f91}")
    return lines


def main() -> int:
    from bench_fidelity import ensure_data

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--via", choices=("nights", "build"), default="nights")
    ap.add_argument(
        "--identities", choices=("linked", "truth"), default="linked", help="with --via build"
    )
    args = ap.parse_args()
    root = args.data_root or Path(tempfile.mkdtemp(prefix="bench_dhsc_"))
    root.mkdir(parents=True, exist_ok=True)
    data = ensure_data(root, args.people, args.seed, args.days)
    meta = json.loads((data / "generation.json").read_text())
    first = date.fromisoformat(str(meta["args"].get("first_night", "2026-11-01")))
    as_of = first + timedelta(days=args.days - 1)
    if args.via == "nights":
        work = root / f"nights{args.people}_s{args.seed}_d{args.days}"
        tables = nightly_tables(data, work, first=first, days=args.days)
        how = "the nights' published tables"
    else:
        tables = published_tables(data, as_of=as_of, identities=args.identities)
        how = f"an in-memory build, {args.identities} identities"
    figures, diffs = compare(tables, as_of=as_of)
    print(
        f"\n=== {args.people:,} people, seed {args.seed}, {args.days} night(s), as of {as_of}, "
        f"{how}: ours (sql/measures) vs the DHSC reference ==="
    )
    for r in figures.itertuples():
        if r.ref_den is None or pd.isna(r.ref_den):
            print(
                f"  {r.measure_id:28s} {r.period} {r.status:15s} ours {r.ours_num:5.0f}   "
                f"reference {r.ref_num:5.0f}   {'=' if r.ours_num == r.ref_num else 'DIFFERS'}"
            )
            continue
        fo = "   -  " if pd.isna(r.ours) else f"{100 * r.ours:5.1f}%"
        fr = "   -  " if pd.isna(r.ref) else f"{100 * r.ref:5.1f}%"
        dd = "     -" if pd.isna(r.diff_pp) else f"{r.diff_pp:+5.2f} pp"
        print(
            f"  {r.measure_id:28s} {r.period} {r.status:15s} ours {fo} ({r.ours_num:.0f}/"
            f"{r.ours_den:.0f})  reference {fr} ({r.ref_num:.0f}/{r.ref_den:.0f})  {dd}"
        )
    print("\nthe reference under other SUS stand-ins (sensitivity, not a comparison):")
    for line in stand_in_sensitivity(tables, as_of=as_of):
        print("  " + line)
    print(f"\ndiffering units: {len(diffs)}")
    for line in diffs:
        print("  " + line)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
