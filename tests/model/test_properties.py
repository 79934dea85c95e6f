"""Property-based tests (Hypothesis): random valid configurations keep every invariant; random invalid
values give one clear line naming the key.

Runs are tiny (a few hundred citizens, a few months), so that many random configurations fit in a
few seconds; the invariants are the ones tests/model/test_invariants.py checks on the real scenarios.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import DigitalAdoptionModel
from sim.config import (
    ADOPTION_RULES,
    LEVERS,
    NETWORK_KINDS,
    TARGETINGS,
    ConfigError,
    SimConfig,
    apply_overrides,
    compose,
    portable_policies,
)
from sim.state import USER
from tests.conftest import SHARE_COLUMNS

UNIT = st.floats(0.0, 1.0, allow_nan=False)
RATE = st.floats(0.0, 0.5, allow_nan=False)


@pytest.fixture(scope="module")
def small() -> SimConfig:
    return replace(compose(population="small"), progress=False, materialise_agents="never")


@st.composite
def valid_overrides(draw: st.DrawFn) -> dict:
    """Random values inside every declared range, for the settings that steer the dynamics."""
    weights = draw(st.lists(UNIT, min_size=len(LEVERS), max_size=len(LEVERS)))
    scale = draw(UNIT) / max(sum(weights), 1e-9)
    out = {f"policy.allocation.{lever}": round(w * scale, 6) * (1 - 1e-6)
           for lever, w in zip(LEVERS, weights, strict=True)}
    out.update({
        "seed": draw(st.integers(0, 2**31)),
        "steps": draw(st.integers(5, 6)),  # past every start month drawn below (starts lie within the run)
        "population.n_citizens": draw(st.integers(150, 400)),
        "budget_idr_bn_per_month": draw(st.floats(0.0, 5000.0, allow_nan=False)),
        "policy.targeting": draw(st.sampled_from(TARGETINGS)),
        "policy.political_will": draw(UNIT),
        "policy.start_date": None,  # the policy's months count from month 0 of these short runs
        "policy.start_month": draw(st.integers(0, 3)),
        "network.kind": draw(st.sampled_from(NETWORK_KINDS)),
        "network.mean_degree": draw(st.floats(1.0, 20.0)),
        "network.homophily": draw(UNIT),
        "population.urban_share": draw(UNIT),
        "population.trust_mean": draw(st.floats(0.01, 0.99)),
        "population.trust_sd_logit": draw(st.floats(0.0, 2.0)),
        "policy.target_share": draw(st.floats(0.01, 1.0)),
        "policy.end_month": draw(st.one_of(st.none(), st.integers(4, 6))),
        "policy.mandate.start_month": draw(st.one_of(st.none(), st.integers(0, 4))),
        "population.awareness_initial": draw(st.floats(0.1, 1.0)),
        "population.adoption_initial": draw(st.floats(0.0, 0.1)),
        "params.adoption.rule": draw(st.sampled_from(ADOPTION_RULES)),
        "params.adoption.need_rate": draw(UNIT),
        "params.adoption.media_awareness": draw(RATE),
        "params.adoption.word_of_mouth": draw(RATE),
        "params.adoption.intercept": draw(st.floats(-10.0, 5.0)),
        "params.adoption.lapse_on_failure": draw(UNIT),
        "params.trust.susceptibility": draw(st.floats(0.0, 0.95)),
        "params.trust.failure_loss": draw(st.floats(0.0, 2.0)),
        "params.trust.transparency_rate": draw(st.floats(0.0, 0.5)),
        "params.trust.breach_loss": draw(UNIT),
        "params.platform.reliability": draw(UNIT),
        "params.platform.breach_base": draw(UNIT),
        "params.bureaucracy.top_down_rate": draw(UNIT),
        "mechanisms.trust_dynamics": draw(st.booleans()),
        "mechanisms.infrastructure": draw(st.booleans()),
        "mechanisms.coproduction": draw(st.booleans()),
    })
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(overrides=valid_overrides())
def test_random_valid_configs_keep_every_invariant(small, overrides):
    cfg = apply_overrides(small, overrides)
    model = DigitalAdoptionModel(config=cfg).run()
    ts = model.timeseries()
    shares = ts[SHARE_COLUMNS].to_numpy()
    assert not np.isnan(shares).any()
    assert ((shares >= 0) & (shares <= 1)).all()
    spend = ts["spend_total_idr_bn"].to_numpy()
    assert np.isfinite(spend).all() and (spend >= 0).all()
    months = ts["month"].to_numpy()
    assert (np.cumsum(spend) <= cfg.budget_idr_bn_per_month * months * (1 + 1e-9) + 1e-9).all()
    users = int(np.count_nonzero(model.state.citizens.state == USER))
    assert users <= cfg.population.n_citizens
    assert ts["adoption"].iloc[-1] == pytest.approx(users / cfg.population.n_citizens)
    summary = model.summary()
    finals = [summary[f"{c}_final"] for c in SHARE_COLUMNS if f"{c}_final" in summary]
    assert finals and all(math.isfinite(v) and 0 <= v <= 1 for v in finals)


# (key, a value outside its range): shares, counts, rates, names
OUT_OF_RANGE = [
    ("population.urban_share", st.floats(1.0001, 1e6)),
    ("policy.political_will", st.floats(-1e6, -1e-6)),
    ("population.n_citizens", st.integers(10**13, 10**15)),
    ("population.n_citizens", st.integers(-10**6, 9)),
    ("steps", st.integers(-1000, 0)),
    ("budget_idr_bn_per_month", st.floats(1.0001e6, 1e300)),
    ("budget_idr_bn_per_month", st.floats(-1e9, -1e-9)),
    ("params.adoption.need_rate", st.floats(1.0001, 100.0)),
    ("params.trust.susceptibility", st.floats(-10.0, -1e-9)),
    ("policy.target_share", st.floats(1.0001, 100.0)),
    ("policy.mandate.start_month", st.integers(-1000, -1)),
    ("network.mean_degree", st.floats(-100.0, 0.0)),
    # Names are letters of any script, digits, _ and - (sim.config.POLICY_NAME): anything else.
    ("policy.name", st.text(min_size=1, max_size=12).filter(
        lambda s: not all(ch.isalnum() or ch in "_-" for ch in s))),
]
FLOAT_KEYS = ["params.adoption.intercept", "population.trust_mean", "budget_idr_bn_per_month",
              "network.homophily", "params.costs.training_per_civil_servant", "population.population_total",
              "params.platform.stock_decay", "policy.allocation.training"]


@st.composite
def invalid_override(draw: st.DrawFn) -> tuple[str, object]:
    if draw(st.booleans()):
        key = draw(st.sampled_from(FLOAT_KEYS))
        return key, draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    key, values = draw(st.sampled_from(OUT_OF_RANGE))
    return key, draw(values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=invalid_override())
def test_random_invalid_values_give_one_line_naming_the_key(small, case):
    key, value = case
    with pytest.raises(ConfigError) as info:
        apply_overrides(small, {key: value})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(key), message
    assert "allowed" in message


def test_every_policy_scenario_is_valid():
    for name in portable_policies():
        assert compose(policy=name, population="small").policy.name == name
