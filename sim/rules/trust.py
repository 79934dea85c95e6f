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
    """Apply the month's trust changes in the order above (experience, visit, transparency, social).

    Experiences and visits concern only the citizens in need, so they are applied to index arrays
    of those citizens; the transparency and social terms update everyone in place on one copy.
    """
    c = state.citizens
    trust = c.trust.copy()
    success = np.flatnonzero(c.last_experience == 1)
    t = trust[success]
    trust[success] = t + params.success_gain * (1 - t)
    failure = np.flatnonzero(c.last_experience == -1)
    t = trust[failure]
    trust[failure] = t - params.failure_loss * t
    visit = np.flatnonzero(offline_visit)
    t = trust[visit]
    fairness = state.offices.fairness[c.office[visit]]
    trust[visit] = t + params.fairness_rate * (fairness - t)
    # trust += transparency_rate * transparency * (1 - trust)
    gain = np.subtract(1.0, trust)
    gain *= params.transparency_rate * state.platform.transparency
    trust += gain
    # trust += social_rate * (mean neighbour trust - trust)
    pull = state.neighbour_mean(trust)
    pull -= trust
    pull *= params.social_rate
    trust += pull
    c.trust = np.clip(trust, 0.0, 1.0, out=trust)
