"""The model's state as a structure of arrays: one numpy array per attribute.

Every submodel is a vectorised function over these arrays; the mesa Agent classes in
:mod:`sim.agents` read and write through to them, so the two views never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def neighbour_share(self, values: np.ndarray) -> np.ndarray:
        """Share of each citizen's neighbours for whom ``values`` is true (one sparse product)."""
        x = values.astype(np.float64)
        if self.adjacency is None:
            total = x.sum()
            return (total - x) / np.maximum(self.degree, 1.0)
        return (self.adjacency @ x) / np.maximum(self.degree, 1.0)

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each citizen's neighbours (own value where there are none)."""
        if self.adjacency is None:
            total = values.sum()
            return (total - values) / np.maximum(self.degree, 1.0)
        summed = self.adjacency @ values
        return np.where(self.degree > 0, summed / np.maximum(self.degree, 1.0), values)
