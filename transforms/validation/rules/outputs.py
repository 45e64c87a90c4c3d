"""The output tables' rules (``person``, ``care_event``, ``pathway2_stay``, ``metric``),
and the columns they are checked against, read from the warehouse DDL."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from transforms.contracts import AGE_RANGE
from transforms.tables import measure_catalogue, measure_rules
from transforms.validation.rules.common import present
from transforms.validation.rules.core import Rule, between, flag, in_set

#: The warehouse DDL the output suites check against.
DDL = Path(__file__).resolve().parents[3] / "sql" / "ddl" / "040_shared_care.sql"
_CREATE = re.compile(r"create table if not exists shared_care\.(\w+) \((.*?)\n\);", re.S | re.I)
_ALTER = re.compile(r"alter table shared_care\.(\w+) add column if not exists (\w+) (\w+)", re.I)

OUTPUT_TABLES = ("person", "care_event", "pathway2_stay", "metric")
PERSON_KNOWN_TO = ["dcc", "dchs", "both"]
ORGANISATIONS = ["DCC", "DCHS"]


def ddl_columns(path: Path = DDL) -> dict[str, list[tuple[str, str]]]:
    """shared_care table -> [(column, type)] from the DDL (``create`` then ``alter``)."""
    text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    tables: dict[str, list[tuple[str, str]]] = {}
    for name, body in _CREATE.findall(text):
        cols = []
        for line in body.split(","):
            words = line.split()
            if len(words) >= 2 and words[0].lower() not in ("primary", "unique", "constraint"):
                cols.append((words[0], words[1].lower()))
        tables[name] = cols
    for name, column, kind in _ALTER.findall(text):
        if column not in [c for c, _ in tables.get(name, [])]:
            tables.setdefault(name, []).append((column, kind.lower()))
    return tables


@cache
def output_columns() -> dict[str, list[str]]:
    """Output table -> its DDL columns (read when suites are generated, not at run time:
    the suite JSON carries them)."""
    ddl = ddl_columns()
    return {t: [c for c, _ in ddl[t]] for t in OUTPUT_TABLES}


@cache
def output_date_columns() -> dict[str, list[str]]:
    ddl = ddl_columns()
    return {t: [c for c, kind in ddl[t] if kind in ("date", "timestamp")] for t in OUTPUT_TABLES}


def proportion_measures() -> list[str]:
    """Measures published as a proportion (0-1), from the build's measure catalogue and rules."""
    return [m.measure_id for m in measure_catalogue.MEASURES if m.unit == "proportion"]


def _no_identifiers() -> Rule:
    return flag(
        "no_clear_identifiers",
        [],
        "No column holds a value shaped like a clear identifier: a valid NHS number "
        "(ten digits passing Modulus 11, with or without spaces), a full UK postcode, or a "
        "full date (YYYY-MM-DD or DD/MM/YYYY) in a column that is not one of the table's "
        "date columns.",
    )


def _output_key(rule, keys, what) -> Rule:
    cols = ", ".join(f"`{k}`" for k in keys)
    return flag(rule, keys, f"The {what} key ({cols}) is unique.")


def _person_key_known() -> Rule:
    return flag(
        "person_key_known",
        ["person_key"],
        "`person_key` is a key of tonight's `person` table (context `person_keys`).",
    )


def person_rules() -> list[Rule]:
    low, high = 0, 1
    return [
        present("person_key_present", "person_key", "the surrogate key"),
        _output_key("person_key_unique", ["person_key"], "person"),
        _no_identifiers(),
        in_set("known_to_code", "known_to", PERSON_KNOWN_TO, "`known_to` is dcc, dchs or both."),
        between(
            "min_link_probability_range",
            "num_min_link_probability",
            low,
            high,
            ["min_link_probability"],
            "`min_link_probability` is a probability, 0–1.",
        ),
        between(
            "source_record_count_positive",
            "num_source_record_count",
            1,
            None,
            ["source_record_count"],
            "`source_record_count` is at least 1.",
        ),
        flag(
            "seen_dates_ordered",
            ["first_seen", "last_seen"],
            "`first_seen` is on or before `last_seen`.",
        ),
    ]


def care_event_rules() -> list[Rule]:
    low, high = AGE_RANGE
    return [
        present("event_id_present", "event_id", "the event key"),
        _output_key("event_id_unique", ["event_id"], "event"),
        present("person_key_present", "person_key", "whose event"),
        _person_key_known(),
        _no_identifiers(),
        in_set(
            "organisation_code", "organisation", ORGANISATIONS, "`organisation` is DCC or DCHS."
        ),
        flag(
            "end_not_before_start",
            ["start_date", "end_date"],
            "`end_date` is on or after `start_date`.",
        ),
        between(
            "age_at_event_range",
            "num_age_at_event",
            low,
            high,
            ["age_at_event"],
            f"`age_at_event` is {low}–{high}.",
        ),
    ]


def pathway2_stay_rules() -> list[Rule]:
    low, high = AGE_RANGE
    return [
        present("stay_id_present", "stay_id", "the stay key"),
        _output_key("stay_id_unique", ["stay_id"], "stay"),
        present("person_key_present", "person_key", "whose stay"),
        _person_key_known(),
        _no_identifiers(),
        flag(
            "episode_dates_ordered",
            ["episode_start", "episode_end"],
            "`episode_end` is on or after `episode_start`.",
        ),
        between(
            "length_of_stay_non_negative",
            "num_length_of_stay_days",
            0,
            None,
            ["length_of_stay_days"],
            "`length_of_stay_days` is not negative.",
        ),
        between(
            "n_stays_positive",
            "num_n_stays",
            1,
            None,
            ["n_stays"],
            "`n_stays` is at least 1.",
        ),
        between(
            "age_at_admission_range",
            "num_age_at_admission",
            low,
            high,
            ["age_at_admission"],
            f"`age_at_admission` is {low}–{high}.",
        ),
    ]


def metric_rules() -> list[Rule]:
    return [
        present("measure_id_present", "measure_id", "which measure"),
        _output_key(
            "metric_key_unique",
            ["measure_id", "period_start", "period_end", "breakdown"],
            "metric",
        ),
        present("status_present", "status", "final, provisional or pending"),
        present("definition_version_present", "definition_version", "the definition used"),
        _no_identifiers(),
        *_metric_value_rules(),
        *_metric_vocabulary_rules(),
        flag(
            "period_ordered",
            ["period_start", "period_end"],
            "`period_start` is on or before `period_end`.",
        ),
    ]


def _metric_value_rules() -> list[Rule]:
    return [
        between(
            "value_non_negative",
            "num_value",
            0,
            None,
            ["value"],
            "`value` is not negative (proportions, rates per 100,000 and lengths of stay alike).",
        ),
        flag(
            "proportion_in_unit_interval",
            ["numerator", "denominator", "value"],
            "A proportion — a row whose `value` equals `numerator` / `denominator` — is "
            "0–1, with `numerator` no larger than `denominator`.",
        ),
        between(
            "numerator_non_negative",
            "num_numerator",
            0,
            None,
            ["numerator"],
            "`numerator` is not negative.",
        ),
        flag(
            "denominator_positive",
            ["denominator", "value"],
            "A row with a `value` and a `denominator` has a positive denominator.",
        ),
    ]


def _metric_vocabulary_rules() -> list[Rule]:
    """The metric's status and measure come from the build's measure catalogue and rules."""
    return [
        in_set(
            "status_code",
            "status",
            list(measure_rules.STATUS),
            "`status` is one of the build's metric statuses (transforms.tables.measure_rules).",
        ),
        in_set(
            "measure_id_known",
            "measure_id",
            [m.measure_id for m in measure_catalogue.MEASURES],
            "`measure_id` is a measure defined in transforms.tables.measure_catalogue.",
        ),
        flag(
            "proportion_measure_range",
            ["measure_id", "value"],
            "A measure whose unit is a proportion ("
            + ", ".join(f"`{m}`" for m in proportion_measures())
            + ") has a `value` of 0–1.",
        ),
    ]
