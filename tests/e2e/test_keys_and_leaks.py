"""Key rotation through the real DAG, and a leak scan of everything a run leaves behind.

After two nights (the second under a rotated key), no source name, NHS number, date of
birth, address or full postcode, and no key material, may appear in the warehouse, the
task logs, XCom, the Data Docs or the reports.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pandas as pd

from tests.e2e.leaks import clear_identifiers, scan_text, scan_warehouse
from transforms.keys import create_local_key_file
from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame

from .test_nightly_dag import dag, person_keys, run_night  # noqa: F401  (fixture)


def key_material(path: Path) -> set[str]:
    raw = bytes.fromhex(json.loads(path.read_text())["key"])
    return {raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode(), str(raw)}


def xcom_text(dag_id: str) -> str:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.dag_id == dag_id).all()
        return "\n".join(json.dumps(r.value, default=str) for r in rows)


def files_text(*folders: Path) -> dict[str, str]:
    out = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in {".html", ".json", ".log", ".txt", ".md", ""}:
                out[str(path)] = path.read_text(errors="replace")
    return out


def test_rotation_keeps_person_keys_and_nothing_leaks_anywhere(
    dag,  # noqa: F811
    pipeline_env,
    duckdb_url,
    synthetic_sources,
    nights,
    key_file,
    tmp_path,
    monkeypatch,
    capfd,
):
    pipeline_env(duckdb_url)
    first, second = nights[:2]
    run_night(dag, first)
    keys_1 = person_keys(duckdb_url)

    rotated = tmp_path / "secrets" / "rotated.json"
    create_local_key_file(rotated, version="v2")
    monkeypatch.setenv("CARE_KEY_FILE", str(rotated))
    run_night(dag, second)
    keys_2 = person_keys(duckdb_url)

    engine = make_engine(duckdb_url)
    runs = read_frame(engine, "select * from audit.pipeline_run order by finished_at")
    history = read_frame(engine, "select * from identity.person_key_history")
    engine.dispose()
    assert runs.key_version.tolist() == ["v1", "v2"]
    assert runs.full_refresh.tolist() == [False, True]  # rotation forces a full refresh

    # every record was re-tokenised under the new key ...
    tokens = pd.read_parquet(Path(runs.tokens_path.iloc[1]) / "person_record.parquet")
    assert set(tokens.key_version) == {"v2"}
    old = pd.read_parquet(Path(runs.tokens_path.iloc[0]) / "person_record.parquet")
    both = old.merge(tokens, on=["source", "source_record_id"], suffixes=("_1", "_2"))
    has = both.tok_nhs_number_1.notna()
    assert has.any() and (both.tok_nhs_number_1[has] != both.tok_nhs_number_2[has]).all()

    # ... and kept its person key, save recorded merges and splits
    common = keys_1.index.intersection(keys_2.index)
    moved = keys_1[common] != keys_2[common]
    explained = set(history.loc[history.event.isin(["merged_into", "split_from"]), "person_key"])
    assert set(keys_1[common][moved]) <= explained
    assert moved.mean() <= 0.001

    # the leak scan: warehouse, logs, XCom, Data Docs and reports
    identifiers = clear_identifiers(synthetic_sources)
    secrets = key_material(key_file) | key_material(rotated)
    found = scan_warehouse(duckdb_url, identifiers)
    for secret in secrets:
        found += scan_warehouse(duckdb_url, {"key": {secret.upper()}})
    captured = capfd.readouterr()
    texts = {
        "task output": captured.out + captured.err,
        "xcom": xcom_text("shared_care_record"),
        **files_text(
            Path(os.environ["CARE_DATA_DIR"]) / "reports",
            Path(os.environ["AIRFLOW_HOME"]) / "logs",
        ),
    }
    assert any("data_docs" in name for name in texts), "no Data Docs were scanned"
    assert any("linkage" in name for name in texts), "no linkage report was scanned"
    for name, text in texts.items():
        found += [f"{name}: {hit}" for hit in scan_text(text, identifiers)]
        found += [f"{name}: key material" for s in secrets if s in text]
    assert found == [], found[:10]
