"""Linkage accuracy against ground truth: pairwise precision, recall and F1.

``evaluate_against_truth`` takes either scored pairs (``source_l, source_record_id_l,
source_r, source_record_id_r``) or clusters (``source, source_record_id`` and a
``cluster_id`` / ``person_key`` column) and the truth (``source, source_record_id,
true_person_id``), and gives pairwise precision, recall and F1 overall, cross-system
(different sources) and within-system (same source). Clusters are scored by the pairs
they imply (every two records in one cluster), which is what a person index publishes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    true_counts = _truth_pair_counts(truth)
    cols = set(pairs_or_clusters.columns)
    if set(PAIR_KEYS) <= cols:
        return _evaluate_pairs(pairs_or_clusters, truth, true_counts)
    cluster_col = next((c for c in ("cluster_id", "person_key") if c in cols), None)
    if cluster_col is None:
        raise ValueError("expected pairs (source_l, ...) or clusters (cluster_id/person_key)")
    return _evaluate_clusters(pairs_or_clusters, cluster_col, truth, true_counts)


def _evaluate_pairs(pairs: pd.DataFrame, truth: pd.DataFrame, true_counts: tuple[int, int]) -> dict:
    """Every given pair is a predicted link; pairs with a record outside the truth are
    left out."""
    p = pairs[PAIR_KEYS].astype(str)
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
        *true_counts,
    )
    result["mode"] = "pairs"
    return result


def _evaluate_clusters(
    clusters: pd.DataFrame, cluster_col: str, truth: pd.DataFrame, true_counts: tuple[int, int]
) -> dict:
    """Every two records of one cluster are a predicted link."""
    c = clusters[["source", "source_record_id", cluster_col]].copy()
    c["source"] = c["source"].astype(str)
    c["source_record_id"] = c["source_record_id"].astype(str)
    merged = c.merge(truth, on=["source", "source_record_id"], how="inner")
    merged = _coded(merged, [cluster_col, "true_person_id", "source"])
    pred_x, pred_w = _pairs_in_groups(merged, [cluster_col])
    tp_x, tp_w = _pairs_in_groups(merged, [cluster_col, "true_person_id"])
    result = _metrics(tp_x, tp_w, pred_x, pred_w, *true_counts)
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
