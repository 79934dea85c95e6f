"""Civil servants and offices: resistance in the hierarchy (F1, C1), digital practice, readiness.

Each month, in this order:

1. Resistance falls with top-down pressure (a head feels the national directive, scaled by the
   office's will; everyone else feels their supervisor's digital practice, scaled by the office's
   will) and with the share of office peers already working digitally; without pressure it drifts
   back up. An office's will is the national political will moved by its province's offset on the
   log-odds scale, or, where the head took part in the leadership programme, will +
   leadership_gain x (1 - will).
   Because practice has to pass head -> supervisor -> staff, the hierarchy delays diffusion (C1).
2. Digital staff learn by doing (competence rises); staff who do not work digitally lose skill
   above their starting competence at ``skill_decay`` a month (what training added fades unless used).
3. A share of staff reconsider how they work: digital with probability
   sigmoid(slope * (competence * office capacity - resistance)).
4. Turnover (before 1-3, :func:`replace_leavers`): each month a share ``turnover_rate`` of staff
   retire and are replaced in post by entrants who start from the post's initial competence,
   resistance and fairness, untrained and not working digitally; a new head has not taken the
   leadership programme.
5. Offices: readiness = capacity * mean over staff of digital * (0.5 + 0.5 * competence);
   fairness = mean staff fairness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from sim.parameters import Block, par
from sim.provinces import regional_will
from sim.scenario import Mechanisms
from sim.state import Offices, Staff


@dataclass
class BureaucracyParams(Block):
    """F1 and F5: civil servants' resistance, competence and digital practice (C1 hierarchy)."""

    top_down_rate: float = par(
        0.04, "/ month", "monthly resistance fall from a digital supervisor at full will",
        low=0, high=1, prior=(0.01, 0.08))
    peer_rate: float = par(
        0.02, "/ month", "monthly resistance fall from a fully digital office", low=0, high=1,
        prior=(0.005, 0.04))
    resistance_rebound: float = par(
        0.01, "/ month", "monthly drift of resistance back up without pressure", low=0, high=1,
        prior=(0.0, 0.02))
    learning_by_doing: float = par(
        0.02, "/ month", "monthly competence gain of digital staff", low=0, high=1,
        prior=(0.005, 0.04))
    switch_rate: float = par(
        0.25, "probability / month", "monthly chance a civil servant reconsiders the way of working",
        low=0, high=1, prior=(0.1, 0.5))
    switch_slope: float = par(
        8.0, "logit per unit", "steepness of the competence-minus-resistance choice", low=0,
        prior=(4.0, 12.0))
    training_competence_gain: float = par(
        0.35, "share of gap closed", "share of the competence gap closed by training", low=0, high=1,
        prior=(0.15, 0.55))
    training_resistance_cut: float = par(
        0.35, "share removed", "share of resistance removed by training", low=0, high=1,
        prior=(0.15, 0.55))
    training_fairness_gain: float = par(
        0.15, "share of gap closed", "share of the fairness gap closed by training", low=0, high=1,
        prior=(0.05, 0.3))
    training_takeup_max: float = par(
        0.9, "probability", "take-up of training by the least resistant: P(accept) = max x (1 - "
        "training_takeup_resistance x resistance)", low=0, high=1, prior=(0.7, 1.0))
    training_takeup_resistance: float = par(
        0.6, "share per unit of resistance", "share of training take-up lost per unit of resistance",
        low=0, high=1, prior=(0.3, 0.9))
    leadership_gain: float = par(
        0.5, "share of the will gap", "a led office feels will + leadership_gain x (1 - will)",
        low=0, high=1, prior=(0.25, 0.75))
    skill_decay: float = par(
        0.01, "/ month", "monthly loss of the competence above a post's starting level while not "
        "working digitally (what training added fades unless practised)",
        "assumption (skill decay without use: Arthur et al. 1998, Human Performance 11(1))",
        low=0, high=1, prior=(0.0, 0.03))
    turnover_rate: float = par(
        0.0028, "/ month", "monthly share of civil servants who retire and are replaced by entrants",
        "derived: 34% of civil servants (PNS) were aged 51-60 in June 2023 (BKN) and most retire at "
        "58-60, so about a tenth of that band, 3.4% of staff, retires each year (0.0028 a month)",
        low=0, high=1, prior=(0.0017, 0.0042))
    leadership_takeup: float = par(
        0.8, "probability", "share of office heads who accept the leadership programme", low=0, high=1,
        prior=(0.6, 1.0))


def office_means(values: np.ndarray, office: np.ndarray, n_offices: int) -> np.ndarray:
    counts = np.bincount(office, minlength=n_offices)
    sums = np.bincount(office, weights=values, minlength=n_offices)
    return np.divide(sums, counts, out=np.zeros(n_offices), where=counts > 0)


def resistance_next(params: BureaucracyParams, resistance, top_down, peers):
    """Resistance after a month of top-down pressure and digital office peers (before clipping).

    Works on numbers and arrays alike (shared with the per-agent reference in ``benchmarks``).
    """
    fall = params.top_down_rate * top_down + params.peer_rate * peers
    rise = params.resistance_rebound * (1.0 - top_down) * (1.0 - peers)
    return resistance * (1.0 - fall) + rise * (1.0 - resistance)


def competence_next(params: BureaucracyParams, competence, digital, initial):
    """Competence after a month of (digital = 1) learning by doing, or (digital = 0) of losing the
    skill above the post's starting level ``initial`` without practice."""
    gain = params.learning_by_doing * (1.0 - competence)
    fade = params.skill_decay * np.maximum(competence - initial, 0.0)
    return competence + digital * gain - (1.0 - digital) * fade


def digital_utility(params: BureaucracyParams, competence, capacity, resistance):
    """Log-odds of choosing to work digitally when reconsidering."""
    return params.switch_slope * (competence * capacity - resistance)


def practice(digital, competence):
    """One civil servant's contribution to office readiness (0 unless working digitally)."""
    return digital * (0.5 + 0.5 * competence)


def office_will(params: BureaucracyParams, political_will: float, led, will_log_odds=0.0):
    """Top-down push of an office: the national will as its regional government feels it (moved by
    the province's offset, :func:`sim.provinces.regional_will`), raised where the head was led (F1
    lever)."""
    will = regional_will(political_will, will_log_odds)
    return np.where(led, will + params.leadership_gain * (1.0 - will), will)


def update_staff(
    staff: Staff,
    offices: Offices,
    params: BureaucracyParams,
    political_will: float,
    mechanisms: Mechanisms,
    rng: np.random.Generator,
) -> None:
    digital = staff.digital.astype(np.float64)
    if mechanisms.resistance_dynamics:
        is_head = staff.supervisor < 0
        supervisor_digital = np.where(is_head, 1.0, digital[np.maximum(staff.supervisor, 0)])
        will = office_will(params, political_will, offices.led, offices.will_log_odds)
        top_down = will[staff.office] * supervisor_digital
        peers = office_means(digital, staff.office, offices.n)[staff.office]
        staff.resistance = np.clip(
            resistance_next(params, staff.resistance, top_down, peers), 0.0, 1.0
        )
    staff.competence = competence_next(params, staff.competence, digital, staff.competence_initial)

    reconsider = rng.random(staff.n) < params.switch_rate
    capacity = offices.capacity[staff.office]
    p_digital = expit(digital_utility(params, staff.competence, capacity, staff.resistance))
    choice = rng.random(staff.n) < p_digital
    staff.digital = np.where(reconsider, choice, staff.digital)


def replace_leavers(staff: Staff, offices: Offices, params: BureaucracyParams,
                    rng: np.random.Generator) -> None:
    """Retirements and entrants: a share ``turnover_rate`` of posts change hands this month.

    An entrant starts from the post's initial competence, resistance and fairness (entrants' digital
    skills are not published, so they are taken to be like those of the staff they join), untrained
    and not yet working digitally; where a head leaves, the office's leadership programme leaves
    with them. Draws come from their own stream, one per civil servant whatever the rate, so every
    scenario of a seed sees the same leavers.
    """
    if params.turnover_rate <= 0.0:
        return
    leaving = np.flatnonzero(rng.random(staff.n) < params.turnover_rate)
    if leaving.size == 0:
        return
    staff.competence[leaving] = staff.competence_initial[leaving]
    staff.resistance[leaving] = staff.resistance_initial[leaving]
    staff.fairness[leaving] = staff.fairness_initial[leaving]
    staff.trained[leaving] = False
    staff.digital[leaving] = False
    heads = leaving[staff.supervisor[leaving] < 0]
    offices.led[staff.office[heads]] = False


def update_offices(staff: Staff, offices: Offices) -> None:
    contribution = practice(staff.digital, staff.competence)
    offices.readiness = offices.capacity * office_means(contribution, staff.office, offices.n)
    offices.digital_share = office_means(staff.digital.astype(float), staff.office, offices.n)
    offices.fairness = office_means(staff.fairness, staff.office, offices.n)
