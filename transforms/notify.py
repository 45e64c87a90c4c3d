"""Failure notifications by e-mail (SMTP) and/or a webhook.

``transforms.nightly.failures.record_failure`` calls :func:`notify_failure` after writing
``audit.task_failure``. The channels are configured by the ``CARE_NOTIFY_*`` variables
(:class:`transforms.config.NotifySettings`, listed in :mod:`transforms.config`). Nothing
is configured by default, and then nothing is sent.

A message says which DAG, run and task failed, the error's type and first line (with
anything that looks like a data value masked), and where the log and the runbook are.
It never carries data: no names, identifiers, dates of birth, postcodes or rows.
Sending never raises: a failing notifier is logged and the task's own failure stands.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from transforms.config import NotifySettings

log = logging.getLogger(__name__)

MAX_SUMMARY_CHARS = 300
RUNBOOK = "docs/runbook.md (Re-run one night)"

# What might be a data value in an error's first line. Masked, not interpreted.
_MASKS = [
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),  # quoted values: repr() of rows and fields
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}\b"), "<postcode>"),
    (re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b"), "<date>"),
    (re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"), "<number>"),  # NHS-number shaped
    (re.compile(r"\b\d{6,}\b"), "<number>"),
]


def redact(text: str | None, limit: int = MAX_SUMMARY_CHARS) -> str:
    """The error summary with anything value-like masked, on one line, bounded."""
    if not text:
        return "unknown error"
    line = " ".join(str(text).split())
    for pattern, mask in _MASKS:
        line = pattern.sub(mask, line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    security: str = "none"
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class NotifyConfig:
    smtp: SmtpConfig | None = None
    webhook_url: str | None = None
    environment: str | None = None
    timeout: float = 10.0

    @property
    def configured(self) -> bool:
        return self.smtp is not None or self.webhook_url is not None


class NotifyConfigError(ValueError):
    """The notifier is half-configured (e.g. a host without recipients)."""


def _password(settings: NotifySettings) -> str | None:
    """The SMTP password, from the settings or the file they name; never logged."""
    if settings.smtp_password:
        return settings.smtp_password
    path = settings.smtp_password_file
    return path.read_text().strip() if path else None


def build_config(settings: NotifySettings) -> NotifyConfig:
    """The notifier configuration from the settings; raises on a half-configuration."""
    smtp = None
    if settings.smtp_host:
        security = settings.smtp_security
        if security not in ("none", "starttls", "ssl"):
            raise NotifyConfigError("CARE_NOTIFY_SMTP_SECURITY must be none, starttls or ssl")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
        if not settings.smtp_from or not settings.smtp_to:
            raise NotifyConfigError(
                "CARE_NOTIFY_SMTP_HOST is set: CARE_NOTIFY_SMTP_FROM and CARE_NOTIFY_SMTP_TO are required too"
            )
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port or default_port,
            sender=settings.smtp_from,
            recipients=settings.smtp_to,
            security=security,
            user=settings.smtp_user,
            password=_password(settings),
            timeout=settings.timeout,
        )
    webhook = settings.webhook_url
    if webhook and urlsplit(webhook).scheme not in ("http", "https"):
        raise NotifyConfigError("CARE_NOTIFY_WEBHOOK_URL must be an http(s) URL")
    return NotifyConfig(
        smtp=smtp,
        webhook_url=webhook,
        environment=settings.environment,
        timeout=settings.timeout,
    )


def _config(settings: NotifySettings | None) -> NotifyConfig:
    """The notifier built from ``settings``; without them, from the environment, read
    here so that a misconfiguration is reported by the caller's guard, never raised."""
    return build_config(NotifySettings.from_env() if settings is None else settings)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    fields: dict


def failure_message(
    dag_id: str | None,
    run_id: str | None,
    task_id: str | None,
    summary: str | None,
    log_url: str | None,
    environment: str | None = None,
) -> Message:
    """The notification for a failed task. Identifiers of the run only, never data."""
    where = f" [{environment}]" if environment else ""
    fields = {
        "event": "task_failed",
        "dag_id": dag_id or "?",
        "run_id": run_id or "?",
        "task_id": task_id or "?",
        "error": redact(summary),
        "log_url": log_url or None,
        "runbook": RUNBOOK,
    }
    if environment:
        fields["environment"] = environment
    subject = f"[shared care record{where}] {fields['dag_id']}: task {fields['task_id']} failed"
    body = "\n".join(
        [
            f"The nightly shared care record pipeline{where} has a failed task.",
            "",
            f"DAG:    {fields['dag_id']}",
            f"Run:    {fields['run_id']}",
            f"Task:   {fields['task_id']}",
            f"Error:  {fields['error']}",
            f"Log:    {log_url or '(see the task in the Airflow UI)'}",
            "",
            "Nothing from this run was published unless the publish task succeeded.",
            f"What to do: {RUNBOOK}.",
            "This message deliberately carries no data; details are in the task log.",
        ]
    )
    return Message(subject=subject, body=body, fields=fields)


def send_email(cfg: SmtpConfig, message: Message) -> None:
    msg = EmailMessage()
    msg["Subject"] = message.subject
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="shared-care-record")
    msg["X-Care-Event"] = message.fields["event"]
    msg.set_content(message.body)
    if cfg.security == "ssl":
        client = smtplib.SMTP_SSL(
            cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    with client:
        client.ehlo()
        if cfg.security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if cfg.user:
            client.login(cfg.user, cfg.password or "")
        client.send_message(msg)


def post_webhook(url: str, message: Message, timeout: float) -> int:
    payload = {"text": f"{message.subject}\n{message.body}", **message.fields}
    request = urllib.request.Request(  # noqa: S310  (scheme checked in build_config)
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "shared-care-record"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return response.status


def _where(url: str) -> str:
    """A webhook URL for logs: scheme and host only (its path is often the secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


def notify(message: Message, config: NotifyConfig) -> dict[str, str]:
    """Send ``message`` on every configured channel; returns channel -> outcome."""
    outcome: dict[str, str] = {}
    if config.smtp is not None:
        try:
            send_email(config.smtp, message)
            outcome["smtp"] = "sent"
            log.info("failure e-mail sent to %d recipient(s)", len(config.smtp.recipients))
        except (OSError, smtplib.SMTPException) as exc:
            outcome["smtp"] = f"failed: {type(exc).__name__}"
            log.error(
                "could not send the failure e-mail via %s:%s: %s",
                config.smtp.host,
                config.smtp.port,
                type(exc).__name__,
            )
    if config.webhook_url is not None:
        try:
            status = post_webhook(config.webhook_url, message, config.timeout)
            outcome["webhook"] = "sent"
            log.info("failure webhook to %s answered %s", _where(config.webhook_url), status)
        except (OSError, ValueError) as exc:  # URLError/HTTPError are OSErrors
            outcome["webhook"] = f"failed: {type(exc).__name__}"
            log.error(
                "could not post the failure webhook to %s: %s",
                _where(config.webhook_url),
                type(exc).__name__,
            )
    return outcome


def notify_failure(
    dag_id: str | None,
    run_id: str | None,
    task_id: str | None,
    summary: str | None,
    log_url: str | None = None,
    settings: NotifySettings | None = None,
) -> dict[str, str]:
    """Tell the on-call people that a task failed. No-op when nothing is configured.
    ``settings``: :class:`transforms.config.NotifySettings`, default from the environment."""
    try:
        config = _config(settings)
    except (NotifyConfigError, OSError, ValueError) as exc:
        log.error("notifications misconfigured, nothing sent: %s", exc)
        return {"config": f"error: {exc}"}
    if not config.configured:
        log.debug("no notifier configured (CARE_NOTIFY_SMTP_HOST / CARE_NOTIFY_WEBHOOK_URL)")
        return {}
    message = failure_message(dag_id, run_id, task_id, summary, log_url, config.environment)
    try:
        return notify(message, config)
    except Exception:  # a notifier must never mask the task's own failure
        log.exception("notification failed unexpectedly")
        return {"error": "unexpected"}


def held_drops_message(
    run_id: str | None, rejections: list[dict], environment: str | None = None
) -> Message:
    """The notification for DCHS drops the night held back or rejected. Each line names
    the drop folder, the kind and the reason (file, row and rule; never a value)."""
    where = f" [{environment}]" if environment else ""
    fields = {
        "event": "drops_held",
        "run_id": run_id or "?",
        "drops": [
            {"drop_date": r.get("drop_date"), "kind": r.get("kind"), "reason": r.get("reason")}
            for r in rejections
        ],
        "runbook": "docs/runbook.md (Held and corrected DCHS drops)",
    }
    if environment:
        fields["environment"] = environment
    lines = [
        f"The nightly shared care record pipeline{where} published run {fields['run_id']},",
        f"but held back {len(rejections)} DCHS drop(s):",
        "",
        *[
            f"- {d['drop_date']} ({d['kind'] or 'rejected'}): {d['reason']}"
            for d in fields["drops"]
        ],
        "",
        "A held drop is never applied on its own. Ask DCHS for a corrected drop, or accept",
        "a late or changed one as a correction: python -m transforms.ops.drops accept DATE",
        f"--by NAME --reason TEXT. What to do: {fields['runbook']}.",
    ]
    subject = f"[shared care record{where}] {len(rejections)} DCHS drop(s) held"
    return Message(subject=subject, body="\n".join(lines), fields=fields)


def notify_held_drops(
    run_id: str | None, rejections: list[dict], settings: NotifySettings | None = None
) -> dict[str, str]:
    """Tell the on-call people which drops were held. No-op when nothing is configured
    or nothing was held; never raises. ``settings`` as for :func:`notify_failure`."""
    if not rejections:
        return {}
    try:
        config = _config(settings)
        if not config.configured:
            return {}
        return notify(held_drops_message(run_id, rejections, config.environment), config)
    except Exception:  # a notifier must never fail the night that published
        log.exception("held-drop notification failed unexpectedly")
        return {"error": "unexpected"}
