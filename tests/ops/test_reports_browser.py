"""The offline pages in a real browser with the network blocked (headless Chromium).

Data Docs, the linkage report (with Splink's charts) and the partnership dashboard are
opened from ``file://`` with every other request aborted, as on a council or NHS network
that blocks public CDNs: each must render styled, draw its charts, and ask for nothing
it cannot have. Screenshots go to the test's tmp dir and to
``tests/artifacts/reports_browser/`` (or ``$CARE_TEST_ARTIFACTS/reports_browser``).

Needs Debian's ``chromium`` (``make system-deps``) and Python Playwright; without them
the tests are skipped locally and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.ops.helpers import ARTIFACTS, require

pytestmark = [pytest.mark.slow]

CHROMIUM = os.environ.get("CARE_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ARTIFACTS / "reports_browser"


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Python Playwright is not installed (dev dependency `playwright`)")
    require(
        Path(CHROMIUM).exists(),
        f"Chromium not found at {CHROMIUM}: `make system-deps` (apt-get install chromium)",
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Offline:
    """A page whose every non-file request is aborted, and what it tried to load."""

    def __init__(self, browser, shots: Path):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.context.set_default_timeout(15_000)
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.shots = shots

    def _route(self, route):
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def shot(self, name: str) -> None:
        target = self.shots / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        shutil.copyfile(target, SHOTS / target.name)

    def assert_nothing_missing(self) -> None:
        assert self.blocked == [], self.blocked
        assert self.failed == [], self.failed
        assert self.errors == [], self.errors


@pytest.fixture
def offline(browser, tmp_path):
    made = Offline(browser, tmp_path)
    yield made
    made.context.close()


def test_data_docs_render_styled_with_the_network_blocked(offline, tmp_path):
    from playwright.sync_api import expect

    from tests.validation.test_data_docs import _run_all
    from transforms.validation import build_data_docs

    docs = tmp_path / "data_docs"
    _run_all(docs, "scheduled__2026-11-01T02:00:00+00:00")
    index = build_data_docs(docs)

    offline.open(index)
    # the index tables are drawn by bootstrap-table: rows exist only if its JS ran
    runs = offline.page.locator("table[id$='-body-table'] tbody tr")
    expect(runs.first).to_be_visible()
    assert runs.count() >= 20  # 10 suites' results, and the 10 suites
    alert = offline.page.locator(".alert-secondary").first
    # Bootstrap 4's alert-secondary background: the stylesheet was applied
    assert alert.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(226, 227, 229)"
    icon = offline.page.locator(".fa-check-circle").first
    assert "Font Awesome" in icon.evaluate("e => getComputedStyle(e, '::before').fontFamily")
    offline.shot("01-data-docs-index")

    (page,) = (docs / "validations" / "dcc_person").rglob("care-rows.html")
    offline.open(page)
    expect(offline.page.get_by_text("is a full UK postcode").first).to_be_visible()
    expect(offline.page.get_by_text("Failed Only")).to_be_visible()
    offline.shot("02-data-docs-validation")

    offline.open(docs / "expectations" / "dcc_person.html")
    expect(offline.page.locator(".care-rule-notes").first).to_be_visible()
    offline.shot("03-data-docs-suite")
    offline.assert_nothing_missing()


def test_linkage_report_draws_splinks_charts_offline(offline, tmp_path):
    from playwright.sync_api import expect

    from tests.link.test_link_report import _model, _scored
    from transforms.link.report.index_page import write_linkage_index
    from transforms.link.report.page import write_linkage_report

    model = _model()
    path = write_linkage_report(
        tmp_path / "linkage" / "2026-11-02_scheduled.html",
        route_counts={"deterministic": 3, "probabilistic": 2},
        pairs=_scored(model),
        review_queue_size=1,
        truth_metrics={"precision": 0.999, "recall": 0.99, "f1": 0.9945},
        model=model,
        night="2026-11-02",
        run_id="scheduled__2026-11-02T02:00:00+00:00",
    )
    index = write_linkage_index(path.parent)

    offline.open(index)
    offline.page.get_by_role("link", name="Latest report").click()
    offline.page.wait_for_load_state("load")
    expect(
        offline.page.get_by_role("heading", name="Linkage report — night 2026-11-02")
    ).to_be_visible()
    for name in ("match_weights", "m_u_parameters", "waterfall"):
        chart = offline.page.locator(f"#chart-{name}")
        expect(chart.locator("svg, canvas").first).to_be_visible()
        assert "chart not drawn" not in chart.inner_text()
    # the waterfall's labelled bars: a comparison's name is drawn in the chart
    expect(
        offline.page.locator("#chart-waterfall svg").get_by_text("given_name").first
    ).to_be_attached()
    offline.shot("04-linkage-report")
    offline.assert_nothing_missing()


def test_dashboard_renders_trends_offline(offline, tmp_path, duckdb_url):
    from playwright.sync_api import expect

    from tests.reports.test_dashboard import _warehouse
    from transforms.reports.dashboard import write_dashboard

    engine = _warehouse(duckdb_url)
    path = write_dashboard(engine, tmp_path / "dashboard")
    engine.dispose()

    offline.open(path)
    expect(offline.page.get_by_role("heading", name="Partnership dashboard")).to_be_visible()
    charts = offline.page.locator("section.measure svg")
    assert charts.count() == 2  # one per measure
    at_home = offline.page.locator("#measure-still_at_home_91")
    expect(at_home.locator("circle.point")).to_have_count(2)
    expect(at_home.locator("svg").get_by_text("England 82%")).to_be_visible()
    offline.shot("05-dashboard")
    offline.assert_nothing_missing()
