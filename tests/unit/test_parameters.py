"""Parameter declarations: one home per parameter, read by the validator, the docs and the priors."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from experiments.engine.stamp import strip_stamp
from sim.config import CONFIG_DIR, ConfigError, SimConfig, apply_overrides, compose
from sim.declarations import declaration, parameters_markdown, uncertain_parameters
from sim.parameters import ANY_NAME, MAPPING_OF, Prior, declarations
from tests.conftest import REPO


def _leaf_fields(schema: type, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default) and "spec" not in f.metadata:
            keys += _leaf_fields(type(default), f"{prefix}{f.name}.")
        elif MAPPING_OF in f.metadata:
            keys += _leaf_fields(f.metadata[MAPPING_OF], f"{prefix}{f.name}.{ANY_NAME}.")
        else:
            keys.append(f"{prefix}{f.name}")
    return keys


def test_every_leaf_of_the_schema_is_declared():
    declared = {d.key for d in declarations(SimConfig)}
    assert set(_leaf_fields(SimConfig)) == declared


def test_every_declaration_has_a_unit_a_meaning_and_a_source():
    for d in declarations(SimConfig):
        assert d.spec.unit and d.spec.doc and d.spec.source, d.key


def test_every_numeric_assumption_has_a_prior_inside_its_range_around_its_default():
    """Every scalar assumption is uncertain, so it carries a prior; the default lies inside it."""
    for d in declarations(SimConfig):
        if not d.spec.is_assumption or not isinstance(d.default, float):
            continue
        assert d.spec.prior is not None, d.key
        assert d.spec.prior.contains(d.default), (d.key, d.default, d.spec.prior)
        assert d.spec.accepts(d.spec.prior.low) and d.spec.accepts(d.spec.prior.high), d.key


def test_no_default_is_written_twice():
    """Config files set only what differs from the declarations (profiles, scenarios, networks)."""
    defaults = {d.key: d.default for d in declarations(SimConfig)}
    for group in ("population", "network", "policy"):
        for path in (CONFIG_DIR / group).glob("*.yaml"):
            flat = _flatten(yaml.safe_load(path.read_text()) or {}, f"{group}.")
            repeated = [k for k, v in flat.items()
                        if k in defaults and v == defaults[k] and not k.endswith((".name", ".kind"))]
            assert not repeated, (path.name, repeated)
    top = yaml.safe_load((CONFIG_DIR / "config.yaml").read_text())
    assert not set(top) & {d.key for d in declarations(SimConfig)}


def _flatten(tree: dict, prefix: str) -> dict:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@pytest.mark.parametrize(("key", "value"), [
    ("params.trust.susceptibility", 1.0),
    ("params.adoption.need_rate", -0.1),
    ("params.costs.training_per_civil_servant", 0.0),
    ("population.access_by_region", [0.5, 0.5]),
    ("population.access_by_age", [0.5, 0.5, 1.5, 0.5]),
    ("network.kind", "lattice"),
    ("policy.mandate.exempt", ["nobody"]),
])
def test_values_outside_the_declared_range_get_one_line_naming_key_and_range(key, value):
    with pytest.raises(ConfigError) as err:
        apply_overrides(compose(), {key: value})
    message = str(err.value)
    assert "\n" not in message and key.split(".")[-1] in message and "allowed" in message
    assert declaration(key).spec.allowed().split(",")[0] in message


def test_the_prior_maps_quantiles_to_its_bounds():
    assert Prior(1.0, 3.0).from_unit(0.5) == pytest.approx(2.0)
    assert Prior(1.0, 100.0, "loguniform").from_unit(0.5) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        Prior(2.0, 1.0)


def test_uncertain_parameters_are_the_ones_with_a_prior():
    keys = {d.key for d in uncertain_parameters()}
    assert "params.adoption.intercept" in keys and "population.literacy_mean" not in keys


def test_the_parameter_document_is_generated_from_the_declarations():
    doc = REPO / "docs" / "parameters.md"
    assert strip_stamp(doc.read_text()) == parameters_markdown(), "regenerate: make docs"
