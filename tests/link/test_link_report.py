"""Linkage report (offline HTML) and evaluation against ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transforms.link.report import (
    clusters_from_pairs,
    evaluate_against_truth,
    write_linkage_report,
)

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


def test_report_has_sections_and_no_scripts(tmp_path):
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
    assert text.count("<svg") >= 3
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
