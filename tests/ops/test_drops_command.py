"""``python -m transforms.ops.drops``: list held DCHS drops and accept one as a
correction, against a real warehouse (DuckDB file and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime

from sqlalchemy import text

from tests.conftest import ROOT
from tests.extract.test_dchs_drops import patient, redeliver, sha_of, write_drop
from transforms.extract.dchs.extract import extract_dchs
from transforms.nightly.last_published import read_last_published
from transforms.ops.drops import main
from transforms.warehouse.db import make_engine
from transforms.warehouse.schema_version import ensure_current_schema


def seed(engine, ingested: dict[str, str]) -> None:
    """A published run r1 that ingested ``ingested`` and held the re-sent 2026-10-31."""
    ensure_current_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into audit.pipeline_run (run_id, night, status, finished_at) "
                "values ('r1', :n, 'published', :t)"
            ),
            {"n": date(2026, 11, 2), "t": datetime(2026, 11, 2, 3)},
        )
        for day, sha in ingested.items():
            conn.execute(
                text(
                    "insert into audit.dchs_drop (drop_date, manifest_sha256, rows_total, run_id)"
                    " values (:d, :s, 1, 'r1')"
                ),
                {"d": day, "s": sha},
            )
        conn.execute(
            text(
                "insert into audit.drop_rejection (run_id, drop_date, kind, reason) "
                "values ('r1', '2026-10-31', 'changed', 'manifest differs')"
            )
        )


def test_list_and_accept_a_held_drop_which_the_next_extract_replays(
    warehouse_url, tmp_path, monkeypatch, capsys
):
    root = tmp_path / "dchs"
    ingested = {
        "2026-10-31": sha_of(write_drop(root, "2026-10-31", [patient("S1")])),
        "2026-11-01": sha_of(write_drop(root, "2026-11-01", [patient("S1", given_name="ANNIE")])),
    }
    fixed = sha_of(redeliver(root, "2026-10-31", [patient("S1", given_name="ANNA")]))
    write_drop(root, "2026-11-05", [patient("S5")])
    broken = write_drop(root, "2026-10-29", [patient("S9")])
    (broken / "patient.csv").write_text("local_patient_id\n")
    monkeypatch.setenv("CARE_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("CARE_DCHS_DROP_DIR", str(root))
    engine = make_engine(warehouse_url)
    seed(engine, ingested)

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "run r1: 1 DCHS drop rejection(s)" in out
    assert "2026-10-31  changed  manifest differs" in out
    assert "no acceptance waiting" in out

    def accept(day: str) -> tuple[int, str]:
        code = main(["accept", day, "--by", "A. Operator", "--reason", "re-sent by DCHS"])
        said = capsys.readouterr()
        return code, said.err or said.out

    assert accept("2026-13-01") == (2, "refused: '2026-13-01' is not a drop date "
                                       "(YYYY-MM-DD, a real date)\n")  # fmt: skip
    code, err = accept("2026-10-30")
    assert code == 1 and "no drop folder" in err
    code, err = accept("2026-10-29")
    assert code == 1 and "malformed" in err and "patient.csv: SHA-256" in err
    code, err = accept("2026-11-01")
    assert code == 1 and "already ingested (drop 2026-11-01)" in err
    code, err = accept("2026-11-05")
    assert code == 1 and "not held" in err
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit.drop_acceptance")).scalar() == 0

    code, out = accept("2026-10-31")
    assert code == 0 and out.startswith(f"accepted DCHS drop 2026-10-31 (manifest {fixed[:12]}")
    assert "replays 1 later drop(s)" in out
    code, out = accept("2026-10-31")  # again: nothing new recorded
    assert code == 0 and "already accepted" in out
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select drop_date, manifest_sha256, accepted_by, reason from audit.drop_acceptance"
            )
        ).fetchall()
    assert [tuple(r) for r in rows] == [("2026-10-31", fixed, "A. Operator", "re-sent by DCHS")]
    assert main(["list"]) == 0
    assert "1 acceptance(s) waiting" in capsys.readouterr().out

    state = read_last_published(engine, full_refresh=False)
    engine.dispose()
    assert state.ingested_drops == ingested and state.accepted_drops == {"2026-10-31": fixed}
    result = extract_dchs(
        root,
        until=date(2026, 11, 30),
        ingested=state.ingested_drops,
        accepted=state.accepted_drops,
        landing_dir=tmp_path / "landing",
    )
    assert [(d["drop_date"], d["correction"], d["replay"]) for d in result["drops"]] == [
        ("2026-10-31", True, False),
        ("2026-11-01", False, True),
        ("2026-11-05", False, False),
    ]
    assert [(r["drop_date"], r["kind"]) for r in result["rejected"]] == [
        ("2026-10-29", "malformed")
    ]


def test_the_command_runs_as_a_module(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CARE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "CARE_DCHS_DROP_DIR": str(tmp_path / "dchs"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "transforms.ops.drops", "list"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no published run yet" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "transforms.ops.drops", "accept", "2026-11-01"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "--by" in bad.stderr
