"""`make run` shows one line per task from the DAG test's log, and keeps the rest out."""

from __future__ import annotations

import io

from transforms.ops.progress import follow

LOG = """\
2026-12-04T15:21:27.5Z [info ] [DAG TEST] starting task_id=prepare map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-04T15:21:27.5Z [info ] pseudonymisation key PseudonymKey(version='v1', fingerprint='f1864f63b8a9') loaded
2026-12-04T15:21:27.5Z [info ] Done. Returned value was: {'run_dir': '/data/runs/x', 'full_refresh': False} [airflow.task.operators] loc=python.py:233
2026-12-04T15:21:27.6Z [info ] [DAG TEST] end task task_id=prepare map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1563
2026-12-04T15:21:27.6Z [info ] [DAG TEST] starting task_id=extract.dchs map_index=-1 [airflow.sdk.definitions.dag]
2026-12-04T15:21:28.0Z [info ] Done. Returned value was: {'rows': {'patient': 10, 'referral': 20, 'care_contact': 300, 'inpatient_spell': 4}, 'drops': 1, 'rejected': 2} [airflow.task.operators] loc=python.py:233
2026-12-04T15:21:28.0Z [info ] [DAG TEST] end task task_id=extract.dchs map_index=-1 [airflow.sdk.definitions.dag]
2026-12-04T15:21:28.1Z [info ] [DAG TEST] starting task_id=build_tables map_index=-1 [airflow.sdk.definitions.dag]
2026-12-04T15:21:29.1Z [error    ] Task failed with exception: BatchValidationError: output suite person breached [task]
2026-12-04T15:21:29.2Z [info ] [DAG TEST] end task task_id=build_tables map_index=-1 [airflow.sdk.definitions.dag]
"""


def test_progress_shows_each_task_with_counts_and_keeps_the_log_whole():
    ticks = iter(range(100))
    log, shown = io.StringIO(), []
    progress = follow(
        "2026-11-01", io.StringIO(LOG), log, shown.append, clock=lambda: float(next(ticks))
    )
    assert log.getvalue() == LOG  # every line reaches the log file
    assert [line.split()[0] for line in shown] == ["prepare", "extract.dchs", "build_tables"]
    assert "334 rows from 1 drop(s), 2 held" in shown[1]
    assert progress.failed == [
        "build_tables: Task failed with exception: BatchValidationError: output suite person breached [task]"
    ]
    assert not any("PseudonymKey" in line for line in shown)


def test_splink_unobserved_level_warnings_become_one_line(caplog):
    import logging

    from transforms.nightly.stages.link import unobserved_levels_summarised

    splink = logging.getLogger("splink.internals.expectation_maximisation")
    caplog.set_level(logging.INFO)
    with unobserved_levels_summarised():
        for level in ("same postcode on comparison address", "else on comparison sex") * 3:
            splink.warning(f"WARNING:\nLevel {level} not observed in dataset, unable to train m")
        splink.warning("something else")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["something else"]
    summary = [r.getMessage() for r in caplog.records if "comparison level(s)" in r.getMessage()]
    assert len(summary) == 1 and "2 comparison level(s)" in summary[0]
