"""Trust (F6, C3): experience, procedural justice, transparency and social averaging.

Each month:
  success:      trust += success_gain * (1 - trust)
  failure:      trust -= failure_loss * trust
  offline visit: trust += fairness_rate * (office fairness - trust)   (procedural justice)
  transparency: trust += transparency_rate * transparency * (1 - trust)  (published performance data)
  social:       trust += social_rate * (mean neighbour trust - trust)
Breaches are applied by :mod:`sim.rules.security`.
"""

from __future__ import annotations

import numpy as np

from sim.config import TrustParams
from sim.state import State


def update_trust(state: State, params: TrustParams, offline_visit: np.ndarray) -> None:
    c = state.citizens
    trust = c.trust
    success = c.last_experience == 1
    failure = c.last_experience == -1
    trust = np.where(success, trust + params.success_gain * (1 - trust), trust)
    trust = np.where(failure, trust - params.failure_loss * trust, trust)
    fairness = state.offices.fairness[c.office]
    trust = np.where(offline_visit, trust + params.fairness_rate * (fairness - trust), trust)
    trust = trust + params.transparency_rate * state.platform.transparency * (1 - trust)
    neighbours = state.neighbour_mean(trust)
    trust = trust + params.social_rate * (neighbours - trust)
    c.trust = np.clip(trust, 0.0, 1.0)
