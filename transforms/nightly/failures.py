"""Recording a failed task: one audit row, and a notification if one is configured."""

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
