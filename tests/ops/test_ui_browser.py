"""The Airflow 3.3 UI in a real browser (headless Chromium driven by Playwright).

A data engineer's path on the distributed topology (Celery worker, PostgreSQL metadata,
Redis): sign in, find the DAG with its tags, read its runbook, trigger it with a
parameter, see the run succeed, and open the Assets view. Screenshots of every step go
to ``tests/artifacts/ui_browser/`` (or ``$CARE_TEST_ARTIFACTS/ui_browser``).

Needs Debian's ``chromium`` (``make system-deps``) and Python Playwright; without them
the test is skipped locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.ops.helpers import ARTIFACTS, require, require_postgres_and_redis
from transforms.ops.distributed.config import DAG_ID, TopologyConfig
from transforms.ops.distributed.reports import run_report
from transforms.ops.distributed.topology import Topology

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CHROMIUM = os.environ.get("CARE_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ARTIFACTS / "ui_browser"
RUN_TIMEOUT = float(os.environ.get("CARE_UI_RUN_TIMEOUT", "420"))
PUBLISHED_ASSETS = [
    "shared_care.person",
    "shared_care.care_event",
    "shared_care.pathway2_stay",
    "shared_care.metric",
]
STATE: dict = {}  # what one test leaves for the next (the UI story is sequential)


def _require_browser() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "Python Playwright is not installed (dev dependency `playwright`)")
    require(
        Path(CHROMIUM).exists(),
        f"Chromium not found at {CHROMIUM}: `make system-deps` (apt-get install chromium)",
    )


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    _require_browser()
    require_postgres_and_redis()
    config = TopologyConfig.from_env(
        people=1000, nights=1, work_dir=tmp_path_factory.mktemp("ui") / "work"
    )
    topo = Topology(config)
    try:
        with topo:
            yield topo
    finally:
        if (topo.failed or STATE.get("state") != "success") and topo.logs_dir.exists():
            shutil.copytree(topo.logs_dir, SHOTS / "logs", dirs_exist_ok=True)


@pytest.fixture(scope="module")
def page(topology):
    from playwright.sync_api import sync_playwright

    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_and_find_the_dag_with_its_tags_and_runbook(topology, page):
    from playwright.sync_api import expect

    page.goto(topology.base_url + "/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(topology.password)
    shot(page, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/auth/login"))
    for component in ("Scheduler", "Triggerer", "Dag Processor"):  # health on the home page
        expect(page.get_by_text(component, exact=True).first).to_be_visible()
    shot(page, "02-home-health")

    page.goto(topology.base_url + "/dags")
    card = page.get_by_role("link", name=DAG_ID, exact=True)
    expect(card).to_be_visible()
    for tag in ("shared-care", "pseudonymised", "dcc", "dchs"):
        expect(page.get_by_role("link", name=tag, exact=True).first).to_be_visible()
    shot(page, "03-dag-list-with-tags")

    card.click()
    expect(page).to_have_url(re.compile(rf"/dags/{DAG_ID}"))
    page.get_by_role("button", name="Dag Docs").click()
    docs = page.get_by_role("dialog")
    expect(docs).to_contain_text("Shared care record — nightly")
    expect(docs).to_contain_text("Re-run a night")
    expect(docs).to_contain_text("docs/runbook.md")
    shot(page, "04-dag-runbook")
    page.keyboard.press("Escape")
    expect(docs).to_be_hidden()


def test_trigger_with_a_parameter_and_see_the_run_succeed(topology, page):
    from playwright.sync_api import expect

    page.goto(f"{topology.base_url}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("full_refresh")
    switch = dialog.locator("[name=element_full_refresh]")
    expect(switch).not_to_be_checked()
    # the visible control of the switch is its label
    dialog.locator("label").filter(has=page.locator("[name=element_full_refresh]")).click()
    expect(switch).to_be_checked()
    unpause = dialog.get_by_text(re.compile("Unpause .* on trigger"))
    if unpause.count():
        expect(dialog.get_by_role("checkbox").first).to_be_checked()
    shot(page, "05-trigger-with-full-refresh")
    dialog.get_by_role("button", name="Trigger").click()
    expect(page).to_have_url(re.compile(rf"/dags/{DAG_ID}/runs/"))
    run_id = unquote(page.url.rsplit("/runs/", 1)[1].split("?")[0].rstrip("/"))
    STATE["run_id"] = run_id

    run = topology.client.dag_run(run_id)  # what the UI sent, as the API sees it
    assert run["conf"] == {"full_refresh": True}
    assert run["run_type"] == "manual"

    finished = topology.client.wait_run(run_id, timeout=RUN_TIMEOUT)
    page.goto(f"{topology.base_url}/dags/{DAG_ID}/runs/{run_id}")
    page.wait_for_load_state("networkidle")
    shot(page, "07-run")
    report = run_report(topology, run_id, finished)
    STATE["state"] = finished["state"]
    assert finished["state"] == "success", (
        f"run {run_id} ended {finished['state']}; failed tasks {report['failed_tasks']}:\n"
        + "\n".join(report["failure_logs"].values())
    )
    # the runs list, as an engineer would check it in the morning
    page.goto(f"{topology.base_url}/dags/{DAG_ID}/runs")
    row = page.get_by_role("row").filter(has_text=run_id)
    expect(row).to_be_visible()
    expect(row.get_by_text("Success", exact=True)).to_be_visible()
    shot(page, "06-runs")


def test_assets_view_shows_the_published_tables(topology, page):
    from playwright.sync_api import expect

    page.goto(topology.base_url + "/assets")
    for name in PUBLISHED_ASSETS:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    shot(page, "08-assets")

    page.get_by_role("link", name="shared_care.person", exact=True).click()
    expect(page).to_have_url(re.compile(r"/assets/"))
    shot(page, "09-asset-person")
    assert STATE.get("state") == "success", "no successful run, so no asset events to show"
    events = topology.client.api("GET", "/assets/events?limit=50")["asset_events"]
    mine = [e for e in events if e.get("source_run_id") == STATE["run_id"]]
    assert {e["name"] for e in mine} >= set(PUBLISHED_ASSETS)
    page.reload()
    expect(page.get_by_text(DAG_ID).first).to_be_visible()  # the event's producing DAG
    shot(page, "10-asset-person-event")
