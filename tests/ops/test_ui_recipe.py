"""`make ui`, as a new user meets it: the first trigger from the browser succeeds.

``scripts/run_ui.py`` is started as the README says (here on a small population and a
free port, in its own process group), a real browser signs in with the password it
prints, opens the DAG and clicks **Trigger** with the dialog's defaults ("Unpause on
trigger" included, so the scheduler adds a run for the latest 02:00). Every run must
succeed. Screenshots go to ``tests/artifacts/ui_recipe/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.ops.helpers import ARTIFACTS
from tests.ops.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

pytestmark = pytest.mark.slow

DAG_ID = "shared_care_record"
SHOTS = ARTIFACTS / "ui_recipe"
STARTUP_TIMEOUT = 240
RUN_TIMEOUT = float(os.environ.get("CARE_UI_RUN_TIMEOUT", "420"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, token: str, path: str) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v2{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def token_for(base: str, password: str) -> str:
    request = urllib.request.Request(
        f"{base}/auth/token",
        data=json.dumps({"username": "admin", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())["access_token"]


@pytest.fixture
def ui(tmp_path):
    _require_browser()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "CARE_DATA_DIR": str(tmp_path / "data"),
            "CARE_SYNTHETIC_PEOPLE": "800",
            "CARE_NIGHTS": "1",
            "CARE_UI_PORT": str(port),
        }
    )
    env.pop("CARE_KEY_FILE", None)
    env.pop("CARE_PSEUDONYMISATION_KEY", None)
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_ui.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # Airflow's workers ignore SIGTERM: stop the whole group
    )
    base = f"http://localhost:{port}"
    try:
        password = None
        for line in proc.stdout:
            if m := re.search(r"password (\S+)\)", line):
                password = m.group(1)
                break
        assert password, "make ui did not print the admin password"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                health = json.loads(
                    urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5).read()
                )  # noqa: S310
                if all(health[c]["status"] == "healthy" for c in ("scheduler", "dag_processor")):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the UI did not come up"
            time.sleep(2)
        yield base, password
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_make_ui_then_the_first_trigger_succeeds(ui):
    from playwright.sync_api import expect, sync_playwright

    base, password = ui
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(60_000)
        page.goto(base + "/")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/auth/login"))
        # the DAG appears once the processor has parsed and serialised it: on a busy
        # two-core machine that has taken over two minutes
        deadline = time.monotonic() + 300
        while True:
            page.goto(f"{base}/dags/{DAG_ID}")
            if page.get_by_role("button", name="Trigger").count():
                break
            assert time.monotonic() < deadline, "the DAG never appeared"
            time.sleep(3)
        page.screenshot(path=str(SHOTS / "01-dag.png"), full_page=True)
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        page.screenshot(path=str(SHOTS / "02-trigger-defaults.png"), full_page=True)
        dialog.get_by_role("button", name="Trigger").click()
        expect(page).to_have_url(re.compile(rf"/dags/{DAG_ID}/runs/"))

        token = token_for(base, password)
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            runs = api(base, token, f"/dags/{DAG_ID}/dagRuns")["dag_runs"]
            states = {r["dag_run_id"]: r["state"] for r in runs}
            if runs and all(s in ("success", "failed") for s in states.values()):
                break
            assert time.monotonic() < deadline, f"runs still going: {states}"
            time.sleep(5)
        page.goto(f"{base}/dags/{DAG_ID}/runs")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / "03-runs.png"), full_page=True)
        browser.close()
    assert states and set(states.values()) == {"success"}, states
