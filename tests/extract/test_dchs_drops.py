"""DCHS drops: manifest-checked, applied in order, each exactly once."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from transforms.contracts import DCHS_FILES
from transforms.extract.dchs import (
    DropIntegrityError,
    SchemaDriftError,
    extract_dchs,
    read_csv_as_text,
    verify_drop,
)


def write_drop(root: Path, day: str, patients: list[dict], *, bom: bool = False) -> Path:
    folder = root / day
    folder.mkdir(parents=True)
    files = {}
    for name, (columns, _keys) in DCHS_FILES.items():
        rows = patients if name == "patient.csv" else []
        path = folder / name
        with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in columns})
        files[name] = {"rows": len(rows), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps({"drop_date": day, "files": files}))
    return folder


def patient(pid: str, **extra) -> dict:
    return {"local_patient_id": pid, "given_name": "ANN", "family_name": "O'NEIL", **extra}


def run(root, tmp_path, until="2026-11-30", dates=(), manifests=()):
    return extract_dchs(
        root,
        until=date.fromisoformat(until),
        ingested_dates=set(dates),
        ingested_manifests=set(manifests),
        landing_dir=tmp_path / "landing",
    )


def test_new_drops_land_in_date_order_with_file_and_row(tmp_path):
    root = tmp_path / "dchs"
    write_drop(root, "2026-11-02", [patient("S2")])
    write_drop(root, "2026-11-01", [patient("S1"), patient("S3")])
    result = run(root, tmp_path)
    assert [d["drop_date"] for d in result["drops"]] == ["2026-11-01", "2026-11-02"]
    landed = pd.read_parquet(tmp_path / "landing" / "dchs_patient.parquet")
    assert landed["local_patient_id"].tolist() == ["S1", "S3", "S2"]
    assert landed["_source_file"].tolist()[-1] == "dchs/2026-11-02/patient.csv"
    assert landed["_source_row"].tolist() == ["1", "2", "1"]
    assert result["rows"]["patient"] == 3


def test_ingested_and_future_drops_are_skipped_and_repeats_ingested_once(tmp_path):
    root = tmp_path / "dchs"
    first = write_drop(root, "2026-11-01", [patient("S1")])
    write_drop(root, "2026-11-05", [patient("S5")])
    manifest_sha = verify_drop(first).manifest_sha256
    # the same drop delivered again under another date is recognised by its manifest
    copy = root / "2026-11-02"
    copy.mkdir()
    for f in first.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    result = run(root, tmp_path, until="2026-11-04", dates=["2026-11-01"], manifests=[manifest_sha])
    assert result["drops"] == []
    assert result["rows"]["patient"] == 0


def test_a_truncated_drop_is_rejected_whole_and_holds_back_later_drops(tmp_path):
    root = tmp_path / "dchs"
    bad = write_drop(root, "2026-11-01", [patient("S1"), patient("S2")])
    write_drop(root, "2026-11-02", [patient("S3")])
    text = (bad / "patient.csv").read_text().splitlines()
    (bad / "patient.csv").write_text("\n".join(text[:-1]) + "\n")  # lose the last row
    result = run(root, tmp_path)
    assert result["drops"] == []
    assert [r["drop_date"] for r in result["rejected"]] == ["2026-11-01", "2026-11-02"]
    assert "SHA-256" in result["rejected"][0]["reason"]
    assert "patient.csv" in result["rejected"][0]["reason"]
    assert pd.read_parquet(tmp_path / "landing" / "dchs_patient.parquet").empty


def test_missing_manifest_means_incomplete(tmp_path):
    root = tmp_path / "dchs"
    folder = write_drop(root, "2026-11-01", [patient("S1")])
    (folder / "manifest.json").unlink()
    with pytest.raises(DropIntegrityError, match="manifest.json missing"):
        verify_drop(folder)


def test_bom_is_ignored_and_non_utf8_is_refused_naming_the_file(tmp_path):
    root = tmp_path / "dchs"
    folder = write_drop(root, "2026-11-01", [patient("S1", given_name="ZOË")], bom=True)
    table = read_csv_as_text(folder / "patient.csv")
    assert table.column_names[0] == "local_patient_id"
    assert table.column("given_name").to_pylist() == ["ZOË"]
    latin = folder / "patient.csv"
    latin.write_bytes(latin.read_bytes().decode("utf-8-sig").encode("latin-1"))
    with pytest.raises(DropIntegrityError, match="patient.csv: not UTF-8"):
        read_csv_as_text(latin)


def test_a_missing_column_is_schema_drift_naming_file_and_column(tmp_path):
    root = tmp_path / "dchs"
    folder = write_drop(root, "2026-11-01", [patient("S1")])
    frame = pd.read_csv(folder / "patient.csv", dtype=str).drop(columns=["nhs_number"])
    frame.to_csv(folder / "patient.csv", index=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["patient.csv"]["sha256"] = hashlib.sha256(
        (folder / "patient.csv").read_bytes()
    ).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        SchemaDriftError, match=r"patient.csv: missing contracted column\(s\) \['nhs_number'\]"
    ):
        run(root, tmp_path)
