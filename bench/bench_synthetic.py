"""Benchmark the synthetic generator: wall time, peak memory and row counts.

    .venv/bin/python bench/bench_synthetic.py                 # 1,000,000 people, 7 nights
    .venv/bin/python bench/bench_synthetic.py --people 100000 --keep /tmp/syn

Peak memory is ``ru_maxrss`` of this process and, separately, of its largest child
(the chunk workers); the sum bounds what the run needed at its peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.synthetic import GenConfig, generate  # noqa: E402


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--keep", type=Path, default=None, help="write here and keep the output")
    args = ap.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench_synthetic_"))
    cfg = GenConfig(people=args.people, days=args.days, seed=args.seed)
    t0 = time.perf_counter()
    meta = generate(cfg, out, workers=args.workers)
    wall = time.perf_counter() - t0
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    counts = meta["counts"]
    size = _du(out)
    print(f"people={args.people:,} nights={args.days} workers={args.workers} cpus={os.cpu_count()}")
    print(f"wall_time_s={wall:.1f}")
    print(
        f"peak_rss_main_mb={self_mb:.0f} peak_rss_largest_child_mb={child_mb:.0f} sum_mb={self_mb + child_mb:.0f}"
    )
    print(f"output_bytes={size:,}")
    print(f"dcc person={counts['dcc']['person']:,} event={counts['dcc']['event']:,}")
    print("dchs " + " ".join(f"{k.removesuffix('.csv')}={v:,}" for k, v in counts["dchs"].items()))
    print(f"truth dcc={counts['truth']['dcc']:,} dchs={counts['truth']['dchs']:,}")
    print(f"errors rows={sum(counts['errors'].values()):,}")
    print("realised=" + json.dumps(meta["realised_record_rates"]))
    if args.keep is None:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
