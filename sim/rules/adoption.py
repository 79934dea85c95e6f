"""Citizens: awareness, adoption and service experience.

Three rules share one entry point, chosen by ``params.adoption.rule``:

* ``utaut`` (default): an aware citizen with access who needs a service this month adopts with
  probability sigmoid(intercept + w_u * usefulness + w_e * ease + w_s * social + w_t * trust), where
  usefulness = office readiness x share of time saved against the offline queue, ease = usability x
  min(1, literacy / (required literacy x (1 - accessibility))) (F3, C2), social = share of neighbours
  using, and trust gates adoption (C3). Users then have a service experience: success with
  probability reliability x (floor + (1 - floor) x readiness); a failure lowers trust and can cause a
  lapse.
* ``bass``: every citizen is eligible and nothing lapses; monthly hazard p + q x share of adopters
  among neighbours (among everyone in mean field). Exactly the discrete-time Bass model.
* ``threshold``: adopt when the share of adopting neighbours reaches the citizen's threshold
  (Granovetter 1978; Watts 2002).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from sim.config import AdoptionParams, Mechanisms, PlatformParams
from sim.state import LAPSED, USER, State


@dataclass
class ServiceOutcome:
    """Counts from this month's service encounters (for metrics)."""

    needs: int = 0
    digital_attempts: int = 0
    digital_successes: int = 0
    hours: float = 0.0  # citizen-agent hours spent on services this month


def spread_awareness(state: State, params: AdoptionParams, rng: np.random.Generator) -> None:
    c = state.citizens
    share_aware = state.neighbour_share(c.aware)
    p = 1.0 - (1.0 - params.outreach) * (1.0 - params.word_of_mouth * share_aware)
    c.aware |= rng.random(c.n) < p


def ease_of_use(literacy: np.ndarray, usability: float, accessibility: float,
                required_literacy: float) -> np.ndarray:
    """F3: usable platforms; accessibility features lower the literacy needed."""
    needed = max(required_literacy * (1.0 - accessibility), 1e-9)
    return usability * np.minimum(1.0, literacy / needed)


def adoption_probability(state: State, params: AdoptionParams, mechanisms: Mechanisms,
                         social: np.ndarray) -> np.ndarray:
    c, o, p = state.citizens, state.offices, state.platform
    office = c.office
    saved = (o.offline_hours[office] - params.digital_hours) / o.offline_hours[office]
    usefulness = o.readiness[office] * np.clip(saved, 0.0, 1.0)
    utility = (
        params.intercept
        + params.w_usefulness * usefulness
        + params.w_social * social
        + params.w_trust * c.trust
    )
    if mechanisms.ease_of_use:
        utility += params.w_ease * ease_of_use(
            c.literacy, p.usability, p.accessibility, params.required_literacy
        )
    return expit(utility)


def step_reduced_form(state: State, params: AdoptionParams, rng: np.random.Generator) -> None:
    """Bass or threshold rule: everyone eligible, no lapse, synchronous update."""
    c = state.citizens
    adopters = c.state == USER
    share = state.neighbour_share(adopters)
    if params.rule == "bass":
        new = rng.random(c.n) < params.p + params.q * share
    else:
        new = share >= c.threshold - 1e-12
    c.state = np.where(adopters | new, USER, c.state).astype(np.int8)
    c.aware |= c.state == USER


def step_citizens(
    state: State,
    params: AdoptionParams,
    platform_params: PlatformParams,
    mechanisms: Mechanisms,
    rng: np.random.Generator,
) -> tuple[ServiceOutcome, np.ndarray]:
    """UTAUT rule: awareness, adoption among those in need, then service experiences.

    Returns the month's counts and who was served offline (for the fairness-of-encounter rule).
    """
    c, o = state.citizens, state.offices
    spread_awareness(state, params, rng)
    in_need = rng.random(c.n) < params.need_rate
    social = state.neighbour_share(c.state == USER)
    eligible = in_need & c.aware & c.access & (c.state != USER)
    p_adopt = adoption_probability(state, params, mechanisms, social)
    adopt = eligible & (rng.random(c.n) < p_adopt)
    c.state = np.where(adopt, USER, c.state).astype(np.int8)

    # Service encounters of everyone in need.
    users = in_need & (c.state == USER)
    readiness = o.readiness[c.office]
    p_success = platform_params.reliability * (
        params.success_floor + (1 - params.success_floor) * readiness
    )
    success = users & (rng.random(c.n) < p_success)
    failure = users & ~success
    c.last_experience = np.where(success, 1, np.where(failure, -1, 0)).astype(np.int8)
    lapse = failure & (rng.random(c.n) < params.lapse_on_failure * (1 - c.trust))
    c.state = np.where(lapse, LAPSED, c.state).astype(np.int8)

    offline = in_need & ~success  # failed digital attempts end at the office too
    offline_hours = o.offline_hours[c.office]
    hours = float(params.digital_hours * users.sum() + offline_hours[offline].sum())
    return ServiceOutcome(
        needs=int(in_need.sum()),
        digital_attempts=int(users.sum()),
        digital_successes=int(success.sum()),
        hours=hours,
    ), offline

