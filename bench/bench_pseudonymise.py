"""Benchmark pseudonymisation: records/s and peak memory over synthetic standardised rows.

    .venv/bin/python bench/bench_pseudonymise.py              # 1,000,000 rows
    .venv/bin/python bench/bench_pseudonymise.py --rows 200000 --profile

Rows are generated already standardised (``transforms.standardise.person.STD_PERSON``) with
realistic cardinalities for a county of ~800k people: every NHS number distinct, ~36k
dates of birth, a few thousand given names, ~20k family names, ~25k postcodes and ~1k
streets with house numbers up to 250. Only ``pseudonymise_persons`` is timed, after a
1,000-row warm-up (imports, reference tables, loading the compiled loops). Each of
``--repeat`` runs (default 3) is printed, then the median. Peak memory is this
process's ``ru_maxrss`` (before and after, so the input's share is visible).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.keys import PseudonymKey  # noqa: E402
from transforms.pseudonymise import pseudonymise_persons  # noqa: E402
from transforms.standardise.person import STD_PERSON  # noqa: E402

LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _words(rng, n, lo, hi) -> np.ndarray:
    lengths = rng.integers(lo, hi + 1, size=n)
    chars = LETTERS[rng.integers(0, 26, size=(n, hi))]
    return np.array(["".join(row[:k]) for row, k in zip(chars, lengths, strict=True)], dtype=object)


def synthetic_standardised(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    given_pool = _words(rng, 3000, 3, 9)
    family_pool = _words(rng, 20000, 4, 10)
    street_pool = np.char.add(_words(rng, 1000, 4, 9).astype(str), " STREET").astype(object)
    zipf_g = np.minimum(rng.zipf(1.3, n), len(given_pool)) - 1
    zipf_f = np.minimum(rng.zipf(1.2, n), len(family_pool)) - 1
    districts = np.array(["DE4", "DE56", "S40", "SK17", "NG10", "DE11", "S41", "DE7"], dtype=object)
    d_idx = rng.integers(0, len(districts), n)
    sector = rng.integers(0, 10, n).astype(str)
    unit = LETTERS[rng.integers(0, 26, (n, 2))]
    sector_col = districts[d_idx] + " " + sector.astype(object)
    postcode = sector_col + unit[:, 0].astype(object) + unit[:, 1].astype(object)
    dob = pd.Timestamp("1925-01-01") + pd.to_timedelta(rng.integers(0, 36500, n), unit="D")
    nhs = rng.integers(4_000_000_000, 4_999_999_999, n).astype(str).astype(object)
    number = rng.integers(1, 251, n).astype(str).astype(object)
    street = street_pool[rng.integers(0, len(street_pool), n)]
    df = pd.DataFrame(
        {
            "source": np.where(rng.random(n) < 0.3, "dcc", "dchs"),
            "source_record_id": np.char.add("R", np.arange(n).astype(str)),
            "record_status": "Active",
            "merged_into_record_id": None,
            "nhs_number": nhs,
            "nhs_number_valid": rng.random(n) < 0.95,
            "given_name": given_pool[zipf_g],
            "family_name": family_pool[zipf_f],
            "date_of_birth": dob,
            "sex": np.where(rng.random(n) < 0.5, "M", "F"),
            "ethnicity_group": "White",
            "postcode": postcode,
            "postcode_sector": sector_col,
            "postcode_district": districts[d_idx],
            "district": "Derbyshire Dales",
            "street_number": number,
            "street": street,
            "address_norm": number + " " + street + " " + postcode,
            "date_of_death": pd.NaT,
            "communication_need": None,
            "interpreter_language": None,
            "unpaid_carer": pd.array([pd.NA] * n, dtype="boolean"),
            "_source_file": "bench",
            "_source_row": "1",
        }
    )
    return df[STD_PERSON]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (each printed)")
    args = ap.parse_args()
    key = PseudonymKey("bench", bytes((b * 37 + 11) % 251 for b in range(32)))
    t0 = time.perf_counter()
    std = synthetic_standardised(args.rows, args.seed)
    built = time.perf_counter() - t0
    rss_input = _rss_mb()
    print(f"built {len(std):,} standardised rows in {built:.1f}s (rss {rss_input:,.0f} MB)")
    pseudonymise_persons(std.head(1000), key)  # warm imports and reference tables
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
    times = []
    for run in range(1 if args.profile else args.repeat):
        out = None  # the previous run's output is freed before the next is built
        t0 = time.perf_counter()
        out = pseudonymise_persons(std, key)
        times.append(time.perf_counter() - t0)
        rate = len(out) / times[-1]
        print(f"run {run + 1}: {len(out):,} rows in {times[-1]:.2f}s = {rate:,.0f} records/s")
    if args.profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    median = statistics.median(times)
    print(
        f"pseudonymised {len(std):,} rows: median {median:.2f}s = {len(std) / median:,.0f} "
        f"records/s over {len(times)} run(s)"
    )
    print(f"peak rss {_rss_mb():,.0f} MB (input frame alone: {rss_input:,.0f} MB)")
    counts = {
        c: out[c].nunique()
        for c in ("tok_nhs_number", "tok_dob", "tok_given_name", "tok_family_name",
                  "tok_postcode", "clk_name", "clk_address")
    }  # fmt: skip
    print("distinct values: " + ", ".join(f"{c} {v:,}" for c, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
