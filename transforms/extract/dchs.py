"""Extract new DCHS (SystmOne-like) nightly drops, checked against their manifests.

A drop is ``<drop_dir>/YYYY-MM-DD/`` with four CSV files and ``manifest.json``. Drops
are applied in date order, each exactly once:

* a drop already ingested (same folder, or the same manifest delivered again under
  another name) is skipped;
* a drop whose manifest is missing or does not match its files (row count or SHA-256)
  is rejected whole, and so is every later drop, because rows in later drops replace
  rows in earlier ones; a later night takes them once the drop is complete;
* a file that is not UTF-8 rejects its drop, naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from transforms.contracts import DCHS_FILES
from transforms.extract.landing import LandingWriter

log = logging.getLogger(__name__)


class DropIntegrityError(ValueError):
    """A drop does not match its manifest or cannot be read."""


class SchemaDriftError(ValueError):
    """A file's header lacks contracted columns: the supplier changed the format."""


def conform_columns(table: pa.Table, columns: list[str], where: str) -> pa.Table:
    """Reorder to the contract; extra columns are dropped (logged); missing ones fail."""
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise SchemaDriftError(
            f"{where}: missing contracted column(s) {missing}; found {table.column_names}. "
            "The drop is not ingested; agree the new layout with the supplier."
        )
    extra = [c for c in table.column_names if c not in columns]
    if extra:
        log.warning("%s: ignoring %d column(s) outside the contract: %s", where, len(extra), extra)
    return table.select(columns)


@dataclass(frozen=True)
class Drop:
    path: Path
    drop_date: str
    manifest_sha256: str
    rows_total: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _data_rows(path: Path) -> int:
    """Rows after the header, counting CSV records (quoted newlines are one record)."""
    return read_csv_as_text(path).num_rows


def read_csv_as_text(path: Path) -> pa.Table:
    """Every column as text; a BOM is ignored; empty fields are null."""
    try:
        with path.open("rb") as fh:
            head = fh.read(3)
        skip_bom = head == b"\xef\xbb\xbf"
        raw = path.read_bytes()[3 if skip_bom else 0 :]
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DropIntegrityError(
            f"{path}: not UTF-8 (byte {exc.start}); the drop must be re-sent as UTF-8"
        ) from exc
    if not raw.strip():
        raise DropIntegrityError(f"{path}: empty file (no header row)")
    names = next(csv.reader([raw.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")]))
    return pacsv.read_csv(
        pa.BufferReader(raw),
        read_options=pacsv.ReadOptions(block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        ),
    )


def verify_drop(path: Path) -> Drop:
    """Check every file against the manifest; raise ``DropIntegrityError`` naming it."""
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise DropIntegrityError(f"{path}: manifest.json missing (drop incomplete)")
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError) as exc:
        raise DropIntegrityError(f"{manifest_path}: unreadable manifest ({exc})") from exc
    total = 0
    for name in DCHS_FILES:
        file_path = path / name
        if name not in files:
            raise DropIntegrityError(f"{manifest_path}: no entry for {name}")
        if not file_path.exists():
            raise DropIntegrityError(f"{file_path}: listed in the manifest but missing")
        expected = files[name]
        actual_sha = _sha256(file_path)
        if actual_sha != expected.get("sha256"):
            raise DropIntegrityError(
                f"{file_path}: SHA-256 does not match the manifest (truncated or altered)"
            )
        rows = _data_rows(file_path)
        if rows != int(expected.get("rows", -1)):
            raise DropIntegrityError(
                f"{file_path}: {rows} data rows, manifest says {expected.get('rows')}"
            )
        total += rows
    return Drop(path, path.name, _sha256(manifest_path), total)


def list_drops(drop_dir: Path, until: date) -> list[Path]:
    """Drop folders dated on or before ``until``, oldest first."""
    if not drop_dir.exists():
        return []
    found = []
    for child in drop_dir.iterdir():
        try:
            when = date.fromisoformat(child.name)
        except ValueError:
            continue
        if child.is_dir() and when <= until:
            found.append(child)
    return sorted(found, key=lambda p: p.name)


def extract_dchs(
    drop_dir: Path,
    *,
    until: date,
    ingested_dates: set[str],
    ingested_manifests: set[str],
    landing_dir: Path,
) -> dict:
    """Land every new, complete drop up to ``until``; returns counts, drops and rejections."""
    accepted: list[Drop] = []
    rejected: list[dict] = []
    for path in list_drops(drop_dir, until):
        if path.name in ingested_dates:
            continue
        try:
            drop = verify_drop(path)
        except DropIntegrityError as exc:
            rejected.append({"drop_date": path.name, "reason": str(exc)})
            log.warning("DCHS drop %s rejected, it and later drops wait: %s", path.name, exc)
            break
        if drop.manifest_sha256 in ingested_manifests:
            log.warning("DCHS drop %s is a repeat delivery of an ingested drop; skipped", path.name)
            continue
        accepted.append(drop)
    later = [p.name for p in list_drops(drop_dir, until) if p.name not in ingested_dates]
    if rejected:
        held = [d for d in later if d > rejected[0]["drop_date"]]
        for name in held:
            rejected.append(
                {"drop_date": name, "reason": f"held back behind {rejected[0]['drop_date']}"}
            )

    counts: dict[str, int] = {}
    for name, (columns, _keys) in DCHS_FILES.items():
        stem = name.removesuffix(".csv")
        with LandingWriter(landing_dir / f"dchs_{stem}.parquet", columns) as out:
            for drop in accepted:
                table = read_csv_as_text(drop.path / name)
                where = f"dchs/{drop.drop_date}/{name}"
                table = conform_columns(table, columns, where)
                n = table.num_rows
                table = table.append_column(
                    "_source_file", pa.array([where] * n, pa.string())
                ).append_column("_source_row", pa.array([str(i) for i in range(1, n + 1)]))
                out.write(table)
            counts[stem] = out.rows
    log.info(
        "DCHS extract until %s: %d drop(s) accepted %s, %d rejected; rows %s",
        until,
        len(accepted),
        [d.drop_date for d in accepted],
        len(rejected),
        counts,
    )
    return {
        "rows": counts,
        "drops": [
            {
                "drop_date": d.drop_date,
                "manifest_sha256": d.manifest_sha256,
                "rows_total": d.rows_total,
            }
            for d in accepted
        ],
        "rejected": rejected,
    }
