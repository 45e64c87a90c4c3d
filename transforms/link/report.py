"""Linkage quality: evaluation against ground truth, clustering, and the HTML report.

``evaluate_against_truth`` takes either scored pairs (``source_l, source_record_id_l,
source_r, source_record_id_r``) or clusters (``source, source_record_id`` and a
``cluster_id`` / ``person_key`` column) and the truth (``source, source_record_id,
true_person_id``), and gives pairwise precision, recall and F1 overall, cross-system
(different sources) and within-system (same source). Clusters are scored by the pairs
they imply (every two records in one cluster), which is what a person index publishes.

``write_linkage_report`` writes one self-contained HTML page: inline SVG charts, and,
given the model, Splink's own charts (match weights, m/u parameters, and a waterfall for
a few example pairs) as Vega-Lite specs drawn by Vega, Vega-Lite and vega-embed inlined
from the installed Splink package: no CDN, so it opens offline and in locked-down
browsers. The waterfall shows comparison levels and weights only: no token, Bloom
filter or record id reaches the page. ``write_linkage_index`` writes ``index.html`` (the
nights, newest first) and ``latest.html`` beside the nightly reports.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

PAIR_KEYS = ["source_l", "source_record_id_l", "source_r", "source_record_id_r"]


# ------------------------------------------------------------------------ clustering
def _uid(source: pd.Series, rid: pd.Series) -> np.ndarray:
    return (source.astype(str) + ":" + rid.astype(str)).to_numpy(dtype=object)


def clusters_from_pairs(
    pairs: pd.DataFrame, records: pd.DataFrame, *, threshold: float | None = None
) -> pd.DataFrame:
    """Connected components of the pairs at or above ``threshold`` over ``records``.

    Returns ``source, source_record_id, cluster_id`` for every record (singletons too).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if threshold is not None and len(pairs):
        pairs = pairs[pairs["match_probability"] >= threshold]
    uids = _uid(records["source"], records["source_record_id"])
    pos = pd.Series(np.arange(len(uids)), index=pd.Index(uids))
    if len(pairs):
        left = pos.reindex(_uid(pairs["source_l"], pairs["source_record_id_l"])).to_numpy()
        right = pos.reindex(_uid(pairs["source_r"], pairs["source_record_id_r"])).to_numpy()
        ok = ~(np.isnan(left) | np.isnan(right))
        left, right = left[ok].astype(np.int64), right[ok].astype(np.int64)
    else:
        left = right = np.zeros(0, dtype=np.int64)
    n = len(uids)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return pd.DataFrame(
        {
            "source": records["source"].astype(str).to_numpy(),
            "source_record_id": records["source_record_id"].astype(str).to_numpy(),
            "cluster_id": labels,
        }
    )


# ------------------------------------------------------------------------ evaluation
def _prf(tp: float, fp: float, fn: float) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
    }


def _pairs_in_groups(frame: pd.DataFrame, keys: list[str]) -> tuple[int, int]:
    """(cross-source pairs, within-source pairs) among records grouped by ``keys``."""
    counts = frame.groupby([*keys, "source"], observed=True).size().rename("n").reset_index()
    within = int((counts["n"] * (counts["n"] - 1) // 2).sum())
    total = counts.groupby(keys, observed=True)["n"].sum()
    all_pairs = int((total * (total - 1) // 2).sum())
    return all_pairs - within, within


def _coded(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` as integer codes, so each grouping runs on integers, not strings."""

    def codes(values: pd.Series) -> pd.Series:
        found = pd.factorize(values)[0]  # missing: -1, kept missing so groupby drops it
        return pd.Series(found, index=values.index).where(found >= 0).astype("Int64")

    return frame.assign(**{c: codes(frame[c]) for c in columns})


def _truth_pair_counts(truth: pd.DataFrame) -> tuple[int, int]:
    return _pairs_in_groups(_coded(truth, ["true_person_id", "source"]), ["true_person_id"])


def _metrics(tp_x, tp_w, pred_x, pred_w, true_x, true_w) -> dict:
    out = {}
    for prefix, (tp, pred, true) in {
        "": (tp_x + tp_w, pred_x + pred_w, true_x + true_w),
        "cross_": (tp_x, pred_x, true_x),
        "within_": (tp_w, pred_w, true_w),
    }.items():
        for k, v in _prf(tp, pred - tp, true - tp).items():
            out[f"{prefix}{k}"] = v
    return out


def evaluate_against_truth(pairs_or_clusters: pd.DataFrame, truth_df: pd.DataFrame) -> dict:
    """Pairwise precision / recall / F1 (overall, ``cross_*``, ``within_*``) vs the truth.

    Only records present in ``truth_df`` count; pass the truth for the records that were
    linked (e.g. without DCC ``Merged`` rows). For pairs, every given pair counts as a
    predicted link (filter on probability first); for clusters, every two records in
    one cluster do.
    """
    truth = truth_df[["source", "source_record_id", "true_person_id"]].copy()
    truth["source"] = truth["source"].astype(str)
    truth["source_record_id"] = truth["source_record_id"].astype(str)
    true_x, true_w = _truth_pair_counts(truth)
    cols = set(pairs_or_clusters.columns)
    if set(PAIR_KEYS) <= cols:
        p = pairs_or_clusters[PAIR_KEYS].astype(str)
        tid = truth.set_index(_uid(truth["source"], truth["source_record_id"]))["true_person_id"]
        tl = tid.reindex(_uid(p["source_l"], p["source_record_id_l"])).to_numpy()
        tr = tid.reindex(_uid(p["source_r"], p["source_record_id_r"])).to_numpy()
        known = pd.notna(tl) & pd.notna(tr)
        cross = (p["source_l"].to_numpy() != p["source_r"].to_numpy()) & known
        within = (~cross) & known
        hit = known & (tl == tr)
        result = _metrics(
            int((hit & cross).sum()),
            int((hit & within).sum()),
            int(cross.sum()),
            int(within.sum()),
            true_x,
            true_w,
        )
        result["mode"] = "pairs"
        return result
    cluster_col = next((c for c in ("cluster_id", "person_key") if c in cols), None)
    if cluster_col is None:
        raise ValueError("expected pairs (source_l, ...) or clusters (cluster_id/person_key)")
    c = pairs_or_clusters[["source", "source_record_id", cluster_col]].copy()
    c["source"] = c["source"].astype(str)
    c["source_record_id"] = c["source_record_id"].astype(str)
    merged = c.merge(truth, on=["source", "source_record_id"], how="inner")
    merged = _coded(merged, [cluster_col, "true_person_id", "source"])
    pred_x, pred_w = _pairs_in_groups(merged, [cluster_col])
    tp_x, tp_w = _pairs_in_groups(merged, [cluster_col, "true_person_id"])
    result = _metrics(tp_x, tp_w, pred_x, pred_w, true_x, true_w)
    result["mode"] = "clusters"
    return result


def lookalike_merges(clusters: pd.DataFrame, truth: pd.DataFrame, errors: pd.DataFrame) -> dict:
    """Per look-alike kind (twin, parent/child, common name), how many clusters join
    records of a flagged person with records of another person.

    ``errors``: the generator's errors.parquet (``error_type`` lookalike_*).
    """
    look = errors[errors["error_type"].astype(str).str.startswith("lookalike_")]
    merged = clusters.merge(truth, on=["source", "source_record_id"], how="inner")
    people = merged.groupby("cluster_id")["true_person_id"].nunique()
    bad_clusters = set(people[people > 1].index)
    out = {}
    for kind, grp in look.groupby("error_type"):
        rec = grp.merge(merged, on=["source", "source_record_id"], how="inner")
        out[str(kind)] = int(rec["cluster_id"].isin(bad_clusters).sum())
    return out


# ----------------------------------------------------------------------- SVG charts
def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def svg_bar_chart(
    labels: list[str], values: list[float], *, title: str, width: int = 560, colour: str = "#3b6ea5"
) -> str:
    """Horizontal bars with value labels."""
    bar_h, gap, left, right = 26, 8, 170, 90
    height = 40 + len(labels) * (bar_h + gap)
    vmax = max([float(v) for v in values] + [1e-9])
    rows = []
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = 30 + i * (bar_h + gap)
        w = (width - left - right) * float(v) / vmax
        text = f"{v:,.0f}" if float(v) == int(v) else f"{v:,.4f}"
        rows.append(
            f'<text x="{left - 8}" y="{y + bar_h * 0.7}" text-anchor="end">{_esc(lab)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + bar_h * 0.7}">{_esc(text)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_esc(title)}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="13">'
        f'<text x="4" y="16" font-weight="bold">{_esc(title)}</text>{"".join(rows)}</svg>'
    )


def svg_histogram(
    values: np.ndarray,
    *,
    title: str,
    bins: int = 40,
    markers: dict[str, float] | None = None,
    width: int = 640,
    height: int = 260,
) -> str:
    """Histogram of ``values`` (log-scaled counts) with optional vertical markers."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    left, bottom, top, right = 50, 40, 26, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    if values.size == 0:
        body = f'<text x="{left}" y="{top + 20}">no pairs</text>'
        lo, hi = 0.0, 1.0
    else:
        lo, hi = float(values.min()), float(values.max())
        if hi == lo:
            lo, hi = lo - 1, hi + 1
        counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
        cmax = math.log10(counts.max() + 1)
        bw = plot_w / bins
        parts = []
        for i, c in enumerate(counts):
            h = plot_h * (math.log10(c + 1) / cmax if cmax else 0)
            parts.append(
                f'<rect x="{left + i * bw:.1f}" y="{top + plot_h - h:.1f}" width="{max(bw - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="#5b8c5a"><title>{edges[i]:.1f} to {edges[i + 1]:.1f}: '
                f"{int(c):,}</title></rect>"
            )
        for k in range(5):
            x = lo + (hi - lo) * k / 4
            px = left + plot_w * k / 4
            parts.append(
                f'<text x="{px:.1f}" y="{height - bottom + 16}" text-anchor="middle">{x:.1f}</text>'
            )
        for name, x in (markers or {}).items():
            if lo <= x <= hi:
                px = left + plot_w * (x - lo) / (hi - lo)
                parts.append(
                    f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{top + plot_h}" '
                    f'stroke="#b03a2e" stroke-dasharray="4 3"/>'
                    f'<text x="{px + 3:.1f}" y="{top + 12}" fill="#b03a2e">{_esc(name)}</text>'
                )
        body = "".join(parts)
    axis = (
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>'
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">match weight</text>'
        f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" '
        f'text-anchor="middle">pairs (log scale)</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_esc(title)}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">'
        f'<text x="4" y="16" font-weight="bold">{_esc(title)}</text>{axis}{body}</svg>'
    )


def _table(rows: list[tuple], header: tuple) -> str:
    th = "".join(f"<th>{_esc(h)}</th>" for h in header)
    trs = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    return str(v)


# --------------------------------------------------------------- Splink's own charts
#: Example pairs the waterfall shows: the strongest link, the weakest link, and the
#: strongest pair left for review (those that exist).
WATERFALL_EXAMPLES = 3
NET_ADJUSTMENT = "Term-frequency adjustments and caps (net)"


def _settings(model: dict):
    from splink.internals.settings_creator import SettingsCreator

    from transforms.link.predict import prediction_settings

    return SettingsCreator.from_path_or_dict(prediction_settings(model)).get_settings("duckdb")


def comparison_levels(model: dict) -> pd.DataFrame:
    """Every comparison level of ``model`` with its label: ``comparison, gamma, label,
    m_probability, u_probability, match_weight`` (null levels have no weight)."""
    rows = []
    for c in _settings(model).comparisons:
        for level in c.comparison_levels:
            null = level.is_null_level
            m = None if null else level.m_probability
            u = None if null else level.u_probability
            weight = math.log2(m / u) if (m and u) else None
            rows.append(
                {
                    "comparison": c.output_column_name,
                    "gamma": int(level.comparison_vector_value),
                    "label": level.label_for_charts,
                    "m_probability": m,
                    "u_probability": u,
                    "match_weight": weight,
                }
            )
    return pd.DataFrame(rows)


def example_pairs(
    pairs: pd.DataFrame, threshold: float, k: int = WATERFALL_EXAMPLES
) -> pd.DataFrame:
    """Up to ``k`` pairs to explain: strongest link, weakest link, strongest review pair."""
    if pairs.empty or "match_probability" not in pairs:
        return pairs.iloc[0:0]
    p = pairs["match_probability"].to_numpy(dtype=float)
    links, review = np.flatnonzero(p >= threshold), np.flatnonzero(p < threshold)
    picks: list[int] = []
    if links.size:
        picks += [int(links[np.argmax(p[links])]), int(links[np.argmin(p[links])])]
    if review.size:
        picks.append(int(review[np.argmax(p[review])]))
    picks = list(dict.fromkeys(picks))[:k]
    return pairs.iloc[picks]


def waterfall_records(model: dict, examples: pd.DataFrame) -> list[dict]:
    """Splink's waterfall data for ``examples`` (gamma columns and ``match_weight``),
    levels and weights only.

    The scored pairs keep comparison levels, not Splink's per-pair term-frequency
    adjustments; what the final weight holds beyond the prior and the level weights
    (term frequencies, a look-alike cap) is one bar, ``NET_ADJUSTMENT``.
    """
    from splink.internals.waterfall_chart import records_to_waterfall_data

    settings = _settings(model)
    gammas = [c._gamma_column_name for c in settings.comparisons]
    inputs = []
    for _, row in examples.iterrows():
        record = {g: int(row[g]) for g in gammas}
        record |= {
            c._mw_tf_adj_column_name: 0.0 for c in settings.comparisons if c._has_tf_adjustments
        }
        record |= {"match_weight": float(row["match_weight"])}
        record["match_probability"] = float(row["match_probability"])
        inputs.append(record)
    # hide_details: no input value (token, Bloom filter) is read into the chart
    data = records_to_waterfall_data(inputs, settings, True)
    out: list[dict] = []
    for number in range(len(inputs)):
        bars = [
            r for r in data if r["record_number"] == number and not r["term_frequency_adjustment"]
        ]
        final = bars.pop()
        net = final["log2_bayes_factor"] - sum(
            r["log2_bayes_factor"] for r in bars if r["comparison_vector_value"] != -1
        )
        bars.append(
            {
                **{k: None for k in final},
                "column_name": "tf_and_caps",
                "label_for_charts": NET_ADJUSTMENT,
                "log2_bayes_factor": net,
                "bayes_factor": 2**net,
                "value_l": "",
                "value_r": "",
                "term_frequency_adjustment": True,
                "record_number": number,
            }
        )
        bars.append(final)
        for i, bar in enumerate(bars):
            bar["bar_sort_order"] = i
            bar["value_l"] = bar["value_r"] = ""
        out += bars
    return out


def splink_chart_specs(model: dict, pairs: pd.DataFrame, threshold: float) -> dict[str, dict]:
    """Vega-Lite specs of Splink's charts: ``match_weights``, ``m_u_parameters`` and,
    when there are scored pairs, ``waterfall``."""
    from splink.internals.charts import WaterfallChart

    settings = _settings(model)
    specs = {
        "match_weights": settings.match_weights_chart().chart_dict,
        "m_u_parameters": settings.m_u_parameters_chart().chart_dict,
    }
    examples = example_pairs(pairs, threshold)
    if len(examples):
        chart = WaterfallChart(waterfall_records(model, examples), True).chart_dict
        # Splink sizes the example slider by bars, not by examples
        chart["params"][0]["bind"]["max"] = len(examples) - 1
        specs["waterfall"] = chart
    return specs


def _vega_scripts() -> str:
    from splink.internals.html_utils import load_chart_libraries

    libraries = load_chart_libraries()  # vega, vega-lite, vega-embed as Splink ships them
    escaped = "<\\/script"
    return "".join(
        "<script>" + src.replace("</script", escaped) + "</script>\n"
        for src in (libraries["vega"], libraries["vega-lite"], libraries["vega-embed"])
    )


def _json_for_script(value) -> str:
    return json.dumps(value, default=float).replace("</", "<\\/")


CHART_TITLES = {
    "match_weights": "Match weights of each comparison level",
    "m_u_parameters": "m and u probabilities of each comparison level",
    "waterfall": "How the match weight of example pairs adds up",
}


def _splink_section(model: dict, pairs: pd.DataFrame, threshold: float) -> tuple[str, str]:
    """(the section's HTML, the scripts that draw it)."""
    specs = splink_chart_specs(model, pairs, threshold)
    levels = comparison_levels(model)
    parts = ['<section id="model"><h2>The model</h2>']
    for name in specs:
        parts.append(
            f'<h3>{_esc(CHART_TITLES[name])}</h3><div class="chart" id="chart-{name}"></div>'
        )
        if name == "waterfall":
            examples = example_pairs(pairs, threshold)
            rows = [
                (i, _fmt(float(r.match_probability)), _fmt(float(r.match_weight)),
                 "link" if r.match_probability >= threshold else "review")
                for i, r in enumerate(examples.itertuples(index=False))
            ]  # fmt: skip
            parts.append(
                "<p>The slider picks the example (record_number). Levels and weights only: "
                "the pairs' tokens and record ids are not shown.</p>"
                + _table(rows, ("record_number", "probability", "match weight", "outcome"))
            )
    parts.append("<h3>Comparison levels</h3>")
    parts.append(
        _table(
            [
                (
                    r.comparison,
                    r.gamma,
                    r.label,
                    *(
                        "" if v is None or pd.isna(v) else f"{v:.4g}"
                        for v in (r.m_probability, r.u_probability, r.match_weight)
                    ),
                )
                for r in levels.itertuples(index=False)
            ],
            ("comparison", "gamma", "level", "m", "u", "match weight"),
        )
    )
    parts.append("</section>")
    draw = (
        _vega_scripts()
        + "<script>\nconst SPECS = "
        + _json_for_script(specs)
        + ";\nfor (const [name, spec] of Object.entries(SPECS)) {\n"
        + "  const el = document.getElementById('chart-' + name);\n"
        + "  vegaEmbed(el, spec, {actions: false, renderer: 'svg'})\n"
        + "    .catch(err => { el.textContent = 'chart not drawn: ' + err; });\n}\n</script>"
    )
    return "".join(parts), draw


# --------------------------------------------------------------------------- report
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
    ``truth_metrics``: :func:`evaluate_against_truth` output (or a dict of several,
    e.g. ``{"pairs": {...}, "clusters": {...}}``), or None when there is no truth.
    ``model``: the Splink model (settings with m/u), for Splink's charts and the table of
    labelled comparison levels; ``pairs`` then needs its ``gamma_*`` columns.
    ``night``, ``run_id``: shown in the page and read by :func:`write_linkage_index`.
    """
    from transforms.link.comparisons import MATCH_THRESHOLD, REVIEW_BAND

    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    routes = {str(k): float(v) for k, v in route_counts.items()}
    sections = []
    sections.append(
        '<section id="routes"><h2>Links by match route</h2>'
        + svg_bar_chart(list(routes), list(routes.values()), title="Links by route")
        + _table([(k, _fmt(int(v))) for k, v in routes.items()], ("route", "links"))
        + "</section>"
    )
    weights = (
        pairs["match_weight"].to_numpy(dtype=float) if "match_weight" in pairs else np.array([])
    )

    def weight_at(p: float) -> float:
        return math.log2(p / (1 - p)) if 0 < p < 1 else float("nan")

    markers = {
        "review from": weight_at(REVIEW_BAND[0]),
        "link at": weight_at(MATCH_THRESHOLD),
    }
    n_pairs = len(pairs)
    probs = pairs["match_probability"].to_numpy(dtype=float) if n_pairs else np.array([])
    sections.append(
        '<section id="weights"><h2>Match-weight distribution</h2>'
        + svg_histogram(weights, title=f"Scored pairs ({n_pairs:,})", markers=markers)
        + _table(
            [
                ("pairs scored", _fmt(n_pairs)),
                (
                    f"at or above link threshold {MATCH_THRESHOLD}",
                    _fmt(int((probs >= MATCH_THRESHOLD).sum())),
                ),
                (
                    f"in review band [{REVIEW_BAND[0]}, {REVIEW_BAND[1]})",
                    _fmt(int(((probs >= REVIEW_BAND[0]) & (probs < REVIEW_BAND[1])).sum())),
                ),
            ],
            ("", "count"),
        )
        + "</section>"
    )
    sections.append(
        '<section id="review"><h2>Clerical review queue</h2>'
        f'<p class="big">{review_queue_size:,} pair(s) awaiting review</p>'
        f"<p>Pairs with match probability in [{REVIEW_BAND[0]}, {REVIEW_BAND[1]}) are queued; "
        "reviewed decisions override the model on later runs.</p></section>"
    )
    if truth_metrics:
        sets = (
            truth_metrics
            if all(isinstance(v, dict) for v in truth_metrics.values())
            else {"": truth_metrics}
        )
        parts = ['<section id="accuracy"><h2>Accuracy against ground truth</h2>']
        for name, m in sets.items():
            rows = []
            for scope in ("", "cross_", "within_"):
                scope_name = {"": "all", "cross_": "cross-system", "within_": "within-system"}[
                    scope
                ]
                rows.append(
                    (
                        scope_name,
                        *(
                            _fmt(m.get(f"{scope}{k}", ""))
                            for k in ("precision", "recall", "f1", "tp", "fp", "fn")
                        ),
                    )
                )
            # a table only: near 1.0, bars of precision/recall/F1 show nothing it does not
            parts.append(f"<h3>{_esc(name or 'pairwise')}</h3>")
            parts.append(_table(rows, ("scope", "precision", "recall", "F1", "TP", "FP", "FN")))
        parts.append("</section>")
        sections.append("".join(parts))
    draw = ""
    if model is not None:
        try:
            section, draw = _splink_section(model, pairs, MATCH_THRESHOLD)
        except Exception:  # noqa: BLE001 - the report still serves without the charts
            log.exception("Splink's charts not drawn; the linkage report has the rest")
            section = '<section id="model"><h2>The model</h2><p>Charts not drawn: see the log.</p></section>'
        sections.insert(2, section)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    heading = "Linkage report" + (f" — night {night}" if night else "")
    run_line = f"Run <code>{_esc(run_id)}</code>. " if run_id else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(heading)}</title>
<meta name="linkage-night" content="{_esc(night or "")}">
<meta name="linkage-run-id" content="{_esc(run_id or "")}">
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 960px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.6em 0 1.4em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
section {{ margin-bottom: 2em; }} .big {{ font-size: 1.6em; margin: 0.2em 0; }}
.chart {{ min-height: 40px; margin: 0.5em 0 1em; }}
</style></head><body>
<p><a href="index.html">All nights</a> · <a href="latest.html">Latest</a></p>
<h1>{_esc(heading)}</h1>
<p>{run_line}Generated {generated}. Link threshold {MATCH_THRESHOLD}; review band
[{REVIEW_BAND[0]}, {REVIEW_BAND[1]}). Pseudonymised data only: no identifiers appear here.</p>
{"".join(sections)}
{draw}
</body></html>
"""
    tmp = out_html.with_suffix(out_html.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out_html)
    return out_html


_META = re.compile(r'<meta name="linkage-(night|run-id)" content="([^"]*)">')


def write_linkage_index(report_dir: Path | str) -> Path:
    """``index.html`` listing every nightly report in ``report_dir`` (newest night
    first), and ``latest.html``, a copy of the newest; returns the index."""
    report_dir = Path(report_dir)
    found = []
    for path in report_dir.glob("*.html"):
        if path.name in ("index.html", "latest.html"):
            continue
        with path.open(encoding="utf-8") as f:
            head = f.read(4000)
        meta = dict(_META.findall(head))
        night = meta.get("night") or path.stem[:10]
        found.append((night, path.stat().st_mtime, path, meta.get("run-id", "")))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    rows = "".join(
        f'<tr><td>{_esc(night)}</td><td><a href="{_esc(path.name)}">{_esc(run or path.stem)}</a>'
        f"</td><td>{'latest' if i == 0 else ''}</td></tr>"
        for i, (night, _, path, run) in enumerate(found)
    )
    if found:
        tmp = report_dir / "latest.html.tmp"
        shutil.copyfile(found[0][2], tmp)
        tmp.replace(report_dir / "latest.html")
    latest = '<p><a href="latest.html">Latest report</a></p>' if found else "<p>No report yet.</p>"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Linkage reports</title>
<style>body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 3px 10px; }}
</style></head><body><h1>Linkage reports</h1>{latest}
<table><thead><tr><th>night</th><th>run</th><th></th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
    index = report_dir / "index.html"
    tmp = report_dir / "index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(index)
    return index
