"""The same linkage model on Splink's Spark backend: beyond one machine, at small scale.

    .venv/bin/uv pip install --python .venv/bin/python pyspark   # optional extra
    .venv/bin/python bench/spark_linkage_demo.py [--people 2000] [--model MODEL.json]

What it shows:

1. the person records of a small synthetic population (``--people``, default 2,000),
   pseudonymised exactly as the pipeline does (``bench_linkage.load_person_records``);
2. the trained model JSON of ``transforms.link.training`` (``--model``, e.g. a
   night's ``build/linkage_model.json``; otherwise trained here on DuckDB);
3. prediction with that model on DuckDB (``predict_pairs``, the pipeline's path), then
   with the very same settings on Splink's Spark backend (``SparkAPI``, local
   SparkSession), the records prepared by the same ``prepare_records``, and the same
   look-alike guard applied to the result;
4. the two sets of scored pairs compared: same pairs, same probabilities.

Dialect: the model's SQL is written for DuckDB. Splink re-targets it with sqlglot when a
comparison level says which dialect it was written in (``base_dialect_str``) and a
blocking rule carries ``sql_dialect``; the trained model JSON already has
``sql_dialect: duckdb`` on its blocking rules, and ``for_spark`` below adds
``base_dialect_str: duckdb`` to every comparison level. The Dice SQL
(``2.0 * (CAST(0 AS INTEGER) + bit_count(w00_l & w00_r) + ...) / (pc_l + pc_r)``)
transpiles to Spark SQL as ``CAST(0 AS INT)`` and ``BIT_COUNT(a & b)``: ``bit_count`` and
``&`` exist in Spark SQL, the CLK words are ``BIGINT`` (signed; Spark has no unsigned
types), and ``/`` is fractional division in both engines. No UDF is needed, so Splink's
similarity jar is not registered (``register_udfs_automatically=False``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_linkage import ensure_data, load_person_records  # noqa: E402

log = logging.getLogger("spark_linkage_demo")
PAIR_KEYS = ["source_l", "source_record_id_l", "source_r", "source_record_id_r"]


def for_spark(model: dict) -> dict:
    """The model's Splink settings with every SQL fragment marked as DuckDB SQL, so that
    Splink translates it (sqlglot) for whichever backend runs it."""
    from transforms.link.backend import for_backend
    from transforms.link.predict import prediction_settings

    return for_backend(prediction_settings(model), "spark")


def spark_sql_preview(model: dict) -> list[tuple[str, str]]:
    """(DuckDB SQL, Spark SQL) of each distinct comparison condition, as Splink makes it."""
    from splink.internals.comparison_level_library import CustomLevel
    from splink.internals.dialects import SplinkDialect

    spark = SplinkDialect.from_string("spark")
    out = []
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            sql = level["sql_condition"]
            if sql.strip().upper() == "ELSE":
                continue
            out.append((sql, CustomLevel(sql, base_dialect_str="duckdb").create_sql(spark)))
    return out


def spark_session(tmp: Path, cores: int = 2, memory: str = "2g"):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("care-linkage-demo")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.default.parallelism", str(cores * 2))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.local.dir", str(tmp / "spark_local"))
        .config("spark.sql.warehouse.dir", str(tmp / "spark_warehouse"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(tmp / "spark_checkpoints"))
    return spark


def predict_on_spark(records: pd.DataFrame, model: dict, spark, threshold: float) -> pd.DataFrame:
    """``predict_pairs`` on Splink's Spark backend: same prepared frame, same settings,
    same guard and output shape."""
    import pyarrow as pa
    from splink import Linker, SparkAPI

    from transforms.link.lookalike_guard import apply_guard
    from transforms.link.predict import OUTPUT_COLUMNS, _finish
    from transforms.link.records import prepare_records

    frame, _ = prepare_records(records)
    db_api = SparkAPI(spark_session=spark, register_udfs_automatically=False)
    # Arrow keeps pandas' nullable ints (CLK popcounts) and strings typed for Spark.
    sdf = db_api.register(
        pa.Table.from_pandas(frame, preserve_index=False), dataset_display_name="person_record"
    )
    linker = Linker(sdf, for_spark(model), log_level=logging.WARNING)
    pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    cols = [c.unquote().name for c in pred.columns]
    keep = [c for c in cols if c in OUTPUT_COLUMNS or c.startswith("gamma_")]
    df = pred.as_spark_dataframe().select(*keep).toPandas()
    df = apply_guard(df, model, threshold)
    return _finish(df)


def compare_pairs(duck: pd.DataFrame, spark: pd.DataFrame) -> dict:
    d = duck.set_index(PAIR_KEYS)["match_probability"]
    s = spark.set_index(PAIR_KEYS)["match_probability"]
    both = d.index.intersection(s.index)
    diff = (d.loc[both] - s.loc[both]).abs()
    gam = [c for c in duck.columns if c.startswith("gamma_")]
    gd = duck.set_index(PAIR_KEYS).loc[both, gam]
    gs = spark.set_index(PAIR_KEYS).loc[both, gam].astype(gd.dtypes.to_dict())
    return {
        "duckdb_pairs": len(d),
        "spark_pairs": len(s),
        "common_pairs": len(both),
        "only_duckdb": len(d.index.difference(s.index)),
        "only_spark": len(s.index.difference(d.index)),
        "max_abs_probability_diff": float(diff.max()) if len(diff) else 0.0,
        "gamma_mismatches": int((gd.to_numpy() != gs.to_numpy()).any(axis=1).sum()),
    }


def run(people: int, seed: int, work: Path, model_path: Path | None, threshold: float) -> dict:
    from transforms.config import LinkSettings
    from transforms.link.predict import predict_pairs
    from transforms.link.training import load_model, train_model

    link_settings = LinkSettings.from_env()
    data = ensure_data(work, people, seed)
    records = load_person_records(data)
    print(f"{len(records):,} active person records (tokens + Bloom filters) from {people:,} people")
    if model_path:
        model = load_model(model_path)
        print(f"model: {model_path}")
    else:
        t0 = time.perf_counter()
        model = train_model(
            records, link_settings=link_settings, model_out=work / "linkage_model.json"
        )
        print(
            f"model trained on DuckDB in {time.perf_counter() - t0:.1f}s -> {work}/linkage_model.json"
        )

    t0 = time.perf_counter()
    duck = predict_pairs(records, model=model, link_settings=link_settings, threshold=threshold)
    duck_s = time.perf_counter() - t0
    print(f"DuckDB: {len(duck):,} pairs >= {threshold} in {duck_s:.1f}s")

    t0 = time.perf_counter()
    spark = spark_session(work)
    start_s = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        on_spark = predict_on_spark(records, model, spark, threshold)
        spark_s = time.perf_counter() - t0
        version = spark.version
    finally:
        spark.stop()
    print(
        f"Spark {version} (local[2]): {len(on_spark):,} pairs >= {threshold} in {spark_s:.1f}s "
        f"(+{start_s:.1f}s session start)"
    )
    result = compare_pairs(duck, on_spark)
    result.update(
        {
            "people": people,
            "records": len(records),
            "threshold": threshold,
            "duckdb_predict_s": duck_s,
            "spark_predict_s": spark_s,
            "spark_session_start_s": start_s,
            "spark_version": version,
        }
    )
    same = result["only_duckdb"] == 0 and result["only_spark"] == 0
    print(
        f"same pairs: {'yes' if same else 'NO'} ({result['common_pairs']:,} common, "
        f"{result['only_duckdb']} only DuckDB, {result['only_spark']} only Spark); "
        f"max |p_duckdb - p_spark| = {result['max_abs_probability_diff']:.2e}; "
        f"pairs whose comparison levels differ: {result['gamma_mismatches']}"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--model", type=Path, default=None, help="a trained model JSON to reuse")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--show-sql", action="store_true", help="print DuckDB -> Spark SQL per level")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print(
            "pyspark is not installed: .venv/bin/uv pip install --python .venv/bin/python pyspark"
        )
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="spark_linkage_"))
    work.mkdir(parents=True, exist_ok=True)
    result = run(args.people, args.seed, work, args.model, args.threshold)
    if args.show_sql:
        from transforms.link.training import load_model

        model = load_model(args.model or work / "linkage_model.json")
        seen = set()
        for duck_sql, spark_sql in spark_sql_preview(model):
            if duck_sql not in seen and duck_sql != spark_sql:
                seen.add(duck_sql)
                print(f"  duckdb: {duck_sql[:110]}\n  spark:  {spark_sql[:110]}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    ok = result["only_duckdb"] == 0 and result["only_spark"] == 0
    return 0 if ok and result["max_abs_probability_diff"] < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
