"""The partnership measures as functions of the published tables.

``compute_measures(person, care_event, pathway2, as_of=..., population=None)`` returns
``shared_care.metric``: one row per measure, period and breakdown, stamped with the
measure's definition version. Each measure's logic is one SQL file,
``sql/measures/<measure_id>.sql`` (:mod:`transforms.tables.measure_sql` runs it in DuckDB
here, and the same file runs on PostgreSQL over ``shared_care``); what each measure means is
written once, in :mod:`transforms.tables.measure_catalogue`. This module only orchestrates.
"""

from __future__ import annotations

import logging

import pandas as pd

from transforms.tables.measure_catalogue import MEASURES
from transforms.tables.measure_sql import run_duckdb
from transforms.tables.values import DATE, as_day, to_day

log = logging.getLogger(__name__)

METRIC_COLUMNS = [
    "measure_id", "measure_name", "period_start", "period_end", "breakdown", "numerator",
    "denominator", "value", "status", "definition_version", "as_of",
]  # fmt: skip


def stamp(blocks: dict[str, pd.DataFrame], as_of) -> pd.DataFrame:
    """``shared_care.metric`` from each measure's rows (``measure_sql`` output): name,
    definition version and as_of added, in the catalogue's order."""
    frames = []
    for m in MEASURES:
        block = blocks.get(m.measure_id)
        if block is None or block.empty:
            continue
        block = block.copy()
        block["measure_id"] = m.measure_id
        block["measure_name"] = m.name
        block["definition_version"] = m.version
        frames.append(block)
    if not frames:
        return _empty_metric()
    out = pd.concat(frames, ignore_index=True)
    out["as_of"] = as_day(as_of)
    for c in ("period_start", "period_end", "as_of"):
        out[c] = to_day(out[c]).to_numpy()
    for c in ("numerator", "denominator", "value"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    order = {m.measure_id: i for i, m in enumerate(MEASURES)}
    out["_o"] = out["measure_id"].map(order)
    out = out.sort_values(["_o", "period_start", "period_end", "breakdown"], kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    for c in ("measure_id", "measure_name", "breakdown", "status", "definition_version"):
        out[c] = out[c].astype(str)
    return out[METRIC_COLUMNS]


def compute_measures(
    person: pd.DataFrame,
    care_event: pd.DataFrame,
    pathway2: pd.DataFrame,
    *,
    as_of,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``shared_care.metric`` rows for every measure in ``measure_catalogue.MEASURES``.

    ``person``, ``care_event``, ``pathway2``: the build's ``shared_care`` tables (care
    contacts may be left out of ``care_event``: no measure reads them).
    ``population``: ``district_code, district_name, in_county, age_band ('0-17', '18-64',
    '65+'), population`` - the denominators of ASCOF 2B/2C (in-county rows) and the scope of
    their numerators (people whose ``person.district`` is an in-county ``district_name``).
    Without it, 2B/2C rows have status ``no_population`` and no value.
    """
    tables = {"person": person, "care_event": care_event, "pathway2_stay": pathway2}
    out = stamp(run_duckdb(tables, as_of=as_of, population=population), as_of)
    log.info("computed %d metric rows for %d measures", len(out), out["measure_id"].nunique())
    return out


def _empty_metric() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in METRIC_COLUMNS})
    for c in ("period_start", "period_end", "as_of"):
        out[c] = out[c].astype(DATE)
    for c in ("numerator", "denominator", "value"):
        out[c] = out[c].astype(float)
    return out
