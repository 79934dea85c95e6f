"""Survey weights: in a stratified sample, citizen agents stand for different numbers of people.

By default every province gets citizens in proportion to its people, and each citizen agent stands for
``people_per_citizen`` people: every aggregate is a plain count or mean. With
``population.province_min_share`` above 0 the sample is stratified by province: every province gets at
least that share of the agents (the smallest provinces are over-sampled, the others slightly
under-sampled), so that a province's figures rest on enough agents, and each citizen carries a survey
weight, the people they stand for over ``people_per_citizen`` (mean 1 over the citizens;
Horvitz-Thompson). Every
aggregate over citizens that stands for the population (a share, a mean, a count of people, a quantile,
a rank, the money a lever spends, a neighbour's influence) is then weighted.

This module is the one home of those aggregates: each takes ``weight`` None for the proportional
sample and then computes exactly what the unweighted count or mean computes (the same numbers bit for
bit, so a run without stratification does not change).
"""

from __future__ import annotations

import numpy as np


def total(mask: np.ndarray, weight: np.ndarray | None) -> float:
    """People-equivalents with ``mask`` set: their number, or the sum of their weights."""
    if weight is None:
        return np.count_nonzero(mask)
    # einsum multiplies by the flags without converting them to floats first (several times faster than
    # a masked sum); not np.dot, whose BLAS threads keep spinning after it returns (sim.metrics)
    return float(np.einsum("i,i->", weight, mask))


def share(mask: np.ndarray, weight: np.ndarray | None) -> float:
    """Share of the population with ``mask`` set. The people all citizens stand for are their number
    with or without weights (the weights are scaled to sum to it, :func:`stratum_weights`; their float
    sum differs only in the last digits)."""
    return total(mask, weight) / mask.size


def mean(values: np.ndarray, weight: np.ndarray | None) -> float:
    """Population mean of ``values``."""
    if weight is None:
        return float(np.mean(values))
    return float(np.einsum("i,i->", weight, values) / weight.sum())


def of_rows(rows: np.ndarray, weight: np.ndarray | None) -> float:
    """People-equivalents of the citizens ``rows`` (indices): their number, or their total weight."""
    return int(rows.size) if weight is None else float(weight[rows].sum())


def group_totals(groups: np.ndarray, n_groups: int, weight: np.ndarray | None,
                 values: np.ndarray | None = None) -> np.ndarray:
    """Per group: the people in it (``values`` None) or the sum of their ``values``, float64."""
    if weight is None:
        if values is None:
            return np.bincount(groups, minlength=n_groups).astype(np.float64)
        return np.bincount(groups, weights=values, minlength=n_groups)
    w = weight if values is None else weight * values
    return np.bincount(groups, weights=w, minlength=n_groups)


def ranks(order: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Fractional ranks in (0, 1) of citizens listed in ``order`` (poorest first): the midpoint of each
    citizen's slice of the population, weighted by the people they stand for."""
    n = order.size
    rank = np.empty(n)
    if weight is None:
        rank[order] = (np.arange(n) + 0.5) / n
        return rank
    w = weight[order]
    cumulative = np.cumsum(w)
    rank[order] = (cumulative - 0.5 * w) / cumulative[-1]
    return rank


def quantiles(values: np.ndarray, q: list[float], weight: np.ndarray | None) -> np.ndarray:
    """Population quantiles of ``values`` (numpy's default definition without weights; with weights
    the value at which the cumulative weight first reaches each fraction)."""
    if weight is None:
        return np.quantile(values, q)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weight[order])
    at = np.searchsorted(cumulative, np.asarray(q) * cumulative[-1], side="left")
    return values[order[np.minimum(at, values.size - 1)]]


def draw_people(pool: np.ndarray, people: float, weight: np.ndarray | None,
                rng: np.random.Generator) -> np.ndarray:
    """Indices (sorted) of citizens from ``pool`` (indices) chosen at random, each with the same
    chance, until they stand for ``people`` (whole agents without weights: ``round(people)`` of them).

    With weights the citizens come in a random order and are taken while their total weight stays within
    ``people``: every candidate has the same chance to be chosen (a real person's chance), so a province's
    share of those chosen is its share of the candidates, whatever its sampling rate."""
    if weight is None:
        k = min(int(round(people)), pool.size)
        return np.sort(rng.choice(pool, size=k, replace=False)) if k > 0 else pool[:0]
    if pool.size == 0 or people <= 0:
        return pool[:0]
    # A random order of the pool, drawn only as far as it can be needed: no citizen weighs less than
    # the lightest, so ``people / lightest`` of them always stand for at least ``people``.
    enough = int(np.ceil(people / float(weight.min()))) + 1
    order = rng.choice(pool, size=enough, replace=False) if enough < pool.size else rng.permutation(pool)
    within = np.cumsum(weight[order]) <= people + 1e-9
    return np.sort(order[: int(np.count_nonzero(within))])


def stratified_counts(shares: np.ndarray, n: int, floor: int) -> np.ndarray:
    """Agents per stratum: at least ``floor`` each, the rest in proportion to ``shares``.

    Strata whose proportional count falls below the floor get the floor; the others share what is left
    in proportion to their shares (repeated until no stratum falls below), and whole numbers come from the
    largest remainders. ``n`` must be at least ``floor`` times the number of strata."""
    k = shares.size
    floored = np.zeros(k, dtype=bool)
    while True:
        rest = n - floor * np.count_nonzero(floored)
        free = shares * ~floored
        target = np.where(floored, float(floor), rest * free / free.sum())
        below = ~floored & (target < floor)
        if not below.any():
            break
        floored |= below
    counts = np.floor(target).astype(np.int64)
    short = n - int(counts.sum())
    if short:
        counts[np.argsort(-(target - counts), kind="stable")[:short]] += 1
    return counts


def stratum_weights(shares: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Survey weight of one agent of each stratum: its people over its agents, relative to the mean
    (``shares * n / counts``; the weights of all agents sum to ``n``)."""
    people = shares / shares.sum() * n  # the shares may miss 1 by rounding (validated to 1e-6)
    return np.divide(people, counts, out=np.zeros(shares.size), where=counts > 0)
