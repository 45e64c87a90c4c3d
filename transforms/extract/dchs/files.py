"""A drop's files, read without following symbolic links.

The drop folder is opened with ``O_NOFOLLOW`` and each file relative to it, so neither
the folder nor a file in it can point the extract at something outside the drop.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from transforms.extract.errors import DropIntegrityError


def open_drop_folder(path: Path) -> int:
    """A descriptor of the drop folder itself (never of a symbolic link to one)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError as exc:
        raise DropIntegrityError(f"{path}: drop folder missing") from exc
    except OSError as exc:
        raise DropIntegrityError(
            f"{path}: not a directory (a symbolic link or a file); a drop is a real folder"
        ) from exc


def entry_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def read_file(folder_fd: int, folder: Path, name: str) -> bytes:
    """A regular file of the drop, read without following a symbolic link."""
    where = folder / name
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except FileNotFoundError as exc:
        raise DropIntegrityError(f"{where}: listed in the manifest but missing") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DropIntegrityError(
                f"{where}: a symbolic link; drop files must be regular files"
            ) from exc
        raise DropIntegrityError(f"{where}: cannot be opened ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise DropIntegrityError(
                f"{where}: {entry_kind(mode)}; drop files must be regular files"
            )
        return fh.read()


def read_drop_file(folder: Path, name: str) -> bytes:
    """One file of the drop at ``folder`` (see :func:`read_file`)."""
    folder_fd = open_drop_folder(folder)
    try:
        return read_file(folder_fd, folder, name)
    finally:
        os.close(folder_fd)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_sha256(path: Path) -> str | None:
    """SHA-256 of a drop folder's manifest, or None when it cannot be read."""
    try:
        fd = open_drop_folder(path)
    except DropIntegrityError:
        return None
    try:
        return sha256(read_file(fd, path, "manifest.json"))
    except DropIntegrityError:
        return None
    finally:
        os.close(fd)
