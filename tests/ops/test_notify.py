"""Failure notifications over real sockets: a local SMTP server and a local webhook."""

from __future__ import annotations

import logging
import os
import socket

import pytest

from tests.ops.helpers import SmtpSink, WebhookSink
from transforms.config import NotifySettings
from transforms.notify import failure_message, notify_failure, redact

RUN_ID = "scheduled__2026-11-02T02:00:00+00:00"
LOG_URL = "http://airflow.example/dags/shared_care_record/runs/x/tasks/build_tables"
# What an unlucky error line could carry. None of it may leave in a notification.
LEAKY = (
    "ValueError: cannot parse row {'family_name': 'Smith', 'nhs_number': '9434765919'} "
    "dob 1948-03-02 at DE22 3NE, contact jo.smith@example.org, id 943 476 5919"
)
SECRETS = ["Smith", "9434765919", "1948-03-02", "DE22 3NE", "jo.smith@example.org", "943 476 5919"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("CARE_NOTIFY_"):
            monkeypatch.delenv(name)


def smtp_env(monkeypatch, port: int, **extra) -> None:
    monkeypatch.setenv("CARE_NOTIFY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CARE_NOTIFY_SMTP_PORT", str(port))
    monkeypatch.setenv("CARE_NOTIFY_SMTP_FROM", "airflow@care.example")
    monkeypatch.setenv("CARE_NOTIFY_SMTP_TO", "oncall@care.example, lead@care.example")
    for key, value in extra.items():
        monkeypatch.setenv(f"CARE_NOTIFY_{key}", value)


def test_unconfigured_is_a_silent_no_op(caplog):
    with SmtpSink() as sink:
        assert notify_failure("shared_care_record", RUN_ID, "publish", "x") == {}
    assert sink.sessions == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_email_reaches_an_smtp_server_and_says_what_failed(monkeypatch):
    with SmtpSink() as sink:
        smtp_env(monkeypatch, sink.port, ENVIRONMENT="production")
        outcome = notify_failure(
            "shared_care_record", RUN_ID, "build_tables", "RuntimeError: bad", LOG_URL
        )
        envelope = sink.wait()
    assert outcome == {"smtp": "sent"}
    assert envelope.mail_from == "airflow@care.example"
    assert envelope.rcpt_to == ["oncall@care.example", "lead@care.example"]
    msg = envelope.message
    assert msg["Subject"] == (
        "[shared care record [production]] shared_care_record: task build_tables failed"
    )
    assert msg["To"] == "oncall@care.example, lead@care.example"
    body = msg.get_content()
    for expected in (RUN_ID, "build_tables", "RuntimeError: bad", LOG_URL, "runbook"):
        assert expected in body
    assert envelope.auth is None


def test_email_never_carries_data_values(monkeypatch):
    with SmtpSink() as sink:
        smtp_env(monkeypatch, sink.port)
        notify_failure("shared_care_record", RUN_ID, "validate_sources", LEAKY)
        envelope = sink.wait()
    raw = envelope.data.decode("utf-8", "replace")
    text = envelope.message.get_content()
    for secret in SECRETS:
        assert secret not in raw and secret not in text, secret
    assert "ValueError: cannot parse row" in text  # the kind of error survives


def test_smtp_login_when_configured(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    with SmtpSink() as sink:
        smtp_env(monkeypatch, sink.port, SMTP_USER="airflow", SMTP_PASSWORD="pa55-word")
        assert notify_failure("d", "r", "t", "e") == {"smtp": "sent"}
        envelope = sink.wait()
    assert envelope.auth == ("airflow", "pa55-word")
    assert "pa55-word" not in caplog.text


def test_smtp_password_from_a_file(monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    secret = tmp_path / "smtp_password"
    secret.write_text("fi1e-pa55\n")
    with SmtpSink() as sink:
        smtp_env(monkeypatch, sink.port, SMTP_USER="airflow", SMTP_PASSWORD_FILE=str(secret))
        assert notify_failure("d", "r", "t", "e") == {"smtp": "sent"}
        envelope = sink.wait()
    assert envelope.auth == ("airflow", "fi1e-pa55")
    assert "fi1e-pa55" not in caplog.text


def test_settings_given_by_the_caller_are_used_as_they_are(monkeypatch):
    monkeypatch.setenv("CARE_NOTIFY_SMTP_HOST", "mail.invalid")  # not read: settings given
    with SmtpSink() as sink:
        settings = NotifySettings(
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_from="airflow@care.example",
            smtp_to=("oncall@care.example",),
            environment="staging",
        )
        assert notify_failure("d", "r", "t", "e", settings=settings) == {"smtp": "sent"}
        envelope = sink.wait()
    assert envelope.rcpt_to == ["oncall@care.example"]
    assert "[staging]" in envelope.message["Subject"]


def test_webhook_gets_json_without_data(monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    with WebhookSink() as hook:
        monkeypatch.setenv("CARE_NOTIFY_WEBHOOK_URL", hook.url)
        outcome = notify_failure("shared_care_record", RUN_ID, "link_people", LEAKY, LOG_URL)
        request = hook.wait()
    assert outcome == {"webhook": "sent"}
    assert request["content_type"] == "application/json"
    payload = request["json"]
    assert payload["event"] == "task_failed"
    assert payload["task_id"] == "link_people"
    assert payload["run_id"] == RUN_ID
    assert payload["log_url"] == LOG_URL
    assert "link_people" in payload["text"]
    dumped = str(payload)
    for secret in SECRETS:
        assert secret not in dumped, secret
    assert "secret-token-path" not in caplog.text  # the webhook path is a credential


def test_both_channels_at_once(monkeypatch):
    with SmtpSink() as sink, WebhookSink() as hook:
        smtp_env(monkeypatch, sink.port)
        monkeypatch.setenv("CARE_NOTIFY_WEBHOOK_URL", hook.url)
        assert notify_failure("d", "r", "t", "e") == {"smtp": "sent", "webhook": "sent"}
        sink.wait()
        hook.wait()


def test_unreachable_channels_are_logged_and_never_raise(monkeypatch, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    smtp_env(monkeypatch, dead, TIMEOUT="2")
    monkeypatch.setenv("CARE_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{dead}/hook")
    outcome = notify_failure("d", "r", "t", "e")
    assert outcome["smtp"].startswith("failed") and outcome["webhook"].startswith("failed")
    assert "could not send the failure e-mail" in caplog.text


def test_webhook_error_status_is_a_failure(monkeypatch):
    with WebhookSink(status=500) as hook:
        monkeypatch.setenv("CARE_NOTIFY_WEBHOOK_URL", hook.url)
        assert notify_failure("d", "r", "t", "e")["webhook"] == "failed: HTTPError"


@pytest.mark.parametrize(
    "env",
    [
        {"CARE_NOTIFY_SMTP_HOST": "mail"},  # no sender or recipients
        {"CARE_NOTIFY_SMTP_HOST": "mail", "CARE_NOTIFY_SMTP_FROM": "a@b", "CARE_NOTIFY_SMTP_TO": "c@d",
         "CARE_NOTIFY_SMTP_SECURITY": "tls1.0"},
        {"CARE_NOTIFY_WEBHOOK_URL": "file:///etc/passwd"},
    ],
)  # fmt: skip
def test_half_configuration_is_reported_not_raised(monkeypatch, caplog, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    outcome = notify_failure("d", "r", "t", "e")
    assert list(outcome) == ["config"]
    assert "misconfigured" in caplog.text


def test_redact_keeps_the_shape_of_the_error():
    assert redact("KeyError: 'nhs_number'") == "KeyError: '…'"
    assert redact("ContractError: 3 rows failed rule dob_not_future") == (
        "ContractError: 3 rows failed rule dob_not_future"
    )
    assert redact(None) == "unknown error"
    assert len(redact("x" * 5000)) == 300
    assert "\n" not in redact("first\nsecond")


def test_message_fields_are_run_identifiers_only():
    msg = failure_message("dag", "run", "task", LEAKY, None)
    assert set(msg.fields) == {
        "event",
        "dag_id",
        "run_id",
        "task_id",
        "error",
        "log_url",
        "runbook",
    }


def test_the_failure_callback_path_records_and_emails(monkeypatch, tmp_path):
    """``record_failure`` (the DAG's failure callback) writes the audit row and e-mails."""
    from transforms.config import Settings
    from transforms.nightly.failures import record_failure
    from transforms.warehouse.db import make_engine
    from transforms.warehouse.publish import read_frame

    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    settings = Settings.from_env({"CARE_DATA_DIR": str(tmp_path)}, warehouse_url=url)
    with SmtpSink() as sink:
        smtp_env(monkeypatch, sink.port)
        record_failure(
            settings,
            dag_id="shared_care_record",
            run_id=RUN_ID,
            task_id="publish",
            error=ConnectionError("warehouse unreachable"),
            log_url=LOG_URL,
        )
        envelope = sink.wait()
    engine = make_engine(url)
    try:
        rows = read_frame(engine, "select task_id, error from audit.task_failure")
    finally:
        engine.dispose()
    assert rows.task_id.tolist() == ["publish"]
    body = envelope.message.get_content()
    assert "ConnectionError: warehouse unreachable" in body
    assert "publish" in envelope.message["Subject"]


def test_held_drops_reach_the_webhook_naming_each_drop_and_the_accept_command(monkeypatch):
    from transforms.notify import notify_held_drops

    held = [
        {"drop_date": "2026-10-31", "kind": "late", "reason": "dated before 2026-11-02"},
        {"drop_date": "20261103", "kind": "bad_name", "reason": "not a YYYY-MM-DD folder"},
    ]
    assert notify_held_drops(RUN_ID, held) == {}  # nothing configured: nothing sent
    with WebhookSink() as hook:
        monkeypatch.setenv("CARE_NOTIFY_WEBHOOK_URL", hook.url)
        assert notify_held_drops(RUN_ID, held) == {"webhook": "sent"}
        assert notify_held_drops(RUN_ID, []) == {}  # nothing held: no message
        request = hook.wait()
    body = request["json"]
    assert body["event"] == "drops_held"
    assert [d["drop_date"] for d in body["drops"]] == ["2026-10-31", "20261103"]
    assert "2 DCHS drop(s) held" in body["text"]
    assert "python -m transforms.ops.drops accept" in body["text"]
    assert len(hook.received) == 1
