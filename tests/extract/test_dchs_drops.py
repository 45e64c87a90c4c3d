"""DCHS drops: manifest-checked, applied in order, each exactly once."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from transforms.contracts import DCHS_FILES
from transforms.extract.dchs.csv_text import read_csv_as_text
from transforms.extract.dchs.extract import extract_dchs
from transforms.extract.dchs.verify import verify_drop
from transforms.extract.errors import DropIntegrityError


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


def run(root, tmp_path, until="2026-11-30", ingested=None, accepted=None, full_refresh=False):
    return extract_dchs(
        root,
        until=date.fromisoformat(until),
        ingested=dict(ingested or {}),
        accepted=dict(accepted or {}),
        landing_dir=tmp_path / "landing",
        full_refresh=full_refresh,
    )


def reseal(folder: Path, name: str, rows: int | None = None) -> None:
    """Make the manifest match one rewritten file again (its SHA-256, and rows if given)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["files"][name]
    entry["sha256"] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    if rows is not None:
        entry["rows"] = rows
    (folder / "manifest.json").write_text(json.dumps(manifest))


def redeliver(root: Path, day: str, patients: list[dict]) -> Path:
    """The supplier sends the drop of ``day`` again, with other content."""
    shutil.rmtree(root / day)
    return write_drop(root, day, patients)


def sha_of(folder: Path) -> str:
    return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def kinds(result) -> list[tuple[str, str]]:
    return [(r["drop_date"], r["kind"]) for r in result["rejected"]]


def landed_patients(tmp_path) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "landing" / "dchs_patient.parquet")


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
    result = run(root, tmp_path, until="2026-11-04", ingested={"2026-11-01": manifest_sha})
    assert result["drops"] == []
    assert result["rejected"] == []  # an identical re-delivery is no news
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


def test_a_missing_column_rejects_the_drop_naming_file_and_column(tmp_path):
    root = tmp_path / "dchs"
    folder = write_drop(root, "2026-11-01", [patient("S1")])
    write_drop(root, "2026-11-02", [patient("S2")])
    frame = pd.read_csv(folder / "patient.csv", dtype=str).drop(columns=["nhs_number"])
    frame.to_csv(folder / "patient.csv", index=False)
    reseal(folder, "patient.csv")
    result = run(root, tmp_path)
    assert kinds(result) == [("2026-11-01", "malformed"), ("2026-11-02", "held_behind")]
    assert (
        "patient.csv: missing contracted column(s) ['nhs_number']"
        in result["rejected"][0]["reason"]
    )
    assert result["drops"] == [] and landed_patients(tmp_path).empty


def test_a_late_drop_is_held_and_does_not_hold_back_new_drops(tmp_path):
    root = tmp_path / "dchs"
    ingested = {"2026-11-02": sha_of(write_drop(root, "2026-11-02", [patient("S2")]))}
    late = write_drop(root, "2026-10-31", [patient("S0")])
    write_drop(root, "2026-11-03", [patient("S3")])
    result = run(root, tmp_path, ingested=ingested)
    assert [d["drop_date"] for d in result["drops"]] == ["2026-11-03"]
    assert kinds(result) == [("2026-10-31", "late")]
    assert result["rejected"][0]["manifest_sha256"] == sha_of(late)
    assert "python -m transforms.ops.drops accept 2026-10-31" in result["rejected"][0]["reason"]
    assert landed_patients(tmp_path).local_patient_id.tolist() == ["S3"]


def test_only_strictly_named_real_folders_are_drops_and_the_rest_is_reported_every_night(
    tmp_path,
):
    root = tmp_path / "dchs"
    write_drop(root, "2026-11-04", [patient("S4")])
    write_drop(root, "20261103", [patient("S3")])  # date.fromisoformat accepts it
    write_drop(root, "2026-02-30", [patient("S9")])
    (root / "2026-11-05").write_text("not a folder")
    (root / "notes.txt").write_text("x")
    expected = [
        ("2026-02-30", "bad_name"),
        ("2026-11-05", "not_a_directory"),
        ("20261103", "bad_name"),
        ("notes.txt", "bad_name"),
    ]
    result = run(root, tmp_path)
    assert [d["drop_date"] for d in result["drops"]] == ["2026-11-04"]
    assert kinds(result) == expected
    assert landed_patients(tmp_path).local_patient_id.tolist() == ["S4"]
    again = run(root, tmp_path, ingested={"2026-11-04": result["drops"][0]["manifest_sha256"]})
    assert again["drops"] == [] and kinds(again) == expected


def test_a_symlinked_drop_folder_is_not_a_drop(tmp_path):
    root = tmp_path / "dchs"
    root.mkdir()
    elsewhere = write_drop(tmp_path / "elsewhere", "2026-11-01", [patient("S1")])
    (root / "2026-11-01").symlink_to(elsewhere, target_is_directory=True)
    result = run(root, tmp_path)
    assert result["drops"] == []
    assert kinds(result) == [("2026-11-01", "not_a_directory")]
    assert landed_patients(tmp_path).empty


def test_a_changed_redelivery_of_an_ingested_date_is_held(tmp_path):
    root = tmp_path / "dchs"
    first = sha_of(write_drop(root, "2026-11-01", [patient("S1")]))
    changed = sha_of(redeliver(root, "2026-11-01", [patient("S1", given_name="ANNE")]))
    result = run(root, tmp_path, ingested={"2026-11-01": first})
    assert result["drops"] == []
    assert kinds(result) == [("2026-11-01", "changed")]
    assert result["rejected"][0]["manifest_sha256"] == changed
    assert landed_patients(tmp_path).empty


def test_an_accepted_correction_lands_then_the_later_drops_again_so_their_rows_win(tmp_path):
    root = tmp_path / "dchs"
    ingested = {
        "2026-10-31": sha_of(write_drop(root, "2026-10-31", [patient("S1"), patient("S2", given_name="BOB")])),
        "2026-11-01": sha_of(write_drop(root, "2026-11-01", [patient("S1", given_name="ANNIE")])),
    }  # fmt: skip
    fixed = [patient("S1", given_name="ANNA"), patient("S2", given_name="BOB"), patient("S5")]
    accepted = {"2026-10-31": sha_of(redeliver(root, "2026-10-31", fixed))}
    write_drop(root, "2026-11-02", [patient("S2", given_name="ROBERT")])
    result = run(root, tmp_path, ingested=ingested, accepted=accepted)
    assert [(d["drop_date"], d["replay"], d["correction"]) for d in result["drops"]] == [
        ("2026-10-31", False, True),
        ("2026-11-01", True, False),
        ("2026-11-02", False, False),
    ]
    assert result["rejected"] == []
    landed = landed_patients(tmp_path)
    assert list(zip(landed.local_patient_id, landed.given_name, strict=True)) == [
        ("S1", "ANNA"), ("S2", "BOB"), ("S5", "ANN"), ("S1", "ANNIE"), ("S2", "ROBERT"),
    ]  # fmt: skip
    latest = landed.drop_duplicates("local_patient_id", keep="last").set_index("local_patient_id")
    assert latest.given_name.to_dict() == {"S1": "ANNIE", "S2": "ROBERT", "S5": "ANN"}
    # once ingested, the acceptance is spent: the next night lands nothing again
    ingested = {d["drop_date"]: d["manifest_sha256"] for d in result["drops"]}
    after = run(root, tmp_path, ingested=ingested, accepted=accepted)
    assert after["drops"] == [] and after["rejected"] == []


def test_a_correction_waits_when_a_drop_its_replay_needs_is_gone(tmp_path):
    root = tmp_path / "dchs"
    ingested = {
        "2026-10-31": sha_of(write_drop(root, "2026-10-31", [patient("S1")])),
        "2026-11-01": sha_of(write_drop(root, "2026-11-01", [patient("S1", given_name="ANNIE")])),
    }
    accepted = {
        "2026-10-31": sha_of(redeliver(root, "2026-10-31", [patient("S1", given_name="X")]))
    }
    shutil.rmtree(root / "2026-11-01")
    write_drop(root, "2026-11-02", [patient("S2")])
    result = run(root, tmp_path, ingested=ingested, accepted=accepted)
    assert [d["drop_date"] for d in result["drops"]] == ["2026-11-02"]
    assert kinds(result) == [("2026-10-31", "replay_failed")]
    assert "2026-11-01" in result["rejected"][0]["reason"]
    assert landed_patients(tmp_path).local_patient_id.tolist() == ["S2"]


def test_a_full_refresh_lands_every_drop_in_date_order_but_still_holds_late_and_changed(
    tmp_path,
):
    root = tmp_path / "dchs"
    ingested = {
        "2026-11-01": sha_of(write_drop(root, "2026-11-01", [patient("S1", given_name="ANN")])),
        "2026-11-03": sha_of(write_drop(root, "2026-11-03", [patient("S1", given_name="ANNE")])),
    }
    write_drop(root, "2026-11-02", [patient("S2")])  # late: never ingested
    write_drop(root, "2026-11-04", [patient("S4")])  # new
    result = run(root, tmp_path, ingested=ingested, full_refresh=True)
    assert [d["drop_date"] for d in result["drops"]] == ["2026-11-01", "2026-11-03", "2026-11-04"]
    assert kinds(result) == [("2026-11-02", "late")]
    landed = landed_patients(tmp_path)
    assert landed.local_patient_id.tolist() == ["S1", "S1", "S4"]
    assert landed.given_name.tolist()[:2] == ["ANN", "ANNE"]  # the later version lands last
