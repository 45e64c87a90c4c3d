"""The partnership dashboard: one static HTML page of the published measures.

For each measure, its trend by quarter (by financial year, or the snapshot, where the
measure has no quarters) as an inline SVG chart, each period with its status (final,
provisional, pending), and the national comparator where one is known. When
``shared_care.metric_history`` exists, each period also shows its value as first
published, so revisions of provisional figures can be seen. The page has no script and
loads nothing: it opens offline. Aggregates only: no person-level row is read.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "reports"
PAGE = "dashboard.html"


@dataclass(frozen=True)
class Comparator:
    """A published national figure to read a measure against (in the measure's unit)."""

    value: float
    label: str
    source: str


#: National comparators, where one is published.
COMPARATORS = {
    "still_at_home_91": Comparator(
        0.82, "England 82%", "CQC: older people still at home 91 days after discharge"
    ),
}
STATUS_WORDS = {
    "final": "final",
    "provisional": "provisional: may still change",
    "pending": "pending: no follow-up window has closed yet",
}
_QUARTERS = {1: "Jan-Mar", 4: "Apr-Jun", 7: "Jul-Sep", 10: "Oct-Dec"}


# ----------------------------------------------------------------------------- reads
def _read(engine, name: str) -> pd.DataFrame:
    from sqlalchemy import text

    sql = (SQL_DIR / name).read_text(encoding="utf-8")
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def has_history(engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("metric_history", schema="shared_care")


def read_metrics(engine) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(``shared_care.metric`` rows of the whole population, their history or None)."""
    metric = _dates(_read(engine, "dashboard_metric.sql"))
    history = _dates(_read(engine, "dashboard_metric_history.sql")) if has_history(engine) else None
    return metric, history


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    for c in ("period_start", "period_end", "as_of"):
        if c in frame:
            frame[c] = pd.to_datetime(frame[c]).dt.date
    for c in ("numerator", "denominator", "value"):
        if c in frame:
            frame[c] = pd.to_numeric(frame[c], errors="coerce")
    return frame


# ---------------------------------------------------------------------------- periods
def period_kind(start: date, end: date) -> str:
    """``snapshot``, ``quarter`` or ``financial_year`` from a period's length."""
    days = (end - start).days
    if days == 0:
        return "snapshot"
    return "quarter" if days < 100 else "financial_year"


def period_label(start: date, end: date) -> str:
    kind = period_kind(start, end)
    if kind == "quarter":
        return f"{_QUARTERS.get(start.month, start.strftime('%b'))} {start.year}"
    if kind == "financial_year":
        return f"{start.year}/{str(start.year + 1)[2:]}"
    return f"as of {start.isoformat()}"


def trend(rows: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The series a measure's chart shows: its quarters, else its financial years, else
    its snapshot; oldest first."""
    kinds = [
        period_kind(s, e) for s, e in zip(rows["period_start"], rows["period_end"], strict=True)
    ]
    rows = rows.assign(kind=kinds)
    for kind in ("quarter", "financial_year", "snapshot"):
        chosen = rows[rows["kind"] == kind]
        if len(chosen):
            return kind, chosen.sort_values("period_start").reset_index(drop=True)
    return "none", rows


# --------------------------------------------------------------------------- format
def _unit(measure_id: str) -> str:
    from transforms.tables.measure_catalogue import MEASURE_BY_ID

    found = MEASURE_BY_ID.get(measure_id)
    return found.unit if found else "value"


def fmt(value, unit: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    if unit == "proportion":
        return f"{100 * float(value):.1f}%"
    if unit == "days":
        return f"{float(value):.1f} days"
    return f"{float(value):,.1f}"


def _e(x) -> str:
    return html.escape(str(x), quote=True)


# ----------------------------------------------------------------------------- chart
def svg_trend(series: pd.DataFrame, unit: str, comparator: Comparator | None, title: str) -> str:
    """A line chart of ``series`` (``period_start, period_end, value, status``): final
    periods filled, provisional hollow, pending marked on the axis; the comparator as a
    dashed line."""
    width, height = 680, 240
    left, right, top, bottom = 64, 120, 24, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for v in series["value"] if pd.notna(v)]
    scale_values = values + ([comparator.value] if comparator else [])
    if scale_values:
        lo, hi = min(scale_values), max(scale_values)
    else:
        lo, hi = 0.0, 1.0
    pad = (hi - lo) * 0.15 or (abs(hi) * 0.1 or 1.0)
    lo, hi = lo - pad, hi + pad
    if unit == "proportion":
        lo, hi = max(0.0, lo), min(1.0, hi)
    n = len(series)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n if n else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    parts = [
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#555"/>',
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#555"/>',
    ]
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_e(fmt(v, unit))}</text>'
        )
    if comparator is not None:
        cy = y(comparator.value)
        parts.append(
            f'<line class="comparator" x1="{left}" x2="{left + plot_w}" y1="{cy:.1f}" y2="{cy:.1f}" '
            f'stroke="#b03a2e" stroke-dasharray="6 4"/>'
            f'<text x="{left + plot_w + 6}" y="{cy + 4:.1f}" fill="#b03a2e">{_e(comparator.label)}</text>'
        )
    previous = None
    for i, r in enumerate(series.itertuples(index=False)):
        label = period_label(r.period_start, r.period_end)
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">'
            f"{_e(label)}</text>"
        )
        if pd.isna(r.value):
            parts.append(
                f'<text class="pending" x="{x(i):.1f}" y="{top + plot_h - 6}" text-anchor="middle" '
                f'fill="#888" font-size="11">{_e(r.status)}</text>'
            )
            previous = None
            continue
        px, py = x(i), y(float(r.value))
        if previous is not None:
            dash = ' stroke-dasharray="4 3"' if r.status != "final" else ""
            parts.append(
                f'<line x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" x2="{px:.1f}" y2="{py:.1f}" '
                f'stroke="#2f6690" stroke-width="2"{dash}/>'
            )
        fill = "#2f6690" if r.status == "final" else "#fff"
        parts.append(
            f'<circle class="point {_e(r.status)}" data-period="{r.period_start.isoformat()}" '
            f'data-value="{float(r.value):.6g}" cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{fill}" '
            f'stroke="#2f6690" stroke-width="2"><title>{_e(label)}: {_e(fmt(r.value, unit))} '
            f"({_e(r.status)})</title></circle>"
        )
        previous = (px, py)
    legend = (
        f'<g transform="translate({left + plot_w + 6},{top + plot_h - 30})" font-size="11">'
        '<circle cx="5" cy="0" r="4" fill="#2f6690"/><text x="14" y="4">final</text>'
        '<circle cx="5" cy="16" r="4" fill="#fff" stroke="#2f6690" stroke-width="2"/>'
        '<text x="14" y="20">provisional</text></g>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">'
        f"{''.join(parts)}{legend}</svg>"
    )


# ------------------------------------------------------------------------------ page
def _first_published(history: pd.DataFrame | None) -> dict:
    """(measure_id, period_start, period_end) -> (value, status) as first published."""
    if history is None or history.empty:
        return {}
    first = history.sort_values("as_of").drop_duplicates(
        ["measure_id", "period_start", "period_end"], keep="first"
    )
    return {
        (r.measure_id, r.period_start, r.period_end): (r.value, r.status)
        for r in first.itertuples(index=False)
    }


def _measure_ids(metric: pd.DataFrame) -> list[str]:
    from transforms.tables.measure_catalogue import MEASURES

    present = list(dict.fromkeys(metric["measure_id"]))
    known = [m.measure_id for m in MEASURES if m.measure_id in present]
    return known + [m for m in present if m not in known]


def _section(measure_id: str, rows: pd.DataFrame, first: dict, with_history: bool) -> str:
    unit = _unit(measure_id)
    kind, series = trend(rows)
    name = (
        str(rows["measure_name"].dropna().iloc[0])
        if rows["measure_name"].notna().any()
        else measure_id
    )
    comparator = COMPARATORS.get(measure_id)
    shown = series[series["value"].notna()]
    latest = shown.iloc[-1] if len(shown) else None
    headline = "no value yet"
    if latest is not None:
        headline = (
            f'<span class="big">{_e(fmt(latest.value, unit))}</span> '
            f"{_e(period_label(latest.period_start, latest.period_end))}, "
            f'<span class="status {_e(latest.status)}">{_e(latest.status)}</span>'
        )
    comparison = ""
    if comparator is not None:
        comparison = f'<p class="comparator">National comparator: {_e(comparator.label)} ({_e(comparator.source)}).'
        if latest is not None and unit == "proportion":
            diff = 100 * (float(latest.value) - comparator.value)
            comparison += f" Latest period {diff:+.1f} percentage points."
        comparison += "</p>"
    by = {"quarter": "by quarter", "financial_year": "by financial year", "snapshot": "snapshot"}
    header = ["period", "value", "status", "numerator", "denominator"]
    if with_history:
        header.append("as first published")
    trs = []
    for r in series.itertuples(index=False):
        cells = [
            period_label(r.period_start, r.period_end),
            fmt(r.value, unit),
            STATUS_WORDS.get(r.status, r.status),
            "" if pd.isna(r.numerator) else f"{r.numerator:,.0f}",
            "" if pd.isna(r.denominator) else f"{r.denominator:,.0f}",
        ]
        if with_history:
            was = first.get((measure_id, r.period_start, r.period_end))
            cells.append(f"{fmt(was[0], unit)} ({was[1]})" if was else "")
        trs.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    table = (
        "<table><thead><tr>"
        + "".join(f"<th>{_e(h)}</th>" for h in header)
        + "</tr></thead><tbody>"
        + "".join(trs)
        + "</tbody></table>"
    )
    return (
        f'<section class="measure" id="measure-{_e(measure_id)}"><h2>{_e(name)}</h2>'
        f'<p class="sub"><code>{_e(measure_id)}</code> · {_e(by.get(kind, kind))}</p>'
        f'<p class="headline">{headline}</p>{comparison}'
        f'<div class="chart">{svg_trend(series, unit, comparator, name)}</div>'
        f"<details><summary>Figures</summary>{table}</details></section>"
    )


def render_dashboard(metric: pd.DataFrame, history: pd.DataFrame | None) -> str:
    """The page's HTML from the metric rows (and their history, when there is one)."""
    as_of = max(metric["as_of"]) if len(metric) else None
    first = _first_published(history)
    sections = [
        _section(mid, metric[metric["measure_id"] == mid], first, bool(first))
        for mid in _measure_ids(metric)
    ]
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    body = "".join(sections) or "<p>No measure has been published yet.</p>"
    as_of_text = f"Data as of {as_of.isoformat()}. " if as_of else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partnership dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 980px; color: #222; padding: 0 1em; }}
section.measure {{ border-top: 1px solid #ddd; padding-top: 0.6em; margin-bottom: 1.6em; }}
h2 {{ font-size: 1.15em; margin: 0.2em 0; }} .sub {{ color: #666; margin: 0; }}
.big {{ font-size: 1.8em; font-weight: bold; }} .status {{ padding: 0 0.4em; border-radius: 3px; }}
.status.final {{ background: #d8ecd8; }} .status.provisional {{ background: #fdf1c7; }}
.status.pending {{ background: #eee; }} .comparator {{ color: #b03a2e; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: right; }}
th:first-child, td:first-child, td:nth-child(3) {{ text-align: left; }}
</style></head><body>
<h1>Partnership dashboard</h1>
<p>{as_of_text}Generated {generated}. Each measure's trend with the status of every period:
final (every follow-up window closed), provisional (may still change), pending (nothing
to count yet). Aggregates of pseudonymised data; counts are not suppressed, so apply
small-number rules before sharing outside the partnership.</p>
{body}
</body></html>
"""


def write_dashboard(engine, out_dir: Path | str) -> Path:
    """Render the dashboard from the warehouse behind ``engine`` to
    ``<out_dir>/dashboard.html`` (replaced whole); returns its path."""
    metric, history = read_metrics(engine)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PAGE
    tmp = path.with_name(PAGE + ".tmp")
    tmp.write_text(render_dashboard(metric, history), encoding="utf-8")
    tmp.replace(path)
    log.info("dashboard: %s (%d measures)", path, metric["measure_id"].nunique())
    return path
