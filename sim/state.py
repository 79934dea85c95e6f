"""The model's state as a structure of arrays: one numpy array per attribute.

Every submodel is a vectorised function over these arrays; the mesa Agent classes in
:mod:`sim.agents` read and write through to them, so the two views never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

NON_USER, USER, LAPSED = 0, 1, 2


@dataclass
class Citizens:
    region: np.ndarray  # int8, index into config.REGIONS
    urban: np.ndarray  # bool
    age_band: np.ndarray  # int8, index into config.AGE_BANDS
    income_rank: np.ndarray  # float64 in (0, 1): fractional income rank
    quintile: np.ndarray  # int8, 0 = poorest 20 %
    literacy: np.ndarray  # float64 [0, 1]
    literacy_tercile: np.ndarray  # int8, tercile of initial literacy (0 = lowest)
    access: np.ndarray  # bool: usable internet
    trust: np.ndarray  # float64 [0, 1]
    aware: np.ndarray  # bool: knows the digital service exists
    state: np.ndarray  # int8: NON_USER, USER, LAPSED
    office: np.ndarray  # int32: the office that serves the citizen
    threshold: np.ndarray  # float64: adoption threshold (threshold rule only)
    last_experience: np.ndarray  # int8: 0 none, 1 success, -1 failure (this month)
    coproduced: np.ndarray  # bool: has taken part in co-production
    literacy_trained: np.ndarray  # bool: has taken a literacy course

    @property
    def n(self) -> int:
        return int(self.region.size)


@dataclass
class Staff:
    office: np.ndarray  # int32
    level: np.ndarray  # int8: 0 head, 1 supervisor, 2 staff
    supervisor: np.ndarray  # int32, -1 for heads
    competence: np.ndarray  # float64 [0, 1]
    resistance: np.ndarray  # float64 [0, 1]
    fairness: np.ndarray  # float64 [0, 1]
    trained: np.ndarray  # bool
    digital: np.ndarray  # bool: works through the digital system

    @property
    def n(self) -> int:
        return int(self.office.size)


@dataclass
class Offices:
    region: np.ndarray  # int8
    urban: np.ndarray  # bool
    capacity_base: np.ndarray  # float64 [0, 1]: infrastructure capacity at t=0
    capacity: np.ndarray  # float64 [0, 1]
    readiness: np.ndarray  # float64 [0, 1]
    digital_share: np.ndarray  # float64 [0, 1]
    fairness: np.ndarray  # float64 [0, 1]
    offline_hours: np.ndarray  # float64, hours per offline transaction

    @property
    def n(self) -> int:
        return int(self.region.size)


@dataclass
class Platform:
    usability: float
    accessibility: float
    security: float
    transparency: float
    breaches: int = 0


@dataclass
class State:
    citizens: Citizens
    staff: Staff
    offices: Offices
    platform: Platform
    adjacency: sparse.csr_array | None  # None for mean field
    degree: np.ndarray  # float64, number of neighbours (population size - 1 for mean field)
    people_per_citizen: float  # real people one citizen agent stands for
    civil_servants_per_staff: float  # real civil servants one staff agent stands for
    cell_coverage_base: np.ndarray  # access share per region x urban cell at t=0
    carry_idr: dict[str, float] = field(default_factory=dict)  # unspent money per lever
    _cache: _NetworkCache | None = field(default=None, init=False, repr=False, compare=False)
    _derived: dict[str, tuple[tuple[Any, ...], Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def cached(self, key: str, sources: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """``build()``, computed once and reused while ``sources`` are the same objects.

        For values derived from attributes that never change after synthesis (e.g. group codes from
        region, urban/rural, income quintile): replacing one of the source arrays rebuilds the value,
        editing one in place does not.
        """
        hit = self._derived.get(key)
        if hit is not None and len(hit[0]) == len(sources) and all(
            a is b for a, b in zip(hit[0], sources, strict=True)
        ):
            return hit[1]
        value = build()
        self._derived[key] = (tuple(sources), value)
        return value

    def neighbour_share(
        self, values: np.ndarray, rows: np.ndarray | None = None, track: str | None = None
    ) -> np.ndarray:
        """Share of each citizen's neighbours for whom ``values`` is true (one sparse product).

        With ``rows`` (citizen indices), only those citizens' shares are computed, from their rows
        of the adjacency alone when they are few. Boolean flags are counted in float32 against the
        float32 adjacency: the counts are exact (whole numbers below 2**24) and the product reads
        half the memory of a float64 one.

        With ``track`` (a name, e.g. ``"aware"``), the counts of a boolean flag are kept from one
        call to the next and updated from the citizens whose flag changed since the last call (the
        rows of the adjacency for those citizens only). The result is exactly that of the full
        product; flags that change for few citizens a month then cost almost nothing.
        """
        degree = self.degree if rows is None else self.degree[rows]
        if self.adjacency is None:
            total = np.count_nonzero(values) if values.dtype == np.bool_ else values.sum()
            own = values if rows is None else values[rows]
            return (total - own) / np.maximum(degree, 1.0)
        cache = self._network()
        if track is not None and values.dtype == np.bool_ and cache.can_track():
            counts = cache.tracked_counts(track, values)
            return (counts if rows is None else counts[rows]) / np.maximum(degree, 1.0)
        if values.dtype == np.bool_ and cache.exact_float32:
            x = np.asarray(values, dtype=np.float32)
            matrix = self.adjacency
        else:
            x = np.asarray(values, dtype=np.float64)
            matrix = cache.adjacency64
        if rows is None:
            counts = matrix @ x
        elif rows.size * ROW_SUBSET_FRACTION < self.citizens.n:
            counts = matrix[rows] @ x
        else:
            counts = (matrix @ x)[rows]
        return counts / np.maximum(degree, 1.0)

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each citizen's neighbours (own value where there are none)."""
        if self.adjacency is None:
            total = values.sum()
            return (total - values) / np.maximum(self.degree, 1.0)
        cache = self._network()
        summed = cache.adjacency64 @ np.asarray(values, dtype=np.float64)
        mean = np.divide(summed, cache.safe_degree, out=summed)
        if cache.has_isolated:
            mean = np.where(self.degree > 0, mean, values)
        return mean

    def _network(self) -> _NetworkCache:
        """Derived network arrays, rebuilt only if ``adjacency`` or ``degree`` is replaced."""
        cache = self._cache
        if cache is None or cache.adjacency is not self.adjacency or cache.degree is not self.degree:
            cache = self._cache = _NetworkCache(self.adjacency, self.degree)
        return cache


# For fewer than 1 / ROW_SUBSET_FRACTION of the citizens, a neighbour share for a subset of rows
# slices those rows out of the adjacency; above it, one full product is cheaper.
ROW_SUBSET_FRACTION = 2


class _NetworkCache:
    """Per-network arrays the neighbour products reuse every month.

    ``adjacency64`` shares the index arrays of the (float32) adjacency and holds float64 ones, so
    that means of float64 values (trust) are summed in float64 without converting the matrix on
    every product; it costs 8 bytes per stored tie.
    """

    def __init__(self, adjacency: sparse.csr_array, degree: np.ndarray) -> None:
        self.adjacency = adjacency
        self.degree = degree
        if adjacency.dtype == np.float64:
            self.adjacency64 = adjacency
        else:
            self.adjacency64 = sparse.csr_array(
                (adjacency.data.astype(np.float64), adjacency.indices, adjacency.indptr),
                shape=adjacency.shape,
            )
        self.safe_degree = np.maximum(degree, 1.0)
        self.has_isolated = bool(np.any(degree == 0))
        # Float32 sums of small whole numbers are exact below 2**24; only unit weights count
        # neighbours. (The margin of 8 covers the symmetry probe below.)
        self.exact_float32 = (
            adjacency.dtype == np.float32
            and float(degree.max(initial=0.0)) < 2**24 / 8
            and bool(np.all(adjacency.data == 1))
        )
        self._symmetric: bool | None = None
        self._tracked: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (flags, counts)

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
        indptr = self.adjacency.indptr
        starts = indptr[rows].astype(np.int64)
        lengths = indptr[rows + 1] - starts
        ends = np.cumsum(lengths)
        positions = np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64)
        positions += np.repeat(starts - (ends - lengths), lengths)
        return self.adjacency.indices[positions]

    def tracked_counts(self, name: str, flags: np.ndarray) -> np.ndarray:
        """Number of each citizen's neighbours with ``flags`` set, updated from the last call's."""
        n = flags.size
        previous = self._tracked.get(name)
        changed = None if previous is None else np.flatnonzero(flags != previous[0])
        if changed is None or changed.size * TRACK_RECOUNT_FRACTION > n:
            counts = (self.adjacency @ flags.astype(np.float32)).astype(np.int32)
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


# When more than 1 / TRACK_RECOUNT_FRACTION of the citizens changed a tracked flag, recount with
# one full product instead of updating from the changed rows.
TRACK_RECOUNT_FRACTION = 8
