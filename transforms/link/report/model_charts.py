"""Splink's own charts of the linkage model, as Vega-Lite specs: match weights, m/u
parameters, and a waterfall for a few example pairs.

The waterfall shows comparison levels and weights only: no token, Bloom filter or
record id is read into it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

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
    inputs = _waterfall_inputs(settings, examples)
    # hide_details: no input value (token, Bloom filter) is read into the chart
    data = records_to_waterfall_data(inputs, settings, True)
    out: list[dict] = []
    for number in range(len(inputs)):
        out += _bars_with_net_adjustment(data, number)
    return out


def _waterfall_inputs(settings, examples: pd.DataFrame) -> list[dict]:
    """One record per example as Splink's waterfall reads it: the gammas, no
    term-frequency adjustment, and the pair's final weight and probability."""
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
    return inputs


def _bars_with_net_adjustment(data: list[dict], number: int) -> list[dict]:
    """Example ``number``'s level bars, then the net adjustment bar (the final weight
    less the bars before it), then the final score; values blanked."""
    bars = [r for r in data if r["record_number"] == number and not r["term_frequency_adjustment"]]
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
    return bars


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
