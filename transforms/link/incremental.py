"""Scoring only what changed: an incremental night keeps the last night's scores for
pairs of records that did not change, and scores tonight's new and changed records
against the rest and against each other."""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)


def uids(records: pd.DataFrame) -> pd.Series:
    return records["source"] + ":" + records["source_record_id"]


def score_pairs(
    active: pd.DataFrame,
    model: dict,
    *,
    backend: str,
    link_settings,
    previous: pd.DataFrame | None = None,
    changed: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, str]:
    """Splink's scores over ``active`` records' tokens (on ``backend``, within
    ``link_settings``' limits), ordered and with pair uids, and the mode: ``full`` (every record against every other) or, given the last night's
    scored ``previous`` pairs and tonight's ``changed`` record keys, ``incremental``."""
    from transforms.frames import isin
    from transforms.link.comparisons import REVIEW_BAND
    from transforms.link.edges import ordered, pair_uid
    from transforms.link.predict import predict_new_against_existing, predict_pairs

    if previous is None:
        pairs = predict_pairs(
            active,
            model=model,
            link_settings=link_settings,
            threshold=REVIEW_BAND[0],
            backend=backend,
        )
        mode = "full"
    else:
        changed_uid = uids(changed).unique()
        uid = uids(active)
        keep = previous[
            ~isin(previous["uid_l"], changed_uid)
            & ~isin(previous["uid_r"], changed_uid)
            & isin(previous["uid_l"], uid)
            & isin(previous["uid_r"], uid)
        ].drop(columns=["uid_l", "uid_r"])
        is_new = isin(uid, changed_uid)
        scored = predict_new_against_existing(
            active[is_new],
            active[~is_new],
            model=model,
            link_settings=link_settings,
            threshold=REVIEW_BAND[0],
            backend=backend,
        )
        pairs = pd.concat([keep, scored], ignore_index=True) if len(scored) else keep
        mode = "incremental"
        log.info(
            "incremental linkage: %d new or changed records scored against %d; "
            "%d earlier pairs kept, %d new pairs",
            int(is_new.sum()),
            len(active) - int(is_new.sum()),
            len(keep),
            len(scored),
        )
    pairs["uid_l"], pairs["uid_r"] = pair_uid(pairs, "l"), pair_uid(pairs, "r")
    return ordered(pairs), mode
