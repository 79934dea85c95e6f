"""Calibration against Indonesian data: ``python -m experiments.calibration`` (Hydra app).

ABC (pyabc; rejection by default, ABC-SMC with ``method=smc``) over the uncertain parameters
(their priors are declared beside the code that uses them, :mod:`sim.parameters`), fitted to the
published figures up to 2023; the 2024-2025 figures are
held out and reported as an out-of-sample test. Writes into the run folder:

- ``posterior.parquet``: the last generation's weighted draws (one column per parameter, ``weight``);
- ``calibration.json``: one entry per target, observed against the posterior predictive;
- ``identification.csv``: posterior spread against prior spread per parameter;
- ``figures/fit.png``, ``figures/posterior.png``, ``calibration.md`` / ``.html``; with ``method=smc``
  also ``abc.db`` (pyabc's record of every generation).

``ship=true`` also writes equally weighted draws of the behavioural parameters to
``experiments/data/posterior.parquet`` (and the checks to ``experiments/data/calibration.json``),
which ``python -m experiments.compare uncertainty=posterior`` uses.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from experiments.calibration import outputs
from experiments.calibration.config import (
    CalibrateConfig,
    check_against_targets,
    effective,
    inferred_parameters,
    validate_calibrate,
)
from experiments.calibration.inference import (
    REJECTION_STATE,
    Simulator,
    previous_run,
    run_abc,
    run_rejection,
)
from experiments.engine.app import elapsed, hydra_app
from experiments.engine.posterior import (
    calibrate_command,
    equal_weight_draws,
    parameter_set_yaml,
    representative_set,
    shipped_checks,
    shipped_posterior,
)
from experiments.engine.render import write
from experiments.engine.runner import resolve_jobs
from experiments.engine.stamp import Stamp, current_stamp, write_sidecar
from experiments.engine.targets import DEFAULT_MEASURE, Target, load_targets, national_targets
from sim.config import CONFIG_DIR, ConfigError, compose, group_options
from sim.store.files import atomic_path, atomic_write
from sim.store.provenance import code_version

SHIPPED_DRAWS = 400


def check(cfg: CalibrateConfig) -> None:
    """Every check that can fail before the first simulation (one-line ConfigError)."""
    validate_calibrate(cfg)
    targets = calibration_targets(cfg)
    if not [t for t in targets if not t.held_out]:
        raise ConfigError(f"targets={cfg.targets}: no fitted target; allowed: at least one with "
                          "held_out: false")
    check_against_targets(effective(replace(cfg)), targets)
    if cfg.continue_from is not None:  # the earlier run exists and is this run, shorter
        previous_run(effective(replace(cfg)), [t for t in targets if not t.held_out])


def _project_path(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else CONFIG_DIR.parent / p


def calibration_targets(cfg: CalibrateConfig) -> list[Target]:
    """The national targets (access and trust, then the use of services as ``use_measure`` measures
    it), then every service target whose service the portfolio has (the one general service has none:
    its figures are the national ones)."""
    services = set(compose(portfolio=cfg.portfolio).services)
    known = group_options("service")
    extra = []
    for t in load_targets(_project_path(cfg.service_targets)):
        if t.service not in known:
            raise ConfigError(f"targets.{t.name}.service={t.service!r}: unknown service; allowed: "
                              f"{', '.join(known)} (configs/service/)")
        if t.service in services:
            extra.append(t)
    targets = national_targets(cfg.use_measure, _project_path(cfg.targets)) + extra
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise ConfigError(f"service_targets={cfg.service_targets}: a name also in targets={cfg.targets} or "
                          f"use/{cfg.use_measure}.yaml; allowed: distinct names")
    return targets


def run_calibration(cfg: CalibrateConfig, out: Path, started: float | None = None) -> dict:
    started = time.perf_counter() if started is None else started
    cfg = effective(cfg)
    check(cfg)
    # the commit the shipped files come from is the one the run starts on (it takes two hours)
    command = calibrate_command(cfg.portfolio, cfg.use_measure, _command_line())
    stamp = current_stamp(command) if cfg.ship else None
    out.mkdir(parents=True, exist_ok=True)
    targets = calibration_targets(cfg)
    fitted = [t for t in targets if not t.held_out]
    jobs = resolve_jobs(cfg.n_jobs)
    params = inferred_parameters(cfg)
    keeps = (f"the first {cfg.population_size} prior draws that fit, from up to {cfg.max_simulations:,} "
             "simulations" if cfg.method == "rejection" else
             f"{cfg.population_size} particles x up to {cfg.max_generations} generations")
    print(f"calibration: ABC ({cfg.method}) over {len(params)} parameters, {len(fitted)} fitted and "
          f"{len(targets) - len(fitted)} held-out targets, {keeps}, {cfg.n_citizens:,} citizens, {jobs} "
          "processes", flush=True)
    if cfg.method == "rejection":
        posterior, record = run_rejection(cfg, fitted, jobs)
    else:
        posterior, record = run_abc(cfg, fitted, out, jobs)
    with atomic_path(out / "posterior.parquet") as tmp:
        posterior.to_parquet(tmp, index=False)
    if "state" in record:  # what continue_from=<this folder> needs to take the run further
        atomic_write(out / REJECTION_STATE, json.dumps(record.pop("state"), indent=2))

    draws = equal_weight_draws(posterior, cfg.predictive_draws, cfg.seed)
    simulator = Simulator(cfg, list(draws.columns), targets)
    last = max(targets, key=lambda t: t.year).date if targets else ""
    print(f"posterior predictive: {len(draws)} runs to {last}", flush=True)
    runs = outputs.predictive_runs(simulator, draws, jobs, cfg.seed)
    checks = outputs.target_checks(targets, runs, cfg.start_date, cfg.seed)
    atomic_write(out / "calibration.json", json.dumps(checks, indent=2))
    priors = {d.key: prior for d, prior in params}
    ident = outputs.identification(posterior, priors)
    with atomic_path(out / "identification.csv") as tmp:
        ident.to_csv(tmp, index=False)
    figs = [
        (outputs.fit_figure(targets, runs, checks, out / "figures" / "fit.png"),
         "Published figures (red; open: held out) against the posterior predictive (blue)."),
        (outputs.marginals_figure(posterior, ident, priors, out / "figures" / "posterior.png"),
         "Posterior of the best identified parameters over their prior range."),
    ]
    setup = {"n_citizens": cfg.n_citizens, "start_date": cfg.start_date, "wall_time": elapsed(started),
             "created": datetime.now().strftime("%Y-%m-%d %H:%M")}
    write(outputs.report_blocks(checks, ident, record, setup, figs), out, "calibration",
          "Calibration against Indonesian data")
    if stamp is not None:
        ship(posterior, checks, cfg.seed, stamp, cfg.portfolio, cfg.use_measure)
    return {"checks": checks, "identification": ident, "record": record}


def _command_line() -> list[str]:
    """The settings this run was given on its command line (none outside a Hydra app)."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def ship(posterior, checks: list[dict], seed: int, stamp: Stamp | None = None,
         portfolio: str = "general", measure: str = DEFAULT_MEASURE) -> None:
    """Copy the posterior into the project: every draw (a rejection posterior's kept draws are
    distinct and equally weighted; a weighted one is resampled to :data:`SHIPPED_DRAWS`), the checks,
    and the representative draw as a parameter set (``configs/parameters/calibrated.yaml``), each with
    its commit stamp (:mod:`experiments.engine.stamp`), so that a report can tell when the model has
    moved on. Another portfolio's or measure's files go beside them, named after it
    (:func:`shipped_posterior`, :func:`representative_set`)."""
    weights = posterior["weight"].to_numpy()
    draws = (posterior.drop(columns="weight") if np.allclose(weights, weights[0])
             else equal_weight_draws(posterior, SHIPPED_DRAWS, seed))
    target = shipped_posterior(portfolio, measure)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        draws.to_parquet(tmp, index=False)
    checks_path = shipped_checks(portfolio, measure)
    atomic_write(checks_path, json.dumps(checks, indent=2))
    representative = representative_set(portfolio, measure)
    atomic_write(representative, parameter_set_yaml(draws, str(target.relative_to(target.parents[2])),
                                                    code_version()))
    written = [target, checks_path, representative]
    stamp = stamp or current_stamp(calibrate_command(portfolio, measure))
    for path in written:
        write_sidecar(path, stamp)
    print(f"shipped {len(draws)} posterior draws of {draws.shape[1]} parameters: "
          + "; ".join(str(p) for p in written))


def show(result: dict, cfg: CalibrateConfig, out: Path) -> None:
    for c in result["checks"]:
        tag = "held out" if c["held_out"] else "fitted  "
        print(f"  {tag} {c['name']:34s} observed {c['observed']:.3f}  predicted {c['predicted']:.3f} "
              f"[{c['low']:.3f}, {c['high']:.3f}]  {'inside' if c['inside'] else 'OUTSIDE'}")
    print(f"\nreport: {out / 'calibration.html'}")


def quiet_mesa() -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # one line per model step otherwise


entry = hydra_app("calibrate", CalibrateConfig, check, run_calibration, show, setup=quiet_mesa)

if __name__ == "__main__":
    entry()
