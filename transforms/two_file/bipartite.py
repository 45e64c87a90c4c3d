"""One-to-one links between two de-duplicated files, with each link's probability under
a prior over one-to-one matchings.

Two files that each hold a person at most once are linked by a *matching*: a set of
LEFT x RIGHT pairs in which no record appears twice. Following Sadinle (2017,
"Bayesian estimation of bipartite matchings for record linkage", JASA 112:518), the
prior over matchings depends only on their size ``n12`` (a uniform prior on the share
of records that have a match, ``alpha = beta = 1``), and the data enter through each
pair's likelihood ratio ``LR = m / u`` from the Splink model. Up to a constant,

    P(M | data)  ∝  prior(|M|) * prod_{(i, j) in M} LR_ij,

and taking one link out of a matching of size ``n12`` multiplies the prior by

    U(n12) = (n_left - n12 + 1) * (n_right - n12 + 1) / n12,

the "weight of no match": a link is worth having when its LR is larger than U. Where
few records of either file are left without a link (two files of the same people), U
is small and a modest LR is enough; where many are left (files that overlap little), U
is large and a link needs strong evidence. This is what a person reconciling two lists
by hand does: once most records have found their partner, the few left on each side
are most likely each other's.

:func:`best_matching` finds the matching of (locally) highest posterior: pairs taken
greedily by LR while LR > U, then each record in turn moved to its best free candidate
or left without one (iterated conditional modes) until nothing changes.

:func:`link_probabilities` gives each link ``(i, j)`` of that matching the posterior
probability of the matching against its neighbours, the matchings one move away that
lack the link:

* the link dropped (ratio ``U / LR_ij``);
* ``j`` linked to a record ``k`` without a link instead (``LR_kj / LR_ij``), or ``i``
  to a free ``l`` (``LR_il / LR_ij``);
* ``j`` linked to ``k`` that has its own link ``(k, j')``, and ``i`` then to ``j'``
  (a swap: ``LR_kj LR_ij' / (LR_ij LR_kj')``) or to nothing (``U LR_kj / (LR_ij
  LR_kj')``); and the same from ``i``'s side.

``P(i, j) = 1 / (1 + sum of those ratios)``. So a link whose records have close rivals
without a partner, or whose rivals' own links are weak, stays uncertain; and a link
among records that have no other plausible partner is as certain as its LR against U.
Pairs outside the matching get no probability (0). Only the model's likelihood ratios
and the file sizes are read: no answers.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: Passes of iterated conditional modes at most; on FEBRL 4 one or two are enough.
MAX_PASSES = 50


def no_match_weight(n_left: int, n_right: int, n12: int) -> float:
    """U: the prior's factor for a matching with one link fewer than ``n12`` (>= 1)."""
    n12 = max(int(n12), 1)
    return (n_left - n12 + 1) * (n_right - n12 + 1) / n12


def log_prior(n_left: int, n_right: int, n12: int) -> float:
    """log of the prior of one matching of size ``n12`` (up to a constant):
    ``(n_left - n12)! / n_left! * B(n12 + 1, n_right - n12 + 1)``."""
    return (
        math.lgamma(n_left - n12 + 1)
        + math.lgamma(n12 + 1)
        + math.lgamma(n_right - n12 + 1)
        - math.lgamma(n_right + 2)
    )


def log_posterior(pairs: _Pairs, matched: np.ndarray, n_left: int, n_right: int) -> float:
    """log P(matching | data) up to a constant: its prior and its links' log LR."""
    n12 = int(matched.sum())
    return log_prior(n_left, n_right, n12) + float(np.log(pairs.lr[matched]).sum())


@dataclass
class _Pairs:
    """Candidate pairs as integer codes, with each record's pairs (CSR)."""

    left: np.ndarray  # LEFT record code per pair
    right: np.ndarray  # RIGHT record code per pair
    lr: np.ndarray
    by_left: list[np.ndarray]  # pair indices of each LEFT record
    by_right: list[np.ndarray]

    @classmethod
    def of(cls, record_id_l, record_id_r, lr: np.ndarray) -> _Pairs:
        left, _ = pd.factorize(np.asarray(record_id_l))
        right, _ = pd.factorize(np.asarray(record_id_r))
        pairs = cls(left, right, np.asarray(lr, dtype="float64"), _groups(left), _groups(right))
        if pairs.keys().has_duplicates:
            raise ValueError("a (record_id_l, record_id_r) pair is given more than once")
        return pairs

    def keys(self, left: np.ndarray | None = None, right: np.ndarray | None = None) -> pd.Index:
        """One integer per (LEFT, RIGHT) pair of codes: of every candidate pair, or of
        ``left`` x ``right`` given."""
        left = self.left if left is None else left
        right = self.right if right is None else right
        return pd.Index(left.astype("int64") * len(self.by_right) + right)


def _groups(codes: np.ndarray) -> list[np.ndarray]:
    if codes.size == 0:
        return []
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def best_matching(pairs: _Pairs, n_left: int, n_right: int, start_n12: int) -> np.ndarray:
    """The matching as a boolean mask over the pairs (see the module docstring)."""
    n_pairs = pairs.lr.size
    lr = pairs.lr
    link_of_left = np.full(len(pairs.by_left), -1)
    link_of_right = np.full(len(pairs.by_right), -1)
    greedy = _greedy(pairs, no_match_weight(n_left, n_right, start_n12))
    link_of_left[pairs.left[greedy]] = greedy
    link_of_right[pairs.right[greedy]] = greedy
    n12 = int(greedy.size)
    sides = (
        (pairs.right, pairs.left, link_of_right, link_of_left, pairs.by_right),
        (pairs.left, pairs.right, link_of_left, link_of_right, pairs.by_left),
    )
    passes = 0
    while passes < MAX_PASSES:
        passes += 1
        moves = 0
        for own, other, link_of_own, link_of_other, groups in sides:
            # only the records whose best move is not to stay (checked for all at once)
            for r in _unsettled(own, other, link_of_own, link_of_other, lr, n_left, n_right, n12):
                current = link_of_own[r]
                # keeping a link weighs it against U(n12); adding one, against U(n12 + 1)
                u = no_match_weight(n_left, n_right, n12 + (current < 0))
                cand = groups[r]
                choice = _best_move(cand, current, link_of_other[other[cand]], lr, u)
                if choice == current:
                    continue
                moves += 1
                if current >= 0:
                    link_of_other[other[current]] = -1
                    n12 -= 1
                link_of_own[r] = choice
                if choice >= 0:
                    link_of_other[other[choice]] = choice
                    n12 += 1
        if not moves:
            break
    log.info("one-to-one matching: %d links after %d pass(es) of %d pairs", n12, passes, n_pairs)
    mask = np.zeros(n_pairs, dtype=bool)
    mask[link_of_left[link_of_left >= 0]] = True
    return mask


def _best_move(cand: np.ndarray, current: int, held: np.ndarray, lr: np.ndarray, u: float) -> int:
    """A record's best link (a pair index) or -1 (none), given its candidate pairs
    ``cand``, its link ``current`` (-1: none), the links ``held`` by the other records
    of its pairs, and U: its best free candidate if worth more than U, the current link
    on a tie."""
    free = cand[(held < 0) | (held == current)]  # unlinked, or linked to this record
    best = free[np.argmax(lr[free])] if free.size else -1
    if current >= 0 and best >= 0 and lr[best] <= lr[current]:
        best = current
    return best if best >= 0 and lr[best] > u else -1


def _greedy(pairs: _Pairs, u: float) -> np.ndarray:
    """Pairs taken best LR first while LR > u, each record once (as indices): in rounds,
    every pair that is the best (highest LR) of both its records is taken at once, which
    is what taking them one by one in order of LR gives (ties broken by position)."""
    alive = np.flatnonzero(pairs.lr > u)
    taken = []
    while alive.size:
        lr = pairs.lr[alive]
        best_of_left = _first_per_group(pairs.left[alive], lr)
        best_of_right = _first_per_group(pairs.right[alive], lr)
        mutual = np.intersect1d(alive[best_of_left], alive[best_of_right], assume_unique=True)
        taken.append(mutual)
        used_l = np.zeros(len(pairs.by_left), dtype=bool)
        used_r = np.zeros(len(pairs.by_right), dtype=bool)
        used_l[pairs.left[mutual]] = True
        used_r[pairs.right[mutual]] = True
        alive = alive[~used_l[pairs.left[alive]] & ~used_r[pairs.right[alive]]]
    return np.concatenate(taken) if taken else np.zeros(0, dtype=int)


def _first_per_group(codes: np.ndarray, lr: np.ndarray) -> np.ndarray:
    """Positions of each group's highest LR (the first such, by position)."""
    order = np.lexsort((np.arange(codes.size), -lr, codes))
    first = np.ones(order.size, dtype=bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    return order[first]


def _unsettled(own, other, link_of_own, link_of_other, lr, n_left, n_right, n12) -> np.ndarray:
    """Records of one side (codes) that a move would improve, as things stand: a linked
    one whose link is worth less than U(n12) or that has a free candidate of higher LR,
    an unlinked one with a free candidate worth more than U(n12 + 1)."""
    every = np.arange(lr.size)
    held = link_of_other[other]
    free = (held < 0) | (held == every)  # the other record unlinked, or linked by this pair
    best = np.zeros(link_of_own.size)
    np.maximum.at(best, own[free], lr[free])
    linked = link_of_own >= 0
    now = np.where(linked, lr[np.where(linked, link_of_own, 0)], 0.0)
    worse = linked & ((now <= no_match_weight(n_left, n_right, n12)) | (best > now))
    better = ~linked & (best > no_match_weight(n_left, n_right, n12 + 1))
    return np.flatnonzero(worse | better)


def link_probabilities(pairs: _Pairs, matched: np.ndarray, n_left: int, n_right: int) -> np.ndarray:
    """Each matched pair's probability against the matchings one move away (module
    docstring); 0 for pairs outside the matching."""
    lr, left, right = pairs.lr, pairs.left, pairs.right
    n_pairs = lr.size
    links = np.flatnonzero(matched)
    u = no_match_weight(n_left, n_right, links.size)
    link_of_left = np.full(len(pairs.by_left), -1)
    link_of_right = np.full(len(pairs.by_right), -1)
    link_of_left[left[links]] = links
    link_of_right[right[links]] = links
    ratio = np.zeros(n_pairs)
    ratio[links] = u / lr[links]  # the link dropped
    every = np.arange(n_pairs)
    # j's other candidates k (pair q = (k, j) beside the link p = (i, j)): k free (j
    # re-linked to k), or k linked to j2 (k taken from j2, which is then left alone, or
    # swapped onto i if (i, j2) is a candidate). Then i's other candidates l (q = (i, l)):
    # l free, or taken from its own i2 (the swap is counted once, from j's side).
    for shared, link_of_shared, other, link_of_other, swaps in (
        (right, link_of_right, left, link_of_left, True),
        (left, link_of_left, right, link_of_right, False),
    ):
        p = link_of_shared[shared]
        q = np.flatnonzero((p >= 0) & (p != every))
        p, held = p[q], link_of_other[other[q]]
        free = held < 0
        ratio += np.bincount(p[free], weights=lr[q[free]] / lr[p[free]], minlength=n_pairs)
        q, p, held = q[~free], p[~free], held[~free]
        alone_or_swapped = u + (_lr_of(pairs, left[p], right[held]) if swaps else 0.0)
        taken = lr[q] * alone_or_swapped / (lr[p] * lr[held])
        ratio += np.bincount(p, weights=taken, minlength=n_pairs)
    out = np.zeros(n_pairs)
    out[links] = 1.0 / (1.0 + ratio[links])
    return out


def _lr_of(pairs: _Pairs, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """LR of the pairs (left, right) given as codes; 0 where the pair is no candidate."""
    at = pairs.keys().get_indexer(pairs.keys(left, right))  # -1: no such pair
    return np.where(at >= 0, pairs.lr[at], 0.0)


def one_to_one_links(
    record_id_l, record_id_r, lr: np.ndarray, n_left: int, n_right: int, start_n12: int
) -> np.ndarray:
    """Probability of each candidate pair as a link of the best one-to-one matching
    (0 outside it). ``lr``: the pairs' likelihood ratios; ``start_n12``: an estimate of
    the number of matches, which seeds the greedy pass. A second search is seeded with
    every record matched; the one of higher posterior is kept (conditional modes alone
    cannot leave the empty matching, whose first link costs U(1) = n_left * n_right)."""
    pairs = _Pairs.of(record_id_l, record_id_r, lr)
    if pairs.lr.size == 0:
        return np.zeros(0)
    best, best_score = None, -math.inf
    for seed in dict.fromkeys((int(start_n12), min(n_left, n_right))):
        matched = best_matching(pairs, n_left, n_right, seed)
        score = log_posterior(pairs, matched, n_left, n_right)
        if score > best_score:
            best, best_score = matched, score
    return link_probabilities(pairs, best, n_left, n_right)
