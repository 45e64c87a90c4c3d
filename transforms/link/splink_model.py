"""The probabilistic (Fellegi-Sunter) linkage model: Splink 5 on DuckDB, over tokens only.

Input is ``contracts.PERSON_RECORD`` rows (both sources, ``Merged`` rows already left
out by the caller). Every comparison is token equality or Dice on Bloom-filter
encodings (see :mod:`transforms.link.dice`); no clear value exists here.

One model, run as de-duplication over the union of both sources, so it scores
cross-system (DCC x DCHS) and within-system (duplicate) pairs alike. The record id is
``uid = source:source_record_id``.

Comparisons (``gamma_<name>`` in the output, 0 = else, -1 = null):

* ``given_name``: exact (TF on ``tok_given_name``) / canonical (nickname) /
  Dice(clk_name) >= 0.9 / phonetic / Dice >= 0.8 / Dice(clk_given, the first given name
  alone) >= ``GIVEN_ONLY_DICE``. ``clk_name`` encodes both names in one
  domain, so a given/family swap still scores a high Dice, and a typo in either name
  does too. Dice >= 0.9 comes before phonetic so that the phonetic level holds the
  less similar (more twin-like) pairs.
* ``family_name``: exact (TF on ``tok_family_name``) / phonetic / Dice >= 0.9 / >= 0.8 /
  shared part (a double-barrelled name and one of its parts: ``tok_family_name_first``
  / ``_last``).
* ``dob``: exact / day-month swap (``tok_dob_swapped_l = tok_dob_r``) / two of three
  parts (ym, yd, md) / same year.
* ``address`` (postcode and address in ONE comparison: ``clk_address`` contains the
  postcode, so separate comparisons would count the same evidence twice): house +
  street and postcode exact / Dice(clk_address) >= 0.9 / same postcode / same house +
  street / Dice >= 0.7 / same sector / same district.
* ``nhs_number``: equal valid-number tokens / both valid and different. Strong, not
  deterministic (the deterministic pass handles the clean cases).
* ``sex``: equal / different (U is null).

Training is unsupervised: lambda from the NHS-number rule (exact demographics when
most records have no number), u by random sampling with a fixed seed, m by EM on two
blocking rules (NHS number; canonical given name + date of birth), so that every
comparison is estimated at least once while not in its own blocking rule; then m
priors/floors (``M_PRIORS``). After scoring, :func:`lookalike_guard` caps family
look-alikes (twins, parent/child) below the link threshold. See docs/linkage.md.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transforms.frames import isin
from transforms.link.dice import (
    DEFAULT_WORDS,
    add_clk_word_columns,
    dice_numpy,
    dice_sql,
    null_sql,
    word_columns,
)

log = logging.getLogger(__name__)

#: Pairs at or above this probability are linked (clusters = connected components).
MATCH_THRESHOLD: float = 0.98
#: Pairs with probability in [low, high) go to the clerical review queue.
REVIEW_BAND: tuple[float, float] = (0.5, 0.98)

MODEL_VERSION = "care-link-1"

TOKEN_COLUMNS = [
    "tok_nhs_number", "tok_dob", "tok_dob_swapped", "tok_dob_ym", "tok_dob_yd", "tok_dob_md",
    "tok_dob_year", "tok_given_name", "tok_family_name", "tok_given_name_canonical",
    "tok_given_name_phonetic", "tok_family_name_phonetic", "tok_postcode",
    "tok_postcode_sector", "tok_postcode_district", "tok_street_number",
]  # fmt: skip
#: Tokens a record encoded before they existed lacks (null: their level never applies).
LATER_TOKEN_COLUMNS = ["tok_family_name_first", "tok_family_name_last"]
CLK_COLUMNS = ["clk_name", "clk_address"]
#: Read by the look-alike guard, and by the given-name level "given Dice >= 0.7" (a
#: model saved before that level existed has none and still applies); records encoded
#: before the filter existed have none (null Dice: the level never applies).
GUARD_CLK = "clk_given"
#: Given-name-only Dice (bigrams + letters) at or above which two different given names
#: read as one name typed twice rather than two people's names (see lookalike_guard).
GIVEN_TYPO_DICE = 0.75
#: One-to-one only: when the rarer of two given-name spellings occurs in no other record
#: of the two files, a Dice at or above this reads as one name typed twice (a typed slip
#: leaves a spelling nobody else has; a sibling's name is a name). Single keyboard slips
#: (neighbour key, drop, double, transpose) of the synthetic sources' 357 given names
#: score >= 0.6 in 99.9% of 11,658 cases under one key (99.2% in names of up to four
#: letters, where one substitution gives 0.66-0.75).
RARE_GIVEN_TYPO_DICE = 0.6
#: The given-name level on the first given name's own filter: a typed given name whose
#: family name is corrupted too (the whole-name filter then falls below 0.8).
GIVEN_ONLY_DICE = 0.7
#: ... or when the rarer spelling is held by at most this share as many records as the
#: other: one slip of a name recurs in a large file (a given slip is about 0.2% of a
#: name's records: a few percent of records carry a typo, spread over ~5 x length
#: possible slips), while two names that are both in use differ far less in frequency.
RARE_SPELLING_SHARE = 0.01
OUTPUT_COLUMNS = [
    "source_l", "source_record_id_l", "source_r", "source_record_id_r",
    "match_probability", "match_weight",
]  # fmt: skip

#: Blocking rules that generate candidate pairs (an OR: a pair is scored once).
#: Every rule is narrow enough that its blocks stay small as the population grows (a
#: pair count of n^2 / cardinality): on 200,000 synthetic people these give 2.2 M
#: candidate pairs and hold 34,077 of the 34,078 true pairs (bench/README.md); the
#: wider "family phonetic + birth year" and "canonical given + postcode district" they
#: replace gave 12.6 M pairs for one more true pair, and 16x that at 800,000 people.
BLOCKING_RULES = [
    "l.tok_nhs_number = r.tok_nhs_number",
    "l.tok_dob = r.tok_dob",
    "l.tok_postcode = r.tok_postcode AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_dob_swapped = r.tok_dob",
    "l.tok_street_number = r.tok_street_number AND l.tok_dob_year = r.tok_dob_year",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic "
    "AND l.tok_dob_md = r.tok_dob_md",
    "l.tok_family_name_phonetic = r.tok_family_name_phonetic AND l.tok_dob_ym = r.tok_dob_ym",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_postcode_sector = r.tok_postcode_sector",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic "
    "AND l.tok_dob_year = r.tok_dob_year",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic "
    "AND l.tok_postcode_district = r.tok_postcode_district",
    # the same house and street with no date of birth or postcode to meet another rule
    # on (a missing date of birth, a missing postcode): +229 pairs on 20,000 people
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_given_name_canonical = r.tok_given_name_canonical",
    # given and family names swapped at the same house, street and district, with no
    # date of birth to meet on: the whole-name filter is the same whichever field
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_postcode_district = r.tok_postcode_district "
    f"AND {dice_sql('clk_name', DEFAULT_WORDS, prefixes=True)} >= 0.8",
]
#: Two-file linking only: one-field rules, for pairs that disagree on all but one of
#: the fields the rules above combine (a date of birth missing, a postcode mistyped and a
#: family name changed at once). Added in this order while the candidate pairs stay
#: within ``WIDE_BLOCKING_BUDGET``: fine for two files of thousands, far too many for a
#: county (a given name alone pairs ~1 in 100 of all records), where they are skipped.
WIDE_BLOCKING_RULES = [
    "l.tok_postcode = r.tok_postcode",
    "l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_given_name_canonical = r.tok_given_name_canonical",
    "l.tok_street_number = r.tok_street_number",
]
WIDE_BLOCKING_BUDGET = 5_000_000
#: ... and within this many candidate pairs per record of the two files, so that the
#: cost grows with the files, not with their square: a one-field rule on a common name
#: pairs ~1 in 100 of the records (FEBRL 4 takes all four at ~40 per record).
WIDE_BLOCKING_PAIRS_PER_RECORD = 50
#: Two-file linking: the condition that keeps a rule to LEFT x RIGHT pairs.
CROSS_FILE = "l.source <> r.source"
#: Two-file linking: the rules that pair records within one file too, as the look-alike
#: caps count the families each file holds (twins: one date of birth, or its day/month
#: swap; couples, parents and children: one family name and one home).
WITHIN_FILE_RULES = [
    "l.tok_dob = r.tok_dob",
    "l.tok_postcode = r.tok_postcode AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_dob_swapped = r.tok_dob",
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
]
#: EM sessions. Neither admits twins (different given names) or parent/child pairs
#: (different dates of birth) in numbers, which would otherwise teach EM that
#: "different given name" or "different NHS number" is common among matches.
EM_BLOCKING_RULES = [
    "l.tok_nhs_number = r.tok_nhs_number",
    "l.tok_given_name_canonical = r.tok_given_name_canonical AND l.tok_dob = r.tok_dob",
]
#: EM sessions when most records lack an NHS number.
FALLBACK_EM_BLOCKING_RULES = [
    "l.tok_dob = r.tok_dob",
    "l.tok_postcode = r.tok_postcode AND l.tok_given_name_canonical = r.tok_given_name_canonical",
]
#: A session that finds no pairs (no UK postcodes in either file; no NHS numbers where
#: most records were thought to have one) is tried again on its alternate, which leaves
#: the same comparisons to estimate (date of birth and address; names are estimated by
#: the other session): otherwise their m would be priors only.
EM_ALTERNATE_RULES = {
    EM_BLOCKING_RULES[0]: FALLBACK_EM_BLOCKING_RULES[0],  # NHS number -> date of birth
    FALLBACK_EM_BLOCKING_RULES[1]: (  # postcode + given name -> given + family name
        "l.tok_given_name_canonical = r.tok_given_name_canonical "
        "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic"
    ),
}
#: m floors/priors per (comparison, level label): used when EM could not see a level,
#: and as a lower bound so one rare disagreement cannot veto a match on its own.
M_PRIORS = {
    ("dob", "same year"): 0.003,
    ("dob", "else"): 0.002,
    ("nhs_number", "else"): 0.002,  # a mistyped number that still passes Modulus 11
    ("given_name", "else"): 0.002,
    ("family_name", "else"): 0.005,  # name changes
    ("address", "else"): 0.01,  # house moves
    ("sex", "else"): 0.002,
}
DEFAULT_M_FLOOR = 0.0005
#: Look-alike guard cap: a guarded pair can reach the review band, never auto-link.
GUARD_CAP = 0.9
DETERMINISTIC_RULES = ["l.tok_nhs_number = r.tok_nhs_number"]
#: For the prior when most records lack an NHS number.
FALLBACK_DETERMINISTIC_RULES = [
    "l.tok_given_name = r.tok_given_name AND l.tok_family_name = r.tok_family_name "
    "AND l.tok_dob = r.tok_dob",
    "l.tok_given_name_canonical = r.tok_given_name_canonical AND l.tok_dob = r.tok_dob "
    "AND l.tok_postcode = r.tok_postcode",
]
FALLBACK_RECALL = 0.85


# --------------------------------------------------------------------------- settings
def _lvl(sql: str, label: str, **extra) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(sql: str) -> dict[str, Any]:
    return _lvl(sql, "null", is_null_level=True)


def _eq(col: str) -> str:
    return f"{col}_l = {col}_r"


#: Term-frequency adjustment never treats a name as rarer than this (u floor): a very
#: rare name is strong evidence, but not enough to outweigh a different date of birth.
TF_MINIMUM_U = 0.001


def _tf(col: str) -> dict[str, Any]:
    return {
        "tf_adjustment_column": col,
        "tf_adjustment_weight": 1.0,
        "tf_minimum_u_value": TF_MINIMUM_U,
    }


def comparisons(n_words: int = DEFAULT_WORDS) -> list[dict[str, Any]]:
    name_dice = dice_sql("clk_name", n_words)
    addr_dice = dice_sql("clk_address", n_words)
    else_ = _lvl("ELSE", "else")
    given = {
        "output_column_name": "given_name",
        "comparison_description": "given name tokens, nickname, phonetic, name CLK Dice",
        "comparison_levels": [
            _null("tok_given_name_l IS NULL OR tok_given_name_r IS NULL"),
            _lvl(_eq("tok_given_name"), "exact", **_tf("tok_given_name")),
            _lvl(_eq("tok_given_name_canonical"), "canonical (nickname)"),
            _lvl(f"{name_dice} >= 0.9", "name Dice >= 0.9"),
            _lvl(_eq("tok_given_name_phonetic"), "phonetic"),
            _lvl(f"{name_dice} >= 0.8", "name Dice >= 0.8"),
            _lvl(
                f"{dice_sql(GUARD_CLK, n_words)} >= {GIVEN_ONLY_DICE}",
                f"given Dice >= {GIVEN_ONLY_DICE}",
            ),
            else_,
        ],
    }
    family = {
        "output_column_name": "family_name",
        "comparison_description": "family name tokens, phonetic, name CLK Dice",
        "comparison_levels": [
            _null("tok_family_name_l IS NULL OR tok_family_name_r IS NULL"),
            _lvl(_eq("tok_family_name"), "exact", **_tf("tok_family_name")),
            _lvl(_eq("tok_family_name_phonetic"), "phonetic"),
            _lvl(f"{name_dice} >= 0.9", "name Dice >= 0.9"),
            _lvl(f"{name_dice} >= 0.8", "name Dice >= 0.8"),
            _lvl(
                "tok_family_name_first_l IN (tok_family_name_first_r, tok_family_name_last_r) "
                "OR tok_family_name_last_l IN (tok_family_name_first_r, tok_family_name_last_r)",
                "shared part",
            ),
            else_,
        ],
    }
    dob = {
        "output_column_name": "dob",
        "comparison_description": "date of birth tokens",
        "comparison_levels": [
            _null("tok_dob_l IS NULL OR tok_dob_r IS NULL"),
            _lvl(_eq("tok_dob"), "exact"),
            _lvl("tok_dob_swapped_l = tok_dob_r", "day/month swapped"),
            _lvl(
                f"{_eq('tok_dob_ym')} OR {_eq('tok_dob_yd')} OR {_eq('tok_dob_md')}",
                "two of three parts",
            ),
            _lvl(_eq("tok_dob_year"), "same year"),
            else_,
        ],
    }
    address = {
        "output_column_name": "address",
        "comparison_description": "postcode tokens, house+street token, address CLK Dice",
        "comparison_levels": [
            _null(
                f"({null_sql('clk_address')}) AND "
                "(tok_postcode_district_l IS NULL OR tok_postcode_district_r IS NULL)"
            ),
            _lvl(f"{_eq('tok_street_number')} AND {_eq('tok_postcode')}", "exact address"),
            _lvl(f"{addr_dice} >= 0.9", "address Dice >= 0.9"),
            _lvl(_eq("tok_postcode"), "same postcode"),
            _lvl(_eq("tok_street_number"), "same house and street"),
            _lvl(f"{addr_dice} >= 0.7", "address Dice >= 0.7"),
            _lvl(_eq("tok_postcode_sector"), "same sector"),
            _lvl(_eq("tok_postcode_district"), "same district"),
            else_,
        ],
    }
    nhs = {
        "output_column_name": "nhs_number",
        "comparison_description": "valid NHS number tokens",
        "comparison_levels": [
            _null("tok_nhs_number_l IS NULL OR tok_nhs_number_r IS NULL"),
            _lvl(_eq("tok_nhs_number"), "equal"),
            else_,
        ],
    }
    sex = {
        "output_column_name": "sex",
        "comparison_description": "recorded sex (U is unknown)",
        "comparison_levels": [
            _null("sex_l IS NULL OR sex_r IS NULL OR sex_l = 'U' OR sex_r = 'U'"),
            _lvl(_eq("sex"), "equal"),
            else_,
        ],
    }
    return [given, family, dob, address, nhs, sex]


def base_settings(n_words: int = DEFAULT_WORDS) -> dict[str, Any]:
    """The untrained model (a Splink settings dictionary)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "uid",
        "probability_two_random_records_match": 1e-5,
        "comparisons": comparisons(n_words),
        "blocking_rules_to_generate_predictions": [{"blocking_rule": br} for br in BLOCKING_RULES],
        # Splink 5 only keeps gamma_* (the evidence) along with the matching columns;
        # the output is projected down to OUTPUT_COLUMNS + gamma_* in SQL (_fetch).
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["source", "source_record_id"],
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }


# ----------------------------------------------------------------------- preparation
def prepare_records(records: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """PERSON_RECORD rows -> the frame Splink reads (tokens, uid, CLK words)."""
    cols = ["source", "source_record_id", *TOKEN_COLUMNS, "sex", *CLK_COLUMNS]
    missing = [c for c in cols if c not in records.columns]
    if missing:
        raise ValueError(f"person records lack columns {missing}")
    df = records[cols].reset_index(drop=True)
    for c in LATER_TOKEN_COLUMNS:
        df[c] = records[c].reset_index(drop=True) if c in records else None
    df[GUARD_CLK] = records[GUARD_CLK].reset_index(drop=True) if GUARD_CLK in records else None
    out = pd.DataFrame(
        {
            "uid": (df["source"].astype(str) + ":" + df["source_record_id"].astype(str)).array,
            "source": df["source"].astype(str).array,
            "source_record_id": df["source_record_id"].astype(str).array,
        }
    )
    for c in [*TOKEN_COLUMNS, *LATER_TOKEN_COLUMNS, "sex"]:
        out[c] = df[c].astype("str").array if len(df) else pd.array([], dtype="str")
    if out["uid"].duplicated().any():
        dup = out.loc[out["uid"].duplicated(), "uid"].iloc[0]
        raise ValueError(f"duplicate person record id {dup!r}")
    n_words = None  # from the first filter found; every CLK has the same size
    for c in [*CLK_COLUMNS, GUARD_CLK]:
        words_df, n_words = add_clk_word_columns(df[[c]], c, n_words=n_words)
        out = pd.concat([out, words_df], axis=1)
    return out, n_words


def _n_words(model: dict) -> int:
    text = json.dumps(model.get("comparisons", []))
    n = 0
    while f"clk_name_w{n:02d}" in text:
        n += 1
    return n or DEFAULT_WORDS


def _db_api(duckdb_con=None):
    from splink import DuckDBAPI

    if duckdb_con is None:
        import duckdb

        config = duckdb_limits()
        # DuckDB makes its spill folder's last level only: a new checkout has no data/tmp
        Path(config["temp_directory"]).mkdir(parents=True, exist_ok=True)
        duckdb_con = duckdb.connect(config=config)
    return DuckDBAPI(connection=duckdb_con)


#: Where the nightly link step scores pairs (``CARE_LINK_BACKEND``): Splink on DuckDB
#: in the process, or on Spark (a local session, or the cluster ``CARE_SPARK_MASTER``
#: names). Training, and the two-file command, run on DuckDB either way.
BACKENDS = ("duckdb", "spark")


def link_backend(env: dict | None = None) -> str:
    """``CARE_LINK_BACKEND`` (default ``duckdb``), checked against ``BACKENDS``."""
    import os

    env = os.environ if env is None else env
    backend = (env.get("CARE_LINK_BACKEND") or "duckdb").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"CARE_LINK_BACKEND={backend!r}: expected one of {list(BACKENDS)}")
    return backend


def spark_session(env: dict | None = None):
    """The active Spark session, else one made from ``CARE_SPARK_MASTER`` (default
    ``local[*]``; ``spark://host:7077``, ``yarn``, ``k8s://...`` for a cluster) with
    ``CARE_SPARK_CONF`` (``key=value`` pairs separated by ``;``). Splink checkpoints
    on Spark: ``CARE_SPARK_CHECKPOINT_DIR`` (a path every executor reaches, e.g. on
    HDFS or S3, for a cluster); a local session's scratch and checkpoints default to
    beside ``CARE_LINK_TEMP_DIR``."""
    import os

    from pyspark.sql import SparkSession

    env = os.environ if env is None else env
    active = SparkSession.getActiveSession()
    if active is not None:
        if active.sparkContext.getCheckpointDir() is None:
            scratch = Path(duckdb_limits(env)["temp_directory"]).parent / "spark"
            active.sparkContext.setCheckpointDir(
                env.get("CARE_SPARK_CHECKPOINT_DIR") or str(scratch / "checkpoints")
            )
        return active
    master = env.get("CARE_SPARK_MASTER") or "local[*]"
    builder = (
        SparkSession.builder.master(master)
        .appName("care-linkage")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    scratch = Path(duckdb_limits(env)["temp_directory"]).parent / "spark"
    if master.startswith("local"):
        # a local session's executors are its driver: Spark's default 1g runs out of heap
        # on tens of thousands of records with their filters' words
        builder = (
            builder.config("spark.local.dir", str(scratch))
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", env.get("CARE_LINK_MEMORY_LIMIT", "6GB").lower()[:-1])
        )
    for item in (env.get("CARE_SPARK_CONF") or "").split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            builder = builder.config(k.strip(), v.strip())
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(
        env.get("CARE_SPARK_CHECKPOINT_DIR") or str(scratch / "checkpoints")
    )
    return spark


def _spark_api():
    from splink import SparkAPI

    # the model's SQL needs no UDF (Dice is bit_count over BIGINT words)
    return SparkAPI(spark_session=spark_session(), register_udfs_automatically=False)


def _register(db_api, frame: pd.DataFrame, name: str):
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


def duckdb_limits(env: dict | None = None) -> dict[str, str]:
    """DuckDB settings for linkage: a memory ceiling, and where to spill beyond it.

    ``CARE_LINK_MEMORY_LIMIT`` (default 6GB, so the night stays under its 8 GB budget
    beside pandas) and ``CARE_LINK_TEMP_DIR`` (default ``$CARE_DATA_DIR/tmp/duckdb``;
    DuckDB's own default is ``.tmp`` in whatever the working directory is)."""
    import os

    from transforms.config import data_dir

    env = os.environ if env is None else env
    return {
        "memory_limit": env.get("CARE_LINK_MEMORY_LIMIT", "6GB"),
        "temp_directory": env.get("CARE_LINK_TEMP_DIR") or str(data_dir(env) / "tmp" / "duckdb"),
    }


def _linker(db_api, frame: pd.DataFrame, settings: dict, name: str = "person_record"):
    from splink import Linker

    sdf = _register(db_api, frame, name)
    return Linker(sdf, settings, log_level=logging.WARNING), sdf


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


def blocking_counts(
    records: pd.DataFrame,
    *,
    record_sample_proportion: float = 1.0,
    rules: list[str] | None = None,
) -> pd.DataFrame:
    """Candidate pairs per prediction blocking rule (``rules``, default
    ``BLOCKING_RULES``): marginal (new pairs the rule adds after the rules before it)
    and cumulative."""
    return _count_pairs(
        _registered(records),
        BLOCKING_RULES if rules is None else rules,
        record_sample_proportion=record_sample_proportion,
    )


def _registered(records: pd.DataFrame):
    """``records`` prepared (:func:`prepare_records`) and registered with a new DuckDB
    linkage connection."""
    frame, _ = prepare_records(records)
    return _db_api().register(frame, dataset_display_name="person_record")


def _count_pairs(sdf, rules: list[str], *, record_sample_proportion: float = 1.0) -> pd.DataFrame:
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    rows = count_comparisons_from_blocking_rules(
        sdf,
        blocking_rules=rules,
        link_type="dedupe_only",
        unique_id_column_name="uid",
        record_sample_proportion=record_sample_proportion,
    )
    return pd.DataFrame(
        {
            "blocking_rule": rules,
            "marginal_pairs": [r["marginal_comparison_count"] for r in rows],
            "cumulative_pairs": [r["cumulative_comparison_count"] for r in rows],
        }
    )


def two_file_blocking_rules(records: pd.DataFrame, budget: int | None = None) -> list[str]:
    """The two-file command's rules: ``BLOCKING_RULES``, then as many of
    ``WIDE_BLOCKING_RULES``, in order, as keep the candidate pairs within ``budget``
    (default ``WIDE_BLOCKING_PAIRS_PER_RECORD`` per record, at most
    ``WIDE_BLOCKING_BUDGET``).

    Only LEFT x RIGHT pairs are links, so every rule but ``WITHIN_FILE_RULES`` is
    restricted to them (``CROSS_FILE``); those few also pair records within one file,
    which the look-alike caps count (:func:`lookalike_caps`: twins share a date of
    birth, couples and parents a family name and a home). A wide rule is taken when
    its pairs fit with those taken so far: bounded from its own cross-file count (a
    group count of its key), counted exactly (Splink's
    ``count_comparisons_from_blocking_rules``) only when the bounds cannot decide, so
    a rule skipped never hides pairs a later one adds; what is skipped is logged."""
    if budget is None:
        budget = min(WIDE_BLOCKING_BUDGET, WIDE_BLOCKING_PAIRS_PER_RECORD * len(records))
    rules = [r if r in WITHIN_FILE_RULES else cross_file(r) for r in BLOCKING_RULES]
    sdf = None
    upper = None  # an upper bound of the pairs of the rules taken
    for rule in WIDE_BLOCKING_RULES:
        own = _cross_file_pairs_of_rule(records, rule)
        if own > budget:
            log.info("two-file blocking: %s skipped (%d pairs alone, over %d)", rule, own, budget)
            continue
        if upper is None:
            sdf = _registered(records)
            upper = int(_count_pairs(sdf, rules)["cumulative_pairs"].iloc[-1])
        if upper + own > budget:
            with_it = int(
                _count_pairs(sdf, [*rules, cross_file(rule)])["cumulative_pairs"].iloc[-1]
            )
            if with_it > budget:
                log.info(
                    "two-file blocking: %s skipped (%d pairs with it, over %d)",
                    rule, with_it, budget,
                )  # fmt: skip
                continue
            upper = with_it
        else:
            upper += own
        rules.append(cross_file(rule))
    log.info(
        "two-file blocking: %d of %d wide rules taken (at most %s candidate pairs)",
        len(rules) - len(BLOCKING_RULES),
        len(WIDE_BLOCKING_RULES),
        "?" if upper is None else f"{upper:,}",
    )
    return rules


def cross_file(rule: str) -> str:
    """``rule`` restricted to pairs of records from different sources."""
    return f"{rule} AND {CROSS_FILE}"


def _cross_file_pairs_of_rule(records: pd.DataFrame, rule: str) -> int:
    """Pairs of records from different sources that an equality rule
    (``l.a = r.a AND l.b = r.b``) makes: per key, the product of each source's count."""
    import re

    cols = re.findall(r"l\.(\w+) = r\.(\w+)", rule)
    if not cols or any(a != b for a, b in cols) or len(cols) != rule.count(" AND ") + 1:
        raise ValueError(f"not an equality rule: {rule}")
    keys = [a for a, _ in cols]
    counts = (
        records[[*keys, "source"]]
        .dropna()
        .assign(n=1)
        .pivot_table(index=keys, columns="source", values="n", aggfunc="sum", fill_value=0)
    )
    if counts.shape[1] < 2:
        return 0
    counts = counts.to_numpy(dtype="float64")
    total = counts.sum(axis=1)
    return int(((total**2 - (counts**2).sum(axis=1)) / 2).sum())


# -------------------------------------------------------------------------- training
def train_model(
    records: pd.DataFrame,
    *,
    model_out: Path | None = None,
    seed: int = 42,
    max_pairs: float = 2e6,
    u_without_matches: bool = False,
) -> dict:
    """Train the model without labels on ``records``; returns the trained settings dict.

    ``model_out``: where to save the trained model JSON (per run, for audit).
    ``u_without_matches``: take the matches out of the sampled u
    (:func:`remove_matches_from_u`); the two-file command does, where two small files
    that overlap much make matches a large share of all pairs.
    """
    _quiet_splink()
    t0 = time.perf_counter()
    frame, n_words = prepare_records(records)
    if len(frame) < 2:
        raise ValueError("need at least two person records to train a linkage model")
    db_api = _db_api()
    settings = base_settings(n_words)
    linker, sdf = _linker(db_api, frame, settings)

    valid = float(frame["tok_nhs_number"].notna().mean()) if len(frame) else 0.0
    if valid >= 0.5:
        rules, recall = DETERMINISTIC_RULES, float(min(0.99, max(0.3, valid**2)))
    else:  # few NHS numbers (e.g. two files without them): exact demographics instead
        rules, recall = FALLBACK_DETERMINISTIC_RULES, FALLBACK_RECALL
    try:
        linker.training.estimate_probability_two_random_records_match(rules, recall=recall)
    except ValueError as exc:  # very small samples: keep the prior
        log.warning("lambda estimate failed (%s); keeping the prior", exc)
    lam = linker._settings_obj._probability_two_random_records_match
    if not 0 < lam < 1:
        log.warning("deterministic rules found no matches; prior kept at 1e-5")
        lam = linker._settings_obj._probability_two_random_records_match = 1e-5
    estimate_u(db_api, sdf, linker, max_pairs=max_pairs, seed=seed)
    em_rules = EM_BLOCKING_RULES if valid >= 0.5 else FALLBACK_EM_BLOCKING_RULES
    for rule in em_rules:
        if not run_em_session(linker, rule) and rule in EM_ALTERNATE_RULES:
            log.warning("EM: trying %s instead", EM_ALTERNATE_RULES[rule])
            run_em_session(linker, EM_ALTERNATE_RULES[rule])
    linker._settings_obj._probability_two_random_records_match = lam  # EM must not move it
    model = apply_u_floor(apply_m_priors(linker.misc.save_model_to_json()), max_pairs)
    if u_without_matches:
        model = remove_matches_from_u(model, lam, max_pairs)
    model.setdefault("linker_uid", None)
    model["_care_meta"] = {
        "model_version": MODEL_VERSION,
        "trained_on_records": int(len(frame)),
        "seed": seed,
        "max_pairs": max_pairs,
        "lambda_recall_assumed": recall,
        "match_threshold": MATCH_THRESHOLD,
        "review_band": list(REVIEW_BAND),
        "n_words": n_words,
        "u_without_matches": u_without_matches,
    }
    if model_out is not None:
        save_model(model, model_out)
    log.info("trained linkage model on %d records in %.1fs", len(frame), time.perf_counter() - t0)
    return model


def estimate_u(db_api, sdf, linker, *, max_pairs: float, seed: int) -> None:
    """u of every comparison level from random pairs, in one pass (DuckDB).

    What Splink's ``estimate_u_using_random_sampling`` estimates (the share of random
    pairs at each level, term frequencies aside), over every pair of a sample of
    records drawn by a seeded hash of their ids, just large enough for ``max_pairs``
    pairs; Splink evaluates each comparison in a pass of its own, ten chunks each,
    which on two files of 24,000 records took most of the training. A level no sampled
    pair reaches is marked not observed, as Splink marks it."""
    from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT

    con = db_api.duckdb_con
    table = sdf.physical_name
    n = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    k = min(n, int(np.ceil((1 + np.sqrt(1 + 8 * max_pairs)) / 2)))  # k(k-1)/2 >= max_pairs
    cols = [c.unquote().name for c in sdf.columns]
    sides = ", ".join(f'{s}."{c}" AS "{c}_{s}"' for c in cols for s in ("l", "r"))
    comps = linker._settings_obj.comparisons
    gammas = ", ".join(c._case_statement for c in comps)
    names = [c._gamma_column_name for c in comps]
    counts = con.sql(
        f"""
        WITH sample AS (
            SELECT * FROM {table} ORDER BY hash(uid || '|{int(seed)}'), uid LIMIT {k}
        ),
        pairs AS (SELECT {sides} FROM sample l JOIN sample r ON l.uid < r.uid)
        SELECT {", ".join(names)}, count(*) AS n FROM (SELECT {gammas} FROM pairs)
        GROUP BY ALL
        """
    ).df()
    for comp, name in zip(comps, names, strict=True):
        per_level = counts.groupby(name)["n"].sum()
        observed = per_level[per_level.index >= 0]  # not the null level
        total = float(observed.sum())
        for lv in comp.comparison_levels:
            if lv.is_null_level:
                continue
            got = float(observed.get(lv.comparison_vector_value, 0))
            lv.u_probability = got / total if got and total else LEVEL_NOT_OBSERVED_TEXT


def run_em_session(linker, rule: str) -> bool:
    """One EM session on ``rule``; False (logged) when it fails, with the model as it was.

    Splink's session takes the comparisons its blocking rule uses out of the linker's own
    settings while it runs and puts them back only when it succeeds: a session that fails
    (its rule finds no pairs) would leave the model without them, silently, and every
    later score would ignore e.g. given names and addresses. So the settings are copied
    before and restored after a failure.
    """
    settings = linker._settings_obj
    before = settings.core_model_settings.copy()
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
        return True
    except Exception as exc:  # noqa: BLE001 - EM can fail on tiny or degenerate data
        settings.core_model_settings = before
        log.warning("EM on %s failed (the model is as before it): %s", rule, exc)
        return False


def apply_m_priors(model: dict) -> dict:
    """Fill untrained m probabilities and floor small ones (``M_PRIORS``), per comparison
    renormalised so the non-null levels' m sum to 1."""
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        fixed = {}
        for lv in levels:
            floor = M_PRIORS.get((name, lv["label_for_charts"]), DEFAULT_M_FLOOR)
            m = lv.get("m_probability")
            if m is None or m < floor:
                fixed[id(lv)] = floor
        free = [lv for lv in levels if id(lv) not in fixed]
        free_total = sum(lv["m_probability"] for lv in free)
        budget = 1.0 - sum(fixed.values())
        for lv in levels:
            if id(lv) in fixed:
                lv["m_probability"] = fixed[id(lv)]
            elif free_total > 0:
                lv["m_probability"] = lv["m_probability"] * budget / free_total
    return model


def apply_u_floor(model: dict, max_pairs: float) -> dict:
    """A level the u sample never saw gets u = 3 / ``max_pairs`` (the rule of three: the
    95% upper bound of a rate seen 0 times in that many pairs), not no u at all. E.g.
    ``family_name`` "shared part" where no record holds a hyphenated family name. A
    comparison the sample never saw at all (``nhs_number`` in two files without
    numbers: only its null level occurs) is left as it is: it carries no evidence."""
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if all(lv.get("u_probability") is None for lv in levels):
            continue
        for lv in levels:
            if lv.get("u_probability") is None:
                lv["u_probability"] = 3.0 / max_pairs
    return model


def remove_matches_from_u(model: dict, lam: float, max_pairs: float) -> dict:
    """u without the matches among the random pairs it was sampled from.

    Random sampling takes every sampled pair as a non-match, so its u for a level is
    ``(1 - lambda) * u + lambda * m``: where matches are a large share of all pairs
    (two small files that overlap much) and a level is rare among non-matches (the same
    date of birth: 1 in ~30,000), the matches dominate it. Solved for u with the
    model's own lambda and m, floored at 3 / ``max_pairs`` (the rule of three)."""
    floor = 3.0 / max_pairs
    for comp in model["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level") or lv.get("u_probability") is None:
                continue
            u, m = lv["u_probability"], lv.get("m_probability") or 0.0
            lv["u_probability"] = max((u - lam * m) / (1 - lam), floor)
    return model


def save_model(model: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(model, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def load_model(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _splink_settings(model: dict, blocking_rules: list[str] | None = None) -> dict:
    settings = {k: v for k, v in model.items() if not k.startswith("_")}
    settings.pop("linker_uid", None)
    # blocking is how candidates are found, not part of what was learned: a model saved
    # under earlier rules is applied with today's
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": br}
        for br in (BLOCKING_RULES if blocking_rules is None else blocking_rules)
    ]
    settings["retain_matching_columns"] = True
    settings["retain_intermediate_calculation_columns"] = False
    settings["additional_columns_to_retain"] = ["source", "source_record_id"]
    return settings


# ------------------------------------------------------------------------ prediction
def _gamma(model: dict, comparison: str, label: str) -> int:
    """The gamma value Splink gives ``label`` of ``comparison`` (else = 0, null = -1)."""
    for comp in model["comparisons"]:
        if comp["output_column_name"] == comparison:
            levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
            labels = [lv["label_for_charts"] for lv in levels]
            return len(labels) - 1 - labels.index(label)
    raise KeyError(f"{comparison}/{label}")


def _has(model: dict, comparison: str, label: str) -> bool:
    """Whether ``comparison`` has a level ``label`` (a model saved before it did not)."""
    try:
        _gamma(model, comparison, label)
    except (KeyError, ValueError):
        return False
    return True


def lookalike_guard(pairs: pd.DataFrame, model: dict, *, one_to_one: bool = False) -> pd.Series:
    """Pairs that look like two members of one family, or two strangers, with no shared
    NHS number (any of :func:`lookalike_kinds`)."""
    return lookalike_kinds(pairs, model, one_to_one=one_to_one).any(axis=1)


#: Look-alike kinds whose cap a two-file link may lift (:func:`lookalike_caps`); the
#: others (two valid NHS numbers that differ; namesakes) keep ``GUARD_CAP``.
FAMILY_KINDS = ("twin_like", "parent_child_like", "spouse_like")


def lookalike_kinds(pairs: pd.DataFrame, model: dict, *, one_to_one: bool = False) -> pd.DataFrame:
    """Pairs that look like two members of one family, or two strangers, with no shared
    NHS number:

    * twin-like: same (or phonetically equal, or sharing a part) family name and the
      same date of birth (or its day/month swap; or, at the same home, two of its three
      parts: a twin's date with one digit mistyped), given names not equal,
      nickname-equivalent or within whole-name Dice 0.9 (on 200,000 synthetic people the phonetic level held 58 true
      matches and 7 twins, the Dice 0.8 level about 60 and 50);
    * parent/child-like: same family name, equal given names and the same address,
      dates of birth sharing at most the year;
    * spouse-like: same (or close) family name and the same home, recorded sexes that
      differ (a record's sex rarely changes between systems; a couple's differs);
    * two valid NHS numbers that differ: the spine says two people (a mistyped number
      that still passes Modulus 11 is rare, and review will find it);
    * a namesake (not with ``one_to_one``): family names not exactly equal and homes no
      closer than the postcode district. Given name and date of birth with a similar
      family name are what two strangers in a county share by chance (on 200,000
      synthetic people: 3 of the 6 within-system false links above the threshold, for
      15 of 33,868 true ones, 0.04% of recall).

    ``one_to_one`` (two de-duplicated files, each record linked at most once): a twin's
    or namesake's own record competes for the link and outscores theirs, so the
    namesake rule is off and a given name typed differently is not a twin's name when
    the first given names' own filter (``clk_given``, bigrams + letters) has Dice >=
    ``GIVEN_TYPO_DICE`` and the recorded sexes do not differ. One typo, dropped letter
    or transposition scores above it (JMES 0.86, MAKR 0.80, KEBIN 0.80), most different
    names below (JAMES/JAMIE 0.72, JOHN/JOAN 0.73, JAMES/JOHN 0.37), but twins with
    near-identical names (the synthetic sources' JULIE/JULIIE) score like typos. A
    substitution in a four-letter name scores 0.66-0.75, where JOHN/JOAN is, so there
    the spellings' frequencies decide (``given_spelling_rare``, from
    :func:`mark_rare_given_spelling`): a slip leaves a spelling that no other record
    holds (or, for a very common name, at most ``RARE_SPELLING_SHARE`` as many), a
    sibling's name is one that others have too; with that, a Dice >=
    ``RARE_GIVEN_TYPO_DICE`` is read as a typo, and so is a rare spelling one slip
    (Dice >= ``GIVEN_TYPO_DICE``) from a spelling in use with the other record's
    canonical name (JIM / JZMES, by JAMES; :func:`mark_slip_of_the_same_name`). In the
    nightly clustering nothing
    competes, so there the guard stays strict and such pairs go to clerical review (on
    200,000 synthetic people the tolerant guard merged 12 twin pairs).

    The independence assumption of the model overcounts family evidence (family name,
    date of birth and address agree because people share a family and a home), so
    such pairs may reach clerical review but are never linked automatically.
    """
    g = {
        c: pairs[f"gamma_{c}"].to_numpy() if f"gamma_{c}" in pairs else np.full(len(pairs), -1)
        for c in ("given_name", "family_name", "dob", "address", "nhs_number", "sex")
    }
    given_strong = np.isin(
        g["given_name"],
        [_gamma(model, "given_name", "exact"), _gamma(model, "given_name", "canonical (nickname)")],
    )
    dob_same = np.isin(
        g["dob"], [_gamma(model, "dob", "exact"), _gamma(model, "dob", "day/month swapped")]
    )
    dob_weak = np.isin(g["dob"], [_gamma(model, "dob", "same year"), _gamma(model, "dob", "else")])
    same_home = np.isin(
        g["address"],
        [
            _gamma(model, "address", "exact address"),
            _gamma(model, "address", "address Dice >= 0.9"),
            _gamma(model, "address", "same house and street"),
        ],
    )
    family = g["family_name"] == _gamma(model, "family_name", "exact")
    family_levels = ["exact", "phonetic", "shared part"]
    family_close = np.isin(
        g["family_name"],
        [
            _gamma(model, "family_name", lv)
            for lv in family_levels
            if _has(model, "family_name", lv)
        ],
    )
    nhs_equal = g["nhs_number"] == _gamma(model, "nhs_number", "equal")
    given_dice = (
        pairs["given_dice"].to_numpy(dtype=float, na_value=np.nan)
        if "given_dice" in pairs
        else np.full(len(pairs), np.nan)
    )
    sex_differs = g["sex"] == _gamma(model, "sex", "else")
    rare_spelling = (
        pairs["given_spelling_rare"].to_numpy(dtype=bool, na_value=False)
        if "given_spelling_rare" in pairs
        else np.zeros(len(pairs), dtype=bool)
    )
    slip_of_same_name = (
        pairs["given_slip_same_name"].to_numpy(dtype=bool, na_value=False)
        if "given_slip_same_name" in pairs
        else np.zeros(len(pairs), dtype=bool)
    )
    typed_twice = (
        (given_dice >= GIVEN_TYPO_DICE)
        | (rare_spelling & (given_dice >= RARE_GIVEN_TYPO_DICE))
        | slip_of_same_name
    )
    given_typo = typed_twice & ~sex_differs & one_to_one
    given_close = (
        given_strong
        | (g["given_name"] == _gamma(model, "given_name", "name Dice >= 0.9"))
        | given_typo
    )
    dob_near = np.isin(g["dob"], [_gamma(model, "dob", "two of three parts")])
    twin_like = family_close & (dob_same | (dob_near & same_home)) & ~given_close
    parent_child_like = family & given_strong & same_home & dob_weak
    spouse_like = family_close & same_home & sex_differs
    nhs_differs = g["nhs_number"] == _gamma(model, "nhs_number", "else")
    far_apart = np.isin(
        g["address"], [_gamma(model, "address", "same district"), _gamma(model, "address", "else")]
    )
    namesake = far_apart & ~family & (not one_to_one)
    return pd.DataFrame(
        {
            "twin_like": twin_like & ~nhs_equal,
            "parent_child_like": parent_child_like & ~nhs_equal,
            "spouse_like": spouse_like & ~nhs_equal,
            "namesake": namesake & ~nhs_equal,
            "nhs_differs": nhs_differs & ~nhs_equal,
        },
        index=pairs.index,
    )


def lookalike_caps(
    pairs: pd.DataFrame, model: dict, kinds: pd.DataFrame | None = None
) -> np.ndarray:
    """Two de-duplicated files: each pair's probability cap, from how common each kind
    of look-alike is in the files themselves (NaN: not a look-alike).

    In a de-duplicated file every pair is two people, so a within-file pair of a family
    kind (twin-like, parent/child-like, spouse-like) is a real family or a real namesake,
    and the files' own count of them (``W``, within LEFT and within RIGHT, among the
    scored candidates) bounds how many cross-file pairs of that kind are two people: a
    family whose members are in both files gives about ``W`` such pairs across them
    (2ab <= a^2 + b^2 for shares a and b of it in each file). The rest of the kind's
    ``N`` cross-file pairs are one person whose given name, date of birth or sex was
    recorded differently. So the kind's cap is ``1 - (W + 1) / N`` (one look-alike
    assumed even when the files show none), never below ``GUARD_CAP``: where the files
    hold families, as records of real people do, it stays at ``GUARD_CAP``; where they
    hold none, a pair of that kind is capped only as far as the files warrant. Whichever
    kind remains, a look-alike whose own record is in the other file still loses to it
    in the one-to-one matching (:mod:`transforms.link.bipartite`), where a
    look-alike's link is bounded again (:func:`transforms.link.cli.link_caps`). Two
    valid NHS numbers that differ keep ``GUARD_CAP``. No answers are read: only the
    pairs' evidence and source. ``kinds``: :func:`lookalike_kinds` of the pairs, when
    already at hand.
    """
    kinds = lookalike_kinds(pairs, model, one_to_one=True) if kinds is None else kinds
    within = (pairs["source_l"] == pairs["source_r"]).to_numpy()
    caps = np.full(len(pairs), np.nan)
    for kind in kinds.columns:
        flagged = kinds[kind].to_numpy(dtype=bool)
        if not flagged.any():
            continue
        cap = GUARD_CAP
        if kind in FAMILY_KINDS:
            w, n = int((flagged & within).sum()), int((flagged & ~within).sum())
            if n:
                cap = max(GUARD_CAP, 1.0 - (w + 1) / n)
            log.info("look-alike %s: %d within the files, %d across -> cap %.4f", kind, w, n, cap)
        caps = np.where(flagged, np.fmin(caps, cap), caps)
    return caps


def mark_rare_given_spelling(pairs: pd.DataFrame, given_tokens: pd.Series) -> pd.DataFrame:
    """``pairs`` with ``given_spelling_rare``: the pair's two given-name spellings
    (``tok_given_name_l`` / ``_r``) differ and the rarer one is held by one record
    among ``given_tokens`` (every record's), or by at most ``RARE_SPELLING_SHARE`` as
    many records as the other (a slip of a very common name recurs: MARH beside MARY).
    Read by the one-to-one guard; token counts only."""
    if pairs.empty or not {"tok_given_name_l", "tok_given_name_r"} <= set(pairs.columns):
        return pairs.assign(given_spelling_rare=False)
    counts = given_tokens.dropna().value_counts()
    a = pairs["tok_given_name_l"].map(counts).to_numpy(dtype=float, na_value=np.nan)
    b = pairs["tok_given_name_r"].map(counts).to_numpy(dtype=float, na_value=np.nan)
    rare, common = np.fmin(a, b), np.fmax(a, b)
    differ = (pairs["tok_given_name_l"] != pairs["tok_given_name_r"]).to_numpy(
        dtype=bool, na_value=False
    )
    with np.errstate(invalid="ignore"):
        is_rare = rare <= np.maximum(1.0, RARE_SPELLING_SHARE * common)
    return pairs.assign(given_spelling_rare=is_rare & differ)


def mark_slip_of_the_same_name(pairs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``pairs`` with ``given_slip_same_name``: the rarer of the two given-name spellings
    (``given_spelling_rare``) is within given-name Dice ``GIVEN_TYPO_DICE`` of a spelling
    that other records hold (two or more) and whose canonical (nickname-resolved) name is
    the other record's: JZMES beside JAMES, against JIM; TOY beside TONY, against
    ANTHONY. A slip and a nickname together leave the two spellings themselves far
    apart. ``frame``: every record, as :func:`prepare_records` makes it (tokens and the
    ``clk_given`` words). Read by the one-to-one guard."""
    out = np.zeros(len(pairs), dtype=bool)
    need = {"given_spelling_rare", "tok_given_name_canonical_l", "tok_given_name_canonical_r"}
    if pairs.empty or not need <= set(pairs.columns) or f"{GUARD_CLK}_pc" not in frame:
        return pairs.assign(given_slip_same_name=out)
    cand = np.flatnonzero(
        pairs["given_spelling_rare"].to_numpy(dtype=bool, na_value=False)
        & pairs["tok_given_name_l"].notna().to_numpy()
        & pairs["tok_given_name_r"].notna().to_numpy()
    )
    if not len(cand):
        return pairs.assign(given_slip_same_name=out)
    n_words = sum(1 for c in frame.columns if c.startswith(f"{GUARD_CLK}_w"))
    wcols = word_columns(GUARD_CLK, n_words)
    spellings = frame.dropna(subset=["tok_given_name", f"{GUARD_CLK}_pc"]).drop_duplicates(
        "tok_given_name"
    )
    counts = frame["tok_given_name"].value_counts()
    held = spellings["tok_given_name"].map(counts).to_numpy(dtype=float)
    in_use = spellings[held >= 2]
    words_of = dict(zip(spellings["tok_given_name"], spellings[wcols].to_numpy(), strict=True))
    sub = pairs.iloc[cand]
    n_l = sub["tok_given_name_l"].map(counts).to_numpy(dtype=float, na_value=np.inf)
    n_r = sub["tok_given_name_r"].map(counts).to_numpy(dtype=float, na_value=np.inf)
    left_rare = n_l <= n_r
    rare = np.where(left_rare, sub["tok_given_name_l"], sub["tok_given_name_r"])
    other_canon = np.where(
        left_rare, sub["tok_given_name_canonical_r"], sub["tok_given_name_canonical_l"]
    )
    by_canon = {c: g[wcols].to_numpy() for c, g in in_use.groupby("tok_given_name_canonical")}
    combos = pd.DataFrame({"rare": rare, "canon": other_canon})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(combos))
    slip = np.zeros(len(uniques), dtype=bool)  # once per (spelling, canonical name)
    for j, (r, c) in enumerate(uniques):
        if r not in words_of or c not in by_canon:
            continue
        names = by_canon[c]
        dice = dice_numpy(np.broadcast_to(words_of[r], names.shape), names)
        slip[j] = bool(np.nanmax(dice) >= GIVEN_TYPO_DICE)
    out[cand] = np.where(codes >= 0, slip[np.maximum(codes, 0)], False)
    return pairs.assign(given_slip_same_name=out)


def family_kind(kinds: pd.DataFrame) -> pd.Series:
    """Per pair, the family kind (``FAMILY_KINDS``) it is a look-alike of, the first
    when several; None when it is none, or also of a kind whose cap is fixed."""
    family = [k for k in FAMILY_KINDS if k in kinds.columns]
    fixed = kinds.drop(columns=family).any(axis=1).to_numpy()
    out = np.full(len(kinds), None, dtype=object)
    for kind in reversed(family):
        out = np.where(kinds[kind].to_numpy(dtype=bool), kind, out)
    return pd.Series(np.where(fixed, None, out), index=kinds.index, dtype=object)


def _apply_guard(
    df: pd.DataFrame, model: dict, threshold: float, one_to_one: bool = False
) -> pd.DataFrame:
    if df.empty or "gamma_given_name" not in df:
        return df
    if one_to_one:
        kinds = lookalike_kinds(df, model, one_to_one=True)
        caps = lookalike_caps(df, model, kinds)
        # kept: the cap, and the kind it may be lifted for, bound the pair as a link
        # too (transforms.link.cli.link_caps)
        df = df.assign(probability_cap=caps, lookalike_kind=family_kind(kinds))
    else:
        caps = np.where(lookalike_guard(df, model).to_numpy(), GUARD_CAP, np.nan)
    guarded = ~np.isnan(caps)
    if guarded.any():
        p = df["match_probability"].to_numpy(dtype=float)
        capped = np.where(guarded, np.fmin(p, caps), p)
        with np.errstate(divide="ignore"):
            capped_weight = np.log2(capped / (1 - capped))
        df = df.assign(
            match_probability=capped,
            match_weight=np.where(
                guarded & (p > capped), capped_weight, df["match_weight"].to_numpy(dtype=float)
            ),
        )
        df = df[df["match_probability"] >= threshold]
    return df


def _predict(linker, threshold: float | None):
    """Splink's prediction of every blocked pair, keeping the comparison levels
    (``gamma_*``) but none of the matching columns.

    Splink 5 keeps ``gamma_*`` in its predictions only together with every column the
    comparisons read (for this model ~130 per pair: the filters' words on both sides),
    and materialising those is most of the cost of a prediction. This is Splink's own
    pipeline (blocked pairs, comparison vectors, match weights) with the levels kept
    the way its training mode keeps them. Works on any Splink backend."""
    from splink.internals.comparison_vector_values import (
        compute_comparison_vector_values_from_id_pairs_sqls,
    )
    from splink.internals.dialects import SplinkDialect
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.predict import predict_from_comparison_vectors_sqls
    from splink.internals.vertically_concatenate import enqueue_df_concat_with_tf

    settings = linker._settings_obj
    settings._retain_matching_columns = False
    settings._retain_intermediate_calculation_columns = False
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    try:
        pipeline = CTEPipeline([blocked])
        enqueue_df_concat_with_tf(linker, pipeline)
        info = settings.column_info_settings
        pipeline.enqueue_list_of_sqls(
            compute_comparison_vector_values_from_id_pairs_sqls(
                settings._columns_to_select_for_blocking,
                settings._columns_to_select_for_comparison_vector_values,
                input_tablename_l="__splink__df_concat_with_tf",
                input_tablename_r="__splink__df_concat_with_tf",
                source_dataset_input_column=info.source_dataset_input_column,
                unique_id_input_column=info.unique_id_input_column,
                link_type=settings._link_type,
                sql_dialect_str=linker._sql_dialect_str,
            )
        )
        pipeline.enqueue_list_of_sqls(
            predict_from_comparison_vectors_sqls(
                unique_id_input_columns=info.unique_id_input_columns,
                core_model_settings=settings.core_model_settings,
                sql_dialect=SplinkDialect.from_string(settings._sql_dialect_str),
                threshold_match_probability=threshold,
                retain_matching_columns=False,
                retain_intermediate_calculation_columns=False,
                training_mode=True,  # keeps gamma_* without the matching columns
                additional_columns_to_retain=settings._additional_columns_to_retain,
            )
        )
        return linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)
    finally:
        blocked.drop_table_from_database_and_remove_from_cache()


def _fetch(db_api, splink_df, records_sdf=None, token_rows: str = "TRUE") -> pd.DataFrame:  # noqa: S107 - SQL
    """The output columns of a Splink predictions table, then drop the table.

    ``records_sdf`` (one-to-one): the registered records, joined back on ``uid`` for
    what the one-to-one guard reads: ``given_dice`` (the first given names' filters),
    ``given_spelling_rare`` (:func:`mark_rare_given_spelling`, from the given-name
    tokens' counts over the records), and, for the rare-spelling pairs only (the few
    that :func:`mark_slip_of_the_same_name` reads, and of those the ones where
    ``token_rows``, SQL over ``p.gamma_*``, holds), ``tok_given_name`` and
    ``tok_given_name_canonical`` ``_l`` / ``_r``."""
    cols = [c.unquote().name for c in splink_df.columns]
    if db_api.sql_dialect.sql_dialect_str == "spark":
        assert records_sdf is None, "the one-to-one guard's reads are DuckDB's"
        wanted = [c for c in cols if c in OUTPUT_COLUMNS or c.startswith("gamma_")]
        df = splink_df.as_spark_dataframe().select(*wanted).toPandas()
        splink_df.drop_table_from_database_and_remove_from_cache()
        return df
    keep = [f"p.{c}" for c in cols if c in OUTPUT_COLUMNS or c.startswith("gamma_")]
    con = db_api.duckdb_con
    if records_sdf is None:
        df = con.sql(f"SELECT {', '.join(keep)} FROM {splink_df.physical_name} p").df()
        splink_df.drop_table_from_database_and_remove_from_cache()
        return df
    rec_cols = {c.unquote().name for c in records_sdf.columns}
    n_words = sum(1 for c in rec_cols if c.startswith(f"{GUARD_CLK}_w"))
    given = "tok_given_name"
    rare = (
        f"(l.{given} <> r.{given} AND least(cl.n, cr.n) "
        f"<= greatest(1, {RARE_SPELLING_SHARE} * greatest(cl.n, cr.n)))"
    )
    extra = [f"coalesce({rare}, false) AS given_spelling_rare"]
    for c in (given, "tok_given_name_canonical"):
        extra += [
            f"CASE WHEN {rare} AND ({token_rows}) THEN {s}.{c} END AS {c}_{s}" for s in ("l", "r")
        ]
    if n_words:
        extra.append(f"{dice_sql(GUARD_CLK, n_words, prefixes=True)} AS given_dice")
    rec = records_sdf.physical_name
    sql = f"""
        WITH counts AS (SELECT {given}, count(*) AS n FROM {rec} GROUP BY {given})
        SELECT {", ".join([*keep, *extra])}
        FROM {splink_df.physical_name} p
        JOIN {rec} l ON p.uid_l = l.uid
        JOIN {rec} r ON p.uid_r = r.uid
        LEFT JOIN counts cl ON l.{given} = cl.{given}
        LEFT JOIN counts cr ON r.{given} = cr.{given}
    """
    df = con.sql(sql).df()
    splink_df.drop_table_from_database_and_remove_from_cache()
    return df


def _may_be_twins_sql(model: dict) -> str:
    """SQL over a prediction's ``gamma_*``: the pairs :func:`lookalike_kinds` may call
    twin-like (family name close, date of birth the same or two of its parts), the
    only ones whose given-name spellings it reads."""
    family = [
        _gamma(model, "family_name", lv)
        for lv in ("exact", "phonetic", "shared part")
        if _has(model, "family_name", lv)
    ]
    dob = [_gamma(model, "dob", lv) for lv in ("exact", "day/month swapped", "two of three parts")]
    return (
        f"p.gamma_family_name IN ({', '.join(map(str, family))}) "
        f"AND p.gamma_dob IN ({', '.join(map(str, dob))})"
    )


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    gammas = [c for c in df.columns if c.startswith("gamma_")]
    cap = ["probability_cap", "lookalike_kind"] if "probability_cap" in df else []
    out = df[[*OUTPUT_COLUMNS, *gammas, *cap]].copy()
    for c in ("source_l", "source_record_id_l", "source_r", "source_record_id_r"):
        out[c] = out[c].astype("str")
    out["match_probability"] = out["match_probability"].astype("float64")
    out["match_weight"] = out["match_weight"].astype("float64")
    return out.sort_values("match_probability", ascending=False, kind="stable").reset_index(
        drop=True
    )


def _empty(model: dict) -> pd.DataFrame:
    gammas = [f"gamma_{c['output_column_name']}" for c in model.get("comparisons", [])]
    data = {c: pd.Series(dtype="str") for c in OUTPUT_COLUMNS[:4]}
    data |= {c: pd.Series(dtype="float64") for c in OUTPUT_COLUMNS[4:]}
    data |= {g: pd.Series(dtype="int64") for g in gammas}
    return pd.DataFrame(data)


def predict_pairs(
    records: pd.DataFrame,
    *,
    model: dict,
    threshold: float = 0.5,
    duckdb_con=None,
    one_to_one: bool = False,
    blocking_rules: list[str] | None = None,
    backend: str = "duckdb",
) -> pd.DataFrame:
    """Scored candidate pairs (cross-system and within-system) at or above ``threshold``.

    Columns: source_l, source_record_id_l, source_r, source_record_id_r,
    match_probability, match_weight, then one ``gamma_<comparison>`` per comparison;
    with ``one_to_one``, also ``probability_cap`` (the pair's look-alike cap from
    :func:`lookalike_caps`, NaN where it has none) and ``lookalike_kind``
    (:func:`family_kind`).
    ``blocking_rules``: default ``BLOCKING_RULES`` (see :func:`two_file_blocking_rules`).
    ``backend``: ``duckdb`` or ``spark`` (:func:`link_backend`; not with ``one_to_one``).
    """
    _quiet_splink()
    frame, _ = prepare_records(records)
    if len(frame) < 2:
        return _empty(model)
    if backend == "spark" and one_to_one:
        raise ValueError("one-to-one linking runs on DuckDB")
    db_api = _spark_api() if backend == "spark" else _db_api(duckdb_con)
    settings = for_backend(_splink_settings(model, blocking_rules), backend)
    linker, sdf = _linker(db_api, frame, settings)
    if one_to_one:
        df = _fetch(db_api, _predict(linker, threshold), sdf, _may_be_twins_sql(model))
        df = mark_slip_of_the_same_name(df, frame)
    else:
        df = _fetch(db_api, _predict(linker, threshold))
    df = _apply_guard(df, model, threshold, one_to_one)
    return _finish(df) if len(df) else _empty(model)


def predict_new_against_existing(
    new_records: pd.DataFrame,
    existing_records: pd.DataFrame,
    *,
    model: dict,
    threshold: float = 0.5,
    backend: str = "duckdb",
) -> pd.DataFrame:
    """Incremental linkage: pairs of each new record with existing records
    (``predict_between``) plus pairs within the new records (``predict_within``).

    In new-existing pairs the new record is on the left (``*_l``) and the existing one
    on the right (``*_r``). Term frequencies come from existing + new together.
    ``backend``: ``duckdb`` or ``spark`` (:func:`link_backend`).
    """
    _quiet_splink()
    new_frame, _ = prepare_records(new_records)
    old_frame, _ = prepare_records(existing_records)
    if new_frame.empty:
        return _empty(model)
    overlap = isin(old_frame["uid"], new_frame["uid"])  # Arrow: no Python set of 750,000
    if overlap.any():
        old_frame = old_frame[~overlap].reset_index(drop=True)
    db_api = _spark_api() if backend == "spark" else _db_api()
    settings = for_backend(_splink_settings(model), backend)
    all_frame = pd.concat([old_frame, new_frame], ignore_index=True)
    linker, _ = _linker(db_api, all_frame, settings, name="all_records")
    for col in ("tok_given_name", "tok_family_name"):
        linker.table_management.compute_tf_table(col)
    new_sdf = _register(db_api, new_frame, "new_records")
    parts = []
    if not old_frame.empty:
        old_sdf = _register(db_api, old_frame, "existing_records")
        between = linker.inference.predict_between(
            new_sdf, old_sdf, threshold_match_probability=threshold, warning_mode="never"
        )
        parts.append(_fetch(db_api, between))
    if len(new_frame) > 1:
        within = linker.inference.predict_within(
            new_sdf, threshold_match_probability=threshold, warning_mode="never"
        )
        parts.append(_fetch(db_api, within))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty(model)
    df = _apply_guard(pd.concat(parts, ignore_index=True), model, threshold)
    return _finish(df) if len(df) else _empty(model)


__all__ = [
    "MATCH_THRESHOLD",
    "REVIEW_BAND",
    "base_settings",
    "load_model",
    "predict_new_against_existing",
    "predict_pairs",
    "prepare_records",
    "save_model",
    "train_model",
]
