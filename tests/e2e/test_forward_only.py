"""Publishing only moves forward: a stale build, an older night or a changed key is
refused, touching nothing, and the next valid night publishes normally.

The nights run through the step functions the DAG's tasks call (as the soak does), so
a night can stop after its build, as one whose publish failed does; the real DAG's own
refusals are checked with ``dag.test()``.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from tests.e2e.conftest import parse_dag
from transforms.config import Settings
from transforms.keys import KeyMismatchError, create_local_key_file, load_key
from transforms.nightly.stages.extract import extract_dcc, extract_dchs
from transforms.nightly.stages.prepare import prepare
from transforms.nightly.stages.publish import publish
from transforms.ops.stage_runner import night_context, publish_inputs, run_night
from transforms.warehouse.db import make_engine
from transforms.warehouse.lineage import (
    AlreadyPublishedError,
    OlderNightError,
    StalePublishError,
)
from transforms.warehouse.publish import read_frame

SCHEMAS = ("shared_care", "identity", "audit")
#: written by the nightly prepare itself whenever the DDL changes; not published data
NOT_COMPARED = {"audit.schema_version", "audit.task_failure"}


def warehouse_snapshot(url: str) -> dict[str, pd.DataFrame]:
    """Every table of every published schema, sorted, for row-for-row comparison."""
    engine = make_engine(url)
    try:
        names = read_frame(
            engine,
            "select table_schema || '.' || table_name as name from information_schema.tables "
            "where table_schema in ('shared_care', 'identity', 'audit') "
            "and table_type = 'BASE TABLE' order by 1",
        ).name
        out = {}
        for name in names:
            if name in NOT_COMPARED:
                continue
            # a refused run may add its own 'failed' row; published rows must not change
            where = " where status = 'published'" if name == "audit.pipeline_run" else ""
            frame = read_frame(engine, f"select * from {name}{where}").astype(str)
            out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return out
    finally:
        engine.dispose()


def assert_same(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def published_content(url: str) -> dict[str, pd.DataFrame]:
    """What dashboards and the person index hold, without the run ids that say which
    run published it (a new run of a night re-stamps its rows)."""
    engine = make_engine(url)
    try:
        out = {}
        for name in ("person", "care_event", "pathway2_stay", "metric", "metric_history"):
            frame = read_frame(engine, f"select * from shared_care.{name}")
            out[name] = frame.drop(columns=["run_id"], errors="ignore")
        out["person_index"] = read_frame(engine, "select * from identity.person_index")
    finally:
        engine.dispose()
    return {
        k: v.sort_values([c for c in v.columns if v[c].dtype != float]).reset_index(drop=True)
        for k, v in out.items()
    }


def assert_same_content(before: dict, after: dict) -> None:
    """Row for row; scores equal to 1e-6 (an incremental night re-scores a re-sent
    record's pairs, and term frequencies move the last digits)."""
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(
            before[name], after[name], obj=name, check_exact=False, rtol=1e-6
        )


def run_steps(ctx, key, *, publish: bool = True) -> tuple:
    """One night through the DAG's stages; without ``publish`` it stops after the build,
    as a night whose publish task failed does. Returns what the publish takes."""
    return publish_inputs(run_night(ctx, key, publish_night=publish))


@pytest.fixture
def settings(pipeline_env, warehouse_url):
    pipeline_env(warehouse_url)
    return Settings.from_env()


@pytest.fixture
def key(key_file):
    return load_key(env={"CARE_KEY_FILE": str(key_file)})


def day(night: str) -> date:
    return date.fromisoformat(night)


def runs(url: str) -> pd.DataFrame:
    engine = make_engine(url)
    try:
        return read_frame(
            engine,
            "select run_id, night, generation, based_on_run_id, key_fingerprint, timings_json "
            "from audit.pipeline_run order by generation",
        )
    finally:
        engine.dispose()


def test_a_stale_build_is_refused_and_the_next_night_publishes(
    settings, key, nights, warehouse_url
):
    first, second = map(day, nights[:2])
    run_steps(night_context(settings, first, run_id="night1"), key)
    # two runs of the second night share the data folder: the older one's publish fails
    stale = night_context(settings, second, run_id="night2-stale")
    built = run_steps(stale, key, publish=False)
    run_steps(night_context(settings, second, run_id="night2-newer"), key)
    before = warehouse_snapshot(warehouse_url)

    with pytest.raises(StalePublishError, match="night2-newer"):
        publish(stale, *built)  # the failed publish, re-run as the runbook advises
    assert_same(before, warehouse_snapshot(warehouse_url))

    # the next valid run publishes on top of the latest, one generation on
    run_steps(night_context(settings, second, run_id="night2-again"), key)
    published = runs(warehouse_url)
    assert published.run_id.tolist() == ["night1", "night2-newer", "night2-again"]
    timings = json.loads(published.timings_json.iloc[-1])  # each step's wall time, kept
    assert set(timings) == {
        "prepare", "extract_dcc", "extract_dchs", "validate_sources", "pseudonymise", "link",
        "build",
    }  # fmt: skip
    assert all(seconds >= 0 for seconds in timings.values())
    assert published.generation.tolist() == [1, 2, 3]
    assert published.based_on_run_id.tolist()[1:] == ["night1", "night2-newer"]

    # the published run cleared and run again has nothing to do (the DAG skips the rest)
    before = warehouse_snapshot(warehouse_url)
    with pytest.raises(AlreadyPublishedError, match="already published"):
        prepare(night_context(settings, second, run_id="night2-again"), key)
    assert_same(before, warehouse_snapshot(warehouse_url))


def test_an_older_night_is_refused_before_anything_is_extracted(
    settings, key, nights, warehouse_url
):
    first, second = map(day, nights[:2])
    run_steps(night_context(settings, first, run_id="night1"), key)
    run_steps(night_context(settings, second, run_id="night2"), key)
    before = warehouse_snapshot(warehouse_url)

    older = night_context(settings, first, run_id="night1-backfill")
    with pytest.raises(OlderNightError, match=f"night {first} is older"):
        prepare(older, key)
    assert not older.landing_dir.exists()
    assert_same(before, warehouse_snapshot(warehouse_url))


def test_other_key_material_under_the_same_version_is_refused(
    settings, key, nights, warehouse_url, tmp_path
):
    first, second = map(day, nights[:2])
    run_steps(night_context(settings, first, run_id="night1"), key)
    assert runs(warehouse_url).key_fingerprint.tolist() == [key.fingerprint]
    before = warehouse_snapshot(warehouse_url)

    other_file = tmp_path / "other.key"
    create_local_key_file(other_file, version=key.version)
    swapped = load_key(env={"CARE_KEY_FILE": str(other_file)})
    ctx = night_context(settings, second, run_id="night2-swapped")
    with pytest.raises(KeyMismatchError, match="same version"):
        prepare(ctx, swapped)
    assert not ctx.landing_dir.exists()
    assert_same(before, warehouse_snapshot(warehouse_url))

    # the same material under a new version is a rotation: it publishes, and records it
    rotated = load_key(explicit=swapped.secret.hex(), version="v2", env={})
    run_steps(night_context(settings, second, run_id="night2-rotated"), rotated)
    assert runs(warehouse_url).key_fingerprint.tolist() == [key.fingerprint, swapped.fingerprint]


def test_the_landing_zone_is_private_deleted_on_publish_and_expires_when_failed(
    settings, key, nights
):
    old_umask = os.umask(0o022)
    try:
        first, second = map(day, nights[:2])
        failed = night_context(settings, first, run_id="night1-failed")
        plan = prepare(failed, key)
        extract_dcc(failed, plan)
        extract_dchs(failed, plan)
    finally:
        os.umask(old_umask)
    landing = failed.landing_dir
    assert stat.S_IMODE(landing.stat().st_mode) == 0o700
    files = list(landing.iterdir())
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)

    # a later night keeps a failed landing younger than the retention...
    good = night_context(settings, first, run_id="night1")
    run_steps(good, key)
    assert landing.exists()
    assert not good.landing_dir.exists()  # ...and deletes its own once published
    # ...and deletes it once it is older than the retention
    eight_days_ago = datetime.now().timestamp() - 8 * 86_400
    os.utime(landing, (eight_days_ago, eight_days_ago))
    prepare(night_context(settings, second, run_id="night2"), key)
    assert not landing.exists()


@pytest.fixture(scope="module")
def dag():
    return parse_dag()


def test_the_real_dag_refuses_an_older_night_touching_nothing(
    dag, pipeline_env, duckdb_url, nights
):
    pipeline_env(duckdb_url)

    def logical(night: str) -> datetime:
        return datetime.fromisoformat(f"{night}T02:00:00").replace(tzinfo=ZoneInfo("Europe/London"))

    assert str(dag.test(logical_date=logical(nights[1])).state).endswith("success")
    before = warehouse_snapshot(duckdb_url)
    older = dag.test(logical_date=logical(nights[0]))
    assert str(older.state).endswith("failed")
    assert_same(before, warehouse_snapshot(duckdb_url))
    engine = make_engine(duckdb_url)
    failures = read_frame(engine, "select task_id, error from audit.task_failure")
    engine.dispose()
    assert failures.task_id.tolist() == ["prepare"]
    assert "OlderNightError" in failures.error.iloc[0]
    engine = make_engine(duckdb_url)
    failed = read_frame(engine, "select status from audit.pipeline_run where status <> 'published'")
    engine.dispose()
    assert failed.status.tolist() == ["failed"]  # the run-level callback recorded it


def test_a_late_drop_is_held_touching_nothing_until_accepted_then_replayed(
    settings, key, nights, warehouse_url, synthetic_sources, tmp_path, monkeypatch
):
    import shutil
    from datetime import timedelta

    from transforms.ops.drops import main as drops_command

    drops = tmp_path / "dchs"  # a copy: the sources are shared by other tests
    shutil.copytree(synthetic_sources / "dchs", drops)
    monkeypatch.setenv("CARE_DCHS_DROP_DIR", str(drops))
    settings = Settings.from_env()
    first, second = map(day, nights[:2])
    run_steps(night_context(settings, first, run_id="night1"), key)
    run_steps(night_context(settings, second, run_id="night2"), key)
    before = published_content(warehouse_url)

    # a drop dated before the newest ingested one arrives: night 1's, re-sent with a note
    late = (first - timedelta(days=1)).isoformat()
    shutil.copytree(drops / first.isoformat(), drops / late)
    manifest = json.loads((drops / late / "manifest.json").read_text())
    (drops / late / "manifest.json").write_text(json.dumps({**manifest, "note": "re-sent"}))
    run_steps(night_context(settings, second, run_id="night2-late"), key)
    assert_same_content(before, published_content(warehouse_url))  # held: nothing applied
    engine = make_engine(warehouse_url)
    held = read_frame(
        engine, "select drop_date, kind from audit.drop_rejection where run_id = 'night2-late'"
    )
    engine.dispose()
    assert held.to_numpy().tolist() == [[late, "late"]]

    # accepted as a correction: the next run lands it, then the later drops again
    assert drops_command(["accept", late, "--by", "test", "--reason", "re-sent by DCHS"]) == 0
    ctx = night_context(settings, second, run_id="night2-accepted")
    dchs = run_steps(ctx, key)[2]
    landed = json.loads(Path(dchs.summary_file).read_text())["drops"]
    assert [d["drop_date"] for d in landed] == [late, first.isoformat(), second.isoformat()]
    assert [d["correction"] for d in landed] == [True, False, False]
    assert runs(warehouse_url).run_id.tolist()[-1] == "night2-accepted"
    # the replay ends where it began: the later drops' rows won again. (Care events are
    # compared by key: one contact whose referral came a night after it is categorised
    # from that referral when all drops land together, not when they land night by night.)
    after = published_content(warehouse_url)
    events = [before.pop("care_event"), after.pop("care_event")]
    assert_same_content(before, after)
    assert events[0].event_id.tolist() == events[1].event_id.tolist()
