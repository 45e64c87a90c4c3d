"""Which pairs become links tonight: the routes, and clerical review decisions on top.

Routes, in order of authority:
1. a recorded clerical decision (``identity.review_decision``): ``match`` links the pair
   whatever the model says; ``non-match`` removes it from every other route. The latest
   decision on a pair wins, and decisions hold on every later night;
2. the deterministic NHS-number pass;
3. Splink pairs at or above ``MATCH_THRESHOLD``;
4. DCC's own merges (a record marked ``Merged`` into another).

Undecided Splink pairs inside ``REVIEW_BAND`` go to the review queue.
"""

from __future__ import annotations

import pandas as pd

from transforms.link.comparisons import MATCH_THRESHOLD, REVIEW_BAND

EDGE_COLUMNS = ["uid_l", "uid_r", "route", "match_probability"]


def pair_uid(frame: pd.DataFrame, side: str) -> pd.Series:
    """``source:source_record_id`` of one side (``l`` or ``r``) of a pair frame."""
    return frame[f"source_{side}"].astype(str) + ":" + frame[f"source_record_id_{side}"].astype(str)


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """The same pairs with ``uid_l < uid_r``, so a pair has one spelling."""
    a, b = frame["uid_l"], frame["uid_r"]
    swap = a > b
    out = frame.copy()
    out.loc[swap, "uid_l"], out.loc[swap, "uid_r"] = b[swap], a[swap]
    return out


def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """One decision per pair (the last recorded), with ordered ``uid_l``/``uid_r``."""
    decided = decisions.assign(uid_l=pair_uid(decisions, "l"), uid_r=pair_uid(decisions, "r"))
    return ordered(decided).drop_duplicates(["uid_l", "uid_r"], keep="last")


def source_merge_edges(people: pd.DataFrame) -> pd.DataFrame:
    merged = people[people["record_status"] == "Merged"]
    return pd.DataFrame(
        {
            "uid_l": "dcc:" + merged["source_record_id"].astype(str),
            "uid_r": "dcc:" + merged["merged_into_record_id"].astype(str),
            "route": "source_merge",
            "match_probability": 1.0,
        }
    )


def link_edges(
    deterministic: pd.DataFrame,
    scored: pd.DataFrame,
    decisions: pd.DataFrame,
    people: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """``(edges, review, counts)``.

    ``deterministic``: ``EDGE_COLUMNS``; ``scored``: Splink pairs with ordered
    ``uid_l``/``uid_r``; ``decisions``: ``source_l, source_record_id_l, source_r,
    source_record_id_r, decision`` in the order they were made; ``people``: every person
    record (for DCC merges).
    """
    decided = latest_decisions(decisions)
    verdict = decided.set_index(["uid_l", "uid_r"])["decision"]
    scored = scored.assign(
        decision=verdict.reindex(pd.MultiIndex.from_frame(scored[["uid_l", "uid_r"]])).to_numpy()
    )
    undecided = scored["decision"].isna()
    accepted = scored[(scored["match_probability"] >= MATCH_THRESHOLD) & undecided]
    review = scored[
        scored["match_probability"].between(*REVIEW_BAND, inclusive="left") & undecided
    ].drop(columns=["decision"])
    reviewed = decided[decided["decision"] == "match"].assign(route="review", match_probability=1.0)
    refused = pd.MultiIndex.from_frame(
        decided.loc[decided["decision"] == "non-match", ["uid_l", "uid_r"]]
    )
    det = deterministic[~pd.MultiIndex.from_frame(deterministic[["uid_l", "uid_r"]]).isin(refused)]
    merges = source_merge_edges(people)
    edges = pd.concat(
        [
            reviewed[EDGE_COLUMNS],
            det[EDGE_COLUMNS],
            accepted.assign(route="probabilistic")[EDGE_COLUMNS],
            merges[EDGE_COLUMNS],
        ],
        ignore_index=True,
    ).drop_duplicates(["uid_l", "uid_r"])
    counts = {
        "deterministic_pairs": len(det),
        "probabilistic_pairs": len(accepted),
        "review_match_pairs": len(reviewed),
        "review_non_match_pairs": len(refused),
        "source_merges": len(merges),
    }
    return edges.reset_index(drop=True), review.reset_index(drop=True), counts
