"""Invariants that hold in every run, month by month: ranges, no NaN, budgets, users have access, ...

Two kinds of evidence: the monthly timeseries of every scenario (one seed each), and the state
arrays checked after every single step of the two scenarios that use every lever at once
(``comprehensive``, universal targeting; ``inclusive``, targeted at the left-behind).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from sim import DigitalAdoptionModel
from sim.config import AGE_BANDS, LEVERS, REGIONS, portable_policies
from sim.rules.policy import IDR_PER_BN, citizen_target_mask, course_takeup
from sim.state import LAPSED, NON_USER, USER
from tests.conftest import SHARE_COLUMNS

SCENARIOS = portable_policies()
STEPS = 24
SEED = 11



@pytest.fixture(scope="module")
def scenario_runs(simulate):
    return {name: simulate(name, SEED, steps=STEPS) for name in SCENARIOS}


# --------------------------------------------------------------------------- step-by-step checks
@dataclass
class StepLog:
    """Violations counted after each step (all should stay zero) and ranges seen."""

    users_without_access: list[int] = field(default_factory=list)
    users_not_aware: list[int] = field(default_factory=list)
    awareness_lost: list[int] = field(default_factory=list)
    access_lost: list[int] = field(default_factory=list)
    literacy_fell: list[int] = field(default_factory=list)
    trained_lost: list[int] = field(default_factory=list)
    course_or_session_lost: list[int] = field(default_factory=list)
    bad_state_codes: list[int] = field(default_factory=list)
    out_of_unit_interval: list[list[str]] = field(default_factory=list)
    adoption_mismatch: list[float] = field(default_factory=list)
    carry_per_unit: list[dict[str, float]] = field(default_factory=list)
    unit_cost_bn: dict[str, float] = field(default_factory=dict)
    n_users_final: int = 0


def _unit_arrays(model: DigitalAdoptionModel) -> dict[str, np.ndarray]:
    s = model.state
    p = s.platform
    return {
        "citizens.literacy": s.citizens.literacy,
        "citizens.trust": s.citizens.trust,
        "staff.competence": s.staff.competence,
        "staff.resistance": s.staff.resistance,
        "staff.fairness": s.staff.fairness,
        "offices.capacity": s.offices.capacity,
        "offices.readiness": s.offices.readiness,
        "offices.digital_share": s.offices.digital_share,
        "offices.fairness": s.offices.fairness,
        "platform": np.array([p.usability, p.accessibility, p.security, p.transparency]),
    }


def step_and_check(policy: str) -> tuple[DigitalAdoptionModel, StepLog]:
    model = DigitalAdoptionModel(
        population="small", policy=policy, seed=SEED, steps=STEPS,
        overrides={"progress": False, "materialise_agents": "never", "policy.start_date": None},
    )
    log = StepLog()
    s = model.state
    costs = model.cfg.params.costs
    log.unit_cost_bn = {
        "training": costs.training_per_civil_servant * s.civil_servants_per_staff / IDR_PER_BN,
        "infrastructure": costs.infrastructure_per_person_covered * s.people_per_citizen / IDR_PER_BN,
        "literacy": costs.literacy_per_learner * s.people_per_citizen / IDR_PER_BN,
        "coproduction": costs.coproduction_per_participant * s.people_per_citizen / IDR_PER_BN,
    }
    while model.running:
        c, st = s.citizens, s.staff
        before = {
            "aware": c.aware.copy(), "access": c.access.copy(), "literacy": c.literacy.copy(),
            "trained": st.trained.copy(), "literacy_trained": c.literacy_trained.copy(),
            "coproduced": c.coproduced.copy(),
        }
        model.step()
        c, st = s.citizens, s.staff
        ever_used = c.state != NON_USER
        log.users_without_access.append(int(np.sum(ever_used & ~c.access)))
        log.users_not_aware.append(int(np.sum(ever_used & ~c.aware)))
        log.awareness_lost.append(int(np.sum(before["aware"] & ~c.aware)))
        log.access_lost.append(int(np.sum(before["access"] & ~c.access)))
        log.literacy_fell.append(int(np.sum(c.literacy < before["literacy"])))
        # Training is lost only with the post's holder: an entrant starts from the post's initial
        # competence (not digital in their first month, so nothing learnt or faded yet).
        lost = before["trained"] & ~st.trained
        log.trained_lost.append(int(np.sum(lost & (st.competence != st.competence_initial))))
        log.course_or_session_lost.append(
            int(np.sum(before["literacy_trained"] & ~c.literacy_trained)
                + np.sum(before["coproduced"] & ~c.coproduced))
        )
        log.bad_state_codes.append(int(np.sum(~np.isin(c.state, [NON_USER, USER, LAPSED]))))
        log.out_of_unit_interval.append([
            name for name, values in _unit_arrays(model).items()
            if not (np.all(np.isfinite(values)) and values.min() >= 0.0 and values.max() <= 1.0)
        ])
        log.adoption_mismatch.append(abs(model.latest["adoption"] - float(np.mean(c.state == USER))))
        log.carry_per_unit.append({
            lever: s.carry_idr.get(lever, 0.0) / IDR_PER_BN / unit for lever, unit in log.unit_cost_bn.items()
        })
    log.n_users_final = int(np.sum(s.citizens.state == USER))
    return model, log


@pytest.fixture(scope="module", params=["comprehensive", "inclusive"])
def stepped(request):
    return step_and_check(request.param)


def test_the_stepped_run_is_not_trivial(stepped):
    model, log = stepped
    assert model.month == STEPS
    assert len(log.users_without_access) == STEPS
    assert log.n_users_final > 0.1 * model.state.citizens.n
    assert model.latest["spend_total_idr_bn"] > 0


def test_users_always_have_access_and_are_aware(stepped):
    _, log = stepped
    assert max(log.users_without_access) == 0
    assert max(log.users_not_aware) == 0


def test_awareness_access_and_literacy_never_fall(stepped):
    _, log = stepped
    assert max(log.awareness_lost) == 0
    assert max(log.access_lost) == 0
    assert max(log.literacy_fell) == 0
    assert max(log.trained_lost) == 0
    assert max(log.course_or_session_lost) == 0


def test_state_arrays_stay_in_unit_interval(stepped):
    _, log = stepped
    assert all(not bad for bad in log.out_of_unit_interval), log.out_of_unit_interval
    assert max(log.bad_state_codes) == 0


def test_observed_adoption_matches_the_state(stepped):
    _, log = stepped
    assert max(log.adoption_mismatch) == 0.0


def test_carry_over_stays_below_one_unit(stepped):
    """Money a lever carries to the next month is less than one unit (trainee, learner, ...)."""
    _, log = stepped
    for month in log.carry_per_unit:
        for lever, units in month.items():
            assert 0.0 <= units < 1.0, (lever, units)


# --------------------------------------------------------------------------- timeseries checks
def test_every_group_is_populated_so_no_group_share_is_nan(scenario_runs):
    c = scenario_runs["baseline"].state.citizens
    assert np.all(np.bincount(c.region, minlength=len(REGIONS)) > 0)
    assert np.all(np.bincount(c.age_band, minlength=len(AGE_BANDS)) > 0)
    assert np.all(np.bincount(c.quintile, minlength=5) > 0)
    assert np.all(np.bincount(c.literacy_tercile, minlength=3) > 0)
    assert 0 < c.urban.sum() < c.n


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_timeseries_has_no_nan_and_shares_in_unit_interval(scenario_runs, scenario):
    ts = scenario_runs[scenario].timeseries
    assert len(ts) == STEPS + 1
    assert ts["month"].tolist() == list(range(STEPS + 1))
    numeric = ts.select_dtypes("number")
    assert numeric.shape[1] == ts.shape[1]
    assert not numeric.isna().any().any(), numeric.columns[numeric.isna().any()].tolist()
    assert np.isfinite(numeric.to_numpy()).all()
    shares = SHARE_COLUMNS + [col for col in ts if col.startswith("adoption_")]
    assert ((ts[shares] >= 0) & (ts[shares] <= 1)).all().all()
    gaps = [col for col in ts if col.startswith("gap_")] + ["concentration_index"]
    assert ((ts[gaps] >= -1) & (ts[gaps] <= 1)).all().all()
    assert (ts["lapsed"] + ts["adoption"] <= ts["awareness"] + 1e-12).all()
    # Successes per need <= successes per digital attempt, as attempts <= needs.
    assert (ts["digital_transaction_share"] <= ts["success_rate"] + 1e-12).all()
    assert (ts[["hours_per_transaction", "citizen_hours_million"]] >= 0).all().all()
    breaches = ts["breaches_cumulative"]
    assert (breaches.diff().dropna() >= 0).all()
    assert (breaches == ts["breach"].cumsum()).all()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_spending_stays_within_budget(scenario_runs, scenario):
    run = scenario_runs[scenario]
    ts, cfg = run.timeseries, run.cfg
    budget = cfg.budget_idr_bn_per_month
    spend_cols = [f"spend_{lever}_idr_bn" for lever in LEVERS]
    assert (ts[spend_cols] >= 0).all().all()
    assert np.allclose(ts[spend_cols].sum(axis=1), ts["spend_total_idr_bn"])
    assert ts.loc[0, "spend_total_idr_bn"] == 0.0  # month 0 is the initial state
    months = ts["month"].to_numpy()
    for lever in LEVERS:
        allocated = budget * getattr(cfg.policy.allocation, lever)
        spent = ts[f"spend_{lever}_idr_bn"].to_numpy()
        # Cumulative spending never exceeds what was allocated so far.
        assert np.all(np.cumsum(spent) <= months * allocated * (1 + 1e-9) + 1e-9), lever
    # ... and so for the total, against the monthly budget.
    assert np.all(ts["spend_total_idr_bn"].cumsum().to_numpy() <= months * budget * (1 + 1e-9) + 1e-9)
    assert run.summary["cost_idr_bn"] == pytest.approx(ts["spend_total_idr_bn"].sum())
    total_share = sum(getattr(cfg.policy.allocation, lever) for lever in LEVERS)
    if total_share == 0:  # baseline, mandate: no spending
        assert ts["spend_total_idr_bn"].sum() == 0.0
    elif scenario == "outreach":
        # A campaign stops when everybody knows of the services: the money left is not spent.
        assert ts["awareness"].iloc[-1] == 1.0
        assert ts["spend_total_idr_bn"].iloc[-1] == 0.0
    elif scenario == "literacy":
        # Courses stop when every willing citizen of the target group (the least literate 30 %) has
        # had one: the money left is not spent, and only then. Starting in 2020, at lower literacy,
        # the pool is a few hundred agents, used up within the run in about half of the seeds (the
        # others end with a few dozen left); until then the whole budget goes.
        c = run.state.citizens
        willing = c.willingness < course_takeup(cfg.params.adoption, c.literacy, c.age_band == 3)
        target = citizen_target_mask(run.state, cfg.policy, cfg.population.outer_islands)
        assert c.literacy_trained.sum() > 0.1 * target.sum()
        unit = cfg.params.costs.literacy_per_learner * run.state.people_per_citizen / IDR_PER_BN
        assert ts["spend_literacy_idr_bn"].sum() == pytest.approx(c.literacy_trained.sum() * unit)
        assert (ts["spend_total_idr_bn"].iloc[1:7] > budget - unit).all()
        if (willing & target & ~c.literacy_trained).any():  # not used up: the budget went every month
            assert (ts["spend_total_idr_bn"].iloc[1:] > budget - unit).all()
    elif scenario == "consolidation":
        # A project: paid once, then nothing more.
        assert ts["spend_total_idr_bn"].sum() == pytest.approx(cfg.params.costs.consolidation_project_bn)
        assert ts["spend_total_idr_bn"].iloc[-1] == 0.0
    elif scenario in ("service_centres", "partnerships"):
        # Assisted access stops spending when everyone has it, and only then: the money left is
        # not spent.
        c = run.state.citizens
        spend = ts["spend_total_idr_bn"].iloc[1:]
        if (c.centre_covered | c.partner_covered).all():
            assert spend.iloc[-1] == 0.0
        else:
            assert (spend > 0.9 * budget).all()
        assert spend.iloc[0] > 0.9 * budget
    else:
        # Every scenario spends most of its budget (a unit that cannot be bought yet carries over).
        assert ts["spend_total_idr_bn"].sum() > 0.5 * STEPS * budget


def test_monthly_spending_is_the_share_plus_less_than_one_unit_carried(stepped):
    """Each month a lever spends at most its share of the month's budget plus the carry (< 1 unit)."""
    model, log = stepped
    ts, cfg = model.timeseries(), model.cfg
    budget = cfg.budget_idr_bn_per_month
    for lever in LEVERS:
        allocated = budget * getattr(cfg.policy.allocation, lever)
        spent = ts[f"spend_{lever}_idr_bn"].to_numpy()[1:]
        if lever in log.unit_cost_bn:
            assert np.all(spent <= allocated + log.unit_cost_bn[lever] * (1 + 1e-9)), lever
        else:  # stock levers spend exactly their share every month
            assert np.allclose(spent, allocated), lever


def test_no_spending_before_the_policy_starts(simulate):
    start = 6
    run = simulate("comprehensive", SEED, steps=12, overrides={"policy.start_month": start})
    ts = run.timeseries
    spend = ts.set_index("month")["spend_total_idr_bn"]
    # Row m holds the spending of the step from month m-1 to m.
    assert (spend.loc[: start] == 0).all()
    assert (spend.loc[start + 1:] > 0).all()


def test_summary_agrees_with_the_timeseries(scenario_runs):
    run = scenario_runs["comprehensive"]
    ts, summary = run.timeseries, run.summary
    assert summary["months"] == STEPS
    assert summary["adoption_initial"] == ts["adoption"].iloc[0]
    assert summary["adoption_final"] == ts["adoption"].iloc[-1]
    own_change = ts["trust_mean"].iloc[-1] - ts["trust_mean"].iloc[0]
    assert summary["trust_mean_change_in_run"] == pytest.approx(own_change)
    reached = ts.loc[ts["adoption"] >= 0.25, "month"]
    expected = float(reached.iloc[0]) if len(reached) else None
    assert summary["months_to_25pct"] == expected
