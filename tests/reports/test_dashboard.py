"""The partnership dashboard: trends by quarter with status and comparator, offline."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime

import pandas as pd
from sqlalchemy import text

from transforms.config import Settings
from transforms.nightly.context import RunContext
from transforms.nightly.stages.publish import write_dashboard_page
from transforms.reports.dashboard import write_dashboard
from transforms.warehouse.db import ensure_schema, make_engine

AT_HOME = "still_at_home_91"
COLUMNS = [
    "measure_id", "measure_name", "period_start", "period_end", "breakdown",
    "numerator", "denominator", "value", "status", "definition_version", "as_of",
]  # fmt: skip


def _row(mid, start, end, num, den, status, breakdown="all", as_of="2026-11-03"):
    value = num / den if num is not None and den else None
    return (
        mid,
        mid.replace("_", " "),
        start,
        end,
        breakdown,
        num,
        den,
        value,
        status,
        "1.0",
        as_of,
    )


ROWS = [
    _row(AT_HOME, "2026-01-01", "2026-03-31", 30, 40, "final"),  # 75.0%
    _row(AT_HOME, "2026-04-01", "2026-06-30", 16, 20, "provisional"),  # 80.0%
    _row(AT_HOME, "2026-07-01", "2026-09-30", None, 5, "pending"),
    _row(AT_HOME, "2025-04-01", "2026-03-31", 150, 200, "final"),  # a financial year
    _row(AT_HOME, "2026-01-01", "2026-03-31", 3, 4, "final", breakdown="sex:F"),
    _row("tio_known_to_both", "2026-11-03", "2026-11-03", 25, 100, "final"),  # snapshot
]


def _warehouse(url: str, rows=ROWS):
    engine = make_engine(url)
    ensure_schema(engine)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    with engine.begin() as conn:
        for r in frame.to_dict("records"):
            conn.execute(
                text(
                    f"insert into shared_care.metric ({', '.join(COLUMNS)}) values "
                    f"({', '.join(':' + c for c in COLUMNS)})"
                ),
                r,
            )
    return engine


def _section(page: str, mid: str) -> str:
    start = page.index(f'id="measure-{mid}"')
    end = page.find('<section class="measure"', start)
    return page[start : end if end > 0 else len(page)]


def test_each_measure_shows_its_quarters_status_and_comparator(warehouse_url, tmp_path):
    engine = _warehouse(warehouse_url)
    path = write_dashboard(engine, tmp_path / "dashboard")
    engine.dispose()
    assert path == tmp_path / "dashboard" / "dashboard.html"
    page = path.read_text(encoding="utf-8")
    # offline: nothing loaded, no script
    assert "<script" not in page and not re.search(r"(?:src|href)=[\"']https?:", page)
    assert "Data as of 2026-11-03" in page
    at_home = _section(page, AT_HOME)
    points = re.findall(
        r'<circle class="point (\w+)" data-period="([\d-]+)" data-value="([\d.]+)"', at_home
    )
    # the quarters only (not the financial year, not the sex breakdown), oldest first
    assert points == [("final", "2026-01-01", "0.75"), ("provisional", "2026-04-01", "0.8")]
    assert 'class="pending"' in at_home and "Jul-Sep 2026" in at_home
    assert "80.0%" in at_home and "Apr-Jun 2026" in at_home
    assert 'class="comparator"' in at_home and "England 82%" in at_home
    assert "-2.0 percentage points" in at_home  # 80.0% against 82%
    assert "as first published" not in page  # nothing in the history yet
    # a snapshot measure shows its one value; the measures keep the dictionary's order
    tio = _section(page, "tio_known_to_both")
    assert "25.0%" in tio and "as of 2026-11-03" in tio and "England" not in tio
    assert page.index(f"measure-{AT_HOME}") < page.index("measure-tio_known_to_both")


def test_history_shows_each_quarter_as_first_published(duckdb_url, tmp_path):
    engine = _warehouse(duckdb_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into shared_care.metric_history "
                "select *, 'run-b' as run_id from shared_care.metric"
            )
        )
        # an earlier night published Apr-Jun at 14/20, provisional
        conn.execute(
            text(
                "insert into shared_care.metric_history select measure_id, measure_name, "
                "period_start, period_end, breakdown, 14, 20, 0.7, 'provisional', "
                "definition_version, date '2026-08-01', 'run-a' from shared_care.metric "
                "where measure_id = :m and period_start = date '2026-04-01' and breakdown = 'all'"
            ),
            {"m": AT_HOME},
        )
    page = write_dashboard(engine, tmp_path).read_text(encoding="utf-8")
    engine.dispose()
    at_home = _section(page, AT_HOME)
    assert "as first published" in at_home
    assert "70.0% (provisional)" in at_home  # Apr-Jun: first 70%, now 80%
    assert "75.0% (final)" in at_home  # Jan-Mar: first published as it is now


def test_a_dashboard_that_cannot_render_does_not_fail_the_night(tmp_path, caplog):
    # a warehouse with no shared_care.metric table: the page cannot be read
    settings = Settings(
        data_dir=tmp_path / "data",
        warehouse_url=f"duckdb:///{tmp_path / 'empty.duckdb'}",
        dcc_url="sqlite://",
        dchs_drop_dir=tmp_path / "drops",
    )
    ctx = RunContext(settings, "run-1", date(2026, 11, 3), datetime(2026, 11, 3, 2))
    with caplog.at_level(logging.ERROR):
        assert write_dashboard_page(ctx) is None
    assert "dashboard not rendered" in caplog.text
    assert not (tmp_path / "data" / "reports" / "dashboard" / "dashboard.html").exists()


def test_the_nightly_page_is_written_under_reports(duckdb_url, tmp_path):
    _warehouse(duckdb_url).dispose()
    settings = Settings(
        data_dir=tmp_path / "data", warehouse_url=duckdb_url, dcc_url="sqlite://",
        dchs_drop_dir=tmp_path / "drops",
    )  # fmt: skip
    ctx = RunContext(settings, "run-1", date(2026, 11, 3), datetime(2026, 11, 3, 2))
    path = write_dashboard_page(ctx)
    assert path == str(tmp_path / "data" / "reports" / "dashboard" / "dashboard.html")
    assert "England 82%" in open(path, encoding="utf-8").read()
