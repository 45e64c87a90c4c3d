"""The ``SOURCE_EVENT`` frame both sources' events are built in.

Events follow ``contracts.SOURCE_EVENT``; every landing event row gives exactly one output
row (row accounting depends on it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.contracts import SOURCE_EVENT
from transforms.standardise.dates import DATE_DTYPE, age_at
from transforms.standardise.series import as_objects


def events_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(index=pd.RangeIndex(n))


def ages(source: str, record_ids: pd.Series, start: pd.Series, std_person: pd.DataFrame):
    """Each event's age at ``start``, from its ``source`` person record's date of birth."""
    people = std_person.loc[std_person["source"] == source, ["source_record_id", "date_of_birth"]]
    people = people.drop_duplicates("source_record_id", keep="last")
    pos = pd.Index(as_objects(people["source_record_id"])).get_indexer(as_objects(record_ids))
    dates = np.append(people["date_of_birth"].to_numpy(dtype=DATE_DTYPE), np.datetime64("NaT"))
    dob = pd.Series(dates[pos], dtype=DATE_DTYPE)  # pos -1 picks the NaT at the end
    return age_at(dob, pd.Series(pd.to_datetime(start).to_numpy())).to_numpy()


def finish_events(out: pd.DataFrame) -> pd.DataFrame:
    for c in ("start_date", "end_date"):
        out[c] = out[c].astype(DATE_DTYPE)
    out["pathway"] = pd.array(out["pathway"].tolist(), dtype="Int64")
    out["age_at_event"] = pd.array(out["age_at_event"].tolist(), dtype="Int64")
    for c in SOURCE_EVENT:
        if c not in ("start_date", "end_date", "pathway", "age_at_event"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out[SOURCE_EVENT].reset_index(drop=True)
