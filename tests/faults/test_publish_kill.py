"""SIGKILL during publish: the warehouse holds the previous night or the new one, never a mix."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame

TRIALS = 20
ROWS = 60_000


def publish_in_child(url: str, night: int, *, kill_after: float | None = None) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.publish_child", url, str(night), str(ROWS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if kill_after is not None:
        time.sleep(kill_after)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=120)


def warehouse_night(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        metric = read_frame(
            engine,
            "select definition_version, count(*) as n from shared_care.metric group by 1",
        )
        conflict = read_frame(
            engine, "select sources, count(*) as n from shared_care.person_conflict group by 1"
        )
        mark = read_frame(engine, "select watermark from audit.watermark where source = 'dcc'")
    finally:
        engine.dispose()
    nights = set(metric.definition_version) | set(conflict.sources)
    assert len(nights) == 1, f"a mix of nights is visible: {nights}"
    (night,) = nights
    assert metric.n.sum() == ROWS and conflict.n.sum() == ROWS, "a partial night is visible"
    assert str(mark.watermark.iloc[0]).startswith(f"2026-11-{int(night.split('-')[1]):02d}")
    return nights


@pytest.mark.slow
def test_killing_publish_at_random_points_never_leaves_a_mix(warehouse_url):
    assert publish_in_child(warehouse_url, 1) == 0
    timed = time.monotonic()
    assert publish_in_child(warehouse_url, 2) == 0
    full = time.monotonic() - timed
    assert warehouse_night(warehouse_url) == {"night-2"}
    rng = random.Random(1234)
    outcomes = {"killed": 0, "finished": 0}
    current = 2
    for trial in range(TRIALS):
        target = 3 + trial
        code = publish_in_child(warehouse_url, target, kill_after=rng.uniform(0.05, full))
        outcomes["killed" if code == -signal.SIGKILL else "finished"] += 1
        state = warehouse_night(warehouse_url)
        assert state in ({f"night-{current}"}, {f"night-{target}"}), (trial, state)
        if state == {f"night-{target}"}:
            current = target
        # the next run always completes
    assert publish_in_child(warehouse_url, 30) == 0
    assert warehouse_night(warehouse_url) == {"night-30"}
    assert outcomes["killed"] >= TRIALS // 2, outcomes
