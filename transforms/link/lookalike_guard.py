"""The look-alike guard: pairs that look like two members of one family, or two
strangers, are capped below the link threshold after scoring.

The model treats its comparisons as independent, but a family's members agree on
family name, date of birth (twins) and address together, so it overcounts their
evidence: such pairs may reach clerical review, never an automatic link. Two
de-duplicated files (``one_to_one``) lift a family kind's cap as far as the files'
own families warrant (:func:`lookalike_caps`). The reasoning is in
docs/linkage_guard.md.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from transforms.link.dice import dice_numpy, word_columns
from transforms.link.records import GUARD_CLK

log = logging.getLogger(__name__)

#: Look-alike guard cap: a guarded pair can reach the review band, never auto-link.
GUARD_CAP = 0.9
#: Given-name-only Dice (bigrams + letters) at or above which two different given names
#: read as one name typed twice rather than two people's names (one-to-one only).
GIVEN_TYPO_DICE = 0.75
#: One-to-one only: when the rarer of two given-name spellings occurs in no other record
#: of the two files, a Dice at or above this reads as one name typed twice (a typed slip
#: leaves a spelling nobody else has; a sibling's name is a name). Nearly every single
#: keyboard slip of a name scores above it (bench/README.md).
RARE_GIVEN_TYPO_DICE = 0.6
#: ... or when the rarer spelling is held by at most this share as many records as the
#: other: one slip of a name recurs in a large file (a given slip is about 0.2% of a
#: name's records: a few percent of records carry a typo, spread over ~5 x length
#: possible slips), while two names that are both in use differ far less in frequency.
RARE_SPELLING_SHARE = 0.01
#: Look-alike kinds whose cap a two-file link may lift (:func:`lookalike_caps`); the
#: others (two valid NHS numbers that differ; namesakes) keep ``GUARD_CAP``.
FAMILY_KINDS = ("twin_like", "parent_child_like", "spouse_like")
#: Family-name levels close enough for two members of one family.
_FAMILY_CLOSE = ("exact", "phonetic", "shared part")
_COMPARISONS = ("given_name", "family_name", "dob", "address", "nhs_number", "sex")


def _gamma(model: dict, comparison: str, label: str) -> int:
    """The gamma value Splink gives ``label`` of ``comparison`` (else = 0, null = -1)."""
    for comp in model["comparisons"]:
        if comp["output_column_name"] == comparison:
            levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
            labels = [lv["label_for_charts"] for lv in levels]
            return len(labels) - 1 - labels.index(label)
    raise KeyError(f"{comparison}/{label}")


def _has(model: dict, comparison: str, label: str) -> bool:
    """Whether ``comparison`` has a level ``label`` (a model saved without it does not)."""
    try:
        _gamma(model, comparison, label)
    except (KeyError, ValueError):
        return False
    return True


def _family_close_levels(model: dict) -> list[int]:
    return [
        _gamma(model, "family_name", lv) for lv in _FAMILY_CLOSE if _has(model, "family_name", lv)
    ]


def _at(levels: dict[str, np.ndarray], model: dict, comparison: str, *labels: str) -> np.ndarray:
    """Whether each pair's level of ``comparison`` is one of ``labels``."""
    return np.isin(levels[comparison], [_gamma(model, comparison, lv) for lv in labels])


def lookalike_guard(pairs: pd.DataFrame, model: dict, *, one_to_one: bool = False) -> pd.Series:
    """Pairs that look like two members of one family, or two strangers, with no shared
    NHS number (any of :func:`lookalike_kinds`)."""
    return lookalike_kinds(pairs, model, one_to_one=one_to_one).any(axis=1)


def lookalike_kinds(pairs: pd.DataFrame, model: dict, *, one_to_one: bool = False) -> pd.DataFrame:
    """Per pair, one column per kind of look-alike, none of them with a shared NHS number:

    * ``twin_like``: family name close, the same date of birth (or its day/month swap;
      at the same home, two of its three parts), given names not close;
    * ``parent_child_like``: the same family and given name and home, dates of birth
      sharing at most the year;
    * ``spouse_like``: family name close, the same home, recorded sexes that differ;
    * ``namesake`` (never with ``one_to_one``): family names not equal, homes no closer
      than the postcode district;
    * ``nhs_differs``: two valid NHS numbers that differ.

    With ``one_to_one`` a given name that reads as one name typed twice is close
    (:func:`_typed_twice`), unless the recorded sexes differ.
    """
    g = {
        c: pairs[f"gamma_{c}"].to_numpy() if f"gamma_{c}" in pairs else np.full(len(pairs), -1)
        for c in _COMPARISONS
    }
    given_strong = _at(g, model, "given_name", "exact", "canonical (nickname)")
    dob_same = _at(g, model, "dob", "exact", "day/month swapped")
    dob_weak = _at(g, model, "dob", "same year", "else")
    same_home = _at(
        g, model, "address", "exact address", "address Dice >= 0.9", "same house and street"
    )
    family = g["family_name"] == _gamma(model, "family_name", "exact")
    family_close = np.isin(g["family_name"], _family_close_levels(model))
    nhs_equal = g["nhs_number"] == _gamma(model, "nhs_number", "equal")
    sex_differs = g["sex"] == _gamma(model, "sex", "else")
    given_typo = _typed_twice(pairs) & ~sex_differs & one_to_one
    given_close = (
        given_strong
        | (g["given_name"] == _gamma(model, "given_name", "name Dice >= 0.9"))
        | given_typo
    )
    dob_near = _at(g, model, "dob", "two of three parts")
    twin_like = family_close & (dob_same | (dob_near & same_home)) & ~given_close
    parent_child_like = family & given_strong & same_home & dob_weak
    spouse_like = family_close & same_home & sex_differs
    nhs_differs = g["nhs_number"] == _gamma(model, "nhs_number", "else")
    far_apart = _at(g, model, "address", "same district", "else")
    namesake = far_apart & ~family & (not one_to_one)
    return pd.DataFrame(
        {
            "twin_like": twin_like & ~nhs_equal,
            "parent_child_like": parent_child_like & ~nhs_equal,
            "spouse_like": spouse_like & ~nhs_equal,
            "namesake": namesake & ~nhs_equal,
            "nhs_differs": nhs_differs & ~nhs_equal,
        },
        index=pairs.index,
    )


def _typed_twice(pairs: pd.DataFrame) -> np.ndarray:
    """Per pair, whether its two given names read as one name typed twice: first given
    names' own filters (``given_dice``) at ``GIVEN_TYPO_DICE`` or above; a rare spelling
    (``given_spelling_rare``) at ``RARE_GIVEN_TYPO_DICE`` or above; or a slip of the
    other record's name (``given_slip_same_name``). Absent columns read as no."""
    given_dice = (
        pairs["given_dice"].to_numpy(dtype=float, na_value=np.nan)
        if "given_dice" in pairs
        else np.full(len(pairs), np.nan)
    )
    rare_spelling = (
        pairs["given_spelling_rare"].to_numpy(dtype=bool, na_value=False)
        if "given_spelling_rare" in pairs
        else np.zeros(len(pairs), dtype=bool)
    )
    slip_of_same_name = (
        pairs["given_slip_same_name"].to_numpy(dtype=bool, na_value=False)
        if "given_slip_same_name" in pairs
        else np.zeros(len(pairs), dtype=bool)
    )
    return (
        (given_dice >= GIVEN_TYPO_DICE)
        | (rare_spelling & (given_dice >= RARE_GIVEN_TYPO_DICE))
        | slip_of_same_name
    )


def lookalike_caps(
    pairs: pd.DataFrame, model: dict, kinds: pd.DataFrame | None = None
) -> np.ndarray:
    """Two de-duplicated files: each pair's probability cap, from how common each kind
    of look-alike is in the files themselves (NaN: not a look-alike).

    In a de-duplicated file every pair is two people, so a within-file pair of a family
    kind (twin-like, parent/child-like, spouse-like) is a real family or a real namesake,
    and the files' own count of them (``W``, within LEFT and within RIGHT, among the
    scored candidates) bounds how many cross-file pairs of that kind are two people: a
    family whose members are in both files gives about ``W`` such pairs across them
    (2ab <= a^2 + b^2 for shares a and b of it in each file). The rest of the kind's
    ``N`` cross-file pairs are one person whose given name, date of birth or sex was
    recorded differently. So the kind's cap is ``1 - (W + 1) / N`` (one look-alike
    assumed even when the files show none), never below ``GUARD_CAP``: where the files
    hold families, as records of real people do, it stays at ``GUARD_CAP``; where they
    hold none, a pair of that kind is capped only as far as the files warrant. Whichever
    kind remains, a look-alike whose own record is in the other file still loses to it
    in the one-to-one matching (:mod:`transforms.two_file.bipartite`), where a
    look-alike's link is bounded again (:func:`transforms.two_file.command.link_caps`). Two
    valid NHS numbers that differ keep ``GUARD_CAP``. No answers are read: only the
    pairs' evidence and source. ``kinds``: :func:`lookalike_kinds` of the pairs, when
    already at hand.
    """
    kinds = lookalike_kinds(pairs, model, one_to_one=True) if kinds is None else kinds
    within = (pairs["source_l"] == pairs["source_r"]).to_numpy()
    caps = np.full(len(pairs), np.nan)
    for kind in kinds.columns:
        flagged = kinds[kind].to_numpy(dtype=bool)
        if not flagged.any():
            continue
        cap = GUARD_CAP
        if kind in FAMILY_KINDS:
            w, n = int((flagged & within).sum()), int((flagged & ~within).sum())
            if n:
                cap = max(GUARD_CAP, 1.0 - (w + 1) / n)
            log.info("look-alike %s: %d within the files, %d across -> cap %.4f", kind, w, n, cap)
        caps = np.where(flagged, np.fmin(caps, cap), caps)
    return caps


def rare_given_spelling_sql(given: str = "tok_given_name") -> str:
    """SQL true when a pair's two given-name spellings (``l.<given>`` / ``r.<given>``)
    differ and the rarer one is held by one record, or by at most
    ``RARE_SPELLING_SHARE`` as many records as the other (a slip of a very common name
    recurs: MARH beside MARY). ``cl.n`` / ``cr.n``: each spelling's count of records.
    Read by the one-to-one guard; token counts only."""
    return (
        f"(l.{given} <> r.{given} AND least(cl.n, cr.n) "
        f"<= greatest(1, {RARE_SPELLING_SHARE} * greatest(cl.n, cr.n)))"
    )


def mark_slip_of_the_same_name(pairs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``pairs`` with ``given_slip_same_name``: the rarer of the two given-name spellings
    (``given_spelling_rare``) is within given-name Dice ``GIVEN_TYPO_DICE`` of a spelling
    that other records hold (two or more) and whose canonical (nickname-resolved) name is
    the other record's: JZMES beside JAMES, against JIM; TOY beside TONY, against
    ANTHONY. A slip and a nickname together leave the two spellings themselves far
    apart. ``frame``: every record, as :func:`~transforms.link.records.prepare_records`
    makes it (tokens and the ``clk_given`` words). Read by the one-to-one guard."""
    out = np.zeros(len(pairs), dtype=bool)
    need = {"given_spelling_rare", "tok_given_name_canonical_l", "tok_given_name_canonical_r"}
    if pairs.empty or not need <= set(pairs.columns) or f"{GUARD_CLK}_pc" not in frame:
        return pairs.assign(given_slip_same_name=out)
    cand = np.flatnonzero(
        pairs["given_spelling_rare"].to_numpy(dtype=bool, na_value=False)
        & pairs["tok_given_name_l"].notna().to_numpy()
        & pairs["tok_given_name_r"].notna().to_numpy()
    )
    if not len(cand):
        return pairs.assign(given_slip_same_name=out)
    counts = frame["tok_given_name"].value_counts()
    sub = pairs.iloc[cand]
    n_l = sub["tok_given_name_l"].map(counts).to_numpy(dtype=float, na_value=np.inf)
    n_r = sub["tok_given_name_r"].map(counts).to_numpy(dtype=float, na_value=np.inf)
    left_rare = n_l <= n_r
    rare = np.where(left_rare, sub["tok_given_name_l"], sub["tok_given_name_r"])
    other_canon = np.where(
        left_rare, sub["tok_given_name_canonical_r"], sub["tok_given_name_canonical_l"]
    )
    out[cand] = _slips_of_names_in_use(frame, counts, rare, other_canon)
    return pairs.assign(given_slip_same_name=out)


def _slips_of_names_in_use(
    frame: pd.DataFrame, counts: pd.Series, rare: np.ndarray, other_canon: np.ndarray
) -> np.ndarray:
    """Per pair, whether spelling ``rare`` is within ``GIVEN_TYPO_DICE`` of a spelling
    held by two or more records of ``frame`` (``counts``) whose canonical name is
    ``other_canon``; worked out once per (spelling, canonical name)."""
    n_words = sum(1 for c in frame.columns if c.startswith(f"{GUARD_CLK}_w"))
    wcols = word_columns(GUARD_CLK, n_words)
    spellings = frame.dropna(subset=["tok_given_name", f"{GUARD_CLK}_pc"]).drop_duplicates(
        "tok_given_name"
    )
    held = spellings["tok_given_name"].map(counts).to_numpy(dtype=float)
    in_use = spellings[held >= 2]
    words_of = dict(zip(spellings["tok_given_name"], spellings[wcols].to_numpy(), strict=True))
    by_canon = {c: g[wcols].to_numpy() for c, g in in_use.groupby("tok_given_name_canonical")}
    combos = pd.DataFrame({"rare": rare, "canon": other_canon})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(combos))
    slip = np.zeros(len(uniques), dtype=bool)
    for j, (r, c) in enumerate(uniques):
        if r not in words_of or c not in by_canon:
            continue
        names = by_canon[c]
        dice = dice_numpy(np.broadcast_to(words_of[r], names.shape), names)
        slip[j] = bool(np.nanmax(dice) >= GIVEN_TYPO_DICE)
    return np.where(codes >= 0, slip[np.maximum(codes, 0)], False)


def family_kind(kinds: pd.DataFrame) -> pd.Series:
    """Per pair, the family kind (``FAMILY_KINDS``) it is a look-alike of, the first
    when several; None when it is none, or also of a kind whose cap is fixed."""
    family = [k for k in FAMILY_KINDS if k in kinds.columns]
    fixed = kinds.drop(columns=family).any(axis=1).to_numpy()
    out = np.full(len(kinds), None, dtype=object)
    for kind in reversed(family):
        out = np.where(kinds[kind].to_numpy(dtype=bool), kind, out)
    return pd.Series(np.where(fixed, None, out), index=kinds.index, dtype=object)


def may_be_twins_sql(model: dict) -> str:
    """SQL over a prediction's ``gamma_*``: the pairs :func:`lookalike_kinds` may call
    twin-like (family name close, date of birth the same or two of its parts), the
    only ones whose given-name spellings it reads."""
    family = _family_close_levels(model)
    dob = [_gamma(model, "dob", lv) for lv in ("exact", "day/month swapped", "two of three parts")]
    return (
        f"p.gamma_family_name IN ({', '.join(map(str, family))}) "
        f"AND p.gamma_dob IN ({', '.join(map(str, dob))})"
    )


def apply_guard(
    df: pd.DataFrame, model: dict, threshold: float, one_to_one: bool = False
) -> pd.DataFrame:
    """Scored pairs with each look-alike's probability (and weight) capped, those then
    below ``threshold`` left out. ``one_to_one``: the caps of :func:`lookalike_caps`,
    kept as ``probability_cap`` with ``lookalike_kind`` (:func:`family_kind`), as they
    bound the pair as a link too (:func:`transforms.two_file.command.link_caps`); else
    ``GUARD_CAP``."""
    if df.empty or "gamma_given_name" not in df:
        return df
    if one_to_one:
        kinds = lookalike_kinds(df, model, one_to_one=True)
        caps = lookalike_caps(df, model, kinds)
        df = df.assign(probability_cap=caps, lookalike_kind=family_kind(kinds))
    else:
        caps = np.where(lookalike_guard(df, model).to_numpy(), GUARD_CAP, np.nan)
    guarded = ~np.isnan(caps)
    if guarded.any():
        p = df["match_probability"].to_numpy(dtype=float)
        capped = np.where(guarded, np.fmin(p, caps), p)
        with np.errstate(divide="ignore"):
            capped_weight = np.log2(capped / (1 - capped))
        df = df.assign(
            match_probability=capped,
            match_weight=np.where(
                guarded & (p > capped), capped_weight, df["match_weight"].to_numpy(dtype=float)
            ),
        )
        df = df[df["match_probability"] >= threshold]
    return df
