"""Landing-zone Parquet: raw rows as text, plus provenance, written in chunks.

The landing zone holds clear identifiers, so it is private to the pipeline's user:
folders 0700 and files 0600, whatever the umask. It is deleted once the night has
published; a failed night's landing is kept for diagnosis for
``Settings.landing_retention_days``, then deleted by a later night's prepare step.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.contracts import PROVENANCE

log = logging.getLogger(__name__)

LANDING = "landing"


def private_dir(path: Path) -> Path:
    """``path`` created if missing, and made owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty and owner-only (0600) before anything is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def remove_landing(path: Path) -> bool:
    """Delete a landing folder; True when there was one."""
    if not path.exists():
        return False
    shutil.rmtree(path)
    log.info("landing zone %s deleted", path)
    return True


def sweep_expired_landing(runs_dir: Path, keep_days: float, *, now: float | None = None) -> list:
    """Delete every run's landing folder (``<runs>/<night>/<run>/landing``) last changed
    more than ``keep_days`` ago: failed runs' landings, kept for diagnosis until then."""
    if not runs_dir.exists():
        return []
    cutoff = (time.time() if now is None else now) - keep_days * 86_400
    removed = []
    for folder in sorted(runs_dir.glob(f"*/*/{LANDING}")):
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
            remove_landing(folder)
            removed.append(folder)
    if removed:
        log.info(
            "%d expired landing folder(s) deleted (older than %g days)", len(removed), keep_days
        )
    return removed


def string_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in [*columns, *PROVENANCE]])


class LandingWriter:
    """Append chunks of string columns to one Parquet file; always leaves a valid file."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.schema = string_schema(columns)
        self.rows = 0
        private_dir(path.parent)
        self._writer = pq.ParquetWriter(private_file(path), self.schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        table = table.select(self.schema.names).cast(self.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> int:
        self._writer.close()
        return self.rows

    def __enter__(self) -> LandingWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
