"""``python -m transforms.review``: list, show with labelled evidence, decide with why.

A small queue is built by hand on DuckDB and on the real PostgreSQL, with a hand-made
linkage model saved where the nightly run saves it (the run's build folder).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from transforms.nightly.context import safe_name
from transforms.review import main, pair_id
from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import read_frame

OLD_RUN = "scheduled__2026-11-01T02:00:00+00:00"
NEW_RUN = "scheduled__2026-11-02T02:00:00+00:00"
QUEUE = [
    # (source_l, id_l, source_r, id_r, probability, weight, evidence, run)
    ("dcc", "MOS1", "dchs", "P1", 0.62, 0.7, "given_name=1,dob=1,sex=-1", NEW_RUN),
    ("dcc", "MOS2", "dchs", "P2", 0.31, -1.1, "given_name=2,dob=0,sex=1", NEW_RUN),
    ("dcc", "MOS3", "dchs", "P3", 0.45, -0.3, "given_name=0,dob=2,sex=1", NEW_RUN),
    ("dcc", "MOS9", "dchs", "P9", 0.50, 0.0, "given_name=2,dob=2,sex=1", OLD_RUN),
]


def level(label, m=None, u=None, null=False):
    out = {"sql_condition": "x", "label_for_charts": label}
    if null:
        out["is_null_level"] = True
    else:
        out.update(m_probability=m, u_probability=u)
    return out


def model(given_one: str) -> dict:
    """Non-null levels are numbered from the last (gamma 0) up; null is -1."""
    return {
        "comparisons": [
            {
                "output_column_name": "given_name",
                "comparison_levels": [
                    level("null", null=True),
                    level("exact", 0.9, 0.01),  # gamma 2
                    level(given_one, 0.05, 0.0025),  # gamma 1: log2(20) = +4.3
                    level("else", 0.05, 0.9875),  # gamma 0
                ],
            },
            {
                "output_column_name": "dob",
                "comparison_levels": [
                    level("null", null=True),
                    level("exact", 0.95, 0.001),
                    level("day/month swapped", 0.02, 0.0005),  # log2(40) = +5.3
                    level("else", 0.03, 0.9985),
                ],
            },
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    level("null", null=True),
                    level("equal", 0.98, 0.5),
                    level("else", 0.02, 0.5),
                ],
            },
        ]
    }


@pytest.fixture
def queue_env(warehouse_url, tmp_path, monkeypatch):
    """A warehouse holding the hand-built queue, one earlier decision, two runs, and
    the runs' models; the tool reads both through the environment."""
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        for i, (night, run) in enumerate(
            [(date(2026, 11, 1), OLD_RUN), (date(2026, 11, 2), NEW_RUN)]
        ):
            conn.execute(
                text(
                    "insert into audit.pipeline_run (run_id, night, status, generation) "
                    "values (:r, :n, 'published', :g)"
                ),
                {"r": run, "n": night, "g": i + 1},
            )
        for row in QUEUE:
            conn.execute(
                text("insert into identity.review_queue values (:a, :b, :c, :d, :p, :w, :e, :r)"),
                dict(zip("abcdpwer", row, strict=True)),
            )
        # MOS3/P3 was decided before (written the other way round)
        conn.execute(
            text(
                "insert into identity.review_decision (source_l, source_record_id_l, "
                "source_r, source_record_id_r, decision, decided_by, decided_at) "
                "values ('dchs', 'P3', 'dcc', 'MOS3', 'non-match', 'ann', :t)"
            ),
            {"t": datetime(2026, 11, 2, 9, 0)},
        )
    data = tmp_path / "data"
    run_model = data / "tokens" / "2026-11-02" / safe_name(NEW_RUN) / "linkage_model.json"
    run_model.parent.mkdir(parents=True)
    run_model.write_text(json.dumps(model("canonical (nickname)")))
    # a later run's model has moved on: the run's own labels must be used
    current = data / "tokens" / "2026-11-03" / "later_run" / "linkage_model.json"
    current.parent.mkdir(parents=True)
    current.write_text(json.dumps(model("phonetic")))
    monkeypatch.setenv("CARE_DATA_DIR", str(data))
    monkeypatch.setenv("CARE_WAREHOUSE_URL", warehouse_url)
    yield engine
    engine.dispose()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pair_id_is_short_stable_and_symmetric():
    a = pair_id("dcc", "MOS1", "dchs", "P1")
    assert len(a) == 8 and int(a, 16) >= 0
    assert a == pair_id("dchs", "P1", "dcc", "MOS1")
    assert a != pair_id("dcc", "MOS1", "dchs", "P2")


def test_list_shows_the_newest_run_with_probability_and_state(queue_env, capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"review queue of run {NEW_RUN}: 3 pair(s), 2 pending"
    rows = [line.split() for line in lines[2:]]
    # highest probability first; the older run's pair is not shown
    assert [r[0] for r in rows] == [
        pair_id("dcc", "MOS1", "dchs", "P1"),
        pair_id("dcc", "MOS3", "dchs", "P3"),
        pair_id("dcc", "MOS2", "dchs", "P2"),
    ]
    assert [(r[1], r[2]) for r in rows] == [
        ("0.6200", "pending"),
        ("0.4500", "non-match"),
        ("0.3100", "pending"),
    ]
    assert "MOS9" not in out


def test_show_labels_each_comparison_from_the_runs_model(queue_env, capsys):
    pair = pair_id("dcc", "MOS1", "dchs", "P1")
    code, out, _ = run(capsys, "show", pair[:5])  # an unambiguous prefix is enough
    assert code == 0
    assert f"pair {pair}: dcc:MOS1 -> dchs:P1" in out
    assert "state: pending" in out
    assert "given name: canonical nickname match  (+4.3)" in out
    assert "date of birth: day/month swapped  (+5.3)" in out
    assert "sex: missing on one or both records" in out
    assert safe_name(NEW_RUN) in out  # the labels came from the run's model
    assert "given_name=" not in out and "phonetic" not in out


def test_decide_records_who_when_and_why(queue_env, capsys):
    pair = pair_id("dcc", "MOS2", "dchs", "P2")
    code, out, _ = run(
        capsys, "decide", pair, "match", "--by", "j.smith", "--reason", "same GP practice token"
    )
    assert code == 0
    assert f"pair {pair}: match recorded by j.smith" in out
    rows = read_frame(
        queue_env,
        "select source_l, source_record_id_l, source_r, source_record_id_r, decision, "
        "decided_by, decided_at, reason from identity.review_decision "
        "where decided_by = 'j.smith'",
    )
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row.source_l, row.source_record_id_l, row.source_r, row.source_record_id_r) == (
        "dcc",
        "MOS2",
        "dchs",
        "P2",
    )
    assert (row.decision, row.reason) == ("match", "same GP practice token")
    assert (
        abs(
            (
                datetime.now(UTC).replace(tzinfo=None) - row.decided_at.to_pydatetime()
            ).total_seconds()
        )
        < 3600
    )
    code, out, _ = run(capsys, "list")
    assert "3 pair(s), 1 pending" in out


def test_a_later_decision_reverses_an_earlier_one(queue_env, capsys):
    pair = pair_id("dcc", "MOS3", "dchs", "P3")
    assert run(capsys, "decide", pair, "match", "--by", "bo", "--reason", "second look")[0] == 0
    _, out, _ = run(capsys, "list")
    state = {line.split()[0]: line.split()[2] for line in out.splitlines()[2:]}
    assert state[pair] == "match"


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("NHS no 943 476 5919 agrees", "an NHS number"),
        ("both at DE22 3LT", "a full postcode"),
        ("born 07/03/1941 on both", "a full date"),
    ],
)
def test_a_reason_carrying_an_identifier_is_refused(queue_env, capsys, reason, kind):
    pair = pair_id("dcc", "MOS1", "dchs", "P1")
    code, out, err = run(capsys, "decide", pair, "match", "--by", "jo", "--reason", reason)
    assert code == 2
    assert f"looks like it contains {kind}" in err
    assert reason.split()[-3] not in err + out  # the value itself is never echoed
    n = read_frame(queue_env, "select count(*) as n from identity.review_decision")["n"][0]
    assert n == 1  # only the decision the fixture made


def test_unknown_pair_is_refused(queue_env, capsys):
    code, _, err = run(capsys, "decide", "ffffffff", "match", "--by", "jo", "--reason", "x")
    assert code == 2 and "not in the review queue" in err


def test_schema_adds_the_reason_column_to_an_existing_warehouse(warehouse_url):
    engine = make_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create schema if not exists identity"))
            conn.execute(
                text(
                    "create table identity.review_decision (source_l text not null, "
                    "source_record_id_l text not null, source_r text not null, "
                    "source_record_id_r text not null, decision text not null, "
                    "decided_by text, decided_at timestamp)"
                )
            )
        ensure_schema(engine)
        ensure_schema(engine)  # idempotent
        cols = read_frame(
            engine,
            "select column_name from information_schema.columns "
            "where table_schema = 'identity' and table_name = 'review_decision'",
        )["column_name"]
        assert "reason" in set(cols)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_reviewer_login_can_list_show_and_decide(pg_url, pg_admin, tmp_path, monkeypatch, capsys):
    """A login holding ``identity_reviewer`` only (no ``audit``) works the queue."""
    from transforms.warehouse.roles import apply_roles, ensure_login

    admin = make_engine(pg_url)
    ensure_schema(admin)
    with admin.begin() as conn:
        conn.execute(
            text(
                "insert into identity.review_queue values ('dcc','M1','dchs','P1',0.5,0,"
                "'given_name=2',:r)"
            ),
            {"r": NEW_RUN},
        )
    apply_roles(admin)
    name = f"care_reviewer_{uuid.uuid4().hex[:8]}"
    try:
        ensure_login(admin, name, member_of="identity_reviewer")
        url = make_url(pg_url).set(username=name).render_as_string(hide_password=False)
        monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("CARE_WAREHOUSE_URL", url)
        pair = pair_id("dcc", "M1", "dchs", "P1")
        code, out, _ = run(capsys, "list")
        assert code == 0 and f"{pair}  0.5000  pending" in out
        assert run(capsys, "show", pair)[0] == 0
        code, out, _ = run(capsys, "decide", pair, "non-match", "--by", "kim", "--reason", "differ")
        assert code == 0
        n = read_frame(admin, "select count(*) as n from identity.review_decision")["n"][0]
        assert n == 1
    finally:
        admin.dispose()
        with pg_admin.connect() as conn:
            conn.execute(text(f'drop owned by "{name}"'))
            conn.execute(text(f'drop role if exists "{name}"'))


def test_an_empty_warehouse_and_a_missing_model_are_handled(
    warehouse_url, tmp_path, monkeypatch, capsys
):
    """No decisions yet, no model on disk: unknown ids are refused cleanly and the levels
    are labelled from the comparisons the code defines."""
    engine = make_engine(warehouse_url)
    ensure_schema(engine)
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CARE_WAREHOUSE_URL", warehouse_url)
    try:
        assert run(capsys, "list")[1] == "review queue empty\n"
        code, _, err = run(capsys, "show", "abcdef12")
        assert code == 2 and "not in the review queue" in err
        with engine.begin() as conn:
            conn.execute(
                text(
                    "insert into identity.review_queue values "
                    "('dcc','M1','dchs','P1',0.7,1.2,'dob=3,nhs_number=-1',:r)"
                ),
                {"r": NEW_RUN},
            )
        code, out, _ = run(capsys, "show", pair_id("dcc", "M1", "dchs", "P1"))
        assert code == 0
        # dob's non-null levels: exact, day/month swapped, two of three parts, same year, else
        assert "date of birth: day/month swapped" in out
        assert "NHS number: missing on one or both records" in out
        assert "no saved model found" in out
    finally:
        engine.dispose()
