"""Trust in government (F6, C3): own experience moves one's anchor; neighbours' trust mixes in.

Social influence follows Friedkin and Johnsen (1990, 2011): each citizen keeps an anchor ``a`` in
log-odds (their own prior, at first the log-odds of their initial trust) and expresses

    trust = (1 - susceptibility) * expit(a) + susceptibility * mean over neighbours of trust

so neighbours pull trust towards the local mean without erasing differences: the population settles
where anchors and influence balance, and groups whose anchors differ stay apart. (Plain averaging,
DeGroot 1974, would converge to one number for everyone.)

Own experience moves the anchor by pushes in log-odds, so trust stays in (0, 1) without a pull
towards any fixed level, and each push has the sign of the event:

  digital success          + success_gain
  digital failure          - failure_loss (- mandate_failure_loss more for the non-exempt under a
                           mandate: the channel they could not avoid failed them)
  offline encounter        fair with probability = the office's fairness (procedural justice,
                           Tyler 2006): + fair_gain if fair, - unfair_loss if not
  transparency             + transparency_rate x (transparency - its initial level) each month,
                           for those with internet access; transparency_offline_reach of it for
                           those without (published data reach people through their access)
  co-production            + coproduction_gain for participants (applied when they take part)
  breach                   - breach_loss for users (their data were exposed), - breach_spillover x
                           breach_loss for non-users with access (they hear of it), none otherwise

Anchors also drift back towards each person's own starting anchor at ``anchor_reversion`` a month
(a weak pull: experiences fade), so that trust has a steady state instead of a random walk.

Losses are larger than gains by default (the asymmetry of trust, Slovic 1993). The initial level of
transparency is taken as already reflected in initial trust, so only changes in it push.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from sim.parameters import Block, par
from sim.state import USER, Citizens, State


@dataclass
class TrustParams(Block):
    """F6 and C3: trust dynamics (Friedkin-Johnsen anchoring; pushes in log-odds, see the module).

    Every value is an assumption; the form follows Friedkin & Johnsen (1990) for social influence,
    Tyler (2006) for procedural justice and Slovic (1993) for losses of trust larger than gains.
    """

    susceptibility: float = par(
        0.3, "weight", "weight of neighbours' trust against one's own anchor (Friedkin-Johnsen)",
        low=0, high=1, high_open=True, prior=(0.1, 0.5))
    success_gain: float = par(
        0.10, "log-odds / transaction", "anchor gain from a successful digital transaction",
        low=0, prior=(0.03, 0.2))
    failure_loss: float = par(
        0.20, "log-odds / transaction", "anchor loss from a failed digital transaction",
        "assumption (losses larger than gains, Slovic 1993)", low=0, prior=(0.1, 0.4))
    fair_gain: float = par(
        0.10, "log-odds / encounter", "anchor gain from a fair offline encounter (Tyler 2006)",
        low=0, prior=(0.03, 0.2))
    unfair_loss: float = par(
        0.20, "log-odds / encounter", "anchor loss from an unfair offline encounter",
        "assumption (losses larger than gains, Slovic 1993)", low=0, prior=(0.1, 0.4))
    transparency_rate: float = par(
        0.04, "log-odds / month per unit rise", "anchor push per month x rise of transparency above "
        "its initial level",
        "assumption bounded by an observation: at the largest possible rise (0.3 -> 1) 0.34 log-odds "
        "a year, about the fastest observed movement of trust in government (Edelman 70 -> 76, "
        "2021 -> 2022, 0.31 log-odds)", low=0, prior=(0.01, 0.045))
    transparency_offline_reach: float = par(
        0.25, "share", "share of the transparency push felt without internet access",
        low=0, high=1, prior=(0.1, 0.5))
    breach_loss: float = par(
        0.30, "log-odds / breach", "anchor loss of users (whose data were exposed) in a breach",
        low=0, prior=(0.1, 0.6))
    breach_spillover: float = par(
        0.25, "share", "share of the breach loss felt by non-users with access",
        low=0, high=1, prior=(0.1, 0.5))
    coproduction_gain: float = par(
        0.30, "log-odds / participation", "anchor gain from taking part in co-production",
        low=0, prior=(0.1, 0.5))
    anchor_reversion: float = par(
        0.01, "/ month", "monthly pull of each anchor back towards the person's own starting anchor "
        "(log-odds; experiences fade)", "assumption (a weak pull: half-life of about 6 years at the "
        "default)", low=0, high=1, prior=(0.0, 0.03))
    mandate_failure_loss: float = par(
        0.20, "log-odds / failure", "extra anchor loss from a failure of a mandated citizen",
        low=0, prior=(0.05, 0.4))

LOGIT_BOUND = 12.0  # anchors stay within expit(+-12) = 6e-6 .. 1 - 6e-6


def anchor_log_odds(trust: np.ndarray) -> np.ndarray:
    """Log-odds of a trust level, bounded so that pushes never meet an infinity."""
    return np.clip(logit(np.clip(trust, 1e-12, 1 - 1e-12)), -LOGIT_BOUND, LOGIT_BOUND)


def expressed_trust(anchor_level: np.ndarray, neighbour_mean: np.ndarray, susceptibility: float
                    ) -> np.ndarray:
    """Friedkin-Johnsen: own anchor, as a level (expit of the log-odds), mixed with the neighbours'
    mean trust."""
    return (1.0 - susceptibility) * anchor_level + susceptibility * neighbour_mean


def encounter_push(params: TrustParams, fair):
    """Log-odds push of one offline encounter: up if it was fair, down if it was not."""
    if isinstance(fair, np.ndarray) and fair.dtype == np.bool_:  # a lookup: cheaper than a select
        return np.array([-params.unfair_loss, params.fair_gain], dtype=np.float64).take(fair.view(np.uint8))
    return np.where(fair, params.fair_gain, -params.unfair_loss)


def transparency_push(params: TrustParams, rise: float, access):
    """Monthly log-odds push of published performance data, reaching people through their access.

    (The two possible pushes are computed once and picked per citizen: one pass over everyone, a
    lookup by the access flag, which costs about half a select between two values on a mixed mask.)
    """
    full = params.transparency_rate * rise
    pushes = np.array([full * params.transparency_offline_reach, full * 1.0], dtype=np.float64)
    return pushes.take(np.asarray(access, dtype=np.bool_).view(np.uint8))


def breach_push(params: TrustParams, user, access):
    """Log-odds push of a data breach: users' data were exposed; others with access hear of it."""
    return -params.breach_loss * np.where(user, 1.0, np.where(access, params.breach_spillover, 0.0))


def push_anchor(citizens: Citizens, rows: np.ndarray, delta) -> None:
    """Add ``delta`` (log-odds) to the anchors of ``rows``."""
    a = citizens.trust_anchor
    a[rows] = np.clip(a[rows] + delta, -LOGIT_BOUND, LOGIT_BOUND)


def initial_expressed_trust(state: State, params: TrustParams) -> np.ndarray:
    """Month-0 trust: the anchors mixed once with the neighbours' anchors, so that month 1 continues
    the same process instead of jumping from unmixed anchors."""
    level = expit(state.citizens.trust_anchor)
    return expressed_trust(level, state.neighbour_mean(level), params.susceptibility)


def update_trust(
    state: State,
    params: TrustParams,
    success: np.ndarray,
    failure: np.ndarray,
    forced_failure: np.ndarray,
    offline: np.ndarray,
    fair_u: np.ndarray,
    transparency_rise: float,
) -> None:
    """The month's pushes to anchors (index arrays of the citizens concerned), then the social mix.

    ``fair_u`` holds one uniform draw per citizen: an encounter at office o is fair if the draw is
    below o's fairness.
    """
    c = state.citizens
    # The neighbours' mean reads this month's expressed trust, which nothing below changes until the
    # mix: on two cores most of it is computed while the anchors are pushed, the rest after
    # (sim.parallel.begin_product).
    neighbours = state.begin_neighbour_mean(c.trust)
    if success.size:
        push_anchor(c, success, params.success_gain)
    if failure.size:
        push_anchor(c, failure, -params.failure_loss)
    if forced_failure.size:
        push_anchor(c, forced_failure, -params.mandate_failure_loss)
    if offline.size:
        fair = fair_u[offline] < state.offices.fairness[c.office[offline]]
        push_anchor(c, offline, encounter_push(params, fair))
    if params.anchor_reversion > 0.0:
        c.trust_anchor += params.anchor_reversion * (c.trust_anchor_initial - c.trust_anchor)
    if transparency_rise != 0.0:
        # No clip on this whole-population push: expit takes any finite log-odds.
        c.trust_anchor += transparency_push(params, transparency_rise, c.access)
    # expressed_trust, fused in place: this runs over the whole population every month.
    level = logistic(c.trust_anchor)
    level *= 1.0 - params.susceptibility
    mean = neighbours.result()
    mean *= params.susceptibility
    level += mean
    c.trust = level


def logistic(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) in place on one new array: scipy's ``expit`` computes the same formula
    (equal up to the last bit of the exponential) at several times the cost of numpy's vectorised
    exponential, and trust needs it for everyone every month (and the synthesis for everyone a few
    times). For log-odds of moderate size: beyond -709 the exponential overflows (to a result of 0,
    with a warning)."""
    out = np.negative(x)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def apply_breach(state: State, params: TrustParams) -> None:
    """A breach's pushes, shown in expressed trust at once (same neighbour term as this month's)."""
    c = state.citizens
    hit = np.flatnonzero((c.state == USER) | c.access)
    before = expit(c.trust_anchor[hit])
    push_anchor(c, hit, breach_push(params, c.state[hit] == USER, c.access[hit]))
    c.trust[hit] += (1.0 - params.susceptibility) * (expit(c.trust_anchor[hit]) - before)
