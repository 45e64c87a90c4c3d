"""Run a source or output suite over one batch and turn GX's verdict into an outcome."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.contracts import PROVENANCE
from transforms.validation import checks
from transforms.validation.derive import derive_output, derive_source
from transforms.validation.engine import (
    Expectation,
    RuleRun,
    check_against_masks,
    derived_columns_of,
    expectations_of,
    load_suite,
    run_suite,
    unexpected_mask,
)
from transforms.validation.outcome import ValidationOutcome
from transforms.validation.rule_report import breach, failing_rows, rows_frame
from transforms.validation.rules.core import SMALL_BATCH_ROWS, TINY_BATCH_ROWS
from transforms.validation.suites import OUTPUT_SUITES, SOURCE_COLUMNS, SOURCE_KEYS, SOURCE_SUITES

log = logging.getLogger(__name__)

ROW_SEVERITIES = ("error", "warning")


def _parameters(expectations: list[Expectation], rows: int, context: dict) -> dict:
    min_rows = context.get("min_rows")
    if min_rows is None:
        min_rows = 1 if context.get("expect_rows") else 0
    params: dict = {"min_rows": int(min_rows)}
    for e in expectations:
        name = e.mostly_parameter
        if name:
            small = rows < SMALL_BATCH_ROWS
            params[name] = float(e.meta["small_batch_threshold" if small else "threshold"])
            if rows < TINY_BATCH_ROWS:
                params[name] = 0.0
    return params


def _run_checked(docs_dir, name, suite, active, schema, row_frame, params, run_id, masks):
    """Run the suite through GX and attach each rule's row mask, which must agree with
    GX's own count of unexpected rows (``check_against_masks`` raises if not)."""
    runs = run_suite(
        docs_dir,
        name,
        suite.get("meta", {}),
        active,
        {"schema": schema, "rows": row_frame},
        params,
        run_id,
    )
    for rr in runs:
        rr.mask = masks.get(rr.expectation.position)
    check_against_masks(name, runs)
    return runs


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    return False


def _schema_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The batch's columns and dtypes with no rows (text columns as pandas text)."""
    return pd.DataFrame(
        {c: pd.Series([], dtype="str") if _is_text(df[c]) else df[c].iloc[:0] for c in df.columns}
    )


def _work_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every contract column as text on a RangeIndex; an absent column is empty."""
    n = len(df)
    return pd.DataFrame(
        {
            c: checks.text(df[c])
            if c in df.columns
            else pd.Series(np.full(n, np.nan, dtype=object), dtype="str")
            for c in columns
        }
    )


def _encode(col: pd.Series, values_read: bool) -> pd.Series:
    """A table column for the row batch: its values as a categorical when a rule reads
    them (code lists, ranges), else only whether it is recorded. GX filters the whole
    batch once per column rule, and categoricals are cheap to filter."""
    col = col.reset_index(drop=True)
    if values_read:
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            return col
        return col.astype("category")
    codes = np.where(col.isna().to_numpy(), -1, 0).astype(np.int8)
    return pd.Series(pd.Categorical.from_codes(codes, categories=["recorded"]))


def _row_frame(
    table: pd.DataFrame, active: list[Expectation], derived: dict, wanted: list[str], name: str
) -> pd.DataFrame:
    """The row batch: derived check columns plus the table columns a row rule reads."""
    missing = [c for c in wanted if c not in derived]
    if missing:
        raise RuntimeError(f"{name}: derivations do not produce {missing} that the suite reads")
    value_types = {"expect_column_values_to_be_in_set", "expect_column_values_to_be_between"}
    read: dict[str, bool] = {}
    for e in active:
        c = e.column
        if e.meta.get("batch") == "rows" and c and c in table.columns:
            read[c] = read.get(c, False) or e.type in value_types
    columns = {c: _encode(table[c], v) for c, v in read.items()}
    columns.update({c: derived[c].reset_index(drop=True) for c in wanted})
    return pd.DataFrame(columns, index=pd.RangeIndex(len(table)))


def _active(expectations: list[Expectation], present: set[str]) -> list[Expectation]:
    return [e for e in expectations if all(i in present for i in e.inputs)]


def _source_masks(
    active: list[Expectation], row_frame: pd.DataFrame, rows: int
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Each row rule's mask of failing rows, and the rows some error rule fails. Error
    and warning rules go first: batch rules over the rows (``failing_row_share``) read
    ``ok_row`` (no error rule fails the row), added to ``row_frame`` from their masks."""
    masks: dict[int, np.ndarray] = {}
    error_any = np.zeros(rows, dtype=bool)
    for e in active:
        if e.severity in ROW_SEVERITIES:
            mask = unexpected_mask(row_frame, e)
            masks[e.position] = mask
            if e.severity == "error" and mask is not None:
                error_any |= mask
    row_frame["ok_row"] = checks.flag(~error_any).array
    for e in active:
        if e.position not in masks and e.meta.get("batch") == "rows":
            masks[e.position] = unexpected_mask(row_frame, e)
    return masks, error_any


@dataclass
class _SourceFindings:
    """A source suite's runs sorted: quarantined rows (error rules), warned rows
    (warning rules) and batch breaches."""

    warned: np.ndarray
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    findings: list[pd.DataFrame] = field(default_factory=list)
    breaches: list[dict] = field(default_factory=list)
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    warnings_by_rule: dict[str, int] = field(default_factory=dict)


def _sort_source_runs(
    name: str, run_id: str, work: pd.DataFrame, runs: list[RuleRun], rows: int, params: dict
) -> _SourceFindings:
    keys = SOURCE_KEYS[name]
    out = _SourceFindings(warned=np.zeros(rows, dtype=bool))
    for rr in runs:
        e = rr.expectation
        if e.severity == "batch" or rr.error:
            if not rr.success:
                out.breaches.append(breach(rr, rows, params, "source"))
            continue
        if rr.mask is None or not rr.mask.any():
            continue
        part = failing_rows(name, run_id, work, keys, rr)
        if e.severity == "error":
            out.quarantine.append(part)
            out.quarantined_by_rule[e.rule] = len(part)
        else:
            out.findings.append(part)
            out.warnings_by_rule[e.rule] = len(part)
            out.warned |= rr.mask
    return out


def _source_summary(
    name: str,
    rows: int,
    error_any: np.ndarray,
    found: _SourceFindings,
    clean: pd.DataFrame,
    runs: list[RuleRun],
    skipped: list[str],
    started: float,
) -> dict:
    return {
        "suite": name,
        "kind": "source",
        "rows_in": rows,
        "rows_quarantined": int(error_any.sum()),
        "rows_warned": int(found.warned.sum()),
        "rows_clean": len(clean),
        "success": not found.breaches,
        "rules_evaluated": len(runs),
        "rules_skipped": skipped,
        "breaches": [b["rule"] for b in found.breaches],
        "quarantined_by_rule": found.quarantined_by_rule,
        "warnings_by_rule": found.warnings_by_rule,
        "seconds": round(time.monotonic() - started, 3),
    }


def validate_source_table(
    name: str,
    df: pd.DataFrame,
    *,
    run_id: str,
    docs_dir: Path | str,
    context: dict | None = None,
    suites_dir: Path | str | None = None,
) -> ValidationOutcome:
    """Run the ``name`` source suite over a landing frame (every column text, plus
    ``_source_file``/``_source_row``).

    ``context``: ``person_ids`` (set) for event tables, and for ``dcc_person`` the DCC
    ids of earlier nights (an Index) with ``merged_into`` (Series by ``la_person_id`` of
    earlier nights' records: the id merged into, null when not merged); ``death_dates`` (Series by
    ``la_person_id``) for ``dcc_event``; ``referral_dates`` (Series by
    ``service_request_id``) for ``dchs_care_contact``; optionally ``as_of`` (the date
    "in the future" is judged against; default today), ``expect_rows`` / ``min_rows``
    (an empty or small batch is then a breach). ``suites_dir``: the suites' folder
    (``Settings.expectations_dir``), default the repository's ``expectations/``.
    """
    if name not in SOURCE_SUITES:
        raise KeyError(f"no source suite {name!r}; source suites are {SOURCE_SUITES}")
    started = time.monotonic()
    context = context or {}
    suite = load_suite(name, suites_dir)
    expectations = expectations_of(suite)
    columns = [*SOURCE_COLUMNS[name], *PROVENANCE]
    rows = len(df)
    original = df.reset_index(drop=True)
    active = _active(expectations, set(original.columns))
    work = _work_frame(original, columns)
    derived = derive_source(name, work, context)
    wanted = [c for c in derived_columns_of(expectations) if c != "ok_row"]
    row_frame = _row_frame(original, active, derived, wanted, name)
    masks, error_any = _source_masks(active, row_frame, rows)

    params = _parameters(active, rows, context)
    runs = _run_checked(
        docs_dir, name, suite, active, _schema_frame(original), row_frame, params, run_id, masks
    )

    found = _sort_source_runs(name, run_id, work, runs, rows, params)
    skipped = sorted({e.rule for e in expectations if e not in active})
    clean = df.iloc[np.flatnonzero(~error_any)].reset_index(drop=True)
    summary = _source_summary(name, rows, error_any, found, clean, runs, skipped, started)
    log.info(
        "validated %s: %d rows, %d quarantined, %d warned, %d breach(es) in %.1fs",
        name,
        rows,
        summary["rows_quarantined"],
        summary["rows_warned"],
        len(found.breaches),
        summary["seconds"],
    )
    return ValidationOutcome(
        suite=name,
        clean=clean,
        quarantine=rows_frame(found.quarantine),
        findings=rows_frame(found.findings),
        batch_breaches=found.breaches,
        summary=summary,
    )


def _output_breaches(runs: list[RuleRun], rows: int, params: dict, found: dict) -> list[dict]:
    """Every failed rule's breach; ``no_clear_identifiers`` names the columns it found."""
    breaches = []
    for rr in runs:
        if rr.success:
            continue
        b = breach(rr, rows, params, "output")
        if rr.expectation.rule == "no_clear_identifiers" and found:
            b["detail"] += f" Columns: {', '.join(sorted(found))}."
        breaches.append(b)
    return breaches


def _output_summary(
    name: str,
    rows: int,
    masks: dict,
    breaches: list[dict],
    runs: list[RuleRun],
    skipped: list[str],
    started: float,
) -> dict:
    return {
        "suite": name,
        "kind": "output",
        "rows_in": rows,
        "rows_quarantined": 0,
        "rows_warned": 0,
        "rows_failing": int(
            np.logical_or.reduce(
                [m for m in masks.values() if m is not None] or [np.zeros(rows, bool)]
            ).sum()
        ),
        "success": not breaches,
        "rules_evaluated": len(runs),
        "rules_skipped": skipped,
        "breaches": [b["rule"] for b in breaches],
        "seconds": round(time.monotonic() - started, 3),
    }


def validate_output_table(
    name: str,
    df: pd.DataFrame,
    *,
    run_id: str,
    docs_dir: Path | str,
    context: dict | None = None,
    suites_dir: Path | str | None = None,
) -> ValidationOutcome:
    """Run the ``name`` output suite over a built table. Every failed rule is a batch
    breach (nothing is published); ``context``: ``person_keys`` (a set, or an Index of strings), optionally
    ``min_rows`` / ``expect_rows``; ``suites_dir`` as for :func:`validate_source_table`."""
    if name not in OUTPUT_SUITES:
        raise KeyError(f"no output suite {name!r}; output suites are {OUTPUT_SUITES}")
    started = time.monotonic()
    context = context or {}
    suite = load_suite(name, suites_dir)
    expectations = expectations_of(suite)
    rows = len(df)
    frame = df.reset_index(drop=True)
    meta = suite.get("meta", {})
    found: dict[str, int] = {}
    derived = derive_output(name, frame, context, found, list(meta.get("date_columns", [])))
    present = set(frame.columns) & set(meta.get("columns", frame.columns))
    active = _active(expectations, present)
    row_frame = _row_frame(frame, active, derived, derived_columns_of(expectations), name)
    masks = {e.position: unexpected_mask(row_frame, e) for e in active}
    params = _parameters(active, rows, context)
    runs = _run_checked(
        docs_dir, name, suite, active, _schema_frame(frame), row_frame, params, run_id, masks
    )

    breaches = _output_breaches(runs, rows, params, found)
    skipped = sorted({e.rule for e in expectations if e not in active})
    summary = _output_summary(name, rows, masks, breaches, runs, skipped, started)
    log.info(
        "validated output %s: %d rows, %d breach(es) in %.1fs",
        name,
        rows,
        len(breaches),
        summary["seconds"],
    )
    return ValidationOutcome(
        suite=name,
        clean=df,
        batch_breaches=breaches,
        summary=summary,
    )
