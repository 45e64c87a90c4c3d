"""Where Splink runs: DuckDB in the process, or Spark (``LinkSettings``).

Training, and the two-file command, run on DuckDB; the nightly link step scores pairs
on the backend ``LinkSettings.backend`` names. The model's SQL is written for DuckDB;
on Spark it is marked as DuckDB SQL so that Splink translates it (:func:`for_backend`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from transforms.config import LinkSettings

#: Splink on DuckDB in the process, or on Spark (a local session, or the cluster
#: ``LinkSettings.spark_master`` names).
BACKENDS = ("duckdb", "spark")


def link_backend(link_settings: LinkSettings) -> str:
    """``link_settings.backend`` (``CARE_LINK_BACKEND``), checked against ``BACKENDS``."""
    backend = link_settings.backend
    if backend not in BACKENDS:
        raise ValueError(f"CARE_LINK_BACKEND={backend!r}: expected one of {list(BACKENDS)}")
    return backend


def duckdb_limits(link_settings: LinkSettings) -> dict[str, str]:
    """DuckDB settings for linkage: a memory ceiling, and where to spill beyond it."""
    return {
        "memory_limit": link_settings.memory_limit,
        "temp_directory": str(link_settings.temp_dir),
    }


def duckdb_api(link_settings: LinkSettings, duckdb_con=None):
    """Splink's DuckDB backend on ``duckdb_con``, else on a new connection with the
    linkage limits (:func:`duckdb_limits`)."""
    from splink import DuckDBAPI

    if duckdb_con is None:
        import duckdb

        config = duckdb_limits(link_settings)
        # DuckDB makes its spill folder's last level only: a new checkout has no data/tmp
        Path(config["temp_directory"]).mkdir(parents=True, exist_ok=True)
        duckdb_con = duckdb.connect(config=config)
    return DuckDBAPI(connection=duckdb_con)


def spark_session(link_settings: LinkSettings):
    """The active Spark session, else one made for ``link_settings.spark_master``
    (``spark://host:7077``, ``yarn``, ``k8s://...`` for a cluster) with its
    ``spark_conf``. Splink checkpoints on Spark: ``spark_checkpoint_dir`` (a path every
    executor reaches, e.g. on HDFS or S3, for a cluster); a local session's scratch and
    checkpoints default to beside ``temp_dir``."""
    from pyspark.sql import SparkSession

    scratch = Path(duckdb_limits(link_settings)["temp_directory"]).parent / "spark"
    checkpoints = link_settings.spark_checkpoint_dir or str(scratch / "checkpoints")
    active = SparkSession.getActiveSession()
    if active is not None:
        if active.sparkContext.getCheckpointDir() is None:
            active.sparkContext.setCheckpointDir(checkpoints)
        return active
    master = link_settings.spark_master
    builder = (
        SparkSession.builder.master(master)
        .appName("care-linkage")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        # a local session's executors are its driver: Spark's default 1g runs out of heap
        # on tens of thousands of records with their filters' words
        builder = (
            builder.config("spark.local.dir", str(scratch))
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", link_settings.memory_limit.lower()[:-1])
        )
    for k, v in link_settings.spark_conf:
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(checkpoints)
    return spark


def spark_api(link_settings: LinkSettings):
    """Splink's Spark backend on :func:`spark_session`."""
    from splink import SparkAPI

    # the model's SQL needs no UDF (Dice is bit_count over BIGINT words)
    return SparkAPI(spark_session=spark_session(link_settings), register_udfs_automatically=False)


def register(db_api, frame: pd.DataFrame, name: str):
    """``frame`` registered with the backend (Spark from Arrow: nullable ints and
    strings keep their types; under a name of its own, as one session outlives a call)."""
    if db_api.sql_dialect.sql_dialect_str == "spark":
        import uuid

        import pyarrow as pa

        return db_api.register(
            pa.Table.from_pandas(frame, preserve_index=False),
            dataset_display_name=f"{name}_{uuid.uuid4().hex[:8]}",
        )
    return db_api.register(frame, dataset_display_name=name)


def new_linker(db_api, frame: pd.DataFrame, settings: dict, name: str = "person_record"):
    """(a Splink linker over ``frame`` registered as ``name``, the registered frame)."""
    from splink import Linker

    sdf = register(db_api, frame, name)
    return Linker(sdf, settings, log_level=logging.WARNING), sdf


def quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


def for_backend(settings: dict, backend: str) -> dict:
    """Settings for ``backend``: on Spark every SQL fragment is marked as DuckDB SQL, so
    Splink translates it (sqlglot) to Spark SQL; DuckDB's are as they are."""
    if backend == "duckdb":
        return settings
    from copy import deepcopy

    settings = deepcopy(settings)
    for comp in settings["comparisons"]:
        for level in comp["comparison_levels"]:
            if level["sql_condition"].strip().upper() != "ELSE":  # sqlglot cannot parse it
                level["base_dialect_str"] = "duckdb"
    settings["blocking_rules_to_generate_predictions"] = [
        {**(br if isinstance(br, dict) else {"blocking_rule": br}), "sql_dialect": "duckdb"}
        for br in settings["blocking_rules_to_generate_predictions"]
    ]
    return settings
