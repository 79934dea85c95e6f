"""The national platform: co-production feedback (F2) and security incidents (F4, C3).

Co-production: users' feedback raises usability each month,
  usability += feedback_rate * user share * (1 - usability);
funded co-production sessions add to it in :mod:`sim.rules.policy`.

Security: a breach happens with probability breach_base * (1 - security) each month. In a breach,
users lose ``breach_loss`` of their trust and everyone else half as much.
"""

from __future__ import annotations

import numpy as np

from sim.config import PlatformParams
from sim.state import USER, State


def coproduction_feedback(state: State, params: PlatformParams) -> None:
    user_share = float(np.mean(state.citizens.state == USER))
    p = state.platform
    p.usability += params.feedback_rate * user_share * (1 - p.usability)


def breach_probability(state: State, params: PlatformParams) -> float:
    return params.breach_base * (1.0 - state.platform.security)


def security_incidents(
    state: State, params: PlatformParams, breach_loss: float, rng: np.random.Generator
) -> bool:
    """Draw this month's breach; on a breach, users lose ``breach_loss`` of their trust and others
    half as much. Returns whether one happened."""
    breach = bool(rng.random() < breach_probability(state, params))
    if breach:
        c = state.citizens
        loss = np.where(c.state == USER, breach_loss, breach_loss / 2)
        c.trust = c.trust * (1 - loss)
        state.platform.breaches += 1
    return breach
