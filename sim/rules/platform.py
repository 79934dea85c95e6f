"""The national platform: its stocks (F3, F4, F6), co-production feedback (F2) and breaches (F4, C3).

Stocks. Transparency, security and accessibility are platform levels in [0, 1] that money raises
with diminishing returns and that depreciate towards their initial levels without upkeep:
  level += stock_max_monthly_gain x spend / (spend + half_saturation) x (1 - level)
  level -= stock_decay x (level - initial level)

Co-production: users' feedback raises usability each month,
  usability += feedback_rate x user share x (1 - usability);
funded co-production sessions add to it (:mod:`sim.rules.policy`).

Security: a breach happens with probability breach_base x (1 - security) each month; its trust
effect is in :func:`sim.rules.trust.apply_breach`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.parameters import Block, par
from sim.scenario import Mechanisms
from sim.state import USER, Platform, State
from sim.weights import share


@dataclass
class PlatformParams(Block):
    """F2, F3, F4: the national platform's levels, reliability, feedback and breaches."""

    usability_initial: float = par(0.5, "level [0, 1]", "usability at month 0", low=0, high=1,
                                   prior=(0.3, 0.7))
    accessibility_initial: float = par(
        0.2, "level [0, 1]", "accessibility at month 0 (relief of the literacy requirement)",
        low=0, high=1, prior=(0.1, 0.4))
    security_initial: float = par(0.5, "level [0, 1]", "security at month 0", low=0, high=1,
                                  prior=(0.3, 0.7))
    transparency_initial: float = par(0.3, "level [0, 1]", "transparency at month 0", low=0, high=1,
                                      prior=(0.2, 0.5))
    reliability: float = par(
        0.92, "probability", "share of digital transactions not failing for technical reasons",
        low=0, high=1, prior=(0.85, 0.98))
    feedback_rate: float = par(
        0.01, "/ month per user share", "usability gain per month x share of users (feedback)",
        low=0, prior=(0.0, 0.02))
    participant_rate: float = par(
        2.0, "/ month per participant share", "usability gain per month x share of co-production "
        "participants", low=0, prior=(1.0, 4.0))
    stock_max_monthly_gain: float = par(
        0.05, "/ month", "largest monthly gain of transparency, security, accessibility", low=0,
        high=1, prior=(0.02, 0.08))
    stock_decay: float = par(
        0.005, "/ month", "monthly depreciation of those levels towards their start", low=0, high=1,
        prior=(0.0, 0.01))
    separate_apps_initial: float = par(
        4.0, "apps", "separate apps or log-ins a person needs for the public services at the start",
        "assumption (about 27,000 government apps in 2024, one ministry with over 500; Kementerian "
        "PANRB)", low=1, prior=(2.0, 8.0))
    app_effort: float = par(
        0.1, "share of usability per app", "effort each app beyond the first adds (usability is divided "
        "by 1 + app_effort x (apps - 1), relative to the start)", "assumption", low=0,
        prior=(0.03, 0.25))
    consolidation_delay_months: int = par(
        12, "months", "time from paying for consolidation to people needing fewer apps (building, "
        "migrating services)", "assumption (INA Digital: launched May 2024, limited release with 19 "
        "services in September 2024)", low=0, high=120, integer=True)
    breach_base: float = par(
        0.05, "probability / month", "monthly breach probability at zero security", low=0, high=1,
        prior=(0.02, 0.1))

# Levers that raise the platform level of the same name (F6, F4, F3) rather than buying units.
STOCK_LEVERS = ("transparency", "security", "accessibility")
# The mechanism switch that lets each stock move (off: held at its initial level).
STOCK_MECHANISM = {"transparency": None, "security": "infrastructure", "accessibility": None}


def stock_gain(level: float, spend_bn: float, max_gain: float, half_saturation_bn: float) -> float:
    """Diminishing-returns gain of a platform stock from one month's spending."""
    if spend_bn <= 0:
        return 0.0
    return max_gain * spend_bn / (spend_bn + half_saturation_bn) * (1.0 - level)


def stock_can_move(lever: str, mechanisms: Mechanisms) -> bool:
    switch = STOCK_MECHANISM[lever]
    return switch is None or bool(getattr(mechanisms, switch))


def invest_in_stocks(
    platform: Platform,
    params: PlatformParams,
    spend_bn: Mapping[str, float],
    half_saturation_bn: float,
    mechanisms: Mechanisms,
) -> dict[str, float]:
    """Raise each stock lever's platform level by this month's spending on it (``spend_bn``: IDR bn
    per stock lever, :func:`sim.rules.policy.stock_spending`); returns IDR bn spent per stock lever
    (the whole amount: a stock absorbs any sum, with diminishing returns)."""
    spent = {}
    for lever in STOCK_LEVERS:
        if stock_can_move(lever, mechanisms):
            level = getattr(platform, lever)
            gain = stock_gain(level, spend_bn[lever], params.stock_max_monthly_gain, half_saturation_bn)
            setattr(platform, lever, level + gain)
        spent[lever] = spend_bn[lever]
    return spent


def depreciate_stocks(platform: Platform, params: PlatformParams) -> None:
    """Stocks depreciate towards their initial levels without upkeep."""
    for lever in STOCK_LEVERS:
        level = getattr(platform, lever)
        setattr(platform, lever, level - params.stock_decay * (level - getattr(params, f"{lever}_initial")))


def coproduction_feedback(state: State, params: PlatformParams) -> None:
    c = state.citizens
    # The users' share of the people (sim.weights): without weights the value np.mean gives (an exact
    # whole-number sum divided by n) without converting every flag to a float.
    user_share = share(c.state == USER, c.weight)
    p = state.platform
    p.usability += params.feedback_rate * user_share * (1 - p.usability)


def breach_probability(state: State, params: PlatformParams) -> float:
    return params.breach_base * (1.0 - state.platform.security)


def draw_breach(state: State, params: PlatformParams, rng: np.random.Generator) -> bool:
    """Draw this month's breach (counted on the platform); the caller applies its trust effect."""
    breach = bool(rng.random() < breach_probability(state, params))
    if breach:
        state.platform.breaches += 1
    return breach
