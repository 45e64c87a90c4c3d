"""A DCHS drop checked against its manifest, before any of its rows lands.

The folder holds regular files only; ``manifest.json`` gives, for each contracted file,
its SHA-256 and its number of data rows; each file must match both and parse (see
``csv_text``). A failure raises ``DropIntegrityError`` naming the file and the rule.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from transforms.contracts import DCHS_FILES
from transforms.extract.dchs.csv_text import parse_csv
from transforms.extract.dchs.files import entry_kind, open_drop_folder, read_file, sha256
from transforms.extract.errors import DropIntegrityError


@dataclass(frozen=True)
class Drop:
    path: Path
    drop_date: str
    manifest_sha256: str
    rows_total: int
    file_sha256: dict[str, str]  # what was verified, checked again when landed


def verify_drop(path: Path) -> Drop:
    """Check the folder and every file against the manifest; raise ``DropIntegrityError``
    naming the file and the rule. Nothing is landed here."""
    folder_fd = open_drop_folder(path)
    try:
        _only_regular_files(path, folder_fd)
        raw = _read_manifest(path, folder_fd)
        sha = sha256(raw)
        try:
            return _verify_files(
                path, folder_fd, sha, _manifest_entries(raw, path / "manifest.json")
            )
        except DropIntegrityError as exc:
            exc.manifest_sha256 = sha
            raise
    finally:
        os.close(folder_fd)


def _only_regular_files(path: Path, folder_fd: int) -> None:
    for name in sorted(os.listdir(folder_fd)):
        mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            raise DropIntegrityError(
                f"{path / name}: {entry_kind(mode)}; a drop holds regular files only"
            )


def _read_manifest(path: Path, folder_fd: int) -> bytes:
    try:
        return read_file(folder_fd, path, "manifest.json")
    except DropIntegrityError as exc:
        if "missing" in str(exc):
            raise DropIntegrityError(f"{path}: manifest.json missing (drop incomplete)") from exc
        raise


def _manifest_entries(raw: bytes, where: Path) -> dict[str, tuple[str, int]]:
    """Per contracted file, the ``(sha256, rows)`` the manifest states."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DropIntegrityError(f"{where}: unreadable manifest (not UTF-8 JSON)") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise DropIntegrityError(f"{where}: unreadable manifest (no 'files' object)")
    entries = {}
    for name in DCHS_FILES:
        entry = files.get(name)
        if not isinstance(entry, dict):
            raise DropIntegrityError(f"{where}: no entry for {name}")
        sha, rows = entry.get("sha256"), entry.get("rows")
        if not isinstance(sha, str):
            raise DropIntegrityError(f"{where}: {name}: 'sha256' is not text")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise DropIntegrityError(f"{where}: {name}: 'rows' is not a whole number")
        entries[name] = (sha, rows)
    return entries


def _verify_files(path: Path, folder_fd: int, sha: str, entries: dict) -> Drop:
    total, shas = 0, {}
    for name, (columns, _keys) in DCHS_FILES.items():
        expected_sha, expected_rows = entries[name]
        raw = read_file(folder_fd, path, name)
        shas[name] = sha256(raw)
        if shas[name] != expected_sha:
            raise DropIntegrityError(
                f"{path / name}: SHA-256 does not match the manifest (truncated or altered)"
            )
        rows = parse_csv(raw, str(path / name), columns).num_rows
        if rows != expected_rows:
            raise DropIntegrityError(
                f"{path / name}: {rows} data rows, manifest says {expected_rows}"
            )
        total += rows
    return Drop(path, path.name, sha, total, shas)
