"""The golden run: a fixed seed's nights, and a digest of every warehouse table.

The pipeline's behaviour is pinned by what it publishes. ``tests/golden/test_golden.py``
runs 20,000 people over 3 nights (seed 42) through the night's stages, on DuckDB and on
PostgreSQL, and compares every table of ``shared_care``, ``identity`` and ``audit``, row
for row, with the digest stored beside this file. A refactor that changes a single
published value fails it.

What a digest leaves out: columns that differ between two runs of the same code (run
ids, clock times, durations, folder paths), listed in :data:`VOLATILE`. Every other
column is in, rows sorted, floats to 9 significant digits (summation order in DuckDB's
parallel aggregates moves the last bits).

Regenerate the stored digest only for an intended change of behaviour, and say so in
the commit::

    .venv/bin/python -m tests.golden.golden_run --write            # both backends
    .venv/bin/python -m tests.golden.golden_run --backend duckdb   # print, compare

The key is a test-only constant: the sources are synthetic, and tokens must be the same
on every machine for the digest to be. Person keys are random by design; here they come
from a seeded generator, for the same reason.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

PEOPLE, NIGHTS, SEED = 20_000, 3, 42
DIGEST_FILE = Path(__file__).with_name("warehouse_digest.json")
PG_ADMIN_URL = os.environ.get(
    "CARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

#: Columns whose values differ between two runs of the same code on the same input.
VOLATILE = {
    "run_id",
    "based_on_run_id",
    "first_run_id",
    "last_run_id",
    "loaded_at",
    "published_at",
    "started_at",
    "finished_at",
    "created_at",
    "updated_at",
    "recorded_at",
    "accepted_at",
    "applied_at",
    "ingested_at",
    "checked_at",
    "failed_at",
    "validated_at",
    "duration_s",
    "timings_json",
    "tokens_path",
    "data_docs_path",
    "report_path",
    "landing_path",
    "log_url",
    "hostname",
    "pid",
    # audit.schema_version: a hash of the DDL and view files' text, comments included;
    # it moves with any edit to them, not with what is published
    "fingerprint",
}


def golden_key():
    from transforms.keys import key_from_material

    return key_from_material(hashlib.sha256(b"golden run: synthetic sources only").hexdigest())


def generate_sources(root: Path) -> list[str]:
    """The synthetic sources of the golden run under ``root/sources``; their nights."""
    out = root / "sources"
    marker = out / "generation.json"
    if not marker.exists():
        subprocess.run(
            [sys.executable, "-m", "transforms.synthetic", "--people", str(PEOPLE),
             "--days", str(NIGHTS), "--seed", str(SEED), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return json.loads(marker.read_text())["nights"]


def run_nights(root: Path, data: Path, warehouse_url: str) -> None:
    """Every night of the golden sources (under ``root``), in order, into
    ``warehouse_url``, with ``data`` as the data folder."""
    from transforms.config import Settings
    from transforms.ops.stage_runner import night_context, run_night

    nights = generate_sources(root)
    settings = Settings.from_env(
        {"CARE_DATA_DIR": str(data), "CARE_SOURCES_DIR": str(root / "sources")},
        warehouse_url=warehouse_url,
    )
    key = golden_key()
    with seeded_person_keys():
        for night in nights:
            run_night(night_context(settings, date.fromisoformat(night)), key)


@contextmanager
def seeded_person_keys():
    """Person keys from a seeded generator instead of the system's random source, so two
    runs mint the same keys in the same order (keys are random by design)."""
    import random
    from types import SimpleNamespace

    from transforms.link import person_index

    rng = random.Random(SEED)
    real = person_index.secrets
    person_index.secrets = SimpleNamespace(token_hex=lambda n: rng.randbytes(n).hex())
    try:
        yield
    finally:
        person_index.secrets = real


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.9g}"
    text = str(value)
    try:  # numbers read back as text or Decimal by one backend and float by another
        number = float(text)
    except ValueError:
        return text
    if not text.strip().isdigit() and "." in text:
        return f"{number:.9g}"
    return text


def table_digests(warehouse_url: str, dump: Path | None = None) -> dict[str, dict]:
    """``schema.table`` → rows, kept columns and the SHA-256 of its sorted rows (each
    table's canonical rows also written under ``dump``, when given, to diff)."""
    from sqlalchemy import text

    from transforms.warehouse.db import make_engine

    engine = make_engine(warehouse_url)
    out: dict[str, dict] = {}
    listing = text(
        "select c.table_schema, c.table_name, c.column_name"
        " from information_schema.columns c join information_schema.tables t"
        " on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where t.table_type = 'BASE TABLE' and c.table_schema in ('shared_care', 'identity', 'audit')"
    )
    try:
        with engine.connect() as conn:
            found: dict[str, list[str]] = {}
            for schema, table, column in conn.execute(listing):
                found.setdefault(f"{schema}.{table}", [])
                if column not in VOLATILE:
                    found[f"{schema}.{table}"].append(column)
            for qualified in sorted(found):
                columns = sorted(found[qualified])
                schema, table = qualified.split(".")
                # a table whose every column is volatile still counts its rows
                kept = ", ".join(columns) or "null as nothing_kept"
                rows = conn.execute(text(f'select {kept} from {schema}."{table}"')).all()
                lines = sorted("\x1f".join(_cell(v) for v in row) for row in rows)
                digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
                if dump is not None:
                    dump.mkdir(parents=True, exist_ok=True)
                    (dump / f"{qualified}.txt").write_text("\n".join(lines))
                out[qualified] = {"rows": len(rows), "columns": columns, "sha256": digest}
    finally:
        engine.dispose()
    return out


def _pg_database():
    """A fresh PostgreSQL database's URL, and a function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"care_golden_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def golden(backend: str, root: Path) -> dict[str, dict]:
    """Run the golden nights on ``backend`` (``duckdb`` or ``postgres``) under ``root``."""
    data = root / f"{backend}_{uuid.uuid4().hex[:6]}"
    if backend == "duckdb":
        url = f"duckdb:///{data / 'warehouse.duckdb'}"
        run_nights(root, data, url)
        return table_digests(url)
    url, drop = _pg_database()
    try:
        run_nights(root, data, url)
        return table_digests(url)
    finally:
        drop()


def differences(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """What differs between two digests, one line per table."""
    lines = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table), actual.get(table)
        if want is None or got is None:
            lines.append(f"{table}: {'new' if want is None else 'missing'}")
        elif want != got:
            what = [k for k in ("rows", "columns", "sha256") if want[k] != got[k]]
            lines.append(
                f"{table}: {', '.join(what)} differ (rows {want['rows']} -> {got['rows']})"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["duckdb", "postgres", "both"], default="both")
    parser.add_argument("--write", action="store_true", help="store the digest")
    parser.add_argument("--work", type=Path, help="folder for sources and runs (kept)")
    args = parser.parse_args(argv)
    backends = ["duckdb", "postgres"] if args.backend == "both" else [args.backend]
    stored = json.loads(DIGEST_FILE.read_text()) if DIGEST_FILE.exists() else {}
    with tempfile.TemporaryDirectory(prefix="golden_") as tmp:
        root = args.work or Path(tmp)
        status = 0
        for backend in backends:
            digest = golden(backend, root)
            diff = differences(stored.get(backend, {}), digest)
            print(f"{backend}: {len(digest)} tables, {len(diff)} differ from the stored digest")
            for line in diff:
                print(f"  {line}")
            status |= bool(diff)
            stored[backend] = digest
    if args.write:
        DIGEST_FILE.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        print(f"written {DIGEST_FILE}")
        return 0
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
