"""How much linkage errors move the measures: every measure under true vs linked identities.

``measure_fidelity(records, events, person_index, truth, as_of=...)`` builds the unified
tables and computes every measure twice from the same pseudonymised records and events:

* once with the ground-truth identities (``truth.parquet``: ``source, source_record_id,
  true_person_id``; the synthetic generator writes it), and
* once with the pipeline's identities (``person_index``: ``source, source_record_id,
  person_key`` and optionally ``link_probability`` - ``identity.person_index`` or the
  night's ``identity.person_index.parquet``),

and returns one row per measure, period and breakdown with both values and the
difference (linked - truth): percentage points for proportions, the rate per 100,000
for ASCOF 2B/2C, days for lengths of stay. ``summarise_fidelity`` reduces that to the
worst difference per measure - what the linkage report shows.

Nothing here is published: it needs the truth, which only exists for synthetic data.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from transforms.tables.care_event import build_care_event
from transforms.tables.measure_catalogue import MEASURE_BY_ID
from transforms.tables.measures import compute_measures
from transforms.tables.pathway2 import build_pathway2_stays
from transforms.tables.person import build_person, person_internal

log = logging.getLogger(__name__)

KEY = ["measure_id", "period_start", "period_end", "breakdown"]
FIDELITY_COLUMNS = [
    *KEY, "unit", "difference_unit", "status", "value_truth", "value_linked",
    "denominator_truth", "denominator_linked", "difference", "abs_difference",
]  # fmt: skip
DIFFERENCE_UNIT = {"proportion": "pp", "per_100k": "per_100k", "days": "days"}
SCALE = {"proportion": 100.0, "per_100k": 1.0, "days": 1.0}


def truth_keys(truth: pd.DataFrame) -> pd.DataFrame:
    """The truth as a person index: person_key = 'T' + true_person_id, probability 1."""
    return pd.DataFrame(
        {
            "source": truth["source"].astype(str).to_numpy(),
            "source_record_id": truth["source_record_id"].astype(str).to_numpy(),
            "person_key": ("T" + truth["true_person_id"].astype(str)).to_numpy(),
            "link_probability": 1.0,
        }
    )


def build_all(
    records: pd.DataFrame,
    events: pd.DataFrame,
    keys: pd.DataFrame,
    *,
    as_of,
    population: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The build step's tables for one assignment of person keys (as the build stage makes them):
    person, person_conflict, care_event, pathway2_stay, metric - and person_internal,
    which must never be published."""
    index = keys[["source", "source_record_id", "person_key"]].copy()
    index["link_probability"] = (
        pd.to_numeric(keys["link_probability"], errors="coerce").fillna(1.0).to_numpy()
        if "link_probability" in keys.columns
        else 1.0
    )
    index["source"] = index["source"].astype(str)
    index["source_record_id"] = index["source_record_id"].astype(str)
    recs = records.copy()
    recs["source"] = recs["source"].astype(str)
    recs["source_record_id"] = recs["source_record_id"].astype(str)
    keyed = recs.merge(index, on=["source", "source_record_id"], how="inner", validate="1:1")
    if len(keyed) < len(recs):
        log.warning("%d record(s) have no person key and are left out", len(recs) - len(keyed))
    linked = keyed[keyed["record_status"] != "Merged"].reset_index(drop=True)
    person, conflict = build_person(linked, events, as_of=as_of)
    care_event = build_care_event(keyed, events)
    pathway2 = build_pathway2_stays(care_event)
    internal = person_internal(linked, person)
    metric = compute_measures(person, care_event, pathway2, as_of=as_of, population=population)
    return {
        "person": person,
        "person_conflict": conflict,
        "care_event": care_event,
        "pathway2_stay": pathway2,
        "metric": metric,
        "person_internal": internal,  # never publish
    }


def compare_metrics(
    truth_metric: pd.DataFrame,
    linked_metric: pd.DataFrame,
    *,
    breakdowns: tuple[str, ...] | None = ("all",),
) -> pd.DataFrame:
    """Both metric frames side by side with ``difference = (linked - truth) x scale``.

    ``breakdowns``: which breakdown rows to compare (None = all of them). Rows present on
    one side only keep an empty difference.
    """
    cols = [*KEY, "value", "denominator", "status"]
    t = truth_metric[cols].rename(
        columns={"value": "value_truth", "denominator": "denominator_truth", "status": "status_t"}
    )
    linked = linked_metric[cols].rename(
        columns={"value": "value_linked", "denominator": "denominator_linked"}
    )
    out = t.merge(linked, on=KEY, how="outer")
    out["status"] = out["status"].fillna(out["status_t"])
    out = out.drop(columns="status_t")
    if breakdowns is not None:
        out = out[out["breakdown"].isin(breakdowns)]
    unit = out["measure_id"].map(lambda m: MEASURE_BY_ID[m].unit)
    out["unit"] = unit
    out["difference_unit"] = unit.map(DIFFERENCE_UNIT)
    scale = unit.map(SCALE).astype(float)
    out["difference"] = (out["value_linked"] - out["value_truth"]) * scale
    out["abs_difference"] = out["difference"].abs()
    order = {m: i for i, m in enumerate(MEASURE_BY_ID)}
    out = out.assign(_o=out["measure_id"].map(order)).sort_values(
        ["_o", "period_start", "period_end", "breakdown"], kind="stable"
    )
    return out.drop(columns="_o").reset_index(drop=True)[FIDELITY_COLUMNS]


def measure_fidelity(
    records: pd.DataFrame,
    events: pd.DataFrame,
    person_index: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    as_of,
    population: pd.DataFrame | None = None,
    breakdowns: tuple[str, ...] | None = ("all",),
) -> pd.DataFrame:
    """Every measure with true and with linked identities, and their difference.

    ``records``: ``contracts.PERSON_RECORD`` rows of both sources, DCC Merged ones
    included (as the tokens zone holds them); ``events``: ``contracts.SOURCE_EVENT``;
    ``person_index``: the pipeline's keys; ``truth``: the generator's truth. Returns
    :data:`FIDELITY_COLUMNS`, one row per measure, period and breakdown.
    """
    truth_tables = build_all(records, events, truth_keys(truth), as_of=as_of, population=population)
    linked_tables = build_all(records, events, person_index, as_of=as_of, population=population)
    return compare_metrics(truth_tables["metric"], linked_tables["metric"], breakdowns=breakdowns)


def summarise_fidelity(
    fidelity: pd.DataFrame, *, statuses: tuple[str, ...] = ("final", "provisional")
) -> pd.DataFrame:
    """Per measure: periods compared, the worst absolute difference and its period,
    over rows with a value on both sides and one of ``statuses``."""
    ok = fidelity[
        fidelity["status"].isin(statuses)
        & fidelity["value_truth"].notna()
        & fidelity["value_linked"].notna()
    ]
    rows = []
    for mid, grp in ok.groupby("measure_id", sort=False):
        worst = grp.loc[grp["abs_difference"].idxmax()]
        rows.append(
            {
                "measure_id": mid,
                "difference_unit": worst["difference_unit"],
                "rows_compared": len(grp),
                "max_abs_difference": float(worst["abs_difference"]),
                "mean_abs_difference": float(grp["abs_difference"].mean()),
                "worst_period_start": worst["period_start"],
                "worst_period_end": worst["period_end"],
                "worst_breakdown": worst["breakdown"],
            }
        )
    columns = [
        "measure_id", "difference_unit", "rows_compared", "max_abs_difference",
        "mean_abs_difference", "worst_period_start", "worst_period_end", "worst_breakdown",
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    out["max_abs_difference"] = out["max_abs_difference"].astype(float)
    return out


def within_target(
    fidelity: pd.DataFrame,
    measure_id: str = "still_at_home_91",
    target: float = 0.5,
    *,
    statuses: tuple[str, ...] = ("final",),
) -> tuple[bool, float]:
    """(met, worst |difference|) for one measure's breakdown-'all' rows in ``statuses``."""
    rows = fidelity[
        (fidelity["measure_id"] == measure_id)
        & (fidelity["breakdown"] == "all")
        & fidelity["status"].isin(statuses)
        & fidelity["value_truth"].notna()
    ]
    if rows.empty:
        return False, float("nan")
    worst = float(np.nanmax(rows["abs_difference"].to_numpy(dtype=float)))
    return bool(worst <= target), worst
