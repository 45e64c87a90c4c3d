"""The linkage model's comparisons and its untrained settings (Splink 5, over tokens).

One model, run as de-duplication over the union of both sources, so it scores
cross-system (DCC x DCHS) and within-system (duplicate) pairs alike. Every comparison
is token equality or Dice on Bloom-filter encodings (:mod:`transforms.link.dice`).

Comparisons (``gamma_<name>`` in the output, 0 = else, -1 = null):

* ``given_name``: exact (TF on ``tok_given_name``) / canonical (nickname) /
  Dice(clk_name) >= 0.9 / phonetic / Dice >= 0.8 / Dice(clk_given, the first given name
  alone) >= ``GIVEN_ONLY_DICE``. ``clk_name`` encodes both names in one
  domain, so a given/family swap still scores a high Dice, and a typo in either name
  does too. Dice >= 0.9 comes before phonetic so that the phonetic level holds the
  less similar (more twin-like) pairs.
* ``family_name``: exact (TF on ``tok_family_name``) / phonetic / Dice >= 0.9 / >= 0.8 /
  shared part (a double-barrelled name and one of its parts: ``tok_family_name_first``
  / ``_last``).
* ``dob``: exact / day-month swap (``tok_dob_swapped_l = tok_dob_r``) / two of three
  parts (ym, yd, md) / same year.
* ``address`` (postcode and address in ONE comparison: ``clk_address`` contains the
  postcode, so separate comparisons would count the same evidence twice): house +
  street and postcode exact / Dice(clk_address) >= 0.9 / same postcode / same house +
  street / Dice >= 0.7 / same sector / same district.
* ``nhs_number``: equal valid-number tokens / both valid and different. Strong, not
  deterministic (the deterministic pass handles the clean cases).
* ``sex``: equal / different (U is null).

See docs/linkage.md.
"""

from __future__ import annotations

from typing import Any

from transforms.link.blocking import BLOCKING_RULES
from transforms.link.dice import DEFAULT_WORDS, dice_sql, null_sql
from transforms.link.records import GUARD_CLK

#: Pairs at or above this probability are linked (clusters = connected components).
MATCH_THRESHOLD: float = 0.98
#: Pairs with probability in [low, high) go to the clerical review queue.
REVIEW_BAND: tuple[float, float] = (0.5, 0.98)

MODEL_VERSION = "care-link-1"

#: The given-name level on the first given name's own filter: a typed given name whose
#: family name is corrupted too (the whole-name filter then falls below 0.8).
GIVEN_ONLY_DICE = 0.7
#: Term-frequency adjustment never treats a name as rarer than this (u floor): a very
#: rare name is strong evidence, but not enough to outweigh a different date of birth.
TF_MINIMUM_U = 0.001


def _lvl(sql: str, label: str, **extra) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(sql: str) -> dict[str, Any]:
    return _lvl(sql, "null", is_null_level=True)


def _eq(col: str) -> str:
    return f"{col}_l = {col}_r"


def _tf(col: str) -> dict[str, Any]:
    return {
        "tf_adjustment_column": col,
        "tf_adjustment_weight": 1.0,
        "tf_minimum_u_value": TF_MINIMUM_U,
    }


_ELSE = _lvl("ELSE", "else")


def given_name_comparison(n_words: int = DEFAULT_WORDS) -> dict[str, Any]:
    name_dice = dice_sql("clk_name", n_words)
    return {
        "output_column_name": "given_name",
        "comparison_description": "given name tokens, nickname, phonetic, name CLK Dice",
        "comparison_levels": [
            _null("tok_given_name_l IS NULL OR tok_given_name_r IS NULL"),
            _lvl(_eq("tok_given_name"), "exact", **_tf("tok_given_name")),
            _lvl(_eq("tok_given_name_canonical"), "canonical (nickname)"),
            _lvl(f"{name_dice} >= 0.9", "name Dice >= 0.9"),
            _lvl(_eq("tok_given_name_phonetic"), "phonetic"),
            _lvl(f"{name_dice} >= 0.8", "name Dice >= 0.8"),
            _lvl(
                f"{dice_sql(GUARD_CLK, n_words)} >= {GIVEN_ONLY_DICE}",
                f"given Dice >= {GIVEN_ONLY_DICE}",
            ),
            dict(_ELSE),
        ],
    }


def family_name_comparison(n_words: int = DEFAULT_WORDS) -> dict[str, Any]:
    name_dice = dice_sql("clk_name", n_words)
    return {
        "output_column_name": "family_name",
        "comparison_description": "family name tokens, phonetic, name CLK Dice",
        "comparison_levels": [
            _null("tok_family_name_l IS NULL OR tok_family_name_r IS NULL"),
            _lvl(_eq("tok_family_name"), "exact", **_tf("tok_family_name")),
            _lvl(_eq("tok_family_name_phonetic"), "phonetic"),
            _lvl(f"{name_dice} >= 0.9", "name Dice >= 0.9"),
            _lvl(f"{name_dice} >= 0.8", "name Dice >= 0.8"),
            _lvl(
                "tok_family_name_first_l IN (tok_family_name_first_r, tok_family_name_last_r) "
                "OR tok_family_name_last_l IN (tok_family_name_first_r, tok_family_name_last_r)",
                "shared part",
            ),
            dict(_ELSE),
        ],
    }


def dob_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "dob",
        "comparison_description": "date of birth tokens",
        "comparison_levels": [
            _null("tok_dob_l IS NULL OR tok_dob_r IS NULL"),
            _lvl(_eq("tok_dob"), "exact"),
            _lvl("tok_dob_swapped_l = tok_dob_r", "day/month swapped"),
            _lvl(
                f"{_eq('tok_dob_ym')} OR {_eq('tok_dob_yd')} OR {_eq('tok_dob_md')}",
                "two of three parts",
            ),
            _lvl(_eq("tok_dob_year"), "same year"),
            dict(_ELSE),
        ],
    }


def address_comparison(n_words: int = DEFAULT_WORDS) -> dict[str, Any]:
    addr_dice = dice_sql("clk_address", n_words)
    return {
        "output_column_name": "address",
        "comparison_description": "postcode tokens, house+street token, address CLK Dice",
        "comparison_levels": [
            _null(
                f"({null_sql('clk_address')}) AND "
                "(tok_postcode_district_l IS NULL OR tok_postcode_district_r IS NULL)"
            ),
            _lvl(f"{_eq('tok_street_number')} AND {_eq('tok_postcode')}", "exact address"),
            _lvl(f"{addr_dice} >= 0.9", "address Dice >= 0.9"),
            _lvl(_eq("tok_postcode"), "same postcode"),
            _lvl(_eq("tok_street_number"), "same house and street"),
            _lvl(f"{addr_dice} >= 0.7", "address Dice >= 0.7"),
            _lvl(_eq("tok_postcode_sector"), "same sector"),
            _lvl(_eq("tok_postcode_district"), "same district"),
            dict(_ELSE),
        ],
    }


def nhs_number_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "nhs_number",
        "comparison_description": "valid NHS number tokens",
        "comparison_levels": [
            _null("tok_nhs_number_l IS NULL OR tok_nhs_number_r IS NULL"),
            _lvl(_eq("tok_nhs_number"), "equal"),
            dict(_ELSE),
        ],
    }


def sex_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "sex",
        "comparison_description": "recorded sex (U is unknown)",
        "comparison_levels": [
            _null("sex_l IS NULL OR sex_r IS NULL OR sex_l = 'U' OR sex_r = 'U'"),
            _lvl(_eq("sex"), "equal"),
            dict(_ELSE),
        ],
    }


def comparisons(n_words: int = DEFAULT_WORDS) -> list[dict[str, Any]]:
    return [
        given_name_comparison(n_words),
        family_name_comparison(n_words),
        dob_comparison(),
        address_comparison(n_words),
        nhs_number_comparison(),
        sex_comparison(),
    ]


def base_settings(n_words: int = DEFAULT_WORDS) -> dict[str, Any]:
    """The untrained model (a Splink settings dictionary)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "uid",
        "probability_two_random_records_match": 1e-5,
        "comparisons": comparisons(n_words),
        "blocking_rules_to_generate_predictions": [{"blocking_rule": br} for br in BLOCKING_RULES],
        # Splink 5 only keeps gamma_* (the evidence) along with the matching columns;
        # the output is projected down to OUTPUT_COLUMNS + gamma_* in SQL
        # (transforms.link.predict)
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["source", "source_record_id"],
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }
