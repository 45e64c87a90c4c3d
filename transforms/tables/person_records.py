"""The linked records as the person build reads them.

One row per active source record: its cleaned attributes, its ranks for the survivorship
order, its last activity, and its ``person_key`` as an integer code;
:mod:`transforms.tables.person` chooses each person's values from these rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.tables.values import DATE, as_text, record_key, to_day

#: Most specific first.
NEED_RANK = {"BSL": 0, "Interpreter": 1, "Other": 2}
#: DCHS demographics are traced against the NHS spine, so DCHS ranks first on a tie.
SOURCE_RANK = {"dchs": 0, "dcc": 1}
NOT_STATED = "Not stated"


def record_frame(linked: pd.DataFrame) -> pd.DataFrame:
    """One row per linked record: its key, cleaned attributes and survivorship ranks."""
    need = ["person_key", "source", "source_record_id"]
    missing = [c for c in need if c not in linked.columns]
    if missing:
        raise ValueError(f"linked records lack columns {missing}")
    rec = pd.DataFrame(
        {
            "person_key": as_text(linked["person_key"]).array,
            "source": as_text(linked["source"]).array,
            "source_record_id": as_text(linked["source_record_id"]).array,
        }
    )
    rec["key"] = record_key(rec["source"], rec["source_record_id"])

    def col(name, default=None):
        if name in linked.columns:
            return linked[name].reset_index(drop=True)
        return pd.Series([default] * len(linked), dtype=object)

    for c in (
        "sex",
        "ethnicity_group",
        "district",
        "communication_need",
        "interpreter_language",
        "tok_dob",
    ):
        rec[c] = as_text(col(c)).array
    rec["sex"] = rec["sex"].where(rec["sex"].isin(["M", "F", "X"]), None)
    rec["ethnicity_group"] = rec["ethnicity_group"].where(rec["ethnicity_group"] != NOT_STATED)
    rec["communication_need"] = rec["communication_need"].where(
        rec["communication_need"].isin(list(NEED_RANK)), None
    )
    rec["birth_year"] = pd.array(pd.to_numeric(col("birth_year"), errors="coerce"), dtype="Int64")
    rec["birth_month"] = pd.array(pd.to_numeric(col("birth_month"), errors="coerce"), dtype="Int64")
    rec["date_of_death"] = to_day(col("date_of_death")).to_numpy()
    rec["unpaid_carer"] = pd.array(col("unpaid_carer").tolist(), dtype="boolean")
    rec["nhs_number_valid"] = col("nhs_number_valid", False).fillna(False).astype(bool).to_numpy()
    prob = pd.to_numeric(col("link_probability", 1.0), errors="coerce")
    rec["link_probability"] = prob.fillna(1.0).astype(float).to_numpy()
    rec["source_rank"] = rec["source"].map(SOURCE_RANK).fillna(9).astype(int)
    # record ids in lexical order as integers: sorting on them is what the survivorship
    # tie-breaks need, and integer sorts are many times faster than Arrow string sorts
    rec["record_order"] = pd.factorize(rec["source_record_id"], sort=True)[0]
    return rec


def coded(rec: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """``rec`` with ``person_key`` as integer codes in key order, and the keys by code:
    every groupby and sort of the survivorship then runs on integers, many times faster
    than on string keys (``bench/README.md``)."""
    codes, keys = pd.factorize(rec["person_key"], sort=True)
    return rec.assign(person_key=codes), pd.Index(keys, name="person_key")


def uncoded(codes, keys: pd.Index) -> np.ndarray:
    return keys.take(np.asarray(codes, dtype=np.int64)).to_numpy(dtype=object)


def event_span(events: pd.DataFrame | None) -> pd.DataFrame:
    """First and last event start date per record key, and the record's ``person_key``
    when the events carry one (one pass over the events).

    The record keys are dictionary-encoded in Arrow and grouped as integer codes, faster
    than grouping the strings in pandas (``bench/README.md``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from transforms.frames import key_strings

    if events is None or events.empty or "source_record_id" not in events.columns:
        return pd.DataFrame(columns=["first", "last"], dtype=DATE)
    keys = key_strings(events, ["source", "source_record_id"])
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    encoded = pc.dictionary_encode(keys)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    ev = pd.DataFrame({"code": codes, "start": to_day(events["start_date"]).to_numpy()})
    span = ev.groupby("code")["start"].agg(first="min", last="max")
    if "person_key" in events.columns:
        first = ev["code"].drop_duplicates()  # a record's events share its person key
        person = pd.Series(as_text(events["person_key"]).to_numpy()[first.index], index=first)
        span["person_key"] = person.reindex(span.index).to_numpy()
    span.index = pd.Index(encoded.dictionary.to_pandas().to_numpy()[span.index], name="key")
    return span


def spans_by_key(spans: pd.DataFrame) -> pd.DataFrame:
    """Per-record spans (``source, source_record_id, first, last`` and optionally
    ``person_key``, as :func:`transforms.tables.event_reads.record_spans` gives them)
    indexed by record key, as :func:`event_span` makes them from events."""
    cols = ["first", "last", *(["person_key"] if "person_key" in spans.columns else [])]
    out = spans[cols].copy()
    for c in ("first", "last"):
        out[c] = to_day(out[c]).to_numpy()
    out.index = pd.Index(record_key(spans["source"], spans["source_record_id"]), name="key")
    return out


def coded_records(linked, events, spans):
    """``(rec, key_values, span)``: the records with their last activity, coded as
    :func:`coded` does, and the event spans by record key (their person keys coded
    alike)."""
    rec = record_frame(linked)
    if rec[["source", "source_record_id"]].duplicated().any():
        raise ValueError("linked has duplicate (source, source_record_id) rows")
    if spans is not None and events is not None:
        raise ValueError("give build_person events or spans, not both")
    span = event_span(events) if spans is None else spans_by_key(spans)
    rec["activity"] = span["last"].reindex(rec["key"]).to_numpy(dtype=DATE)
    rec, key_values = coded(rec)
    if "person_key" in span.columns:
        code = key_values.get_indexer(span["person_key"])
        span["person_key"] = pd.array(np.where(code >= 0, code, 0), dtype="Int64")
        span.loc[code < 0, "person_key"] = pd.NA
    return rec, key_values, span
