"""One-to-one matching of two de-duplicated files and its links' probabilities
(:mod:`transforms.two_file.bipartite`): pure numpy, every figure worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from transforms.two_file.bipartite import log_prior, no_match_weight, one_to_one_links


def links(pairs: list[tuple[str, str, float]], n_left: int, n_right: int, start: int):
    left, right, lr = zip(*pairs, strict=True)
    return one_to_one_links(list(left), list(right), np.array(lr), n_left, n_right, start)


def test_no_match_weight_is_the_prior_ratio_of_one_link_fewer():
    # (n_left - n12 + 1) (n_right - n12 + 1) / n12
    assert no_match_weight(5000, 5000, 4990) == pytest.approx(11 * 11 / 4990)
    assert no_match_weight(5000, 3000, 1000) == pytest.approx(4001 * 2001 / 1000)
    assert no_match_weight(10, 10, 1) == 100  # the last link: 1 / n_left n_right
    assert no_match_weight(10, 10, 0) == 100  # never divides by zero


def test_a_record_whose_better_candidate_is_taken_links_to_its_own():
    """b's best candidate x is a's far better one; with a-x linked, b's weaker y is the
    only partner left to it. Between two files of these two people alone that is
    near-certain; in files of 1,000 records, where most have no partner, it is not."""
    pairs = [("a", "x", 1e9), ("b", "x", 1e5), ("b", "y", 50.0)]
    small = links(pairs, 2, 2, start=2)
    assert small[0] > 0.99 and small[1] == 0 and small[2] > 0.98
    # U at n12 = 2: 1 x 1 / 2; the steal (b -> x, a and y left alone): 1e5 U / (50 1e9)
    assert small[2] == pytest.approx(1 / (1 + 0.5 / 50 + 1e5 * 0.5 / (50 * 1e9)))
    big = links(pairs, 1000, 1000, start=2)
    assert big[0] > 0.99 and big[1] == 0 and big[2] == 0  # 50 < U(2) = 999 x 999 / 2


def test_two_equal_candidates_leave_the_link_uncertain():
    # x has two free candidates alike: whichever is linked, the other is its rival
    got = links([("a", "x", 1e4), ("b", "x", 1e4)], 2, 1, start=1)
    assert sorted(got.tolist())[0] == 0  # one link, not two
    assert max(got) == pytest.approx(1 / (1 + 2 * 1 / 1e4 + 1), rel=1e-3)
    assert max(got) < 0.5


def test_a_swap_of_partners_as_likely_is_a_rival():
    """a-x and b-y as likely as a-y and b-x: each link is a coin toss."""
    got = links([("a", "x", 1e4), ("b", "y", 1e4), ("a", "y", 1e4), ("b", "x", 1e4)], 2, 2, 2)
    assert (got > 0).sum() == 2
    assert got.max() < 0.5
    # the crossed pairs ten times weaker: the swap's ratio is 1/100 for each link
    got = links([("a", "x", 1e4), ("b", "y", 1e4), ("a", "y", 1e3), ("b", "x", 1e3)], 2, 2, 2)
    assert got[2] == got[3] == 0 and got[0] == pytest.approx(got[1])
    u = no_match_weight(2, 2, 2)
    # dropped; x to b (b's y then to a, the swap, or to nothing); a to y (b to nothing)
    ratio = u / 1e4 + 1e3 * (1e3 + u) / (1e4 * 1e4) + 1e3 * u / (1e4 * 1e4)
    assert got[0] == pytest.approx(1 / (1 + ratio))


def test_the_matching_does_not_hang_on_its_seed():
    """A seed of one match (U too large for any pair) or of all: the same links, as the
    passes of conditional modes add what the greedy pass left out."""
    rng = np.random.default_rng(3)
    n = 200
    pairs = [(f"l{i}", f"r{i}", float(rng.uniform(5, 1e4))) for i in range(n)]
    pairs += [(f"l{i}", f"r{(i + 1) % n}", float(rng.uniform(0.1, 5))) for i in range(n)]
    low, high = links(pairs, n, n, start=1), links(pairs, n, n, start=n)
    assert (low > 0).sum() == (high > 0).sum() == n
    np.testing.assert_allclose(low, high)
    assert (high[:n] > 0).all() and (high[n:] == 0).all()


def test_no_pairs():
    assert one_to_one_links([], [], np.zeros(0), 5, 5, 1).size == 0


def test_the_prior_of_one_link_fewer_is_u():
    for n_left, n_right, n12 in ((5000, 5000, 4990), (300, 7000, 12), (3, 4, 1)):
        ratio = math.exp(log_prior(n_left, n_right, n12 - 1) - log_prior(n_left, n_right, n12))
        assert ratio == pytest.approx(no_match_weight(n_left, n_right, n12))


def test_a_pair_given_twice_is_refused():
    with pytest.raises(ValueError, match="more than once"):
        links([("a", "x", 10.0), ("a", "x", 20.0)], 1, 1, 1)


def test_random_matchings_are_one_to_one_and_cannot_gain_a_link():
    """Random candidate graphs and seeds: no record is in two links, and no pair of two
    unlinked records is worth more than U (the search stops only where adding a link
    would not raise the posterior)."""
    rng = np.random.default_rng(11)
    for _ in range(100):
        n, k = int(rng.integers(5, 60)), int(rng.integers(1, 6))
        left = np.repeat(np.arange(n), k)
        right = rng.integers(0, n, n * k)
        _, first = np.unique(left * 1000 + right, return_index=True)
        left, right = left[first], right[first]
        lr = rng.lognormal(2, 4, left.size)
        n_left, n_right = n + int(rng.integers(0, 30)), n + int(rng.integers(0, 30))
        got = one_to_one_links(left, right, lr, n_left, n_right, int(rng.integers(1, n)))
        linked = got > 0
        assert not pd.Series(left[linked]).duplicated().any()
        assert not pd.Series(right[linked]).duplicated().any()
        free = ~np.isin(left, left[linked]) & ~np.isin(right, right[linked])
        u = no_match_weight(n_left, n_right, int(linked.sum()) + 1)
        assert not (lr[free] > u).any()
