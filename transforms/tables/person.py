"""One row per person from their linked source records, and what the records disagree on.

``build_person(linked, events, as_of=...)`` -> ``(person, conflict)``:

* ``linked``: ``contracts.PERSON_RECORD`` columns + ``person_key`` + ``link_probability``,
  one row per active (not Merged) source record;
* ``events``: ``contracts.SOURCE_EVENT`` rows (any sources). Used for each record's last
  activity (survivorship order) and the person's first/last seen dates. If ``events``
  also has a ``person_key`` column (e.g. events of Merged DCC records keyed to their
  survivor), that key is used for first/last seen.

Survivorship rules are in :data:`transforms.tables.survivorship.SURVIVORSHIP` (and the
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

from transforms.tables.person_records import (
    NEED_RANK,
    NOT_STATED,
    coded,
    coded_records,
    record_frame,
    uncoded,
)
from transforms.tables.survivorship import CONFLICT_ATTRIBUTES
from transforms.tables.values import DATE, age_band, age_from_birth_parts, as_day, as_text

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
    rec, key_values, span = coded_records(linked, events, spans)
    keys = pd.RangeIndex(len(key_values), name="person_key")
    surviving_births = _birth_parts(rec)
    person = _typed_person(_survivors(rec, span, keys, surviving_births, as_of).reset_index())
    conflict = _conflicts(rec, person, as_of)
    person["person_key"] = pd.array(uncoded(person["person_key"], key_values), dtype="str")
    conflict["person_key"] = uncoded(conflict["person_key"], key_values)
    log.info("built %d persons from %d records; %d conflicts", len(person), len(rec), len(conflict))
    return person[PERSON_COLUMNS], conflict, (rec, key_values, surviving_births)


def _survivors(
    rec: pd.DataFrame,
    span: pd.DataFrame,
    keys: pd.Index,
    births: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Every published attribute's surviving value, indexed by person code."""
    ordered = _ordered(rec)
    out = pd.DataFrame(index=keys)
    out["sex"] = _first_known(ordered, "sex").reindex(keys).fillna("U")
    out["ethnicity_group"] = _first_known(ordered, "ethnicity_group").reindex(keys)
    out["ethnicity_group"] = out["ethnicity_group"].fillna(NOT_STATED)
    out["district"] = _first_known(ordered, "district").reindex(keys)
    death = rec.groupby("person_key")["date_of_death"].min().reindex(keys)
    out["age_band"] = _age_bands(births.reindex(keys), death, as_of)
    out["death_month"] = _months(death)
    # the day itself: the measures' follow-up windows (84 and 91 days) need it
    out["date_of_death"] = death.to_numpy()
    for column, values in _needs(rec, ordered, keys).items():
        out[column] = values
    out["unpaid_carer"] = pd.array(
        _first_known(ordered, "unpaid_carer").reindex(keys).tolist(), dtype="boolean"
    )
    out["known_to"] = _known_to(rec).reindex(keys)
    first, last = _seen(rec, span, keys)
    out["first_seen"] = first
    out["last_seen"] = last
    out["source_record_count"] = rec.groupby("person_key").size().reindex(keys).astype("int64")
    out["min_link_probability"] = rec.groupby("person_key")["link_probability"].min().reindex(keys)
    return out


def _age_bands(births: pd.DataFrame, death: pd.Series, as_of: pd.Timestamp) -> np.ndarray:
    """Band of the age at as_of, or at death if earlier, from the surviving birth parts."""
    on = pd.Series(np.full(len(death), as_of.to_datetime64()), dtype=DATE)
    on = on.where(~(death.to_numpy() < as_of.to_datetime64()), death.to_numpy())
    ages = age_from_birth_parts(births["birth_year"], births["birth_month"], on)
    return age_band(ages).to_numpy()


def _needs(rec: pd.DataFrame, ordered: pd.DataFrame, keys: pd.Index) -> dict:
    """``communication_need``, ``need_recorded_by`` and ``interpreter_language`` by
    person code."""
    need = _need_by(rec).reindex(keys)
    by_dcc = _need_by(rec, rec["source"] == "dcc").reindex(keys).isin(SHARED_NEEDS).to_numpy()
    by_dchs = _need_by(rec, rec["source"] == "dchs").reindex(keys).isin(SHARED_NEEDS).to_numpy()
    lang = ordered[ordered["interpreter_language"].notna()]
    lang = lang.merge(need.rename("survivor").reset_index(), on="person_key", how="inner")
    lang = lang[lang["communication_need"] == lang["survivor"]]
    return {
        "communication_need": need,
        "need_recorded_by": np.select(
            [by_dcc & by_dchs, by_dcc, by_dchs], ["both", "dcc", "dchs"], default=None
        ),
        "interpreter_language": (
            lang.drop_duplicates("person_key")
            .set_index("person_key")["interpreter_language"]
            .reindex(keys)
        ),
    }


def _typed_person(person: pd.DataFrame) -> pd.DataFrame:
    """The person frame in the published column types."""
    for c in ("sex", "age_band", "ethnicity_group", "district", "death_month",
              "communication_need", "need_recorded_by", "interpreter_language",
              "known_to"):  # fmt: skip
        person[c] = as_text(person[c]).to_numpy()
    person["first_seen"] = person["first_seen"].astype(DATE)
    person["last_seen"] = person["last_seen"].astype(DATE)
    person["date_of_death"] = person["date_of_death"].astype(DATE)
    person["min_link_probability"] = person["min_link_probability"].astype(float)
    return person


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
    frames = [
        _attribute_conflicts(rec, col, name)
        for col, name in (
            ("sex", "sex"),
            ("tok_dob", "date_of_birth"),
            ("birth_year", "birth_year"),
            ("birth_month", "birth_month"),
            ("date_of_death", "date_of_death"),
        )
    ]
    frames = [f for f in [*frames, _death_recorded_conflicts(rec, person)] if f is not None]
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


def _attribute_conflicts(rec: pd.DataFrame, col: str, name: str) -> pd.DataFrame | None:
    """People whose records hold two or more known values of ``col``."""
    known = rec[rec[col].notna()]
    n = known.groupby("person_key")[col].nunique()
    bad = n[n > 1]
    if bad.empty:
        return None
    sub = known[known["person_key"].isin(bad.index)]
    sources = sub.groupby("person_key")["source"].agg(lambda s: ",".join(sorted(set(s))))
    return pd.DataFrame(
        {
            "person_key": bad.index.to_numpy(dtype=object),
            "attribute": name,
            "n_distinct": bad.to_numpy(dtype="int64"),
            "sources": sources.reindex(bad.index).to_numpy(dtype=object),
        }
    )


def _death_recorded_conflicts(rec: pd.DataFrame, person: pd.DataFrame) -> pd.DataFrame | None:
    """People known to both organisations whose death only one organisation records."""
    by = _death_recorded_by(rec)
    both = person.set_index("person_key")["known_to"].eq("both")
    one = by[by.isin(["dcc", "dchs"]) & both.reindex(by.index).fillna(False).to_numpy()]
    if one.empty:
        return None
    return pd.DataFrame(
        {
            "person_key": one.index.to_numpy(dtype=object),
            "attribute": "death_recorded",
            "n_distinct": 2,
            "sources": one.to_numpy(dtype=object),
        }
    )


# ---------------------------------------------------------------------- person_internal
def person_internal(linked: pd.DataFrame, person: pd.DataFrame) -> pd.DataFrame:
    """Per person: what the measures need. Internal only - never publish it.

    ``person_key, birth_year, birth_month`` (surviving pair), ``date_of_death`` (earliest
    recorded, full date), ``death_recorded_by`` (dcc/dchs/both/None), ``sex, age_band,
    district, known_to, communication_need`` (as published), ``comm_need_dcc`` /
    ``comm_need_dchs`` (most specific need each organisation's records hold).
    """
    rec, key_values = coded(record_frame(linked))
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
    out["person_key"] = uncoded(out["person_key"], key_values)
    out["date_of_death"] = out["date_of_death"].astype(DATE)
    for c in ("death_recorded_by", "sex", "age_band", "district", "known_to",
              "communication_need", "comm_need_dcc", "comm_need_dchs"):  # fmt: skip
        out[c] = as_text(out[c]).to_numpy()
    return out[INTERNAL_COLUMNS]
