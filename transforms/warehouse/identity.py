"""Reads of the published identity tables the link stage starts from."""

from __future__ import annotations

import pandas as pd


def read_identity(engine) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The published person index, the person key history, and the reviewers'
    decisions in the order they were made."""
    from transforms.link.person_index import HISTORY_COLUMNS, INDEX_COLUMNS
    from transforms.warehouse.publish import read_frame

    index = read_frame(engine, f"select {', '.join(INDEX_COLUMNS)} from identity.person_index")
    history = read_frame(
        engine, f"select {', '.join(HISTORY_COLUMNS)} from identity.person_key_history"
    )
    decisions = read_frame(
        engine,
        "select source_l, source_record_id_l, source_r, source_record_id_r, decision "
        "from identity.review_decision order by decided_at",
    )
    return index, history, decisions
