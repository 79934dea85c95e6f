"""Behaviour that keeps uptake from reaching everyone and keeps skills and trust from drifting for ever:
a durable preference for the counter, mandates followed below one and covering part of the
transactions, civil-service turnover, skill decay after training, trust anchors pulled back to their
start. Each test checks a direction or a bound the mechanism promises, and that switching the
mechanism off (its rate at 0) removes its effect.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.adoption import keeps_to_counter
from sim.state import NON_USER, USER

# Every new mechanism at its neutral value: the model as it was without them.
NEUTRAL = {
    "params.adoption.offline_preference": 0.0, "policy.mandate.compliance": 1.0,
    "params.bureaucracy.turnover_rate": 0.0, "params.bureaucracy.skill_decay": 0.0,
    "params.trust.anchor_reversion": 0.0,
}
LONG = 240  # 20 years: long enough for voluntary uptake to plateau


def test_those_who_keep_to_the_counter_never_use_the_digital_channel(simulate):
    run = simulate("comprehensive", 1, steps=LONG, overrides={"params.adoption.offline_preference": 0.2})
    c = run.state.citizens
    keeps = keeps_to_counter(c.counter_attachment, run.cfg.params.adoption)
    assert 0.17 < keeps.mean() < 0.23
    assert np.all(c.state[keeps] == NON_USER)
    # The plateau: the share of the connected who have ever used stays below one by at least the
    # preference share (it is a share of everyone; access does not depend on it).
    connected = c.access
    ever_used = (c.state[connected] != NON_USER).mean()
    assert ever_used <= 1.0 - keeps[connected].mean() + 1e-12
    assert run.final["ever_used_connected"] == pytest.approx(ever_used)


def test_a_larger_counter_preference_lowers_the_plateau(simulate):
    plateau = [simulate("comprehensive", 1, steps=LONG,
                        overrides={"params.adoption.offline_preference": share}).final["ever_used_connected"]
               for share in (0.0, 0.1, 0.25)]
    assert plateau[0] > plateau[1] > plateau[2], plateau


def _first_mandate_month(simulate, seed: int, start: int, **overrides):
    man = simulate("baseline", seed, steps=start + 2,
                   overrides={"policy.mandate.start_month": start, **overrides})
    base = simulate("baseline", seed, steps=start + 2, overrides=dict(overrides))
    return man, base


@pytest.mark.parametrize("compliance,scope", [(1.0, 1.0), (0.6, 1.0), (0.9, 0.5)])
def test_a_mandates_first_month_jump_is_at_most_compliance_x_scope_x_need_x_eligible(
        simulate, compliance, scope):
    """The pattern named in advance: in its first month a mandate can turn at most the complying,
    non-exempt connected non-users who need a covered transaction into users. Paired with the
    baseline (common random numbers), the extra users are exactly those obliged this month; the
    bound is their expected number plus three binomial standard errors."""
    start = 12
    man, base = _first_mandate_month(simulate, 1, start, **{"policy.mandate.compliance": compliance,
                                                            "policy.mandate.scope": scope})
    n = base.state.citizens.n
    # Row start + 1 ends the mandate's first month; both runs are identical up to row start.
    jump = (man.timeseries["adoption"].iloc[start + 1] - base.timeseries["adoption"].iloc[start + 1]) * n
    need = man.cfg.params.adoption.need_rate
    # Eligible: the non-exempt (connected) non-users at the start; every non-user is an upper bound.
    eligible = (1.0 - base.timeseries["adoption"].iloc[start]) * n
    p = compliance * scope * need
    bound = p * eligible + 3.0 * np.sqrt(eligible * p * (1 - p))
    assert 0 < jump <= bound, (jump, bound)


def test_lower_compliance_and_scope_mean_a_smaller_jump(simulate):
    start = 12

    def jump(**overrides) -> float:
        man, base = _first_mandate_month(simulate, 2, start, **overrides)
        return float(man.timeseries["adoption"].iloc[start + 1] - base.timeseries["adoption"].iloc[start + 1])

    full = jump(**{"policy.mandate.compliance": 1.0})
    assert jump(**{"policy.mandate.compliance": 0.5}) < full
    assert jump(**{"policy.mandate.compliance": 1.0, "policy.mandate.scope": 0.3}) < full


def test_non_compliers_keep_the_counter_under_a_mandate(simulate):
    """Those most attached to the counter (the share 1 - compliance) are never obliged; those of them
    who also keep to it by choice never use the digital channel, mandate or not."""
    run = simulate("baseline", 1, steps=60, overrides={
        "policy.mandate.start_month": 0, "policy.mandate.compliance": 0.8,
        "params.adoption.offline_preference": 0.1})
    c = run.state.citizens
    refusers = c.counter_attachment < 0.1
    assert np.all(c.state[refusers] == NON_USER)
    complying = c.counter_attachment >= 0.2
    assert (c.state[complying & c.access] == USER).mean() > 0.9
    assert run.final["ever_used_connected"] < 0.9 + 1e-12


def test_turnover_replaces_trained_staff_with_untrained_entrants(simulate):
    overrides = {"policy.end_month": 12}
    stays = simulate("training", 1, steps=48, overrides={**overrides,
                                                          "params.bureaucracy.turnover_rate": 0.0})
    leaves = simulate("training", 1, steps=48, overrides={**overrides,
                                                           "params.bureaucracy.turnover_rate": 0.01})
    kept = stays.timeseries["trained_staff_share"]
    assert kept.iloc[-1] == kept.iloc[13]  # nobody leaves: training, once given, stays
    fading = leaves.timeseries["trained_staff_share"]
    # After spending stops, the trained share falls by about the turnover rate a month.
    ratio = fading.iloc[-1] / fading.iloc[13]
    assert 0.99 ** 35 * 0.85 < ratio < 0.99 ** 35 * 1.15, ratio
    s = leaves.state.staff
    entrants = ~s.trained & (s.competence == s.competence_initial)
    assert entrants.any()


def test_a_head_who_leaves_takes_the_leadership_programme_along(simulate):
    overrides = {"policy.end_month": 6, "params.bureaucracy.turnover_rate": 0.03}
    run = simulate("leadership", 1, steps=60, overrides=overrides)
    led = run.timeseries["led_office_share"]
    assert led.iloc[7] > 0 and led.iloc[-1] < led.iloc[7]


def test_skill_fades_without_practice_and_only_above_the_start(simulate):
    overrides = {"policy.end_month": 6, "params.bureaucracy.turnover_rate": 0.0}
    kept = simulate("training", 1, steps=48, overrides={**overrides, "params.bureaucracy.skill_decay": 0.0})
    faded = simulate("training", 1, steps=48, overrides={**overrides, "params.bureaucracy.skill_decay": 0.05})
    assert faded.final["competence_mean"] < kept.final["competence_mean"]
    s = faded.state.staff
    assert np.all(s.competence >= s.competence_initial - 1e-12)


def test_trust_anchors_are_pulled_back_towards_their_start(simulate):
    """Without the pull, anchors random-walk away from where they started; with it they stay nearer."""
    def drift(rate: float) -> float:
        run = simulate("baseline", 1, steps=LONG, overrides={"params.trust.anchor_reversion": rate})
        c = run.state.citizens
        return float(np.abs(c.trust_anchor - c.trust_anchor_initial).mean())

    assert drift(0.03) < drift(0.01) < drift(0.0)


def test_neutral_values_switch_every_new_mechanism_off(simulate):
    """At their neutral values the mechanisms leave no trace: nobody keeps to the counter, a mandate
    obliges every non-exempt connected citizen in need (all but those connected too recently to have
    needed a service yet are users)."""
    run = simulate("training", 1, steps=36, overrides={**NEUTRAL, "policy.mandate.start_month": 0})
    c = run.state.citizens
    assert not keeps_to_counter(c.counter_attachment, run.cfg.params.adoption).any()
    assert (c.state[c.access] == USER).mean() > 0.9
