"""Settings of ``python -m experiments.calibration`` and their checks (one line, exit 2)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from sim.config import ConfigError, compose, group_options
from sim.declarations import declaration, uncertain_parameters
from sim.parameters import Declared, Prior
from sim.rules.trends import decimal_year


@dataclass
class CalibrateConfig:
    population: str = "indonesia"
    n_citizens: int = 10_000
    network: str = "homophilous"
    start_date: str = "2020-01"
    anchor_access_date: str = "2023-01"
    anchor_access_level: float = 0.7819
    initial: dict[str, Any] = field(default_factory=lambda: {"population.trust_mean": 0.75})
    start_priors: dict[str, list[float]] = field(
        default_factory=lambda: {"population.adoption_initial": [0.02, 0.4]})
    initial_conditions: list[str] = field(default_factory=lambda: [
        "population.adoption_initial", "population.awareness_initial"])
    exclude: list[str] = field(default_factory=lambda: ["params.costs.", "policy."])
    infer: list[str] = field(default_factory=list)
    targets: str = "configs/calibration/targets.yaml"
    method: str = "rejection"
    tolerance: float | None = None
    population_size: int = 200
    max_generations: int = 8
    max_simulations: int = 12_000
    max_walltime_minutes: float = 110.0
    predictive_draws: int = 100
    n_jobs: int = -1
    seed: int = 0
    quick: bool = False
    ship: bool = False


ConfigStore.instance().store(name="calibrate_schema", node=CalibrateConfig)

METHODS = ("rejection", "smc")
QUICK = {"n_citizens": 1_000, "population_size": 8, "max_generations": 2, "max_simulations": 1_000,
         "predictive_draws": 6}


def effective(cfg: CalibrateConfig) -> CalibrateConfig:
    """``quick=true`` shrinks the same pipeline to test-suite size."""
    if cfg.quick:
        for key, value in QUICK.items():
            setattr(cfg, key, value)
    return cfg


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")


def validate_calibrate(cfg: CalibrateConfig) -> None:
    populations, networks = group_options("population"), group_options("network")
    _check(cfg.population in populations, "population", cfg.population, ", ".join(populations))
    _check(cfg.network in networks, "network", cfg.network, ", ".join(networks))
    _check(cfg.n_citizens >= 100, "n_citizens", cfg.n_citizens, "an integer >= 100")
    decimal_year(cfg.start_date, "start_date")
    decimal_year(cfg.anchor_access_date, "anchor_access_date")
    _check(0 < cfg.anchor_access_level < 1, "anchor_access_level", cfg.anchor_access_level,
           "a share in (0, 1)")
    _check(cfg.method in METHODS, "method", cfg.method, ", ".join(METHODS))
    _check(cfg.tolerance is None or (math.isfinite(cfg.tolerance) and cfg.tolerance > 0), "tolerance",
           cfg.tolerance, "null (the error model's 95% bound) or a number > 0")
    _check(cfg.population_size >= 4, "population_size", cfg.population_size, "an integer >= 4")
    _check(cfg.max_generations >= 1, "max_generations", cfg.max_generations, "an integer >= 1")
    _check(cfg.max_simulations >= cfg.population_size, "max_simulations", cfg.max_simulations,
           f"an integer >= population_size ({cfg.population_size})")
    _check(math.isfinite(cfg.max_walltime_minutes) and cfg.max_walltime_minutes > 0,
           "max_walltime_minutes", cfg.max_walltime_minutes, "a number of minutes > 0")
    _check(cfg.predictive_draws >= 2, "predictive_draws", cfg.predictive_draws, "an integer >= 2")
    _check(cfg.n_jobs == -1 or cfg.n_jobs >= 1, "n_jobs", cfg.n_jobs, "-1 (every core) or an integer >= 1")
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    for key, bounds in cfg.start_priors.items():
        declaration(key)
        _check(len(bounds) == 2 and all(math.isfinite(b) for b in bounds) and bounds[0] < bounds[1],
               f"start_priors.{key}", list(bounds), "[low, high] with low < high")
    for key in cfg.initial_conditions:
        declaration(key)
    known = {d.key for d, _ in uncertain_set(cfg)}
    for key in cfg.infer:
        _check(key in known, "infer", key, "keys of uncertain parameters not excluded (docs/parameters.md)")
    compose(population=cfg.population, network=cfg.network, overrides=dict(cfg.initial))
    _check(bool(inferred_parameters(cfg)), "exclude", list(cfg.exclude),
           "prefixes that leave at least one uncertain parameter")


def inferred_parameters(cfg: CalibrateConfig) -> list[tuple[Declared, Prior]]:
    """The parameters ABC-SMC moves (``infer``; empty: every uncertain parameter not excluded)."""
    every = uncertain_set(cfg)
    return [pair for pair in every if not cfg.infer or pair[0].key in cfg.infer]


def marginalised_parameters(cfg: CalibrateConfig) -> list[tuple[Declared, Prior]]:
    """The other uncertain parameters: drawn afresh from their priors in every simulation, so the
    posterior integrates over them (their posterior is their prior)."""
    inferred = {d.key for d, _ in inferred_parameters(cfg)}
    return [pair for pair in uncertain_set(cfg) if pair[0].key not in inferred]


def uncertain_set(cfg: CalibrateConfig) -> list[tuple[Declared, Prior]]:
    """Every uncertain parameter that is not excluded, with its prior at the start date."""
    out = []
    for d in uncertain_parameters():
        if any(d.key.startswith(prefix) for prefix in cfg.exclude) or d.key in cfg.initial:
            continue
        prior = d.spec.prior
        if d.key in cfg.start_priors:
            low, high = cfg.start_priors[d.key]
            prior = Prior(float(low), float(high), prior.kind if prior else "uniform")
        out.append((d, prior))
    return out
