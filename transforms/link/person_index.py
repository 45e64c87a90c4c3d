"""The person index: random, stable ``person_key``s over linked source records.

Clusters are the connected components of the accepted pair edges. Keys carry over
from the previous night's index by these rules (docs/linkage.md):

* a cluster whose records all had one key keeps it; new records joining it take it;
* **merge**: a cluster holding records of several old keys keeps the *oldest* key
  (first created night, then the key itself as a tie-break); the others are recorded
  ``merged_into`` the survivor and never reused;
* **split**: an old key whose records now fall into several clusters stays with the
  cluster holding most of them (ties: the cluster whose smallest record id sorts
  first); the other parts get new keys recorded ``split_from`` the old one;
* a cluster with no old key gets a new random key (``created``).

Keys are random surrogates (``P`` + 16 hex digits) and never derived from any
identifier or from the pseudonymisation key, so a key rotation changes none of them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from transforms.frames import arrow_strings, index_of

INDEX_COLUMNS = [
    "source", "source_record_id", "person_key", "record_status", "link_route",
    "link_probability", "first_seen_run", "last_changed_run",
]  # fmt: skip
HISTORY_COLUMNS = ["person_key", "event", "other_person_key", "records", "run_id", "night"]
ROUTE_PRIORITY = ["source_merge", "deterministic", "review", "probabilistic"]


def new_person_key() -> str:
    return "P" + secrets.token_hex(8)


def cluster_labels(uids: pd.Series, edges: pd.DataFrame) -> np.ndarray:
    """Component number for each uid (edges: uid_l, uid_r; unknown uids are ignored)."""
    # Arrow hash lookups: pandas' isin/reindex on str columns build a Python object per value
    left = index_of(edges["uid_l"], uids)
    right = index_of(edges["uid_r"], uids)
    known = (left >= 0) & (right >= 0)
    left, right = left[known], right[known]
    n = len(uids)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _record_link_attributes(uids: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """Per record (in ``uids`` order): its strongest route and its best edge probability
    (``singleton`` and 1.0 for a record with no edge). Positions by Arrow lookups and
    numpy reductions, not by sorting and grouping the edge ends by uid string."""
    n = len(uids)
    route = np.full(n, "singleton", dtype=object)
    prob = np.ones(n)
    if edges.empty:
        return pd.DataFrame({"link_route": route, "link_probability": prob})
    rank_of = {r: i for i, r in enumerate(ROUTE_PRIORITY)}
    unknown = set(edges["route"].unique()) - set(rank_of)
    if unknown:
        raise ValueError(f"unknown link routes {sorted(unknown)}")
    ranks = edges["route"].map(rank_of).to_numpy(dtype=np.int64)
    probs = pd.to_numeric(edges["match_probability"]).to_numpy(dtype=float, na_value=np.nan)
    best_rank = np.full(n, len(ROUTE_PRIORITY), dtype=np.int64)
    best_prob = np.full(n, -np.inf)
    for side in ("uid_l", "uid_r"):
        pos = index_of(edges[side], uids)
        hit = pos >= 0
        np.minimum.at(best_rank, pos[hit], ranks[hit])
        np.fmax.at(best_prob, pos[hit], probs[hit])  # missing probabilities ignored
    linked = best_rank < len(ROUTE_PRIORITY)
    route[linked] = np.asarray(ROUTE_PRIORITY, dtype=object)[best_rank[linked]]
    prob = np.where(np.isfinite(best_prob), best_prob, 1.0)
    return pd.DataFrame({"link_route": route, "link_probability": prob})


def _uids(frame: pd.DataFrame) -> pa.Array:
    """``source:source_record_id`` per row, as an Arrow array."""
    sep = pa.scalar(":", pa.large_string())
    return pc.binary_join_element_wise(
        arrow_strings(frame["source"]), arrow_strings(frame["source_record_id"]), sep
    )


def _codes(values: np.ndarray) -> np.ndarray:
    """Integer codes in the values' sorted order (ties and order as a string sort)."""
    return pd.factorize(values, sort=True)[0]


def assign_person_keys(
    records: pd.DataFrame,
    edges: pd.DataFrame,
    previous: pd.DataFrame,
    history: pd.DataFrame,
    *,
    run_id: str,
    night: object,
    make_key: Callable[[], str] = new_person_key,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tonight's index (INDEX_COLUMNS) and tonight's new history events (HISTORY_COLUMNS).

    ``records``: source, source_record_id, record_status (``Active``/``Merged``).
    ``edges``: uid_l, uid_r, route, match_probability (accepted links only).
    ``previous``: last night's index (INDEX_COLUMNS); ``history``: all earlier events.

    Strings are looked up in Arrow and sorted once into integer codes; every group and
    sort below is on integers, which pandas does far faster than on strings.
    """
    frame = records[["source", "source_record_id", "record_status"]].reset_index(drop=True)
    uid_arrow = _uids(frame)
    uid = pd.Series(uid_arrow.to_pandas(), dtype="str")
    if pc.count_distinct(uid_arrow).as_py() != len(uid_arrow):
        raise ValueError("person index input has duplicate source records")
    n = len(frame)
    cluster = cluster_labels(uid, edges)
    attributes = _record_link_attributes(uid, edges)

    # last night's key and runs per record (position -1: a record new tonight)
    at = index_of(uid_arrow, _uids(previous)) if len(previous) else np.full(n, -1)
    known = at >= 0

    def previous_column(col: str) -> np.ndarray:
        values = np.full(n, None, dtype=object)
        values[known] = previous[col].to_numpy(dtype=object)[at[known]]
        return values

    old_key = previous_column("person_key")
    has_old = known & pd.notna(old_key)

    created = history.loc[history["event"] == "created"].drop_duplicates("person_key")
    key_born = created.set_index("person_key")["night"].astype("string")
    retired = history.loc[history["event"] == "merged_into", "person_key"]

    # Each old key's home cluster: the one holding most of its records (ties: the
    # cluster whose smallest uid sorts first).
    keys_old, old_code = np.unique(old_key[has_old].astype(str), return_inverse=True)
    uid_rank = _codes(uid.to_numpy())
    counts = (
        pd.DataFrame({"old": old_code, "cluster": cluster[has_old], "rank": uid_rank[has_old]})
        .groupby(["old", "cluster"], sort=False)
        .agg(n=("rank", "size"), first=("rank", "min"))
        .reset_index()
    )
    counts = counts.sort_values(["old", "n", "first"], ascending=[True, False, True])
    home = counts.drop_duplicates("old")

    members = np.bincount(cluster, minlength=cluster.max() + 1 if n else 0)
    live = home[~np.isin(keys_old[home["old"].to_numpy()], retired.to_numpy(dtype=str))]
    cand = pd.DataFrame(
        {
            "cluster": live["cluster"].to_numpy(),
            "old": live["old"].to_numpy(),
            "born": pd.Series(keys_old[live["old"].to_numpy()])
            .map(key_born)
            .fillna("9999")
            .to_numpy(dtype=str),
        }
    ).sort_values(["cluster", "born", "old"])
    first_of_cluster = ~cand["cluster"].duplicated().to_numpy()
    survivors = cand[first_of_cluster]
    losers = cand[~first_of_cluster]
    survivor_of = pd.Series(survivors["old"].to_numpy(), index=survivors["cluster"].to_numpy())

    cluster_key = np.full(len(members), None, dtype=object)
    cluster_key[survivors["cluster"].to_numpy()] = keys_old[survivors["old"].to_numpy()]
    fresh = np.flatnonzero(pd.isna(cluster_key))
    cluster_key[fresh] = [make_key() for _ in range(len(fresh))]

    parents = counts[np.isin(counts["cluster"].to_numpy(), fresh)].sort_values(
        ["cluster", "n", "old"], ascending=[True, False, True]
    )
    parents = parents.drop_duplicates("cluster")
    loser_clusters = losers["cluster"].to_numpy()
    events = pd.concat(
        [
            _events(cluster_key[fresh], "created", None, members[fresh]),
            _events(
                cluster_key[parents["cluster"].to_numpy()],
                "split_from",
                keys_old[parents["old"].to_numpy()],
                members[parents["cluster"].to_numpy()],
            ),
            _events(
                keys_old[losers["old"].to_numpy()],
                "merged_into",
                keys_old[survivor_of.reindex(loser_clusters).to_numpy()],
                members[loser_clusters],
            ),
        ],
        ignore_index=True,
    ).assign(run_id=run_id, night=night)

    person_key = cluster_key[cluster]
    changed = ~has_old | (old_key != person_key)
    first_seen = previous_column("first_seen_run")
    last_changed = previous_column("last_changed_run")
    index = pd.DataFrame(
        {
            "source": frame["source"],
            "source_record_id": frame["source_record_id"],
            "person_key": person_key,
            "record_status": np.where(frame["record_status"].eq("Merged"), "merged", "active"),
            "link_route": attributes["link_route"].to_numpy(),
            "link_probability": attributes["link_probability"].to_numpy(),
            "first_seen_run": np.where(pd.isna(first_seen), run_id, first_seen),
            "last_changed_run": np.where(changed, run_id, last_changed),
        }
    )
    order = pc.sort_indices(
        pa.table(
            {"s": arrow_strings(frame["source"]), "r": arrow_strings(frame["source_record_id"])}
        ),
        sort_keys=[("s", "ascending"), ("r", "ascending")],
    )
    index = index.take(order.to_numpy()).reset_index(drop=True)
    return index[INDEX_COLUMNS], events[HISTORY_COLUMNS]


def _events(keys, event: str, other, records) -> pd.DataFrame:
    """History rows, one per cluster (``keys``, ``other`` and ``records`` aligned)."""
    return pd.DataFrame(
        {
            "person_key": np.asarray(keys, dtype=object),
            "event": event,
            "other_person_key": None if other is None else np.asarray(other, dtype=object),
            "records": np.asarray(records, dtype="int64"),
        }
    )
