"""Trust (F6, C3): experience, procedural justice, transparency and social averaging.

Each month:
  success:      trust += success_gain * (1 - trust)
  failure:      trust -= failure_loss * trust
  offline visit: trust += fairness_rate * (office fairness - trust)   (procedural justice)
  transparency: trust += transparency_rate * transparency * (1 - trust)  (published performance data)
  social:       trust += social_rate * (mean neighbour trust - trust)
Breaches are applied by :mod:`sim.rules.platform`.
"""

from __future__ import annotations

import numpy as np

from sim.config import TrustParams
from sim.state import State


def after_success(params: TrustParams, trust):
    return trust + params.success_gain * (1 - trust)


def after_failure(params: TrustParams, trust):
    return trust - params.failure_loss * trust


def after_visit(params: TrustParams, trust, fairness):
    """Procedural justice: an offline visit pulls trust towards the office's fairness."""
    return trust + params.fairness_rate * (fairness - trust)


def after_transparency(params: TrustParams, trust, transparency: float):
    return trust + params.transparency_rate * transparency * (1 - trust)


def after_social(params: TrustParams, trust, neighbour_mean):
    return trust + params.social_rate * (neighbour_mean - trust)


def update_trust(state: State, params: TrustParams, offline_visit: np.ndarray) -> None:
    """Apply the month's trust changes in the order above (experience, visit, transparency, social).

    Experiences and visits concern only the citizens in need, so they are applied to index arrays
    of those citizens. The ``after_*`` functions work on numbers and arrays alike (they are shared
    with the per-agent reference in ``benchmarks``).
    """
    c = state.citizens
    trust = c.trust.copy()
    success = np.flatnonzero(c.last_experience == 1)
    trust[success] = after_success(params, trust[success])
    failure = np.flatnonzero(c.last_experience == -1)
    trust[failure] = after_failure(params, trust[failure])
    visit = np.flatnonzero(offline_visit)
    trust[visit] = after_visit(params, trust[visit], state.offices.fairness[c.office[visit]])
    trust = after_transparency(params, trust, state.platform.transparency)
    trust = after_social(params, trust, state.neighbour_mean(trust))
    c.trust = np.clip(trust, 0.0, 1.0, out=trust)
