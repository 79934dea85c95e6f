"""The configuration: every scenario composes and spends the same budget; bad input raises ConfigError."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir

import sim.cli  # noqa: F401  (registers the schema in Hydra's ConfigStore)
from sim import ConfigError, DigitalAdoptionModel, compose
from sim.config import (
    CONFIG_DIR,
    LEVERS,
    PolicyConfig,
    SimConfig,
    group_options,
    portable_policies,
    to_sim_config,
)

POLICIES = portable_policies()


def total_share(cfg) -> float:
    return sum(getattr(cfg.policy.allocation, lever) for lever in LEVERS)


def test_the_expected_scenarios_exist():
    assert {"baseline", "training", "infrastructure", "literacy", "coproduction", "transparency",
            "security", "comprehensive", "inclusive"} <= set(POLICIES)


@pytest.fixture(scope="module")
def scenario_configs(composed):
    return {policy: composed(policy) for policy in POLICIES}


@pytest.mark.parametrize("policy", POLICIES)
def test_each_policy_scenario_composes(scenario_configs, policy):
    cfg = scenario_configs[policy]
    assert cfg.policy.name == policy  # results are labelled by this name
    assert cfg.policy.description
    for lever in LEVERS:
        assert 0.0 <= getattr(cfg.policy.allocation, lever) <= 1.0


@pytest.mark.parametrize("policy", POLICIES)
def test_scenarios_split_the_same_budget(scenario_configs, policy):
    """Every scenario but the baseline allocates exactly all of the one shared budget key."""
    raw = yaml.safe_load((CONFIG_DIR / "policy" / f"{policy}.yaml").read_text())
    assert set(raw) <= {f.name for f in dataclasses.fields(PolicyConfig)}  # no budget of its own
    cfg = scenario_configs[policy]
    shared = SimConfig().budget_idr_bn_per_month  # the one declared default
    assert cfg.budget_idr_bn_per_month == shared > 0
    if policy in ("baseline", "mandate"):  # no spending: current momentum, or a rule change
        assert total_share(cfg) == 0.0
    else:
        assert total_share(cfg) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("group", ["population", "network"])
def test_every_option_of_the_other_groups_composes(group):
    options = group_options(group)
    assert options
    for option in options:
        cfg = compose(**{group: option})
        assert cfg.steps >= 1


def test_library_compose_matches_hydra():
    overrides = {"seed": 3, "steps": 12, "policy.political_will": 0.8, "policy.start_date": "2020-06"}
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        for policy in ("inclusive",):
            hydra_cfg = hydra_compose(
                "config",
                overrides=[f"policy={policy}", "population=small", "network=small_world"]
                + [f"{k}={v}" for k, v in overrides.items()],
            )
            ours = compose(policy=policy, population="small", network="small_world", overrides=overrides)
            assert to_sim_config(hydra_cfg) == ours


def test_dict_and_list_overrides_agree():
    as_dict = compose(overrides={"seed": 3, "policy.political_will": 0.9, "network.kind": "random"})
    as_list = compose(overrides=["seed=3", "policy.political_will=0.9", "network.kind=random"])
    assert as_dict == as_list
    assert as_dict.seed == 3 and as_dict.policy.political_will == 0.9


# --------------------------------------------------------------------------- bad input in Python
# (keyword arguments to DigitalAdoptionModel, text the one-line error must contain)
BAD_KWARGS = [
    ({"seed": "abc"}, "seed"),
    ({"n_citizens": -5}, "population.n_citizens"),
    ({"overrides": {"population.urban_share": 1.5}}, "population.urban_share"),
    ({"overrides": {"population.foo": 1}}, "population.foo"),
    ({"population__foo": 1}, "population.foo"),
    ({"overrides": {"bar": 1}}, "bar"),
    ({"policy": "foo"}, "policy=foo"),
    ({"overrides": {"policy.allocation.training": 0.7, "policy.allocation.literacy": 0.7}},
     "policy.allocation"),
    # the behaviour, channel and consolidation keys: each out of its range
    ({"overrides": {"policy.mandate.compliance": 1.5}}, "policy.mandate.compliance"),
    ({"overrides": {"policy.mandate.scope": 0}}, "policy.mandate.scope"),
    ({"overrides": {"params.adoption.offline_preference": -0.1}}, "params.adoption.offline_preference"),
    ({"overrides": {"params.adoption.assisted_literacy_cut": 2}}, "params.adoption.assisted_literacy_cut"),
    ({"overrides": {"params.bureaucracy.turnover_rate": 1.2}}, "params.bureaucracy.turnover_rate"),
    ({"overrides": {"params.trust.anchor_reversion": -1}}, "params.trust.anchor_reversion"),
    ({"overrides": {"params.platform.separate_apps_initial": 0.5}}, "params.platform.separate_apps_initial"),
    ({"overrides": {"params.platform.consolidation_delay_months": 1.5}},
     "params.platform.consolidation_delay_months"),
    ({"overrides": {"policy.allocation.service_centres": 1.5}}, "policy.allocation.service_centres"),
]


@pytest.mark.parametrize(("kwargs", "key"), BAD_KWARGS, ids=[k for _, k in BAD_KWARGS])
def test_constructor_raises_config_error(kwargs, key):
    with pytest.raises(ConfigError) as info:
        DigitalAdoptionModel(population="small", **kwargs)
    message = str(info.value)
    assert key in message
    assert "\n" not in message


def test_malformed_list_override_raises_config_error():
    with pytest.raises(ConfigError, match=r"seed"):
        compose(overrides=["seed=[1"])


def test_missing_equals_sign_raises_config_error():
    with pytest.raises(ConfigError, match=r"malformed"):
        compose(overrides=["seed"])


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"population.foo": 1}, "population.foo"),
        ({"bar": 1}, "bar"),
        ({"seed": "abc"}, "seed"),
        ({"population.urban_share": 1.5}, "population.urban_share"),
    ],
    ids=["unknown key in a group", "unknown top-level key", "wrong type", "out of range"],
)
def test_config_plus_overrides_raises_config_error(overrides, key):
    """The ``config=`` route with extra overrides validates like the keyword route."""
    cfg = compose(population="small")
    with pytest.raises(ConfigError) as info:
        DigitalAdoptionModel(config=cfg, overrides=overrides)
    assert key in str(info.value)
