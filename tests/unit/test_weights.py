"""Survey weights (sim.weights): a stratified allocation, weights that stand for the population, and
aggregates that reduce to the plain ones without weights."""

from __future__ import annotations

import numpy as np
import pytest

from sim import weights
from sim.provinces import N_PROVINCES, population_shares


def test_stratified_counts_give_every_stratum_its_floor_and_the_rest_in_proportion():
    shares = population_shares([0.56, 0.22, 0.06, 0.07, 0.06, 0.03])
    counts = weights.stratified_counts(shares, 20_000, 300)
    assert counts.sum() == 20_000 and counts.min() >= 300
    free = counts > 300
    # the provinces above the floor share what is left in proportion to their people (to one agent)
    expected = shares[free] / shares[free].sum() * counts[free].sum()
    assert np.abs(counts[free] - expected).max() < 1.0
    assert np.array_equal(weights.stratified_counts(shares, 20_000, 0),
                          weights.stratified_counts(shares, 20_000, 0))
    proportional = weights.stratified_counts(shares, 20_000, 0)
    assert np.abs(proportional - shares * 20_000).max() < 1.0


def test_stratum_weights_sum_to_the_sample_and_give_each_stratum_its_people():
    shares = population_shares([0.56, 0.22, 0.06, 0.07, 0.06, 0.03])
    counts = weights.stratified_counts(shares, 20_000, 300)
    w = weights.stratum_weights(shares, counts, 20_000)
    assert (w * counts).sum() == pytest.approx(20_000, rel=1e-12)
    assert np.allclose(w * counts / 20_000, shares / shares.sum())
    floored = counts == 300  # over-sampled: each of their agents stands for fewer people than the others'
    assert shares.size == N_PROVINCES and floored.any() and (~floored).any()
    assert np.all(w[floored] <= w[~floored].min()) and w[~floored].min() > 1
    assert np.ptp(w[~floored]) < 0.01  # the others are sampled at one rate (up to a whole agent)


def test_unweighted_aggregates_are_exactly_numpys():
    rng = np.random.default_rng(0)
    flags, values = rng.random(1000) < 0.3, rng.random(1000)
    groups = rng.integers(0, 7, 1000)
    assert weights.total(flags, None) == np.count_nonzero(flags)
    assert weights.share(flags, None) == np.count_nonzero(flags) / 1000
    assert weights.mean(values, None) == float(np.mean(values))
    assert np.array_equal(weights.group_totals(groups, 7, None), np.bincount(groups, minlength=7))
    order = np.argsort(values)
    plain = np.empty(1000)
    plain[order] = (np.arange(1000) + 0.5) / 1000
    assert np.array_equal(weights.ranks(order, None), plain)
    thirds = [1 / 3, 2 / 3]
    assert np.array_equal(weights.quantiles(values, thirds, None), np.quantile(values, thirds))


def test_weighted_aggregates_count_people():
    rng = np.random.default_rng(1)
    w = rng.uniform(0.2, 3.0, 2000)
    w *= 2000 / w.sum()
    flags, values = rng.random(2000) < 0.4, rng.random(2000)
    assert weights.total(flags, w) == pytest.approx(w[flags].sum(), rel=1e-12)
    assert weights.mean(values, w) == pytest.approx(np.average(values, weights=w), rel=1e-12)
    # equal weights reproduce the plain statistics
    ones = np.ones(2000)
    assert weights.quantiles(values, [0.5], ones)[0] == np.quantile(values, 0.5, method="inverted_cdf")
    ranks = weights.ranks(np.argsort(values), w)
    assert ranks.min() > 0 and ranks.max() < 1
    assert np.all(np.diff(ranks[np.argsort(values)]) > 0)
    assert np.average(ranks, weights=w) == pytest.approx(0.5, abs=1e-12)  # ranks of the people


def test_draw_people_gives_every_candidate_the_same_chance_whatever_their_weight():
    rng = np.random.default_rng(2)
    w = np.where(np.arange(1000) < 500, 0.25, 1.75)  # half light, half heavy
    pool = np.arange(1000)
    chosen_light = chosen_heavy = 0
    for _ in range(400):
        chosen = weights.draw_people(pool, 100.0, w, rng)
        assert w[chosen].sum() <= 100.0 + 1e-9 and w[chosen].sum() > 100.0 - 1.75
        chosen_light += np.count_nonzero(chosen < 500)
        chosen_heavy += np.count_nonzero(chosen >= 500)
    # a real person's chance is the same in both halves: as many light as heavy citizens are chosen
    assert chosen_light / chosen_heavy == pytest.approx(1.0, abs=0.05)
    assert weights.draw_people(pool, 1e9, w, rng).size == 1000  # more money than candidates: all of them
    plain = weights.draw_people(pool, 10.0, None, np.random.default_rng(3))
    assert plain.size == 10 and np.array_equal(plain, np.sort(plain))
