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
from dataclasses import dataclass

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

    last = _LastNight(
        previous, index_of(uid_arrow, _uids(previous)) if len(previous) else np.full(n, -1)
    )
    old_key = last.column("person_key")
    has_old = last.known & pd.notna(old_key)
    carry = _carry_old_keys(old_key, has_old, cluster, uid, history)

    members = np.bincount(cluster, minlength=cluster.max() + 1 if n else 0)
    cluster_key, fresh = _cluster_keys(len(members), carry, make_key)
    events = _key_events(cluster_key, fresh, members, carry).assign(run_id=run_id, night=night)

    person_key = cluster_key[cluster]
    changed = ~has_old | (old_key != person_key)
    index = _tonights_index(frame, attributes, person_key, changed, last, run_id)
    return index[INDEX_COLUMNS], events[HISTORY_COLUMNS]


@dataclass(frozen=True)
class _LastNight:
    """Last night's index, and each of tonight's records' row in it (-1: new tonight)."""

    previous: pd.DataFrame
    at: np.ndarray

    @property
    def known(self) -> np.ndarray:
        return self.at >= 0

    def column(self, col: str) -> np.ndarray:
        """Last night's ``col`` per record of tonight (None for a new record)."""
        known = self.known
        values = np.full(len(self.at), None, dtype=object)
        values[known] = self.previous[col].to_numpy(dtype=object)[self.at[known]]
        return values


@dataclass(frozen=True)
class _Carry:
    """Which old keys carry over, as integer codes into ``keys_old`` (sorted).

    ``shares``: per old key and cluster, the records it has there (``n``) and the rank of
    the smallest of their uids (``first``), sorted by key, then ``n`` descending, then
    ``first``. ``survivors``: per cluster, the old key it keeps; ``losers``: the other
    live old keys whose home it is, which merge into the survivor.
    """

    keys_old: np.ndarray
    shares: pd.DataFrame
    survivors: pd.DataFrame
    losers: pd.DataFrame


def _carry_old_keys(
    old_key: np.ndarray,
    has_old: np.ndarray,
    cluster: np.ndarray,
    uid: pd.Series,
    history: pd.DataFrame,
) -> _Carry:
    """Each old key's home cluster: the one holding most of its records (ties: the
    cluster whose smallest uid sorts first). A cluster that is the home of several live
    keys keeps the oldest (first created night, then the key itself); a key already
    merged into another is never reused."""
    created = history.loc[history["event"] == "created"].drop_duplicates("person_key")
    key_born = created.set_index("person_key")["night"].astype("string")
    retired = history.loc[history["event"] == "merged_into", "person_key"]

    keys_old, old_code = np.unique(old_key[has_old].astype(str), return_inverse=True)
    uid_rank = _codes(uid.to_numpy())
    shares = (
        pd.DataFrame({"old": old_code, "cluster": cluster[has_old], "rank": uid_rank[has_old]})
        .groupby(["old", "cluster"], sort=False)
        .agg(n=("rank", "size"), first=("rank", "min"))
        .reset_index()
    )
    shares = shares.sort_values(["old", "n", "first"], ascending=[True, False, True])
    home = shares.drop_duplicates("old")

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
    return _Carry(keys_old, shares, cand[first_of_cluster], cand[~first_of_cluster])


def _cluster_keys(
    n_clusters: int, carry: _Carry, make_key: Callable[[], str]
) -> tuple[np.ndarray, np.ndarray]:
    """The key of each cluster (its surviving old key, else a new one) and the clusters
    given a new key."""
    survivors = carry.survivors
    cluster_key = np.full(n_clusters, None, dtype=object)
    cluster_key[survivors["cluster"].to_numpy()] = carry.keys_old[survivors["old"].to_numpy()]
    fresh = np.flatnonzero(pd.isna(cluster_key))
    cluster_key[fresh] = [make_key() for _ in range(len(fresh))]
    return cluster_key, fresh


def _key_events(
    cluster_key: np.ndarray, fresh: np.ndarray, members: np.ndarray, carry: _Carry
) -> pd.DataFrame:
    """``created`` for each new key; ``split_from`` for a new key whose cluster holds
    records of an old key (the old key with most records there, ties: the key that sorts
    first); ``merged_into`` for each losing old key."""
    keys_old, survivors, losers = carry.keys_old, carry.survivors, carry.losers
    survivor_of = pd.Series(survivors["old"].to_numpy(), index=survivors["cluster"].to_numpy())
    parents = carry.shares[np.isin(carry.shares["cluster"].to_numpy(), fresh)].sort_values(
        ["cluster", "n", "old"], ascending=[True, False, True]
    )
    parents = parents.drop_duplicates("cluster")
    loser_clusters = losers["cluster"].to_numpy()
    return pd.concat(
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
    )


def _tonights_index(
    frame: pd.DataFrame,
    attributes: pd.DataFrame,
    person_key: np.ndarray,
    changed: np.ndarray,
    last: _LastNight,
    run_id: str,
) -> pd.DataFrame:
    """One row per record, sorted by source and record id; a record's first-seen run
    carries over, and its last-changed run is tonight's when its key changed."""
    first_seen = last.column("first_seen_run")
    last_changed = last.column("last_changed_run")
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
    return index.take(order.to_numpy()).reset_index(drop=True)


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
