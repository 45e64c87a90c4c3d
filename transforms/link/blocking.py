"""Blocking: which pairs of records the linkage model scores at all.

``BLOCKING_RULES`` generate the candidate pairs of every prediction (an OR: a pair is
scored once). The two-file command adds one-field rules within a budget of pairs
(:func:`two_file_blocking_rules`) and keeps its rules to LEFT x RIGHT pairs, but for
the few that find families within one file (``WITHIN_FILE_RULES``).
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from transforms.config import LinkSettings
from transforms.link.backend import duckdb_api
from transforms.link.dice import DEFAULT_WORDS, dice_sql
from transforms.link.records import prepare_records

log = logging.getLogger(__name__)

#: Every rule is narrow enough that its blocks stay small as the population grows (a
#: pair count of n^2 / cardinality): a wider one scores many more pairs for next to no
#: true pair more (docs/linkage.md, "Blocking rules").
BLOCKING_RULES = [
    "l.tok_nhs_number = r.tok_nhs_number",
    "l.tok_dob = r.tok_dob",
    "l.tok_postcode = r.tok_postcode AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_dob_swapped = r.tok_dob",
    "l.tok_street_number = r.tok_street_number AND l.tok_dob_year = r.tok_dob_year",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic "
    "AND l.tok_dob_md = r.tok_dob_md",
    "l.tok_family_name_phonetic = r.tok_family_name_phonetic AND l.tok_dob_ym = r.tok_dob_ym",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_postcode_sector = r.tok_postcode_sector",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic "
    "AND l.tok_dob_year = r.tok_dob_year",
    "l.tok_given_name_canonical = r.tok_given_name_canonical "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic "
    "AND l.tok_postcode_district = r.tok_postcode_district",
    # the same house and street with no date of birth or postcode to meet another rule
    # on (a missing date of birth, a missing postcode)
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_given_name_canonical = r.tok_given_name_canonical",
    # given and family names swapped at the same house, street and district, with no
    # date of birth to meet on: the whole-name filter is the same whichever field
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_postcode_district = r.tok_postcode_district "
    f"AND {dice_sql('clk_name', DEFAULT_WORDS, prefixes=True)} >= 0.8",
]
#: Two-file linking only: one-field rules, for pairs that disagree on all but one of
#: the fields the rules above combine (a date of birth missing, a postcode mistyped and a
#: family name changed at once). Added in this order while the candidate pairs stay
#: within ``WIDE_BLOCKING_BUDGET``: fine for two files of thousands, far too many for a
#: county (a given name alone pairs ~1 in 100 of all records), where they are skipped.
WIDE_BLOCKING_RULES = [
    "l.tok_postcode = r.tok_postcode",
    "l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_given_name_canonical = r.tok_given_name_canonical",
    "l.tok_street_number = r.tok_street_number",
]
WIDE_BLOCKING_BUDGET = 5_000_000
#: ... and within this many candidate pairs per record of the two files, so that the
#: cost grows with the files, not with their square: a one-field rule on a common name
#: pairs ~1 in 100 of the records.
WIDE_BLOCKING_PAIRS_PER_RECORD = 50
#: Two-file linking: the condition that keeps a rule to LEFT x RIGHT pairs.
CROSS_FILE = "l.source <> r.source"
#: Two-file linking: the rules that pair records within one file too, as the look-alike
#: caps count the families each file holds (twins: one date of birth, or its day/month
#: swap; couples, parents and children: one family name and one home).
WITHIN_FILE_RULES = [
    "l.tok_dob = r.tok_dob",
    "l.tok_postcode = r.tok_postcode AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
    "l.tok_dob_swapped = r.tok_dob",
    "l.tok_street_number = r.tok_street_number "
    "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic",
]


def blocking_counts(
    records: pd.DataFrame,
    *,
    link_settings: LinkSettings,
    record_sample_proportion: float = 1.0,
    rules: list[str] | None = None,
) -> pd.DataFrame:
    """Candidate pairs per prediction blocking rule (``rules``, default
    ``BLOCKING_RULES``): marginal (new pairs the rule adds after the rules before it)
    and cumulative."""
    return _count_pairs(
        _registered(records, link_settings),
        BLOCKING_RULES if rules is None else rules,
        record_sample_proportion=record_sample_proportion,
    )


def _registered(records: pd.DataFrame, link_settings: LinkSettings):
    """``records`` prepared (:func:`prepare_records`) and registered with a new DuckDB
    linkage connection."""
    frame, _ = prepare_records(records)
    return duckdb_api(link_settings).register(frame, dataset_display_name="person_record")


def _count_pairs(sdf, rules: list[str], *, record_sample_proportion: float = 1.0) -> pd.DataFrame:
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    rows = count_comparisons_from_blocking_rules(
        sdf,
        blocking_rules=rules,
        link_type="dedupe_only",
        unique_id_column_name="uid",
        record_sample_proportion=record_sample_proportion,
    )
    return pd.DataFrame(
        {
            "blocking_rule": rules,
            "marginal_pairs": [r["marginal_comparison_count"] for r in rows],
            "cumulative_pairs": [r["cumulative_comparison_count"] for r in rows],
        }
    )


def two_file_blocking_rules(
    records: pd.DataFrame, budget: int | None = None, *, link_settings: LinkSettings
) -> list[str]:
    """The two-file command's rules: ``BLOCKING_RULES``, then as many of
    ``WIDE_BLOCKING_RULES``, in order, as keep the candidate pairs within ``budget``
    (default ``WIDE_BLOCKING_PAIRS_PER_RECORD`` per record, at most
    ``WIDE_BLOCKING_BUDGET``).

    Only LEFT x RIGHT pairs are links, so every rule but ``WITHIN_FILE_RULES`` is
    restricted to them (``CROSS_FILE``); those few also pair records within one file,
    which the look-alike caps count (:func:`~transforms.link.lookalike_guard.lookalike_caps`:
    twins share a date of birth, couples and parents a family name and a home). A wide
    rule is taken when its pairs fit with those taken so far: bounded from its own
    cross-file count (a group count of its key), counted exactly (Splink's
    ``count_comparisons_from_blocking_rules``) only when the bounds cannot decide, so
    a rule skipped never hides pairs a later one adds; what is skipped is logged."""
    if budget is None:
        budget = min(WIDE_BLOCKING_BUDGET, WIDE_BLOCKING_PAIRS_PER_RECORD * len(records))
    rules = [r if r in WITHIN_FILE_RULES else cross_file(r) for r in BLOCKING_RULES]
    sdf = None
    upper = None  # an upper bound of the pairs of the rules taken
    for rule in WIDE_BLOCKING_RULES:
        own = _cross_file_pairs_of_rule(records, rule)
        if own > budget:
            log.info("two-file blocking: %s skipped (%d pairs alone, over %d)", rule, own, budget)
            continue
        if upper is None:
            sdf = _registered(records, link_settings)
            upper = int(_count_pairs(sdf, rules)["cumulative_pairs"].iloc[-1])
        if upper + own > budget:
            with_it = int(
                _count_pairs(sdf, [*rules, cross_file(rule)])["cumulative_pairs"].iloc[-1]
            )
            if with_it > budget:
                log.info(
                    "two-file blocking: %s skipped (%d pairs with it, over %d)",
                    rule, with_it, budget,
                )  # fmt: skip
                continue
            upper = with_it
        else:
            upper += own
        rules.append(cross_file(rule))
    log.info(
        "two-file blocking: %d of %d wide rules taken (at most %s candidate pairs)",
        len(rules) - len(BLOCKING_RULES),
        len(WIDE_BLOCKING_RULES),
        "?" if upper is None else f"{upper:,}",
    )
    return rules


def cross_file(rule: str) -> str:
    """``rule`` restricted to pairs of records from different sources."""
    return f"{rule} AND {CROSS_FILE}"


def _cross_file_pairs_of_rule(records: pd.DataFrame, rule: str) -> int:
    """Pairs of records from different sources that an equality rule
    (``l.a = r.a AND l.b = r.b``) makes: per key, the product of each source's count."""
    cols = re.findall(r"l\.(\w+) = r\.(\w+)", rule)
    if not cols or any(a != b for a, b in cols) or len(cols) != rule.count(" AND ") + 1:
        raise ValueError(f"not an equality rule: {rule}")
    keys = [a for a, _ in cols]
    counts = (
        records[[*keys, "source"]]
        .dropna()
        .assign(n=1)
        .pivot_table(index=keys, columns="source", values="n", aggfunc="sum", fill_value=0)
    )
    if counts.shape[1] < 2:
        return 0
    counts = counts.to_numpy(dtype="float64")
    total = counts.sum(axis=1)
    return int(((total**2 - (counts**2).sum(axis=1)) / 2).sum())
