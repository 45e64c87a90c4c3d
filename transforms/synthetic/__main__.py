"""``python -m transforms.synthetic``: generate the synthetic DCC and DCHS sources."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from transforms.synthetic.config import GenConfig, Rates, parse_rate_args
from transforms.synthetic.generate import generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m transforms.synthetic",
        description="Generate synthetic DCC (Mosaic-like DB) and DCHS (SystmOne-like drops) sources.",
    )
    ap.add_argument(
        "--people", type=int, required=True, help="population size (1,000 to 1,000,000)"
    )
    ap.add_argument("--days", type=int, required=True, help="number of nightly runs (nights)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument(
        "--dcc-url",
        default=None,
        help="SQLAlchemy URL for the DCC database (default: OUT/dcc.sqlite)",
    )
    ap.add_argument("--first-night", type=date.fromisoformat, default=date(2026, 11, 1))
    ap.add_argument("--history-days", type=int, default=540)
    ap.add_argument("--rates", nargs="*", default=[], metavar="NAME=VALUE",
                    help="override error rates; a name without _dcc/_dchs sets both (see docs/synthetic.md)")  # fmt: skip
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes generating chunks ahead of the writer (output does not depend on it)")  # fmt: skip
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        rates = Rates().with_overrides(parse_rate_args(args.rates))
        cfg = GenConfig(
            people=args.people, days=args.days, seed=args.seed, first_night=args.first_night,
            history_days=args.history_days, rates=rates,
        )  # fmt: skip
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = generate(cfg, args.out, dcc_url=args.dcc_url, workers=args.workers)
    c = meta["counts"]
    print(
        f"wrote {args.out}: DCC person={c['dcc']['person']} event={c['dcc']['event']}; "
        + "DCHS "
        + " ".join(f"{k.removesuffix('.csv')}={v}" for k, v in c["dchs"].items())
        + f"; nights {meta['nights'][0]}..{meta['nights'][-1]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
