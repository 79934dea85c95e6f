"""Settings of the experiment apps, declared once with :func:`sim.parameters.par` like the model's own.

Every app's schema is a dataclass composed from the shared blocks below (by inheritance, so the keys
stay flat on the command line: ``seeds=20``, not ``run.seeds=20``):

- :class:`ModelChoice`: which population profile and network, how many citizens;
- :class:`Workers`: how the runs are executed (launcher, processes, progress bar);
- :class:`WorkLimit`: the most work an app may start (``max_agent_months``), so that a setting that
  cannot finish (``seeds=1000000000``) is refused at once instead of running for ever;
- :class:`RunSettings`: all three, plus the horizon, the budget and extra model settings, what every
  app that sweeps the model shares; :class:`ReplicatedSettings` (seeds and posterior draws: the
  comparison, the frontier) and :class:`DesignSettings` (one seed per design point: sensitivity
  analysis, scenario discovery) add what their kind of design needs.

Each declaration carries the default, the unit, the range and the help text; the YAML files in
``configs/experiment/`` keep only what differs from the declarations (with a comment why), ``--help``
lists the declarations (:func:`sim.help.app_help`), and :func:`check_settings` checks every declared
range with the model's own machinery (:func:`sim.parameters.check_declared_ranges`), so an app's
``validate_*`` function checks only what relates its own keys.

Model settings travel as typed values: :func:`model_settings` gives the dotted-key mapping
(``{"population.n_citizens": 20000, "params.adoption.need_rate": 0.2}``) that
:func:`sim.config.compose` applies. The one way to set a model key from an app is ``overrides``
(``overrides=["params.adoption.need_rate=0.2"]``), parsed once, here, into that mapping; a model key the
app sets from one of its own keys (``steps``, ``n_citizens``, the seeds, the scenario names) is refused
there with the app key to use instead, so that no setting is silently overwritten.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from hydra.core.config_store import ConfigStore

from experiments.engine.posterior import UNCERTAINTY, check_uncertainty
from sim.config import (
    APP_PORTFOLIO,
    CONFIG_DIR,
    LEVERS,
    ConfigError,
    SimConfig,
    check_finite,
    compose,
    group_options,
    history_months,
    runnable_policies,
)
from sim.declarations import declaration
from sim.parameters import check_declared_ranges, par
from sim.provinces import N_PROVINCES

EXPERIMENT_CONFIG_DIR = "experiment"  # below sim.config.CONFIG_DIR
LAUNCHERS = ("joblib", "basic", "ray")
SENSITIVITY_METHODS = ("morris", "sobol")
_APP = "experiment setting"
# Measured speed of the model: 1 M citizens x 60 months in 20.9 s on one core (benchmarks/results.md).
AGENT_MONTHS_PER_CORE_SECOND = 1e6 * 60 / 20.9


PORTFOLIO_DOC = ("the services (configs/portfolio/): indonesia (tax filing, business licence, digital "
                 "identity and the 2020 census beside the general service) or general (the one general "
                 "service)")


def default_scenarios(portfolio: str = APP_PORTFOLIO) -> list[str]:
    """Every policy scenario in ``configs/policy/`` that runs under ``portfolio``, baseline first (a
    scenario whose mandate names services needs a portfolio with them;
    :func:`sim.config.runnable_policies`)."""
    names = runnable_policies(portfolio)
    return ["baseline", *[n for n in names if n != "baseline"]] if "baseline" in names else names


def scenario_list(cfg: CompareConfig) -> list[str]:
    """The scenarios a comparison runs: those named, or (null) every one that runs under its portfolio."""
    return list(cfg.scenarios) if cfg.scenarios is not None else default_scenarios(cfg.portfolio)


# --------------------------------------------------------------------------- shared blocks
@dataclass
class ModelChoice:
    """Which model every run of the app simulates."""

    population: str = par("indonesia", "-", "population profile (configs/population/)", _APP)
    n_citizens: int | None = par(20_000, "agents", "agents per run; null: the profile's own size", _APP,
                                 low=10, integer=True)
    province_min_share: float | None = par(
        None, "share of the citizen agents", "the share of the citizen agents every province gets at "
        "least, in a sample stratified by province with survey weights (population.province_min_share, "
        "docs/ODD.md); null: the model's declared 0, provinces in proportion to their people (the main "
        "job sets 0.015, 300 of 20,000 citizens, configs/experiment/compare.yaml)", _APP, low=0,
        high=1 / N_PROVINCES)
    network: str = par("homophilous", "-", "citizens' social network (configs/network/)", _APP)
    portfolio: str = par(APP_PORTFOLIO, "-", PORTFOLIO_DOC, _APP)
    parameter_set: str = par("calibrated", "-", "parameter set under every run (configs/parameters/): "
                          "calibrated (the posterior draw nearest the median; the portfolio's own where "
                          "one ships, calibrated_<portfolio>) or declared (the declared "
                          "defaults); uncertainty=posterior sets each seed's own draw over it", _APP,
                          choices=("calibrated", "declared"))


@dataclass
class Workers:
    """How the runs are executed (the runner, :mod:`experiments.engine.runner`)."""

    n_jobs: int = par(-1, "processes", "runs in parallel (joblib, local ray); -1: every local core",
                      _APP, low=-1, integer=True)
    launcher: str = par("joblib", "-", "joblib (local cores), basic (one run after another) or ray",
                        _APP, choices=LAUNCHERS)
    ray_address: str | None = par(None, "-", "launcher=ray: a cluster's address (host:port or auto); "
                                  "null: a local Ray for this job", _APP)
    progress: bool = par(True, "switch", "progress bar", _APP)


@dataclass
class WorkLimit:
    """The most work one command may start."""

    max_agent_months: float = par(
        1e11, "agent-months", "refuse settings whose runs x citizens x months exceed this (1e11: about "
        "nine core-hours at the measured speed); raise it for a deliberate long job", _APP, low=1)


@dataclass
class RunSettings(ModelChoice, Workers, WorkLimit):
    """What every app that sweeps the model shares."""

    # model keys the app sets from its own settings: refused in ``overrides`` (see model_settings)
    SEED_KEY: ClassVar[str] = "seed"
    OWN_MODEL_KEYS: ClassVar[dict[str, str]] = {}

    steps: int = par(60, "months", "months of the forecast per run, from policy.start_date (2025-01) on; "
                     "each run first lives through the history from start_date (2020-01), which is "
                     "the same in every scenario", _APP, low=1, integer=True)
    budget_idr_bn_per_month: float | None = par(
        None, "IDR bn / month", "monthly budget of every non-baseline scenario; null: the model's "
        "declared default", _APP, low=0, low_open=True)
    overrides: list[str] = par([], "-", "extra model settings for every run, e.g. "
                               "[\"params.adoption.need_rate=0.2\"]", _APP)
    reuse: bool = par(False, "switch", "true: analyse the runs already in <output>/runs instead of "
                      "running them", _APP)


@dataclass
class ReplicatedSettings(RunSettings):
    """Designs that repeat each configuration over seeds, each seed one posterior draw."""

    SEED_KEY: ClassVar[str] = "first_seed and seeds"

    seeds: int = par(10, "runs", "runs per configuration: seeds first_seed .. first_seed + seeds - 1",
                     _APP, low=2, integer=True)
    first_seed: int = par(0, "-", "the first seed", _APP, low=0, integer=True)
    uncertainty: str = par("posterior", "-", "posterior: each seed runs one draw of the posterior, the "
                           "same draw in every configuration (paired); none: every seed runs the "
                           "parameter set of `parameter_set`",
                           _APP, choices=UNCERTAINTY)
    posterior_file: str | None = par(None, "-", "Parquet file of posterior draws; null: the one shipped "
                                     "for the portfolio and measure of use (experiments/data/"
                                     "posterior.parquet, or posterior_<portfolio>[_<measure>].parquet "
                                     "beside it)", _APP)
    use_measures: dict[str, float] = par(
        {"kominfo": 0.5, "poll": 0.25, "apjii": 0.25}, "weights", "which survey's measure of the use of "
        "online services the posterior is calibrated on (configs/calibration/use/), with weights (0: not "
        "used): the seeds are split between the measures' posteriors in proportion, and the report gives "
        "the decision under each. Set every weight, e.g. use_measures={kominfo:1,poll:0,apjii:0} (a "
        "dict given on the command line is merged into this one); ignored when posterior_file is set. "
        "The default weights are an assumption: half on Kominfo-KIC 2021, the strongest survey (face to "
        "face, n=10,000), a quarter each on the weak poll and on APJII's broad question", _APP)


@dataclass
class DesignSettings(RunSettings):
    """Designs over the uncertain parameters: one seed for every point (common random numbers)."""

    uncertainty_file: str | None = par(None, "-", "YAML \"parameters: {dotted.key: {low:, high:}}\"; "
                                       "null: every declared prior", _APP)
    parameters: list[str] = par([], "-", "keep only these of the varied parameters (empty: all)", _APP)
    seed: int = par(0, "-", "simulation seed of every design point (common random numbers)", _APP,
                    low=0, integer=True)
    sample_seed: int = par(0, "-", "seed of the sampler (and of the bootstrap)", _APP, low=0,
                           integer=True)


# --------------------------------------------------------------------------- the apps' schemas
@dataclass
class CompareConfig(ReplicatedSettings):
    """Policy comparison: every scenario x several seeds on one population profile."""

    OWN_MODEL_KEYS: ClassVar[dict[str, str]] = {"policy.name": "scenarios"}

    scenarios: list[str] | None = par(None, "-", "policy scenarios to compare (configs/policy/); null: "
                                      "every one that runs under the portfolio, baseline first", _APP)
    baseline: str = par("baseline", "-", "the scenario effects are measured against", _APP)
    clear_winner_share: float = par(0.8, "probability", "a scenario is named the winner only when it is "
                                    "best in at least this share of the draws (calibrated worlds); "
                                    "otherwise the report says there is no clear winner",
                                    "assumption: a planner's threshold of a clear decision", low=0.5,
                                    low_open=True, high=1)
    p_best_precision: float | None = par(
        None, "probability", "add seeds (calibrated worlds) after the first `seeds` until every "
        "scenario's P(best) has a Monte Carlo error of at most this (a cautious, Agresti-Coull "
        "estimate: twenty worlds that all agree are not taken as certain), up to max_seeds; null: "
        "exactly `seeds` seeds (the main job sets 0.03, configs/experiment/compare.yaml)", _APP,
        low=0, low_open=True, high=0.5)
    max_seeds: int = par(400, "runs", "the most seeds p_best_precision may add up to (the work check "
                         "counts them; at or below seeds, none are added)", _APP, low=2, integer=True)
    racing: bool = par(True, "switch", "with p_best_precision: the seeds added after the first `seeds` "
                       "run only the baseline and the scenarios best in at least one of the first worlds "
                       "(at least two); false: every scenario runs every seed", _APP)


@dataclass
class FrontierConfig(ReplicatedSettings):
    """Budget frontier: one total budget, split between two levers in equal steps."""

    OWN_MODEL_KEYS: ClassVar[dict[str, str]] = {"policy.name": "(the frontier names its runs)",
                                                "policy.allocation": "pairs and n_splits"}

    base_policy: str = par("baseline", "-", "targeting and political will come from this scenario", _APP)
    pairs: list[list[str]] = par([["training", "infrastructure"]], "-", "[first lever, second lever]; "
                                 "the first lever's share goes 0 -> 100%", _APP)
    n_splits: int = par(11, "splits", "shares of the first lever: 0, 1/(n-1), ..., 1", _APP, low=2,
                        integer=True)
    reference: bool = par(True, "switch", "also run the same seeds with no extra spending", _APP)
    objective: str = par("adoption_final", "-", "summary metric that defines the best split", _APP)
    maximize: bool = par(True, "switch", "true: the best split has the highest objective", _APP)
    equity_metrics: list[str] = par(["gap_urban_rural", "gap_income_q5_q1", "gap_region_max_min"], "-",
                                    "gaps drawn and tabled", _APP)
    bootstrap: int = par(2000, "resamples", "resamples of the seeds for the uncertainty of the best "
                         "split", _APP, low=0, integer=True)
    practical_difference: float = par(
        0.005, "objective units", "a best split is named only when its mean beats both neighbouring "
        "splits by at least this much (0.005: half a percentage point of a share); below it, no split "
        "is clearly better", "assumption: a planner's threshold of a difference worth acting on", low=0)


@dataclass
class SensitivityConfig(DesignSettings):
    """Global sensitivity analysis (SALib) over the uncertain parameters of one scenario."""

    method: str = par("morris", "-", "morris (screening) or sobol (first-order and total indices)", _APP,
                      choices=SENSITIVITY_METHODS)
    policy: str = par("baseline", "-", "the scenario analysed (configs/policy/)", _APP)
    baseline: str = par("baseline", "-", "effect:<scenario>:<metric> outcomes are that scenario minus "
                        "this one", _APP)
    outcomes: list[str] = par(["adoption_final", "gap_urban_rural", "gap_income_q5_q1",
                               "trust_mean_final"], "-", "summary metrics, or paired effects such as "
                              "effect:training:adoption_final", _APP)
    trajectories: int = par(10, "trajectories", "Morris: runs = trajectories x (parameters + 1)", _APP,
                            low=2, integer=True)
    num_levels: int = par(4, "levels", "Morris: grid levels per parameter (even)", _APP, low=2,
                          integer=True)
    sobol_n: int = par(64, "points", "Sobol: base sample, a power of 2 (runs: sobol_n x (parameters + "
                       "2))", _APP, low=4, integer=True)
    resamples: int = par(1000, "resamples", "bootstrap resamples for the confidence intervals", _APP,
                         low=10, integer=True)
    conf_level: float = par(0.95, "probability", "confidence level of the intervals", _APP, low=0.5,
                            high=1, high_open=True)
    noise_points: int = par(3, "points", "points at which the runs are repeated to measure run-to-run "
                            "noise (0: none)", _APP, low=0, integer=True)
    noise_seeds: int = par(5, "seeds", "seeds per noise point", _APP, low=2, integer=True)


@dataclass
class DiscoverConfig(DesignSettings):
    """Scenario discovery: a Latin hypercube over the uncertain parameters, PRIM on a condition."""

    n_samples: int = par(200, "points", "Latin hypercube points (runs: n_samples x the scenarios the "
                         "condition names)", _APP, low=10, integer=True)
    condition: str = par("training:adoption_final > infrastructure:adoption_final", "-",
                         "<scenario>:<metric> <op> <scenario>:<metric> (op: >, <, >=, <=; a side may "
                         "be a number)", _APP)
    peel_alpha: float = par(0.05, "share", "PRIM: share of the points peeled off per step", _APP, low=0,
                            high=0.5, low_open=True, high_open=True)
    paste_alpha: float = par(0.05, "share", "PRIM: share of the points pasted back per step", _APP,
                             low=0, high=0.5, low_open=True, high_open=True)
    mass_min: float = par(0.05, "share", "PRIM: smallest share of the points a box may hold", _APP,
                          low=0, high=0.5, low_open=True, high_open=True)
    min_coverage: float = par(0.5, "share", "the box chosen: the densest on the trajectory with at "
                              "least this coverage", _APP, low=0, high=1)
    max_qp: float | None = par(0.05, "p", "then drop restrictions with a larger quasi-p value (null: "
                               "keep all)", _APP, low=0, high=1, low_open=True)
    max_boxes: int = par(1, "boxes", "boxes found one after another", _APP, low=1, integer=True)


for _name, _schema in (("compare", CompareConfig), ("frontier", FrontierConfig),
                       ("sensitivity", SensitivityConfig), ("discover", DiscoverConfig)):
    ConfigStore.instance().store(name=f"{_name}_schema", node=_schema)


# --------------------------------------------------------------------------- checks
def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")


def check_settings(cfg: Any) -> None:
    """What every app checks the same way: finite numbers, each declared range, the shared blocks'
    relations (a named profile and network, ``n_jobs`` not 0, a posterior file that can be used)."""
    check_finite(cfg)
    check_declared_ranges(cfg)
    if isinstance(cfg, ModelChoice):
        for key in ("population", "network", "portfolio"):
            options = group_options(key)
            _check(getattr(cfg, key) in options, key, getattr(cfg, key), ", ".join(options))
    if isinstance(cfg, Workers):
        _check(cfg.n_jobs != 0, "n_jobs", cfg.n_jobs, "-1 (every core) or an integer >= 1")
        _check(cfg.ray_address is None or cfg.ray_address.strip() != "", "ray_address", cfg.ray_address,
               "a Ray cluster address (host:port, auto) or null for a local Ray")
    if isinstance(cfg, RunSettings):
        model_settings(cfg)  # overrides parse, and none of them sets a key the app owns
    if isinstance(cfg, ReplicatedSettings):
        check_uncertainty(cfg.uncertainty, cfg.posterior_file, getattr(cfg, "portfolio", "general"),
                          dict(cfg.use_measures))


def check_work(cfg: WorkLimit, runs: int, citizens: int, months: int, drivers: dict[str, int]) -> None:
    """Refuse a job whose estimated work (runs x citizens x months) is above ``max_agent_months``.

    ``drivers`` are the app's keys that multiply the number of runs, with their values; the line names
    the key furthest above its declared default, so the user knows what to lower.
    """
    work = float(runs) * float(citizens) * float(months)
    if work <= cfg.max_agent_months:
        return
    values = {**drivers, "n_citizens": getattr(cfg, "n_citizens", None), "steps": getattr(cfg, "steps", None)}
    ratios = {}
    for key, value in values.items():
        if value is None:
            continue
        try:
            default = declaration(key, type(cfg)).default
        except ConfigError:
            default = None
        ratios[key] = float(value) / float(default) if default else float(value)
    key = max(ratios, key=ratios.get)
    hours = work / AGENT_MONTHS_PER_CORE_SECOND / 3600
    others = ", ".join(k for k in ratios if k != key)
    raise ConfigError(f"{key}={values[key]!r}: {runs:,} runs x {citizens:,} citizens x {months:,} months = "
                      f"{work:.3g} agent-months (about {hours:,.0f} core-hours), above max_agent_months="
                      f"{cfg.max_agent_months:.3g}; allowed: lower {key} (or {others}), "
                      "or raise max_agent_months")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` as typed values (YAML scalars and lists, as on the model's command
    line); a malformed item or a repeated key is a one-line ConfigError."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"overrides={item!r}: malformed; allowed: a list of key=value strings")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise ConfigError(f"overrides={item!r}: malformed value; allowed: key=value with a YAML "
                              "value") from None
        if key in out:
            raise ConfigError(f"overrides={item!r}: {key} set twice; allowed: each key once")
        out[key] = value
    return out


def own_model_keys(cfg: RunSettings) -> dict[str, str]:
    """Model keys the app sets from its own settings, with the app key to use instead."""
    return {"steps": "steps", "population.n_citizens": "n_citizens",
            "population.province_min_share": "province_min_share",
            "budget_idr_bn_per_month": "budget_idr_bn_per_month", "progress": "progress",
            "materialise_agents": "(the app builds no agent objects)", "seed": cfg.SEED_KEY,
            **cfg.OWN_MODEL_KEYS}


def model_settings(cfg: RunSettings) -> dict[str, Any]:
    """The model settings every run of the app shares, as a typed dotted-key mapping for
    :func:`sim.config.compose`: the horizon, the size, the budget and the user's ``overrides``."""
    extra = parse_overrides(cfg.overrides)
    owned = own_model_keys(cfg)
    for key in extra:
        for prefix, app_key in owned.items():
            if key == prefix or key.startswith(prefix + "."):
                use = (f"{app_key}=... instead" if not app_key.startswith("(")
                       else f"drop it from overrides {app_key}")
                raise ConfigError(f"overrides={key}={extra[key]!r}: {prefix} is set by the app; allowed: "
                                  f"{use}")
    declared = SimConfig()
    history = history_months(extra.get("start_date", declared.start_date),
                             extra.get("policy.start_date", declared.policy.start_date))
    longest = declaration("steps").spec.high  # the model's own bound on a run's months
    if max(history, 0) + cfg.steps > longest:
        raise ConfigError(f"steps={cfg.steps}: out of range; allowed: an integer in [1, "
                          f"{int(longest) - max(history, 0)}] (forecast months after {history} months "
                          f"of history; a run lasts at most {int(longest):,} months)")
    out: dict[str, Any] = {"steps": max(history, 0) + cfg.steps}
    if cfg.n_citizens is not None:
        out["population.n_citizens"] = cfg.n_citizens
    if cfg.province_min_share is not None:
        out["population.province_min_share"] = cfg.province_min_share
    if cfg.budget_idr_bn_per_month is not None:
        out["budget_idr_bn_per_month"] = cfg.budget_idr_bn_per_month
    return {**out, **extra}


def composed(cfg: RunSettings, policy: str, extra: dict[str, Any] | None = None) -> SimConfig:
    """One run's model config (checked by the model's own validation).

    An app composes each scenario more than once (its checks before the sweep, then its runs), so a
    config composed from scalar settings is kept while no file under ``configs/`` changes: a
    validated config is read-only and is shared."""
    overrides = {**model_settings(cfg), **(extra or {})}
    key = (policy, cfg.population, cfg.network, cfg.parameter_set, cfg.portfolio,
           tuple(sorted(overrides.items())), _config_files_signature())
    try:
        hash(key)
    except TypeError:  # a list among the settings: composed afresh
        return _compose(*key[:5], overrides)
    return _composed_once(key)


def _config_files_signature() -> tuple[int, int, int]:
    """How many config files there are, the newest one's modification time and their total size (a
    few dozen stats)."""
    stats = [path.stat() for path in CONFIG_DIR.rglob("*.yaml")]
    return len(stats), max((s.st_mtime_ns for s in stats), default=0), sum(s.st_size for s in stats)


@functools.lru_cache(maxsize=256)
def _composed_once(key: tuple[Any, ...]) -> SimConfig:
    return _compose(*key[:5], dict(key[5]))


def _compose(policy: str, population: str, network: str, parameter_set: str, portfolio: str,
             overrides: dict[str, Any]) -> SimConfig:
    return compose(policy=policy, population=population, network=network, overrides=overrides,
                   parameters=parameter_set, portfolio=portfolio)


def validate_compare(cfg: CompareConfig) -> None:
    """The comparison's own checks (after the shared ones); raises ConfigError with one line."""
    check_settings(cfg)
    policies = group_options("policy")
    scenarios = scenario_list(cfg)
    _check(len(scenarios) >= 1, "scenarios", scenarios, "a non-empty list of scenarios")
    for name in scenarios:
        _check(name in policies, "scenarios", name, ", ".join(policies))
    _check(len(set(scenarios)) == len(scenarios), "scenarios", scenarios, "a list without repeats")
    _check(cfg.baseline in scenarios, "baseline", cfg.baseline,
           f"one of the compared scenarios ({', '.join(scenarios)})")


def validate_frontier(cfg: FrontierConfig) -> None:
    """The frontier's own checks (after the shared ones); raises ConfigError with one line."""
    check_settings(cfg)
    policies = group_options("policy")
    _check(cfg.base_policy in policies, "base_policy", cfg.base_policy, ", ".join(policies))
    _check(len(cfg.pairs) >= 1, "pairs", list(cfg.pairs), "a non-empty list of [lever, lever] pairs")
    for pair in cfg.pairs:
        _check(len(pair) == 2 and pair[0] != pair[1], "pairs", list(pair), "two different levers")
        for lever in pair:
            _check(lever in LEVERS, "pairs", lever, ", ".join(LEVERS))


def validate_sensitivity(cfg: SensitivityConfig) -> None:
    """The sensitivity analysis's own checks (after the shared ones); raises ConfigError with one line."""
    check_settings(cfg)
    policies = group_options("policy")
    _check(cfg.policy in policies, "policy", cfg.policy, ", ".join(policies))
    _check(cfg.baseline in policies, "baseline", cfg.baseline, ", ".join(policies))
    _check(len(cfg.outcomes) >= 1, "outcomes", list(cfg.outcomes), "a non-empty list of outcomes")
    _check(len(set(cfg.outcomes)) == len(cfg.outcomes), "outcomes", list(cfg.outcomes),
           "a list without repeats")
    _check(cfg.num_levels % 2 == 0, "num_levels", cfg.num_levels, "an even integer >= 2")
    _check(cfg.sobol_n & (cfg.sobol_n - 1) == 0, "sobol_n", cfg.sobol_n, "a power of 2, at least 4")


def validate_discover(cfg: DiscoverConfig) -> None:
    """Scenario discovery's own checks: every range is declared, so the shared checks are all."""
    check_settings(cfg)


def check_varied_overrides(cfg: DesignSettings, varied: list[str]) -> None:
    """A design varies its parameters itself: an override of one of them would be overwritten at
    every point, so it is refused."""
    for key in parse_overrides(cfg.overrides):
        if key in varied:
            raise ConfigError(f"overrides={key}: varied by the design, so the override would be ignored; "
                              "allowed: drop it from overrides, or vary only other parameters "
                              "(parameters=[...] or uncertainty_file)")
