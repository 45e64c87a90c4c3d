"""Frames shaped like the warehouse tables, for the publish tests."""

from __future__ import annotations

import pandas as pd


def person_index(n: int, run: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "dchs",
            "source_record_id": [f"S{i}" for i in range(n)],
            "person_key": [f"P{i}" for i in range(n)],
            "record_status": "active",
            "link_route": "singleton",
            "link_probability": None,
            "first_seen_run": run,
            "last_changed_run": run,
        }
    )
