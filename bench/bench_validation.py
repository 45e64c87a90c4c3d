"""Benchmark the six source suites over about 1,000,000 landing rows, and Data Docs.

    .venv/bin/python bench/bench_validation.py                   # 75,000 people, night 0
    .venv/bin/python bench/bench_validation.py --people 150000   # about 2,000,000 rows
    .venv/bin/python bench/bench_validation.py --landing DIR     # landing Parquet you have

The synthetic sources (``transforms.synthetic``) for ``--people`` are generated, the
first night is extracted to landing Parquet exactly as the nightly DAG does, and the six
suites run in the DAG's order with its cross-table context. Reported: rows per table,
wall time per suite, the Great Expectations import, Data Docs, the total, and what was
quarantined, reported and breached. The target is ≤ 30 s for the six suites over
1,000,000 rows on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def land(people: int, seed: int, root: Path) -> Path:
    from transforms.extract.dcc import extract_dcc
    from transforms.extract.dchs.extract import extract_dchs
    from transforms.synthetic import GenConfig, generate

    meta = generate(GenConfig(people=people, days=1, seed=seed), root / "sources", workers=2)
    night = datetime.fromisoformat(meta["nights"][0])
    landing = root / "landing"
    extract_dcc(
        f"sqlite:///{root / 'sources' / 'dcc.sqlite'}", since=None, until=night, landing_dir=landing
    )
    extract_dchs(
        root / "sources" / "dchs",
        until=night.date(),
        ingested={},
        accepted={},
        landing_dir=landing,
    )
    return landing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=75_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--landing", type=Path, default=None, help="use this landing folder")
    ap.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_validation_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.landing is None:
            t0 = time.perf_counter()
            landing = land(args.people, args.seed, work)
            print(f"setup (generate + extract, not timed below): {time.perf_counter() - t0:.1f}s")
        else:
            landing = args.landing
        return run(landing, work / "data_docs")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(landing: Path, docs_dir: Path) -> int:
    import pandas as pd

    from transforms.validation.source_context import SUITE_ORDER, suite_context

    frames = {name: pd.read_parquet(landing / f"{name}.parquet") for name in SUITE_ORDER}
    total_rows = sum(len(f) for f in frames.values())

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark's pandas-3 notice
        import great_expectations  # noqa: F401

        from transforms.validation import (
            build_data_docs,
            validate_source_table,
        )
    gx_import = time.perf_counter() - t0

    clean, outcomes, timings = {}, [], {}
    started = time.perf_counter()
    for name in SUITE_ORDER:
        t = time.perf_counter()
        outcome = validate_source_table(
            name,
            frames[name],
            run_id="bench",
            docs_dir=docs_dir,
            context=suite_context(name, clean, None, None),
        )
        timings[name] = time.perf_counter() - t
        clean[name] = outcome.clean
        outcomes.append(outcome)
    suites = time.perf_counter() - started
    t = time.perf_counter()
    build_data_docs(docs_dir)
    docs = time.perf_counter() - t

    print(f"cpus={os.cpu_count()} load_average={os.getloadavg()[0]:.1f}")
    print(
        f"{'suite':<22}{'rows':>11}{'seconds':>9}{'rows/s':>11}{'quar.':>8}{'warn.':>8}  breaches"
    )
    for o in outcomes:
        s = o.summary
        rate = s["rows_in"] / timings[o.suite] if timings[o.suite] else 0
        print(
            f"{o.suite:<22}{s['rows_in']:>11,}{timings[o.suite]:>9.2f}{rate:>11,.0f}"
            f"{s['rows_quarantined']:>8,}{s['rows_warned']:>8,}  {s['breaches'] or '-'}"
        )
    print(f"total_rows={total_rows:,}")
    print(f"six_suites_wall_s={suites:.1f} (target <= 30 s for 1,000,000 rows)")
    print(f"gx_import_s={gx_import:.1f} data_docs_s={docs:.1f}")
    print(f"end_to_end_s={gx_import + suites + docs:.1f}")
    print(f"rules_evaluated={sum(o.summary['rules_evaluated'] for o in outcomes)}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak_rss_mb={rss:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
