"""Branching a model at the end of its history: ``DigitalAdoptionModel.branch(cfg)`` continues an
independent copy under another policy, exactly as a run of that config from month 0 would, and
refuses a config whose history would differ or a model already past the policy start.

Small profile, 600 citizens, six months of history (policy from 2020-07) and six of forecast.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from sim.agents import Citizen
from sim.config import ConfigError, SimConfig, compose, policy_start_month
from sim.model import DigitalAdoptionModel
from sim.store.provenance import config_hash, history_key

QUIET = {"population.n_citizens": 600, "progress": False, "materialise_agents": "never", "steps": 12,
         "policy.start_date": "2020-07"}
# Every kind of policy act: nothing, a mandate, spending on unit levers and platform stocks, another
# budget, a later spending window.
SCENARIOS = {
    "baseline": {},
    "mandate": {"policy.mandate.start_month": 2},
    "training": {},
    "comprehensive": {"budget_idr_bn_per_month": 2000.0},
    "outreach": {"policy.start_month": 3, "policy.targeting": "rural"},
}


def _config(policy: str = "baseline", seed: int = 1, **overrides) -> SimConfig:
    return compose(policy=policy, population="small",
                   overrides={**QUIET, "seed": seed, **SCENARIOS.get(policy, {}), **overrides})


def _at_start(cfg: SimConfig) -> DigitalAdoptionModel:
    model = DigitalAdoptionModel(config=cfg)
    while model.month < policy_start_month(cfg):
        model.step()
    return model


def test_history_key_ignores_the_policy_and_the_budget_only():
    base = _config()
    assert policy_start_month(base) == 6
    for policy in SCENARIOS:
        assert history_key(_config(policy)) == history_key(base)
        assert config_hash(_config(policy)) != config_hash(base) or policy == "baseline"
    for changed in ({"seed": 2}, {"population.adoption_initial": 0.3}, {"steps": 13},
                    {"policy.political_will": 0.9}, {"policy.start_date": "2020-08"},
                    {"params.trust.susceptibility": 0.5}):
        assert history_key(_config(**changed)) != history_key(base), changed
    assert history_key(_config(progress=True, materialise_agents="always")) == history_key(base)


@pytest.mark.parametrize("policy", list(SCENARIOS))
def test_a_branch_at_the_policy_start_is_the_run_from_scratch(policy):
    trunk = _at_start(_config("baseline"))
    cfg = _config(policy)
    branched = trunk.branch(cfg).run()
    scratch = DigitalAdoptionModel(config=cfg).run()
    pd.testing.assert_frame_equal(branched.timeseries(), scratch.timeseries(), check_exact=True)
    assert branched.summary() == scratch.summary()
    pd.testing.assert_frame_equal(branched.province_table(), scratch.province_table(), check_exact=True)
    assert branched.cfg is cfg and branched.policy_changes == [] and branched.month == cfg.steps
    assert list(branched.datacollector.get_model_vars_dataframe()["adoption"]) == list(
        scratch.timeseries()["adoption"])
    if policy != "baseline":
        assert not branched.timeseries().equals(trunk.branch(_config()).run().timeseries())


def test_a_branch_is_independent_of_its_trunk_and_of_other_branches():
    trunk = _at_start(_config())
    rows = len(trunk.rows)
    state = trunk.state.citizens.state.copy()
    one, two = trunk.branch(_config("training")), trunk.branch(_config("training"))
    assert one.state.citizens.trust is not trunk.state.citizens.trust
    assert one.rngs["citizens"] is not trunk.rngs["citizens"]
    one.run()
    assert len(trunk.rows) == rows and trunk.month == 6 and np.array_equal(trunk.state.citizens.state, state)
    assert len(trunk.datacollector.model_vars["adoption"]) == rows
    # the trunk's random streams did not move: a second branch gives the same run
    pd.testing.assert_frame_equal(two.run().timeseries(), one.timeseries(), check_exact=True)
    # and the trunk continues its own history as if nothing had happened
    scratch = DigitalAdoptionModel(config=_config()).run()
    pd.testing.assert_frame_equal(trunk.run().timeseries(), scratch.timeseries(), check_exact=True)


def test_branches_share_the_network_which_nobody_can_change():
    """The network is the one piece of state a branch does not copy (half the bytes of a small run's
    state): its arrays are read-only, so no rule can change one branch's network under another."""
    trunk = _at_start(_config())
    one, two = trunk.branch(_config("training")), trunk.branch(_config("outreach"))
    assert one.state.adjacency is trunk.state.adjacency is two.state.adjacency
    for array in (trunk.state.adjacency.data, trunk.state.adjacency.indices, trunk.state.adjacency.indptr):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[0]
    assert one.state.degree is not trunk.state.degree  # the rest is copied


def test_branching_before_the_policy_start_is_allowed():
    trunk = DigitalAdoptionModel(config=_config())
    for _ in range(3):
        trunk.step()
    cfg = _config("training")
    pd.testing.assert_frame_equal(trunk.branch(cfg).run().timeseries(),
                                  DigitalAdoptionModel(config=cfg).run().timeseries(), check_exact=True)


@pytest.mark.parametrize(("changed", "key"), [
    ({"seed": 2}, "seed"),
    ({"population.adoption_initial": 0.3}, "population.adoption_initial"),
    ({"population.n_citizens": 700}, "population.n_citizens"),
    ({"policy.political_will": 0.9}, "policy.political_will"),
])
def test_a_config_with_another_history_is_refused_in_one_line(changed, key):
    trunk = _at_start(_config())
    with pytest.raises(ConfigError, match=rf"^branch: {key}=.* so the history differs; allowed:") as info:
        trunk.branch(_config("training", **changed))
    assert "\n" not in str(info.value)


def test_branching_after_the_policy_start_is_refused():
    trunk = _at_start(_config())
    trunk.step()
    with pytest.raises(ConfigError, match=r"^branch: the model is at month 7, past the policy start of "
                                          r"training \(month 6, 2020-07\)") as info:
        trunk.branch(_config("training"))
    assert "\n" not in str(info.value)


def test_a_model_whose_set_policy_changed_its_history_is_refused():
    model = DigitalAdoptionModel(config=_config())
    model.step()
    model.set_policy(political_will=0.9)
    model.step()
    with pytest.raises(ConfigError, match=r"^branch: set_policy changed policy\.political_will at month 1"):
        model.branch(_config(**{"policy.political_will": 0.9}))
    other = DigitalAdoptionModel(config=_config())
    other.set_policy(allocation__training=0.5)  # acts only from the policy start: harmless
    assert other.branch(_config("training")).policy_changes == []


def test_deepcopy_gives_an_independent_model_with_its_own_agent_views():
    model = DigitalAdoptionModel(config=_config(materialise_agents="always"))
    model.step()
    twin = copy.deepcopy(model)
    assert len(twin.agents) == len(model.agents) > 0
    assert all(agent.model is twin for agent in twin.agents)
    assert {a.unique_id for a in twin.agents} == {a.unique_id for a in model.agents}
    model.run()
    twin.run()
    pd.testing.assert_frame_equal(twin.timeseries(), model.timeseries(), check_exact=True)
    citizen = next(a for a in twin.agents if isinstance(a, Citizen))
    assert citizen.trust == twin.state.citizens.trust[citizen.index]
    # a branch makes agent views when its config asks for them, as a new model would
    trunk = _at_start(_config())
    assert len(trunk.agents) == 0
    assert len(trunk.branch(_config("training", materialise_agents="always")).agents) > 0
