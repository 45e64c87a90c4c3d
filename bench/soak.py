"""Soak: many nights back to back, checking accounting, key stability and memory.

    python bench/soak.py --people 50000 --nights 10 [--data-root DIR] [--warehouse-url URL]

Each night runs every pipeline step in this one process (``transforms.ops.stage_runner``),
so memory that a night leaves behind shows up in the next night's figures. After each
night it checks, from the published warehouse:

* row accounting balances for every landing table;
* every source record seen the night before keeps its ``person_key``, unless the key
  history records a merge or split of that key that night;
* the process's resident memory after the night (following garbage collection).

It prints one line per night and a verdict, and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from transforms.config import Settings  # noqa: E402
from transforms.keys import create_local_key_file, load_key  # noqa: E402
from transforms.ops.local_setup import ensure_sources  # noqa: E402
from transforms.ops.stage_runner import _rss_mb, night_context, run_night  # noqa: E402
from transforms.warehouse.db import make_engine  # noqa: E402
from transforms.warehouse.publish import read_frame  # noqa: E402

#: Memory may settle over the first nights (caches, allocator arenas); after that, the
#: post-night RSS must not keep climbing by more than this fraction of night 2's.
MEMORY_GROWTH_LIMIT = 0.25


def published(engine, night: date) -> dict:
    run = read_frame(
        engine,
        "select run_id from audit.pipeline_run where night = :n and status = 'published' "
        "order by finished_at desc limit 1",
        n=night,
    ).run_id.iloc[0]
    return {
        "run_id": run,
        "accounting": read_frame(
            engine, "select * from audit.row_accounting where run_id = :r", r=run
        ),
        "index": read_frame(
            engine, "select source, source_record_id, person_key from identity.person_index"
        ),
        "history": read_frame(
            engine, "select * from identity.person_key_history where run_id = :r", r=run
        ),
    }


def unexplained_key_changes(before: pd.DataFrame, after: pd.DataFrame, history) -> int:
    """Records whose key changed without a recorded merge or split of that key."""
    both = before.merge(after, on=["source", "source_record_id"], suffixes=("_0", "_1"))
    moved = both[both.person_key_0 != both.person_key_1]
    explained = set(history.loc[history.event.isin(["merged_into", "split_from"]), "person_key"])
    explained |= set(history.loc[history.event == "split_from", "other_person_key"])
    return int((~moved.person_key_0.isin(explained)).sum())


def soak(people: int, nights: int, root: Path, warehouse_url: str | None, seed: int) -> dict:
    settings = Settings.from_env({"CARE_DATA_DIR": str(root)}, warehouse_url=warehouse_url or None)
    generation = ensure_sources(settings, people=people, nights=nights, seed=seed, env={})
    key_path = root / "secrets" / "soak.key"
    if not key_path.exists():
        create_local_key_file(key_path)
    key = load_key(env={"CARE_KEY_FILE": str(key_path)})
    engine = make_engine(settings.warehouse_url)
    rows, previous, failures = [], None, []
    for night_text in generation["nights"]:
        night = date.fromisoformat(night_text)
        started = time.perf_counter()
        figures = run_night(night_context(settings, night), key)
        wall = time.perf_counter() - started
        gc.collect()
        state = published(engine, night)
        balanced = bool(state["accounting"]["balanced"].all())
        changed = (
            0
            if previous is None
            else unexplained_key_changes(previous, state["index"], state["history"])
        )
        row = {
            "night": night_text,
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(max(f.peak_rss_mb for f in figures), 0),
            "rss_after_mb": round(_rss_mb(), 0),
            "records": len(state["index"]),
            "persons": int(state["index"].person_key.nunique()),
            "balanced": balanced,
            "unexplained_key_changes": changed,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not balanced:
            failures.append(f"night {night_text}: accounting does not balance")
        if changed:
            failures.append(f"night {night_text}: {changed} person keys changed unexplained")
        previous = state["index"]
    engine.dispose()
    after = [r["rss_after_mb"] for r in rows]
    if len(after) >= 4:
        settled = after[1]
        growth = (max(after[2:]) - settled) / settled
        if growth > MEMORY_GROWTH_LIMIT:
            failures.append(
                f"memory grew {growth:.0%} after night 2 (limit {MEMORY_GROWTH_LIMIT:.0%}): {after}"
            )
    return {"nights": rows, "failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--nights", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data-root", type=Path, default=ROOT / "data" / "soak")
    parser.add_argument("--warehouse-url", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = soak(args.people, args.nights, args.data_root, args.warehouse_url, args.seed)
    for failure in result["failures"]:
        print("FAIL", failure)
    print("soak", "passed" if not result["failures"] else "FAILED", f"({args.nights} nights)")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
