"""The direct path of :func:`sim.config.apply_overrides` (numbers on number fields) gives the config the
OmegaConf round trip gives, and hands everything else to that round trip and its one-line errors."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config import _apply_and_convert, apply_overrides, compose
from sim.parameters import ConfigError, is_locked
from sim.store.provenance import config_hash

BASE = compose(portfolio="indonesia")


def _round_trip(overrides):
    return _apply_and_convert(OmegaConf.structured(BASE), overrides)


@pytest.mark.parametrize("overrides", [
    {"params.adoption.intercept": -5.1, "population.trust_mean": 0.61},
    {"params.adoption.intercept": -5},  # an int on a float field becomes a float
    {"seed": 7, "network.mean_degree": 12.5, "params.trust.susceptibility": 0.25},
])
def test_direct_path_equals_the_round_trip(overrides):
    direct, round_trip = apply_overrides(BASE, overrides), _round_trip(overrides)
    assert direct == round_trip
    assert config_hash(direct) == config_hash(round_trip)
    assert type(direct.params.adoption.intercept) is float
    assert is_locked(direct) and is_locked(direct.params.adoption)
    assert BASE.params.adoption.intercept == compose(portfolio="indonesia").params.adoption.intercept


def test_out_of_range_number_is_refused_with_one_line():
    with pytest.raises(ConfigError, match=r"params.adoption.w_trust=-1.0: out of range"):
        apply_overrides(BASE, {"params.adoption.w_trust": -1.0})


@pytest.mark.parametrize("overrides, message", [
    ({"params.adoption.no_such_key": 1.0}, "unknown key"),
    ({"seed": 2.5}, "seed"),  # a fraction on a whole-number field: OmegaConf's error
    ({"params.adoption.intercept": True}, "intercept"),
    ({"params.adoption.intercept": np.float32(-5.0)}, "intercept"),  # numpy scalars: as before, refused
])
def test_what_the_direct_path_cannot_take_gets_the_round_trip_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(BASE, overrides)


def test_text_and_service_keys_take_the_round_trip():
    changed = apply_overrides(BASE, {"policy.targeting": "rural",
                                     "services.tax_filing.need_rate": 0.3})
    assert changed.policy.targeting == "rural"
    assert changed.services["tax_filing"].need_rate == 0.3
    assert BASE.services["tax_filing"].need_rate != 0.3


def test_services_of_a_validated_config_are_read_only():
    with pytest.raises(AttributeError):
        BASE.services["tax_filing"].need_rate = 0.1
