"""Row accounting: every extracted row is published, quarantined or merged.

Each category is counted from evidence, not by subtraction: a row is *published* when
its key is in tonight's published output, *quarantined* when the quarantine names its
file and row, *merged* when it is a DCC person record merged into another. The night
stops before publish if the three do not add up to what was extracted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.frames import isin, key_strings

#: landing table -> (key columns in landing, how to spell the published key)
EVENT_KEYS = {
    "dcc_event": lambda f: "dcc:" + f["event_reference"].astype(str),
    "dchs_referral": lambda f: "dchs:ref:" + f["service_request_id"].astype(str),
    "dchs_care_contact": lambda f: (
        "dchs:con:" + f["service_request_id"].astype(str) + ":" + f["care_contact_id"].astype(str)
    ),
    "dchs_inpatient_spell": lambda f: (
        "dchs:spell:" + f["hospital_provider_spell_number"].astype(str)
    ),
}
PERSON_KEYS = {"dcc_person": ("dcc", "la_person_id"), "dchs_patient": ("dchs", "local_patient_id")}
PROVENANCE = ["_source_file", "_source_row"]
RENAME = {"source_file": "_source_file", "source_row": "_source_row"}
#: The landing columns accounting reads, per table (the rest need not be loaded).
COLUMNS = {
    "dcc_person": [*PROVENANCE, "la_person_id"],
    "dchs_patient": [*PROVENANCE, "local_patient_id"],
    "dcc_event": [*PROVENANCE, "event_reference"],
    "dchs_referral": [*PROVENANCE, "service_request_id"],
    "dchs_care_contact": [*PROVENANCE, "service_request_id", "care_contact_id"],
    "dchs_inpatient_spell": [*PROVENANCE, "hospital_provider_spell_number"],
}


def quarantined_mask(frame: pd.DataFrame, name: str, quarantine: pd.DataFrame) -> np.ndarray:
    """Rows of landing table ``name`` the quarantine names (by file and row)."""
    q = quarantine[quarantine["table_name"].astype(str) == name] if len(quarantine) else quarantine
    if q.empty:
        return np.zeros(len(frame), dtype=bool)
    return isin(key_strings(frame, PROVENANCE), key_strings(q.rename(columns=RENAME), PROVENANCE))


def without_quarantined(frame: pd.DataFrame, name: str, quarantine: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows of landing table ``name``) minus the rows the quarantine names."""
    bad = quarantined_mask(frame, name, quarantine)
    return frame[~bad].reset_index(drop=True) if bad.any() else frame


class AccountingError(RuntimeError):
    """Extracted rows are unaccounted for: nothing is published."""


def account(
    landing: dict[str, pd.DataFrame],
    quarantine: pd.DataFrame,
    person_index: pd.DataFrame,
    care_event_ids: pd.Series,
    *,
    run_id: str,
) -> pd.DataFrame:
    """One row per landing table: extracted, published, quarantined, merged, balanced."""
    index = person_index.set_index(["source", "source_record_id"])["record_status"]
    # every event table's keys looked up in one pass: Arrow hashes the 10 M published
    # event ids once, not once per table
    event_tables = [name for name in landing if name not in PERSON_KEYS]
    keys = [EVENT_KEYS[name](landing[name]) for name in event_tables]
    found = isin(pd.concat(keys, ignore_index=True) if keys else [], care_event_ids)
    in_output = dict(
        zip(event_tables, np.split(found, np.cumsum([len(k) for k in keys])[:-1]), strict=True)
    )
    rows = []
    for name, frame in landing.items():
        quarantined = pd.Series(quarantined_mask(frame, name, quarantine), index=frame.index)
        if name in PERSON_KEYS:
            source, col = PERSON_KEYS[name]
            status = index.reindex(pd.MultiIndex.from_arrays([[source] * len(frame), frame[col]]))
            status = pd.Series(status.to_numpy(), index=frame.index)
            merged = ~quarantined & status.eq("merged")
            published = ~quarantined & status.eq("active")
        else:
            merged = pd.Series(False, index=frame.index)
            published = ~quarantined & pd.Series(in_output[name], index=frame.index)
        extracted = len(frame)
        counts = {
            "extracted": extracted,
            "published": int(published.sum()),
            "quarantined": int(quarantined.sum()),
            "merged": int(merged.sum()),
        }
        rows.append(
            {
                "run_id": run_id,
                "source": name.split("_", 1)[0],
                "table_name": name,
                **counts,
                "balanced": extracted
                == counts["published"] + counts["quarantined"] + counts["merged"],
            }
        )
    return pd.DataFrame(rows)


def check_balanced(accounting: pd.DataFrame) -> None:
    bad = accounting[~accounting["balanced"]]
    if not bad.empty:
        detail = "; ".join(
            f"{r.table_name}: extracted {r.extracted} != published {r.published} + "
            f"quarantined {r.quarantined} + merged {r.merged}"
            for r in bad.itertuples()
        )
        raise AccountingError(f"rows unaccounted for, nothing published: {detail}")
