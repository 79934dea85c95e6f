"""The researcher's API on the model: ``set_policy`` mid-run and a readable ``repr``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim import DigitalAdoptionModel
from sim.parameters import ConfigError
from sim.rules.policy import UNIT_LEVERS, unit_cost_idr

SETTINGS = {"progress": False, "materialise_agents": "never"}


def _model(policy: str = "training", steps: int = 8) -> DigitalAdoptionModel:
    # policy.start_date=None: the policy (and so its months, start_month, ...) counts from month 0.
    return DigitalAdoptionModel(population="small", policy=policy, seed=3, steps=steps,
                                overrides={**SETTINGS, "policy.start_date": None})


def _arrays(model: DigitalAdoptionModel) -> dict[str, np.ndarray]:
    """Every state array of citizens, staff and offices, by name (a snapshot, copied)."""
    out = {}
    for part in ("citizens", "staff", "offices"):
        block = getattr(model.state, part)
        for f in dataclasses.fields(block):
            value = getattr(block, f.name)
            if isinstance(value, np.ndarray):
                out[f"{part}.{f.name}"] = value.copy()
    return out


@pytest.mark.parametrize("change", [
    {"allocation.infrastructure": 1.0},  # with training's 1.0: shares summing to 2.0
    {"allocation.nonsense": 0.5},  # an unknown key
    {"allocation.training": -0.1},  # a negative value
    {"political_will": float("nan")},  # not finite
    {"start_month": 99},  # spending starting after the horizon
    {"seed": 7},  # not a policy key
])
def test_an_invalid_change_is_one_line_and_leaves_the_model_unchanged(change):
    model, twin = _model(), _model()
    for m in (model, twin):
        m.step()
        m.step()
    cfg, arrays = model.cfg, _arrays(model)
    rng_states = {name: rng.bit_generator.state for name, rng in model.rngs.items()}
    with pytest.raises(ConfigError) as excinfo:
        model.set_policy(change)
    assert "\n" not in str(excinfo.value)
    assert model.cfg is cfg
    assert model.policy_changes == []
    assert {name: rng.bit_generator.state for name, rng in model.rngs.items()} == rng_states
    after = _arrays(model)
    for name, values in arrays.items():
        np.testing.assert_array_equal(after[name], values, err_msg=name)
    # The next steps give exactly what the untouched twin gives.
    for m in (model, twin):
        m.step()
        m.step()
    pd.testing.assert_frame_equal(model.timeseries(), twin.timeseries(), check_exact=True)


def test_a_valid_change_takes_effect_from_the_next_step():
    model = _model()
    model.step()
    model.step()
    model.set_policy(allocation__training=0.25, allocation__infrastructure=0.75)
    assert model.cfg.policy.allocation.training == 0.25
    assert model.cfg.policy.allocation.infrastructure == 0.75
    assert model.policy_changes == [(2, {"policy.allocation.training": 0.25,
                                         "policy.allocation.infrastructure": 0.75})]
    for _ in range(5):
        model.step()
    ts = model.timeseries().set_index("month")
    before, after = ts.loc[1:2], ts.loc[3:]
    assert (before["spend_infrastructure_idr_bn"] == 0).all()
    assert (after["spend_infrastructure_idr_bn"] > 0).all()
    budget = model.cfg.budget_idr_bn_per_month
    # Whole units are bought and the remainder carried over, so the spending over the months since
    # the change follows the new shares to within one unit's cost.
    for lever in UNIT_LEVERS:
        if lever.name not in ("training", "infrastructure"):
            continue
        unit_bn = unit_cost_idr(model.state, model.cfg.params.costs, lever) / 1e9
        share = getattr(model.cfg.policy.allocation, lever.name)
        spent = after[f"spend_{lever.name}_idr_bn"].sum()
        assert abs(spent - share * budget * len(after)) <= unit_bn + 1e-9, lever.name


def test_mapping_keywords_and_prefixed_keys_are_the_same_change():
    forms = [({"allocation.training": 0.5}, {}), (None, {"allocation__training": 0.5}),
             ({"policy.allocation.training": 0.5}, {}), (None, {"policy__allocation__training": 0.5})]
    configs = []
    for mapping, keywords in forms:
        model = _model(steps=2)
        model.set_policy(mapping, **keywords)
        configs.append(model.cfg)
    assert all(cfg == configs[0] for cfg in configs)
    assert configs[0].policy.allocation.training == 0.5


def test_the_budget_can_change_and_the_config_stays_locked():
    model = _model(steps=2)
    model.set_policy(budget_idr_bn_per_month=100.0)
    assert model.cfg.budget_idr_bn_per_month == 100.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.cfg.policy.political_will = 0.9  # type: ignore[misc]
    model.step()
    assert model.latest["spend_total_idr_bn"] <= 100.0 + 1e-9 + max(
        unit_cost_idr(model.state, model.cfg.params.costs, lever) / 1e9 for lever in UNIT_LEVERS)


def test_set_policy_refuses_a_non_mapping():
    with pytest.raises(TypeError, match="mapping"):
        _model(steps=2).set_policy([("allocation.training", 0.5)])  # type: ignore[arg-type]


def test_repr_names_policy_seed_month_and_citizens():
    model = _model(steps=12)
    model.step()
    assert repr(model) == "<DigitalAdoptionModel policy=training seed=3 month=1/12 citizens=3,000>"
    model.set_policy(political_will=0.9)
    assert repr(model) == "<DigitalAdoptionModel policy=training* seed=3 month=1/12 citizens=3,000>"
