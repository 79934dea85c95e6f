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

from sim.neighbours import BegunMean, NetworkCache, begin_neighbour_mean, neighbour_mean, neighbour_share

NON_USER, USER, LAPSED = 0, 1, 2


@dataclass
class Citizens:
    region: np.ndarray  # int8, index into config.REGIONS
    province: np.ndarray  # int8, index into sim.provinces.PROVINCES (within the island group)
    urban: np.ndarray  # bool
    age_band: np.ndarray  # int8, index into config.AGE_BANDS
    income_rank: np.ndarray  # float64 in (0, 1): fractional income rank
    quintile: np.ndarray  # int8, 0 = poorest 20 %
    literacy: np.ndarray  # float64 [0, 1]
    literacy_tercile: np.ndarray  # int8, tercile of initial literacy (0 = lowest)
    access: np.ndarray  # bool: usable internet
    access_log_odds: np.ndarray  # float64: log-odds of the access probability at month 0 (trend)
    trust: np.ndarray  # float64 [0, 1]: expressed trust in government (what adoption reads)
    trust_anchor: np.ndarray  # float64, log-odds: own prior, moved by own experience (Friedkin-Johnsen)
    trust_anchor_initial: np.ndarray  # float64, log-odds: the anchor at the start (reversion pulls back)
    aware: np.ndarray  # bool: knows the digital service exists
    state: np.ndarray  # int8: NON_USER, USER, LAPSED
    office: np.ndarray  # int32: the office that serves the citizen
    threshold: np.ndarray  # float64: adoption threshold (threshold rule only)
    last_experience: np.ndarray  # int8: 0 none, 1 success, -1 failure (this month)
    coproduced: np.ndarray  # bool: has taken part in co-production
    literacy_trained: np.ndarray  # bool: has taken a literacy course
    willingness: np.ndarray  # float32 uniform: takes part in a programme if below its take-up chance
    need_score: np.ndarray  # float64: disadvantages (rural, low literacy, 60+, poorest, outer
    #                         islands) plus a tie-break in [0, 1): who a targeted lever reaches first
    centre_order: np.ndarray  # float32 uniform: covered by a service centre once coverage exceeds it
    centre_covered: np.ndarray  # bool: their district has an integrated service centre (assisted access)
    partner_covered: np.ndarray  # bool: a partner's assisted access point serves them (lever only)
    counter_attachment: np.ndarray  # float32 uniform: attachment to the office counter, strongest
    #                         near 0 (below offline_preference: never adopts by choice; below
    #                         1 - mandate compliance: does not comply with a mandate)
    # float64 survey weight, mean 1 (people stood for / people_per_citizen) in a sample stratified by
    # province; None in a proportional sample, where every citizen stands for the same people (sim.weights)
    weight: np.ndarray | None = None

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
    # The post's values at the start: an entrant who replaces a leaver starts from them, and skill
    # decays back towards the initial competence when not practised.
    competence_initial: np.ndarray  # float64 [0, 1]
    resistance_initial: np.ndarray  # float64 [0, 1]
    fairness_initial: np.ndarray  # float64 [0, 1]
    trained: np.ndarray  # bool
    digital: np.ndarray  # bool: works through the digital system
    willingness: np.ndarray  # float32 uniform: takes part in training if below its take-up chance

    @property
    def n(self) -> int:
        return int(self.office.size)


@dataclass
class Offices:
    region: np.ndarray  # int8
    province: np.ndarray  # int8: the regional government the office belongs to
    will_log_odds: np.ndarray  # float64: province offset of the political will (log-odds)
    urban: np.ndarray  # bool
    capacity: np.ndarray  # float64 [0, 1]
    readiness: np.ndarray  # float64 [0, 1]
    digital_share: np.ndarray  # float64 [0, 1]
    fairness: np.ndarray  # float64 [0, 1]
    offline_hours: np.ndarray  # float64, hours per offline transaction
    led: np.ndarray  # bool: the head has taken part in the leadership programme
    need_score: np.ndarray  # float64: rural + outer islands, plus a tie-break in [0, 1)

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
    separate_apps: float = 1.0  # apps or log-ins a person needs for the services (sim.rules.consolidation)
    app_factor: float = 1.0  # usability multiplier from consolidation (1 at the initial fragmentation)
    consolidation_paid_bn: float = 0.0  # IDR bn paid into the consolidation project so far
    consolidation_history: list[float] = field(default_factory=list)  # progress, one entry a month


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
    carry_idr: dict[str, float] = field(default_factory=dict)  # unspent money per lever
    # The portfolio of services and each citizen's standing with each (sim.rules.services); None for the
    # one general service.
    services: Any = None
    _cache: NetworkCache | None = field(default=None, init=False, repr=False, compare=False)
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
        """Share of each citizen's neighbours for whom ``values`` is true (see
        :func:`sim.neighbours.neighbour_share`)."""
        return neighbour_share(self.adjacency, self.degree, self._network(), values, rows, track)

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each citizen's neighbours (own value where there are none)."""
        return neighbour_mean(self.adjacency, self.degree, self._network(), values)

    def begin_neighbour_mean(self, values: np.ndarray) -> BegunMean:
        """:meth:`neighbour_mean` begun on the second thread; ``.result()`` finishes it
        (:func:`sim.neighbours.begin_neighbour_mean`)."""
        return begin_neighbour_mean(self.adjacency, self.degree, self._network(), values)

    def _network(self) -> NetworkCache | None:
        """Derived network arrays, rebuilt only if ``adjacency`` or ``degree`` is replaced."""
        if self.adjacency is None:
            return None
        cache = self._cache
        if cache is None or cache.adjacency is not self.adjacency or cache.degree is not self.degree:
            cache = self._cache = NetworkCache(self.adjacency, self.degree)
        return cache
