"""The two-file command against clear-text Splink, same data, same blocking, same run.

    python bench/two_file_vs_splink.py --dataset syllables [--people 20000] [--seed 1]
        [--repeat 2] [--json OUT.json]

Datasets: ``syllables`` (syllable-string names, Zipf, no families, ~16k + ~8k records of
20,000 people; ``bench/generators/syllables.py``), ``syllables-nhs`` (the same with
valid NHS numbers left out of 5% of LEFT and 30% of RIGHT), ``common_names`` and
``common_names-30`` (a narrow pool of very common names, households, 90% / 30% overlap;
``bench/generators/common_names.py``), ``ours`` (``bench/two_file_benchmark.py``) and
``febrl4`` (``bench/febrl4_benchmark.py``).

Ours: ``python -m transforms.link LEFT RIGHT --out ...`` in a child process under a key
made for the run, timed from start to exit; its links are scored at the model's own
threshold (0.5 for one-to-one links). Clear-text Splink: Splink 5 on DuckDB in a child process, timed from
start to exit too, and its train + predict on its own:

* ``link_only`` over the same standardised fields in clear (``standardise_dchs_patient``
  through the command's own adapter);
* comparisons from ``splink.comparison_library`` as its tutorials set them up:
  ``NameComparison`` (exact with term frequencies, Jaro-Winkler) on given and family
  name, ``DateOfBirthComparison``, ``PostcodeComparison``, Jaro-Winkler on the address
  line, ``ExactMatch`` on NHS number and sex;
* the **same blocking rules** as the command (``two_file_blocking_rules``: the same
  narrow rules, the same wide rules taken within the same budget), over the very values
  our tokens are made of, in clear (the tokeniser's HMAC replaced by the identity). The
  one rule that filters with a Bloom-filter Dice (names swapped at one address) filters
  with the two names exchanged instead;
* training as in the tutorials: lambda from exact name + date of birth (recall 0.7), u
  by random sampling (the same 2 M pairs and seed as ours), m by EM on (given, family
  name) and on date of birth;
* F1 pairwise at each threshold of ``GRID``; its best is reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

GRID = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999)
MAX_PAIRS, SEED, TUTORIAL_RECALL = 2e6, 42, 0.7


def generate(dataset: str, people: int | None, seed: int):
    """(left, right, truth) of a dataset."""
    if dataset.startswith("syllables"):
        from bench.generators import syllables

        nhs = (0.05, 0.30) if dataset == "syllables-nhs" else None
        return syllables.generate(people or 20000, seed, nhs_missing=nhs)
    if dataset.startswith("common_names"):
        from bench.generators import common_names

        overlap = 0.3 if dataset == "common_names-30" else 0.9
        return common_names.generate(people or 10000, seed, overlap=overlap)
    if dataset == "ours":
        from two_file_benchmark import generate as ours

        return ours(people or 5000, 0.6, seed)
    if dataset == "febrl4":
        from febrl4_benchmark import febrl_dir, prepare

        return prepare(febrl_dir(None), seed, False)
    raise SystemExit(f"unknown dataset {dataset}")


def score(links: pd.DataFrame, truth: pd.DataFrame) -> dict:
    import two_file_benchmark

    return two_file_benchmark.score(links, truth)


# ------------------------------------------------------------------- clear-text Splink
def clear_records(people: pd.DataFrame, source: str) -> pd.DataFrame:
    """Clear standardised fields of one file, plus the blocking keys our tokens are made
    of, in clear (``tok_*`` holding the values the tokeniser would have hashed)."""
    from unittest import mock

    from transforms import pseudonymise
    from transforms.keys import key_from_material
    from transforms.standardise.person import standardise_dchs_patient
    from transforms.two_file.command import localities, to_patient_shape

    class ClearTokeniser(pseudonymise.Tokeniser):
        def token_array(self, domain, values):
            return values

    std = standardise_dchs_patient(to_patient_shape(people), other_postcodes=True)
    std["locality"] = localities(people["address"])
    std["source"] = source
    with mock.patch.object(pseudonymise, "Tokeniser", ClearTokeniser):
        keys = pseudonymise.pseudonymise_persons(std, key_from_material(os.urandom(32).hex()))
    out = keys[[c for c in keys.columns if c.startswith("tok_")]].copy()
    dob = pd.to_datetime(std["date_of_birth"], errors="coerce")
    out["record_id"] = std["source_record_id"].astype(str).to_numpy()
    out["source"] = source
    out["given_name"] = std["given_name"].to_numpy()
    out["family_name"] = std["family_name"].to_numpy()
    out["date_of_birth"] = dob.dt.strftime("%Y-%m-%d").where(dob.notna(), None).to_numpy()
    out["postcode"] = std["postcode"].to_numpy()
    out["address_line"] = (
        (std["street_number"].fillna("").astype(str) + " " + std["street"].fillna("").astype(str))
        .str.strip()
        .replace("", None)
        .to_numpy()
    )
    out["nhs_number"] = std["nhs_number"].where(std["nhs_number_valid"].fillna(False)).to_numpy()
    out["sex"] = std["sex"].where(std["sex"].isin(["M", "F"])).to_numpy()
    for c in out.columns:
        col = pd.Series(out[c]).astype(object)
        out[c] = col.where(col.notna(), None).to_numpy()
    return out


def clear_blocking_rules(records: pd.DataFrame) -> list[str]:
    """Our two-file rules over the clear keys, for ``link_only`` (which pairs files
    itself). Taken within the same budget as ours: equal values give equal tokens."""
    from transforms.config import LinkSettings
    from transforms.link.blocking import CROSS_FILE, two_file_blocking_rules

    tokens = records.rename(columns={"record_id": "source_record_id"})
    rules = []
    filtered = _with_filters(tokens)
    for rule in two_file_blocking_rules(filtered, link_settings=LinkSettings.from_env()):
        rule = rule.replace(f" AND {CROSS_FILE}", "")
        if "bit_count" in rule:  # names swapped at one address
            head = rule.split(" AND (2.0")[0]
            rule = f"{head} AND l.given_name = r.family_name AND l.family_name = r.given_name"
        rules.append(rule)
    return rules


def _with_filters(tokens: pd.DataFrame) -> pd.DataFrame:
    """Empty Bloom-filter columns: only the rules' equality keys are counted."""
    from transforms.link.records import CLK_COLUMNS

    out = tokens.copy()
    for c in CLK_COLUMNS:
        out[c] = None
    out["sex"] = out["sex"].fillna("U")
    return out


def splink_settings(rules: list[str], with_nhs: bool):
    import splink.comparison_library as cl
    from splink import SettingsCreator

    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("family_name"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
        cl.PostcodeComparison("postcode"),
        cl.JaroWinklerAtThresholds("address_line", [0.9, 0.7]),
        cl.ExactMatch("sex"),
    ]
    if with_nhs:
        comparisons.append(cl.ExactMatch("nhs_number"))
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run_splink(work: Path) -> dict:
    """Clear-text Splink on ``work``'s files; writes its pairs (>= 0.5) and timings."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    from transforms.two_file.command import read_people

    t0 = time.perf_counter()
    left = clear_records(read_people(work / "left.csv"), "left")
    right = clear_records(read_people(work / "right.csv"), "right")
    rules = clear_blocking_rules(pd.concat([left, right], ignore_index=True))
    t1 = time.perf_counter()
    db_api = DuckDBAPI(connection=duckdb.connect())
    with_nhs = bool(pd.concat([left, right])["nhs_number"].notna().mean() > 0.01)
    linker = Linker(
        [
            db_api.register(left, dataset_display_name="file_left"),
            db_api.register(right, dataset_display_name="file_right"),
        ],
        splink_settings(rules, with_nhs),
        log_level=logging.WARNING,
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "date_of_birth")], recall=TUTORIAL_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=MAX_PAIRS, seed=SEED)
    for rule in (block_on("given_name", "family_name"), block_on("date_of_birth")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as exc:  # noqa: BLE001 - EM can fail on small data
            logging.warning("EM on %s failed: %s", rule, exc)
    t2 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.5, warning_mode="never")
    pairs = db_api.duckdb_con.sql(
        f"SELECT record_id_l, record_id_r, source_dataset_l, match_probability "
        f"FROM {pred.physical_name}"
    ).df()
    t3 = time.perf_counter()
    flip = pairs["source_dataset_l"] != "file_left"
    pairs.loc[flip, ["record_id_l", "record_id_r"]] = pairs.loc[
        flip, ["record_id_r", "record_id_l"]
    ].to_numpy()
    pairs[["record_id_l", "record_id_r", "match_probability"]].to_parquet(
        work / "splink_pairs.parquet", index=False
    )
    n_pairs = db_api.duckdb_con.sql(f"SELECT count(*) FROM {pred.physical_name}").fetchall()
    return {
        "prepare_s": t1 - t0,
        "train_s": t2 - t1,
        "predict_s": t3 - t2,
        "train_predict_s": t3 - t1,
        "pairs_at_0.5": int(n_pairs[0][0]),
        "rules": len(rules),
    }


# ----------------------------------------------------------------------------- runs
def run_ours(work: Path, key_file: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "transforms.link", str(work / "left.csv"), str(work / "right.csv"),
         "--out", str(work / "links.parquet"), "--key-file", str(key_file), "-q"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - t0


def run_splink_child(work: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child-splink", str(work)],
        check=True, cwd=ROOT,
    )  # fmt: skip
    return time.perf_counter() - t0, json.loads((work / "splink.json").read_text())


def compare(dataset: str, people: int | None, seed: int, repeat: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    left, right, truth = generate(dataset, people, seed)
    left.to_csv(work / "left.csv", index=False)
    right.to_csv(work / "right.csv", index=False)
    key_file = work / "key"
    key_file.write_text(os.urandom(32).hex())
    key_file.chmod(0o600)
    ours_s, splink_s, splink_inner = [], [], []
    for i in range(repeat):  # alternate which goes first: the machine is shared
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                ours_s.append(run_ours(work, key_file))
            else:
                wall, inner = run_splink_child(work)
                splink_s.append(wall)
                splink_inner.append(inner)
    links = pd.read_parquet(work / "links.parquet")
    pairs = pd.read_parquet(work / "splink_pairs.parquet")
    grid = {str(t): score(pairs[pairs.match_probability >= t], truth) for t in GRID}
    best = max(grid, key=lambda t: grid[t]["f1"])
    return {
        "dataset": dataset,
        "seed": seed,
        "left": len(left),
        "right": len(right),
        "true_pairs": len(truth),
        "ours": score(links, truth) | {"seconds": ours_s},
        "splink": {
            "best_threshold": float(best),
            **grid[best],
            "f1_grid": {t: round(v["f1"], 5) for t, v in grid.items()},
            "seconds": splink_s,
            "inner": splink_inner,
        },
        "ratio_median": float(np.median(ours_s) / np.median(splink_s)),
    }


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-splink":
        logging.basicConfig(level=logging.WARNING)
        for name in ("splink", "splink.internals"):
            logging.getLogger(name).setLevel(logging.ERROR)
        work = Path(argv[1])
        (work / "splink.json").write_text(json.dumps(run_splink(work)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--people", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    work = a.work or Path(tempfile.mkdtemp(prefix="two_file_vs_splink_"))
    r = compare(a.dataset, a.people, a.seed, a.repeat, work)
    o, s = r["ours"], r["splink"]
    tp = " / ".join(f"{x['train_predict_s']:.1f}" for x in s["inner"])
    print(
        f"{r['dataset']} seed {r['seed']}: {r['left']:,} + {r['right']:,} records, "
        f"{r['true_pairs']:,} true pairs\n"
        f"  ours   F1 {o['f1']:.5f} (P {o['precision']:.5f} R {o['recall']:.5f}) at its own threshold, "
        f"{' / '.join(f'{x:.1f}' for x in o['seconds'])} s\n"
        f"  Splink F1 {s['f1']:.5f} (P {s['precision']:.5f} R {s['recall']:.5f}) at its best "
        f"{s['best_threshold']}, {' / '.join(f'{x:.1f}' for x in s['seconds'])} s "
        f"(train+predict {tp} s, "
        f"{s['inner'][0]['pairs_at_0.5']:,} pairs >= 0.5)\n"
        f"  time ratio (medians) {r['ratio_median']:.2f}"
    )
    if a.json:
        a.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
