"""The bad-input catalogue (docs/bad_input.md): each case has a defined behaviour and a
test. Cases proven elsewhere are listed in the catalogue with their test; this file holds
the rest, and checks that every test the catalogue names exists."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import secrets
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.extract.test_dchs_drops import kinds, patient, run, write_drop
from tests.validation import factory
from transforms.contracts import DCHS_PATIENT
from transforms.validation import validate_source_table


def rewrite(folder: Path, name: str, frame: pd.DataFrame | None = None, raw: bytes | None = None):
    """Replace one file of a drop and keep its manifest consistent (a well-formed drop)."""
    path = folder / name
    if raw is None:
        frame.to_csv(path, index=False)
    else:
        path.write_bytes(raw)
    manifest = json.loads((folder / "manifest.json").read_text())
    text = path.read_bytes()
    manifest["files"][name] = {
        "rows": max(0, len(text.splitlines()) - 1),
        "sha256": hashlib.sha256(text).hexdigest(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def docs_dir(tmp_path) -> Path:
    return tmp_path / "data_docs"


def landed_patients(tmp_path) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "landing" / "dchs_patient.parquet")


def test_extra_column_is_ignored_and_the_rest_lands(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    frame = pd.read_csv(folder / "patient.csv", dtype=str).assign(favourite_colour="blue")
    rewrite(folder, "patient.csv", frame)
    run(tmp_path / "dchs", tmp_path)
    landed = landed_patients(tmp_path)
    assert list(landed.columns) == [*DCHS_PATIENT, "_source_file", "_source_row"]
    assert landed.local_patient_id.tolist() == ["S1"]


def test_a_renamed_column_rejects_the_drop_and_later_drops_wait(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    write_drop(tmp_path / "dchs", "2026-11-02", [patient("S2")])
    frame = pd.read_csv(folder / "patient.csv", dtype=str).rename(columns={"postcode": "post_code"})
    rewrite(folder, "patient.csv", frame)
    result = run(tmp_path / "dchs", tmp_path)
    assert kinds(result) == [("2026-11-01", "malformed"), ("2026-11-02", "held_behind")]
    reason = result["rejected"][0]["reason"]
    assert "patient.csv: missing contracted column(s) ['postcode']" in reason
    assert landed_patients(tmp_path).empty


def test_reordered_columns_land_in_contract_order_with_values_aligned(tmp_path):
    folder = write_drop(
        tmp_path / "dchs",
        "2026-11-01",
        [patient("S1", postcode="DE4 3AG", nhs_number="9434765919")],
    )
    frame = pd.read_csv(folder / "patient.csv", dtype=str)
    rewrite(folder, "patient.csv", frame[list(reversed(frame.columns))])
    run(tmp_path / "dchs", tmp_path)
    row = landed_patients(tmp_path).iloc[0]
    assert (row.local_patient_id, row.postcode, row.nhs_number) == ("S1", "DE4 3AG", "9434765919")


def test_an_empty_file_rejects_its_drop_naming_the_file(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    write_drop(tmp_path / "dchs", "2026-11-02", [patient("S2")])
    rewrite(folder, "referral.csv", raw=b"")
    result = run(tmp_path / "dchs", tmp_path)
    assert result["drops"] == []
    assert kinds(result) == [("2026-11-01", "malformed"), ("2026-11-02", "held_behind")]
    assert "referral.csv: empty file" in result["rejected"][0]["reason"]
    assert landed_patients(tmp_path).empty


def test_a_header_only_drop_lands_nothing_and_is_an_empty_batch_breach(tmp_path, docs_dir):
    write_drop(tmp_path / "dchs", "2026-11-01", [])
    result = run(tmp_path / "dchs", tmp_path)
    assert [d["rows_total"] for d in result["drops"]] == [0]
    contacts = pd.read_parquet(tmp_path / "landing" / "dchs_care_contact.parquet")
    outcome = validate_source_table(
        "dchs_care_contact",
        contacts,
        run_id="r",
        docs_dir=docs_dir,
        context={"person_ids": set(), "referral_dates": pd.Series(dtype="datetime64[ns]"),
                 "expect_rows": True},
    )  # fmt: skip
    assert [b["rule"] for b in outcome.batch_breaches] == ["row_count"]


def test_a_manifest_row_count_mismatch_rejects_the_drop(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["patient.csv"]["rows"] = 2
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = run(tmp_path / "dchs", tmp_path)
    assert result["drops"] == []
    assert "1 data rows, manifest says 2" in result["rejected"][0]["reason"]


def test_a_huge_field_lands_whole(tmp_path):
    huge = "A" * 1_000_000
    write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1", address_line_1=huge)])
    run(tmp_path / "dchs", tmp_path)
    assert landed_patients(tmp_path).address_line_1.iloc[0] == huge


def rejected_alone(tmp_path, folder: Path) -> dict:
    """Run the extract on a drop and a later one: the first is rejected and the later
    waits behind it, nothing lands; returns the first rejection."""
    if not (tmp_path / "dchs" / "2026-11-02").exists():
        write_drop(tmp_path / "dchs", "2026-11-02", [patient("S2")])
    result = run(tmp_path / "dchs", tmp_path)
    assert kinds(result) == [(folder.name, "malformed"), ("2026-11-02", "held_behind")]
    assert result["drops"] == [] and landed_patients(tmp_path).empty
    return result["rejected"][0]


def patient_csv(*rows: dict, header: list[str] = DCHS_PATIENT, newline: bytes = b"\n") -> bytes:
    lines = [",".join(header)] + [",".join(row.get(c, "") for c in header) for row in rows]
    return newline.join(line.encode() for line in lines) + newline


def test_a_field_larger_than_the_reader_block_rejects_the_drop(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [])
    huge = patient("S1", address_line_1="A" * 50_000_000)
    rewrite(folder, "patient.csv", raw=patient_csv(huge))
    rejection = rejected_alone(tmp_path, folder)
    assert "patient.csv: a field larger than the reader's block (16 MB)" in rejection["reason"]
    assert "AAAA" not in rejection["reason"]


def test_a_record_with_too_few_fields_is_named_by_row_without_its_values(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [])
    raw = patient_csv(patient("S1"), patient("S2")) + b"S3,SECRETNAME\n"
    rewrite(folder, "patient.csv", raw=raw)
    rejection = rejected_alone(tmp_path, folder)
    assert "patient.csv: 1 record(s) with the wrong number of fields" in rejection["reason"]
    assert "at row 3 has 2" in rejection["reason"]
    assert "SECRETNAME" not in rejection["reason"]


def test_a_non_numeric_manifest_row_count_rejects_the_drop(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["patient.csv"]["rows"] = "abc"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    rejection = rejected_alone(tmp_path, folder)
    assert "patient.csv: 'rows' is not a whole number" in rejection["reason"]
    sha = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    assert rejection["manifest_sha256"] == sha


def test_a_manifest_that_is_not_json_rejects_the_drop(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    (folder / "manifest.json").write_bytes(b"{files: ")
    rejection = rejected_alone(tmp_path, folder)
    assert "manifest.json: unreadable manifest (not UTF-8 JSON)" in rejection["reason"]


def test_a_duplicated_header_column_rejects_the_drop_naming_it(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [])
    raw = patient_csv(patient("S1"), header=[*DCHS_PATIENT, "postcode"])
    rewrite(folder, "patient.csv", raw=raw)
    rejection = rejected_alone(tmp_path, folder)
    assert "patient.csv: header repeats column(s) ['postcode']" in rejection["reason"]


def test_cr_only_line_endings_reject_the_drop(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [])
    rewrite(folder, "patient.csv", raw=patient_csv(patient("S1"), patient("S2"), newline=b"\r"))
    rejection = rejected_alone(tmp_path, folder)
    assert "patient.csv: CR-only line endings" in rejection["reason"]


def test_a_symlink_to_a_file_outside_the_drop_rejects_the_drop(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    outside = tmp_path / "outside.csv"
    outside.write_bytes((folder / "patient.csv").read_bytes())
    (folder / "patient.csv").unlink()
    (folder / "patient.csv").symlink_to(outside)
    rejection = rejected_alone(tmp_path, folder)
    assert "patient.csv: a symbolic link; a drop holds regular files only" in rejection["reason"]


def test_any_symlink_or_subfolder_inside_a_drop_rejects_it(tmp_path):
    folder = write_drop(tmp_path / "dchs", "2026-11-01", [patient("S1")])
    (folder / "notes").mkdir()
    rejection = rejected_alone(tmp_path, folder)
    assert "notes: a directory; a drop holds regular files only" in rejection["reason"]
    (folder / "notes").rmdir()
    (folder / "readme.txt").symlink_to(tmp_path / "outside.txt")
    rejection = rejected_alone(tmp_path, folder)
    assert "readme.txt: a symbolic link" in rejection["reason"]


def test_quoted_newlines_and_commas_stay_in_their_field(tmp_path):
    write_drop(
        tmp_path / "dchs", "2026-11-01", [patient("S1", address_line_1="Flat 2,\n3 High St")]
    )
    run(tmp_path / "dchs", tmp_path)
    assert landed_patients(tmp_path).address_line_1.iloc[0] == "Flat 2,\n3 High St"


def test_a_hostile_name_is_quarantined_nowhere_and_published_nowhere(docs_dir):
    """Formula and SQL text in a name is data: the row passes validation (names are not
    validated for content) and only its keyed token leaves the edge."""
    from transforms.keys import key_from_material
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise.person import standardise_dchs_patient

    frame = factory.dchs_patient(600)
    frame.loc[3, "given_name"] = "=cmd|' /C calc'!A0"
    frame.loc[4, "family_name"] = "Robert'); DROP TABLE person;--"
    outcome = validate_source_table("dchs_patient", frame, run_id="r", docs_dir=docs_dir,
                                    context={})  # fmt: skip
    assert outcome.quarantine.empty and len(outcome.clean) == 600
    tokens = pseudonymise_persons(
        standardise_dchs_patient(outcome.clean), key_from_material(secrets.token_hex(32))
    )
    # every value but the Bloom filters' random-looking bytes, whose repr may spell
    # anything ("\x0cmd5" contains "cmd") whatever the name was
    values = tokens.to_numpy(dtype=object).ravel()
    text = " ".join(str(v) for v in values if not isinstance(v, bytes))
    assert "cmd" not in text.lower() and "drop table" not in text.lower()
    assert tokens.loc[3, "tok_given_name"] is not None


CATALOGUE = ROOT / "docs" / "bad_input.md"


def catalogue_rows() -> list[list[str]]:
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in CATALOGUE.read_text().splitlines()
        if re.match(r"^\|\s*\d+\s*\|", line)
    ]
    return rows


def test_the_catalogue_has_at_least_25_cases_each_with_a_behaviour():
    rows = catalogue_rows()
    assert len(rows) >= 25
    for number, _case, behaviour, _how, _test in rows:
        assert behaviour in {"normalise", "quarantine", "reject", "refuse", "warn"}, number


def test_every_test_the_catalogue_names_exists():
    for *_, proof in catalogue_rows():
        for ref in re.findall(r"`([\w/.]+\.py)::(\w+)`", proof):
            path, name = ref
            tree = ast.parse((ROOT / path).read_text())
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in names, f"{path}::{name} named in docs/bad_input.md does not exist"
