"""The bench runner's stage isolation: a stage in a child process reports its own
figures, and a failure comes back as NightFailed naming the stage."""

from __future__ import annotations

import os
import time

import pytest

from transforms.ops.stage_runner import NightFailed, measure_in_child


def test_a_stage_in_a_child_reports_its_own_result_and_memory():
    parent = os.getpid()

    def stage():
        block = bytearray(200 * 2**20)  # 200 MB touched in the child only
        block[::4096] = b"x" * len(block[::4096])
        time.sleep(0.3)  # the sampler looks every 50 ms
        return {"pid": os.getpid(), "held": len(block)}

    figures = measure_in_child("demo", stage)
    assert figures.stage == "demo"
    assert figures.result["pid"] != parent
    assert figures.peak_rss_mb >= 200


def test_a_failing_stage_raises_night_failed_with_its_name():
    def stage():
        raise ValueError("bad row 7 in person.csv")

    with pytest.raises(NightFailed, match="stage broken failed: ValueError: bad row 7") as info:
        measure_in_child("broken", stage)
    assert info.value.figures[-1].result == {"failed": True}
