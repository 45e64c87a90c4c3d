"""What a rule's run reports: a batch breach (rule, count, a detail that never carries a
data value), or the rows a row rule quarantines or warns about."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.validation.engine import RuleRun
from transforms.validation.outcome import QUARANTINE_COLUMNS
from transforms.validation.rules.core import SMALL_BATCH_ROWS


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def breach(rr: RuleRun, rows: int, params: dict, kind: str) -> dict:
    e = rr.expectation
    res = rr.result
    if rr.error:
        return {"rule": e.rule, "count": 0, "detail": f"could not be evaluated ({rr.error})"}
    if e.type == "expect_table_columns_to_match_set":
        observed = set(res.get("observed_value") or [])
        expected = set(e.kwargs["column_set"])
        missing = sorted(expected - observed)
        extra = sorted(observed - expected)
        parts = []
        if missing:
            parts.append(f"missing or renamed column(s): {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s): {', '.join(extra)}")
        return {
            "rule": e.rule,
            "count": len(missing) + len(extra),
            "detail": "schema drift against the contract; " + "; ".join(parts),
        }
    if e.type == "expect_column_type_to_be":
        return {
            "rule": e.rule,
            "count": 1,
            "detail": f"column {e.column} is {res.get('observed_value')}, expected text "
            "(retyped: schema drift)",
        }
    if e.type == "expect_table_row_count_to_be_between":
        return {
            "rule": e.rule,
            "count": rows,
            "detail": f"{rows:,} rows; at least {params.get('min_rows', 0):,} expected",
        }
    considered = int(res.get("element_count") or rows) - int(res.get("missing_count") or 0)
    if e.type == "expect_column_values_to_not_be_null":
        considered = int(res.get("element_count") or rows)
    mostly = params.get(e.mostly_parameter) if e.mostly_parameter else None
    if mostly is not None:
        small = " (small-batch threshold)" if rows < SMALL_BATCH_ROWS else ""
        detail = (
            f"{rr.unexpected:,} of {considered:,} rows ({_pct(rr.unexpected, considered)}) "
            f"miss the mark; at least {mostly:.0%} must meet it{small}. {e.description}"
        )
    else:
        sample = [] if rr.mask is None else [int(i) for i in np.flatnonzero(rr.mask)[:5]]
        where = f"; first row positions {sample}" if sample and kind == "output" else ""
        detail = f"{rr.unexpected:,} of {considered:,} rows fail{where}. {e.description}"
    return {"rule": e.rule, "count": rr.unexpected, "detail": detail}


def failing_rows(
    name: str,
    run_id: str,
    work: pd.DataFrame,
    keys: list[str],
    rr: RuleRun,
) -> pd.DataFrame:
    idx = np.flatnonzero(rr.mask)
    key_parts = [work[k].to_numpy(dtype=object, na_value=None)[idx] for k in keys]
    record_ids = [
        None if any(p is None for p in parts) else ":".join(parts)
        for parts in zip(*key_parts, strict=True)
    ]
    e = rr.expectation
    return pd.DataFrame(
        {
            "run_id": run_id,
            "source": name.split("_", 1)[0],
            "table_name": name,
            "source_record_id": pd.Series(record_ids, dtype=object),
            "source_file": pd.Series(
                work["_source_file"].to_numpy(dtype=object, na_value=None)[idx], dtype=object
            ),
            "source_row": pd.Series(
                work["_source_row"].to_numpy(dtype=object, na_value=None)[idx], dtype=object
            ),
            "rule": e.rule,
            "severity": e.severity,
            "description": e.description,
        },
        columns=QUARANTINE_COLUMNS,
    )


def rows_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in QUARANTINE_COLUMNS})
    return pd.concat(parts, ignore_index=True).astype(object)
