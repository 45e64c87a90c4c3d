"""Rules several suites share: a column recorded, a key unique per source file, a date's
format, and the NHS number, demographic, address and known-person rules both sources'
records carry."""

from __future__ import annotations

from transforms.contracts import AGE_RANGE
from transforms.validation.rules.core import (
    SMALL_BATCH_ROWS,
    Rule,
    between,
    flag,
    not_null,
    share,
)


def present(rule, column, what) -> Rule:
    return not_null(rule, column, f"`{column}` ({what}) is recorded.")


def unique_key(rule, keys, what) -> Rule:
    cols = ", ".join(f"`{k}`" for k in keys)
    return flag(
        rule,
        [*keys, "_source_file"],
        f"The {what} key ({cols}) appears once per source file; every row of a repeated "
        "key is quarantined, since which one is right cannot be told. (The same key in "
        "two different drops is a later version, not a duplicate.)",
    )


def date_format(column, what="date") -> Rule:
    return flag(
        f"{column}_format",
        [column],
        f"`{column}`, when recorded, is a real {what} written `YYYY-MM-DD`"
        + (" (a midnight time part is tolerated)." if what == "date" else "."),
    )


def nhs_rules(threshold_populated: float) -> list[Rule]:
    valid = flag(
        "nhs_number_valid",
        ["nhs_number"],
        "`nhs_number`, when recorded, is ten digits (spaces and dashes ignored) whose "
        "Modulus 11 check digit matches (a check digit of 10 is invalid) and is not a "
        "repeated-digit dummy. A warning: the record still links on other "
        "fields, and quarantining a person would drop all of their activity.",
        "warning",
    )
    populated = share(
        "nhs_number_populated_share",
        not_null("nhs_number_populated", "nhs_number", ""),
        threshold_populated,
        0.5,
        f"At least {threshold_populated:.0%} of the rows have an NHS number "
        f"(50% below {SMALL_BATCH_ROWS} rows).",
    )
    valid_share = share(
        "nhs_number_valid_share",
        valid,
        0.95,
        0.5,
        f"At least 95% of the recorded NHS numbers are valid (50% below {SMALL_BATCH_ROWS} rows).",
    )
    return [valid, populated, valid_share]


def demographic_rules(dob: str, death: str) -> list[Rule]:
    low, high = AGE_RANGE
    return [
        not_null(
            f"{dob}_present",
            dob,
            f"`{dob}` is recorded (a warning: linkage and age bands suffer without it).",
            "warning",
        ),
        date_format(dob),
        flag(f"{dob}_not_future", [dob], f"`{dob}` is not after the validation date."),
        between(
            "age_in_range",
            "num_age_years",
            low,
            high,
            [dob, death],
            f"Age in whole years, at death or else at the validation date, is {low}–{high}.",
        ),
        date_format(death),
        flag(f"{death}_not_future", [death], f"`{death}` is not after the validation date."),
        flag(
            "death_not_before_birth",
            [dob, death],
            f"`{death}` is on or after `{dob}`.",
        ),
    ]


def address_rules() -> list[Rule]:
    return [
        flag(
            "postcode_format",
            ["postcode"],
            "`postcode`, when recorded, is a full UK postcode (GOV.UK data standard "
            "pattern; case and spacing ignored). Partial postcodes (district or sector "
            "only) fail: a warning, as linkage still uses the district.",
            "warning",
        ),
        flag(
            "gp_practice_code_format",
            ["gp_practice_code"],
            "`gp_practice_code`, when recorded, is an ODS GP practice code: one letter "
            "and five digits (e.g. C81001).",
            "warning",
        ),
    ]


def person_exists(id_col: str, what: str) -> Rule:
    return flag(
        "person_exists",
        [id_col],
        f"`{id_col}` names a {what} known to the pipeline (tonight's clean rows or an "
        "earlier night's); an orphan row cannot be attributed to anyone.",
    )
