"""Helpers for the operations tests: prerequisites, artifacts, and local sinks."""

from __future__ import annotations

import base64
import json
import os
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("CARE_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a prerequisite is missing; under CI=true that is a failure."""
    if condition:
        return
    if under_ci():
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


# -- a real SMTP server on a local socket ------------------------------------------------


@dataclass
class Envelope:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    auth: tuple[str, str] | None = None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class _State:
    received: list[Envelope] = field(default_factory=list)
    sessions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    event: threading.Event = field(default_factory=threading.Event)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough RFC 5321 for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:  # noqa: C901 - a protocol loop
        state: _State = self.server.state  # type: ignore[attr-defined]
        with state.lock:
            state.sessions += 1
        self.reply("220 care-test-sink ESMTP")
        mail_from, rcpts, auth = None, [], None
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-care-test-sink\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n")
            elif verb == "HELO":
                self.reply("250 care-test-sink")
            elif verb == "AUTH":
                parts = line.split(" ")
                if len(parts) < 2 or parts[1].upper() != "PLAIN":
                    self.reply("504 only PLAIN")
                    continue
                blob = parts[2] if len(parts) > 2 else None
                if blob is None:
                    self.reply("334 ")
                    blob = self.rfile.readline().decode().strip()
                _, user, password = base64.b64decode(blob).decode().split("\0")
                auth = (user, password)
                self.reply("235 2.7.0 authenticated")
            elif verb == "MAIL":
                mail_from, rcpts = line.split(":", 1)[1].strip().split(" ")[0].strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with state.lock:
                    state.received.append(Envelope(mail_from or "", rcpts, b"".join(lines), auth))
                state.event.set()
                self.reply("250 OK queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpSink:
    """A threaded SMTP server on 127.0.0.1 that keeps every message it is sent."""

    def __init__(self) -> None:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
        self._server.daemon_threads = True
        self._server.state = _State()  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def received(self) -> list[Envelope]:
        return list(self._server.state.received)  # type: ignore[attr-defined]

    @property
    def sessions(self) -> int:
        return self._server.state.sessions  # type: ignore[attr-defined]

    def wait(self, timeout: float = 10) -> Envelope:
        assert self._server.state.event.wait(timeout), "no message reached the SMTP sink"  # type: ignore[attr-defined]
        return self.received[-1]

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- a webhook receiver ------------------------------------------------------------------


class WebhookSink:
    """A local HTTP server that records JSON POSTs and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        received: list[dict] = []
        event = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "json": json.loads(body),
                    }
                )
                event.set()
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self._event = event
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/secret-token-path"

    def wait(self, timeout: float = 10) -> dict:
        assert self._event.wait(timeout), "no request reached the webhook sink"
        return self.received[-1]

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- prerequisites of the topology tests ------------------------------------------------


def require_postgres_and_redis() -> None:
    """PostgreSQL (CARE_TEST_PG_URL) and Redis (CARE_REDIS_URL) must answer."""
    from sqlalchemy import create_engine, text

    from transforms.ops.distributed.broker import redis_ping
    from transforms.ops.distributed.config import DEFAULT_PG_ADMIN_URL, DEFAULT_REDIS_URL

    pg_url = os.environ.get("CARE_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    problem = None
    try:
        engine = create_engine(pg_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        finally:
            engine.dispose()
    except Exception as exc:
        problem = exc
    require(problem is None, f"PostgreSQL unreachable at {pg_url}: {problem}")
    redis_url = os.environ.get("CARE_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        redis_ping(redis_url)
    except Exception as exc:
        problem = exc
    require(problem is None, f"Redis unreachable at {redis_url}: {problem}")
