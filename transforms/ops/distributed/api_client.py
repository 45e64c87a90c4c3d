"""Airflow's REST API (``/api/v2``) on the topology's own api-server, as an operator uses
it: a token from ``POST /auth/token`` (simple auth manager), health, the DAG, and runs
triggered and waited for."""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import quote

from transforms.ops.distributed.config import ADMIN_USER, DAG_ID
from transforms.ops.distributed.errors import RunFailed, TopologyError
from transforms.ops.distributed.processes import wait_for

log = logging.getLogger(__name__)

TERMINAL = {"success", "failed"}


class ApiClient:
    """``check_alive`` raises when a component of the topology has died, so that no wait
    outlasts the api-server or the scheduler."""

    def __init__(self, base_url: str, password: str, check_alive: Callable[[], None]) -> None:
        self.base_url = base_url
        self.password = password
        self.check_alive = check_alive
        self._token: str | None = None

    def _request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        """``(status, payload)`` of one request; an expired token is renewed once."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        url = self.base_url + path  # always our own http://127.0.0.1:<port>
        req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our own URL
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            if exc.code == 401 and auth and self._token is not None:
                self._token = None  # expired: once more with a fresh token
                return self._request(method, path, body, auth)
            return exc.code, payload

    def api(self, method: str, path: str, body: dict | None = None, expect=(200,)):
        status, payload = self._request(method, f"/api/v2{path}", body)
        if status not in expect:
            raise TopologyError(f"{method} /api/v2{path} answered {status}: {payload}")
        return payload

    def token(self) -> str:
        if self._token is None:
            status, payload = self._request(
                "POST",
                "/auth/token",
                {"username": ADMIN_USER, "password": self.password},
                auth=False,
            )
            if status not in (200, 201):
                raise TopologyError(f"POST /auth/token answered {status}: {payload}")
            self._token = payload["access_token"]
        return self._token

    def _wait(self, what: str, probe: Callable[[], object], timeout: float, every: float = 1.0):
        return wait_for(what, probe, timeout, every, check_alive=self.check_alive)

    def wait_api(self, timeout: float = 120) -> None:
        def probe():
            status, _ = self._request("GET", "/api/v2/monitor/health", auth=False)
            return status == 200

        self._wait("the api-server", probe, timeout)

    def health(self) -> dict:
        _, payload = self._request("GET", "/api/v2/monitor/health", auth=False)
        return payload or {}

    def wait_healthy(self, timeout: float = 120) -> dict:
        def probe():
            h = self.health()
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            return h if all((h.get(p) or {}).get("status") == "healthy" for p in parts) else None

        return self._wait("scheduler, triggerer and dag-processor heartbeats", probe, timeout)

    def wait_dag(self, dag_id: str = DAG_ID, timeout: float = 180) -> dict:
        def probe():
            errors = self.api("GET", "/importErrors")
            mine = errors.get("import_errors", [])
            if mine:
                raise RunFailed(f"DAG import error: {mine[0].get('stack_trace')}", {"import": mine})
            status, payload = self._request("GET", f"/api/v2/dags/{dag_id}")
            return payload if status == 200 else None

        return self._wait(f"DAG {dag_id} to be parsed", probe, timeout, every=2.0)

    def unpause(self, dag_id: str = DAG_ID) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, night: str, conf: dict | None = None, dag_id: str = DAG_ID) -> str:
        """Trigger a run for ``night`` (logical date 02:00 UTC that day); returns its id."""
        run_id = f"distributed__{night}__{secrets.token_hex(3)}"
        self.api(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            {"dag_run_id": run_id, "logical_date": f"{night}T02:00:00+00:00", "conf": conf or {}},
        )
        log.info("triggered %s", run_id)
        return run_id

    def dag_run(self, run_id: str, dag_id: str = DAG_ID) -> dict:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict]:
        payload = self.api(
            "GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=100"
        )
        return payload.get("task_instances", [])

    def wait_run(
        self, run_id: str, timeout: float = 900, dag_id: str = DAG_ID, fail_fast: bool = True
    ) -> dict:
        """Wait for the run to finish. With ``fail_fast``, the first task that failed for
        good (no retries left) ends the wait before the run itself is marked failed."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            run = self.dag_run(run_id, dag_id)
            if run["state"] in TERMINAL:
                return run
            if fail_fast:
                tis = self.task_instances(run_id, dag_id)
                if any(t["state"] == "failed" for t in tis):
                    return {**run, "state": "failed", "fail_fast": True}
            if time.monotonic() > deadline:
                return {**run, "state": "timeout"}
            time.sleep(3)
