"""Extract DCHS (SystmOne-like) nightly drops, checked against their manifests.

A drop is ``<drop_dir>/YYYY-MM-DD/`` (a real directory, named by a real date) with four
CSV files and ``manifest.json``. Rows in a later drop replace rows in an earlier one
(the downstream upsert keeps the last row of a key in landing order), so drops are
landed in date order and nothing is ever applied out of that order:

* anything else in the drop folder (a bad name such as ``20261103``, a symlinked folder,
  a file) is rejected (``bad_name`` / ``not_a_directory``) every night it is there;
* a drop already ingested with the same manifest is skipped; the same manifest
  delivered again under another date is a repeat, skipped;
* a drop dated on or before the newest ingested drop and not itself ingested is held
  (``late``); an ingested date whose manifest has changed is held (``changed``). Neither
  holds back new drops. A held drop is applied only once an operator accepts it
  (``python -m transforms.ops.drops accept``): then it is landed, followed in date order
  by every ingested drop dated after it (re-verified, ``replay``) so their later
  versions win again, then tonight's new drops. If a drop the replay needs no longer
  verifies, the correction waits (``replay_failed``);
* new drops (dated after the newest ingested) are verified in date order; the first
  malformed one is rejected (``malformed``) and every later new drop waits behind it
  (``held_behind``).

Every check happens in :func:`verify_drop`, before any row lands, and every malformed
input is a rejection naming the file, the row where known, and the rule, never a value.
Files are opened without following symbolic links.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import logging
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from transforms.contracts import DCHS_FILES
from transforms.extract.landing import LandingWriter

log = logging.getLogger(__name__)

BLOCK_SIZE = 1 << 24  # pyarrow's read block: one field may not be larger
_BOM = b"\xef\xbb\xbf"
_DROP_NAME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ACCEPT_HINT = "python -m transforms.ops.drops accept {day} --by NAME --reason TEXT"


class DropIntegrityError(ValueError):
    """A drop does not match its manifest or cannot be read.

    ``manifest_sha256`` is the SHA-256 of the drop's manifest when it could be read.
    """

    manifest_sha256: str | None = None


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
    file_sha256: dict[str, str]  # what was verified, checked again when landed


def drop_date_of(name: str) -> date | None:
    """The date a drop folder name stands for: strictly ``YYYY-MM-DD`` and a real date."""
    if not _DROP_NAME.fullmatch(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


# ------------------------------------------------------------------ reading, no symlinks
def _open_drop_folder(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError as exc:
        raise DropIntegrityError(f"{path}: drop folder missing") from exc
    except OSError as exc:
        raise DropIntegrityError(
            f"{path}: not a directory (a symbolic link or a file); a drop is a real folder"
        ) from exc


def _entry_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def _read_file(folder_fd: int, folder: Path, name: str) -> bytes:
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
                f"{where}: {_entry_kind(mode)}; drop files must be regular files"
            )
        return fh.read()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_sha256(path: Path) -> str | None:
    """SHA-256 of a drop folder's manifest, or None when it cannot be read."""
    try:
        fd = _open_drop_folder(path)
    except DropIntegrityError:
        return None
    try:
        return _sha256(_read_file(fd, path, "manifest.json"))
    except DropIntegrityError:
        return None
    finally:
        os.close(fd)


# ------------------------------------------------------------------------ CSV parsing
def _first_bad_record(text: str, expected: int) -> int | None:
    """1-based data row of the first record without ``expected`` fields (quoted newlines
    are one record), or None."""
    limit = csv.field_size_limit(len(text) + 1)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader, None)
        for number, record in enumerate(reader, start=1):
            if len(record) != expected:
                return number
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return None


def parse_csv(raw: bytes, where: str, columns: list[str] | None = None) -> pa.Table:
    """Every column as text; a BOM is ignored; empty fields are null.

    Raises ``DropIntegrityError`` naming ``where``, the rule, and the row where known:
    not UTF-8, empty, CR-only line endings, a header that cannot be read or repeats a
    column, a contracted column (of ``columns``) missing, a record with the wrong
    number of fields, a field larger than the reader's block, or anything else the
    CSV reader refuses.
    """
    offset = len(_BOM) if raw.startswith(_BOM) else 0
    raw = raw[offset:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DropIntegrityError(
            f"{where}: not UTF-8 (byte {exc.start + offset}); the drop must be re-sent as UTF-8"
        ) from exc
    if not raw.strip():
        raise DropIntegrityError(f"{where}: empty file (no header row)")
    header = text.split("\n", 1)[0]
    if "\r" in header.rstrip("\r"):
        raise DropIntegrityError(f"{where}: CR-only line endings; rows must end in LF or CRLF")
    try:
        names = next(csv.reader([header.rstrip("\r")]))
    except csv.Error as exc:
        raise DropIntegrityError(f"{where}: header row cannot be read as CSV ({exc})") from exc
    repeated = sorted(n for n, k in Counter(names).items() if k > 1)
    if repeated:
        raise DropIntegrityError(f"{where}: header repeats column(s) {repeated}")
    missing = [c for c in columns or [] if c not in names]
    if missing:
        raise DropIntegrityError(
            f"{where}: missing contracted column(s) {missing}; the drop is not ingested, "
            "agree the new layout with the supplier"
        )
    bad: list[tuple[int, int]] = []

    def invalid_row(row) -> str:
        bad.append((row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=invalid_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
            ),
        )
    except pa.ArrowException as exc:
        message = str(exc)
        if "straddl" in message:
            rule = f"a field larger than the reader's block ({BLOCK_SIZE >> 20} MB)"
        else:  # pyarrow's text after its first clause may quote the row: keep the clause
            rule = f"the CSV reader refused it ({message.split(':', 1)[0].strip()})"
        row = re.search(r"[Rr]ow #?(\d+)", message)
        at = f" at row {row.group(1)}" if row else ""
        raise DropIntegrityError(f"{where}: {rule}{at}") from exc
    if bad:
        expected, actual = bad[0]
        number = _first_bad_record(text, expected)
        at = f" at row {number}" if number else ""
        raise DropIntegrityError(
            f"{where}: {len(bad)} record(s) with the wrong number of fields; the first"
            f"{at} has {actual}, the header {expected}"
        )
    return table


def read_csv_as_text(path: Path) -> pa.Table:
    """One CSV file as text columns (see :func:`parse_csv`), opened without following a
    symbolic link."""
    fd = _open_drop_folder(path.parent)
    try:
        raw = _read_file(fd, path.parent, path.name)
    finally:
        os.close(fd)
    return parse_csv(raw, str(path))


# ----------------------------------------------------------------------- verification
def _manifest_entries(raw: bytes, where: Path) -> dict[str, tuple[str, int]]:
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


def verify_drop(path: Path) -> Drop:
    """Check the folder and every file against the manifest; raise ``DropIntegrityError``
    naming the file and the rule. Nothing is landed here."""
    folder_fd = _open_drop_folder(path)
    try:
        for name in sorted(os.listdir(folder_fd)):
            mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
            if not stat.S_ISREG(mode):
                raise DropIntegrityError(
                    f"{path / name}: {_entry_kind(mode)}; a drop holds regular files only"
                )
        try:
            raw = _read_file(folder_fd, path, "manifest.json")
        except DropIntegrityError as exc:
            if "missing" in str(exc):
                raise DropIntegrityError(
                    f"{path}: manifest.json missing (drop incomplete)"
                ) from exc
            raise
        sha = _sha256(raw)
        try:
            return _verify_files(
                path, folder_fd, sha, _manifest_entries(raw, path / "manifest.json")
            )
        except DropIntegrityError as exc:
            exc.manifest_sha256 = sha
            raise
    finally:
        os.close(folder_fd)


def _verify_files(path: Path, folder_fd: int, sha: str, entries: dict) -> Drop:
    total, shas = 0, {}
    for name, (columns, _keys) in DCHS_FILES.items():
        expected_sha, expected_rows = entries[name]
        raw = _read_file(folder_fd, path, name)
        shas[name] = _sha256(raw)
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


def list_drops(drop_dir: Path, until: date) -> list[Path]:
    """Well-named drop folders dated on or before ``until``, oldest first."""
    return [path for path, _ in _scan(drop_dir, until, lambda *a: None)]


def _scan(drop_dir: Path, until: date, reject) -> list[tuple[Path, date]]:
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


# ---------------------------------------------------------------------------- extract
def extract_dchs(
    drop_dir: Path,
    *,
    until: date,
    ingested: dict[str, str],
    accepted: dict[str, str],
    landing_dir: Path,
    full_refresh: bool = False,
) -> dict:
    """Land tonight's drops up to ``until`` (see the module docstring).

    ``full_refresh``: land every drop again, ingested ones and accepted corrections in
    date order, then the new ones; a late or changed drop is still held.

    ``ingested``: drop date -> manifest SHA-256 already ingested (``audit.dchs_drop``);
    ``accepted``: drop date -> manifest SHA-256 an operator accepted as a correction
    (``audit.drop_acceptance``; pending while not ingested with that SHA).

    Returns ``{"rows": {stem: n}, "drops": [{drop_date, manifest_sha256, rows_total,
    replay, correction}] in landing order, "rejected": [{drop_date, kind, reason,
    manifest_sha256}]}``. Malformed input is never raised; only a file that changes
    between its verification and its landing raises ``DropIntegrityError``.
    """
    rejected: list[dict] = []

    def reject(name: str, kind: str, reason: str, sha: str | None = None) -> None:
        rejected.append({"drop_date": name, "kind": kind, "reason": reason, "manifest_sha256": sha})
        log.warning("DCHS drop %s not applied (%s): %s", name, kind, reason)

    found = _scan(drop_dir, until, reject)
    newest = max((d for d in ingested if drop_date_of(d)), default=None)
    ingested_shas = set(ingested.values())
    pending = {d: s for d, s in accepted.items() if drop_date_of(d) and ingested.get(d) != s}

    corrections: dict[str, Drop] = {}
    folders = {path.name for path, _ in found}
    for day in sorted(set(pending) - folders):
        if day <= until.isoformat() and not os.path.lexists(drop_dir / day):
            reject(day, "replay_failed", f"{drop_dir / day}: accepted, but the drop folder is gone",
                   pending[day])  # fmt: skip
    old = [path for path, _ in found if newest is not None and path.name <= newest]
    again: list[Drop] = []  # a full refresh lands the ingested drops again
    for path in old:
        day, sha = path.name, manifest_sha256(path)
        if sha is not None and ingested.get(day) == sha:
            if full_refresh:
                try:
                    again.append(verify_drop(path))
                except DropIntegrityError as exc:
                    reject(day, "replay_failed", f"ingested, but no longer verifies: {exc}", sha)
            continue  # the ingested drop, delivered again
        if sha is not None and pending.get(day) == sha:
            try:
                corrections[day] = verify_drop(path)
            except DropIntegrityError as exc:
                reject(day, "replay_failed", f"accepted, but no longer verifies: {exc}", sha)
            continue
        try:
            drop = verify_drop(path)
        except DropIntegrityError as exc:
            reject(day, "malformed", f"{exc} (dated on or before the newest ingested drop "
                   f"{newest}; it holds back no other drop)", exc.manifest_sha256)  # fmt: skip
            continue
        if day not in ingested and drop.manifest_sha256 in ingested_shas:
            log.warning("DCHS drop %s is a repeat delivery of an ingested drop; skipped", day)
            continue
        stale = "; the acceptance on record is for another manifest" if day in pending else ""
        if day in ingested:
            reject(day, "changed", f"{path}: manifest differs from the one ingested for this "
                   f"date; held until accepted as a correction ({_ACCEPT_HINT.format(day=day)})"
                   f"{stale}", drop.manifest_sha256)  # fmt: skip
        else:
            reject(day, "late", f"{path}: dated on or before the newest ingested drop {newest}; "
                   f"held until accepted as a correction ({_ACCEPT_HINT.format(day=day)})"
                   f"{stale}", drop.manifest_sha256)  # fmt: skip

    if full_refresh:  # every old drop lands anyway, in date order: no replay needed
        replay = sorted(
            [*((d, True, False) for d in again), *((d, False, True) for d in corrections.values())],
            key=lambda landed: landed[0].drop_date,
        )
    else:
        replay = _replay(drop_dir, corrections, ingested, reject)

    new: list[Drop] = []
    seen = set(ingested_shas)
    later = [path for path, _ in found if newest is None or path.name > newest]
    for i, path in enumerate(later):
        try:
            drop = verify_drop(path)
        except DropIntegrityError as exc:
            reject(path.name, "malformed", f"{exc}; it and later drops wait",
                   exc.manifest_sha256)  # fmt: skip
            for behind in later[i + 1 :]:
                reject(behind.name, "held_behind", f"held back behind {path.name}")
            break
        if drop.manifest_sha256 in seen:
            log.warning("DCHS drop %s is a repeat delivery of an ingested drop; skipped", path.name)
            continue
        seen.add(drop.manifest_sha256)
        new.append(drop)

    landing = [*replay, *((d, False, False) for d in new)]
    counts = _land(landing, landing_dir)
    log.info(
        "DCHS extract until %s: %d drop(s) landed %s, %d rejected; rows %s",
        until,
        len(landing),
        [d.drop_date for d, _, _ in landing],
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
                "replay": is_replay,
                "correction": is_correction,
            }
            for d, is_replay, is_correction in landing
        ],
        "rejected": rejected,
    }


def _replay(
    drop_dir: Path, corrections: dict[str, Drop], ingested: dict[str, str], reject
) -> list[tuple[Drop, bool, bool]]:
    """Accepted corrections and every ingested drop dated after the first of them, in date
    order, as ``(drop, replay, correction)``; a correction whose replay needs a drop that
    no longer verifies is left out (``replay_failed``)."""
    if not corrections:
        return []
    first = min(corrections)
    broken: dict[str, str] = {}
    again: dict[str, Drop] = {}
    for day in sorted(d for d in ingested if drop_date_of(d) and d > first):
        if day in corrections:
            continue
        try:
            drop = verify_drop(drop_dir / day)
        except DropIntegrityError as exc:
            broken[day] = str(exc)
            continue
        if drop.manifest_sha256 != ingested[day]:
            broken[day] = f"{drop_dir / day}: manifest differs from the one ingested"
        else:
            again[day] = drop
    last_broken = max(broken, default="")
    for day in sorted(corrections):
        if day < last_broken:
            need = min(b for b in broken if b > day)
            reject(day, "replay_failed", f"accepted, but not applied: the replay needs ingested "
                   f"drop {need}, which no longer verifies: {broken[need]}",
                   corrections[day].manifest_sha256)  # fmt: skip
    applied = {d: c for d, c in corrections.items() if d > last_broken}
    if not applied:
        return []
    start = min(applied)
    order = sorted({*applied, *(d for d in again if d > start)})
    return [(applied[d], False, True) if d in applied else (again[d], True, False) for d in order]


def _land(landing: list[tuple[Drop, bool, bool]], landing_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, (columns, _keys) in DCHS_FILES.items():
        stem = name.removesuffix(".csv")
        with LandingWriter(landing_dir / f"dchs_{stem}.parquet", columns) as out:
            for drop, _, _ in landing:
                folder_fd = _open_drop_folder(drop.path)
                try:
                    raw = _read_file(folder_fd, drop.path, name)
                finally:
                    os.close(folder_fd)
                if _sha256(raw) != drop.file_sha256[name]:
                    raise DropIntegrityError(
                        f"{drop.path / name}: changed while the extract was reading it"
                    )
                where = f"dchs/{drop.drop_date}/{name}"
                table = conform_columns(parse_csv(raw, where, columns), columns, where)
                n = table.num_rows
                table = table.append_column(
                    "_source_file", pa.array([where] * n, pa.string())
                ).append_column("_source_row", pa.array([str(i) for i in range(1, n + 1)]))
                out.write(table)
            counts[stem] = out.rows
    return counts
