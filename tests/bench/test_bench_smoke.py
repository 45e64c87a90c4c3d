"""Smoke tests of the benchmark code paths at tiny scale (fast; figures are not checked
against targets, only that every path runs and produces real, sensible output).

* the clear-text Splink baseline and our model on the same records, each in its child;
* the pipeline bench: a full night then an incremental night through ``run_night``;
* the Spark demo (in the Spark environment ``make test`` builds; a failure under CI
  when neither it nor pyspark is there).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

PEOPLE = 1000
BENCH_KEY_MATERIAL = "4f1c2a9b7e3d5c6a8b0e1f2d3c4b5a697887a6b5c4d3e2f1a0b9c8d7e6f5a4b3"

pytestmark = pytest.mark.slow  # about a minute: run by make test, not by plain pytest


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """1,000 synthetic people over two nights (about a second to generate)."""
    out = tmp_path_factory.mktemp("bench_smoke") / f"syn{PEOPLE}"
    subprocess.run(
        [sys.executable, "-m", "transforms.synthetic", "--people", str(PEOPLE), "--days", "2",
         "--seed", "3", "--out", str(out), "--workers", "1"],
        check=True, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    return out


@pytest.mark.timeout(120)
def test_cleartext_baseline_and_ours_on_the_same_records(sources, tmp_path):
    import cleartext_baseline as cb

    std = cb.standardised_persons(sources)
    truth = pd.read_parquet(sources / "truth.parquet")
    result = cb.compare(std, truth, tmp_path / "compare")

    active = cb.active(std)
    assert result["records"] == len(active) > 500
    # the clear values written for the children are removed again
    assert not list((tmp_path / "compare").glob("std_*.parquet"))
    base, ours = result["baseline"], result["ours"]
    for side in (base, ours):
        assert side["train_s"] > 0 and side["predict_s"] > 0 and side["peak_rss_mb"] > 50
    # real linkage happened: both find most true pairs, with few false ones
    assert base["f1"]["tp"] > 50 and base["f1"]["f1"] > 0.8
    assert ours["f1"]["tp"] > 50 and ours["f1"]["f1"] > 0.9
    assert result["time_ratio"] == pytest.approx(ours["wall_s"] / base["wall_s"])
    assert ours["pseudonymise_records"] == len(std)
    assert ours["pseudonymise_records_per_s"] > 0
    pairs = pd.read_parquet(tmp_path / "compare" / "baseline_pairs.parquet")
    assert {"source_l", "source_record_id_l", "match_probability"} <= set(pairs.columns)
    assert pairs["match_probability"].between(0.5, 1.0).all()


@pytest.mark.timeout(120)
def test_fair_baseline_blocks_on_our_rules_in_clear(sources):
    """The baseline's default blocking is our model's: each rule makes as many pairs
    over the clear keys as over the tokens (the names-swapped rule aside: its filter is a
    Bloom-filter Dice for us, the names exchanged for the baseline)."""
    import cleartext_baseline as cb
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from transforms.config import LinkSettings
    from transforms.keys import key_from_material
    from transforms.link.blocking import BLOCKING_RULES, blocking_counts
    from transforms.pseudonymise import pseudonymise_persons

    std = cb.active(cb.standardised_persons(sources))
    tokens = pseudonymise_persons(std, key_from_material(BENCH_KEY_MATERIAL))
    ours = blocking_counts(tokens, link_settings=LinkSettings.from_env())["marginal_pairs"].tolist()
    import duckdb
    from splink import DuckDBAPI

    frame = cb.clear_frame(std)
    clear = count_comparisons_from_blocking_rules(
        DuckDBAPI(connection=duckdb.connect()).register(frame),
        blocking_rules=cb.clear_rules(BLOCKING_RULES),
        link_type="dedupe_only",
        unique_id_column_name="uid",
        record_sample_proportion=1.0,
    )
    clear = [r["marginal_comparison_count"] for r in clear]
    assert sum(ours) > 100
    assert clear[:-1] == ours[:-1]
    assert (
        cb.baseline_settings()
        .get_settings("duckdb")
        .as_dict()["blocking_rules_to_generate_predictions"][1]["blocking_rule"]
        == "l.tok_dob = r.tok_dob"
    )


def test_clear_frame_keeps_only_valid_nhs_numbers():
    import cleartext_baseline as cb

    std = pd.DataFrame(
        {
            "source": ["dcc", "dchs"],
            "source_record_id": ["MOS1", "S1"],
            "given_name": ["ANN", None],
            "family_name": ["LEE", "LEE"],
            "date_of_birth": pd.to_datetime(["1950-02-03", None]),
            "postcode": ["DE4 3AG", None],
            "postcode_district": ["DE4", None],
            "nhs_number": ["9434765919", "1111111111"],
            "nhs_number_valid": [True, False],
        }
    )
    frame = cb.clear_frame(std, blocking="tutorial")
    assert frame["uid"].tolist() == ["dcc:MOS1", "dchs:S1"]
    # missing is a real null (pandas 3 strings: NaN), so DuckDB sees NULL, not 'None'
    assert frame["nhs_number"].iloc[0] == "9434765919" and pd.isna(frame["nhs_number"].iloc[1])
    assert frame["date_of_birth"].iloc[0] == "1950-02-03"
    assert frame["birth_year"].iloc[0] == "1950"
    assert frame[["date_of_birth", "birth_year"]].iloc[1].isna().all()
    import duckdb

    con = duckdb.connect()
    con.register("f", frame)
    assert con.execute("select count(*) from f where nhs_number is null").fetchall() == [(1,)]


@pytest.mark.timeout(180)
def test_pipeline_bench_full_then_incremental_night(sources, tmp_path):
    import bench_pipeline

    out = tmp_path / "figures.json"
    code = bench_pipeline.main(
        ["--people", str(PEOPLE), "--nights", "2", "--sources", str(sources), "--work",
         str(tmp_path / "work"), "--no-baseline", "--json", str(out)]
    )  # fmt: skip
    report = json.loads(out.read_text())
    (scale,) = report["scales"]
    failures = [
        f"{n['night']} {n['failed_stage']}: {n['error']}"
        for n in scale["nights"]
        if n["failed_stage"]
    ]
    assert not failures, failures
    assert code == 0
    full, inc = scale["nights"]
    assert (full["kind"], inc["kind"]) == ("full", "incremental")
    for night in (full, inc):
        assert night["failed_stage"] is None, night["error"]
        assert [s["stage"] for s in night["stages"]] == bench_pipeline.STAGES
        assert all(s["wall_s"] > 0 and s["peak_rss_mb"] > 0 for s in night["stages"])
    published = next(s for s in full["stages"] if s["stage"] == "publish")
    assert published["rows"] > PEOPLE and published["rows_per_s"] > 0
    assert full["link_summary"]["incremental_linkage"] == 0
    assert inc["link_summary"]["incremental_linkage"] == 1
    change = inc["change"]
    assert 0 < change["person_records_changed"] < change["person_records"]
    assert 0 < change["person_change_fraction"] < 0.2
    names = [t["target"] for t in scale["targets"]]
    assert "full night wall" in names and "incremental night wall (slowest)" in names
    assert next(t for t in scale["targets"] if t["target"] == "full night wall")["status"] in (
        "met",
        "NOT met",
    )


def test_scaling_exponent():
    import bench_pipeline

    assert bench_pipeline.exponent(10.0, 40.0, 200_000, 800_000) == pytest.approx(1.0)
    assert bench_pipeline.exponent(10.0, 160.0, 200_000, 800_000) == pytest.approx(2.0)
    assert bench_pipeline.exponent(None, 1.0, 1, 2) is None


#: ``make test`` installs pyspark in an environment of its own (``make spark-env``)
SPARK_PYTHON = ROOT / ".venv-spark" / "bin" / "python"


@pytest.mark.slow  # a JVM start alone is ~20 s
@pytest.mark.timeout(600)
def test_spark_backend_gives_the_same_pairs(sources, tmp_path):
    """The model trained on DuckDB scores the same pairs on Splink's Spark backend (a
    local SparkSession): here when pyspark is installed beside the tests, else in the
    Spark environment ``make test`` builds. Under CI neither is a failure."""
    if importlib.util.find_spec("pyspark") is None:
        if not SPARK_PYTHON.exists():
            message = f"pyspark not installed here and no {SPARK_PYTHON} (make spark-env)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        out = tmp_path / "spark.json"
        done = subprocess.run(
            [str(SPARK_PYTHON), str(BENCH / "spark_linkage_demo.py"), "--people", "1000",
             "--seed", "3", "--work", str(tmp_path / "work"), "--json", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=540,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        result = json.loads(out.read_text())
        assert result["duckdb_pairs"] > 20
        assert result["only_duckdb"] == result["only_spark"] == 0
        assert result["max_abs_probability_diff"] < 1e-9
        assert result["gamma_mismatches"] == 0
        return
    import spark_linkage_demo as demo

    from transforms.config import LinkSettings
    from transforms.link.predict import predict_pairs
    from transforms.link.training import train_model

    link_settings = LinkSettings.from_env()
    records = demo.load_person_records(sources)
    model = train_model(records, link_settings=link_settings)

    duck = predict_pairs(records, model=model, link_settings=link_settings, threshold=0.5)
    spark = demo.spark_session(tmp_path)
    try:
        on_spark = demo.predict_on_spark(records, model, spark, 0.5)
    finally:
        spark.stop()
    result = demo.compare_pairs(duck, on_spark)
    assert result["duckdb_pairs"] > 20
    assert result["only_duckdb"] == result["only_spark"] == 0
    assert result["max_abs_probability_diff"] < 1e-9
    assert result["gamma_mismatches"] == 0


@pytest.mark.slow  # two JVM-backed nights: about a minute
@pytest.mark.timeout(900)
def test_link_step_on_spark_gives_the_same_pairs_and_person_keys(tmp_path):
    """CARE_LINK_BACKEND=spark: a full night and an incremental night of the link step on
    Splink's Spark backend (local session) give the DuckDB pairs, probabilities, levels
    and person keys. Here when pyspark is installed beside the tests, else in the Spark
    environment ``make test`` builds; under CI neither is a failure."""
    if importlib.util.find_spec("pyspark") is None:
        if not SPARK_PYTHON.exists():
            message = f"pyspark not installed here and no {SPARK_PYTHON} (make spark-env)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        out = tmp_path / "night.json"
        done = subprocess.run(
            [str(SPARK_PYTHON), str(BENCH / "spark_link_night.py"), "--people", "1000",
             "--seed", "3", "--work", str(tmp_path / "work"), "--json", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=840,
            env={**os.environ, "CARE_DATA_DIR": str(tmp_path / "data")},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        result = json.loads(out.read_text())
    else:
        import spark_link_night

        result = spark_link_night.run(1000, 3, tmp_path / "work")
    assert result["changed_night2"] > 0
    for night in ("full", "incremental"):
        r = result[night]
        assert r["duckdb_pairs"] > 20
        assert r["only_duckdb"] == r["only_spark"] == 0
        assert r["max_abs_probability_diff"] < 1e-9
        assert r["gamma_mismatches"] == 0
        assert r["same_person_keys"]
