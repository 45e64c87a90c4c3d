"""Measure fidelity: every partnership measure with true vs linked identities.

    python bench/bench_fidelity.py [--people 20000 200000] [--seed 5] [--days 1]
                                   [--data-root DIR] [--no-contacts] [--target 0.5]

For each population size: generate the synthetic sources (``python -m
transforms.synthetic``) unless ``--data-root/syn<N>_s<seed>_d<days>`` already holds them,
standardise and pseudonymise them (``transforms.standardise``,
``transforms.pseudonymise``, a bench-only key from ``transforms.keys.key_from_material``),
link them the way the nightly link stage does (deterministic NHS-number pass, Splink
model trained on the records, pairs at ``MATCH_THRESHOLD``, DCC source merges, then
``assign_person_keys``), and build every table and measure twice
(``transforms.ops.fidelity.measure_fidelity``): with the generator's truth and with
the linked person keys.

Printed: timings; cluster precision/recall against the truth; per measure the worst
|linked - truth| over periods (percentage points for proportions, per 100,000 for
ASCOF 2B/2C, days for lengths of stay); the 91-day measure period by period; and
whether the target (|difference| <= 0.5 pp on every final period of the 91-day
measure, at 200,000 people) is met.

``--no-contacts`` leaves DCHS care contacts out (they feed no measure; quicker runs).
For scale, the same comparison with no linkage at all (every record its own person) is
printed too (``--no-baseline`` skips it): it shows how far the measures move when the
organisations are not joined, i.e. that a zero difference is the linkage's doing.
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
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_KEY = "8c1f4e2a9b7d3c6e5f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4"  # bench only
TARGET_PEOPLE = 200_000


def ensure_data(root: Path, people: int, seed: int, days: int) -> Path:
    out = root / f"syn{people}_s{seed}_d{days}"
    if not (out / "truth.parquet").exists():
        cmd = [sys.executable, "-m", "transforms.synthetic", "--people", str(people),
               "--days", str(days), "--seed", str(seed), "--out", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=ROOT)
    return out


def _drops(data: Path, name: str, key: list[str]) -> pd.DataFrame:
    files = sorted(glob.glob(str(data / "dchs" / "*" / name)))
    frame = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True
    )
    return frame.drop_duplicates(key, keep="last").reset_index(drop=True)


def tokens_zone(data: Path, *, contacts: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PERSON_RECORD (Merged included) and SOURCE_EVENT, as the pseudonymise step makes them."""
    from transforms.contracts import PERSON_RECORD, SOURCE_EVENT
    from transforms.keys import key_from_material
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise.dcc_events import standardise_dcc_events
    from transforms.standardise.dchs_events import standardise_dchs_events
    from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient
    from transforms.tables.person import age_from_birth_parts

    with sqlite3.connect(data / "dcc.sqlite") as con:
        dcc_person = pd.read_sql("SELECT * FROM person", con)
        dcc_event = pd.read_sql("SELECT * FROM event", con)
    patient = _drops(data, "patient.csv", ["local_patient_id"])
    referral = _drops(data, "referral.csv", ["service_request_id"])
    spell = _drops(data, "inpatient_spell.csv", ["hospital_provider_spell_number"])
    if contacts:
        contact = _drops(data, "care_contact.csv", ["service_request_id", "care_contact_id"])
    else:
        contact = pd.DataFrame(
            columns=[
                "service_request_id",
                "care_contact_id",
                "local_patient_id",
                "care_contact_date",
                "activity_location_type_code",
                "attended_or_did_not_attend",
            ]  # fmt: skip
        )
    std = pd.concat(
        [standardise_dcc_person(dcc_person), standardise_dchs_patient(patient)], ignore_index=True
    )
    records = pseudonymise_persons(std, key_from_material(BENCH_KEY))[PERSON_RECORD]
    events = pd.concat(
        [
            standardise_dcc_events(dcc_event, std),
            standardise_dchs_events(referral, contact, spell, std),
        ],
        ignore_index=True,
    )[SOURCE_EVENT]
    del std
    births = records.set_index(["source", "source_record_id"])[["birth_year", "birth_month"]]
    at = births.reindex(pd.MultiIndex.from_frame(events[["source", "source_record_id"]]))
    events["age_at_event"] = age_from_birth_parts(
        at["birth_year"].reset_index(drop=True),
        at["birth_month"].reset_index(drop=True),
        events["start_date"],
    ).to_numpy()
    return records, events


def link(records: pd.DataFrame, *, night: date) -> tuple[pd.DataFrame, dict]:
    """The nightly link step without previous state or review decisions."""
    from transforms.config import LinkSettings
    from transforms.link.comparisons import MATCH_THRESHOLD, REVIEW_BAND
    from transforms.link.deterministic import deterministic_pairs
    from transforms.link.person_index import HISTORY_COLUMNS, INDEX_COLUMNS, assign_person_keys
    from transforms.link.predict import predict_pairs
    from transforms.link.training import train_model

    timings = {}
    active = records[records["record_status"] != "Merged"].reset_index(drop=True)
    t0 = time.perf_counter()
    det = deterministic_pairs(active)
    link_settings = LinkSettings.from_env()
    model = train_model(active, link_settings=link_settings)
    t1 = time.perf_counter()
    pairs = predict_pairs(
        active, model=model, link_settings=link_settings, threshold=REVIEW_BAND[0]
    )
    t2 = time.perf_counter()
    timings["train_s"], timings["predict_s"] = t1 - t0, t2 - t1

    def uid(frame, side):
        return (
            frame[f"source_{side}"].astype(str)
            + ":"
            + frame[f"source_record_id_{side}"].astype(str)
        )

    accepted = pairs[pairs["match_probability"] >= MATCH_THRESHOLD]
    prob = pd.DataFrame(
        {
            "uid_l": uid(accepted, "l"),
            "uid_r": uid(accepted, "r"),
            "route": "probabilistic",
            "match_probability": accepted["match_probability"],
        }
    )
    merged = records[records["record_status"] == "Merged"]
    source_merge = pd.DataFrame(
        {
            "uid_l": "dcc:" + merged["source_record_id"].astype(str),
            "uid_r": "dcc:" + merged["merged_into_record_id"].astype(str),
            "route": "source_merge",
            "match_probability": 1.0,
        }
    )
    edges = pd.concat([det, prob, source_merge], ignore_index=True)
    index, _ = assign_person_keys(
        records,
        edges,
        pd.DataFrame(columns=INDEX_COLUMNS),
        pd.DataFrame(columns=HISTORY_COLUMNS),
        run_id="bench-fidelity",
        night=night,
    )
    timings["index_s"] = time.perf_counter() - t2
    return index, timings


def _fmt_period(row) -> str:
    return f"{row.period_start:%Y-%m-%d}..{row.period_end:%Y-%m-%d}"


def unlinked_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Every active record its own person (DCC Merged records follow their survivor)."""
    key = records["source"].astype(str) + ":" + records["source_record_id"].astype(str)
    merged = (records["record_status"] == "Merged").to_numpy()
    key = key.where(~merged, "dcc:" + records["merged_into_record_id"].astype(str))
    return pd.DataFrame(
        {
            "source": records["source"].astype(str),
            "source_record_id": records["source_record_id"].astype(str),
            "person_key": "U" + key,
        }
    )


def run(
    people: int,
    seed: int,
    days: int,
    root: Path,
    *,
    contacts: bool,
    target: float,
    baseline: bool = True,
) -> dict:
    from transforms.link.accuracy import evaluate_against_truth
    from transforms.ops.fidelity import measure_fidelity, summarise_fidelity, within_target

    t0 = time.perf_counter()
    data = ensure_data(root, people, seed, days)
    meta = json.loads((data / "generation.json").read_text())
    first = date.fromisoformat(str(meta["args"].get("first_night", "2026-11-01")))
    as_of = first + timedelta(days=days - 1)
    t1 = time.perf_counter()
    records, events = tokens_zone(data, contacts=contacts)
    t2 = time.perf_counter()
    index, link_t = link(records, night=as_of)
    t3 = time.perf_counter()
    truth = pd.read_parquet(data / "truth.parquet")
    clusters = evaluate_against_truth(
        index[index["record_status"] == "active"][["source", "source_record_id", "person_key"]],
        truth.merge(
            records.loc[records["record_status"] != "Merged", ["source", "source_record_id"]],
            on=["source", "source_record_id"],
        ),
    )
    # 18-64 / 65+ population of the synthetic county: the generator's age mix (58% / 22%),
    # every district the records name counted as in the county (bench only)
    districts = sorted(records["district"].dropna().astype(str).unique())
    population = pd.DataFrame(
        [
            {"district_code": d, "district_name": d, "in_county": True, "age_band": band,
             "population": share * people / max(len(districts), 1)}
            for d in districts
            for band, share in (("18-64", 0.58), ("65+", 0.22))
        ]
    )  # fmt: skip
    fidelity = measure_fidelity(
        records, events, index, truth, as_of=as_of, population=population, breakdowns=None
    )
    t4 = time.perf_counter()
    if baseline:
        unlinked = unlinked_keys(records)
        base = measure_fidelity(
            records, events, unlinked, truth, as_of=as_of, population=population
        )
    overall = fidelity[fidelity["breakdown"] == "all"]
    summary = summarise_fidelity(overall)
    met, worst = within_target(fidelity, "still_at_home_91", target, statuses=("final",))

    print(f"\n=== {people:,} people, seed {seed}, {days} night(s), as of {as_of} ===")
    print(
        f"records {len(records):,} ({int((records.record_status == 'Merged').sum()):,} merged), "
        f"events {len(events):,}, persons linked {index.person_key.nunique():,}, "
        f"true persons {truth.true_person_id.nunique():,}"
    )
    print(
        f"time: generate {t1 - t0:.1f}s, tokens {t2 - t1:.1f}s, link {t3 - t2:.1f}s "
        f"(train {link_t['train_s']:.1f}s, predict {link_t['predict_s']:.1f}s), "
        f"build+measures x2 {t4 - t3:.1f}s; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )
    print(
        f"clusters vs truth: P={clusters['precision']:.5f} R={clusters['recall']:.5f} | "
        f"cross P={clusters['cross_precision']:.5f} R={clusters['cross_recall']:.5f} | "
        f"within P={clusters['within_precision']:.5f} R={clusters['within_recall']:.5f}"
    )
    print("\nworst |linked - truth| per measure (breakdown 'all', final + provisional periods):")
    for r in summary.itertuples():
        print(
            f"  {r.measure_id:30s} {r.max_abs_difference:8.3f} {r.difference_unit:9s} "
            f"(mean {r.mean_abs_difference:.3f}; {r.rows_compared} periods; worst "
            f"{r.worst_period_start:%Y-%m-%d}..{r.worst_period_end:%Y-%m-%d})"
        )
    if baseline:
        print(
            "\nfor scale - no linkage at all (every record its own person; DCC merges kept), "
            "worst |unlinked - truth|:"
        )
        for r in summarise_fidelity(base).itertuples():
            print(f"  {r.measure_id:30s} {r.max_abs_difference:8.3f} {r.difference_unit}")
    print("\nstill_at_home_91 by period (breakdown 'all'):")
    rows = overall[overall["measure_id"] == "still_at_home_91"]
    for r in rows.itertuples():
        vt = "   -  " if pd.isna(r.value_truth) else f"{100 * r.value_truth:6.2f}%"
        vl = "   -  " if pd.isna(r.value_linked) else f"{100 * r.value_linked:6.2f}%"
        d = "    -" if pd.isna(r.difference) else f"{r.difference:+6.3f} pp"
        print(
            f"  {_fmt_period(r)} {r.status:11s} truth {vt} (n={r.denominator_truth:,.0f}) "
            f"linked {vl} (n={r.denominator_linked:,.0f})  {d}"
        )
    scope = "" if people >= TARGET_PEOPLE else f" (the target is set at {TARGET_PEOPLE:,} people)"
    print(
        f"\nTARGET |difference| <= {target} pp on every final period of still_at_home_91: "
        f"{'MET' if met else 'NOT MET'} (worst {worst:.3f} pp){scope}"
    )
    out = root / f"fidelity_{people}_s{seed}_d{days}.parquet"
    fidelity.to_parquet(out, index=False)
    print(f"full comparison (every breakdown): {out}")
    return {"people": people, "met": met, "worst_pp": worst}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, nargs="+", default=[20_000])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--no-contacts", action="store_true")
    ap.add_argument("--target", type=float, default=0.5)
    ap.add_argument(
        "--no-baseline", action="store_true", help="skip the no-linkage comparison (for scale)"
    )
    args = ap.parse_args()
    root = args.data_root or Path(tempfile.mkdtemp(prefix="bench_fidelity_"))
    root.mkdir(parents=True, exist_ok=True)
    results = [
        run(
            n,
            args.seed,
            args.days,
            root,
            contacts=not args.no_contacts,
            target=args.target,
            baseline=not args.no_baseline,
        )
        for n in args.people
    ]
    at_target = [r for r in results if r["people"] >= TARGET_PEOPLE]
    return 0 if all(r["met"] for r in at_target) else 1


if __name__ == "__main__":
    sys.exit(main())
