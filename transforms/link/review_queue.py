"""The review queue: candidate pairs in the review band, with the evidence a reviewer
needs and no clear value."""

from __future__ import annotations

import pandas as pd

QUEUE_COLUMNS = [
    "source_l",
    "source_record_id_l",
    "source_r",
    "source_record_id_r",
    "match_probability",
    "match_weight",
    "evidence",
    "run_id",
]


def comparison_evidence(pairs: pd.DataFrame) -> pd.Series:
    """``given_name=4,dob=3,...``: Splink's comparison levels per pair, no clear values."""
    gammas = [c for c in pairs.columns if c.startswith("gamma_")]
    evidence = pd.Series("", index=pairs.index, dtype=object)
    for i, col in enumerate(gammas):
        sep = "," if i else ""
        evidence = evidence + sep + col.removeprefix("gamma_") + "=" + pairs[col].astype(str)
    return evidence


def review_queue(review: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """The queue rows for the pairs ``review`` holds, tagged with the run."""
    return review.assign(evidence=comparison_evidence(review), run_id=run_id)[QUEUE_COLUMNS]
