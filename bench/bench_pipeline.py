"""Whole-pipeline benchmark: a full night and incremental nights at county scale.

    .venv/bin/python bench/bench_pipeline.py                          # Derbyshire: 800,000
    .venv/bin/python bench/bench_pipeline.py --people 20000           # small
    .venv/bin/python bench/bench_pipeline.py --people 200000 800000   # scaling exponents
    .venv/bin/python bench/bench_pipeline.py --people 20000 \\
        --warehouse-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

For each ``--people`` scale, in a child process of its own (so peak memory is that
scale's alone):

1. generate the synthetic sources (``python -m transforms.synthetic``; reused when
   ``--work`` already holds them for the same arguments);
2. run night 0 as a full refresh, then every further night as a normal incremental
   night, through ``transforms.ops.stage_runner.run_night`` (the DAG's step functions, in
   order, in this process): wall time, CPU time and peak RSS of every stage, and rows/s
   over the rows the stage handled;
3. report the incremental nights' change fraction (person records re-sent or new, and
   landed rows, against the state they are folded into);
4. on night 0's records, the clear-text Splink baseline and our model over tokens,
   timed alike (``bench/cleartext_baseline.py``, each in its own child), with pairwise
   F1 against ``truth.parquet``; the same child times ``pseudonymise_persons``;
5. optionally replay night 0's publish into a fresh PostgreSQL database
   (``--pg-publish-url``) to measure COPY throughput while the run itself uses DuckDB.

Then a targets table (met / not met) per scale, the scaling exponent of every stage
between the smallest and the largest scale (log time ratio / log people ratio), and a
JSON of every figure (``--json``; default ``WORK/bench_pipeline.json``).

Derbyshire mapping (see bench/README.md): ``--people 800000`` gives ~600,000 DCHS
patients (75%) and ~150,000 DCC person records (18.6 per 100 people); with the
generator's default 540 days of history (``--history-days``) the sources hold ~10
million events (8.3 events per person-year, 88% of them DCHS care contacts). A
365-day history gives ~6.6 million.

The warehouse is a DuckDB file under ``--work`` unless ``--warehouse-url`` names a
PostgreSQL server: then each scale gets a fresh database ``care_bench_<people>_<hex>``
on it, dropped afterwards (``--keep`` keeps it). The bench never writes into the
database the URL names.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_linkage import BENCH_KEY  # noqa: E402

log = logging.getLogger("bench_pipeline")

DERBYSHIRE_PEOPLE = 800_000
TARGETS = {
    "full_night_wall_s": 600.0,
    "full_night_peak_mb": 8 * 1024.0,
    "incremental_wall_s": 90.0,
    "linkage_ratio": 1.5,
    "pseudonymise_records_per_s": 500_000.0,
    "publish_pg_rows_per_s": 200_000.0,
}
STAGES = [
    "prepare",
    "extract_dcc",
    "extract_dchs",
    "validate",
    "pseudonymise",
    "link",
    "build",
    "publish",
]


# ------------------------------------------------------------------------- sources
def generate_sources(out: Path, args: dict) -> dict:
    """Run the generator unless ``out`` already holds its output for these arguments."""
    wanted = {
        "people": args["people"],
        "days": args["nights"],
        "seed": args["seed"],
        "history_days": args["history_days"],
        "rates": sorted(args["rates"]),
    }
    stamp = out / "bench_args.json"
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        meta = json.loads((out / "generation.json").read_text())
        return {"reused": True, "wall_s": None, "meta": meta}
    cmd = [
        sys.executable, "-m", "transforms.synthetic", "--people", str(args["people"]),
        "--days", str(args["nights"]), "--seed", str(args["seed"]),
        "--history-days", str(args["history_days"]), "--out", str(out),
        "--workers", str(args["gen_workers"]),
    ]  # fmt: skip
    if args["rates"]:
        cmd += ["--rates", *args["rates"]]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    stamp.write_text(json.dumps(wanted))
    return {
        "reused": False,
        "wall_s": wall,
        "meta": json.loads((out / "generation.json").read_text()),
    }


def source_volumes(meta: dict, history_days: int) -> dict:
    """Who and how much is in the sources (all nights)."""
    c = meta["counts"]
    dchs = c["dchs"]
    events = (
        c["dcc"]["event"]
        + dchs["referral.csv"]
        + dchs["care_contact.csv"]
        + dchs["inpatient_spell.csv"]
    )
    return {
        "people": meta["args"]["people"] if "args" in meta else None,
        "dchs_patients": c["truth"]["dchs"],
        "dcc_persons": c["truth"]["dcc"],
        "dcc_events": c["dcc"]["event"],
        "dchs_referrals": dchs["referral.csv"],
        "dchs_care_contacts": dchs["care_contact.csv"],
        "dchs_inpatient_spells": dchs["inpatient_spell.csv"],
        "events": events,
        "events_per_year": events * 365.0 / (history_days + len(meta["nights"])),
        "nights": meta["nights"],
    }


# ----------------------------------------------------------------------- warehouse
@contextmanager
def warehouse(url: str | None, data_dir: Path, people: int, keep: bool):
    """The warehouse URL for one scale: a DuckDB file, or a fresh PostgreSQL database."""
    if not url or url.startswith("duckdb"):
        yield url or f"duckdb:///{data_dir / 'warehouse.duckdb'}", "duckdb"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"care_bench_{people}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False), "postgresql"
    finally:
        if keep:
            print(f"kept PostgreSQL database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


# --------------------------------------------------------------------------- nights
#: The build summary's table counts (it also holds persons_both and care-event figures).
BUILT_TABLES = ["person", "person_conflict", "care_event", "pathway2_stay", "metric"]


def stage_rows(stage: str, result: dict, landed: int) -> int | None:
    """Rows a stage handled, for rows/s (None when it has no meaningful row count)."""
    if stage in ("extract_dcc", "extract_dchs"):
        return int(sum(result.get("rows", {}).values()))
    if stage in ("validate", "pseudonymise"):
        return landed
    if stage == "link":
        return int(result.get("active_records", 0))
    if stage == "build":
        return int(sum(result.get(name, 0) for name in BUILT_TABLES))
    if stage in ("publish", "publish_pg"):
        return int(sum(result.get("published", {}).values()))
    return None


def run_one_night(ctx, key, isolate: bool = True) -> tuple[list, str | None, str | None]:
    """``run_night`` with the figures of the stages that finished, if one fails."""
    from transforms.ops import stage_runner

    try:
        return stage_runner.run_night(ctx, key, isolate=isolate), None, None
    except stage_runner.NightFailed as exc:  # the bench reports the failure and goes on
        log.error("night %s failed in stage %s: %s", ctx.night, exc.stage, exc.error)
        return exc.figures, exc.stage, exc.error


def night_figures(figs: list) -> list[dict]:
    landed = 0
    rows = []
    for f in figs:
        if f.stage in ("extract_dcc", "extract_dchs"):
            landed += int(sum(f.result.get("rows", {}).values()))
        n = None if f.result.get("failed") else stage_rows(f.stage, f.result, landed)
        rows.append(
            {
                "stage": f.stage,
                "wall_s": f.wall_s,
                "cpu_s": f.cpu_s,
                "peak_rss_mb": f.peak_rss_mb,
                "rows": n,
                "rows_per_s": n / f.wall_s if n and f.wall_s > 0 else None,
                "failed": bool(f.result.get("failed")),
            }
        )
    return rows


def change_fraction(ctx, figs: list) -> dict:
    """How much of the state tonight touched."""
    out: dict = {}
    tokens = ctx.tokens_dir
    if (tokens / "changed.parquet").exists() and (tokens / "person_record.parquet").exists():
        import pyarrow.parquet as pq

        changed = pq.read_metadata(tokens / "changed.parquet").num_rows
        people = pq.read_metadata(tokens / "person_record.parquet").num_rows
        events = pq.read_metadata(tokens / "source_event.parquet").num_rows
        out.update(
            {
                "person_records_changed": changed,
                "person_records": people,
                "person_change_fraction": changed / people if people else None,
                "events_in_state": events,
            }
        )
    landed = {
        f.stage: int(sum(f.result.get("rows", {}).values()))
        for f in figs
        if f.stage in ("extract_dcc", "extract_dchs")
    }
    if landed:
        out["rows_landed"] = sum(landed.values())
        if out.get("events_in_state") and out.get("person_records"):
            out["row_change_fraction"] = out["rows_landed"] / (
                out["events_in_state"] + out["person_records"]
            )
    return out


def replay_publish_pg(ctx, figures: list, pg_url: str, people: int, keep: bool) -> dict:
    """Night ``ctx``'s publish again (``figures``: that night's stages), into a fresh
    PostgreSQL database (COPY rows/s)."""
    from dataclasses import replace

    from transforms.nightly.stages.publish import publish
    from transforms.ops import stage_runner
    from transforms.warehouse.db import ensure_schema, make_engine

    with warehouse(pg_url, ctx.settings.data_dir, people, keep) as (url, _):
        engine = make_engine(url)
        ensure_schema(engine)
        engine.dispose()
        pg_ctx = replace(ctx, settings=replace(ctx.settings, warehouse_url=url))
        inputs = stage_runner.publish_inputs(figures)
        f = stage_runner.measure("publish_pg", lambda: publish(pg_ctx, *inputs))
    n = stage_rows("publish_pg", f.result, 0)
    return {
        "stage": "publish_pg",
        "wall_s": f.wall_s,
        "cpu_s": f.cpu_s,
        "peak_rss_mb": f.peak_rss_mb,
        "rows": n,
        "rows_per_s": n / f.wall_s if n and f.wall_s > 0 else None,
    }


def linkage_comparison(ctx0, truth_path: Path, work: Path, memory_limit: str | None) -> dict:
    """Baseline vs ours on night 0's active person records (its landing, its tokens)."""
    import cleartext_baseline as cb

    people = pd.read_parquet(
        ctx0.tokens_dir / "person_record.parquet",
        columns=["source", "source_record_id", "record_status"],
    )
    ids = people[people["record_status"] != "Merged"][["source", "source_record_id"]]
    std = cb.standardised_from_landing(ctx0.landing_dir)
    truth = pd.read_parquet(truth_path)
    return cb.compare(std, truth, work, active_ids=ids, memory_limit=memory_limit)


def run_scale(args: dict) -> dict:
    """Everything for one ``--people`` scale (runs in its own process)."""
    from transforms.config import Settings
    from transforms.keys import key_from_material
    from transforms.ops.stage_runner import night_context

    people = args["people"]
    work = Path(args["work"])
    sources = Path(args["sources"]) if args.get("sources") else work / f"sources_{people}"
    print(f"\n=== {people:,} people: generating sources in {sources} ===", flush=True)
    gen = generate_sources(sources, args)
    volumes = source_volumes(gen["meta"], args["history_days"])
    print(
        f"sources: {volumes['dchs_patients']:,} DCHS patients, {volumes['dcc_persons']:,} DCC "
        f"person records, {volumes['events']:,} events ({volumes['events_per_year']:,.0f}/year)"
        + (f"; generated in {gen['wall_s']:.1f}s" if gen["wall_s"] else " (reused)"),
        flush=True,
    )
    data_dir = work / f"run_{people}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    key = key_from_material(BENCH_KEY)
    result: dict = {
        "people": people,
        "generator": {"wall_s": gen["wall_s"], "reused": gen["reused"]},
        "sources": volumes,
        "nights": [],
    }
    with warehouse(args["warehouse_url"], data_dir, people, args["keep"]) as (url, backend):
        result["warehouse"] = backend
        settings = Settings(
            data_dir=data_dir,
            warehouse_url=url,
            dcc_url=f"sqlite:///{sources / 'dcc.sqlite'}",
            dchs_drop_dir=sources / "dchs",
            named_ground_truth=sources / "truth.parquet",
        )
        contexts, first_figures = [], []
        for i, night in enumerate(volumes["nights"]):
            ctx = night_context(settings, date.fromisoformat(night), full_refresh=(i == 0))
            contexts.append(ctx)
            kind = "full" if i == 0 else "incremental"
            print(f"--- night {i} ({night}, {kind}) ---", flush=True)
            figs, failed, error = run_one_night(ctx, key, isolate=not args.get("one_process"))
            first_figures = first_figures or figs
            rows = night_figures(figs)
            entry = {
                "night": night,
                "kind": kind,
                "stages": rows,
                "failed_stage": failed,
                "error": error,
                "wall_s": sum(r["wall_s"] for r in rows),
                "cpu_s": sum(r["cpu_s"] for r in rows),
                "peak_rss_mb": max((r["peak_rss_mb"] for r in rows), default=0.0),
                "change": change_fraction(ctx, figs) if i > 0 else None,
            }
            link = next((f.result for f in figs if f.stage == "link"), {})
            entry["link_summary"] = {
                k: v for k, v in link.items() if isinstance(v, int | float) and k != "report"
            }
            result["nights"].append(entry)
            print_night(entry)
            if failed:
                print(f"night {night} FAILED in {failed}: {error}; later nights skipped")
                break
        night0 = result["nights"][0]
        done0 = {r["stage"] for r in night0["stages"] if not r.get("failed")}
        if args["pg_publish_url"] and "publish" in done0 and backend == "duckdb":
            print("--- night 0 publish replayed into PostgreSQL ---", flush=True)
            result["publish_pg"] = replay_publish_pg(
                contexts[0], first_figures, args["pg_publish_url"], people, args["keep"]
            )
            print_stage(result["publish_pg"])
    if not args["no_baseline"] and "pseudonymise" in done0:
        print("--- linkage: clear-text baseline vs ours on night 0's records ---", flush=True)
        import cleartext_baseline as cb

        cmp = linkage_comparison(
            contexts[0], sources / "truth.parquet", work / f"linkage_{people}", args["memory_limit"]
        )
        link0 = next(
            (r for r in night0["stages"] if r["stage"] == "link" and not r.get("failed")), None
        )
        if link0:
            cmp["link_stage_wall_s"] = link0["wall_s"]
            cmp["link_stage_ratio"] = link0["wall_s"] / cmp["baseline"]["wall_s"]
        result["linkage"] = cmp
        cb.print_comparison(cmp)
        if link0:
            print(
                f"  night 0 link stage (deterministic + Splink + person index + report) "
                f"{link0['wall_s']:.1f}s = {cmp['link_stage_ratio']:.2f}x the baseline"
            )
    result["targets"] = targets(result)
    result["peak_rss_mb_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not args["keep"]:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


# -------------------------------------------------------------------------- reports
def print_stage(r: dict) -> None:
    rate = f"{r['rows_per_s']:>12,.0f}" if r["rows_per_s"] else f"{'-':>12}"
    rows = f"{r['rows']:>12,}" if r["rows"] is not None else f"{'-':>12}"
    print(
        f"  {r['stage']:13s} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} {r['peak_rss_mb']:9,.0f} "
        f"{rows} {rate}" + ("  FAILED" if r.get("failed") else "")
    )


def print_night(entry: dict) -> None:
    print(f"  {'stage':13s} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'rows':>12} {'rows/s':>12}")
    for r in entry["stages"]:
        print_stage(r)
    print(
        f"  {'night total':13s} {entry['wall_s']:8.1f} {entry['cpu_s']:8.1f} "
        f"{entry['peak_rss_mb']:9,.0f}"
    )
    ch = entry.get("change")
    if ch:
        frac = ch.get("person_change_fraction")
        rows = ch.get("row_change_fraction")
        print(
            f"  change: {ch.get('person_records_changed', 0):,} of "
            f"{ch.get('person_records', 0):,} person records "
            f"({(frac or 0) * 100:.2f}%), {ch.get('rows_landed', 0):,} rows landed "
            f"({(rows or 0) * 100:.2f}% of the state's person + event rows)"
        )


def targets(result: dict) -> list[dict]:
    """Each target: value, threshold and met / not met / not measured."""
    nights = result["nights"]
    full = nights[0] if nights else None
    incs = [n for n in nights[1:]]
    full_ok = bool(full) and not full["failed_stage"]
    rows: list[dict] = []

    def add(name, value, limit, op, unit, note=""):
        if value is None:
            status = "not measured"
        else:
            status = "met" if (value <= limit if op == "<=" else value >= limit) else "NOT met"
        rows.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "op": op,
                "unit": unit,
                "status": status,
                "note": note,
            }
        )

    add(
        "full night wall",
        full["wall_s"] if full_ok else None,
        TARGETS["full_night_wall_s"],
        "<=",
        "s",
        "" if full_ok else f"night 0 failed in {full and full['failed_stage']}",
    )
    add(
        "full night peak memory",
        full["peak_rss_mb"] if full_ok else None,
        TARGETS["full_night_peak_mb"],
        "<=",
        "MB",
    )
    inc_ok = [n for n in incs if not n["failed_stage"]]
    add(
        "incremental night wall (slowest)",
        max(n["wall_s"] for n in inc_ok) if inc_ok else None,
        TARGETS["incremental_wall_s"],
        "<=",
        "s",
        "change fraction "
        + ", ".join(
            f"{(n['change'] or {}).get('person_change_fraction', 0) * 100:.2f}%" for n in inc_ok
        )
        if inc_ok
        else "no incremental night completed",
    )
    lk = result.get("linkage")
    if lk and "ours" in lk:
        f1_ok = lk["ours"]["f1"]["f1"] >= lk["baseline"]["f1"]["f1"]
        note = (
            f"F1 ours {lk['ours']['f1']['f1']:.5f} vs baseline {lk['baseline']['f1']['f1']:.5f}"
            f" ({'>=' if f1_ok else '<'})"
        )
        ratio = lk.get("link_stage_ratio")
        add(
            "linkage time / baseline (night 0 link stage)",
            ratio,
            TARGETS["linkage_ratio"],
            "<=",
            "x",
            note,
        )
        add(
            "linkage time / baseline (model only, same harness)",
            lk["time_ratio"],
            TARGETS["linkage_ratio"],
            "<=",
            "x",
            note,
        )
        if not f1_ok:
            for r in rows[-2:]:
                r["status"] = "NOT met"
        add(
            "pseudonymisation",
            lk["ours"]["pseudonymise_records_per_s"],
            TARGETS["pseudonymise_records_per_s"],
            ">=",
            "records/s",
            f"pseudonymise_persons on {lk['ours']['pseudonymise_records']:,} person records, "
            f"median of {len(lk['ours'].get('pseudonymise_runs_s', [0]))} runs",
        )
    else:
        add(
            "linkage time / baseline", None, TARGETS["linkage_ratio"], "<=", "x", "baseline not run"
        )
        add("pseudonymisation", None, TARGETS["pseudonymise_records_per_s"], ">=", "records/s")
    pg = result.get("publish_pg")
    if pg is None and result.get("warehouse") == "postgresql" and full_ok:
        pg = next(r for r in full["stages"] if r["stage"] == "publish")
    add(
        "publish to PostgreSQL",
        pg["rows_per_s"] if pg else None,
        TARGETS["publish_pg_rows_per_s"],
        ">=",
        "rows/s",
        f"night 0, {pg['rows']:,} rows" if pg else "warehouse was DuckDB (use --pg-publish-url)",
    )
    return rows


def print_targets(result: dict) -> None:
    people = result["people"]
    scale = "" if people >= DERBYSHIRE_PEOPLE else f" (targets are for {DERBYSHIRE_PEOPLE:,})"
    print(f"\ntargets at {people:,} people{scale}:")
    for t in result["targets"]:
        v = t["value"]
        shown = "-" if v is None else (f"{v:,.2f}" if t["unit"] == "x" else f"{v:,.1f}")
        print(
            f"  {t['target']:52s} {shown:>14} {t['unit']:9s} {t['op']} {t['limit']:>10,g}  "
            f"{t['status']:12s} {t['note']}"
        )


def exponent(a: float | None, b: float | None, n_a: int, n_b: int) -> float | None:
    if not a or not b or a <= 0 or b <= 0 or n_a == n_b:
        return None
    return math.log(b / a) / math.log(n_b / n_a)


def scaling(results: list[dict]) -> list[dict]:
    """Per stage and night kind: time and memory at the smallest and largest scale, and
    the exponent k in t ~ people^k."""
    small, large = results[0], results[-1]
    rows = []
    for kind, idx in (("full", 0), ("incremental", 1)):
        if len(small["nights"]) <= idx or len(large["nights"]) <= idx:
            continue
        a = {r["stage"]: r for r in small["nights"][idx]["stages"] if not r.get("failed")}
        b = {r["stage"]: r for r in large["nights"][idx]["stages"] if not r.get("failed")}
        for stage in [s for s in STAGES if s in a and s in b]:
            rows.append(
                {
                    "night": kind,
                    "stage": stage,
                    "wall_s": [a[stage]["wall_s"], b[stage]["wall_s"]],
                    "cpu_s": [a[stage]["cpu_s"], b[stage]["cpu_s"]],
                    "peak_rss_mb": [a[stage]["peak_rss_mb"], b[stage]["peak_rss_mb"]],
                    "time_exponent": exponent(
                        a[stage]["wall_s"], b[stage]["wall_s"], small["people"], large["people"]
                    ),
                    "cpu_exponent": exponent(
                        a[stage]["cpu_s"], b[stage]["cpu_s"], small["people"], large["people"]
                    ),
                    "memory_exponent": exponent(
                        a[stage]["peak_rss_mb"],
                        b[stage]["peak_rss_mb"],
                        small["people"],
                        large["people"],
                    ),
                }
            )
    for side in ("baseline", "ours"):
        la, lb = small.get("linkage", {}).get(side), large.get("linkage", {}).get(side)
        if la and lb:
            rows.append(
                {
                    "night": "full",
                    "stage": f"linkage {side}",
                    "wall_s": [la["wall_s"], lb["wall_s"]],
                    "cpu_s": [la.get("cpu_s"), lb.get("cpu_s")],
                    "peak_rss_mb": [la["peak_rss_mb"], lb["peak_rss_mb"]],
                    "time_exponent": exponent(
                        la["wall_s"], lb["wall_s"], small["people"], large["people"]
                    ),
                    "cpu_exponent": exponent(
                        la.get("cpu_s"), lb.get("cpu_s"), small["people"], large["people"]
                    ),
                    "memory_exponent": exponent(
                        la["peak_rss_mb"], lb["peak_rss_mb"], small["people"], large["people"]
                    ),
                }
            )
    return rows


def print_scaling(rows: list[dict], n_a: int, n_b: int) -> None:
    print(f"\nscaling {n_a:,} -> {n_b:,} people (exponent k: time ~ people^k)")
    print(
        f"  {'night':12s} {'stage':17s} {'wall s':>16} {'k':>5}  {'cpu s':>16} {'k':>5}  "
        f"{'peak MB':>17} {'k':>5}"
    )

    def k(v):
        return "-" if v is None else f"{v:.2f}"

    def pair(v, fmt):
        return "".join(f"{x:{fmt}}" if x is not None else f"{'-':>8}" for x in v)

    for r in rows:
        print(
            f"  {r['night']:12s} {r['stage']:17s} {pair(r['wall_s'], '8.1f')} "
            f"{k(r['time_exponent']):>5}  {pair(r['cpu_s'], '8.1f')} {k(r['cpu_exponent']):>5}  "
            f"{pair(r['peak_rss_mb'], '8,.0f')} {k(r['memory_exponent']):>5}"
        )


def environment() -> dict:
    import duckdb
    import splink

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        head = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "splink": splink.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "git_head": head,
    }


# ----------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, nargs="+", default=[DERBYSHIRE_PEOPLE])
    ap.add_argument("--nights", type=int, default=2, help="nights to run (>= 2): 1 full + rest")
    ap.add_argument("--history-days", type=int, default=540)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rates", nargs="*", default=[], metavar="NAME=VALUE")
    ap.add_argument("--gen-workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temp one)")
    ap.add_argument("--sources", type=Path, default=None, help="use these generated sources")
    ap.add_argument("--warehouse-url", default=None, help="PostgreSQL server URL (default DuckDB)")
    ap.add_argument("--pg-publish-url", default=None, help="also replay night 0's publish into PG")
    ap.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit of the baseline")
    ap.add_argument("--no-baseline", action="store_true", help="skip the linkage comparison")
    ap.add_argument("--keep", action="store_true", help="keep run folders and PG databases")
    ap.add_argument(
        "--one-process",
        action="store_true",
        help="run every stage in the scale's process (default: each in its own, as Airflow does)",
    )
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--scale-child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.nights < 2:
        ap.error("--nights must be at least 2 (a full night and an incremental one)")
    if args.sources and len(args.people) > 1:
        ap.error("--sources holds one scale; give one --people with it")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if args.scale_child:  # child: one scale, config in, figures out
        config = json.loads(args.scale_child.read_text())
        result = run_scale(config)
        Path(config["out"]).write_text(json.dumps(result, indent=2, default=str))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    work.mkdir(parents=True, exist_ok=True)
    report = {"environment": environment(), "args": vars(args) | {"work": str(work)}, "scales": []}
    for people in sorted(args.people):
        config = {
            "people": people,
            "nights": args.nights,
            "history_days": args.history_days,
            "seed": args.seed,
            "rates": args.rates,
            "gen_workers": args.gen_workers,
            "work": str(work),
            "sources": str(args.sources) if args.sources else None,
            "warehouse_url": args.warehouse_url,
            "pg_publish_url": args.pg_publish_url,
            "memory_limit": args.memory_limit,
            "no_baseline": args.no_baseline,
            "keep": args.keep,
            "one_process": args.one_process,
            "out": str(work / f"scale_{people}.json"),
        }
        cfg_path = work / f"scale_{people}.config.json"
        cfg_path.write_text(json.dumps(config))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--scale-child", str(cfg_path)]
        if args.verbose:
            cmd.append("-v")
        proc = subprocess.run(cmd, cwd=ROOT)
        if proc.returncode != 0 or not Path(config["out"]).exists():
            print(f"scale {people:,} failed (exit {proc.returncode})")
            report["scales"].append({"people": people, "error": f"exit {proc.returncode}"})
            continue
        result = json.loads(Path(config["out"]).read_text())
        report["scales"].append(result)
        print_targets(result)
    ok = [s for s in report["scales"] if "error" not in s]
    if len(ok) >= 2:
        report["scaling"] = scaling(ok)
        print_scaling(report["scaling"], ok[0]["people"], ok[-1]["people"])
    out = args.json or work / "bench_pipeline.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nfigures: {out}")
    night_failed = any(n["failed_stage"] for s in ok for n in s["nights"])
    return 0 if len(ok) == len(report["scales"]) and not night_failed else 1


if __name__ == "__main__":
    sys.exit(main())
