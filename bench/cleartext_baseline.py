"""Clear-text Splink baseline: what linkage costs without pseudonymisation.

    .venv/bin/python bench/cleartext_baseline.py --data DIR       # a synthetic folder
    .venv/bin/python bench/cleartext_baseline.py --people 20000   # generate one first

The baseline is Splink 5 on DuckDB over the CLEAR standardised fields
(``transforms.standardise.person.STD_PERSON``) of the same person records our pipeline links,
set up the way Splink's own tutorials and documented example settings do it:

* comparisons from ``splink.comparison_library``: ``NameComparison`` (exact with term
  frequencies, Jaro-Winkler 0.92 / 0.88 / 0.7) on given and family name,
  ``DateOfBirthComparison`` (exact, Levenshtein <= 1, within a month / a year / ten
  years), ``PostcodeComparison`` (full, sector, district, area), ``ExactMatch`` on the
  NHS number (valid numbers only: an invalid one is null, the standardise step already
  says which);
* blocking (``--blocking ours``, the default): **the same rules as our model**
  (``transforms.link.blocking.BLOCKING_RULES``) over the very values our tokens are made of, in
  clear (the tokeniser's HMAC replaced by the identity: ``clear_tokens``), so the ratio
  of the two measures what pseudonymisation costs. The one rule that filters with a
  Bloom-filter Dice (names swapped at one address) filters with the two names
  exchanged instead. ``--blocking tutorial``: the earlier ``block_on`` rules (NHS
  number; date of birth; family name + birth year; given name + postcode district;
  postcode + family name), which score many more pairs;
* unsupervised training as in the tutorials: lambda from deterministic rules (NHS
  number; exact name + date of birth) with ``recall=0.7``, u by random sampling with the
  same ``max_pairs`` and seed our model uses, m by EM on (given, family name) and on date
  of birth;
* matches: pairs at ``match_probability >= BASELINE_THRESHOLD`` (0.95, the threshold
  the Splink tutorials cluster at).

Ours is ``transforms.link`` (``training.train_model`` + ``predict.predict_pairs``) over the
pseudonymised records, at ``MATCH_THRESHOLD`` (0.98), plus the deterministic NHS-number
pass the pipeline runs before it. Both are timed the same way (register + train +
predict + fetch the pairs), each in its own child process so each peak RSS is its own.
F1 is pairwise, against ``truth.parquet`` restricted to the records linked.

The same child also times ``pseudonymise_persons`` on the clear records it is given
(person records/s: the pseudonymisation throughput target).
"""

from __future__ import annotations

import argparse
import json
import logging
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

from bench_linkage import BENCH_KEY, ensure_data  # noqa: E402

log = logging.getLogger("cleartext_baseline")

#: Splink's tutorials cluster at 0.95; the baseline's matches are pairs at or above it.
BASELINE_THRESHOLD = 0.95
#: Same u-sampling budget and seed as ``transforms.link.training.train_model``.
MAX_PAIRS = 2e6
SEED = 42
#: Lambda recall assumed by the Splink tutorials' deterministic-rule estimate.
TUTORIAL_RECALL = 0.7
PAIR_COLUMNS = ["source_l", "source_record_id_l", "source_r", "source_record_id_r"]


# --------------------------------------------------------------------------- inputs
def standardised_persons(data: Path) -> pd.DataFrame:
    """Clear STD_PERSON rows of every person record in a synthetic folder (the last
    version of each DCHS patient; DCC as the database holds it)."""
    import glob
    import sqlite3

    from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient

    with sqlite3.connect(data / "dcc.sqlite") as con:
        dcc = pd.read_sql("SELECT * FROM person", con)
    drops = sorted(glob.glob(str(data / "dchs" / "*" / "patient.csv")))
    dchs = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in drops], ignore_index=True
    ).drop_duplicates("local_patient_id", keep="last")
    for frame, name in ((dcc, "dcc.sqlite"), (dchs, "patient.csv")):
        frame["_source_file"], frame["_source_row"] = name, range(len(frame))
    return pd.concat(
        [standardise_dcc_person(dcc), standardise_dchs_patient(dchs)], ignore_index=True
    )


def standardised_from_landing(landing_dir: Path) -> pd.DataFrame:
    """Clear STD_PERSON rows of one pipeline run's landing zone (what that night saw)."""
    from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient

    return pd.concat(
        [
            standardise_dcc_person(pd.read_parquet(landing_dir / "dcc_person.parquet")),
            standardise_dchs_patient(pd.read_parquet(landing_dir / "dchs_patient.parquet")),
        ],
        ignore_index=True,
    )


def active(std: pd.DataFrame) -> pd.DataFrame:
    """Records the linkage sees: DCC ``Merged`` rows left out, one row per record id."""
    out = std[std["record_status"] != "Merged"]
    return out.drop_duplicates(["source", "source_record_id"], keep="last").reset_index(drop=True)


def _strings(values, keep=None) -> np.ndarray:
    """Object array of str / None (never NaN: DuckDB must see a VARCHAR column)."""
    arr = pd.Series(values).to_numpy(dtype=object, na_value=None)
    if keep is not None:
        arr = np.where(np.asarray(keep, dtype=bool), arr, None)
    return arr


def clear_frame(std: pd.DataFrame, blocking: str = "ours") -> pd.DataFrame:
    """The baseline's Splink input: clear names, date of birth, postcode, NHS number
    (and with ``blocking="ours"`` the clear blocking keys, :func:`clear_tokens`)."""
    dob = pd.to_datetime(std["date_of_birth"], errors="coerce")
    has_dob = dob.notna().to_numpy()
    valid = std["nhs_number_valid"].fillna(False).astype(bool).to_numpy()
    out = pd.DataFrame(
        {
            "uid": _strings(std["source"].astype(str) + ":" + std["source_record_id"].astype(str)),
            "source": _strings(std["source"].astype(str)),
            "source_record_id": _strings(std["source_record_id"].astype(str)),
            "given_name": _strings(std["given_name"]),
            "family_name": _strings(std["family_name"]),
            "date_of_birth": _strings(dob.dt.strftime("%Y-%m-%d"), has_dob),
            "birth_year": _strings(dob.dt.year.astype("Int64").astype(str), has_dob),
            "postcode": _strings(std["postcode"]),
            "postcode_district": _strings(std["postcode_district"]),
            "nhs_number": _strings(std["nhs_number"], valid),
        }
    )
    if blocking == "ours":
        out = pd.concat([out, clear_tokens(std.reset_index(drop=True))], axis=1)
    return out


# ------------------------------------------------------------------------- baseline
def clear_tokens(std: pd.DataFrame) -> pd.DataFrame:
    """The ``tok_*`` columns our pseudonymisation makes of ``std``, holding the clear
    values the tokeniser would have hashed (date of birth and its parts, phonetic and
    canonical names, postcode parts, house number + street): the same blocking keys, in
    clear. Only for the benchmark's clear-text baseline."""
    import os
    from unittest import mock

    from transforms import pseudonymise
    from transforms.keys import key_from_material

    class ClearTokeniser(pseudonymise.Tokeniser):
        def token_array(self, domain, values):
            return values

    with mock.patch.object(pseudonymise, "Tokeniser", ClearTokeniser):
        keys = pseudonymise.pseudonymise_persons(std, key_from_material(os.urandom(32).hex()))
    out = keys[[c for c in keys.columns if c.startswith("tok_")]]
    return out.astype(object).where(out.notna(), None)


def clear_rules(rules: list[str]) -> list[str]:
    """Our blocking rules for the clear keys of :func:`clear_tokens` (the Dice filter of
    names swapped at one address as the two names exchanged; no source condition)."""
    from transforms.link.blocking import CROSS_FILE

    out = []
    for rule in rules:
        rule = rule.replace(f" AND {CROSS_FILE}", "")
        if "bit_count" in rule:
            head = rule.split(" AND (2.0")[0]
            rule = f"{head} AND l.given_name = r.family_name AND l.family_name = r.given_name"
        out.append(rule)
    return out


def baseline_settings(blocking: str = "ours"):
    """Documented-example style Splink settings over the clear fields; ``blocking``:
    ``ours`` (our model's rules over clear keys) or ``tutorial`` (``block_on`` rules)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    from transforms.link.blocking import BLOCKING_RULES

    if blocking == "ours":
        rules = clear_rules(BLOCKING_RULES)
    else:
        rules = [
            block_on("nhs_number"),
            block_on("date_of_birth"),
            block_on("family_name", "birth_year"),
            block_on("given_name", "postcode_district"),
            block_on("postcode", "family_name"),
        ]

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("family_name"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y-%m-%d"
            ),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("nhs_number"),
        ],
        blocking_rules_to_generate_predictions=rules,
        additional_columns_to_retain=["source", "source_record_id"],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def duckdb_connection(memory_limit: str | None = None, temp_dir: Path | None = None):
    """A DuckDB connection with a memory cap and a spill folder (large scale)."""
    import duckdb

    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        Path(temp_dir).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{temp_dir}'")
    return con


def run_baseline(
    std_active: pd.DataFrame,
    *,
    memory_limit: str | None = None,
    temp_dir: Path | None = None,
    predict_threshold: float = 0.5,
    blocking: str = "ours",
) -> tuple[pd.DataFrame, dict]:
    """Train and predict the clear-text model; (pairs >= predict_threshold, timings)."""
    from splink import DuckDBAPI, Linker, block_on

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)
    t0, c0 = time.perf_counter(), time.process_time()
    frame = clear_frame(std_active, blocking)
    db_api = DuckDBAPI(connection=duckdb_connection(memory_limit, temp_dir))
    sdf = db_api.register(frame, dataset_display_name="clear_person")
    linker = Linker(sdf, baseline_settings(blocking), log_level=logging.WARNING)
    t1 = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("given_name", "family_name", "date_of_birth")],
        recall=TUTORIAL_RECALL,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=MAX_PAIRS, seed=SEED)
    for rule in (block_on("given_name", "family_name"), block_on("date_of_birth")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as exc:  # noqa: BLE001 - EM can fail on tiny data
            log.warning("baseline EM on %s failed: %s", rule, exc)
    t2 = time.perf_counter()
    pred = linker.inference.predict(
        threshold_match_probability=predict_threshold, warning_mode="never"
    )
    pairs = db_api.duckdb_con.sql(
        f"SELECT {', '.join(c + s for c in ('source', 'source_record_id') for s in ('_l', '_r'))}, "
        f"match_probability FROM {pred.physical_name}"
    ).df()
    n_pairs = db_api.duckdb_con.sql(f"SELECT count(*) FROM {pred.physical_name}").fetchall()
    t3 = time.perf_counter()
    return pairs[[*PAIR_COLUMNS, "match_probability"]], {
        "blocking": blocking,
        "pairs_at_threshold": int(n_pairs[0][0]),
        "prepare_s": t1 - t0,
        "train_s": t2 - t1,
        "predict_s": t3 - t2,
        "wall_s": t3 - t0,
        "cpu_s": time.process_time() - c0,
    }


def run_ours(
    token_active: pd.DataFrame, *, predict_threshold: float = 0.5
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Our model over tokens, timed like the baseline: (splink pairs, det pairs, timings)."""
    from transforms.config import LinkSettings
    from transforms.link.deterministic import deterministic_pairs
    from transforms.link.predict import predict_pairs
    from transforms.link.training import train_model

    link_settings = LinkSettings.from_env()
    t0, c0 = time.perf_counter(), time.process_time()
    model = train_model(token_active, link_settings=link_settings)
    t1 = time.perf_counter()
    pairs = predict_pairs(
        token_active, model=model, link_settings=link_settings, threshold=predict_threshold
    )
    t2, cpu = time.perf_counter(), time.process_time() - c0
    det = deterministic_pairs(token_active)
    t3 = time.perf_counter()
    return (
        pairs[[*PAIR_COLUMNS, "match_probability"]],
        det,
        {
            "train_s": t1 - t0,
            "predict_s": t2 - t1,
            "wall_s": t2 - t0,
            "cpu_s": cpu,
            "deterministic_s": t3 - t2,
        },
    )


# ------------------------------------------------------------------------ evaluation
def uid_pairs_to_columns(uid_pairs: pd.DataFrame) -> pd.DataFrame:
    """``uid_l``/``uid_r`` (``source:id``) pairs as ``source_l, source_record_id_l, ...``."""
    left = uid_pairs["uid_l"].astype(str).str.split(":", n=1, expand=True)
    right = uid_pairs["uid_r"].astype(str).str.split(":", n=1, expand=True)
    if uid_pairs.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    return pd.DataFrame(
        {
            "source_l": left[0],
            "source_record_id_l": left[1],
            "source_r": right[0],
            "source_record_id_r": right[1],
        }
    )


def unique_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered record pair."""
    a = pairs["source_l"].astype(str) + ":" + pairs["source_record_id_l"].astype(str)
    b = pairs["source_r"].astype(str) + ":" + pairs["source_record_id_r"].astype(str)
    key = a.where(a < b, b) + "|" + b.where(a < b, a)
    return pairs.loc[~key.duplicated()].reset_index(drop=True)


def pair_f1(pairs: pd.DataFrame, truth: pd.DataFrame, records: pd.DataFrame) -> dict:
    """Pairwise precision / recall / F1 of ``pairs`` against the truth of ``records``."""
    from transforms.link.accuracy import evaluate_against_truth

    ids = records[["source", "source_record_id"]].astype(str)
    t = truth.astype({"source": str, "source_record_id": str}).merge(ids)
    m = evaluate_against_truth(unique_pairs(pairs[PAIR_COLUMNS]), t)
    return {k: m[k] for k in ("precision", "recall", "f1", "tp", "fp", "fn")}


# --------------------------------------------------------------------- child phases
# Peak memory is sampled from /proc (transforms.ops.stage_runner.PeakMemory), not taken
# from ru_maxrss: Linux carries ru_maxrss over fork + exec, so a child started by a big
# parent would report the parent's peak.
def child_baseline(
    std_path: Path, out: Path, memory_limit: str | None, temp_dir: Path, blocking: str = "ours"
) -> None:
    from transforms.ops.stage_runner import PeakMemory

    with PeakMemory() as mem:
        std = pd.read_parquet(std_path)
        pairs, timings = run_baseline(
            std, memory_limit=memory_limit, temp_dir=temp_dir, blocking=blocking
        )
    pairs.to_parquet(out / "baseline_pairs.parquet", index=False)
    timings["peak_rss_mb"] = mem.peak
    timings["records"] = len(std)
    (out / "baseline.json").write_text(json.dumps(timings, indent=2))


PSEUDONYMISE_RUNS = 3


def child_ours(std_path: Path, out: Path, active_ids: Path | None) -> None:
    """Pseudonymise the clear records (timed), then our model on the active ones."""
    from transforms.keys import key_from_material
    from transforms.ops.stage_runner import PeakMemory
    from transforms.pseudonymise import pseudonymise_persons

    std = pd.read_parquet(std_path)
    key = key_from_material(BENCH_KEY)
    pseudonymise_persons(std.head(1000), key)  # warm imports and reference tables
    # three timed runs (one figure on this machine varies by a fifth): the first and
    # the median are both reported; the target is read on the median
    runs = []
    for _ in range(PSEUDONYMISE_RUNS):
        t0 = time.perf_counter()
        tokens = pseudonymise_persons(std, key)
        runs.append(time.perf_counter() - t0)
    pseudo_s = float(np.median(runs))
    n_pseudonymised = len(std)
    if active_ids is not None:
        ids = pd.read_parquet(active_ids).astype(str)
        tokens = tokens.merge(ids, on=["source", "source_record_id"])
    else:
        tokens = tokens[tokens["record_status"] != "Merged"]
    tokens = tokens.drop_duplicates(["source", "source_record_id"], keep="last")
    del std
    with PeakMemory() as mem:  # the linkage's own peak (records in memory included)
        pairs, det, timings = run_ours(tokens.reset_index(drop=True))
    pairs.to_parquet(out / "ours_pairs.parquet", index=False)
    uid_pairs_to_columns(det).to_parquet(out / "ours_det_pairs.parquet", index=False)
    timings.update(
        {
            "pseudonymise_records": n_pseudonymised,
            "pseudonymise_s": pseudo_s,
            "pseudonymise_records_per_s": n_pseudonymised / pseudo_s if pseudo_s else None,
            "pseudonymise_runs_s": runs,
            "pseudonymise_first_records_per_s": n_pseudonymised / runs[0],
            "records": len(tokens),
            "peak_rss_mb": mem.peak,
        }
    )
    (out / "ours.json").write_text(json.dumps(timings, indent=2))


def compare(
    std: pd.DataFrame,
    truth: pd.DataFrame,
    work: Path,
    *,
    active_ids: pd.DataFrame | None = None,
    memory_limit: str | None = None,
    skip_ours: bool = False,
    blocking: str = "ours",
) -> dict:
    """Baseline and ours on the same records, each in a child process; the figures.

    ``std``: clear STD_PERSON rows (all of them: ours pseudonymises them all, timed);
    ``active_ids``: the ``source, source_record_id`` both models link (default: the
    non-merged rows of ``std``).
    """
    from transforms.link.comparisons import MATCH_THRESHOLD

    work.mkdir(parents=True, exist_ok=True)
    std_path, base_path = work / "std_all.parquet", work / "std_active.parquet"
    std.to_parquet(std_path, index=False)
    if active_ids is None:
        base = active(std)
    else:
        ids = active_ids[["source", "source_record_id"]].astype(str)
        base = std.astype({"source": str, "source_record_id": str}).merge(ids)
        base = base.drop_duplicates(["source", "source_record_id"], keep="last")
    base.to_parquet(base_path, index=False)
    ids_path = work / "active_ids.parquet"
    base[["source", "source_record_id"]].to_parquet(ids_path, index=False)
    me = [sys.executable, str(Path(__file__).resolve())]
    try:
        cmd = [*me, "--child", "baseline", str(base_path), str(work), "--blocking", blocking]
        if memory_limit:
            cmd += ["--memory-limit", memory_limit]
        subprocess.run(cmd, check=True, cwd=ROOT)
        if not skip_ours:
            cmd = [*me, "--child", "ours", str(std_path), str(work), "--active-ids", str(ids_path)]
            subprocess.run(cmd, check=True, cwd=ROOT)
    finally:
        std_path.unlink(missing_ok=True)  # clear values: do not leave them lying about
        base_path.unlink(missing_ok=True)

    result: dict = {
        "records": len(base),
        "threshold_baseline": BASELINE_THRESHOLD,
        "blocking": blocking,
    }
    b_time = json.loads((work / "baseline.json").read_text())
    b_pairs = pd.read_parquet(work / "baseline_pairs.parquet")
    result["baseline"] = {
        **b_time,
        "f1": pair_f1(b_pairs[b_pairs.match_probability >= BASELINE_THRESHOLD], truth, base),
        "f1_at_0.98": pair_f1(b_pairs[b_pairs.match_probability >= 0.98], truth, base),
    }
    if skip_ours:
        return result
    o_time = json.loads((work / "ours.json").read_text())
    o_pairs = pd.read_parquet(work / "ours_pairs.parquet")
    det = pd.read_parquet(work / "ours_det_pairs.parquet")
    linked = o_pairs[o_pairs.match_probability >= MATCH_THRESHOLD][PAIR_COLUMNS]
    result["threshold_ours"] = MATCH_THRESHOLD
    result["ours"] = {
        **o_time,
        "f1_splink_only": pair_f1(linked, truth, base),
        "f1": pair_f1(pd.concat([linked, det[PAIR_COLUMNS]], ignore_index=True), truth, base),
    }
    result["time_ratio"] = o_time["wall_s"] / b_time["wall_s"]
    result["cpu_ratio"] = o_time["cpu_s"] / b_time["cpu_s"]
    return result


def print_comparison(result: dict, *, ours_label: str = "ours (tokens, same harness)") -> None:
    b = result["baseline"]
    print(
        f"linkage on {result['records']:,} active person records "
        f"(baseline blocking: {result.get('blocking', 'tutorial')}, "
        f"{b.get('pairs_at_threshold', 0):,} baseline pairs >= 0.5)"
    )
    print(
        f"  {'clear-text baseline':32s} wall {b['wall_s']:7.1f}s cpu {b['cpu_s']:6.1f}s "
        f"(train {b['train_s']:.1f}, "
        f"predict {b['predict_s']:.1f})  peak {b['peak_rss_mb']:,.0f} MB  "
        f"F1 {b['f1']['f1']:.5f} @{result['threshold_baseline']} "
        f"(P {b['f1']['precision']:.5f} R {b['f1']['recall']:.5f}; "
        f"F1 @0.98 {b['f1_at_0.98']['f1']:.5f})"
    )
    if "ours" in result:
        o = result["ours"]
        print(
            f"  {ours_label:32s} wall {o['wall_s']:7.1f}s cpu {o['cpu_s']:6.1f}s "
            f"(train {o['train_s']:.1f}, "
            f"predict {o['predict_s']:.1f})  peak {o['peak_rss_mb']:,.0f} MB  "
            f"F1 {o['f1']['f1']:.5f} @{result['threshold_ours']} with deterministic pass "
            f"(P {o['f1']['precision']:.5f} R {o['f1']['recall']:.5f}; "
            f"Splink only {o['f1_splink_only']['f1']:.5f})"
        )
        print(
            f"  ratio ours/baseline {result['time_ratio']:.2f}x wall, "
            f"{result['cpu_ratio']:.2f}x cpu; "
            f"pseudonymise_persons {o['pseudonymise_records']:,} records: median of "
            f"{len(o.get('pseudonymise_runs_s', [0]))} runs {o['pseudonymise_s']:.2f}s = "
            f"{o['pseudonymise_records_per_s']:,.0f} records/s (first run "
            f"{o.get('pseudonymise_first_records_per_s', 0):,.0f})"
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        ap = argparse.ArgumentParser()
        ap.add_argument("--child", choices=["baseline", "ours"])
        ap.add_argument("records", type=Path)
        ap.add_argument("out", type=Path)
        ap.add_argument("--memory-limit", default=None)
        ap.add_argument("--active-ids", type=Path, default=None)
        ap.add_argument("--blocking", choices=["ours", "tutorial"], default="ours")
        a = ap.parse_args(argv)
        logging.disable(logging.WARNING)  # Splink's per-level training notes
        if a.child == "baseline":
            child_baseline(a.records, a.out, a.memory_limit, a.out / "duckdb_tmp", a.blocking)
        else:
            child_ours(a.records, a.out, a.active_ids)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="a synthetic sources folder (truth.parquet in it)")
    src.add_argument("--people", type=int, help="generate this many people (one night) first")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 6GB")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument(
        "--blocking",
        choices=["ours", "tutorial"],
        default="ours",
        help="the baseline's blocking: our model's rules in clear (default), or the "
        "earlier tutorial-style block_on rules",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    work = args.work or Path(tempfile.mkdtemp(prefix="cleartext_baseline_"))
    data = args.data or ensure_data(work, args.people, args.seed)
    std = standardised_persons(data)
    truth = pd.read_parquet(data / "truth.parquet")
    result = compare(
        std, truth, work / "compare", memory_limit=args.memory_limit, blocking=args.blocking
    )
    print_comparison(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
