"""A validated config is read-only: what passed the checks is what the model runs with.

Before, ``model.cfg.policy.allocation.training = 1.0`` mid-run (as a dashboard or an API client
might do) was accepted even when the shares then summed to 2; now any assignment raises and a change
goes through :func:`sim.config.with_changes`, which validates again.
"""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, replace

import pytest
from omegaconf import OmegaConf

from sim.config import Allocation, ConfigError, SimConfig, compose, quiet, to_sim_config, with_changes
from sim.model import DigitalAdoptionModel
from sim.parameters import is_locked
from sim.store.provenance import config_hash


def test_a_validated_config_refuses_attribute_assignment():
    cfg = compose(policy="comprehensive")
    with pytest.raises(FrozenInstanceError, match="with_changes"):
        cfg.seed = 3
    with pytest.raises(FrozenInstanceError):
        cfg.policy.allocation.training = 2.0
    with pytest.raises(FrozenInstanceError):
        cfg.policy.allocation = Allocation(training=1.0, literacy=1.0)
    with pytest.raises(FrozenInstanceError):
        cfg.params.trust.susceptibility = 0.5
    with pytest.raises(FrozenInstanceError):
        del cfg.mechanisms.training
    assert cfg == compose(policy="comprehensive")  # nothing changed


def test_a_running_model_cannot_be_given_an_invalid_allocation():
    model = DigitalAdoptionModel(n_citizens=300, policy="comprehensive", steps=4, seed=1,
                                 policy__start_date=None, progress=False)
    model.step()
    before = model.cfg.policy.allocation.training
    with pytest.raises(FrozenInstanceError):
        model.cfg.policy.allocation.training = 1.0
    with pytest.raises(FrozenInstanceError):
        model.cfg.policy.allocation = Allocation(training=1.0, literacy=1.0)
    with pytest.raises(ConfigError, match="policy.allocation"):
        with_changes(model.cfg, policy__allocation__training=1.0, policy__allocation__literacy=1.0)
    assert model.cfg.policy.allocation.training == before
    model.step()


def test_with_changes_gives_a_validated_read_only_copy():
    cfg = compose()
    changed = with_changes(cfg, seed=7, policy__political_will=0.9, **{"params.trust.susceptibility": 0.1})
    assert (changed.seed, changed.policy.political_will, changed.params.trust.susceptibility) == (7, 0.9, 0.1)
    assert cfg.seed != 7 and cfg.policy.political_will != 0.9  # the original is untouched
    assert is_locked(changed) and is_locked(changed.params.trust)
    with pytest.raises(FrozenInstanceError):
        changed.seed = 8
    with pytest.raises(ConfigError, match="unknown key"):
        with_changes(cfg, policy__no_such_key=1)
    with pytest.raises(ConfigError, match="out of range"):
        with_changes(cfg, steps=0)


def test_every_entry_point_locks_what_it_validated():
    assert is_locked(compose())
    raw = OmegaConf.merge(OmegaConf.structured(SimConfig), {"seed": 3})
    assert is_locked(to_sim_config(raw))
    fresh = SimConfig()
    assert not is_locked(fresh)
    fresh.seed = 5  # a config being built may still be assigned
    model = DigitalAdoptionModel(config=fresh, progress=False, materialise_agents="never")
    assert is_locked(model.cfg) and is_locked(model.cfg.population)


def test_replace_copies_and_pickles_keep_their_meaning():
    cfg = compose()
    copy = replace(cfg, seed=11)  # a new, unlocked top level over the same read-only blocks
    assert copy.seed == 11 and not is_locked(copy) and is_locked(copy.policy)
    assert is_locked(DigitalAdoptionModel(config=copy, progress=False, materialise_agents="never").cfg)
    back = pickle.loads(pickle.dumps(cfg))
    assert back == cfg and is_locked(back)
    with pytest.raises(FrozenInstanceError):
        back.policy.name = "other"


def test_a_quiet_copy_of_a_validated_config_is_validated_without_checking_again(monkeypatch):
    """A sweep's worker runs every config without a progress bar or agent views; the copy changes
    nothing a result depends on, so a validated config's copy is locked as it is (no second check),
    and an unvalidated one's is not (the model checks it)."""
    import sim.config

    cfg = compose(policy="training")
    assert cfg.progress  # the declared default: the copy differs
    checked = []
    monkeypatch.setattr(sim.config, "validate", lambda c: checked.append(c))
    copy = quiet(cfg)
    assert copy is not cfg and is_locked(copy) and not copy.progress and copy.materialise_agents == "never"
    assert config_hash(copy) == config_hash(cfg) and to_sim_config(copy) is copy and checked == []
    assert quiet(copy) is copy
    with pytest.raises(FrozenInstanceError):
        copy.seed = 3
    loose = quiet(replace(cfg, seed=4))  # never validated: its copy is not locked either
    assert not is_locked(loose)
    to_sim_config(loose)
    assert checked == [loose]
