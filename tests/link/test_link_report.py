"""Linkage report (offline HTML) and evaluation against ground truth."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from transforms.link.accuracy import clusters_from_pairs, evaluate_against_truth
from transforms.link.comparisons import base_settings
from transforms.link.report.index_page import write_linkage_index
from transforms.link.report.model_charts import NET_ADJUSTMENT
from transforms.link.report.page import write_linkage_report

TRUTH = pd.DataFrame({
    "source": ["dcc", "dchs", "dchs", "dcc", "dchs", "dchs"],
    "source_record_id": ["a1", "b1", "b2", "a2", "b3", "b4"],
    "true_person_id": ["P1", "P1", "P1", "P2", "P2", "P3"],
})  # fmt: skip


def pairs(rows):
    return pd.DataFrame(rows, columns=["source_l", "source_record_id_l", "source_r",
                                       "source_record_id_r", "match_probability"])  # fmt: skip


def test_evaluate_pairs_counts_cross_and_within():
    p = pairs([
        ("dcc", "a1", "dchs", "b1", 0.99),   # TP cross
        ("dchs", "b1", "dchs", "b2", 0.99),  # TP within
        ("dcc", "a2", "dchs", "b4", 0.99),   # FP cross
    ])  # fmt: skip
    m = evaluate_against_truth(p, TRUTH)
    # true pairs: P1 -> a1-b1, a1-b2 (cross), b1-b2 (within); P2 -> a2-b3 (cross)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 2)
    assert m["cross_precision"] == pytest.approx(0.5) and m["cross_recall"] == pytest.approx(1 / 3)
    assert m["within_precision"] == 1.0 and m["within_recall"] == 1.0
    assert m["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_evaluate_clusters_uses_implied_pairs():
    p = pairs([("dcc", "a1", "dchs", "b1", 0.99), ("dchs", "b1", "dchs", "b2", 0.99)])
    clusters = clusters_from_pairs(p, TRUTH)
    m = evaluate_against_truth(clusters, TRUTH)
    # the cluster {a1, b1, b2} implies a1-b2 too: 3 TP, P2's pair missed
    assert (m["tp"], m["fp"], m["fn"]) == (3, 0, 1)
    assert m["mode"] == "clusters"
    # a threshold removes edges
    c2 = clusters_from_pairs(p.assign(match_probability=[0.99, 0.4]), TRUTH, threshold=0.5)
    assert evaluate_against_truth(c2, TRUTH)["tp"] == 1


def test_report_without_model_has_sections_and_no_scripts(tmp_path):
    rng = np.random.default_rng(1)
    scored = pd.DataFrame({"match_weight": rng.normal(10, 8, 500)})
    scored["match_probability"] = 1 / (1 + 2 ** -scored["match_weight"])
    out = write_linkage_report(
        tmp_path / "sub" / "linkage.html",
        route_counts={"deterministic": 120, "probabilistic": 35, "review": 7},
        pairs=scored,
        review_queue_size=7,
        truth_metrics={
            "precision": 0.999,
            "recall": 0.991,
            "f1": 0.995,
            "cross_precision": 1.0,
            "cross_recall": 0.99,
            "cross_f1": 0.995,
        },  # fmt: skip
    )
    text = out.read_text(encoding="utf-8")
    for section in ('id="routes"', 'id="weights"', 'id="review"', 'id="accuracy"'):
        assert section in text
    # routes and weights; accuracy is a table (bars near 1.0 showed nothing more)
    assert text.count("<svg") == 2 and "Precision / recall / F1" not in text
    assert "<script" not in text.lower() and "http" not in text.replace("http://www.w3.org", "")
    assert "deterministic" in text and "7 pair(s) awaiting review" in text
    assert "0.9990" in text


def test_report_without_truth_has_no_accuracy(tmp_path):
    out = write_linkage_report(
        tmp_path / "r.html",
        route_counts={"deterministic": 0, "probabilistic": 0, "review": 0},
        pairs=pd.DataFrame({"match_weight": [], "match_probability": []}),
        review_queue_size=0,
        truth_metrics=None,
    )
    text = out.read_text(encoding="utf-8")
    assert 'id="accuracy"' not in text and 'id="weights"' in text


def _model() -> dict:
    """An untrained model with hand-set parameters: prior 1/1025 (weight -10); every
    non-null level m=0.4, u=0.1 (weight +2) except "else", m=0.1, u=0.4 (weight -2)."""
    model = base_settings()
    model["probability_two_random_records_match"] = 1 / 1025
    for c in model["comparisons"]:
        for level in c["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            top = level.get("label_for_charts") != "else"
            level["m_probability"], level["u_probability"] = (0.4, 0.1) if top else (0.1, 0.4)
    return model


SECRET_TOKEN = "c0ffee15ecret70ken"


def _scored(model: dict) -> pd.DataFrame:
    names = [c["output_column_name"] for c in model["comparisons"]]
    rows = []
    # top level everywhere: -10 + 6 * 2 = 2; the pair says 8 (p 0.996), so +6 is net
    # adjustment; a weaker link (p 0.989) and a review pair (p 0.667), "else" on sex
    for i, (gamma_sex, weight) in enumerate([(1, 8.0), (1, 6.5), (0, 1.0)]):
        row = {f"gamma_{n}": 1 for n in names} | {"gamma_sex": gamma_sex}
        row |= {
            "source_l": "dcc", "source_record_id_l": f"LA-REC-{i}",
            "source_r": "dchs", "source_record_id_r": f"SYS-REC-{i}",
            "match_weight": weight, "match_probability": 2**weight / (1 + 2**weight),
            "tok_given_name_l": SECRET_TOKEN, "tok_given_name_r": SECRET_TOKEN,
        }  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def _specs(text: str) -> dict:
    found = re.search(r"const SPECS = (.*?);\nfor \(const", text, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_report_with_model_draws_splinks_charts_offline(tmp_path):
    model = _model()
    scored = _scored(model)
    out = write_linkage_report(
        tmp_path / "linkage" / "2026-11-02_scheduled.html",
        route_counts={"deterministic": 3, "probabilistic": 2},
        pairs=scored,
        review_queue_size=1,
        truth_metrics=None,
        model=model,
        night="2026-11-02",
        run_id="scheduled__2026-11-02T02:00:00+00:00",
    )
    text = out.read_text(encoding="utf-8")
    # night and run id in the page itself, not only in the file name
    assert "night 2026-11-02" in text and "scheduled__2026-11-02T02:00:00+00:00" in text
    for name in ("match_weights", "m_u_parameters", "waterfall"):
        assert f'id="chart-{name}"' in text
    # Vega inlined: no script is loaded from anywhere
    assert not re.search(r"<script[^>]*\bsrc=", text) and "vegaEmbed(" in text
    assert not re.search(r"(?:src|href)=[\"']https?:", text)
    specs = _specs(text)
    assert set(specs) == {"match_weights", "m_u_parameters", "waterfall"}
    # labelled levels: the table and the chart data
    assert "canonical (nickname)" in text
    labels = {r["label_for_charts"] for r in specs["match_weights"]["data"]["values"]}
    assert {"exact", "canonical (nickname)", "day/month swapped"} <= labels
    # tokens and record ids never reach the page
    assert SECRET_TOKEN not in text and "LA-REC-" not in text and "SYS-REC-" not in text
    bars = specs["waterfall"]["data"]["values"]
    assert {b["record_number"] for b in bars} == {0, 1, 2}
    assert all(b["value_l"] == "" and b["value_r"] == "" for b in bars)
    first = {b["column_name"]: b["log2_bayes_factor"] for b in bars if b["record_number"] == 0}
    assert first["Prior"] == pytest.approx(-10)
    assert [
        first[n] for n in ("given_name", "family_name", "dob", "address", "nhs_number", "sex")
    ] == pytest.approx([2] * 6)
    assert first["tf_and_caps"] == pytest.approx(6) and first["Final score"] == pytest.approx(8)
    review = {b["column_name"]: b for b in bars if b["record_number"] == 2}
    assert review["sex"]["log2_bayes_factor"] == pytest.approx(-2)
    assert review["tf_and_caps"]["label_for_charts"] == NET_ADJUSTMENT
    assert review["tf_and_caps"]["log2_bayes_factor"] == pytest.approx(1 - (-10 + 5 * 2 - 2))
    assert specs["waterfall"]["params"][0]["bind"]["max"] == 2  # the slider: 3 examples
    weight = math.log2(0.4 / 0.1)
    assert f"{weight:.4g}" in text  # the levels table shows weights


def test_index_lists_nights_newest_first_and_latest_is_the_newest(tmp_path):
    where = tmp_path / "linkage"
    for night in ("2026-11-01", "2026-11-03", "2026-11-02"):
        write_linkage_report(
            where / f"{night}_scheduled.html",
            route_counts={"deterministic": 1},
            pairs=pd.DataFrame({"match_weight": [], "match_probability": []}),
            review_queue_size=0,
            truth_metrics=None,
            night=night,
            run_id=f"scheduled__{night}T02:00:00+00:00",
        )
    index = write_linkage_index(where)
    html = index.read_text(encoding="utf-8")
    order = [
        html.index(f"scheduled__{n}T02:00:00+00:00")
        for n in ("2026-11-03", "2026-11-02", "2026-11-01")
    ]
    assert order == sorted(order)
    assert html.count(">latest<") == 1 and 'href="latest.html"' in html
    latest = (where / "latest.html").read_text(encoding="utf-8")
    assert latest == (where / "2026-11-03_scheduled.html").read_text(encoding="utf-8")
    assert 'href="index.html"' in latest


def test_a_model_the_charts_cannot_read_still_gives_the_report(tmp_path, caplog):
    out = write_linkage_report(
        tmp_path / "r.html",
        route_counts={"deterministic": 2},
        pairs=pd.DataFrame({"match_weight": [], "match_probability": []}),
        review_queue_size=0,
        truth_metrics=None,
        model={"comparisons": "not a list"},
        night="2026-11-02",
        run_id="run-1",
    )
    text = out.read_text(encoding="utf-8")
    assert 'id="routes"' in text and 'id="weights"' in text
    assert "Charts not drawn" in text and "vegaEmbed(" not in text
    assert "Splink's charts not drawn" in caplog.text
