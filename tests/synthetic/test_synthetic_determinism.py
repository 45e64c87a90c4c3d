"""Same arguments, same output: file bytes (SQLite included) and table contents."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "transforms.synthetic", "--people", "1500", "--days", "3", "--out", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _hashes(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def _content(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return {
            t: hashlib.sha256(
                repr(conn.execute(f"select * from {t} order by 1").fetchall()).encode()
            ).hexdigest()
            for t in ("person", "event")
        }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    a, b, c = base / "a", base / "b", base / "c"
    for out, extra in (
        (a, ["--seed", "3", "--workers", "1"]),
        (b, ["--seed", "3", "--workers", "2"]),
        (c, ["--seed", "4"]),
    ):
        res = _run(out, *extra)
        assert res.returncode == 0, res.stderr
    return a, b, c


def test_same_seed_byte_identical_whatever_the_workers(runs):
    a, b, _ = runs
    ha, hb = _hashes(a), _hashes(b)
    assert set(ha) == set(hb)
    assert "dcc.sqlite" in ha and "truth.parquet" in ha and "errors.parquet" in ha
    assert "population.csv" in ha
    assert ha == hb
    assert _content(a / "dcc.sqlite") == _content(b / "dcc.sqlite")


def test_other_seed_differs(runs):
    a, _, c = runs
    assert _content(a / "dcc.sqlite") != _content(c / "dcc.sqlite")
    assert _hashes(a)["dchs/2026-11-01/patient.csv"] != _hashes(c)["dchs/2026-11-01/patient.csv"]


def test_cli_rejects_unknown_rate(tmp_path):
    res = _run(tmp_path / "x", "--rates", "no_such_rate=0.1")
    assert res.returncode == 2
    assert "unknown rate" in res.stderr


def test_cli_rate_override_reaches_generation_json(tmp_path):
    import json

    res = _run(tmp_path / "y", "--seed", "2", "--rates", "nhs_missing=0.3", "twin=0.02")
    assert res.returncode == 0, res.stderr
    rates = json.loads((tmp_path / "y" / "generation.json").read_text())["rates"]
    assert rates["nhs_missing_dcc"] == rates["nhs_missing_dchs"] == 0.3
    assert rates["twin"] == 0.02
