"""The soak, shortened for CI: nights back to back in one process.

The full soak (ten nights at 50,000 people) is ``python bench/soak.py``; this runs the
same code with ``CARE_SOAK_PEOPLE`` people for ``CARE_SOAK_NIGHTS`` nights.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def load_soak():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_soak_balances_and_keeps_keys(tmp_path, pg_url):
    people = int(os.environ.get("CARE_SOAK_PEOPLE", "3000"))
    nights = int(os.environ.get("CARE_SOAK_NIGHTS", "5"))
    result = load_soak().soak(people, nights, tmp_path / "soak", pg_url, seed=11)
    assert len(result["nights"]) == nights
    assert result["failures"] == []
    assert all(n["balanced"] for n in result["nights"])
    # people arrive over the nights: later nights hold at least the earlier records
    records = [n["records"] for n in result["nights"]]
    assert records == sorted(records) and records[-1] > records[0]


def test_care_events_built_night_by_night_equal_a_full_build(tmp_path, pg_url):
    """After several incremental nights, each rebuilding only what changed, the
    published care events are exactly what a full build of the final state makes."""
    import json
    from pathlib import Path

    import pandas as pd

    from transforms.tables.care_event import build_care_event
    from transforms.warehouse.db import make_engine
    from transforms.warehouse.publish import read_frame

    result = load_soak().soak(2000, 4, tmp_path / "soak", pg_url, seed=5)
    assert result["failures"] == []
    engine = make_engine(pg_url)
    try:
        runs = read_frame(engine, "select tokens_path from audit.pipeline_run order by night")
        published = read_frame(engine, "select * from shared_care.care_event")
        index = read_frame(engine, "select * from identity.person_index")
    finally:
        engine.dispose()
    summaries = sorted((tmp_path / "soak").rglob("build/build_summary.json"))
    incremental = [json.loads(p.read_text())["care_event_incremental"] for p in summaries]
    assert incremental == [0, 1, 1, 1]  # the first night builds them all
    tokens = Path(runs.tokens_path.iloc[-1])
    people = pd.read_parquet(tokens / "person_record.parquet")
    keyed = people.merge(index[["source", "source_record_id", "person_key"]])
    full = build_care_event(keyed, pd.read_parquet(tokens / "source_event.parquet"))

    def norm(frame):
        frame = frame.sort_values("event_id").reset_index(drop=True)
        for c in ("start_date", "end_date"):
            frame[c] = pd.to_datetime(frame[c]).dt.strftime("%Y-%m-%d")
        for c in frame.columns:  # whole numbers alike, whether read as int or float
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]):
                frame[c] = pd.to_numeric(frame[c]).astype("Float64")
        frame = frame.astype(object)
        return frame.where(frame.notna(), None).astype(str)

    assert len(published) == len(full)
    pd.testing.assert_frame_equal(norm(published), norm(full[published.columns]))
