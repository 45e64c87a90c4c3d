"""One row per person from their linked source records, and what the records disagree on.

``build_person(linked, events, as_of=...)`` -> ``(person, conflict)``:

* ``linked``: ``contracts.PERSON_RECORD`` columns + ``person_key`` + ``link_probability``,
  one row per active (not Merged) source record;
* ``events``: ``contracts.SOURCE_EVENT`` rows (any sources). Used for each record's last
  activity (survivorship order) and the person's first/last seen dates. If ``events``
  also has a ``person_key`` column (e.g. events of Merged DCC records keyed to their
  survivor), that key is used for first/last seen.

Survivorship rules are in :data:`transforms.build.survivorship.SURVIVORSHIP` (and the
data dictionary). Conflicts - sex, date of birth and its parts, date of death, and a
death recorded by one organisation only - go to ``person_conflict`` as counts, never as
values, and are never silently resolved.

``person_internal(linked, person)`` is what the measures need and must never be
published: year and month of birth and the full earliest date of death.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from transforms.build.survivorship import CONFLICT_ATTRIBUTES

log = logging.getLogger(__name__)

PERSON_COLUMNS = [
    "person_key", "sex", "age_band", "ethnicity_group", "district", "death_month",
    "date_of_death", "communication_need", "need_recorded_by", "interpreter_language",
    "unpaid_carer", "known_to", "first_seen", "last_seen", "source_record_count",
    "min_link_probability",
]  # fmt: skip
#: Needs both organisations' systems can record (the tell-it-once measure's).
SHARED_NEEDS = ("BSL", "Interpreter")
CONFLICT_COLUMNS = ["person_key", "attribute", "n_distinct", "sources", "detected_on"]
INTERNAL_COLUMNS = [
    "person_key", "birth_year", "birth_month", "date_of_death", "death_recorded_by", "sex",
    "age_band", "district", "known_to", "communication_need", "comm_need_dcc",
    "comm_need_dchs",
]  # fmt: skip

DATE = "datetime64[ns]"
#: Most specific first.
NEED_RANK = {"BSL": 0, "Interpreter": 1, "Other": 2}
#: DCHS demographics are traced against the NHS spine, so DCHS ranks first on a tie.
SOURCE_RANK = {"dchs": 0, "dcc": 1}
NOT_STATED = "Not stated"


# ------------------------------------------------------------------------------ helpers
def to_day(values) -> pd.Series:
    """Anything date-like -> datetime64[ns] at midnight (NaT when missing/unparseable)."""
    out = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype(DATE)


def as_day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def age_from_birth_parts(birth_year, birth_month, on) -> pd.Series:
    """Whole years at ``on`` from year and month of birth (a birthday month counts as
    reached; the day never leaves the edge). Int64, NA when anything is unknown."""
    on = pd.to_datetime(pd.Series(on).reset_index(drop=True), errors="coerce")
    year = pd.to_numeric(pd.Series(birth_year).reset_index(drop=True), errors="coerce")
    month = pd.to_numeric(pd.Series(birth_month).reset_index(drop=True), errors="coerce")
    years = on.dt.year.astype("Float64") - year.astype("Float64")
    before = (on.dt.month.astype("Float64") < month.astype("Float64")).astype("Float64")
    age = (years - before).astype("Int64")
    return age.where(age >= 0)


_BAND_LABELS = np.array([f"{i}-{i + 4}" for i in range(0, 90, 5)] + ["90+", None], dtype=object)


def age_band(age) -> pd.Series:
    """5-year band of an age: 0-4, 5-9, ..., 85-89, 90+ (None when unknown or negative)."""
    a = pd.to_numeric(pd.Series(age).reset_index(drop=True), errors="coerce")
    a = a.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        idx = np.where(np.isnan(a) | (a < 0), len(_BAND_LABELS) - 1, np.minimum(a // 5, 18))
    return pd.Series(_BAND_LABELS[idx.astype(int)], dtype=object)


def age_group(age, bands: tuple[tuple[int, int | None, str], ...]) -> pd.Series:
    """Ages -> labels for ``(low, high or None, label)`` bands (None when outside/unknown)."""
    a = pd.to_numeric(pd.Series(age).reset_index(drop=True), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    out = np.full(len(a), None, dtype=object)
    for low, high, label in bands:
        hit = (a >= low) & ((a <= high) if high is not None else True)
        out[hit] = label
    return pd.Series(out, dtype=object)


def _text(series) -> pd.Series:
    """As pandas' string dtype (missing stays missing), index kept."""
    s = series if isinstance(series, pd.Series) else pd.Series(series)
    return s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")


def record_key(source, source_record_id) -> pd.Series:
    """One string per record, ``source`` + US + ``source_record_id`` (fast to hash)."""
    left = _text(source).reset_index(drop=True)
    return left + "\x1f" + _text(source_record_id).reset_index(drop=True)


def _record_frame(linked: pd.DataFrame) -> pd.DataFrame:
    need = ["person_key", "source", "source_record_id"]
    missing = [c for c in need if c not in linked.columns]
    if missing:
        raise ValueError(f"linked records lack columns {missing}")
    rec = pd.DataFrame(
        {
            "person_key": _text(linked["person_key"]).array,
            "source": _text(linked["source"]).array,
            "source_record_id": _text(linked["source_record_id"]).array,
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
        rec[c] = _text(col(c)).array
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


def _coded(rec: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """``rec`` with ``person_key`` as integer codes in key order, and the keys by code:
    every groupby and sort below then runs on integers (grouping 750,000 records by
    string keys again and again was most of this step's time)."""
    codes, keys = pd.factorize(rec["person_key"], sort=True)
    return rec.assign(person_key=codes), pd.Index(keys, name="person_key")


def _uncoded(codes, keys: pd.Index) -> np.ndarray:
    return keys.take(np.asarray(codes, dtype=np.int64)).to_numpy(dtype=object)


def _event_span(events: pd.DataFrame | None) -> pd.DataFrame:
    """First and last event start date per record key, and the record's ``person_key``
    when the events carry one (one pass over the events).

    The record keys are dictionary-encoded in Arrow and grouped as integer codes:
    grouping ten million string keys in pandas took ~5 s, this ~2 s."""
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
        person = pd.Series(_text(events["person_key"]).to_numpy()[first.index], index=first)
        span["person_key"] = person.reindex(span.index).to_numpy()
    span.index = pd.Index(encoded.dictionary.to_pandas().to_numpy()[span.index], name="key")
    return span


def _spans_by_key(spans: pd.DataFrame) -> pd.DataFrame:
    """Per-record spans (``source, source_record_id, first, last`` and optionally
    ``person_key``, as :func:`transforms.build.event_reads.record_spans` gives them)
    indexed by record key, as :func:`_event_span` makes them from events."""
    cols = ["first", "last", *(["person_key"] if "person_key" in spans.columns else [])]
    out = spans[cols].copy()
    for c in ("first", "last"):
        out[c] = to_day(out[c]).to_numpy()
    out.index = pd.Index(record_key(spans["source"], spans["source_record_id"]), name="key")
    return out


def _ordered(rec: pd.DataFrame) -> pd.DataFrame:
    """Records most recent first within each person (see SURVIVORSHIP['record order'])."""
    return rec.sort_values(
        ["person_key", "activity", "source_rank", "record_order"],
        ascending=[True, False, True, True],
        na_position="last",
        kind="stable",
    )


def _first_known(ordered: pd.DataFrame, col: str) -> pd.Series:
    """First non-null value of ``col`` per person in record order."""
    return ordered.groupby("person_key", sort=True)[col].first()


def _birth_parts(rec: pd.DataFrame) -> pd.DataFrame:
    """Surviving (birth_year, birth_month) per person: the pair most records hold; ties to
    a record with a valid NHS number, then DCHS, then the lowest record id. Independent
    of activity, so person and person_internal always agree."""
    known = rec[rec["birth_year"].notna() & rec["birth_month"].notna()].copy()
    if known.empty:
        return pd.DataFrame(
            columns=["birth_year", "birth_month"], index=pd.Index([], name="person_key")
        )
    known["n"] = known.groupby(["person_key", "birth_year", "birth_month"])[
        "source_record_id"
    ].transform("size")
    known["invalid_nhs"] = ~known["nhs_number_valid"]
    best = known.sort_values(
        ["person_key", "n", "invalid_nhs", "source_rank", "record_order"],
        ascending=[True, False, True, True, True],
        kind="stable",
    ).drop_duplicates("person_key")
    return best.set_index("person_key")[["birth_year", "birth_month"]]


def _need_by(rec: pd.DataFrame, mask: pd.Series | None = None) -> pd.Series:
    """Most specific communication need per person among ``rec[mask]``."""
    sub = rec if mask is None else rec[mask]
    sub = sub[sub["communication_need"].notna()]
    if sub.empty:
        return pd.Series(dtype=object)
    rank = sub["communication_need"].map(NEED_RANK)
    best = sub.assign(rank=rank).sort_values(["person_key", "rank"]).drop_duplicates("person_key")
    return best.set_index("person_key")["communication_need"]


def _by_source(rec: pd.DataFrame) -> pd.Series:
    """dcc / dchs / both per person among ``rec``."""
    flags = (
        pd.DataFrame(
            {
                "person_key": rec["person_key"].to_numpy(),
                "dcc": (rec["source"] == "dcc").to_numpy(),
                "dchs": (rec["source"] == "dchs").to_numpy(),
            }
        )
        .groupby("person_key")[["dcc", "dchs"]]
        .any()
    )
    dcc, dchs = flags["dcc"].to_numpy(), flags["dchs"].to_numpy()
    out = np.where(dcc & dchs, "both", np.where(dcc, "dcc", "dchs"))
    return pd.Series(out, index=flags.index, dtype=object)


def _known_to(rec: pd.DataFrame) -> pd.Series:
    return _by_source(rec)


def _death_recorded_by(rec: pd.DataFrame) -> pd.Series:
    dead = rec[rec["date_of_death"].notna()]
    if dead.empty:
        return pd.Series(dtype=object)
    return _by_source(dead)


# ------------------------------------------------------------------------------ person
def build_person(
    linked: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    as_of,
    spans: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(person, conflict)`` as ``shared_care.person`` / ``shared_care.person_conflict``.

    The events count only through each record's first and last event start: pass the
    events, or ``spans``, those dates per record already reduced (``source,
    source_record_id, first, last`` and, like the events, optionally ``person_key``)."""
    person, conflict, _ = _build(linked, events, as_of=as_of, spans=spans)
    return person, conflict


def build_person_tables(
    linked: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    as_of,
    spans: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(person, conflict, internal)``: :func:`build_person` and :func:`person_internal`
    from one pass over the records (the nightly build's use)."""
    person, conflict, (rec, key_values, births) = _build(linked, events, as_of=as_of, spans=spans)
    return person, conflict, _internal(rec, key_values, person, births)


def _build(linked, events, *, as_of, spans):
    as_of = as_day(as_of)
    rec = _record_frame(linked)
    if rec[["source", "source_record_id"]].duplicated().any():
        raise ValueError("linked has duplicate (source, source_record_id) rows")
    if spans is not None and events is not None:
        raise ValueError("give build_person events or spans, not both")
    span = _event_span(events) if spans is None else _spans_by_key(spans)
    rec["activity"] = span["last"].reindex(rec["key"]).to_numpy(dtype=DATE)
    rec, key_values = _coded(rec)
    if "person_key" in span.columns:
        code = key_values.get_indexer(span["person_key"])
        span["person_key"] = pd.array(np.where(code >= 0, code, 0), dtype="Int64")
        span.loc[code < 0, "person_key"] = pd.NA
    ordered = _ordered(rec)
    keys = pd.RangeIndex(len(key_values), name="person_key")

    out = pd.DataFrame(index=keys)
    out["sex"] = _first_known(ordered, "sex").reindex(keys).fillna("U")
    out["ethnicity_group"] = _first_known(ordered, "ethnicity_group").reindex(keys)
    out["ethnicity_group"] = out["ethnicity_group"].fillna(NOT_STATED)
    out["district"] = _first_known(ordered, "district").reindex(keys)
    death = rec.groupby("person_key")["date_of_death"].min().reindex(keys)
    surviving_births = _birth_parts(rec)
    births = surviving_births.reindex(keys)
    on = pd.Series(np.full(len(keys), as_of.to_datetime64()), dtype=DATE)
    on = on.where(~(death.to_numpy() < as_of.to_datetime64()), death.to_numpy())
    ages = age_from_birth_parts(births["birth_year"], births["birth_month"], on)
    out["age_band"] = age_band(ages).to_numpy()
    out["death_month"] = _months(death)
    # the day itself: the measures' follow-up windows (84 and 91 days) need it
    out["date_of_death"] = death.to_numpy()
    need = _need_by(rec).reindex(keys)
    out["communication_need"] = need
    by_dcc = _need_by(rec, rec["source"] == "dcc").reindex(keys).isin(SHARED_NEEDS).to_numpy()
    by_dchs = _need_by(rec, rec["source"] == "dchs").reindex(keys).isin(SHARED_NEEDS).to_numpy()
    out["need_recorded_by"] = np.select(
        [by_dcc & by_dchs, by_dcc, by_dchs], ["both", "dcc", "dchs"], default=None
    )
    lang = ordered[ordered["interpreter_language"].notna()]
    lang = lang.merge(need.rename("survivor").reset_index(), on="person_key", how="inner")
    lang = lang[lang["communication_need"] == lang["survivor"]]
    out["interpreter_language"] = (
        lang.drop_duplicates("person_key")
        .set_index("person_key")["interpreter_language"]
        .reindex(keys)
    )
    out["unpaid_carer"] = pd.array(
        _first_known(ordered, "unpaid_carer").reindex(keys).tolist(), dtype="boolean"
    )
    out["known_to"] = _known_to(rec).reindex(keys)
    first, last = _seen(rec, span, keys)
    out["first_seen"] = first
    out["last_seen"] = last
    out["source_record_count"] = rec.groupby("person_key").size().reindex(keys).astype("int64")
    out["min_link_probability"] = rec.groupby("person_key")["link_probability"].min().reindex(keys)
    person = out.reset_index()
    for c in ("sex", "age_band", "ethnicity_group", "district", "death_month",
              "communication_need", "need_recorded_by", "interpreter_language",
              "known_to"):  # fmt: skip
        person[c] = _text(person[c]).to_numpy()
    person["first_seen"] = person["first_seen"].astype(DATE)
    person["last_seen"] = person["last_seen"].astype(DATE)
    person["date_of_death"] = person["date_of_death"].astype(DATE)
    person["min_link_probability"] = person["min_link_probability"].astype(float)
    conflict = _conflicts(rec, person, as_of)
    person["person_key"] = pd.array(_uncoded(person["person_key"], key_values), dtype="str")
    conflict["person_key"] = _uncoded(conflict["person_key"], key_values)
    log.info("built %d persons from %d records; %d conflicts", len(person), len(rec), len(conflict))
    return person[PERSON_COLUMNS], conflict, (rec, key_values, surviving_births)


def _months(death: pd.Series) -> list:
    return [
        None if pd.isna(d) else f"{d.year:04d}-{d.month:02d}"
        for d in pd.to_datetime(death).tolist()
    ]


def _seen(rec: pd.DataFrame, span: pd.DataFrame, keys: pd.Index):
    """First / last event start per person: by the events' own person_key when they have
    one (events of Merged records keyed to their survivor), else through the records."""
    empty = pd.Series(pd.NaT, index=keys, dtype=DATE)
    if span.empty:
        return empty, empty
    if "person_key" in span.columns:
        g = span.groupby("person_key")
        return g["first"].min().reindex(keys).astype(DATE), g["last"].max().reindex(keys).astype(
            DATE
        )
    per_record = span.reindex(rec["key"]).set_axis(rec.index)
    per_record["person_key"] = rec["person_key"]
    g = per_record.groupby("person_key")
    return g["first"].min().reindex(keys).astype(DATE), g["last"].max().reindex(keys).astype(DATE)


def _conflicts(rec: pd.DataFrame, person: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    frames = []

    def attribute(col: str, name: str) -> None:
        known = rec[rec[col].notna()]
        n = known.groupby("person_key")[col].nunique()
        bad = n[n > 1]
        if bad.empty:
            return
        sub = known[known["person_key"].isin(bad.index)]
        sources = sub.groupby("person_key")["source"].agg(lambda s: ",".join(sorted(set(s))))
        frames.append(
            pd.DataFrame(
                {
                    "person_key": bad.index.to_numpy(dtype=object),
                    "attribute": name,
                    "n_distinct": bad.to_numpy(dtype="int64"),
                    "sources": sources.reindex(bad.index).to_numpy(dtype=object),
                }
            )
        )

    attribute("sex", "sex")
    attribute("tok_dob", "date_of_birth")
    attribute("birth_year", "birth_year")
    attribute("birth_month", "birth_month")
    attribute("date_of_death", "date_of_death")
    by = _death_recorded_by(rec)
    both = person.set_index("person_key")["known_to"].eq("both")
    one = by[by.isin(["dcc", "dchs"]) & both.reindex(by.index).fillna(False).to_numpy()]
    if not one.empty:
        frames.append(
            pd.DataFrame(
                {
                    "person_key": one.index.to_numpy(dtype=object),
                    "attribute": "death_recorded",
                    "n_distinct": 2,
                    "sources": one.to_numpy(dtype=object),
                }
            )
        )
    if not frames:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS})
        out["n_distinct"] = out["n_distinct"].astype("int64")
        out["detected_on"] = out["detected_on"].astype(DATE)
        return out
    out = pd.concat(frames, ignore_index=True)
    assert set(out["attribute"]) <= set(CONFLICT_ATTRIBUTES)
    out["n_distinct"] = out["n_distinct"].astype("int64")
    out["detected_on"] = pd.Series([as_of] * len(out), dtype=DATE)
    order = {a: i for i, a in enumerate(CONFLICT_ATTRIBUTES)}
    out = out.sort_values(
        ["person_key", "attribute"], key=lambda s: s.map(order) if s.name == "attribute" else s
    )
    return out[CONFLICT_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------- person_internal
def person_internal(linked: pd.DataFrame, person: pd.DataFrame) -> pd.DataFrame:
    """Per person: what the measures need. Internal only - never publish it.

    ``person_key, birth_year, birth_month`` (surviving pair), ``date_of_death`` (earliest
    recorded, full date), ``death_recorded_by`` (dcc/dchs/both/None), ``sex, age_band,
    district, known_to, communication_need`` (as published), ``comm_need_dcc`` /
    ``comm_need_dchs`` (most specific need each organisation's records hold).
    """
    rec, key_values = _coded(_record_frame(linked))
    return _internal(rec, key_values, person)


def _internal(
    rec: pd.DataFrame,
    key_values: pd.Index,
    person: pd.DataFrame,
    births: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`person_internal` from coded records (``births``: their surviving birth
    parts by person code, when already found)."""
    base = person[["person_key", "sex", "age_band", "district", "known_to", "communication_need"]]
    base = base.drop_duplicates("person_key").set_index("person_key")
    codes = key_values.get_indexer(base.index)
    if (codes < 0).any():
        raise ValueError("person holds keys that no linked record has")
    base.index = pd.Index(codes, name="person_key")
    keys = base.index
    out = pd.DataFrame(index=keys)
    births = (_birth_parts(rec) if births is None else births).reindex(keys)
    out["birth_year"] = pd.array(births["birth_year"].tolist(), dtype="Int64")
    out["birth_month"] = pd.array(births["birth_month"].tolist(), dtype="Int64")
    out["date_of_death"] = rec.groupby("person_key")["date_of_death"].min().reindex(keys)
    out["death_recorded_by"] = _death_recorded_by(rec).reindex(keys)
    for c in ("sex", "age_band", "district", "known_to", "communication_need"):
        out[c] = base[c]
    out["comm_need_dcc"] = _need_by(rec, rec["source"] == "dcc").reindex(keys)
    out["comm_need_dchs"] = _need_by(rec, rec["source"] == "dchs").reindex(keys)
    out = out.reset_index()
    out["person_key"] = _uncoded(out["person_key"], key_values)
    out["date_of_death"] = out["date_of_death"].astype(DATE)
    for c in ("death_recorded_by", "sex", "age_band", "district", "known_to",
              "communication_need", "comm_need_dcc", "comm_need_dchs"):  # fmt: skip
        out[c] = _text(out[c]).to_numpy()
    return out[INTERNAL_COLUMNS]
