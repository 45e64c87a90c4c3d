"""Scoring with a trained linkage model: every blocked pair's match probability and its
comparison levels (``gamma_*``), look-alikes capped (:mod:`transforms.link.lookalike_guard`).

:func:`predict_pairs` scores every candidate pair of a set of records (a full night; the
two-file command); :func:`predict_new_against_existing` scores new records against the
rest and each other (an incremental night).
"""

from __future__ import annotations

import pandas as pd

from transforms.config import LinkSettings
from transforms.frames import isin
from transforms.link.backend import (
    duckdb_api,
    for_backend,
    new_linker,
    quiet_splink,
    register,
    spark_api,
)
from transforms.link.blocking import BLOCKING_RULES
from transforms.link.dice import dice_sql
from transforms.link.lookalike_guard import (
    apply_guard,
    mark_slip_of_the_same_name,
    may_be_twins_sql,
    rare_given_spelling_sql,
)
from transforms.link.records import GUARD_CLK, prepare_records

OUTPUT_COLUMNS = [
    "source_l", "source_record_id_l", "source_r", "source_record_id_r",
    "match_probability", "match_weight",
]  # fmt: skip


def prediction_settings(model: dict, blocking_rules: list[str] | None = None) -> dict:
    """The Splink settings that score pairs with a trained ``model``, under
    ``blocking_rules`` (default ``BLOCKING_RULES``)."""
    settings = {k: v for k, v in model.items() if not k.startswith("_")}
    settings.pop("linker_uid", None)
    # blocking is how candidates are found, not part of what was learned: a model is
    # applied with the code's rules, whichever it was trained under
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": br}
        for br in (BLOCKING_RULES if blocking_rules is None else blocking_rules)
    ]
    settings["retain_matching_columns"] = True
    settings["retain_intermediate_calculation_columns"] = False
    settings["additional_columns_to_retain"] = ["source", "source_record_id"]
    return settings


def predict_pairs(
    records: pd.DataFrame,
    *,
    model: dict,
    link_settings: LinkSettings,
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
    :func:`~transforms.link.lookalike_guard.lookalike_caps`, NaN where it has none) and
    ``lookalike_kind`` (:func:`~transforms.link.lookalike_guard.family_kind`).
    ``blocking_rules``: default ``BLOCKING_RULES``
    (see :func:`~transforms.link.blocking.two_file_blocking_rules`).
    ``backend``: ``duckdb`` or ``spark`` (:func:`~transforms.link.backend.link_backend`;
    not with ``one_to_one``); ``link_settings``: its limits and session.
    """
    quiet_splink()
    frame, _ = prepare_records(records)
    if len(frame) < 2:
        return _empty(model)
    if backend == "spark" and one_to_one:
        raise ValueError("one-to-one linking runs on DuckDB")
    if backend == "spark":
        db_api = spark_api(link_settings)
    else:
        db_api = duckdb_api(link_settings, duckdb_con)
    settings = for_backend(prediction_settings(model, blocking_rules), backend)
    linker, sdf = new_linker(db_api, frame, settings)
    if one_to_one:
        df = _fetch(db_api, _predict(linker, threshold), sdf, may_be_twins_sql(model))
        df = mark_slip_of_the_same_name(df, frame)
    else:
        df = _fetch(db_api, _predict(linker, threshold))
    df = apply_guard(df, model, threshold, one_to_one)
    return _finish(df) if len(df) else _empty(model)


def predict_new_against_existing(
    new_records: pd.DataFrame,
    existing_records: pd.DataFrame,
    *,
    model: dict,
    link_settings: LinkSettings,
    threshold: float = 0.5,
    backend: str = "duckdb",
) -> pd.DataFrame:
    """Incremental linkage: pairs of each new record with existing records
    (``predict_between``) plus pairs within the new records (``predict_within``).

    In new-existing pairs the new record is on the left (``*_l``) and the existing one
    on the right (``*_r``). Term frequencies come from existing + new together.
    ``backend``: ``duckdb`` or ``spark`` (:func:`~transforms.link.backend.link_backend`);
    ``link_settings``: its limits and session.
    """
    quiet_splink()
    new_frame, _ = prepare_records(new_records)
    old_frame, _ = prepare_records(existing_records)
    if new_frame.empty:
        return _empty(model)
    overlap = isin(old_frame["uid"], new_frame["uid"])  # Arrow: no Python set of 750,000
    if overlap.any():
        old_frame = old_frame[~overlap].reset_index(drop=True)
    db_api = spark_api(link_settings) if backend == "spark" else duckdb_api(link_settings)
    settings = for_backend(prediction_settings(model), backend)
    all_frame = pd.concat([old_frame, new_frame], ignore_index=True)
    linker, _ = new_linker(db_api, all_frame, settings, name="all_records")
    for col in ("tok_given_name", "tok_family_name"):
        linker.table_management.compute_tf_table(col)
    new_sdf = register(db_api, new_frame, "new_records")
    parts = []
    if not old_frame.empty:
        old_sdf = register(db_api, old_frame, "existing_records")
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
    df = apply_guard(pd.concat(parts, ignore_index=True), model, threshold)
    return _finish(df) if len(df) else _empty(model)


def _predict(linker, threshold: float | None):
    """Splink's prediction of every blocked pair, keeping the comparison levels
    (``gamma_*``) but none of the matching columns.

    Splink 5 keeps ``gamma_*`` in its predictions only together with every column the
    comparisons read (for this model ~130 per pair: the filters' words on both sides),
    and materialising those is most of the cost of a prediction. This is Splink's own
    pipeline (blocked pairs, comparison vectors, match weights) with the levels kept
    the way its training mode keeps them. Works on any Splink backend."""
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.vertically_concatenate import enqueue_df_concat_with_tf

    settings = linker._settings_obj
    settings._retain_matching_columns = False
    settings._retain_intermediate_calculation_columns = False
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    try:
        pipeline = CTEPipeline([blocked])
        enqueue_df_concat_with_tf(linker, pipeline)
        pipeline.enqueue_list_of_sqls(_comparison_vector_sqls(linker))
        pipeline.enqueue_list_of_sqls(_match_weight_sqls(linker, threshold))
        return linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)
    finally:
        blocked.drop_table_from_database_and_remove_from_cache()


def _comparison_vector_sqls(linker) -> list[dict]:
    """Splink's SQL from blocked pairs to their comparison vectors."""
    from splink.internals.comparison_vector_values import (
        compute_comparison_vector_values_from_id_pairs_sqls,
    )

    settings = linker._settings_obj
    info = settings.column_info_settings
    return compute_comparison_vector_values_from_id_pairs_sqls(
        settings._columns_to_select_for_blocking,
        settings._columns_to_select_for_comparison_vector_values,
        input_tablename_l="__splink__df_concat_with_tf",
        input_tablename_r="__splink__df_concat_with_tf",
        source_dataset_input_column=info.source_dataset_input_column,
        unique_id_input_column=info.unique_id_input_column,
        link_type=settings._link_type,
        sql_dialect_str=linker._sql_dialect_str,
    )


def _match_weight_sqls(linker, threshold: float | None) -> list[dict]:
    """Splink's SQL from comparison vectors to match weights and probabilities, keeping
    ``gamma_*`` without the matching columns (as its training mode does)."""
    from splink.internals.dialects import SplinkDialect
    from splink.internals.predict import predict_from_comparison_vectors_sqls

    settings = linker._settings_obj
    return predict_from_comparison_vectors_sqls(
        unique_id_input_columns=settings.column_info_settings.unique_id_input_columns,
        core_model_settings=settings.core_model_settings,
        sql_dialect=SplinkDialect.from_string(settings._sql_dialect_str),
        threshold_match_probability=threshold,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        training_mode=True,  # keeps gamma_* without the matching columns
        additional_columns_to_retain=settings._additional_columns_to_retain,
    )


def _fetch(db_api, splink_df, records_sdf=None, token_rows: str = "TRUE") -> pd.DataFrame:  # noqa: S107 - SQL
    """The output columns of a Splink predictions table, then drop the table.

    ``records_sdf`` (one-to-one): the registered records, joined back on ``uid`` for
    what the one-to-one guard reads (:func:`_guard_reads_sql`)."""
    cols = [c.unquote().name for c in splink_df.columns]
    if db_api.sql_dialect.sql_dialect_str == "spark":
        assert records_sdf is None, "the one-to-one guard's reads are DuckDB's"
        wanted = [c for c in cols if c in OUTPUT_COLUMNS or c.startswith("gamma_")]
        df = splink_df.as_spark_dataframe().select(*wanted).toPandas()
        splink_df.drop_table_from_database_and_remove_from_cache()
        return df
    keep = [f"p.{c}" for c in cols if c in OUTPUT_COLUMNS or c.startswith("gamma_")]
    if records_sdf is None:
        sql = f"SELECT {', '.join(keep)} FROM {splink_df.physical_name} p"
    else:
        sql = _guard_reads_sql(splink_df, keep, records_sdf, token_rows)
    df = db_api.duckdb_con.sql(sql).df()
    splink_df.drop_table_from_database_and_remove_from_cache()
    return df


def _guard_reads_sql(splink_df, keep: list[str], records_sdf, token_rows: str) -> str:
    """The columns ``keep`` of the predictions, with what the one-to-one guard reads:
    ``given_dice`` (the first given names' filters), ``given_spelling_rare``
    (:func:`~transforms.link.lookalike_guard.rare_given_spelling_sql`, from the
    given-name tokens' counts over the records), and, for the rare-spelling pairs only
    (the few that :func:`~transforms.link.lookalike_guard.mark_slip_of_the_same_name`
    reads, and of those the ones where ``token_rows``, SQL over ``p.gamma_*``, holds),
    ``tok_given_name`` and ``tok_given_name_canonical`` ``_l`` / ``_r``."""
    rec_cols = {c.unquote().name for c in records_sdf.columns}
    n_words = sum(1 for c in rec_cols if c.startswith(f"{GUARD_CLK}_w"))
    given = "tok_given_name"
    rare = rare_given_spelling_sql(given)
    extra = [f"coalesce({rare}, false) AS given_spelling_rare"]
    for c in (given, "tok_given_name_canonical"):
        extra += [
            f"CASE WHEN {rare} AND ({token_rows}) THEN {s}.{c} END AS {c}_{s}" for s in ("l", "r")
        ]
    if n_words:
        extra.append(f"{dice_sql(GUARD_CLK, n_words, prefixes=True)} AS given_dice")
    rec = records_sdf.physical_name
    return f"""
        WITH counts AS (SELECT {given}, count(*) AS n FROM {rec} GROUP BY {given})
        SELECT {", ".join([*keep, *extra])}
        FROM {splink_df.physical_name} p
        JOIN {rec} l ON p.uid_l = l.uid
        JOIN {rec} r ON p.uid_r = r.uid
        LEFT JOIN counts cl ON l.{given} = cl.{given}
        LEFT JOIN counts cr ON r.{given} = cr.{given}
    """


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
