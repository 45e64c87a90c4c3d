"""``python -m transforms.link LEFT RIGHT --out OUT``: link two files of people.

LEFT and RIGHT are CSV or Parquet with the columns ``record_id, nhs_number,
given_name, family_name, date_of_birth (YYYY-MM-DD), sex, postcode, address`` (any
may be empty). Both are standardised with :mod:`transforms.standardise` (through a thin
adapter onto its DCHS-patient shape), pseudonymised under the key, linked with the
Splink model (trained on the two files unless ``--model`` gives a saved one), and the
cross-file links are written to OUT (Parquet): ``record_id_l, record_id_r,
match_probability``, best pair first.

With ``--one-to-one`` (the default) each record appears in at most one output row: the
links are those of the most probable one-to-one matching of the two files, each with
its probability as a link of that matching (:mod:`transforms.two_file.bipartite`). Use
``--no-one-to-one`` when a file may hold duplicates of one person.

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

from transforms.config import LinkSettings

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
    :func:`transforms.standardise.person.standardise_dchs_patient` reads.

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
    from transforms.standardise.person import standardise_dchs_patient

    std = standardise_dchs_patient(to_patient_shape(people), other_postcodes=True)
    std["locality"] = localities(people["address"])
    std["source"] = source
    return pseudonymise_persons(std, key)


def localities(addresses: pd.Series) -> pd.Series:
    """The address after its first line (``12 Oak Road, Darley Dale, Matlock``: ``DARLEY
    DALE MATLOCK``), normalised; None when there is none. Encoded into the address
    filter beside the house number, street and postcode, so two files that both hold
    whole addresses agree on the locality too."""
    from transforms.standardise.text import normalise_address

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


#: The command's threshold for the links of a one-to-one matching. Each link's
#: probability is the posterior of the matching against its neighbours
#: (:mod:`transforms.two_file.bipartite`), a look-alike's at most its kind's estimated share
#: of one-person pairs (:func:`link_caps`); for calibrated probabilities the cut that
#: maximises the expected F1 is about half the F1 reached (Lipton, Elkan & Naryanaswamy
#: 2014, *Optimal thresholding of classifiers to maximize F1*), 0.5 here. The nightly
#: clustering, where a wrong link merges whole clusters, keeps ``MATCH_THRESHOLD``.
ONE_TO_ONE_THRESHOLD = 0.5

#: Ceiling on the share of one file's records with a match in the other, so that "no
#: match" never becomes impossible for a record (1 - pi >= 0.001). The share itself is
#: estimated from the pairs (estimate_shares_matched): on FEBRL 4, where every record has
#: its match, it comes to 0.998.
MAX_SHARE_MATCHED = 0.999


def one_to_one_probabilities(
    cross: pd.DataFrame,
    prior: float,
    n_left: int,
    n_right: int,
    within_lookalikes: dict[str, int] | None = None,
) -> np.ndarray:
    """Match probabilities of LEFT x RIGHT pairs as links of the best one-to-one
    matching of two de-duplicated files (:mod:`transforms.two_file.bipartite`); 0 for a
    pair outside it.

    ``cross``: every scored candidate pair (``record_id_l``, ``record_id_r``,
    ``match_probability`` after the look-alike guard, and ``probability_cap`` and
    ``lookalike_kind`` when the guard set them); ``prior``: the model's prior over
    cross-file pairs, which turns a pair's probability back into its likelihood ratio;
    ``within_lookalikes``: each family kind's count of look-alike pairs within the
    files (:func:`link_caps`). The share of records with a match
    (:func:`estimate_shares_matched`) only seeds the search. Nothing but the model, its
    prior, the pairs and the file sizes enters: no answers are consulted.
    """
    from transforms.two_file.bipartite import one_to_one_links

    if cross.empty or n_left == 0 or n_right == 0:
        return np.zeros(len(cross))
    shares = estimate_shares_matched(cross, prior, n_left, n_right)
    start = round(min(shares[0] * n_left, shares[1] * n_right))
    lr = _likelihood_ratios(cross, prior)
    out = one_to_one_links(cross["record_id_l"], cross["record_id_r"], lr, n_left, n_right, start)
    if "probability_cap" in cross:
        caps = link_caps(cross, out > 0, n_left, n_right, within_lookalikes or {})
        out = np.fmin(out, caps)
    return out


def link_caps(
    cross: pd.DataFrame, matched: np.ndarray, n_left: int, n_right: int, within: dict[str, int]
) -> np.ndarray:
    """Each pair's look-alike cap as a link of the matching ``matched`` (NaN: none).

    A family look-alike (twin-like, parent/child-like, spouse-like; ``lookalike_kind``)
    that is two people is a link of a one-to-one matching only when neither has its own
    record in the other file. The files' own within-file count ``W`` allows for about
    ``W + 1`` such pairs across them (:func:`~transforms.link.lookalike_guard.lookalike_caps`),
    and about ``(1 - n12 / n_left) * (1 - n12 / n_right)`` of those are links (each
    share at most ``MAX_SHARE_MATCHED``). With ``N`` links of the kind, its cap as a
    link is ``1 - (W + 1) (1 - n12 / n_left) (1 - n12 / n_right) / N``, never below 0:
    the estimated share of the kind's links that are one person, not the review band's
    ``GUARD_CAP``. Two files of the same people leave almost no family pair without its
    own record, and lift the cap; files that overlap little keep it. Other look-alikes
    keep their pair's cap.
    """
    from transforms.link.lookalike_guard import FAMILY_KINDS

    caps = cross["probability_cap"].to_numpy(dtype="float64", na_value=np.nan)
    if "lookalike_kind" not in cross:
        return caps
    n12 = int(matched.sum())
    unlinked = (1 - min(n12 / n_left, MAX_SHARE_MATCHED)) * (
        1 - min(n12 / n_right, MAX_SHARE_MATCHED)
    )
    kind = cross["lookalike_kind"].to_numpy(dtype=object)
    for k in FAMILY_KINDS:
        rows = kind == k
        links = int((rows & matched).sum())
        if not links:
            continue
        w = int(within.get(k, 0))
        cap = max(0.0, 1.0 - (w + 1) * unlinked / links)
        log.info("look-alike %s links: %d, %d within the files -> cap %.6f", k, links, w, cap)
        caps = np.where(rows, cap, caps)
    return caps


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


def within_lookalikes(scored: pd.DataFrame) -> dict[str, int]:
    """Each family look-alike kind's count of scored pairs within one file."""
    if "lookalike_kind" not in scored:
        return {}
    within = scored.loc[scored["source_l"] == scored["source_r"], "lookalike_kind"]
    return {str(k): int(n) for k, n in within.dropna().value_counts().items()}


def cross_file_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """LEFT x RIGHT pairs as ``record_id_l`` (LEFT), ``record_id_r`` (RIGHT), with
    ``match_probability`` (and ``probability_cap``, ``lookalike_kind`` when the pairs
    have them)."""
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
    for c in ("probability_cap", "lookalike_kind"):
        if c in cross:
            out[c] = cross[c].to_numpy()
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
    link_settings: LinkSettings,
    threshold: float | None = None,
    one_to_one_links: bool = True,
    model: dict | None = None,
    model_out: Path | None = None,
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(output links, all scored pairs, model) for two CLI-shaped frames.

    ``threshold``: default ``ONE_TO_ONE_THRESHOLD`` with ``one_to_one_links``, else
    ``MATCH_THRESHOLD``. ``link_settings``: the DuckDB limits linkage runs under."""
    from transforms.link.blocking import two_file_blocking_rules
    from transforms.link.comparisons import MATCH_THRESHOLD
    from transforms.link.predict import predict_pairs
    from transforms.link.training import save_model, train_model

    if threshold is None:
        threshold = ONE_TO_ONE_THRESHOLD if one_to_one_links else MATCH_THRESHOLD
    records = pd.concat(
        [person_records(left, key, "left"), person_records(right, key, "right")],
        ignore_index=True,
    )
    if model is None:
        # two de-duplicated files that overlap much: matches are many of the sampled
        # pairs, so u is taken without them (remove_matches_from_u)
        model = train_model(
            records, link_settings=link_settings, seed=seed, u_without_matches=one_to_one_links
        )
        if one_to_one_links:
            model = cross_file_prior(model, len(left), len(right))
        if model_out is not None:
            save_model(model, model_out)  # the model that scored these pairs, for audit
    # one-to-one: a twin's or namesake's own record competes for the link, so the
    # look-alike guard reads close given names as typos (docs/linkage_guard.md); and
    # every candidate pair is kept, as each is a rival in the one-to-one matching
    scored = predict_pairs(
        records,
        model=model,
        link_settings=link_settings,
        threshold=0.0 if one_to_one_links else min(threshold, 0.5),
        one_to_one=one_to_one_links,
        blocking_rules=two_file_blocking_rules(records, link_settings=link_settings),
    )
    links = cross_file_pairs(scored)
    if one_to_one_links:
        prior = float(model["probability_two_random_records_match"])
        probability = one_to_one_probabilities(
            links, prior, len(left), len(right), within_lookalikes(scored)
        )
        links = links.assign(match_probability=probability)[probability > 0].sort_values(
            ["match_probability", "record_id_l", "record_id_r"],
            ascending=[False, True, True],
            kind="stable",
        )
    links = links[links["match_probability"] >= threshold]
    return links[OUTPUT_COLUMNS].reset_index(drop=True), scored, model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from transforms.link.comparisons import MATCH_THRESHOLD

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
        default=None,
        help=(
            f"link at or above this match probability (default {ONE_TO_ONE_THRESHOLD} "
            f"with --one-to-one, {MATCH_THRESHOLD} without)"
        ),
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
    link_settings = LinkSettings.from_env()
    try:
        from transforms.link.comparisons import MATCH_THRESHOLD

        if args.threshold is None:
            args.threshold = ONE_TO_ONE_THRESHOLD if args.one_to_one else MATCH_THRESHOLD
        if not 0.0 < args.threshold <= 1.0:
            raise CliError("--threshold must be in (0, 1]")
        key = load_cli_key(args.key_file)
        left = read_people(args.left)
        right = read_people(args.right)
        model = None
        if args.model is not None:
            from transforms.link.training import load_model

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
            link_settings=link_settings,
        )
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    links.to_parquet(tmp, index=False)
    tmp.replace(args.out)
    if args.report is not None:
        from transforms.link.comparisons import REVIEW_BAND
        from transforms.link.report.page import write_linkage_report

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
