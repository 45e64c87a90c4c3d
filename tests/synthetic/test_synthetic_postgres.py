"""The DCC database on PostgreSQL (--dcc-url): same contents as the SQLite default."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect

from transforms.contracts import DCC_TABLES
from transforms.synthetic import GenConfig, generate


@pytest.mark.postgres
def test_generate_into_postgres_matches_sqlite(pg_url, tmp_path):
    cfg = GenConfig(people=1200, days=2, seed=9)
    meta = generate(cfg, tmp_path / "pg", dcc_url=pg_url)
    generate(cfg, tmp_path / "lite")
    pg = create_engine(pg_url)
    lite = create_engine(f"sqlite:///{tmp_path / 'lite' / 'dcc.sqlite'}")
    try:
        insp = inspect(pg)
        for name, (columns, keys) in DCC_TABLES.items():
            assert [c["name"] for c in insp.get_columns(name)] == columns
            assert insp.get_pk_constraint(name)["constrained_columns"] == keys
            assert ("last_updated",) in {tuple(i["column_names"]) for i in insp.get_indexes(name)}
            types = {c["name"]: str(c["type"]) for c in insp.get_columns(name)}
            assert types["last_updated"].startswith("TIMESTAMP")
            a = pd.read_sql_table(name, pg).sort_values(keys).reset_index(drop=True)
            b = pd.read_sql_table(name, lite).sort_values(keys).reset_index(drop=True)
            assert len(a) == meta["counts"]["dcc"][name] > 0
            for col in columns:
                left = a[col].astype(str).where(a[col].notna(), None)
                right = b[col].astype(str).where(b[col].notna(), None)
                assert left.tolist() == right.tolist(), col
        assert types is not None
    finally:
        pg.dispose()
        lite.dispose()
