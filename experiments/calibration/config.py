"""Settings of ``python -m experiments.calibration`` and their checks (one line, exit 2)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from scipy.stats import chi2

from experiments.engine.settings import PORTFOLIO_DOC, WorkLimit, check_settings, check_work
from experiments.engine.targets import Target, check_measure
from sim.config import APP_PORTFOLIO, ConfigError, compose, group_options
from sim.declarations import declaration, uncertain_parameters
from sim.parameters import Declared, Prior, par
from sim.rules.trends import decimal_year

METHODS = ("rejection", "smc")
_APP = "experiment setting"


@dataclass
class CalibrateConfig(WorkLimit):
    """Settings of the calibration, each declared once (default, range, meaning); the YAML file keeps
    the values that differ and the sources behind them."""

    population: str = par("indonesia", "-", "population profile (configs/population/)", _APP)
    n_citizens: int = par(10_000, "agents", "agents per calibration run", _APP, low=100, integer=True)
    network: str = par("homophilous", "-", "citizens' social network (configs/network/)", _APP)
    portfolio: str = par(APP_PORTFOLIO, "-", PORTFOLIO_DOC + "; each portfolio ships its own posterior",
                         _APP)
    start_date: str = par("2020-01", "YYYY-MM", "month 0 of every calibration run (no later than any "
                          "target)", _APP)
    initial: dict[str, Any] = field(default_factory=dict)  # fixed values (dotted key: value), not inferred
    exclude: list[str] = par(["params.costs.", "policy."], "-", "key prefixes not inferred", _APP)
    infer: list[str] = par([], "-", "parameters ABC moves (empty: every uncertain one not excluded)", _APP)
    targets: str = par("configs/calibration/targets.yaml", "-", "the published figures every calibration "
                       "fits (internet access, trust)", _APP)
    use_measure: str = par("kominfo", "-", "which survey's measure of the use of online services is fitted "
                           "beside them (configs/calibration/use/: kominfo, poll or apjii); a measure other "
                           "than kominfo ships its own posterior", _APP)
    service_targets: str = par("configs/calibration/services.yaml", "-", "published figures of single "
                               "services, fitted where the portfolio has the service", _APP)
    method: str = par("rejection", "-", "rejection or smc (ABC-SMC)", _APP, choices=METHODS)
    tolerance: float | None = par(None, "misfit", "acceptance bound on the standardised misfit; null: "
                                  "the error model's 95% bound", _APP, low=0, low_open=True)
    population_size: int = par(200, "particles", "accepted parameter sets per generation", _APP, low=4,
                               integer=True)
    max_generations: int = par(8, "generations", "ABC-SMC generations at most", _APP, low=1, integer=True)
    max_simulations: int = par(12_000, "runs", "simulations at most", _APP, low=4, integer=True)
    max_walltime_minutes: float = par(110.0, "minutes", "wall time at most", _APP, low=0, low_open=True)
    predictive_draws: int = par(100, "runs", "posterior predictive runs", _APP, low=2, integer=True)
    n_jobs: int = par(-1, "processes", "-1: every local core", _APP, low=-1, integer=True)
    seed: int = par(0, "-", "seed of the sampler and the runs", _APP, low=0, integer=True)
    quick: bool = par(False, "switch", "true: the same pipeline at test-suite size", _APP)
    ship: bool = par(False, "switch", "true: copy the posterior to experiments/data/", _APP)
    continue_from: str | None = par(None, "-", "the folder of an earlier rejection run with the same "
                                    "settings: its simulations are not run again, only the next ones up to "
                                    "max_simulations (the posterior is the one a single longer run gives)",
                                    _APP)


ConfigStore.instance().store(name="calibrate_schema", node=CalibrateConfig)

# Test size: the same pipeline, small. Its tolerance is wider than the error model's 95% bound (about
# 1% of prior draws fit within that bound, too few for a test-size run to keep any); a quick
# posterior is a check of the pipeline, never a result.
QUICK = {"n_citizens": 1_000, "population_size": 8, "max_generations": 2, "max_simulations": 1_000,
         "predictive_draws": 6, "tolerance": 8.0}


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
    """The declared ranges, then what relates the calibration's own keys (one-line ConfigError)."""
    check_settings(cfg)
    populations, networks = group_options("population"), group_options("network")
    _check(cfg.population in populations, "population", cfg.population, ", ".join(populations))
    _check(cfg.network in networks, "network", cfg.network, ", ".join(networks))
    portfolios = group_options("portfolio")
    _check(cfg.portfolio in portfolios, "portfolio", cfg.portfolio, ", ".join(portfolios))
    decimal_year(cfg.start_date, "start_date")
    check_measure(cfg.use_measure)
    _check(cfg.population_size <= cfg.max_simulations, "population_size", cfg.population_size,
           f"an integer in [4, max_simulations={cfg.max_simulations:,}] (each particle is a simulation)")
    _check(cfg.n_jobs != 0, "n_jobs", cfg.n_jobs, "-1 (every core) or an integer >= 1")
    _check(cfg.continue_from is None or cfg.method == "rejection", "continue_from", cfg.continue_from,
           "null with method=smc (only a rejection run can be continued)")
    for key in cfg.initial:
        declaration(key)
    known = {d.key for d, _ in uncertain_set(cfg)}
    for key in cfg.infer:
        _check(key in known, "infer", key, "keys of uncertain parameters not excluded (docs/parameters.md)")
    compose(population=cfg.population, network=cfg.network, portfolio=cfg.portfolio,
            overrides=dict(cfg.initial))
    _check(bool(inferred_parameters(cfg)), "exclude", list(cfg.exclude),
           "prefixes that leave at least one uncertain parameter")


def check_against_targets(cfg: CalibrateConfig, targets: list[Target]) -> None:
    """What relates the settings to the targets: every target on or after ``start_date``; a
    tolerance that a model fitting perfectly could meet within ``max_simulations``; the work."""
    earliest = min(targets, key=lambda t: t.year)
    if earliest.month(cfg.start_date) < 0:
        raise ConfigError(f"start_date={cfg.start_date}: after target {earliest.name} ({earliest.date}); "
                          f"allowed: a month no later than every target's date (the earliest: "
                          f"{earliest.date})")
    fitted = [t for t in targets if not t.held_out]
    if cfg.tolerance is not None:
        # The standardised misfit of a perfect model is chi-distributed with one degree per target.
        accepted = float(chi2.cdf(cfg.tolerance ** 2, len(fitted)))
        if accepted * cfg.max_simulations < cfg.population_size:
            lowest = math.sqrt(chi2.ppf(cfg.population_size / cfg.max_simulations, len(fitted)))
            raise ConfigError(
                f"tolerance={cfg.tolerance!r}: even a perfect model would be accepted in {accepted:.2g} of "
                f"runs, too few for {cfg.population_size} particles in max_simulations="
                f"{cfg.max_simulations:,}; allowed: a number >= {lowest:.3g}, or null (the error model's "
                "95% bound)")
    months = max(t.month(cfg.start_date) for t in targets) + 1
    check_work(cfg, cfg.max_simulations + cfg.predictive_draws, cfg.n_citizens, months,
               {"max_simulations": cfg.max_simulations, "predictive_draws": cfg.predictive_draws})


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
    """Every uncertain parameter that is not excluded or fixed (``initial``), with its declared prior
    (the start values' priors describe ``start_date``, 2020-01)."""
    out = []
    for d in uncertain_parameters():
        if any(d.key.startswith(prefix) for prefix in cfg.exclude) or d.key in cfg.initial:
            continue
        out.append((d, d.spec.prior))
    return out
