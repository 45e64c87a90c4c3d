"""The chosen DCHS drops written to the landing zone, one Parquet file per contracted file.

Each file is read again and must still have the SHA-256 it had when verified; its rows
land in contract column order with their provenance (``dchs/<date>/<file>``, data row).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from transforms.contracts import DCHS_FILES
from transforms.extract.dchs.choose import Landing
from transforms.extract.dchs.csv_text import parse_csv
from transforms.extract.dchs.files import read_drop_file, sha256
from transforms.extract.dchs.verify import Drop
from transforms.extract.errors import DropIntegrityError, SchemaDriftError
from transforms.extract.landing import LandingWriter

log = logging.getLogger(__name__)


def land(landing: list[Landing], landing_dir: Path) -> dict[str, int]:
    """Land the drops in order; returns the rows landed per file stem."""
    counts: dict[str, int] = {}
    for name, (columns, _keys) in DCHS_FILES.items():
        stem = name.removesuffix(".csv")
        with LandingWriter(landing_dir / f"dchs_{stem}.parquet", columns) as out:
            for drop, _, _ in landing:
                out.write(_landed_table(drop, name, columns))
            counts[stem] = out.rows
    return counts


def _landed_table(drop: Drop, name: str, columns: list[str]) -> pa.Table:
    raw = read_drop_file(drop.path, name)
    if sha256(raw) != drop.file_sha256[name]:
        raise DropIntegrityError(f"{drop.path / name}: changed while the extract was reading it")
    where = f"dchs/{drop.drop_date}/{name}"
    table = conform_columns(parse_csv(raw, where, columns), columns, where)
    n = table.num_rows
    return table.append_column("_source_file", pa.array([where] * n, pa.string())).append_column(
        "_source_row", pa.array([str(i) for i in range(1, n + 1)])
    )


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
