"""Linkage benchmark on the synthetic sources: accuracy, blocking, time and memory.

    python bench/bench_linkage.py --people 20000 200000 [--seed 5] [--data-root DIR]

For each population size: generate the sources (``python -m transforms.synthetic``,
one night) unless ``--data-root/syn<N>`` already holds them, standardise and
pseudonymise the person records (DCC ``Merged`` rows left out, as the pipeline does),
then in a child process (so its peak RSS is the linkage's own) train the model and
predict. Reported:

* candidate pairs per blocking rule (marginal and cumulative);
* wall time of training and of prediction, and peak RSS of the linkage process;
* pairwise precision / recall / F1 of the predicted pairs at ``MATCH_THRESHOLD``, and
  of the clusters (connected components at the threshold), overall, cross-system and
  within-system, against ``truth.parquet``;
* look-alikes (twins, parent/child, common names from ``errors.parquet``) merged into
  a cluster with another person;
* incremental: 10,000 records scored against the rest (``predict_new_against_existing``).

The model alone is measured here; the nightly pipeline also runs the deterministic
NHS-number pass first.
"""

from __future__ import annotations

import argparse
import glob
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_KEY = "8c1f4e2a9b7d3c6e5f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4"  # bench only


def load_person_records(data: Path) -> pd.DataFrame:
    """PERSON_RECORD rows (Active only) from a generated synthetic folder."""
    from transforms.keys import key_from_material
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient

    with sqlite3.connect(data / "dcc.sqlite") as con:
        dcc = pd.read_sql("SELECT * FROM person", con)
    drops = sorted(glob.glob(str(data / "dchs" / "*" / "patient.csv")))
    dchs = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in drops], ignore_index=True
    ).drop_duplicates("local_patient_id", keep="last")
    std = pd.concat(
        [standardise_dcc_person(dcc), standardise_dchs_patient(dchs)], ignore_index=True
    )
    records = pseudonymise_persons(std, key_from_material(BENCH_KEY))
    return records[records["record_status"] != "Merged"].reset_index(drop=True)


def ensure_data(root: Path, people: int, seed: int) -> Path:
    out = root / f"syn{people}"
    if not (out / "truth.parquet").exists():
        cmd = [sys.executable, "-m", "transforms.synthetic", "--people", str(people),
               "--days", "1", "--seed", str(seed), "--out", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=ROOT)
    return out


def link_phase(records_path: Path, out_dir: Path) -> None:
    """Child process: train + predict + incremental; writes timings and pairs."""
    from transforms.config import LinkSettings
    from transforms.link.comparisons import REVIEW_BAND
    from transforms.link.predict import predict_new_against_existing, predict_pairs
    from transforms.link.training import train_model

    link_settings = LinkSettings.from_env()
    records = pd.read_parquet(records_path)
    t0 = time.perf_counter()
    model = train_model(records, link_settings=link_settings, model_out=out_dir / "model.json")
    t1 = time.perf_counter()
    pairs = predict_pairs(
        records, model=model, link_settings=link_settings, threshold=REVIEW_BAND[0]
    )
    t2 = time.perf_counter()
    peak_link = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pairs.to_parquet(out_dir / "pairs.parquet")
    rng = np.random.default_rng(0)
    n_new = min(10_000, len(records) // 10)
    is_new = np.zeros(len(records), dtype=bool)
    is_new[rng.choice(len(records), n_new, replace=False)] = True
    t3 = time.perf_counter()
    inc = predict_new_against_existing(
        records[is_new],
        records[~is_new],
        model=model,
        link_settings=link_settings,
        threshold=REVIEW_BAND[0],
    )
    t4 = time.perf_counter()
    json.dump(
        {
            "train_s": t1 - t0,
            "predict_s": t2 - t1,
            "peak_rss_mb_train_predict": peak_link,
            "incremental_new": int(n_new),
            "incremental_existing": int((~is_new).sum()),
            "incremental_s": t4 - t3,
            "incremental_pairs": len(inc),
            "peak_rss_mb_all": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        open(out_dir / "timings.json", "w"),
    )


def evaluate(data: Path, records: pd.DataFrame, pairs: pd.DataFrame) -> dict:
    from transforms.link.accuracy import (
        clusters_from_pairs,
        evaluate_against_truth,
        lookalike_merges,
    )
    from transforms.link.comparisons import MATCH_THRESHOLD

    truth = pd.read_parquet(data / "truth.parquet").merge(
        records[["source", "source_record_id"]], on=["source", "source_record_id"]
    )
    errors = pd.read_parquet(data / "errors.parquet")
    linked = pairs[pairs["match_probability"] >= MATCH_THRESHOLD]
    clusters = clusters_from_pairs(linked, records)
    return {
        "threshold": MATCH_THRESHOLD,
        "pairs": evaluate_against_truth(linked, truth),
        "clusters": evaluate_against_truth(clusters, truth),
        "lookalikes_merged": lookalike_merges(clusters, truth, errors),
        "records": len(records),
        "true_pairs": int(
            evaluate_against_truth(linked, truth)["tp"]
            + evaluate_against_truth(linked, truth)["fn"]
        ),
    }


def fmt_metrics(name: str, m: dict) -> str:
    return (
        f"  {name:9s} P={m['precision']:.5f} R={m['recall']:.5f} F1={m['f1']:.5f} | "
        f"cross P={m['cross_precision']:.5f} R={m['cross_recall']:.5f} | "
        f"within P={m['within_precision']:.5f} R={m['within_recall']:.5f} "
        f"(tp={m['tp']:,} fp={m['fp']:,} fn={m['fn']:,})"
    )


def run(people: int, seed: int, root: Path) -> dict:
    from transforms.config import LinkSettings
    from transforms.link.blocking import blocking_counts

    data = ensure_data(root, people, seed)
    records = load_person_records(data)
    work = Path(tempfile.mkdtemp(prefix=f"bench_link_{people}_", dir=root))
    records.to_parquet(work / "records.parquet")
    blocks = blocking_counts(records, link_settings=LinkSettings.from_env())
    subprocess.run(
        [sys.executable, __file__, "--link-phase", str(work / "records.parquet"), str(work)],
        check=True,
        cwd=ROOT,
    )
    timings = json.load(open(work / "timings.json"))
    pairs = pd.read_parquet(work / "pairs.parquet")
    result = {"people": people, "timings": timings, **evaluate(data, records, pairs)}
    print(f"\n=== {people:,} people: {len(records):,} active person records ===")
    print("blocking (candidate pairs):")
    for r in blocks.itertuples():
        print(f"  {r.marginal_pairs:>12,} (cum {r.cumulative_pairs:>12,})  {r.blocking_rule}")
    print(
        f"train {timings['train_s']:.1f}s, predict {timings['predict_s']:.1f}s, "
        f"peak RSS {timings['peak_rss_mb_train_predict']:,.0f} MB (train+predict)"
    )
    print(
        f"incremental: {timings['incremental_new']:,} new vs {timings['incremental_existing']:,} "
        f"existing in {timings['incremental_s']:.1f}s ({timings['incremental_pairs']:,} pairs)"
    )
    print(f"at MATCH_THRESHOLD {result['threshold']}:")
    print(fmt_metrics("pairs", result["pairs"]))
    print(fmt_metrics("clusters", result["clusters"]))
    print(f"  look-alike records merged with another person: {result['lookalikes_merged']}")
    (work / "result.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--link-phase":
        link_phase(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--data-root", type=Path, default=None)
    args = ap.parse_args()
    root = args.data_root or Path(tempfile.mkdtemp(prefix="bench_linkage_"))
    root.mkdir(parents=True, exist_ok=True)
    for n in args.people:
        run(n, args.seed, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
