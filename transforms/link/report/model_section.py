"""The report's model section: Splink's charts drawn by Vega, Vega-Lite and vega-embed
inlined from the installed Splink package (no CDN: the page opens offline and in
locked-down browsers), the example pairs and the table of labelled comparison levels."""

from __future__ import annotations

import json

import pandas as pd

from transforms.link.report.markup import esc, fmt, table
from transforms.link.report.model_charts import (
    comparison_levels,
    example_pairs,
    splink_chart_specs,
)

CHART_TITLES = {
    "match_weights": "Match weights of each comparison level",
    "m_u_parameters": "m and u probabilities of each comparison level",
    "waterfall": "How the match weight of example pairs adds up",
}


def model_section(model: dict, pairs: pd.DataFrame, threshold: float) -> tuple[str, str]:
    """(the section's HTML, the scripts that draw it)."""
    specs = splink_chart_specs(model, pairs, threshold)
    parts = ['<section id="model"><h2>The model</h2>']
    for name in specs:
        parts.append(
            f'<h3>{esc(CHART_TITLES[name])}</h3><div class="chart" id="chart-{name}"></div>'
        )
        if name == "waterfall":
            parts.append(_examples_table(pairs, threshold))
    parts.append("<h3>Comparison levels</h3>")
    parts.append(_levels_table(model))
    parts.append("</section>")
    return "".join(parts), _draw_script(specs)


def _examples_table(pairs: pd.DataFrame, threshold: float) -> str:
    """The waterfall's examples by number: probability, weight and outcome only."""
    examples = example_pairs(pairs, threshold)
    rows = [
        (i, fmt(float(r.match_probability)), fmt(float(r.match_weight)),
         "link" if r.match_probability >= threshold else "review")
        for i, r in enumerate(examples.itertuples(index=False))
    ]  # fmt: skip
    return (
        "<p>The slider picks the example (record_number). Levels and weights only: "
        "the pairs' tokens and record ids are not shown.</p>"
        + table(rows, ("record_number", "probability", "match weight", "outcome"))
    )


def _levels_table(model: dict) -> str:
    levels = comparison_levels(model)
    return table(
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


def _draw_script(specs: dict[str, dict]) -> str:
    """The inlined libraries and the script that embeds each spec in its ``chart-`` div."""
    return (
        _vega_scripts()
        + "<script>\nconst SPECS = "
        + _json_for_script(specs)
        + ";\nfor (const [name, spec] of Object.entries(SPECS)) {\n"
        + "  const el = document.getElementById('chart-' + name);\n"
        + "  vegaEmbed(el, spec, {actions: false, renderer: 'svg'})\n"
        + "    .catch(err => { el.textContent = 'chart not drawn: ' + err; });\n}\n</script>"
    )
