"""Clerical review decisions override the model, on every route, on every later night."""

from __future__ import annotations

import pandas as pd

from transforms.link.comparisons import MATCH_THRESHOLD, REVIEW_BAND
from transforms.link.edges import link_edges

HIGH = (MATCH_THRESHOLD + 1) / 2
MIDDLE = sum(REVIEW_BAND) / 2


def people(*uids: str, merged: dict | None = None) -> pd.DataFrame:
    merged = merged or {}
    rows = []
    for uid in uids:
        source, rid = uid.split(":")
        rows.append(
            {
                "source": source,
                "source_record_id": rid,
                "record_status": "Merged" if uid in merged else "Active",
                "merged_into_record_id": merged.get(uid, "").split(":")[-1] or None,
            }
        )
    return pd.DataFrame(rows)


def scored(*pairs: tuple[str, str, float]) -> pd.DataFrame:
    rows = []
    for left, right, p in pairs:
        (sl, rl), (sr, rr) = left.split(":"), right.split(":")
        rows.append(
            {
                "source_l": sl, "source_record_id_l": rl, "source_r": sr,
                "source_record_id_r": rr, "match_probability": p, "match_weight": 1.0,
                "gamma_dob": 3, "uid_l": left, "uid_r": right,
            }
        )  # fmt: skip
    columns = ["source_l", "source_record_id_l", "source_r", "source_record_id_r",
               "match_probability", "match_weight", "gamma_dob", "uid_l", "uid_r"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def decisions(*rows: tuple[str, str, str]) -> pd.DataFrame:
    out = []
    for left, right, decision in rows:
        (sl, rl), (sr, rr) = left.split(":"), right.split(":")
        out.append(
            {"source_l": sl, "source_record_id_l": rl, "source_r": sr,
             "source_record_id_r": rr, "decision": decision}
        )  # fmt: skip
    return pd.DataFrame(
        out,
        columns=["source_l", "source_record_id_l", "source_r", "source_record_id_r", "decision"],
    )


def deterministic(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"uid_l": a, "uid_r": b, "route": "deterministic", "match_probability": 1.0}
         for a, b in pairs],
        columns=["uid_l", "uid_r", "route", "match_probability"],
    )  # fmt: skip


def edge_set(edges: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(edges[["uid_l", "uid_r", "route"]].itertuples(index=False, name=None))


EVERYONE = people("dcc:A", "dcc:B", "dchs:C", "dchs:D", "dchs:E")


def test_without_decisions_routes_follow_the_thresholds():
    edges, review, counts = link_edges(
        deterministic(("dcc:A", "dchs:C")),
        scored(("dcc:B", "dchs:D", HIGH), ("dchs:D", "dchs:E", MIDDLE)),
        decisions(),
        EVERYONE,
    )
    assert edge_set(edges) == {
        ("dcc:A", "dchs:C", "deterministic"),
        ("dcc:B", "dchs:D", "probabilistic"),
    }
    assert review[["uid_l", "uid_r"]].to_numpy().tolist() == [["dchs:D", "dchs:E"]]
    assert counts["deterministic_pairs"] == 1 and counts["probabilistic_pairs"] == 1


def test_a_non_match_decision_removes_a_model_pair_and_a_deterministic_one():
    edges, review, counts = link_edges(
        deterministic(("dcc:A", "dchs:C")),
        scored(("dcc:B", "dchs:D", HIGH)),
        decisions(("dchs:C", "dcc:A", "non-match"), ("dcc:B", "dchs:D", "non-match")),
        EVERYONE,
    )
    assert edges.empty and review.empty
    assert counts["review_non_match_pairs"] == 2


def test_a_match_decision_links_a_pair_the_model_scores_low_or_never_scored():
    edges, review, _ = link_edges(
        deterministic(),
        scored(("dchs:D", "dchs:E", MIDDLE)),
        decisions(("dchs:E", "dchs:D", "match"), ("dcc:A", "dcc:B", "match")),
        EVERYONE,
    )
    assert edge_set(edges) == {("dchs:D", "dchs:E", "review"), ("dcc:A", "dcc:B", "review")}
    assert review.empty  # a decided pair never returns to the queue


def test_the_latest_decision_on_a_pair_wins():
    edges, _, _ = link_edges(
        deterministic(),
        scored(("dchs:D", "dchs:E", HIGH)),
        decisions(("dchs:D", "dchs:E", "match"), ("dchs:E", "dchs:D", "non-match")),
        EVERYONE,
    )
    assert edges.empty


def test_dcc_merges_are_edges():
    edges, _, counts = link_edges(
        deterministic(), scored(), decisions(), people("dcc:A", "dcc:B", merged={"dcc:B": "dcc:A"})
    )
    assert edge_set(edges) == {("dcc:B", "dcc:A", "source_merge")}
    assert counts["source_merges"] == 1
