"""Every source event on its person's key: ``shared_care.care_event``.

``build_care_event(keyed, events)``:

* ``keyed``: person records with ``person_key`` for **every** record, DCC ``Merged`` ones
  included (their person key is the surviving person's, so their events follow it);
* ``events``: ``contracts.SOURCE_EVENT`` rows.

``event_id = source + ":" + source_event_id`` - ``dcc:<event_reference>``,
``dchs:ref:<id>``, ``dchs:con:<sid>:<cid>``, ``dchs:spell:<n>`` - which is what row
accounting (:mod:`transforms.nightly.accounting`) looks for. An event whose person record
is not in ``keyed`` cannot be published; it is logged and left out, and the night's
row accounting then refuses to publish.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from transforms.tables.values import (
    DATE,
    age_band,
    age_from_birth_parts,
    as_text,
    record_key,
    to_day,
)

log = logging.getLogger(__name__)

CARE_EVENT_COLUMNS = [
    "event_id", "person_key", "organisation", "event_type", "setting", "pathway",
    "service_category", "start_date", "end_date", "outcome", "route_of_access",
    "discharge_destination_code", "age_at_event", "age_band", "age_at_end", "client_type",
]  # fmt: skip


def build_care_event(keyed: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``shared_care.care_event`` rows, in the order of ``events``."""
    rkey = record_key(keyed["source"], keyed["source_record_id"])
    if pd.Index(rkey).has_duplicates:
        raise ValueError("keyed has duplicate (source, source_record_id) rows")
    lookup = pd.Series(as_text(keyed["person_key"]).to_numpy(), index=rkey)
    source = as_text(events["source"]).reset_index(drop=True)
    person_key = lookup.reindex(record_key(source, events["source_record_id"])).to_numpy()
    out = pd.DataFrame(
        {
            "event_id": (source + ":" + as_text(events["source_event_id"]).reset_index(drop=True)),
            "person_key": person_key,
        }
    )
    for c in ("organisation", "event_type", "setting", "service_category", "outcome",
              "route_of_access", "discharge_destination_code"):  # fmt: skip
        out[c] = as_text(events[c]).array
    pathway = pd.to_numeric(events["pathway"], errors="coerce").reset_index(drop=True)
    labels = np.array(["0", "1", "2", "3", None], dtype=object)
    code = pathway.to_numpy(dtype=float, na_value=np.nan)
    ok = np.isin(code, [0, 1, 2, 3])
    out["pathway"] = labels[np.where(ok, np.nan_to_num(code), 4).astype(int)]
    out["start_date"] = to_day(events["start_date"]).to_numpy()
    out["end_date"] = to_day(events["end_date"]).to_numpy()
    age = pd.to_numeric(events["age_at_event"], errors="coerce").reset_index(drop=True)
    out["age_at_event"] = pd.array(age, dtype="Int64")
    out["age_band"] = age_band(age).to_numpy()
    # age at the end (a hospital discharge) from the record's year and month of birth
    births = keyed.reindex(columns=["birth_year", "birth_month"]).set_axis(
        pd.Index(rkey.to_numpy())
    )
    births = births.reindex(record_key(source, events["source_record_id"]))
    out["age_at_end"] = pd.array(
        age_from_birth_parts(births["birth_year"], births["birth_month"], out["end_date"]),
        dtype="Int64",
    )
    client = events["client_type"] if "client_type" in events.columns else None
    out["client_type"] = (
        as_text(client).array if client is not None else pd.array([None] * len(out), dtype=object)
    )

    unkeyed = out["person_key"].isna()
    if unkeyed.any():
        log.warning(
            "%d event(s) have no person record in the index and are left out (e.g. %s)",
            int(unkeyed.sum()),
            ", ".join(out.loc[unkeyed, "event_id"].head(3)),
        )
        out = out[~unkeyed]
    if out["event_id"].duplicated().any():
        dup = out.loc[out["event_id"].duplicated(), "event_id"].head(3).tolist()
        raise ValueError(f"duplicate event ids {dup}: upsert events before building")
    out = out.reset_index(drop=True)  # input order (the tokens-zone upsert sorts by key)
    for c in ("start_date", "end_date"):
        out[c] = out[c].astype(DATE)
    log.info("built %d care events for %d persons", len(out), out["person_key"].nunique())
    return out[CARE_EVENT_COLUMNS]
