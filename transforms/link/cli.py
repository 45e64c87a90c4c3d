"""``python -m transforms.link LEFT RIGHT --out OUT``: link two files of people.

LEFT and RIGHT are CSV or Parquet with the columns ``record_id, nhs_number,
given_name, family_name, date_of_birth (YYYY-MM-DD), sex, postcode, address`` (any
may be empty). Both are standardised with :mod:`transforms.standardise` (through a thin
adapter onto its DCHS-patient shape), pseudonymised under the key, linked with the
Splink model (trained on the two files unless ``--model`` gives a saved one), and the
cross-file links are written to OUT (Parquet): ``record_id_l, record_id_r,
match_probability``, best pair first.

With ``--one-to-one`` (the default) each record appears in at most one output row:
pairs are taken greedily in order of probability, skipping any whose record is
already used. Use ``--no-one-to-one`` when a file may hold duplicates of one person.

The key comes from ``--key-file``, else ``CARE_PSEUDONYMISATION_KEY`` /
``CARE_KEY_FILE`` (:func:`transforms.keys.load_key`); without one the command stops
with exit code 2 and says where a key should come from.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("transforms.link")

INPUT_COLUMNS = [
    "record_id", "nhs_number", "given_name", "family_name", "date_of_birth", "sex",
    "postcode", "address",
]  # fmt: skip
OUTPUT_COLUMNS = ["record_id_l", "record_id_r", "match_probability"]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


def read_people(path: Path) -> pd.DataFrame:
    """A LEFT/RIGHT file as strings (empty -> None), with every input column present."""
    path = Path(path)
    if not path.exists():
        raise CliError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        df = pd.read_parquet(path)
    elif suffix in (".csv", ".txt", ".gz"):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        raise CliError(f"{path}: expected a .csv or .parquet file")
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "record_id" not in df.columns:
        raise CliError(f"{path}: column record_id is required (have {list(df.columns)})")
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for c in INPUT_COLUMNS:
        if c in df.columns:
            values = df[c].astype(object).where(df[c].notna(), None)
            values = [None if v is None or str(v).strip() == "" else str(v).strip() for v in values]
            out[c] = pd.Series(values, dtype=object)
        else:
            out[c] = pd.Series([None] * len(df), dtype=object)
    if out["record_id"].isna().any():
        raise CliError(f"{path}: {int(out['record_id'].isna().sum())} row(s) have no record_id")
    dup = out["record_id"].duplicated()
    if dup.any():
        raise CliError(f"{path}: record_id {out.loc[dup, 'record_id'].iloc[0]!r} is not unique")
    return out


def to_patient_shape(people: pd.DataFrame) -> pd.DataFrame:
    """Adapter: the CLI columns onto the DCHS ``patient`` landing columns that
    :func:`transforms.standardise.standardise_dchs_patient` reads.

    ``address``: the part before the first comma is the address line (house number
    and street), as in the sources; the postcode comes from its own column.
    """
    address = [_address_parts(a)[0] for a in people["address"]]
    return pd.DataFrame(
        {
            "local_patient_id": people["record_id"],
            "nhs_number": people["nhs_number"],
            "nhs_number_status": None,
            "given_name": people["given_name"],
            "family_name": people["family_name"],
            "person_birth_date": people["date_of_birth"],
            "person_stated_gender_code": people["sex"],
            "ethnic_category": None,
            "postcode": people["postcode"],
            "address_line_1": pd.Series(address, dtype=object),
            "gp_practice_code": None,
            "person_death_date": None,
            "interpreter_required": None,
            "preferred_language": None,
        }
    )


def person_records(people: pd.DataFrame, key, source: str) -> pd.DataFrame:
    """Standardise + pseudonymise one file into PERSON_RECORD rows with ``source``."""
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise import standardise_dchs_patient

    std = standardise_dchs_patient(to_patient_shape(people), other_postcodes=True)
    std["locality"] = localities(people["address"])
    std["source"] = source
    return pseudonymise_persons(std, key)


def localities(addresses: pd.Series) -> pd.Series:
    """The address after its first line (``12 Oak Road, Darley Dale, Matlock``: ``DARLEY
    DALE MATLOCK``), normalised; None when there is none. Encoded into the address
    filter beside the house number, street and postcode, so two files that both hold
    whole addresses agree on the locality too."""
    from transforms.standardise import normalise_address

    return pd.Series([normalise_address(_address_parts(a)[1]) for a in addresses], dtype=object)


def _address_parts(address: str | None) -> tuple[str | None, str | None]:
    """(first line, the rest) of an address, split at its first comma; None for empty."""
    if not isinstance(address, str):
        return None, None
    first, _, rest = address.partition(",")
    return first.strip() or None, rest.strip() or None


def load_cli_key(key_file: Path | None):
    from transforms import keys

    try:
        if key_file is not None:
            material, version = keys.read_key_file(key_file)
            return keys.key_from_material(material, version or keys.DEFAULT_VERSION)
        return keys.load_key()
    except keys.KeyError_ as exc:
        raise CliError(str(exc)) from None


def one_to_one(pairs: pd.DataFrame) -> pd.DataFrame:
    """Greedy one-to-one: best pair first; a pair is kept if neither record is used."""
    if pairs.empty:
        return pairs
    ordered = pairs.sort_values(
        ["match_probability", "record_id_l", "record_id_r"],
        ascending=[False, True, True],
        kind="stable",
    )
    used_l: set = set()
    used_r: set = set()
    keep = np.zeros(len(ordered), dtype=bool)
    for i, (a, b) in enumerate(zip(ordered["record_id_l"], ordered["record_id_r"], strict=True)):
        if a not in used_l and b not in used_r:
            used_l.add(a)
            used_r.add(b)
            keep[i] = True
    return ordered[keep].reset_index(drop=True)


def cross_file_prior(model: dict, n_left: int, n_right: int) -> dict:
    """The model with its prior over cross-file pairs, for two de-duplicated files.

    Training estimates the prior (lambda, the chance that two random records match) over
    every pair of the union, as the one model also de-duplicates. When each file holds a
    person at most once, every match is a LEFT x RIGHT pair, so a random cross-file pair
    matches with ``lambda * C(n, 2) / (n_left * n_right)``: about twice lambda for two
    files of one size. This is the prior Splink's ``link_only`` mode would estimate; it
    comes from the counts, not from the answers.
    """
    if n_left == 0 or n_right == 0:
        return model
    n = n_left + n_right
    lam = float(model["probability_two_random_records_match"])
    cross = min(lam * (n * (n - 1) / 2) / (n_left * n_right), 0.5)
    out = {**model, "probability_two_random_records_match": cross}
    out["_care_meta"] = {**model.get("_care_meta", {}), "prior_over": "cross-file pairs"}
    return out


#: Ceiling on the share of one file's records with a match in the other, so that "no
#: match" never becomes impossible for a record (1 - pi >= 0.001). The share itself is
#: estimated from the pairs (estimate_shares_matched): on FEBRL 4, where every record has
#: its match, it comes to 0.998.
MAX_SHARE_MATCHED = 0.999


def one_to_one_posterior(
    cross: pd.DataFrame,
    prior: float,
    n_left: int,
    n_right: int,
    shares: tuple[float, float] | None = None,
) -> np.ndarray:
    """Match probabilities of LEFT x RIGHT pairs given that each record has at most one
    match in the other file (two de-duplicated files).

    A pair's own probability weighs it against a random cross-file pair (prior
    ``prior``). With one match at most per record, the question is rather "which of
    this record's candidates, if any, is its match". For a LEFT record ``i`` with
    candidates ``k`` and likelihood ratios ``LR``, and ``pi`` the share of LEFT records
    that have a match:

        P(i = j) = (pi / n_right) * LR_ij / ((1 - pi) + (pi / n_right) * sum_k LR_ik)

    (a match somewhere with probability ``pi``, at any one of the ``n_right`` records
    alike; ``LR`` is ``p / (1 - p) * (1 - prior) / prior`` from a pair's probability
    ``p``). A record's only plausible candidate therefore gains (``pi / n_right`` is far
    larger than ``prior``), and one with a close rival loses. The same from the RIGHT
    record's side, and the smaller of the two is returned. ``shares``: ``pi`` of LEFT
    and of RIGHT (:func:`estimate_shares_matched`); by default from the prior
    (``prior * n_left * n_right`` matches expected), at most ``MAX_SHARE_MATCHED``.
    ``cross`` must hold every scored candidate pair (``record_id_l``, ``record_id_r``,
    ``match_probability`` after the look-alike guard, whose cap then also counts as a
    rival's weight). Nothing but the model, its prior and the file sizes enters: no
    answers are consulted.
    """
    if cross.empty or n_left == 0 or n_right == 0:
        return cross["match_probability"].to_numpy(dtype="float64")
    lr = _likelihood_ratios(cross, prior)
    if shares is None:
        shares = _shares_from_prior(prior, n_left, n_right)
    out = np.ones(len(cross))
    sides = (("record_id_l", shares[0], n_right), ("record_id_r", shares[1], n_left))
    for col, pi, n_other in sides:
        codes, _ = pd.factorize(cross[col])
        total = np.bincount(codes, weights=lr)[codes]
        term = pi / n_other
        out = np.minimum(out, term * lr / ((1 - pi) + term * total))
    return out


def _likelihood_ratios(cross: pd.DataFrame, prior: float) -> np.ndarray:
    p = np.clip(cross["match_probability"].to_numpy(dtype="float64"), 0.0, 1 - 1e-15)
    return p / (1 - p) * (1 - prior) / prior


def _shares_from_prior(prior: float, n_left: int, n_right: int) -> tuple[float, float]:
    expected = prior * n_left * n_right  # matches expected between the two files
    return min(expected / n_left, MAX_SHARE_MATCHED), min(expected / n_right, MAX_SHARE_MATCHED)


def estimate_shares_matched(
    cross: pd.DataFrame, prior: float, n_left: int, n_right: int, *, tol: float = 1e-6
) -> tuple[float, float]:
    """The share of LEFT and of RIGHT records that have a match, estimated from the
    pairs' evidence (expectation maximisation of the mixing weight ``pi``).

    The prior comes from training, where it rests on an assumed recall of exact
    demographics (``FALLBACK_RECALL``): two files whose records are more corrupted than
    that assumes get a prior too small, and every pair's posterior with it. Here each
    record's probability of having a match, ``t S / ((1 - pi) + t S)`` with ``S`` the
    sum of its candidates' likelihood ratios and ``t = pi / n_other``, is averaged over
    the file (records with no candidate count as unmatched) to give the next ``pi``,
    until it moves less than ``tol``; at most ``MAX_SHARE_MATCHED``. It starts from the
    prior's share. Only the model's likelihood ratios and the file sizes are read.
    """
    start = _shares_from_prior(prior, n_left, n_right)
    if cross.empty or n_left == 0 or n_right == 0:
        return start
    lr = _likelihood_ratios(cross, prior)
    out = []
    sides = (
        ("record_id_l", start[0], n_left, n_right),
        ("record_id_r", start[1], n_right, n_left),
    )
    for col, pi, n, n_other in sides:
        codes, _ = pd.factorize(cross[col])
        s_per_record = np.bincount(codes, weights=lr)
        for _ in range(500):
            t = pi / n_other * s_per_record
            nxt = min(float((t / ((1 - pi) + t)).sum()) / n, MAX_SHARE_MATCHED)
            done = abs(nxt - pi) < tol
            pi = nxt
            if done:
                break
        out.append(pi)
    log.info(
        "share of records with a match: LEFT %.4f, RIGHT %.4f (the prior gave %.4f, %.4f)",
        out[0], out[1], *start,
    )  # fmt: skip
    return out[0], out[1]


def cross_file_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """LEFT x RIGHT pairs as ``record_id_l`` (LEFT), ``record_id_r`` (RIGHT)."""
    cross = pairs[pairs["source_l"] != pairs["source_r"]]
    flip = (cross["source_l"] == "right").to_numpy()
    rid_l = np.where(flip, cross["source_record_id_r"], cross["source_record_id_l"])
    rid_r = np.where(flip, cross["source_record_id_l"], cross["source_record_id_r"])
    out = pd.DataFrame(
        {
            "record_id_l": pd.array(rid_l, dtype="str"),
            "record_id_r": pd.array(rid_r, dtype="str"),
            "match_probability": cross["match_probability"].to_numpy(dtype="float64"),
        }
    )
    return out.sort_values(
        ["match_probability", "record_id_l", "record_id_r"],
        ascending=[False, True, True],
        kind="stable",
    ).reset_index(drop=True)


def link_files(
    left: pd.DataFrame,
    right: pd.DataFrame,
    key,
    *,
    threshold: float | None = None,
    one_to_one_links: bool = True,
    model: dict | None = None,
    model_out: Path | None = None,
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(output links, all scored pairs, model) for two CLI-shaped frames."""
    from transforms.link.splink_model import (
        MATCH_THRESHOLD,
        predict_pairs,
        save_model,
        train_model,
        two_file_blocking_rules,
    )

    threshold = MATCH_THRESHOLD if threshold is None else threshold
    records = pd.concat(
        [person_records(left, key, "left"), person_records(right, key, "right")],
        ignore_index=True,
    )
    if model is None:
        # two de-duplicated files that overlap much: matches are many of the sampled
        # pairs, so u is taken without them (remove_matches_from_u)
        model = train_model(records, seed=seed, u_without_matches=one_to_one_links)
        if one_to_one_links:
            model = cross_file_prior(model, len(left), len(right))
        if model_out is not None:
            save_model(model, model_out)  # the model that scored these pairs, for audit
    # one-to-one: a twin's or namesake's own record competes for the link, so the
    # look-alike guard reads close given names as typos (see lookalike_guard); and
    # every candidate pair is kept, as each is a rival in one_to_one_posterior
    scored = predict_pairs(
        records,
        model=model,
        threshold=0.0 if one_to_one_links else min(threshold, 0.5),
        one_to_one=one_to_one_links,
        blocking_rules=two_file_blocking_rules(records),
    )
    links = cross_file_pairs(scored)
    if one_to_one_links:
        prior = float(model["probability_two_random_records_match"])
        shares = estimate_shares_matched(links, prior, len(left), len(right))
        posterior = one_to_one_posterior(links, prior, len(left), len(right), shares)
        links = links.assign(match_probability=posterior).sort_values(
            ["match_probability", "record_id_l", "record_id_r"],
            ascending=[False, True, True],
            kind="stable",
        )
    links = links[links["match_probability"] >= threshold]
    if one_to_one_links:
        links = one_to_one(links)
    return links[OUTPUT_COLUMNS].reset_index(drop=True), scored, model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from transforms.link.splink_model import MATCH_THRESHOLD

    ap = argparse.ArgumentParser(
        prog="python -m transforms.link",
        description="Link the people in two files (pseudonymised, probabilistic).",
    )
    ap.add_argument("left", type=Path, help="LEFT file (.csv or .parquet)")
    ap.add_argument("right", type=Path, help="RIGHT file (.csv or .parquet)")
    ap.add_argument("--out", type=Path, required=True, help="output Parquet of links")
    ap.add_argument("--key-file", type=Path, default=None, help="pseudonymisation key file (0600)")
    ap.add_argument(
        "--threshold",
        type=float,
        default=MATCH_THRESHOLD,
        help=f"link at or above this match probability (default {MATCH_THRESHOLD})",
    )
    ap.add_argument(
        "--one-to-one",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="each record in at most one link, best first (default on)",
    )
    ap.add_argument("--model", type=Path, default=None, help="reuse a saved model JSON")
    ap.add_argument("--model-out", type=Path, default=None, help="save the trained model JSON")
    ap.add_argument("--report", type=Path, default=None, help="write a linkage report (HTML)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("-q", "--quiet", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    t0 = time.perf_counter()
    try:
        if not 0.0 < args.threshold <= 1.0:
            raise CliError("--threshold must be in (0, 1]")
        key = load_cli_key(args.key_file)
        left = read_people(args.left)
        right = read_people(args.right)
        model = None
        if args.model is not None:
            from transforms.link.splink_model import load_model

            if not args.model.exists():
                raise CliError(f"{args.model}: no such model file")
            model = load_model(args.model)
        links, scored, _ = link_files(
            left,
            right,
            key,
            threshold=args.threshold,
            one_to_one_links=args.one_to_one,
            model=model,
            model_out=args.model_out,
            seed=args.seed,
        )
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    links.to_parquet(tmp, index=False)
    tmp.replace(args.out)
    if args.report is not None:
        from transforms.link.report import write_linkage_report
        from transforms.link.splink_model import REVIEW_BAND

        p = scored["match_probability"]
        review = int(((p >= REVIEW_BAND[0]) & (p < args.threshold)).sum())
        write_linkage_report(
            args.report,
            route_counts={"probabilistic": len(links), "review": review},
            pairs=scored,
            review_queue_size=review,
            truth_metrics=None,
        )
    print(
        f"linked {len(links):,} pair(s) between {len(left):,} LEFT and {len(right):,} RIGHT "
        f"records -> {args.out} ({time.perf_counter() - t0:.1f}s)"
    )
    return 0
