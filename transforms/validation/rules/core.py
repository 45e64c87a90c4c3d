"""The :class:`Rule` type, the makers every suite's rules are written with, and the batch
rules (schema, row count, failing share) that frame each suite."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Share rules use their full threshold from this many rows; smaller batches (a quiet
#: incremental night) use the looser ``small_batch_threshold``, so that a handful of
#: rows cannot stop the night by chance.
SMALL_BATCH_ROWS = 500
#: Below this many rows a share says nothing (one row without an NHS number is 100%):
#: share rules are not applied; row rules and the quarantine still are.
TINY_BATCH_ROWS = 20
#: A batch breaches when more than this share of its rows fail error rules.
MAX_FAILING_SHARE = 0.05
MAX_FAILING_SHARE_SMALL = 0.5


@dataclass(frozen=True)
class Rule:
    rule: str
    severity: str  # error | warning | batch
    description: str
    type: str
    kwargs: dict
    inputs: tuple[str, ...] = ()
    extra_meta: dict = field(default_factory=dict)

    def expectation(self) -> dict:
        meta = {
            "rule": self.rule,
            "severity": self.severity,
            "description": self.description,
            "inputs": list(self.inputs),
            "batch": "rows",
            **self.extra_meta,
        }
        return {
            "type": self.type,
            "kwargs": self.kwargs,
            "meta": meta,
            "notes": f"**{self.rule}** ({self.severity}): {self.description}",
        }


def not_null(rule, column, description, severity="error") -> Rule:
    return Rule(
        rule,
        severity,
        description,
        "expect_column_values_to_not_be_null",
        {"column": column},
        (column,),
    )


def in_set(rule, column, values, description, severity="error") -> Rule:
    return Rule(
        rule,
        severity,
        description,
        "expect_column_values_to_be_in_set",
        {"column": column, "value_set": list(values)},
        (column,),
    )


def flag(rule, inputs, description, severity="error") -> Rule:
    """A derived ``ok_<rule>`` column must be True wherever it is not null."""
    return Rule(
        rule,
        severity,
        description,
        "expect_column_values_to_be_in_set",
        {"column": f"ok_{rule}", "value_set": [True]},
        tuple(inputs),
    )


def between(rule, column, low, high, inputs, description, severity="error") -> Rule:
    kwargs = {"column": column}
    if low is not None:
        kwargs["min_value"] = low
    if high is not None:
        kwargs["max_value"] = high
    return Rule(
        rule, severity, description, "expect_column_values_to_be_between", kwargs, tuple(inputs)
    )


def share(rule, base: Rule, threshold: float, small: float, description: str) -> Rule:
    """A batch rule: at least ``threshold`` of the rows satisfy ``base``'s expectation."""
    return Rule(
        rule,
        "batch",
        description,
        base.type,
        {**base.kwargs, "mostly": {"$PARAMETER": f"{rule}_mostly"}},
        base.inputs,
        {"threshold": threshold, "small_batch_threshold": small},
    )


def code_list(rule, column, values, label, severity="error") -> Rule:
    return in_set(
        rule,
        column,
        values,
        f"`{column}`, when recorded, is a code of the {label}.",
        severity,
    )


def schema_rules(columns: list[str], what: str, typed: bool) -> list[Rule]:
    """Schema drift, checked on the batch's columns and dtypes (a zero-row batch)."""
    rules = [
        Rule(
            "schema_columns",
            "batch",
            f"The batch has exactly the {what} columns: a missing, renamed or extra column "
            "is schema drift.",
            "expect_table_columns_to_match_set",
            {"column_set": list(columns), "exact_match": True},
            extra_meta={"batch": "schema"},
        )
    ]
    if typed:
        rules += [
            Rule(
                "schema_types",
                "batch",
                f"`{c}` is text, as landed (a retyped column is schema drift).",
                "expect_column_type_to_be",
                {"column": c, "type_": "str"},
                (c,),
                {"batch": "schema"},
            )
            for c in columns
        ]
    return rules


def row_count_rule(what: str) -> Rule:
    return Rule(
        "row_count",
        "batch",
        f"The {what} has at least `min_rows` rows. `min_rows` is 0 unless the caller "
        "says rows were expected (context `expect_rows` gives 1, `min_rows` gives its "
        "value): an empty incremental batch is legitimate.",
        "expect_table_row_count_to_be_between",
        {"min_value": {"$PARAMETER": "min_rows"}, "max_value": None},
    )


def failing_share_rule() -> Rule:
    return share(
        "failing_row_share",
        flag("row", (), ""),
        1 - MAX_FAILING_SHARE,
        1 - MAX_FAILING_SHARE_SMALL,
        f"At most {MAX_FAILING_SHARE:.0%} of the rows fail an error rule "
        f"({MAX_FAILING_SHARE_SMALL:.0%} below {SMALL_BATCH_ROWS} rows); more means the "
        "extract itself is broken, so the night stops instead of quarantining it.",
    )
