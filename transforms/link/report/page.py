"""The night's linkage report: one self-contained HTML page that works offline.

Sections: links by route, the match-weight distribution, the model (given the model),
the clerical review queue, and accuracy against ground truth (given the truth). The
night and the run id are also written as ``<meta>`` tags, which
:func:`transforms.link.report.index_page.write_linkage_index` reads.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.link.comparisons import MATCH_THRESHOLD, REVIEW_BAND
from transforms.link.report.markup import esc, fmt, table
from transforms.link.report.model_section import model_section
from transforms.link.report.svg_charts import svg_bar_chart, svg_histogram

log = logging.getLogger(__name__)

SCOPES = {"": "all", "cross_": "cross-system", "within_": "within-system"}


def write_linkage_report(
    out_html: Path,
    *,
    route_counts: dict,
    pairs: pd.DataFrame,
    review_queue_size: int,
    truth_metrics: dict | None,
    model: dict | None = None,
    night: str | None = None,
    run_id: str | None = None,
) -> Path:
    """Write the linkage report (self-contained HTML, works offline).

    ``route_counts``: links by route, e.g. ``{"deterministic": 120, "probabilistic": 30,
    "review": 4}``. ``pairs``: scored pairs (``match_weight``, ``match_probability``).
    ``truth_metrics``: :func:`transforms.link.accuracy.evaluate_against_truth` output (or
    a dict of several, e.g. ``{"pairs": {...}, "clusters": {...}}``), or None when there
    is no truth. ``model``: the Splink model (settings with m/u), for Splink's charts and
    the table of labelled comparison levels; ``pairs`` then needs its ``gamma_*``
    columns. ``night``, ``run_id``: shown in the page and read by
    :func:`transforms.link.report.index_page.write_linkage_index`.
    """
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    sections = [_routes_section(route_counts), _weights_section(pairs)]
    draw = ""
    if model is not None:
        section, draw = _model_section(model, pairs)
        sections.append(section)
    sections.append(_review_section(review_queue_size))
    if truth_metrics:
        sections.append(_accuracy_section(truth_metrics))
    _write_atomically(out_html, _page(sections, draw, night=night, run_id=run_id))
    return out_html


def _routes_section(route_counts: dict) -> str:
    routes = {str(k): float(v) for k, v in route_counts.items()}
    return (
        '<section id="routes"><h2>Links by match route</h2>'
        + svg_bar_chart(list(routes), list(routes.values()), title="Links by route")
        + table([(k, fmt(int(v))) for k, v in routes.items()], ("route", "links"))
        + "</section>"
    )


def _weight_at(p: float) -> float:
    """The match weight of probability ``p`` (NaN at 0 and 1)."""
    return math.log2(p / (1 - p)) if 0 < p < 1 else float("nan")


def _weights_section(pairs: pd.DataFrame) -> str:
    """The histogram of match weights with the review and link thresholds marked, and
    the counts of pairs scored, linked and in the review band."""
    weights = (
        pairs["match_weight"].to_numpy(dtype=float) if "match_weight" in pairs else np.array([])
    )
    markers = {
        "review from": _weight_at(REVIEW_BAND[0]),
        "link at": _weight_at(MATCH_THRESHOLD),
    }
    n_pairs = len(pairs)
    probs = pairs["match_probability"].to_numpy(dtype=float) if n_pairs else np.array([])
    return (
        '<section id="weights"><h2>Match-weight distribution</h2>'
        + svg_histogram(weights, title=f"Scored pairs ({n_pairs:,})", markers=markers)
        + table(
            [
                ("pairs scored", fmt(n_pairs)),
                (
                    f"at or above link threshold {MATCH_THRESHOLD}",
                    fmt(int((probs >= MATCH_THRESHOLD).sum())),
                ),
                (
                    f"in review band [{REVIEW_BAND[0]}, {REVIEW_BAND[1]})",
                    fmt(int(((probs >= REVIEW_BAND[0]) & (probs < REVIEW_BAND[1])).sum())),
                ),
            ],
            ("", "count"),
        )
        + "</section>"
    )


def _model_section(model: dict, pairs: pd.DataFrame) -> tuple[str, str]:
    """Splink's charts of ``model``, or a note when they cannot be drawn: the report
    still serves without them."""
    try:
        return model_section(model, pairs, MATCH_THRESHOLD)
    except Exception:  # noqa: BLE001 - the report still serves without the charts
        log.exception("Splink's charts not drawn; the linkage report has the rest")
        section = (
            '<section id="model"><h2>The model</h2><p>Charts not drawn: see the log.</p></section>'
        )
        return section, ""


def _review_section(review_queue_size: int) -> str:
    return (
        '<section id="review"><h2>Clerical review queue</h2>'
        f'<p class="big">{review_queue_size:,} pair(s) awaiting review</p>'
        f"<p>Pairs with match probability in [{REVIEW_BAND[0]}, {REVIEW_BAND[1]}) are queued; "
        "reviewed decisions override the model on later runs.</p></section>"
    )


def _accuracy_section(truth_metrics: dict) -> str:
    """One table per set of metrics (a single result, or a dict of named results)."""
    sets = (
        truth_metrics
        if all(isinstance(v, dict) for v in truth_metrics.values())
        else {"": truth_metrics}
    )
    parts = ['<section id="accuracy"><h2>Accuracy against ground truth</h2>']
    for name, m in sets.items():
        rows = [
            (
                scope_name,
                *(
                    fmt(m.get(f"{scope}{k}", ""))
                    for k in ("precision", "recall", "f1", "tp", "fp", "fn")
                ),
            )
            for scope, scope_name in SCOPES.items()
        ]
        # a table only: near 1.0, bars of precision/recall/F1 show nothing it does not
        parts.append(f"<h3>{esc(name or 'pairwise')}</h3>")
        parts.append(table(rows, ("scope", "precision", "recall", "F1", "TP", "FP", "FN")))
    parts.append("</section>")
    return "".join(parts)


def _page(sections: list[str], draw: str, *, night: str | None, run_id: str | None) -> str:
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    heading = "Linkage report" + (f" — night {night}" if night else "")
    run_line = f"Run <code>{esc(run_id)}</code>. " if run_id else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(heading)}</title>
<meta name="linkage-night" content="{esc(night or "")}">
<meta name="linkage-run-id" content="{esc(run_id or "")}">
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 960px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.6em 0 1.4em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
section {{ margin-bottom: 2em; }} .big {{ font-size: 1.6em; margin: 0.2em 0; }}
.chart {{ min-height: 40px; margin: 0.5em 0 1em; }}
</style></head><body>
<p><a href="index.html">All nights</a> · <a href="latest.html">Latest</a></p>
<h1>{esc(heading)}</h1>
<p>{run_line}Generated {generated}. Link threshold {MATCH_THRESHOLD}; review band
[{REVIEW_BAND[0]}, {REVIEW_BAND[1]}). Pseudonymised data only: no identifiers appear here.</p>
{"".join(sections)}
{draw}
</body></html>
"""


def _write_atomically(path: Path, text: str) -> None:
    """Write beside ``path`` then rename, so a reader never sees half a page."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
