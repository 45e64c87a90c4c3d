"""Recording failures: a failed task's audit row and notification, and a failed run's
row in ``audit.pipeline_run``, so every run that did not publish is on record."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import text

from transforms.config import Settings
from transforms.warehouse.db import ensure_schema, make_engine

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500


def safe_error(error: BaseException | str | None) -> str:
    """The error's type and first line, bounded. Our errors never carry data values."""
    if error is None:
        return "unknown error"
    if isinstance(error, BaseException):
        first = (str(error).splitlines() or [""])[0]
        return f"{type(error).__name__}: {first}"[:MAX_ERROR_CHARS]
    return str(error)[:MAX_ERROR_CHARS]


def record_failure(
    settings: Settings,
    *,
    dag_id: str,
    run_id: str | None,
    task_id: str | None,
    error: BaseException | str | None,
    log_url: str | None = None,
) -> None:
    summary = safe_error(error)
    engine = make_engine(settings.warehouse_url)
    try:
        ensure_schema(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "insert into audit.task_failure (run_id, dag_id, task_id, failed_at, error) "
                    "values (:r, :d, :t, :at, :e)"
                ),
                {
                    "r": run_id,
                    "d": dag_id,
                    "t": task_id,
                    "at": datetime.now(UTC).replace(tzinfo=None),
                    "e": summary,
                },
            )
    finally:
        engine.dispose()
    log.error("task %s of run %s failed: %s", task_id, run_id, summary)
    try:
        from transforms.notify import notify_failure
    except ImportError:  # notifier not installed in this deployment
        return
    notify_failure(dag_id, run_id, task_id, summary, log_url)


def record_run_failure(
    settings: Settings,
    *,
    run_id: str,
    night,
    reason: str | None,
    notify: bool = False,
) -> None:
    """A ``failed`` row in ``audit.pipeline_run`` for a run that did not publish (a
    later publish of the same run id replaces it); ``notify`` when no task failure has
    said so already (e.g. the run timed out)."""
    summary = safe_error(reason or "the run failed")
    engine = make_engine(settings.warehouse_url)
    try:
        ensure_schema(engine)
        with engine.begin() as conn:
            published = conn.execute(
                text(
                    "select count(*) from audit.pipeline_run "
                    "where run_id = :r and status = 'published'"
                ),
                {"r": run_id},
            ).scalar_one()
            if published:
                return
            conn.execute(
                text("delete from audit.pipeline_run where run_id = :r and status = 'failed'"),
                {"r": run_id},
            )
            conn.execute(
                text(
                    "insert into audit.pipeline_run (run_id, night, status, finished_at, error) "
                    "values (:r, :n, 'failed', :at, :e)"
                ),
                {
                    "r": run_id,
                    "n": night,
                    "at": datetime.now(UTC).replace(tzinfo=None),
                    "e": summary,
                },
            )
    finally:
        engine.dispose()
    log.error("run %s (night %s) failed: %s", run_id, night, summary)
    if notify:
        from transforms.notify import notify_failure

        notify_failure("shared_care_record", run_id, None, summary)
