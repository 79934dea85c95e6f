"""Mechanisms that hold up: trust that moves and stays diverse, levers through their named mechanism
only, take-up and targeting below 100%, leadership, the spending window and the mandate.

Runs use the small profile (3000 citizens) and the session cache of ``conftest.simulate``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from experiments.engine.stamp import strip_stamp
from sim import DigitalAdoptionModel, compose
from sim.config import LEVERS, TrustParams
from sim.metrics import METRIC_NAMES
from sim.rules.policy import citizen_target_mask, office_target_mask
from sim.rules.trust import apply_breach, encounter_push
from sim.state import USER
from tests.conftest import REPO

SEEDS = tuple(range(1, 7))
# No experience, encounter, transparency or breach moves trust: only the social mix remains.
NO_PUSHES = {
    "params.trust.success_gain": 0.0, "params.trust.failure_loss": 0.0,
    "params.trust.fair_gain": 0.0, "params.trust.unfair_loss": 0.0,
    "params.trust.transparency_rate": 0.0, "params.trust.breach_loss": 0.0,
}


def _ts(simulate, policy="baseline", seed=1, steps=36, **overrides):
    return simulate(policy, seed, steps=steps, overrides=overrides).timeseries


# --------------------------------------------------------------------------- trust
def test_social_influence_keeps_trust_diverse(simulate):
    """Friedkin-Johnsen anchoring: with no pushes, neighbours' influence does not erase differences
    (plain averaging would shrink the spread towards 0 and close the gap between groups)."""
    for seed in SEEDS[:3]:
        ts = _ts(simulate, seed=seed, steps=60, **NO_PUSHES)
        assert ts["trust_sd"].iloc[-1] > 0.9 * ts["trust_sd"].iloc[0], ts["trust_sd"].tolist()
        gap0, gap60 = ts["gap_trust_income_q5_q1"].iloc[0], ts["gap_trust_income_q5_q1"].iloc[-1]
        assert gap0 > 0.01 and gap60 > 0.8 * gap0, (gap0, gap60)
        # Without pushes trust has no drift towards a fixed level.
        assert abs(ts["trust_mean"].iloc[-1] - ts["trust_mean"].iloc[0]) < 0.01


def test_initial_trust_differs_by_income_as_the_profile_says(simulate):
    ts = _ts(simulate, steps=1)
    assert ts["trust_q5"].iloc[0] > ts["trust_q1"].iloc[0]
    flat = _ts(simulate, steps=1, **{"population.trust_income_log_odds_per_quintile": 0.0})
    assert abs(flat["gap_trust_income_q5_q1"].iloc[0]) < 0.5 * ts["gap_trust_income_q5_q1"].iloc[0]


def test_encounter_push_has_the_sign_of_the_encounter():
    params = TrustParams()
    assert encounter_push(params, True) > 0 > encounter_push(params, False)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_fair_offices_raise_trust_and_unfair_ones_lower_it(simulate, seed):
    """Procedural justice: only encounters move trust here; fair offices raise it, unfair lower it."""
    only_encounters = {**NO_PUSHES, "params.trust.fair_gain": 0.1, "params.trust.unfair_loss": 0.2}
    fair = _ts(simulate, seed=seed, **only_encounters, **{"population.staff_fairness_mean": 0.95})
    unfair = _ts(simulate, seed=seed, **only_encounters, **{"population.staff_fairness_mean": 0.3})
    assert fair["trust_mean"].iloc[-1] > fair["trust_mean"].iloc[0] + 0.005
    assert unfair["trust_mean"].iloc[-1] < unfair["trust_mean"].iloc[0] - 0.005


def test_transparency_reaches_people_through_their_access(simulate_declared):
    """Those with internet access gain more trust from published data than those without."""
    # Declared values: the factor 2 below rests on transparency_offline_reach = 0.25 (the calibrated
    # 0.39 gives a push 2.5 times as large online, and after the social mix a gain 1.8 times as large).
    gains = []
    for seed in SEEDS[:4]:
        run = simulate_declared("transparency", seed, steps=36, overrides=NO_PUSHES | {
            "params.trust.transparency_rate": 0.04})
        base = simulate_declared("baseline", seed, steps=36, overrides=NO_PUSHES | {
            "params.trust.transparency_rate": 0.04})
        c = run.state.citizens
        gain = run.state.citizens.trust - base.state.citizens.trust
        gains.append((gain[c.access].mean(), gain[~c.access].mean()))
    online, offline = np.array(gains).T
    assert np.all(online > 0) and np.all(online > 2 * offline), gains


def test_breach_hits_users_hardest():
    model = DigitalAdoptionModel(population="small", seed=3, steps=1, overrides={"progress": False})
    c = model.state.citizens
    before = c.trust.copy()
    apply_breach(model.state, model.cfg.params.trust)
    loss = before - c.trust
    users, others_online = c.state == USER, (c.state != USER) & c.access
    offline = (c.state != USER) & ~c.access
    assert loss[users].mean() > 2 * loss[others_online].mean() > 0
    assert np.all(loss[offline] == 0)


def test_trust_can_move_as_fast_as_observed(simulate_declared):
    """Edelman: trust in government rose from 70 to 76 in a year. When published performance data
    jump to their maximum (a stock that can move at once), mean trust rises by at least 4 points
    within 12 months: the trust rule has no pull holding it back."""
    # Declared values: transparency_rate = 0.04 is set at this observed bound (docs/parameters.md);
    # at the calibrated draw (0.030; baseline trust falling 1.9 points a year) trust rises 0.9 points.
    ts = _ts(simulate_declared, "transparency", steps=13, **{
        "budget_idr_bn_per_month": 1e6, "params.platform.stock_max_monthly_gain": 1.0,
        "params.platform.breach_base": 0.0})
    assert ts["transparency"].iloc[1] > 0.99
    assert ts["trust_mean"].iloc[13] - ts["trust_mean"].iloc[1] > 0.04, ts["trust_mean"].tolist()


# --------------------------------------------------------------------------- levers
@pytest.mark.parametrize("policy", ["literacy", "coproduction", "infrastructure", "training"])
def test_levers_raise_nobodys_awareness(simulate, policy):
    """Awareness comes from media, word of mouth and the outreach lever only: with common random
    numbers the awareness path is identical with and without these levers."""
    base = _ts(simulate)
    scen = _ts(simulate, policy)
    np.testing.assert_array_equal(base["awareness"].to_numpy(), scen["awareness"].to_numpy())


def test_outreach_raises_awareness(simulate):
    for seed in SEEDS[:3]:
        base, scen = _ts(simulate, seed=seed), _ts(simulate, "outreach", seed=seed)
        assert scen["awareness"].iloc[6] > base["awareness"].iloc[6] + 0.05
        assert scen["spend_outreach_idr_bn"].iloc[1:].sum() > 0


def test_training_take_up_is_below_one_and_falls_with_resistance(simulate):
    # 20,000 citizens: 500 civil servants, enough to see a resistance difference of ~0.05 between
    # those who took part and the others (75 at the small profile's size would leave it to chance).
    size = {"population.n_citizens": 20_000}
    run = simulate("training", 1, steps=36, overrides={"budget_idr_bn_per_month": 50_000.0, **size})
    s = run.state.staff
    assert 0.2 < s.trained.mean() < 0.9
    # Those who took part were the less resistant at the start (same seed: same initial staff).
    initial = simulate("baseline", 1, steps=1, overrides=size).state.staff  # after one month
    assert initial.resistance[s.trained].mean() < initial.resistance[~s.trained].mean()


def test_literacy_courses_reach_fewer_of_the_oldest(simulate):
    run = simulate("literacy", 1, steps=36, overrides={"budget_idr_bn_per_month": 50_000.0,
                                                       "policy.targeting": "universal"})
    c = run.state.citizens
    assert 0.2 < c.literacy_trained.mean() < 0.9
    assert c.literacy_trained[c.age_band == 3].mean() < c.literacy_trained[c.age_band == 1].mean()


@pytest.mark.parametrize("targeting", ["rural", "left_behind", "poorest", "elderly", "outer_islands"])
def test_targeting_reaches_at_most_the_target_share(targeting):
    model = DigitalAdoptionModel(population="small", seed=2, steps=1,
                                 overrides={"progress": False, "policy.targeting": targeting})
    mask = citizen_target_mask(model.state, model.cfg.policy, model.cfg.population.outer_islands)
    assert 0 < mask.mean() <= 0.3 + 1e-9
    if targeting == "left_behind":  # the most disadvantaged first
        c = model.state.citizens
        assert c.need_score[mask].min() >= c.need_score[~mask].max() - 1.0
    offices = office_target_mask(model.state, model.cfg.policy, model.cfg.population.outer_islands)
    assert 0 < offices.mean() <= 0.3 + 1e-9
    # The offices reached serve more targeted citizens than the others.
    c = model.state.citizens
    share = np.bincount(c.office, weights=mask, minlength=offices.size) / np.maximum(
        np.bincount(c.office, minlength=offices.size), 1)
    assert share[offices].mean() > share[~offices].mean()


def test_targeted_money_is_not_spent_on_others(simulate):
    run = simulate("infrastructure", 1, steps=36, overrides={"policy.targeting": "rural",
                                                             "budget_idr_bn_per_month": 50_000.0})
    base = simulate("baseline", 1, steps=36)
    c, c0 = run.state.citizens, base.state.citizens
    newly = c.access & ~c0.access
    assert newly.any() and not np.any(newly & c.urban)


def test_leadership_raises_digital_practice_at_a_cost(simulate_declared):
    # At the declared values: at the calibrated set of 2026-12-06 the effect is about 0.4 pp with
    # t = 2.3 over 6 seeds, below this test's 3 standard errors (reported, not loosened).
    diffs = []
    size = {"population.n_citizens": 20_000}  # 500 civil servants: an effect of ~1 pp is visible
    for seed in SEEDS:
        lead = _ts(simulate_declared, "leadership", seed=seed, **size)
        base = _ts(simulate_declared, seed=seed, **size)
        assert lead["led_office_share"].iloc[-1] > 0.3
        assert lead["spend_leadership_idr_bn"].sum() > 0
        diffs.append(lead["digital_staff_share"].iloc[-1] - base["digital_staff_share"].iloc[-1])
    diffs = np.array(diffs)
    assert diffs.mean() > 3 * diffs.std(ddof=1) / np.sqrt(diffs.size), diffs


# --------------------------------------------------------------------------- timeline and mandate
def test_spending_stops_at_end_month_and_effects_persist(simulate):
    # Without turnover nobody trained leaves (tests/model/test_behaviour.py covers turnover).
    ts = _ts(simulate, "training", steps=36, **{"policy.end_month": 12,
                                                "params.bureaucracy.turnover_rate": 0.0})
    assert ts["spend_total_idr_bn"].iloc[1:13].sum() > 0  # rows are months 0..36; row m = month m
    assert ts["spend_total_idr_bn"].iloc[13:].sum() == 0
    assert ts["trained_staff_share"].iloc[-1] == ts["trained_staff_share"].iloc[13]
    base = _ts(simulate, steps=36)
    assert ts["competence_mean"].iloc[-1] > base["competence_mean"].iloc[-1]


def test_mandate_raises_adoption_at_once_and_costs_trust_on_failure(simulate):
    start = 12
    jumps = []
    for seed in SEEDS[:4]:
        man = _ts(simulate, seed=seed, **{"policy.mandate.start_month": start})
        base = _ts(simulate, seed=seed)
        np.testing.assert_array_equal(man["adoption"].iloc[: start + 1], base["adoption"].iloc[: start + 1])
        jumps.append(man["adoption"].iloc[start + 3] - base["adoption"].iloc[start + 3])
        assert man["mandate_active"].iloc[start + 1] == 1 and man["mandate_active"].iloc[start - 1] == 0
    assert min(jumps) > 0.05, jumps
    strict = _ts(simulate, **{"policy.mandate.start_month": start, "params.trust.mandate_failure_loss": 1.0})
    mild = _ts(simulate, **{"policy.mandate.start_month": start, "params.trust.mandate_failure_loss": 0.0})
    assert strict["trust_mean"].iloc[-1] < mild["trust_mean"].iloc[-1]


def test_mandate_leaves_exempt_groups_their_choice(simulate):
    run = simulate("baseline", 1, steps=36, overrides={"policy.mandate.start_month": 0,
                                                       "policy.mandate.exempt": ["no_access", "elderly"]})
    c = run.state.citizens
    assert not np.any((c.state == USER) & ~c.access)
    old, young = c.age_band == 3, c.age_band == 1
    assert (c.state[old] == USER).mean() < (c.state[young & c.access] == USER).mean()


# --------------------------------------------------------------------------- declarations
def test_every_metric_is_declared_once_and_observed():
    assert len(METRIC_NAMES) == len(set(METRIC_NAMES))
    model = DigitalAdoptionModel(population="small", seed=1, steps=1, overrides={"progress": False})
    model.run()
    assert list(model.latest) == list(METRIC_NAMES)
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == list(METRIC_NAMES)
    for lever in LEVERS:
        assert f"spend_{lever}_idr_bn" in METRIC_NAMES


def test_new_summary_keys():
    cfg = dataclasses.replace(compose(population="small"), steps=2, progress=False)
    summary = DigitalAdoptionModel(config=cfg).run().summary()
    for key in ("trust_sd_initial", "trust_sd_final", "gap_trust_urban_rural", "gap_trust_income_q5_q1",
                "cost_outreach_idr_bn", "cost_leadership_idr_bn"):
        assert key in summary


def test_the_metrics_document_is_generated_from_the_declarations():

    from sim.summary import outputs_markdown

    doc = REPO / "docs" / "metrics.md"
    assert strip_stamp(doc.read_text()) == outputs_markdown(), "regenerate: make docs"


def test_step_at_the_horizon_leaves_the_model_unchanged():
    model = DigitalAdoptionModel(population="small", seed=1, steps=2, overrides={"progress": False})
    model.run()
    rows, month = len(model.rows), model.month
    trust = model.state.citizens.trust.copy()
    for _ in range(3):
        model.step()
    assert (model.month, len(model.rows), model.running) == (month, rows, False)
    np.testing.assert_array_equal(model.state.citizens.trust, trust)


def test_the_enrolment_threshold_is_the_take_up_formula_solved_for_literacy():
    from sim.rules.policy import course_takeup, literacy_to_enrol

    cfg = compose(population="small")
    rng = np.random.default_rng(0)
    willingness, literacy = rng.random(50_000), rng.random(50_000)
    elderly = rng.random(50_000) < 0.2
    a = cfg.params.adoption
    np.testing.assert_array_equal(willingness < course_takeup(a, literacy, elderly),
                                  literacy > literacy_to_enrol(a, willingness, elderly))
