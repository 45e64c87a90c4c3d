"""A tokens state written under another contract makes the night a full refresh."""

from __future__ import annotations

import pandas as pd

from transforms.contracts import PERSON_RECORD, SOURCE_EVENT
from transforms.nightly.stages.prepare import tokens_contract_changed


def write(folder, name, columns):
    pd.DataFrame({c: pd.Series(dtype="str") for c in columns}).to_parquet(folder / name)


def test_a_state_missing_a_contract_column_is_rebuilt_in_full(tmp_path):
    assert not tokens_contract_changed(None)  # a first night has no state
    write(tmp_path, "person_record.parquet", PERSON_RECORD)
    write(tmp_path, "source_event.parquet", SOURCE_EVENT)
    assert not tokens_contract_changed(str(tmp_path))
    write(tmp_path, "source_event.parquet", [c for c in SOURCE_EVENT if c != "client_type"])
    assert tokens_contract_changed(str(tmp_path))
