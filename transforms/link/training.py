"""Training the linkage model without labels, and saving and loading it.

lambda (the chance two random records match) comes from the NHS-number rule (exact
demographics when most records have no number); u from random pairs drawn with a fixed
seed (:func:`estimate_u`); m by EM on two blocking rules (NHS number; canonical given
name + date of birth), so that every comparison is estimated at least once while not in
its own blocking rule; then m priors/floors (``M_PRIORS``). See docs/linkage.md.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.config import LinkSettings
from transforms.link.backend import duckdb_api, new_linker, quiet_splink
from transforms.link.comparisons import MATCH_THRESHOLD, MODEL_VERSION, REVIEW_BAND, base_settings
from transforms.link.records import prepare_records

log = logging.getLogger(__name__)

DETERMINISTIC_RULES = ["l.tok_nhs_number = r.tok_nhs_number"]
#: For the prior when most records lack an NHS number.
FALLBACK_DETERMINISTIC_RULES = [
    "l.tok_given_name = r.tok_given_name AND l.tok_family_name = r.tok_family_name "
    "AND l.tok_dob = r.tok_dob",
    "l.tok_given_name_canonical = r.tok_given_name_canonical AND l.tok_dob = r.tok_dob "
    "AND l.tok_postcode = r.tok_postcode",
]
FALLBACK_RECALL = 0.85
#: EM sessions. Neither admits twins (different given names) or parent/child pairs
#: (different dates of birth) in numbers, which would otherwise teach EM that
#: "different given name" or "different NHS number" is common among matches.
EM_BLOCKING_RULES = [
    "l.tok_nhs_number = r.tok_nhs_number",
    "l.tok_given_name_canonical = r.tok_given_name_canonical AND l.tok_dob = r.tok_dob",
]
#: EM sessions when most records lack an NHS number.
FALLBACK_EM_BLOCKING_RULES = [
    "l.tok_dob = r.tok_dob",
    "l.tok_postcode = r.tok_postcode AND l.tok_given_name_canonical = r.tok_given_name_canonical",
]
#: A session that finds no pairs (no UK postcodes in either file; no NHS numbers where
#: most records were thought to have one) is tried again on its alternate, which leaves
#: the same comparisons to estimate (date of birth and address; names are estimated by
#: the other session): otherwise their m would be priors only.
EM_ALTERNATE_RULES = {
    EM_BLOCKING_RULES[0]: FALLBACK_EM_BLOCKING_RULES[0],  # NHS number -> date of birth
    FALLBACK_EM_BLOCKING_RULES[1]: (  # postcode + given name -> given + family name
        "l.tok_given_name_canonical = r.tok_given_name_canonical "
        "AND l.tok_family_name_phonetic = r.tok_family_name_phonetic"
    ),
}
#: m floors/priors per (comparison, level label): used when EM could not see a level,
#: and as a lower bound so one rare disagreement cannot veto a match on its own.
M_PRIORS = {
    ("dob", "same year"): 0.003,
    ("dob", "else"): 0.002,
    ("nhs_number", "else"): 0.002,  # a mistyped number that still passes Modulus 11
    ("given_name", "else"): 0.002,
    ("family_name", "else"): 0.005,  # name changes
    ("address", "else"): 0.01,  # house moves
    ("sex", "else"): 0.002,
}
DEFAULT_M_FLOOR = 0.0005


def train_model(
    records: pd.DataFrame,
    *,
    link_settings: LinkSettings,
    model_out: Path | None = None,
    seed: int = 42,
    max_pairs: float = 2e6,
    u_without_matches: bool = False,
) -> dict:
    """Train the model without labels on ``records``; returns the trained settings dict.

    ``link_settings``: the DuckDB limits training runs under.
    ``model_out``: where to save the trained model JSON (per run, for audit).
    ``u_without_matches``: take the matches out of the sampled u
    (:func:`remove_matches_from_u`); the two-file command does, where two small files
    that overlap much make matches a large share of all pairs.
    """
    quiet_splink()
    t0 = time.perf_counter()
    frame, n_words = prepare_records(records)
    if len(frame) < 2:
        raise ValueError("need at least two person records to train a linkage model")
    db_api = duckdb_api(link_settings)
    linker, sdf = new_linker(db_api, frame, base_settings(n_words))

    valid = float(frame["tok_nhs_number"].notna().mean()) if len(frame) else 0.0
    lam, recall = _estimate_lambda(linker, valid)
    estimate_u(db_api, sdf, linker, max_pairs=max_pairs, seed=seed)
    em_rules = EM_BLOCKING_RULES if valid >= 0.5 else FALLBACK_EM_BLOCKING_RULES
    for rule in em_rules:
        if not run_em_session(linker, rule) and rule in EM_ALTERNATE_RULES:
            log.warning("EM: trying %s instead", EM_ALTERNATE_RULES[rule])
            run_em_session(linker, EM_ALTERNATE_RULES[rule])
    linker._settings_obj._probability_two_random_records_match = lam  # EM must not move it
    model = apply_u_floor(apply_m_priors(linker.misc.save_model_to_json()), max_pairs)
    if u_without_matches:
        model = remove_matches_from_u(model, lam, max_pairs)
    model.setdefault("linker_uid", None)
    model["_care_meta"] = {
        "model_version": MODEL_VERSION,
        "trained_on_records": int(len(frame)),
        "seed": seed,
        "max_pairs": max_pairs,
        "lambda_recall_assumed": recall,
        "match_threshold": MATCH_THRESHOLD,
        "review_band": list(REVIEW_BAND),
        "n_words": n_words,
        "u_without_matches": u_without_matches,
    }
    if model_out is not None:
        save_model(model, model_out)
    log.info("trained linkage model on %d records in %.1fs", len(frame), time.perf_counter() - t0)
    return model


def _estimate_lambda(linker, valid: float) -> tuple[float, float]:
    """(lambda, the recall assumed of its deterministic rules), set on ``linker``;
    ``valid``: the share of records with a valid NHS number."""
    if valid >= 0.5:
        rules, recall = DETERMINISTIC_RULES, float(min(0.99, max(0.3, valid**2)))
    else:  # few NHS numbers (e.g. two files without them): exact demographics instead
        rules, recall = FALLBACK_DETERMINISTIC_RULES, FALLBACK_RECALL
    try:
        linker.training.estimate_probability_two_random_records_match(rules, recall=recall)
    except ValueError as exc:  # very small samples: keep the prior
        log.warning("lambda estimate failed (%s); keeping the prior", exc)
    lam = linker._settings_obj._probability_two_random_records_match
    if not 0 < lam < 1:
        log.warning("deterministic rules found no matches; prior kept at 1e-5")
        lam = linker._settings_obj._probability_two_random_records_match = 1e-5
    return lam, recall


def estimate_u(db_api, sdf, linker, *, max_pairs: float, seed: int) -> None:
    """u of every comparison level from random pairs, in one pass (DuckDB).

    What Splink's ``estimate_u_using_random_sampling`` estimates (the share of random
    pairs at each level, term frequencies aside), over every pair of a sample of
    records drawn by a seeded hash of their ids, just large enough for ``max_pairs``
    pairs, in one query: Splink evaluates each comparison in a pass of its own, ten
    chunks each. A level no sampled pair reaches is marked not observed, as Splink
    marks it."""
    from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT

    con = db_api.duckdb_con
    table = sdf.physical_name
    n = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    k = min(n, int(np.ceil((1 + np.sqrt(1 + 8 * max_pairs)) / 2)))  # k(k-1)/2 >= max_pairs
    cols = [c.unquote().name for c in sdf.columns]
    sides = ", ".join(f'{s}."{c}" AS "{c}_{s}"' for c in cols for s in ("l", "r"))
    comps = linker._settings_obj.comparisons
    gammas = ", ".join(c._case_statement for c in comps)
    names = [c._gamma_column_name for c in comps]
    counts = con.sql(
        f"""
        WITH sample AS (
            SELECT * FROM {table} ORDER BY hash(uid || '|{int(seed)}'), uid LIMIT {k}
        ),
        pairs AS (SELECT {sides} FROM sample l JOIN sample r ON l.uid < r.uid)
        SELECT {", ".join(names)}, count(*) AS n FROM (SELECT {gammas} FROM pairs)
        GROUP BY ALL
        """
    ).df()
    for comp, name in zip(comps, names, strict=True):
        per_level = counts.groupby(name)["n"].sum()
        observed = per_level[per_level.index >= 0]  # not the null level
        total = float(observed.sum())
        for lv in comp.comparison_levels:
            if lv.is_null_level:
                continue
            got = float(observed.get(lv.comparison_vector_value, 0))
            lv.u_probability = got / total if got and total else LEVEL_NOT_OBSERVED_TEXT


def run_em_session(linker, rule: str) -> bool:
    """One EM session on ``rule``; False (logged) when it fails, with the model as it was.

    Splink's session takes the comparisons its blocking rule uses out of the linker's own
    settings while it runs and puts them back only when it succeeds: a session that fails
    (its rule finds no pairs) would leave the model without them, silently, and every
    later score would ignore e.g. given names and addresses. So the settings are copied
    before and restored after a failure.
    """
    settings = linker._settings_obj
    before = settings.core_model_settings.copy()
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
        return True
    except Exception as exc:  # noqa: BLE001 - EM can fail on tiny or degenerate data
        settings.core_model_settings = before
        log.warning("EM on %s failed (the model is as before it): %s", rule, exc)
        return False


def apply_m_priors(model: dict) -> dict:
    """Fill untrained m probabilities and floor small ones (``M_PRIORS``), per comparison
    renormalised so the non-null levels' m sum to 1."""
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        fixed = {}
        for lv in levels:
            floor = M_PRIORS.get((name, lv["label_for_charts"]), DEFAULT_M_FLOOR)
            m = lv.get("m_probability")
            if m is None or m < floor:
                fixed[id(lv)] = floor
        free = [lv for lv in levels if id(lv) not in fixed]
        free_total = sum(lv["m_probability"] for lv in free)
        budget = 1.0 - sum(fixed.values())
        for lv in levels:
            if id(lv) in fixed:
                lv["m_probability"] = fixed[id(lv)]
            elif free_total > 0:
                lv["m_probability"] = lv["m_probability"] * budget / free_total
    return model


def apply_u_floor(model: dict, max_pairs: float) -> dict:
    """A level the u sample never saw gets u = 3 / ``max_pairs`` (the rule of three: the
    95% upper bound of a rate seen 0 times in that many pairs), not no u at all. E.g.
    ``family_name`` "shared part" where no record holds a hyphenated family name. A
    comparison the sample never saw at all (``nhs_number`` in two files without
    numbers: only its null level occurs) is left as it is: it carries no evidence."""
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        if all(lv.get("u_probability") is None for lv in levels):
            continue
        for lv in levels:
            if lv.get("u_probability") is None:
                lv["u_probability"] = 3.0 / max_pairs
    return model


def remove_matches_from_u(model: dict, lam: float, max_pairs: float) -> dict:
    """u without the matches among the random pairs it was sampled from.

    Random sampling takes every sampled pair as a non-match, so its u for a level is
    ``(1 - lambda) * u + lambda * m``: where matches are a large share of all pairs
    (two small files that overlap much) and a level is rare among non-matches (the same
    date of birth: 1 in ~30,000), the matches dominate it. Solved for u with the
    model's own lambda and m, floored at 3 / ``max_pairs`` (the rule of three)."""
    floor = 3.0 / max_pairs
    for comp in model["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level") or lv.get("u_probability") is None:
                continue
            u, m = lv["u_probability"], lv.get("m_probability") or 0.0
            lv["u_probability"] = max((u - lam * m) / (1 - lam), floor)
    return model


def save_model(model: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(model, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def load_model(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
