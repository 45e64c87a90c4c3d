"""Which entries of the DCHS drop folder are drops: a real folder named by a real date."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

_DROP_NAME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def drop_date_of(name: str) -> date | None:
    """The date a drop folder name stands for: strictly ``YYYY-MM-DD`` and a real date."""
    if not _DROP_NAME.fullmatch(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def list_drops(drop_dir: Path, until: date) -> list[Path]:
    """Well-named drop folders dated on or before ``until``, oldest first."""
    return [path for path, _ in scan(drop_dir, until, lambda *a: None)]


def scan(drop_dir: Path, until: date, reject) -> list[tuple[Path, date]]:
    """Drop folders dated on or before ``until``, oldest first; every other entry is
    passed to ``reject(name, kind, reason)`` (``bad_name`` / ``not_a_directory``)."""
    if not drop_dir.is_dir():
        return []
    found = []
    for entry in sorted(os.scandir(drop_dir), key=lambda e: e.name):
        when = drop_date_of(entry.name)
        if when is None:
            reject(
                entry.name,
                "bad_name",
                f"{entry.path}: not a drop folder name (YYYY-MM-DD, a real date); never applied",
            )
        elif entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            reject(
                entry.name,
                "not_a_directory",
                f"{entry.path}: not a real folder (a symbolic link or a file); never applied",
            )
        elif when <= until:
            found.append((Path(entry.path), when))
    return sorted(found, key=lambda f: f[1])
