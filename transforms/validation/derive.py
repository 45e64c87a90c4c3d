"""Derived check columns: one vectorised pandas pass per table.

Great Expectations then asserts over these columns (``ok_<rule>`` in ``{True}``,
``num_<column>`` between bounds), so a suite over a million rows costs a few
column scans instead of a Python call per row. ``ok_<rule>`` is True when the row
passes, False when it fails and NA when the rule does not apply to it.

Source frames arrive as landing text; :func:`derive_source` receives them normalised by
the caller (every contract column present, text, RangeIndex).
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd

from transforms import codes
from transforms.validation import checks
from transforms.validation.rules.outputs import proportion_measures

log = logging.getLogger(__name__)

Derived = dict[str, pd.Series]


def _today(context: dict) -> pd.Timestamp:
    as_of = context.get("as_of")
    return pd.Timestamp(as_of if as_of is not None else date.today()).normalize()


def _not_after(dates: pd.Series, limit: pd.Timestamp) -> pd.Series:
    ok = (dates <= limit).to_numpy(dtype=bool, na_value=True)
    return checks.flag(ok, dates.notna().to_numpy())


def _ordered(first: pd.Series, then: pd.Series) -> pd.Series:
    """``then`` on or after ``first``; NA unless both are known."""
    both = first.notna().to_numpy() & then.notna().to_numpy()
    ok = (then >= first).to_numpy(dtype=bool, na_value=True)
    return checks.flag(ok, both)


def _required(frame: pd.DataFrame, type_col: str, type_value: str, column: str) -> pd.Series:
    applies = (frame[type_col] == type_value).to_numpy(dtype=bool, na_value=False)
    return checks.flag(checks.present(frame[column]), applies)


def _person_exists(frame: pd.DataFrame, id_col: str, context: dict, table: str) -> pd.Series:
    ids = context.get("person_ids")
    if ids is None:
        log.warning("%s: no person_ids in context; person_exists not evaluated", table)
        return checks.flag(np.ones(len(frame), bool), np.zeros(len(frame), bool))
    return checks.flag(checks.is_in(frame[id_col], ids), checks.present(frame[id_col]))


def _demographics(frame: pd.DataFrame, dob_col: str, death_col: str, context: dict) -> Derived:
    today = _today(context)
    dob, dob_bad = checks.parse_date(frame[dob_col])
    death, death_bad = checks.parse_date(frame[death_col])
    out: Derived = {
        f"ok_{dob_col}_format": checks.flag(~dob_bad, checks.present(frame[dob_col])),
        f"ok_{death_col}_format": checks.flag(~death_bad, checks.present(frame[death_col])),
        f"ok_{dob_col}_not_future": _not_after(dob, today),
        f"ok_{death_col}_not_future": _not_after(death, today),
        "ok_death_not_before_birth": _ordered(dob, death),
    }
    # Age at death when the death is plausible, else at the validation date; not computed
    # for a birth date in the future (its own rule reports that).
    use_death = (death.notna() & (death >= dob) & (death <= today)).to_numpy(
        dtype=bool, na_value=False
    )
    ref = death.where(use_death, today)
    age = checks.whole_years(dob, ref)
    age[(dob > today).to_numpy(dtype=bool, na_value=False)] = np.nan
    out["num_age_years"] = pd.Series(age, dtype="float64")
    return out


def _nhs(frame: pd.DataFrame) -> pd.Series:
    return checks.nhs_number_valid(frame["nhs_number"])


def _address(frame: pd.DataFrame) -> Derived:
    return {
        "ok_postcode_format": checks.postcode_valid(frame["postcode"]),
        "ok_gp_practice_code_format": checks.gp_practice_valid(frame["gp_practice_code"]),
    }


def _date_formats(frame: pd.DataFrame, columns: list[str]) -> tuple[Derived, dict]:
    out, parsed = {}, {}
    for c in columns:
        parsed[c], bad = checks.parse_date(frame[c])
        out[f"ok_{c}_format"] = checks.flag(~bad, checks.present(frame[c]))
    return out, parsed


def _last_updated(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    ts, bad = checks.parse_timestamp(frame["last_updated"])
    return ts, checks.flag(~bad, checks.present(frame["last_updated"]))


# ------------------------------------------------------------------------------- DCC
#: Where a chain of merges ends (``_UNKNOWN``: it leaves tonight's rows, and earlier
#: nights were not given).
_OK, _MISSING, _CYCLE, _BROKEN, _UNKNOWN = range(5)
_NAMES_NONE = object()  # a Merged record naming no other record


def _picked(series: pd.Series, where) -> list:
    """The values at ``where`` (a mask or positions) as Python objects, without turning
    the whole column into objects first."""
    return series.array[where].tolist()


def _merge_chains(frame: pd.DataFrame, context: dict) -> Derived:
    """Where each ``Merged`` record's chain of merges ends, through tonight's rows (which
    win) and earlier nights' (context ``person_ids``: their DCC ids; ``merged_into``: a
    Series by id of the record merged into, null when not merged). A record merged into
    nothing or into itself is ``merged_into_required``'s; one merged into such a record
    fails ``merge_target_exists``."""
    pid = frame["la_person_id"]
    present = checks.present(pid)
    merged = (frame["record_status"] == "Merged").to_numpy(dtype=bool, na_value=False)
    named = checks.present(frame["merged_into_id"]) & (frame["merged_into_id"] != pid).to_numpy(
        dtype=bool, na_value=True
    )
    heads = merged & named & present
    rows = np.flatnonzero(present & merged)  # only these are walked: no whole-column copies
    ids = _picked(pid, rows)
    earlier = context.get("person_ids")
    steps = _merge_steps(frame, context, present, merged, named, rows, ids)
    unknown = _unknown_targets(pid, steps, earlier, heads)
    unknown_end = _UNKNOWN if earlier is None else _MISSING
    memo: dict = {}
    ends = np.full(len(frame), _UNKNOWN)
    for i, key in zip(rows, ids, strict=True):
        if heads[i]:
            ends[i] = _chain_end(key, steps, unknown, unknown_end, memo)
    judged = heads & (ends != _UNKNOWN)
    return {
        "ok_merge_target_exists": checks.flag(~np.isin(ends, [_MISSING, _BROKEN]), judged),
        "ok_merge_not_cyclic": checks.flag(ends != _CYCLE, judged),
    }


def _merge_steps(
    frame: pd.DataFrame,
    context: dict,
    present: np.ndarray,
    merged: np.ndarray,
    named: np.ndarray,
    rows: np.ndarray,
    ids: list,
) -> dict:
    """Each merged record's next step, the id it is merged into (``_NAMES_NONE``: no
    record): earlier nights' ``merged_into``, with tonight's rows winning."""
    pid = frame["la_person_id"]
    target = _picked(frame["merged_into_id"], rows)
    steps: dict = {}
    into = context.get("merged_into")
    if into is not None and len(into):
        has = into.notna().to_numpy()
        steps = dict(zip(into.index[has].tolist(), _picked(into, has), strict=True))
    if steps:  # tonight's rows win: a record no longer merged
        for key in _picked(pid, present & ~merged & checks.is_in(pid, list(steps))):
            steps.pop(key, None)
    for key, into_id, ok in zip(ids, target, named[rows], strict=True):
        steps[key] = into_id if ok else _NAMES_NONE
    return steps


def _unknown_targets(pid: pd.Series, steps: dict, earlier, heads: np.ndarray) -> set:
    """The merge targets neither tonight's rows nor earlier nights' ids hold."""
    # a chain reaches records only as targets: which targets are known, in one pass each
    # (the few targets are hashed and the many ids scanned, not the other way round)
    unknown = {t for t in steps.values() if t is not _NAMES_NONE}
    targets = pd.Series(list(unknown), dtype="str")
    unknown -= set(_picked(pid, checks.is_in(pid, targets)))
    if earlier is not None:
        before = pd.Series(list(earlier) if isinstance(earlier, (set, frozenset)) else earlier)
        unknown -= set(_picked(before, checks.is_in(before, targets)))
    elif heads.any():
        log.warning(
            "dcc_person: no person_ids in context; merges leaving tonight's rows not judged"
        )
    return unknown


def _chain_end(node, steps: dict, unknown: set, unknown_end: int, memo: dict) -> int:
    """Where the chain of merges from ``node`` ends; ``memo`` keeps every record's end
    seen on the way, so each record is walked once. ``unknown_end``: the end of a chain
    that leaves for an unknown target."""
    path, seen = [], set()
    while True:
        if node in memo:
            found = memo[node]
            break
        if node in seen:
            found = _CYCLE
            break
        if node in unknown:
            found = unknown_end
            break
        step = steps.get(node)
        if step is None or step is _NAMES_NONE:  # a survivor, or a merge into no record
            found = _OK if step is None else _BROKEN
            break
        seen.add(node)
        path.append(node)
        node = step
    memo.update(dict.fromkeys(path, found))
    return found


def dcc_person(frame: pd.DataFrame, context: dict) -> Derived:
    merged = (frame["record_status"] == "Merged").to_numpy(dtype=bool, na_value=False)
    target = frame["merged_into_id"]
    names_other = checks.present(target) & (target != frame["la_person_id"]).to_numpy(
        dtype=bool, na_value=True
    )
    _ts, lu_ok = _last_updated(frame)
    return {
        "ok_la_person_id_unique": checks.unique_within(frame, ["la_person_id"], ["_source_file"]),
        "ok_merged_into_required": checks.flag(names_other, merged),
        **_merge_chains(frame, context),
        "ok_nhs_number_valid": _nhs(frame),
        **_demographics(frame, "date_of_birth", "date_of_death", context),
        "ok_last_updated_format": lu_ok,
        **_address(frame),
    }


TEAM_CONVENTION = r"START|HOSPITAL-SW|CSB-\S+|ASC-\S+"
CLD_EVENT_KEY = [
    "la_person_id", "event_type", "_start", "request_route_of_access", "assessment_type",
    "service_type", "service_component", "delivery_mechanism", "review_reason",
]  # fmt: skip


def dcc_event(frame: pd.DataFrame, context: dict) -> Derived:
    out, dates = _date_formats(frame, ["event_start_date", "event_end_date"])
    start, end = dates["event_start_date"], dates["event_end_date"]
    ts, out["ok_last_updated_format"] = _last_updated(frame)
    no_end = ~checks.present(frame["event_end_date"])
    deaths = checks.lookup_dates(frame["la_person_id"], context.get("death_dates"))
    out.update({
        "ok_event_reference_unique": checks.unique_within(
            frame, ["event_reference"], ["_source_file"]
        ),
        "ok_person_exists": _person_exists(frame, "la_person_id", context, "dcc_event"),
        "ok_end_not_before_start": _ordered(start, end),
        "ok_end_date_missing_only_when_open": checks.flag(
            ~checks.present(frame["event_outcome"]), no_end
        ),
        "ok_start_not_after_death": _ordered(start, deaths),
        "ok_request_route_of_access_required": _required(
            frame, "event_type", "Request", "request_route_of_access"
        ),
        "ok_assessment_type_required": _required(
            frame, "event_type", "Assessment", "assessment_type"
        ),
        "ok_service_type_required": _required(frame, "event_type", "Service", "service_type"),
        "ok_service_component_required": _required(
            frame, "event_type", "Service", "service_component"
        ),
        "ok_review_reason_required": _required(frame, "event_type", "Review", "review_reason"),
        "ok_duplicate_event": _cld_duplicates(frame, start, ts),
        "ok_team_convention": checks.flag(
            checks.matches(frame["team"], TEAM_CONVENTION), checks.present(frame["team"])
        ),
    })  # fmt: skip
    return out


def _cld_duplicates(frame: pd.DataFrame, start: pd.Series, updated: pd.Series) -> pd.Series:
    """False for every copy of a CLD unique event but the most recently updated one."""
    eligible = (
        checks.present(frame["la_person_id"])
        & checks.present(frame["event_type"])
        & start.notna().to_numpy()
    )
    n = len(frame)
    if not eligible.any():
        return checks.flag(np.ones(n, bool), eligible)
    keyed = frame.loc[eligible, [c for c in CLD_EVENT_KEY if c != "_start"] + ["event_reference"]]
    keyed = keyed.assign(_start=start[eligible], _updated=updated[eligible])
    keyed = keyed.sort_values(
        ["_updated", "event_reference"], ascending=False, na_position="last", kind="stable"
    )
    later_copy = keyed.duplicated(CLD_EVENT_KEY, keep="first")
    dup = np.zeros(n, dtype=bool)
    dup[later_copy.index[later_copy.to_numpy()]] = True
    return checks.flag(~dup, eligible)


# ------------------------------------------------------------------------------ DCHS
def dchs_patient(frame: pd.DataFrame, context: dict) -> Derived:
    valid = _nhs(frame)
    verified = (frame["nhs_number_status"] == "01").to_numpy(dtype=bool, na_value=False)
    return {
        "ok_local_patient_id_unique": checks.unique_within(
            frame, ["local_patient_id"], ["_source_file"]
        ),
        "ok_nhs_number_valid": valid,
        "ok_nhs_number_status_consistent": checks.flag(
            valid.to_numpy(dtype=bool, na_value=False), verified
        ),
        **_demographics(frame, "person_birth_date", "person_death_date", context),
        **_address(frame),
    }


def dchs_referral(frame: pd.DataFrame, context: dict) -> Derived:
    out, dates = _date_formats(frame, ["referral_received_date", "service_discharge_date"])
    out.update({
        "ok_service_request_id_unique": checks.unique_within(
            frame, ["service_request_id"], ["_source_file"]
        ),
        "ok_person_exists": _person_exists(frame, "local_patient_id", context, "dchs_referral"),
        "ok_discharge_not_before_referral": _ordered(
            dates["referral_received_date"], dates["service_discharge_date"]
        ),
    })  # fmt: skip
    return out


ATTENDED = ["5", "6"]


def dchs_care_contact(frame: pd.DataFrame, context: dict) -> Derived:
    out, dates = _date_formats(frame, ["care_contact_date"])
    sid = frame["service_request_id"]
    referral_dates = context.get("referral_dates")
    if referral_dates is None:
        log.warning("dchs_care_contact: no referral_dates in context; referral rules not run")
        known = np.ones(len(frame), bool)
        applies = np.zeros(len(frame), bool)
    else:
        known = checks.is_in(sid, referral_dates.index)
        applies = checks.present(sid)
    received = checks.lookup_dates(sid, referral_dates)
    raw = frame["clinical_contact_duration_minutes"]
    numeric = checks.matches(raw.str.strip(), r"-?[0-9]+")
    minutes = pd.to_numeric(raw.where(numeric), errors="coerce").astype("float64")
    attended = checks.is_in(frame["attended_or_did_not_attend"], ATTENDED)
    out.update({
        "ok_contact_key_unique": checks.unique_within(
            frame, ["service_request_id", "care_contact_id"], ["_source_file"]
        ),
        "ok_person_exists": _person_exists(
            frame, "local_patient_id", context, "dchs_care_contact"
        ),
        "ok_contact_not_before_referral": _ordered(received, dates["care_contact_date"]),
        "ok_referral_exists": checks.flag(known, applies),
        "ok_duration_numeric": checks.flag(numeric, checks.present(raw)),
        "num_clinical_contact_duration_minutes": minutes.reset_index(drop=True),
        "ok_duration_recorded_when_attended": checks.flag(checks.present(raw), attended),
    })  # fmt: skip
    return out


def dchs_inpatient_spell(frame: pd.DataFrame, context: dict) -> Derived:
    out, dates = _date_formats(frame, ["admission_date", "discharge_date"])
    method = frame["discharge_method_code"]
    dest = frame["discharge_destination_code"]
    died_method = (method == codes.DISCHARGE_METHOD_DIED).to_numpy(dtype=bool, na_value=False)
    died_dest = (dest == codes.DISCHARGE_DESTINATION_DIED).to_numpy(dtype=bool, na_value=False)
    not_finished = (dest == codes.DISCHARGE_DESTINATION_NOT_FINISHED).to_numpy(
        dtype=bool, na_value=False
    )
    discharged = checks.present(frame["discharge_date"])
    out.update({
        "ok_spell_number_unique": checks.unique_within(
            frame, ["hospital_provider_spell_number"], ["_source_file"]
        ),
        "ok_person_exists": _person_exists(
            frame, "local_patient_id", context, "dchs_inpatient_spell"
        ),
        "ok_discharge_not_before_admission": _ordered(
            dates["admission_date"], dates["discharge_date"]
        ),
        "ok_died_method_destination": checks.flag(died_method & died_dest, died_method | died_dest),
        "ok_closed_spell_discharge_fields": checks.flag(
            checks.present(method) & checks.present(dest) & ~not_finished, discharged
        ),
        "ok_open_spell_discharge_fields": checks.flag(
            ~checks.present(method) & (~checks.present(dest) | not_finished), ~discharged
        ),
    })  # fmt: skip
    return out


SOURCE_DERIVERS = {
    "dcc_person": dcc_person,
    "dcc_event": dcc_event,
    "dchs_patient": dchs_patient,
    "dchs_referral": dchs_referral,
    "dchs_care_contact": dchs_care_contact,
    "dchs_inpatient_spell": dchs_inpatient_spell,
}


def derive_source(name: str, frame: pd.DataFrame, context: dict) -> Derived:
    return SOURCE_DERIVERS[name](frame, context)


# ----------------------------------------------------------------------------- outputs
def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype=object)


def _num(frame: pd.DataFrame, name: str) -> pd.Series:
    values = pd.to_numeric(_col(frame, name).astype(object), errors="coerce")
    return values.astype("float64")


def _key_known(frame: pd.DataFrame, context: dict, table: str) -> pd.Series:
    keys = context.get("person_keys")
    col = _col(frame, "person_key")
    if keys is None:
        log.warning("%s: no person_keys in context; person_key_known not evaluated", table)
        return checks.flag(np.ones(len(frame), bool), np.zeros(len(frame), bool))
    return checks.flag(checks.is_in(col, keys), checks.present(col))


def _output_unique(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    cols = pd.DataFrame({k: _col(frame, k) for k in keys})
    if len(keys) == 1:
        return checks.unique_within(cols, keys)
    dup = cols.astype(object).duplicated(keep=False).to_numpy() if len(cols) else np.zeros(0, bool)
    return checks.flag(~dup)


def _no_identifiers(frame: pd.DataFrame, dates: list[str], found: dict) -> pd.Series:
    hits, per_column = checks.identifier_hits(frame.reset_index(drop=True), dates)
    found.update(per_column)
    return checks.flag(~hits)


def _dates_ordered(frame: pd.DataFrame, first: str, then: str) -> pd.Series:
    return _ordered(
        checks.any_datetimes(_col(frame, first)), checks.any_datetimes(_col(frame, then))
    )


def person(frame: pd.DataFrame, context: dict, found: dict, dates: list[str]) -> Derived:
    return {
        "ok_person_key_unique": _output_unique(frame, ["person_key"]),
        "ok_no_clear_identifiers": _no_identifiers(frame, dates, found),
        "num_min_link_probability": _num(frame, "min_link_probability"),
        "num_source_record_count": _num(frame, "source_record_count"),
        "ok_seen_dates_ordered": _dates_ordered(frame, "first_seen", "last_seen"),
    }


def care_event(frame: pd.DataFrame, context: dict, found: dict, dates: list[str]) -> Derived:
    return {
        "ok_event_id_unique": _output_unique(frame, ["event_id"]),
        "ok_person_key_known": _key_known(frame, context, "care_event"),
        "ok_no_clear_identifiers": _no_identifiers(frame, dates, found),
        "ok_end_not_before_start": _dates_ordered(frame, "start_date", "end_date"),
        "num_age_at_event": _num(frame, "age_at_event"),
    }


def pathway2_stay(frame: pd.DataFrame, context: dict, found: dict, dates: list[str]) -> Derived:
    return {
        "ok_stay_id_unique": _output_unique(frame, ["stay_id"]),
        "ok_person_key_known": _key_known(frame, context, "pathway2_stay"),
        "ok_no_clear_identifiers": _no_identifiers(frame, dates, found),
        "ok_episode_dates_ordered": _dates_ordered(frame, "episode_start", "episode_end"),
        "num_length_of_stay_days": _num(frame, "length_of_stay_days"),
        "num_n_stays": _num(frame, "n_stays"),
        "num_age_at_admission": _num(frame, "age_at_admission"),
    }


def metric(frame: pd.DataFrame, context: dict, found: dict, dates: list[str]) -> Derived:
    num, den, val = _num(frame, "numerator"), _num(frame, "denominator"), _num(frame, "value")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
    shaped = (
        (den > 0) & num.notna() & val.notna() & ((val - ratio).abs() <= 1e-9 * val.abs().clip(1))
    ).to_numpy(dtype=bool, na_value=False)
    in_unit = ((val >= 0) & (val <= 1) & (num <= den)).to_numpy(dtype=bool, na_value=False)
    has_value = val.notna().to_numpy() & den.notna().to_numpy()
    measure = _col(frame, "measure_id").astype(object)
    proportion = measure.isin(proportion_measures()).to_numpy() & val.notna().to_numpy()
    return {
        "ok_metric_key_unique": _output_unique(
            frame, ["measure_id", "period_start", "period_end", "breakdown"]
        ),
        "ok_no_clear_identifiers": _no_identifiers(frame, dates, found),
        "num_value": val,
        "ok_proportion_in_unit_interval": checks.flag(in_unit, shaped),
        "num_numerator": num,
        "ok_denominator_positive": checks.flag(
            (den > 0).to_numpy(dtype=bool, na_value=False), has_value
        ),
        "ok_proportion_measure_range": checks.flag(
            ((val >= 0) & (val <= 1)).to_numpy(dtype=bool, na_value=False), proportion
        ),
        "ok_period_ordered": _dates_ordered(frame, "period_start", "period_end"),
    }


OUTPUT_DERIVERS = {
    "person": person,
    "care_event": care_event,
    "pathway2_stay": pathway2_stay,
    "metric": metric,
}


def derive_output(
    name: str, frame: pd.DataFrame, context: dict, found: dict, dates: list[str]
) -> Derived:
    """Derived columns of an output table; ``found`` collects identifier hits per column;
    ``dates`` are the table's date columns (a full date there is not an identifier)."""
    return OUTPUT_DERIVERS[name](frame, context, found, dates)
