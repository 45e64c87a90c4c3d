"""One DCHS CSV file as text columns, or a rejection naming the file, the row and the rule.

Every column is read as text; a BOM is ignored; empty fields are null. Nothing a
rejection says quotes a value from the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from transforms.extract.dchs.files import read_drop_file
from transforms.extract.errors import DropIntegrityError

BLOCK_SIZE = 1 << 24  # pyarrow's read block: one field may not be larger
_BOM = b"\xef\xbb\xbf"


def parse_csv(raw: bytes, where: str, columns: list[str] | None = None) -> pa.Table:
    """Every column as text; a BOM is ignored; empty fields are null.

    Raises ``DropIntegrityError`` naming ``where``, the rule, and the row where known:
    not UTF-8, empty, CR-only line endings, a header that cannot be read or repeats a
    column, a contracted column (of ``columns``) missing, a record with the wrong
    number of fields, a field larger than the reader's block, or anything else the
    CSV reader refuses.
    """
    raw, text = _decode(raw, where)
    names = _header_names(text, where, columns)
    table, bad = _read_text_columns(raw, names, where)
    if bad:
        raise _wrong_field_count(bad, text, where)
    return table


def read_csv_as_text(path: Path) -> pa.Table:
    """One CSV file as text columns (see :func:`parse_csv`), opened without following a
    symbolic link."""
    return parse_csv(read_drop_file(path.parent, path.name), str(path))


def _decode(raw: bytes, where: str) -> tuple[bytes, str]:
    """The bytes after any BOM, and their text; refused when not UTF-8 or empty."""
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
    return raw, text


def _header_names(text: str, where: str, columns: list[str] | None) -> list[str]:
    """The header's column names: readable, each once, every contracted one present."""
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
    return names


def _read_text_columns(
    raw: bytes, names: list[str], where: str
) -> tuple[pa.Table, list[tuple[int, int]]]:
    """The file read by pyarrow, every column as text, and the ``(expected, actual)``
    field counts of the records it skipped for having the wrong number of fields."""
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
        raise _refused_by_reader(exc, where) from exc
    return table, bad


def _refused_by_reader(exc: pa.ArrowException, where: str) -> DropIntegrityError:
    message = str(exc)
    if "straddl" in message:
        rule = f"a field larger than the reader's block ({BLOCK_SIZE >> 20} MB)"
    else:  # pyarrow's text after its first clause may quote the row: keep the clause
        rule = f"the CSV reader refused it ({message.split(':', 1)[0].strip()})"
    row = re.search(r"[Rr]ow #?(\d+)", message)
    at = f" at row {row.group(1)}" if row else ""
    return DropIntegrityError(f"{where}: {rule}{at}")


def _wrong_field_count(bad: list[tuple[int, int]], text: str, where: str) -> DropIntegrityError:
    expected, actual = bad[0]
    number = _first_bad_record(text, expected)
    at = f" at row {number}" if number else ""
    return DropIntegrityError(
        f"{where}: {len(bad)} record(s) with the wrong number of fields; the first"
        f"{at} has {actual}, the header {expected}"
    )


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
