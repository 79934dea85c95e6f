"""Schemas and range checks of the experiment apps (policy comparison, budget frontier).

The YAML files are ``configs/experiment/compare.yaml`` and ``configs/experiment/frontier.yaml``; these
dataclasses give Hydra the types and the known keys, and :func:`validate_compare` /
:func:`validate_frontier` the ranges, with a one-line error naming the key, the value and what is
allowed. Every simulation the experiments launch is also checked against the model's own schema
(:func:`check_sim_overrides`) before any job starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from hydra.core.config_store import ConfigStore

from experiments.engine.posterior import check_uncertainty
from sim.config import LEVERS, ConfigError, compose, group_options

EXPERIMENT_CONFIG_DIR = "experiment"  # below sim.config.CONFIG_DIR
LAUNCHERS = ("joblib", "basic", "ray")


def default_scenarios() -> list[str]:
    """Every policy scenario in ``configs/policy/``, baseline first."""
    names = group_options("policy")
    return ["baseline", *[n for n in names if n != "baseline"]] if "baseline" in names else names


@dataclass
class CompareConfig:
    """Policy comparison: every scenario x several seeds on one population profile."""

    population: str = "indonesia"  # population profile (configs/population/)
    n_citizens: int | None = 20_000  # agents per run; None: the profile's own size
    network: str = "homophilous"  # social network (configs/network/)
    steps: int = 60  # months simulated per run
    seeds: int = 10  # runs per scenario (seeds first_seed .. first_seed + seeds - 1)
    first_seed: int = 0
    scenarios: list[str] = field(default_factory=default_scenarios)  # policy scenarios to compare
    baseline: str = "baseline"  # the scenario the effects are measured against
    budget_idr_bn_per_month: float | None = None  # None: the model's declared default
    n_jobs: int = -1  # parallel runs (joblib, local ray); -1: every local core
    launcher: str = "joblib"  # joblib (local cores), basic (one run after another) or ray
    ray_address: str | None = None  # launcher=ray: a cluster's address; None: a local Ray for this job
    overrides: list[str] = field(default_factory=list)  # extra model overrides for every run
    progress: bool = True  # progress bar
    reuse: bool = False  # aggregate the runs already in <output>/runs instead of running them
    uncertainty: str = "posterior"  # posterior: one posterior draw per seed (paired); none: defaults
    posterior_file: str | None = None  # None: the shipped posterior (experiments/data/)


@dataclass
class FrontierConfig:
    """Budget frontier: one total budget, split between two levers in equal steps."""

    population: str = "indonesia"
    n_citizens: int | None = 20_000
    network: str = "homophilous"
    steps: int = 60
    seeds: int = 5
    first_seed: int = 0
    budget_idr_bn_per_month: float | None = None  # None: the model's default
    base_policy: str = "baseline"  # targeting and political will come from this scenario
    pairs: list[list[str]] = field(default_factory=lambda: [["training", "infrastructure"]])
    n_splits: int = 11  # shares of the first lever: 0, 1/(n-1), ..., 1
    reference: bool = True  # also run the same seeds with no extra spending
    objective: str = "adoption_final"  # summary metric that defines the best split
    maximize: bool = True
    equity_metrics: list[str] = field(
        default_factory=lambda: ["gap_urban_rural", "gap_income_q5_q1", "gap_region_max_min"]
    )
    bootstrap: int = 2000  # resamples of the seeds for the uncertainty of the best split
    n_jobs: int = -1
    launcher: str = "joblib"
    ray_address: str | None = None
    overrides: list[str] = field(default_factory=list)
    progress: bool = True
    reuse: bool = False
    uncertainty: str = "posterior"
    posterior_file: str | None = None


ConfigStore.instance().store(name="compare_schema", node=CompareConfig)
ConfigStore.instance().store(name="frontier_schema", node=FrontierConfig)


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")


def _check_common(cfg: CompareConfig | FrontierConfig) -> None:
    populations, networks = group_options("population"), group_options("network")
    _check(cfg.population in populations, "population", cfg.population, ", ".join(populations))
    _check(cfg.network in networks, "network", cfg.network, ", ".join(networks))
    _check(cfg.n_citizens is None or cfg.n_citizens >= 10, "n_citizens", cfg.n_citizens,
           "an integer >= 10 or null for the profile's own size")
    _check(cfg.steps >= 1, "steps", cfg.steps, "an integer >= 1 (months)")
    if hasattr(cfg, "seeds"):  # designs over parameters run one seed per point (SensitivityConfig)
        _check(cfg.seeds >= 2, "seeds", cfg.seeds, "an integer >= 2 (a confidence interval needs two runs)")
        _check(cfg.first_seed >= 0, "first_seed", cfg.first_seed, "an integer >= 0")
    _check(cfg.n_jobs == -1 or cfg.n_jobs >= 1, "n_jobs", cfg.n_jobs, "-1 (every core) or an integer >= 1")
    _check(cfg.launcher in LAUNCHERS, "launcher", cfg.launcher, ", ".join(LAUNCHERS))
    _check(cfg.ray_address is None or cfg.ray_address.strip() != "", "ray_address", cfg.ray_address,
           "a Ray cluster address (host:port, auto) or null for a local Ray")
    if cfg.budget_idr_bn_per_month is not None:
        _check(cfg.budget_idr_bn_per_month > 0, "budget_idr_bn_per_month", cfg.budget_idr_bn_per_month,
               "a number > 0 (IDR billion per month) or null for the model's default")
    for item in cfg.overrides:
        _check("=" in item and not item.startswith("="), "overrides", item, "a list of key=value strings")
    if hasattr(cfg, "uncertainty"):  # designs over parameters sample their own values (no posterior)
        check_uncertainty(cfg.uncertainty, cfg.posterior_file)


def validate_compare(cfg: CompareConfig) -> None:
    """Range checks of the comparison; raises ConfigError with one line."""
    _check_common(cfg)
    policies = group_options("policy")
    _check(len(cfg.scenarios) >= 1, "scenarios", list(cfg.scenarios), "a non-empty list of scenarios")
    for name in cfg.scenarios:
        _check(name in policies, "scenarios", name, ", ".join(policies))
    _check(len(set(cfg.scenarios)) == len(cfg.scenarios), "scenarios", list(cfg.scenarios),
           "a list without repeats")
    _check(cfg.baseline in cfg.scenarios, "baseline", cfg.baseline,
           f"one of the compared scenarios ({', '.join(cfg.scenarios)})")


def validate_frontier(cfg: FrontierConfig) -> None:
    """Range checks of the frontier; raises ConfigError with one line."""
    _check_common(cfg)
    policies = group_options("policy")
    _check(cfg.base_policy in policies, "base_policy", cfg.base_policy, ", ".join(policies))
    _check(len(cfg.pairs) >= 1, "pairs", list(cfg.pairs), "a non-empty list of [lever, lever] pairs")
    for pair in cfg.pairs:
        _check(len(pair) == 2 and pair[0] != pair[1], "pairs", list(pair), "two different levers")
        for lever in pair:
            _check(lever in LEVERS, "pairs", lever, ", ".join(LEVERS))
    _check(cfg.n_splits >= 2, "n_splits", cfg.n_splits, "an integer >= 2")
    _check(cfg.bootstrap >= 0, "bootstrap", cfg.bootstrap, "an integer >= 0")


def model_overrides(cfg: CompareConfig | FrontierConfig) -> list[str]:
    """The model overrides every run of the experiment shares (scale, horizon, budget, extras)."""
    out = [f"steps={cfg.steps}"]
    if cfg.n_citizens is not None:
        out.append(f"population.n_citizens={cfg.n_citizens}")
    if cfg.budget_idr_bn_per_month is not None:
        out.append(f"budget_idr_bn_per_month={cfg.budget_idr_bn_per_month}")
    return out + list(cfg.overrides)


def check_sim_overrides(cfg: CompareConfig | FrontierConfig, policy: str,
                        extra: dict[str, Any] | None = None) -> None:
    """Compose one run's model config, so that a bad model override fails before the sweep."""
    items = model_overrides(cfg)
    if extra:
        parsed: dict[str, Any] = {}
        for item in items:
            key, _, raw = item.partition("=")
            parsed[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        compose(policy=policy, population=cfg.population, network=cfg.network, overrides={**parsed, **extra})
    else:
        compose(policy=policy, population=cfg.population, network=cfg.network, overrides=items)


# --------------------------------------------------------------------------- designs over parameters
SENSITIVITY_METHODS = ("morris", "sobol")


@dataclass
class SensitivityConfig:
    """Global sensitivity analysis (SALib) over the uncertain parameters of one scenario."""

    population: str = "indonesia"
    n_citizens: int | None = 10_000
    network: str = "homophilous"
    steps: int = 60
    method: str = "morris"  # morris (screening) or sobol (first-order and total indices)
    policy: str = "baseline"  # the scenario analysed (outcomes without effect:)
    baseline: str = "baseline"  # effects effect:<scenario>:<metric> are measured against this scenario
    outcomes: list[str] = field(default_factory=lambda: [
        "adoption_final", "gap_urban_rural", "gap_income_q5_q1", "trust_mean_final"])
    uncertainty_file: str | None = None  # YAML parameters: {key: {low:, high:}}; None: the declared priors
    parameters: list[str] = field(default_factory=list)  # keep only these of the varied parameters
    trajectories: int = 10  # Morris: trajectories (runs: trajectories x (parameters + 1))
    num_levels: int = 4  # Morris: grid levels per parameter
    sobol_n: int = 64  # Sobol: base sample, a power of 2 (runs: sobol_n x (parameters + 2))
    resamples: int = 1000  # bootstrap resamples for the confidence intervals
    conf_level: float = 0.95
    seed: int = 0  # simulation seed of every design point (common random numbers)
    sample_seed: int = 0  # seed of the sampler and the bootstrap
    noise_points: int = 3  # points at which the run-to-run noise is measured
    noise_seeds: int = 5  # seeds at each of those points
    budget_idr_bn_per_month: float | None = None
    n_jobs: int = -1
    launcher: str = "joblib"
    ray_address: str | None = None
    overrides: list[str] = field(default_factory=list)
    progress: bool = True
    reuse: bool = False


@dataclass
class DiscoverConfig:
    """Scenario discovery: a Latin hypercube over the uncertain parameters, PRIM on a condition."""

    population: str = "indonesia"
    n_citizens: int | None = 10_000
    network: str = "homophilous"
    steps: int = 60
    n_samples: int = 200  # Latin hypercube points (runs: n_samples x scenarios in the condition)
    condition: str = "training:adoption_final > infrastructure:adoption_final"
    uncertainty_file: str | None = None
    parameters: list[str] = field(default_factory=list)
    seed: int = 0  # simulation seed of every point (common random numbers across the scenarios)
    sample_seed: int = 0  # seed of the Latin hypercube
    peel_alpha: float = 0.05  # PRIM: share of the points peeled per step
    paste_alpha: float = 0.05
    mass_min: float = 0.05  # PRIM: smallest share of the points a box may hold
    min_coverage: float = 0.5  # the box chosen: the densest on the trajectory with at least this coverage
    max_qp: float | None = 0.05  # then drop restrictions with a larger quasi-p value (None: keep all)
    max_boxes: int = 1  # boxes to find one after another
    budget_idr_bn_per_month: float | None = None
    n_jobs: int = -1
    launcher: str = "joblib"
    ray_address: str | None = None
    overrides: list[str] = field(default_factory=list)
    progress: bool = True
    reuse: bool = False


ConfigStore.instance().store(name="sensitivity_schema", node=SensitivityConfig)
ConfigStore.instance().store(name="discover_schema", node=DiscoverConfig)


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def validate_sensitivity(cfg: SensitivityConfig) -> None:
    """Range checks of the sensitivity analysis; raises ConfigError with one line."""
    _check_common(cfg)
    policies = group_options("policy")
    _check(cfg.method in SENSITIVITY_METHODS, "method", cfg.method, ", ".join(SENSITIVITY_METHODS))
    _check(cfg.policy in policies, "policy", cfg.policy, ", ".join(policies))
    _check(cfg.baseline in policies, "baseline", cfg.baseline, ", ".join(policies))
    _check(len(cfg.outcomes) >= 1, "outcomes", list(cfg.outcomes), "a non-empty list of outcomes")
    _check(len(set(cfg.outcomes)) == len(cfg.outcomes), "outcomes", list(cfg.outcomes),
           "a list without repeats")
    _check(cfg.trajectories >= 2, "trajectories", cfg.trajectories, "an integer >= 2")
    _check(cfg.num_levels >= 2 and cfg.num_levels % 2 == 0, "num_levels", cfg.num_levels,
           "an even integer >= 2")
    _check(_is_power_of_two(cfg.sobol_n) and cfg.sobol_n >= 4, "sobol_n", cfg.sobol_n,
           "a power of 2, at least 4")
    _check(cfg.resamples >= 10, "resamples", cfg.resamples, "an integer >= 10")
    _check(0.5 <= cfg.conf_level < 1, "conf_level", cfg.conf_level, "a number in [0.5, 1)")
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _check(cfg.sample_seed >= 0, "sample_seed", cfg.sample_seed, "an integer >= 0")
    _check(cfg.noise_points >= 0, "noise_points", cfg.noise_points, "an integer >= 0 (0: no noise estimate)")
    _check(cfg.noise_seeds >= 2, "noise_seeds", cfg.noise_seeds, "an integer >= 2")


def validate_discover(cfg: DiscoverConfig) -> None:
    """Range checks of scenario discovery; raises ConfigError with one line."""
    _check_common(cfg)
    _check(cfg.n_samples >= 10, "n_samples", cfg.n_samples, "an integer >= 10")
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _check(cfg.sample_seed >= 0, "sample_seed", cfg.sample_seed, "an integer >= 0")
    for key in ("peel_alpha", "paste_alpha", "mass_min"):
        value = getattr(cfg, key)
        _check(0 < value < 0.5, key, value, "a number in (0, 0.5)")
    _check(0 <= cfg.min_coverage <= 1, "min_coverage", cfg.min_coverage, "a number in [0, 1]")
    _check(cfg.max_qp is None or 0 < cfg.max_qp <= 1, "max_qp", cfg.max_qp, "a number in (0, 1] or null")
    _check(cfg.max_boxes >= 1, "max_boxes", cfg.max_boxes, "an integer >= 1")
