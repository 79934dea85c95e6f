"""Neighbour products on the citizens' social network: shares and means over each citizen's ties.

The social network is a CSR matrix, so "share of neighbours using" for everyone is one sparse product.
This module owns the derived arrays those products reuse every month (safe degrees, the isolated
citizens) and the tracked counts of flags that change for few citizens a month. :class:`sim.state.State`
delegates to it, so rules ask the state and never see the caches.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy import sparse

from sim.parallel import Pending, begin_product, product, row_halves, row_parts


def neighbour_share(
    adjacency: sparse.csr_array | None,
    degree: np.ndarray,
    cache: NetworkCache | None,
    values: np.ndarray,
    rows: np.ndarray | None = None,
    track: str | None = None,
) -> np.ndarray:
    """Share of each citizen's neighbours for whom ``values`` is true (one sparse product).

    With ``rows`` (citizen indices), only those citizens' shares are computed, from their rows
    of the adjacency alone when they are few. Boolean flags are counted in float32 against the
    float32 adjacency: the counts are exact (whole numbers below 2**24) and the product reads
    half the memory of a float64 one. On a network weighted by survey weights
    (:func:`sim.networks.weighted_by_neighbour`) the share is of the neighbours' weight.

    With ``track`` (a name, e.g. ``"aware"``), the counts of a boolean flag are kept from one
    call to the next and updated from the citizens whose flag changed since the last call (the
    rows of the adjacency for those citizens only). The result is exactly that of the full
    product; flags that change for few citizens a month then cost almost nothing.
    ``adjacency`` None means mean field (everyone is everyone's neighbour).
    """
    n = values.size
    degree_rows = degree if rows is None else degree[rows]
    if adjacency is None:
        total = np.count_nonzero(values) if values.dtype == np.bool_ else values.sum()
        own = values if rows is None else values[rows]
        return (total - own) / np.maximum(degree_rows, 1.0)
    assert cache is not None
    if track is not None and values.dtype == np.bool_ and cache.can_track():
        counts = cache.tracked_counts(track, values)
        return (counts if rows is None else counts[rows]) / np.maximum(degree_rows, 1.0)
    if values.dtype == np.bool_ and (cache.exact_float32 or cache.weighted_float32):
        x = np.asarray(values, dtype=np.float32)
        matrix = adjacency
    else:
        x = np.asarray(values, dtype=np.float64)
        matrix = cache.adjacency64
    if rows is not None and rows.size * ROW_SUBSET_FRACTION < n:
        counts = matrix[rows] @ x
    else:
        counts = cache.product(x) if matrix is adjacency else matrix @ x
        if rows is not None:
            counts = counts[rows]
    return counts / np.maximum(degree_rows, 1.0)


def neighbour_mean(
    adjacency: sparse.csr_array | None, degree: np.ndarray, cache: NetworkCache | None,
    values: np.ndarray,
) -> np.ndarray:
    """Mean of ``values`` over each citizen's neighbours (own value where there are none), in float64.

    On a network the neighbours' values are summed in float32 (:meth:`NetworkCache.neighbour_sum`):
    a mean of values in [0, 1] such as trust needs no more than float32's 7 significant digits, and
    the float32 product reads a third less memory than a float64 one every month.
    """
    if adjacency is None:
        total = values.sum()
        return (total - values) / np.maximum(degree, 1.0)
    assert cache is not None
    return _mean_of_sum(cache.neighbour_sum(values), cache, values)


def _mean_of_sum(total: np.ndarray, cache: NetworkCache, values: np.ndarray) -> np.ndarray:
    mean = np.divide(total, cache.safe_degree)
    if cache.has_isolated:
        # Own value for those without neighbours, written into the new array (the few isolated
        # citizens' indices are kept): the same values as a select over everyone, at a fraction
        # of its cost.
        isolated = cache.isolated
        mean[isolated] = values[isolated]
    return mean


class BegunMean:
    """:func:`neighbour_mean` begun (:func:`begin_neighbour_mean`); ``.result()`` finishes it."""

    def __init__(self, adjacency: sparse.csr_array | None, degree: np.ndarray, cache: NetworkCache | None,
                 values: np.ndarray) -> None:
        self._args = (adjacency, degree, cache, values)
        self._sum = None if cache is None else cache.begin_sum(values)

    def result(self) -> np.ndarray:
        adjacency, degree, cache, values = self._args
        if self._sum is None:
            return neighbour_mean(adjacency, degree, cache, values)
        assert cache is not None
        return _mean_of_sum(self._sum.result(), cache, values)


def begin_neighbour_mean(adjacency: sparse.csr_array | None, degree: np.ndarray,
                         cache: NetworkCache | None, values: np.ndarray) -> BegunMean:
    """:func:`neighbour_mean` of ``values`` for a caller with work of its own meanwhile: on a large
    network with two threads, most of its product runs on the second thread from now until
    ``.result()``, which multiplies the rest on the calling thread (:func:`sim.parallel.begin_product`).
    ``values`` must not change until then. The same result, bit for bit."""
    return BegunMean(adjacency, degree, cache, values)


# Relative error allowed in a neighbour mean of values in [0, 1] against the exact mean: the values and
# their sum are float32 (:meth:`NetworkCache.neighbour_sum`), whose rounding is 6e-8 a step; observed
# errors stay below 3e-7 at the degrees of these networks.
NEIGHBOUR_MEAN_RTOL = 1e-6

# The share of a begun product's ties multiplied on the second thread (the rest on the caller's, after
# its own work). The trust rule's work beside its neighbour mean (the anchors' pushes and logistic:
# about 9 ms a month at a million citizens in the profile, with its timers) costs less than the float32
# product over all ties (12.5 ms alone). Measured at 1 M citizens, the trust rule took 14.5-16.7 ms a
# month with 0.6-0.7 of the ties on the second thread, 15.4-22.8 ms with 0.5, 16.2-18.5 with 0.8, 21-22
# ms with all of them (what it did before). A setting: it changes no result.
BEGUN_HEAD_SHARE = 0.7

# For fewer than 1 / ROW_SUBSET_FRACTION of the citizens, a neighbour share for a subset of rows
# slices those rows out of the adjacency; above it, one full product is cheaper.
ROW_SUBSET_FRACTION = 2


class NetworkCache:
    """Per-network arrays the neighbour products reuse every month.

    ``adjacency64`` shares the index arrays of the (float32) adjacency and holds float64 weights, for
    neighbour shares of non-boolean values (rare: flags are counted in float32); it costs 8 bytes per
    stored tie and is built on first use.

    The products read each row's neighbours' values in increasing citizen number; they are fastest
    when neighbours are numbered close together (:func:`sim.networks.locality_order`, applied when
    the citizens are synthesised).
    """

    def __init__(self, adjacency: sparse.csr_array, degree: np.ndarray) -> None:
        self.adjacency = adjacency
        self.degree = degree
        self._adjacency64: sparse.csr_array | None = None
        self.safe_degree = np.maximum(degree, 1.0)
        self.isolated = np.flatnonzero(degree == 0)  # citizens without neighbours
        self.has_isolated = bool(self.isolated.size)
        # Float32 sums of small whole numbers are exact below 2**24; only unit weights count
        # neighbours. (The margin of 8 covers the symmetry probe below.)
        self.unit_weights = bool(np.all(adjacency.data == 1))
        self.exact_float32 = (
            adjacency.dtype == np.float32
            and float(degree.max(initial=0.0)) < 2**24 / 8
            and self.unit_weights
        )
        # Ties weighted by the neighbours' survey weights (sim.weights): flags are summed in float32 like
        # other values in [0, 1] (neighbour_mean), a relative error of a few 1e-7.
        self.weighted_float32 = adjacency.dtype == np.float32 and not self.unit_weights
        self._symmetric: bool | None = None
        self._tracked: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (flags, counts)

    def __getstate__(self) -> dict:
        """Copies (a branched model, a pickled state) rebuild the row parts on first use: they are
        views of the adjacency, which a copy would otherwise duplicate."""
        state = self.__dict__.copy()
        state.pop("parts", None)
        state.pop("halves", None)
        return state

    @cached_property
    def parts(self) -> list[sparse.csr_array] | None:
        """The adjacency's row blocks, one per thread, or None for one product (:mod:`sim.parallel`)."""
        return row_parts(self.adjacency)

    @cached_property
    def halves(self) -> list[sparse.csr_array] | None:
        """The adjacency's two row blocks of a begun product (:func:`sim.parallel.begin_product`)."""
        return row_halves(self.adjacency, BEGUN_HEAD_SHARE)

    def product(self, x: np.ndarray) -> np.ndarray:
        """``adjacency @ x``, split by rows over the run's threads (:mod:`sim.parallel`): the same
        result bit for bit, in about half the time on two cores at a million citizens."""
        return product(self.adjacency, self.parts, x)

    @property
    def adjacency64(self) -> sparse.csr_array:
        """The adjacency with float64 weights, sharing the index arrays (built on first use)."""
        if self._adjacency64 is None:
            a = self.adjacency
            self._adjacency64 = a if a.dtype == np.float64 else sparse.csr_array(
                (a.data.astype(np.float64), a.indices, a.indptr), shape=a.shape)
        return self._adjacency64

    def neighbour_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each citizen's neighbours, in float32 (the float32 adjacency times
        the values rounded to float32: half the memory traffic of a float64 product, and a relative
        error of a few 1e-7, far below anything a mean of trust levels is used for)."""
        return self.product(np.asarray(values, dtype=np.float32))

    def begin_sum(self, values: np.ndarray) -> Pending[np.ndarray]:
        """:meth:`neighbour_sum` begun: ``.result()`` gives it, the caller working meanwhile."""
        return begin_product(self.adjacency, self.halves, np.asarray(values, dtype=np.float32))

    def can_track(self) -> bool:
        """Counts can be updated from changed rows only if the network is undirected (symmetric),
        with unit weights. Checked once with an integer-valued probe vector (exact sums in float32:
        the probe is below 7, the degrees below 2**24 / 7 in practice, else no tracking)."""
        if self._symmetric is None:
            probe = (np.arange(self.adjacency.shape[0]) % 7).astype(np.float32)
            self._symmetric = self.exact_float32 and bool(
                np.array_equal(self.adjacency @ probe, self.adjacency.T @ probe)
            )
        return self._symmetric

    def row_indices(self, rows: np.ndarray) -> np.ndarray:
        """Column indices of the given rows, concatenated (the neighbours of those citizens).

        A plain gather through ``indptr``: for a few thousand rows it avoids most of the fixed cost
        of scipy's fancy indexing.
        """
        return self.adjacency.indices[_row_positions(self.adjacency.indptr, rows)]

    def tracked_counts(self, name: str, flags: np.ndarray) -> np.ndarray:
        """Number of each citizen's neighbours with ``flags`` set, updated from the last call's."""
        n = flags.size
        previous = self._tracked.get(name)
        changed = None if previous is None else np.flatnonzero(flags != previous[0])
        if changed is None or changed.size * TRACK_RECOUNT_FRACTION > n:
            counts = self.product(flags.astype(np.float32)).astype(np.int32)
            self._tracked[name] = (flags.copy(), counts)
            return counts
        snapshot, counts = previous
        gained = changed[flags[changed]]
        lost = changed[~flags[changed]]
        # Symmetric: the citizens whose count changes are the changed citizens' neighbours.
        if gained.size:
            np.add.at(counts, self.row_indices(gained), np.int32(1))
        if lost.size:
            np.add.at(counts, self.row_indices(lost), np.int32(-1))
        snapshot[changed] = flags[changed]
        return counts


def _row_positions(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in a CSR matrix's ``indices``/``data`` of the given rows' entries, concatenated
    (in the index type of ``indptr``, so int32 where the matrix has fewer than 2**31 entries)."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    ends = np.cumsum(lengths, dtype=indptr.dtype)
    positions = np.arange(int(ends[-1]) if ends.size else 0, dtype=indptr.dtype)
    positions += np.repeat(starts - (ends - lengths), lengths)
    return positions


# When more than 1 / TRACK_RECOUNT_FRACTION of the citizens changed a tracked flag, recount with
# one full product instead of updating from the changed rows.
TRACK_RECOUNT_FRACTION = 8
