"""Airflow-facing glue: connections, the key and the failure callback.

Kept out of ``transforms`` (which never imports Airflow) and out of DAG parsing
(listed in ``.airflowignore``). Imported inside tasks only.
"""

from __future__ import annotations

import logging

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


def _connection(conn_id: str):
    """The Airflow connection, or None when it is not defined."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends
        if (
            "not" in str(exc).lower()
            and "found" in str(exc).lower()
            or "NotFound" in type(exc).__name__
        ):
            return None
        raise


def warehouse_url_from_connection(conn) -> str | None:
    """A SQLAlchemy URL from the ``warehouse`` connection: ``extra.url``, or Postgres fields."""
    if conn is None:
        return None
    extra = conn.extra_dejson or {}
    if extra.get("url"):
        return extra["url"]
    if conn.conn_type in ("postgres", "postgresql"):
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+psycopg",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        ).render_as_string(hide_password=False)
    raise ValueError(
        f"connection 'warehouse' of type {conn.conn_type!r}: set extra.url to a SQLAlchemy URL"
    )


def settings_from_airflow():
    from transforms.config import Settings, with_password_file

    url = warehouse_url_from_connection(_connection("warehouse"))
    # a connection without a password takes it from CARE_WAREHOUSE_PASSWORD_FILE
    return Settings.from_env(warehouse_url=url and with_password_file(url))


def key_from_airflow():
    """The pseudonymisation key: connection ``pseudonymisation_key`` (password), else env/file."""
    from transforms.keys import load_key

    conn = _connection("pseudonymisation_key")
    if conn is not None and conn.password:
        version = (conn.extra_dejson or {}).get("version") or conn.login or None
        return load_key(explicit=conn.password, version=version)
    return load_key()


def record_task_failure(context) -> None:
    """Write the failure to ``audit.task_failure`` and notify; never raises."""
    try:
        from transforms.nightly.failures import record_failure

        ti = context.get("task_instance") or context.get("ti")
        dag_run = context.get("dag_run")
        record_failure(
            settings_from_airflow(),
            dag_id=getattr(ti, "dag_id", "shared_care_record"),
            run_id=getattr(dag_run, "run_id", None),
            task_id=getattr(ti, "task_id", None),
            error=context.get("exception"),
            log_url=getattr(ti, "log_url", None),
        )
    except Exception:  # a callback must not mask the task's own failure
        log.exception("could not record the task failure")


class _UntemplatedNotifier(BaseNotifier):
    """A notifier with no template fields. Airflow 3.3 renders them with the context's
    DAG, which for a run-level callback is a SerializedDAG without a template
    environment; with nothing to render, rendering is skipped."""

    def render_template_fields(self, context, jinja_env=None) -> None:
        return None


class TaskFailureNotifier(_UntemplatedNotifier):
    """A task failed for good: ``audit.task_failure`` and the configured notification."""

    def notify(self, context) -> None:
        record_task_failure(context)


class RunFailureNotifier(_UntemplatedNotifier):
    """The run failed: a ``failed`` row in ``audit.pipeline_run``; a notification too
    when no task failure has sent one (a timed-out run)."""

    def notify(self, context) -> None:
        try:
            from zoneinfo import ZoneInfo

            from transforms.nightly.context import LONDON
            from transforms.nightly.failures import record_run_failure

            dag_run = context.get("dag_run")
            when = context.get("logical_date") or getattr(dag_run, "run_after", None)
            reason = context.get("reason")
            record_run_failure(
                settings_from_airflow(),
                run_id=getattr(dag_run, "run_id", None) or "unknown",
                night=when.astimezone(ZoneInfo(LONDON)).date() if when else None,
                reason=reason,
                notify=reason is not None and "task" not in str(reason).lower(),
            )
        except Exception:  # a callback must not mask the run's own failure
            log.exception("could not record the run failure")


def missed_deadline(context=None, **kwargs) -> None:
    """Deadline alert: the night has not published by its deadline."""
    from transforms.notify import notify_failure

    dag_run = (context or {}).get("dag_run")
    run_id = getattr(dag_run, "run_id", None) or kwargs.get("run_id")
    notify_failure(
        "shared_care_record",
        run_id,
        None,
        f"the night has not published {kwargs.get('hours', '?')} hours after 02:00",
    )
