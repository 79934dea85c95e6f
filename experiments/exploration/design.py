"""Designs over the uncertain parameters, shared by sensitivity analysis and scenario discovery.

The space varied is either every parameter declared with a prior (:func:`sim.parameters.uncertain_parameters`)
or the parameters named in a user's file (``uncertainty_file=PATH``)::

    parameters:
      params.adoption.intercept: {low: -4.0, high: 0.0}
      budget_idr_bn_per_month: {low: 100, high: 1000, kind: loguniform}   # kind: optional

Samplers (SALib's Morris, Saltelli/Sobol and Latin hypercube) work on the unit cube, one axis per
parameter; :meth:`Space.values` maps their quantiles to values with each prior's own
:meth:`~sim.parameters.Prior.from_unit`, so that log-uniform priors are honoured and the indices
stay comparable across parameters whatever their units.

Each sample point becomes one :class:`~sim.config.SimConfig` per scenario, all with the same seed
(common random numbers), so that a policy effect at a point is a paired difference and the design's
elementary effects are not swamped by seed-to-seed noise. Outcomes are summary metrics of a run
(``adoption_final``) or paired effects (``effect:training:adoption_final``: that scenario minus the
baseline scenario at the same point and seed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.engine.settings import RunSettings, composed
from sim.config import ConfigError, SimConfig, apply_overrides, compose, group_options, validate
from sim.declarations import uncertain_parameters
from sim.parameters import Prior, get_value
from sim.store.record import RunRecord, summaries_table

EFFECT_PREFIX = "effect"


# --------------------------------------------------------------------------- the parameter space
@dataclass(frozen=True)
class Uncertain:
    """One varied parameter: its dotted config key, its prior and whether the setting is an integer."""

    key: str
    prior: Prior
    integer: bool = False


@dataclass(frozen=True)
class Space:
    """The varied parameters, in a fixed order (the columns of every sample matrix)."""

    parameters: tuple[Uncertain, ...]
    source: str  # "declarations" or the uncertainty file's path

    @property
    def names(self) -> list[str]:
        return [p.key for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: the unit cube, one axis per parameter (values come from :meth:`values`)."""
        return {"num_vars": len(self.parameters), "names": self.names,
                "bounds": [[0.0, 1.0]] * len(self.parameters)}

    def values(self, unit: np.ndarray) -> pd.DataFrame:
        """Parameter values (one row per sample point) from quantiles in [0, 1]."""
        unit = np.atleast_2d(np.asarray(unit, dtype=float))
        cols = {}
        for j, p in enumerate(self.parameters):
            x = p.prior.from_unit(np.clip(unit[:, j], 0.0, 1.0))
            cols[p.key] = np.round(x) if p.integer else x
        return pd.DataFrame(cols)

    def bounds(self) -> pd.DataFrame:
        return pd.DataFrame([{"parameter": p.key, "low": p.prior.low, "high": p.prior.high,
                              "kind": p.prior.kind} for p in self.parameters])


def _numeric_setting(base: SimConfig, key: str) -> Any:
    """The current value of a scalar numeric setting, or ConfigError naming the key."""
    try:
        value = get_value(base, key)
    except AttributeError:
        value = None
        apply_overrides(base, {key: 0})  # raises the one-line "unknown key; allowed keys ..." error
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: not a numeric setting ({value!r}); allowed: a number-valued key such "
                          "as params.adoption.intercept (docs/parameters.md)")
    return value


def _file_entry(key: str, entry: Any, where: str) -> Prior:
    keys = set(entry) if isinstance(entry, dict) else set()
    if not {"low", "high"} <= keys or keys - {"low", "high", "kind"}:
        raise ConfigError(f"{where}: {key}={entry!r}: malformed; allowed: {{low: <number>, high: <number>}} "
                          "with an optional kind: uniform or loguniform")
    low, high, kind = entry["low"], entry["high"], entry.get("kind", "uniform")
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{where}: {key}.{name}={v!r}: out of range; allowed: a finite number")
    try:
        return Prior(float(low), float(high), str(kind))
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}: {exc}; allowed: low < high (and low > 0 for loguniform)"
                          ) from None


def load_space(uncertainty_file: str | None, only: Sequence[str] = (),
               base: SimConfig | None = None) -> Space:
    """The varied parameters: the declared priors, or the user's file; ``only`` keeps a subset.

    Every check happens here, before anything runs: the file parses, each key is a numeric setting
    of the model, each range is an interval, and the lowest and the highest values all pass the
    model's own validation (unknown keys and out-of-range values give its one-line error).
    """
    if base is None:
        base = compose()
    if uncertainty_file is None:
        params = tuple(Uncertain(d.key, d.spec.prior, d.spec.integer) for d in uncertain_parameters())
        source = "the declared priors"
    else:
        path = Path(uncertainty_file)
        where = f"uncertainty_file={uncertainty_file}"
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read ({exc.strerror or exc}); allowed: a YAML file") from None
        except yaml.YAMLError:
            raise ConfigError(f"{where}: not valid YAML; allowed: parameters: "
                              "{key: {low:, high:}}") from None
        entries = data.get("parameters") if isinstance(data, dict) else None
        if not isinstance(entries, dict) or not entries:
            raise ConfigError(f"{where}: no 'parameters' mapping; allowed: parameters: "
                              "{dotted.key: {low: <number>, high: <number>}, ...}")
        params = []
        for key, entry in entries.items():
            prior = _file_entry(str(key), entry, where)
            current = _numeric_setting(base, str(key))
            params.append(Uncertain(str(key), prior, isinstance(current, int)))
        for corner in ("low", "high"):
            try:
                apply_overrides(base, {p.key: _typed(p, getattr(p.prior, corner)) for p in params})
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        params = tuple(params)
        source = f"the ranges in {path}"
    if only:
        known = {p.key for p in params}
        for key in only:
            if key not in known:
                raise ConfigError(f"parameters={key!r}: not among the varied parameters ({source}); allowed: "
                                  f"{', '.join(sorted(known))}")
        params = tuple(p for p in params if p.key in set(only))
    if len(params) < 2:
        raise ConfigError(f"parameters: {len(params)} varied parameter(s); allowed: at least 2")
    return Space(params, source)


def _typed(p: Uncertain, value: float) -> int | float:
    return int(round(value)) if p.integer else float(value)


# --------------------------------------------------------------------------- configs of sample points
def set_values(cfg: SimConfig, values: dict[str, Any]) -> SimConfig:
    """A copy of ``cfg`` with dotted keys set (nested :func:`dataclasses.replace`), then validated.

    This is :func:`sim.config.apply_overrides` without the round trip through OmegaConf, which costs
    about 0.3 s per config: too slow for designs of thousands of points. The keys were checked
    against the schema by :func:`load_space`.
    """
    out = cfg
    for key, value in values.items():
        out = _replace_path(out, key.split("."), value)
    validate(out)
    return out


def _replace_path(node: Any, parts: list[str], value: Any) -> Any:
    head = parts[0]
    if len(parts) == 1:
        current = getattr(node, head)
        new = int(round(value)) if isinstance(current, int) else float(value)
        return replace(node, **{head: new})
    child = getattr(node, head)
    if not is_dataclass(child):
        raise ConfigError(f"{'.'.join(parts)}: not a setting of the model")
    return replace(node, **{head: _replace_path(child, parts[1:], value)})


def scenario_bases(cfg: RunSettings, scenarios: Sequence[str]) -> dict[str, SimConfig]:
    """Each scenario composed once as the app's model (profile, network, portfolio, parameter set and
    model settings: :func:`experiments.engine.settings.composed`), for copying per sample point (no
    progress bar, no agent objects)."""
    return {name: replace(composed(cfg, name), progress=False, materialise_agents="never")
            for name in scenarios}


def point_configs(bases: dict[str, SimConfig], values: pd.DataFrame, seeds: Sequence[int]) -> list[SimConfig]:
    """One config per point x scenario x seed, in that order (points outermost)."""
    configs = []
    records = values.to_dict("records")
    for row in records:
        for base in bases.values():
            point = set_values(base, row)
            configs += [replace(point, seed=int(s)) for s in seeds]
    return configs


# --------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Outcome:
    """A summary metric of the analysed scenario, or a paired effect ``effect:<scenario>:<metric>``."""

    name: str
    metric: str
    scenario: str | None = None  # set for effects

    @property
    def is_effect(self) -> bool:
        return self.scenario is not None


def parse_outcome(name: str, known_metrics: Sequence[str]) -> Outcome:
    """``adoption_final`` or ``effect:training:adoption_final``; ConfigError (one line) otherwise."""
    parts = name.split(":")
    if len(parts) == 3 and parts[0] == EFFECT_PREFIX:
        policies = group_options("policy")
        if parts[1] not in policies:
            raise ConfigError(f"outcomes={name!r}: unknown scenario {parts[1]!r}; allowed: "
                              f"{', '.join(policies)}")
        metric, scenario = parts[2], parts[1]
    elif len(parts) == 1:
        metric, scenario = name, None
    else:
        raise ConfigError(f"outcomes={name!r}: malformed; allowed: a summary metric or "
                          "effect:<scenario>:<metric>")
    if metric not in known_metrics:
        raise ConfigError(f"outcomes={name!r}: unknown summary metric {metric!r}; allowed: "
                          f"{', '.join(known_metrics)}")
    return Outcome(name, metric, scenario)


def outcome_scenarios(outcomes: Sequence[Outcome], policy: str, baseline: str) -> list[str]:
    """The scenarios the outcomes need: the analysed one, and for effects each scenario and the baseline."""
    names = [policy] if any(not o.is_effect for o in outcomes) else []
    for o in outcomes:
        if o.is_effect:
            names += [o.scenario, baseline]
    return list(dict.fromkeys(names))


def summaries(records: Sequence[RunRecord], n_points: int, scenarios: Sequence[str],
              n_seeds: int) -> dict[str, pd.DataFrame]:
    """Per scenario, the runs' summaries indexed by (point, replicate), from run records in the order
    :func:`point_configs` made their configs."""
    table = summaries_table(records)
    idx = pd.MultiIndex.from_product([range(n_points), scenarios, range(n_seeds)],
                                     names=["point", "scenario", "replicate"])
    table.index = idx
    return {s: table.xs(s, level="scenario") for s in scenarios}


def outcome_values(outcome: Outcome, by_scenario: dict[str, pd.DataFrame], policy: str,
                   baseline: str) -> pd.Series:
    """The outcome at every (point, replicate): the metric, or the paired effect."""
    if outcome.is_effect:
        a = pd.to_numeric(by_scenario[outcome.scenario][outcome.metric], errors="coerce")
        b = pd.to_numeric(by_scenario[baseline][outcome.metric], errors="coerce")
        return (a - b).rename(outcome.name)
    return pd.to_numeric(by_scenario[policy][outcome.metric], errors="coerce").rename(outcome.name)


# --------------------------------------------------------------------------- conditions (discovery)
_SIDE = r"\s*([A-Za-z0-9_-]+:[A-Za-z0-9_]+|[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan))\s*"
_CONDITION = re.compile(rf"^{_SIDE}(>=|<=|>|<){_SIDE}$")
_OPS = {">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal}


@dataclass(frozen=True)
class Condition:
    """``<scenario>:<metric> <op> <scenario>:<metric>`` (either side may be a number)."""

    text: str
    left: tuple[str, str] | float
    op: str
    right: tuple[str, str] | float

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(s[0] for s in (self.left, self.right) if isinstance(s, tuple)))

    def holds(self, by_scenario: dict[str, pd.DataFrame]) -> pd.Series:
        def side(s: tuple[str, str] | float) -> Any:
            return pd.to_numeric(by_scenario[s[0]][s[1]], errors="coerce") if isinstance(s, tuple) else s

        return pd.Series(_OPS[self.op](side(self.left), side(self.right)), name="condition")


def parse_condition(text: str, known_metrics: Sequence[str]) -> Condition:
    """A condition on the scenarios' summaries; ConfigError (one line) when malformed or unknown."""
    match = _CONDITION.match(text)
    allowed = "<scenario>:<metric> <op> <scenario>:<metric> (op: >, <, >=, <=; a side may be a number)"
    if not match:
        raise ConfigError(f"condition={text!r}: malformed; allowed: {allowed}")
    sides: list[tuple[str, str] | float] = []
    policies = group_options("policy")
    for raw in (match.group(1), match.group(3)):
        if ":" not in raw:
            sides.append(float(raw))
            continue
        scenario, metric = raw.split(":")
        if scenario not in policies:
            raise ConfigError(f"condition={text!r}: unknown scenario {scenario!r}; allowed: "
                              f"{', '.join(policies)}")
        if metric not in known_metrics:
            raise ConfigError(f"condition={text!r}: unknown summary metric {metric!r}; allowed: "
                              f"{', '.join(known_metrics)}")
        sides.append((scenario, metric))
    if not any(isinstance(s, tuple) for s in sides):
        raise ConfigError(f"condition={text!r}: compares two numbers; allowed: {allowed}")
    if sides[0] == sides[1]:
        raise ConfigError(f"condition={text!r}: compares {':'.join(sides[0])} with itself, so it holds "
                          f"everywhere or nowhere; allowed: two different sides")
    for side in sides:
        if not isinstance(side, tuple) and not math.isfinite(side):
            raise ConfigError(f"condition={text!r}: compares with {side}, so it holds everywhere or "
                              "nowhere; allowed: a finite number")
    return Condition(text, sides[0], match.group(2), sides[1])
