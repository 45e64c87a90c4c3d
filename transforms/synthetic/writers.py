"""Writers: the DCC relational database, the DCHS nightly drops and the Parquet truth files.

All of them append chunk by chunk, so nothing is held for the whole population.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
)

from transforms.contracts import DCC_TABLES, DCHS_FILES
from transforms.synthetic.names import la_districts

INSERT_BATCH = 50_000
_DATE_COLUMNS = {"date_of_birth", "date_of_death", "event_start_date", "event_end_date"}


def dcc_metadata() -> MetaData:
    """``person`` and ``event`` with primary keys and the event->person foreign key."""
    meta = MetaData()
    tables = {}
    for name, (columns, keys) in DCC_TABLES.items():
        cols = []
        for c in columns:
            if c in _DATE_COLUMNS:
                typ = Date()
            elif c == "last_updated":
                typ = DateTime()
            else:
                typ = String(200)
            if name == "event" and c == "la_person_id":
                cols.append(Column(c, typ, ForeignKey("person.la_person_id"), nullable=False))
                continue
            cols.append(Column(c, typ, primary_key=c in keys, nullable=c not in keys))
        tables[name] = Table(name, meta, *cols)
    return meta


def dcc_indexes(meta: MetaData) -> list[Index]:
    """Indexes in a fixed order (a Table keeps its indexes in a set, whose order varies
    between processes and would make the SQLite file differ byte for byte)."""
    person, ev = meta.tables["person"], meta.tables["event"]
    return [
        Index("ix_person_last_updated", person.c.last_updated),
        Index("ix_event_last_updated", ev.c.last_updated),
        Index("ix_event_la_person_id", ev.c.la_person_id),
    ]


class DccWriter:
    """Appends person and event rows; PostgreSQL through COPY, others through executemany."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":

            @event.listens_for(self.engine, "connect")
            def _fast(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA synchronous=OFF")
                cur.execute("PRAGMA journal_mode=MEMORY")
                cur.close()

        self.meta = dcc_metadata()
        with self.engine.begin() as conn:
            self.meta.drop_all(conn)
            self.meta.create_all(conn)
            for index in dcc_indexes(self.meta):  # on last_updated (the watermark) and the FK
                index.create(conn)
        self.rows = {"person": 0, "event": 0}

    def write(self, person: pa.Table, ev: pa.Table) -> None:
        with self.engine.begin() as conn:
            for name, tbl in (("person", person), ("event", ev)):
                if tbl.num_rows == 0:
                    continue
                if conn.dialect.name == "postgresql":
                    self._copy(conn, name, tbl)
                else:
                    table = self.meta.tables[name]
                    for batch in tbl.to_batches(max_chunksize=INSERT_BATCH):
                        conn.execute(insert(table), batch.to_pylist())
                self.rows[name] += tbl.num_rows

    @staticmethod
    def _copy(conn, name: str, tbl: pa.Table) -> None:
        raw = conn.connection.driver_connection
        cols = ", ".join(tbl.column_names)
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {name} ({cols}) FROM STDIN WITH (FORMAT csv)") as cp,
        ):
            for batch in tbl.to_batches(max_chunksize=INSERT_BATCH):
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
                cp.write(buf.getvalue())

    def close(self) -> None:
        self.engine.dispose()


def _csv_bytes(tbl: pa.Table) -> bytes:
    """CSV rows without a header: unquoted, unless a value needs quoting."""
    buf = io.BytesIO()
    try:
        pacsv.write_csv(tbl, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    except pa.ArrowInvalid:
        buf = io.BytesIO()
        pacsv.write_csv(tbl, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


class DchsWriter:
    """One folder per night with the four CSV files; manifests written at the end."""

    def __init__(self, root: Path, nights: list[str]):
        self.root = root
        self.nights = nights
        self.hash: dict[tuple[int, str], hashlib._Hash] = {}
        self.rows: dict[tuple[int, str], int] = {}
        for i, night in enumerate(nights):
            folder = root / night
            folder.mkdir(parents=True, exist_ok=True)
            for name, (columns, _keys) in DCHS_FILES.items():
                header = (",".join(columns) + "\n").encode("utf-8")
                (folder / name).write_bytes(header)
                h = hashlib.sha256()
                h.update(header)
                self.hash[(i, name)] = h
                self.rows[(i, name)] = 0

    def write(self, name: str, tbl: pa.Table) -> None:
        if tbl.num_rows == 0:
            return
        night = tbl.column("_night").to_numpy()
        tbl = tbl.drop_columns(["_night"])
        order = np.argsort(night, kind="stable")
        night = night[order]
        tbl = tbl.take(pa.array(order))
        bounds = np.searchsorted(night, np.arange(len(self.nights) + 1))
        for i in range(len(self.nights)):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            if hi <= lo:
                continue
            data = _csv_bytes(tbl.slice(lo, hi - lo))
            with (self.root / self.nights[i] / name).open("ab") as fh:
                fh.write(data)
            self.hash[(i, name)].update(data)
            self.rows[(i, name)] += hi - lo

    def close(self) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for i, night in enumerate(self.nights):
            files = {
                name: {"rows": self.rows[(i, name)], "sha256": self.hash[(i, name)].hexdigest()}
                for name in DCHS_FILES
            }
            manifest = {"drop_date": night, "system": "SystmOne", "files": files}
            (self.root / night / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            totals[night] = {name: v["rows"] for name, v in files.items()}
        return totals


class ParquetAppender:
    def __init__(self, path: Path, schema: pa.Schema):
        self.writer = pq.ParquetWriter(path, schema)
        self.rows = 0

    def write(self, tbl: pa.Table) -> None:
        self.writer.write_table(tbl)
        self.rows += tbl.num_rows

    def close(self) -> None:
        self.writer.close()


POPULATION_COLUMNS = ["district_code", "district_name", "in_county", "age", "population"]


def write_population(path: Path, counts: np.ndarray) -> None:
    """``population.csv``: one row per district (``la_districts.csv`` order) and single
    year of age, the format ``transforms.tables.population.load_population`` reads."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(POPULATION_COLUMNS)
        for (code, name, in_county), row in zip(la_districts(), counts, strict=True):
            for age, n in enumerate(row.tolist()):
                out.writerow([code, name, "Y" if in_county else "N", age, n])
