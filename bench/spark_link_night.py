"""The nightly link step on Splink's Spark backend against DuckDB: a CI night, two ways.

    .venv-spark/bin/python bench/spark_link_night.py [--people 1000] [--seed 3]
                                                     [--work DIR] [--json OUT]

A small synthetic population over two days (``transforms.synthetic``), pseudonymised
as the pipeline does. Night 1 is a full night: every active record scored
(``predict_pairs``); night 2 an incremental one: the records new or changed since night
1 scored against the rest and each other (``predict_new_against_existing``), the other
pairs kept, as ``transforms.link.incremental.score_pairs`` does (it calls it). Each night then
runs the rest of the link step (deterministic pairs, ``link_edges``,
``assign_person_keys`` with keys numbered in order). Both nights run once with
``backend="duckdb"`` and once with ``backend="spark"`` (``CARE_LINK_BACKEND``; a local
session here) from one model trained on DuckDB, and the scored pairs (with their
probabilities and comparison levels) and the person keys are compared.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KEY = "6c2e9a4f1b7d3e5a8c0f2b4d6e8a1c3f5b7d9e0a2c4e6f8b1d3f5a7c9e2b4d6f"
PAIR_KEYS = ["uid_l", "uid_r"]


def records_of_night(data: Path, night: int) -> pd.DataFrame:
    """Active PERSON_RECORD rows as of night ``night`` (DCHS drops up to it)."""
    from transforms.keys import key_from_material
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient

    with sqlite3.connect(data / "dcc.sqlite") as con:
        dcc = pd.read_sql("SELECT * FROM person", con)
    drops = sorted(glob.glob(str(data / "dchs" / "*" / "patient.csv")))[:night]
    dchs = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in drops], ignore_index=True
    ).drop_duplicates("local_patient_id", keep="last")
    std = pd.concat(
        [standardise_dcc_person(dcc), standardise_dchs_patient(dchs)], ignore_index=True
    )
    records = pseudonymise_persons(std, key_from_material(KEY))
    return records[records["record_status"] != "Merged"].reset_index(drop=True)


def changed_uids(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    """Records of ``after`` that are new or whose tokens differ from ``before``."""
    cols = [c for c in after.columns if c.startswith(("tok_", "clk_"))]

    def keyed(df):
        uid = df["source"] + ":" + df["source_record_id"]
        text = df[cols].map(lambda v: v.hex() if isinstance(v, bytes) else str(v))
        return pd.Series(text.agg("|".join, axis=1).to_numpy(), index=uid)

    b, a = keyed(before), keyed(after)
    same = a.index.isin(b.index)
    out = set(a.index[~same])
    common = a.index[same]
    out |= set(common[(a.loc[common] != b.loc[common]).to_numpy()])
    return out


def link_night(
    records,
    model,
    backend,
    link_settings,
    previous=None,
    changed=None,
    index=None,
    history=None,
):
    """(scored pairs, person index, history) of one night, as the link step makes them."""
    from transforms.link.deterministic import deterministic_pairs
    from transforms.link.edges import link_edges
    from transforms.link.incremental import score_pairs
    from transforms.link.person_index import HISTORY_COLUMNS, INDEX_COLUMNS, assign_person_keys

    resent = pd.DataFrame(
        [uid.split(":", 1) for uid in sorted(changed or ())],
        columns=["source", "source_record_id"],
    )
    pairs, _ = score_pairs(
        records,
        model,
        backend=backend,
        link_settings=link_settings,
        previous=previous,
        changed=resent,
    )
    people = records[["source", "source_record_id", "record_status"]].assign(
        merged_into_record_id=None
    )
    decisions = pd.DataFrame(
        columns=["source_l", "source_record_id_l", "source_r", "source_record_id_r", "decision"]
    )
    edges, _, _ = link_edges(deterministic_pairs(records), pairs, decisions, people)
    counter = itertools.count(1)
    index, events = assign_person_keys(
        people,
        edges,
        pd.DataFrame(columns=INDEX_COLUMNS) if index is None else index,
        pd.DataFrame(columns=HISTORY_COLUMNS) if history is None else history,
        run_id=f"night-{'full' if previous is None else 'incremental'}",
        night=pd.Timestamp("2026-01-01"),
        make_key=lambda: f"P{next(counter):06d}",
    )
    history = events if history is None else pd.concat([history, events], ignore_index=True)
    return pairs, index, history


def compare(duck: pd.DataFrame, spark: pd.DataFrame) -> dict:
    d = duck.set_index(PAIR_KEYS)
    s = spark.set_index(PAIR_KEYS)
    both = d.index.intersection(s.index)
    gam = [c for c in duck.columns if c.startswith("gamma_")]
    diff = (d.loc[both, "match_probability"] - s.loc[both, "match_probability"]).abs()
    gs = s.loc[both, gam].astype(d[gam].dtypes.to_dict())
    return {
        "duckdb_pairs": len(d),
        "spark_pairs": len(s),
        "only_duckdb": len(d.index.difference(s.index)),
        "only_spark": len(s.index.difference(d.index)),
        "max_abs_probability_diff": float(diff.max()) if len(diff) else 0.0,
        "gamma_mismatches": int((d.loc[both, gam].to_numpy() != gs.to_numpy()).any(axis=1).sum()),
    }


def same_keys(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    cols = ["source", "source_record_id", "person_key"]
    x = a[cols].astype(str).sort_values(cols[:2]).reset_index(drop=True)
    y = b[cols].astype(str).sort_values(cols[:2]).reset_index(drop=True)
    return x.equals(y)


def run(people: int, seed: int, work: Path) -> dict:
    from transforms.config import LinkSettings
    from transforms.link.backend import spark_session
    from transforms.link.training import train_model

    data = work / f"syn{people}"
    if not (data / "truth.parquet").exists():
        subprocess.run(
            [sys.executable, "-m", "transforms.synthetic", "--people", str(people), "--days",
             "2", "--seed", str(seed), "--out", str(data), "--workers", "1"],
            check=True, cwd=ROOT, capture_output=True,
        )  # fmt: skip
    night1, night2 = records_of_night(data, 1), records_of_night(data, 2)
    changed = changed_uids(night1, night2)
    model = train_model(night1, link_settings=LinkSettings.from_env())
    env = dict(os.environ)
    env.setdefault("CARE_LINK_TEMP_DIR", str(work / "tmp" / "duckdb"))
    link_settings = LinkSettings.from_env(env)
    out: dict = {"records_night1": len(night1), "records_night2": len(night2),
                 "changed_night2": len(changed)}  # fmt: skip
    result = {}
    for backend in ("duckdb", "spark"):
        p1, i1, h1 = link_night(night1, model, backend, link_settings)
        p2, i2, _ = link_night(night2, model, backend, link_settings, p1, changed, i1, h1)
        result[backend] = (p1, i1, p2, i2)
    spark_session(link_settings).stop()
    (d1, di1, d2, di2), (s1, si1, s2, si2) = result["duckdb"], result["spark"]
    out["full"] = compare(d1, s1) | {"same_person_keys": same_keys(di1, si1),
                                     "persons": int(di1["person_key"].nunique())}  # fmt: skip
    out["incremental"] = compare(d2, s2) | {"same_person_keys": same_keys(di2, si2),
                                            "persons": int(di2["person_key"].nunique())}  # fmt: skip
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    work = a.work or Path(tempfile.mkdtemp(prefix="spark_link_night_"))
    out = run(a.people, a.seed, work)
    print(json.dumps(out, indent=2))
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
