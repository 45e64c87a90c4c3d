"""Landing-zone Parquet: raw rows as text, plus provenance, written in chunks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.contracts import PROVENANCE


def string_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in [*columns, *PROVENANCE]])


class LandingWriter:
    """Append chunks of string columns to one Parquet file; always leaves a valid file."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.schema = string_schema(columns)
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")

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
