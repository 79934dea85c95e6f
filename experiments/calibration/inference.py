"""Approximate Bayesian computation (pyabc) over the uncertain parameters: simulator, prior, run.

Two methods. ``rejection`` (default, :func:`run_rejection`): prior draws are kept when their
standardised misfit is within the error model's 95% bound (:func:`tolerance`); every kept draw has the
same weight. It is written here rather than taken from pyabc because pyabc's parallel samplers seed
each simulation from the operating system, so the same ``seed`` gave a different posterior on every
run (three runs, three posteriors), and a run that accepted nothing went on past ``max_simulations``.
Here every parameter set and every simulation's seed come from ``seed`` by their index, batches are
evaluated in order (on any number of workers), and the first ``population_size`` accepted draws by
index are kept: the same seed gives the same posterior, and no more than ``max_simulations`` runs are
made. ``smc``:
ABC-SMC with a tolerance falling to the median misfit of each generation. On this model ABC-SMC's
importance weights degenerate after one generation (an effective sample size of 1-3 out of 100 in
every run tried, with 20 and with 76 parameters), so its "posterior" is a few particles; rejection
keeps an honest sample of everything the data cannot rule out, at the price of more simulations.

Why ABC-SMC with pyabc: the model is stochastic and has no tractable likelihood, but one run is
cheap (about 0.3 s at 10,000 citizens x 5 years), so likelihood-free inference that only needs
simulations fits; pyabc is maintained, runs on every local core (a forked multicore sampler), keeps
every generation in a SQLite database, and adapts the tolerance and the proposal between
generations. Neural alternatives (sbi) need PyTorch and many more simulations to train; with a
handful of targets and weakly identified parameters ABC's honest "the posterior is the prior here"
is the more useful answer.

The error model is the targets' own: the distance is the Euclidean norm of (model - observed) / sd
over the fitted targets, so ABC at tolerance e accepts parameter sets whose standardised misfit is
below e.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from experiments.calibration.config import (
    CalibrateConfig,
    inferred_parameters,
    marginalised_parameters,
)
from experiments.engine.targets import Target, monthly_table
from sim.config import ConfigError, SimConfig, apply_overrides, compose
from sim.model import DigitalAdoptionModel
from sim.parameters import Declared, Prior
from sim.store.files import atomic_path

log = logging.getLogger(__name__)

REJECTION_STATE = "rejection.json"  # beside posterior.parquet: what continue_from needs


def start_overrides(cfg: CalibrateConfig, months: int) -> dict[str, Any]:
    """Model settings of every calibration run: scale, start date, horizon and any fixed values
    (``initial``). The access level is the profile's own anchor (``population.access_level``, APJII
    2023), so later access figures stay out of the fit. Draws are set over the declared defaults."""
    return {
        "population.n_citizens": cfg.n_citizens, "start_date": cfg.start_date, "steps": months,
        "progress": False, "materialise_agents": "never", **dict(cfg.initial),
    }


class Simulator:
    """One model run per parameter set; returns each target's model value (picklable, cached base)."""

    def __init__(self, cfg: CalibrateConfig, keys: list[str], targets: list[Target],
                 params: list[tuple[Declared, Prior]] | None = None,
                 nuisance: list[tuple[Declared, Prior]] = ()) -> None:
        self.keys = keys
        self.params = params
        self.nuisance = list(nuisance)
        self.targets = targets
        self.start_date = cfg.start_date
        self.months = max(t.month(cfg.start_date) for t in targets)
        self.population, self.network, self.portfolio = cfg.population, cfg.network, cfg.portfolio
        self.overrides = start_overrides(cfg, max(self.months, 1))
        self._base: SimConfig | None = None

    def config(self, values: dict[str, float], seed: int) -> SimConfig:
        if self._base is None:
            self._base = compose(population=self.population, network=self.network,
                                 portfolio=self.portfolio, overrides=self.overrides, parameters="declared")
        return replace(apply_overrides(self._base, values), seed=int(seed))

    def series(self, values: dict[str, float], seed: int) -> pd.DataFrame:
        """The run's monthly rows, with the per-service columns (for predictive bands)."""
        model = DigitalAdoptionModel(config=self.config(values, seed))
        model.run(progress=False)
        return monthly_table(model.timeseries(), model.service_table())

    def run(self, values: dict[str, float], seed: int) -> dict[str, float]:
        rows = self.series(values, seed)
        return {t.name: t.value(rows[t.column], self.start_date) for t in self.targets}

    def __call__(self, parameter: dict[str, float]) -> dict[str, float]:
        """pyabc's model function: parameters p0, p1, ... on the unbounded scale (:func:`to_values`).
        The run's seed is a hash of the parameter values, so a parameter set always gives the same run
        (pyabc's proposals themselves are reproducible only on one process)."""
        values = to_values(parameter, self.params)
        digest = hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=4).digest()
        seed = int.from_bytes(digest, "little")
        rng = np.random.default_rng(seed)
        values.update({d.key: float(prior.from_unit(rng.random())) for d, prior in self.nuisance})
        return self.run(values, seed)


SMC_MISSING = "method=smc needs the smc extra: pip install -e '.[smc]'"


def import_pyabc() -> Any:
    """pyabc, which only ``method=smc`` uses (the default rejection sampler is this module's own): an
    optional extra, so without it say how to get it in one line (a ConfigError: exit 2)."""
    try:
        import pyabc
    except ImportError:
        raise ConfigError(SMC_MISSING) from None
    return pyabc


def pyabc_prior(params: list[tuple[Declared, Prior]]) -> Any:
    """The priors as quantiles: ``u ~ Uniform(0, 1)`` per parameter, the value ``prior.from_unit(u)``
    (so a log-uniform prior is uniform in the logarithm). One scale for every parameter keeps
    ABC-SMC's perturbation kernel well conditioned."""
    pyabc = import_pyabc()

    return pyabc.Distribution(**{f"p{i}": pyabc.RV("uniform", 0.0, 1.0) for i in range(len(params))})


def to_values(u: dict[str, float] | pd.DataFrame, params: list[tuple[Declared, Prior]]) -> Any:
    """Parameter values from the quantiles of :func:`pyabc_prior` (a dict or a frame)."""
    if isinstance(u, pd.DataFrame):
        return pd.DataFrame({d.key: prior.from_unit(u[f"p{i}"].to_numpy())
                             for i, (d, prior) in enumerate(params)})
    return {d.key: float(prior.from_unit(float(u[f"p{i}"]))) for i, (d, prior) in enumerate(params)}


def tolerance(cfg: CalibrateConfig, fitted: list[Target]) -> float:
    """The rejection threshold on the standardised misfit: by default the 95% quantile of its
    distribution when model and error model are right (a chi distribution with one degree of freedom
    per fitted target), so a parameter set is kept when its misfit is no larger than the error model
    allows 19 times in 20."""
    if cfg.tolerance is not None:
        return float(cfg.tolerance)
    return float(np.sqrt(chi2.ppf(0.95, len(fitted))))


def run_abc(cfg: CalibrateConfig, fitted: list[Target], out: Path, n_jobs: int) -> tuple[pd.DataFrame, dict]:
    """ABC-SMC; returns the last generation's posterior (one column per parameter key, ``weight``)
    and a record of the generations (tolerance, acceptance, simulations)."""
    pyabc = import_pyabc()

    logging.getLogger("ABC").setLevel(logging.INFO)
    params = inferred_parameters(cfg)
    keys = [d.key for d, _ in params]
    nuisance = marginalised_parameters(cfg)
    simulator = Simulator(cfg, keys, fitted, params, nuisance)
    sampler = (pyabc.sampler.MulticoreEvalParallelSampler(n_procs=n_jobs, check_max_eval=True) if n_jobs > 1
               else pyabc.sampler.SingleCoreSampler())
    distance = pyabc.PNormDistance(p=2, fixed_weights={t.name: 1.0 / t.sd for t in fitted})
    if cfg.method == "rejection":
        eps = pyabc.epsilon.ListEpsilon([tolerance(cfg, fitted)])
        generations = 1
    else:
        eps = pyabc.epsilon.QuantileEpsilon(alpha=0.5)
        generations = cfg.max_generations
    abc = pyabc.ABCSMC(simulator, pyabc_prior(params), distance, population_size=cfg.population_size,
                       sampler=sampler, eps=eps)
    np.random.seed(cfg.seed)  # noqa: NPY002  (pyabc draws from numpy's global generator)
    db = out / "abc.db"
    # pyabc's database lives outside the results folder while it is written (a killed run leaves no
    # half-written abc.db among the results) and is copied in whole when the run ends
    with tempfile.TemporaryDirectory() as tmp:
        tmp_db = Path(tmp) / "abc.db"
        abc.new(f"sqlite:///{tmp_db}", {t.name: t.observed for t in fitted})
        history = abc.run(max_nr_populations=generations,
                          max_total_nr_simulations=cfg.max_simulations,
                          max_walltime=timedelta(minutes=cfg.max_walltime_minutes))
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        pops = history.get_all_populations()
        with atomic_path(db) as part:
            shutil.copyfile(tmp_db, part)
    posterior = to_values(frame, params)
    rng = np.random.default_rng(cfg.seed)
    for d, prior in nuisance:  # marginalised: their posterior is their prior
        posterior[d.key] = prior.from_unit(rng.random(len(posterior)))
    posterior["weight"] = weights / weights.sum()
    generations = [
        {"generation": int(r.t), "epsilon": float(r.epsilon), "simulations": int(r.samples),
         "acceptance_rate": float(cfg.population_size / r.samples) if r.samples else None}
        for r in pops.itertuples() if r.t >= 0
    ]
    ess = float(1.0 / np.sum(posterior["weight"] ** 2))
    return posterior, {"generations": generations, "parameters": keys, "effective_sample_size": ess,
                       "marginalised": [d.key for d, _ in nuisance], "method": "smc"}


def _simulate_batch(simulator: Simulator, values: list[dict[str, float]], seeds: list[int]) -> list[dict]:
    return [simulator.run(v, s) for v, s in zip(values, seeds, strict=True)]


def rejection_identity(cfg: CalibrateConfig, fitted: list[Target]) -> dict[str, Any]:
    """What fixes a rejection run's sequence of draws and its acceptance: two runs with the same
    identity differ only in how far they got, so one can continue the other (``continue_from``)."""
    return {"seed": cfg.seed, "population_size": cfg.population_size, "tolerance": tolerance(cfg, fitted),
            "n_citizens": cfg.n_citizens, "start_date": cfg.start_date, "portfolio": cfg.portfolio,
            "population": cfg.population, "network": cfg.network,
            "targets": [[t.name, t.observed, t.sd] for t in fitted],
            "parameters": [d.key for d, _ in inferred_parameters(cfg)],
            "marginalised": [d.key for d, _ in marginalised_parameters(cfg)],
            "initial": dict(sorted(dict(cfg.initial).items()))}


def previous_run(cfg: CalibrateConfig, fitted: list[Target]) -> tuple[list[dict[str, float]], int]:
    """The kept draws (in index order) and the number of simulations of the run ``continue_from``
    names, checked to be the same run (one-line ConfigError naming what differs)."""
    folder = Path(str(cfg.continue_from))
    state_path, draws_path = folder / REJECTION_STATE, folder / "posterior.parquet"
    where = f"continue_from={cfg.continue_from}"
    if not state_path.is_file() or not draws_path.is_file():
        raise ConfigError(f"{where}: no {REJECTION_STATE} and posterior.parquet there; allowed: the folder "
                          "of a finished rejection calibration")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    ours = json.loads(json.dumps(rejection_identity(cfg, fitted)))  # as the file holds it
    for key, value in ours.items():
        if state.get("identity", {}).get(key) != value:
            raise ConfigError(f"{where}: its {key} differs from this run's; allowed: the folder of a run "
                              "with the same settings (only max_simulations and max_walltime_minutes may "
                              "differ)")
    done = int(state["simulations"])
    if done % cfg.population_size:
        raise ConfigError(f"{where}: it stopped inside a batch ({done:,} simulations); allowed: a run "
                          "stopped by its wall time or between batches")
    if done >= cfg.max_simulations:
        raise ConfigError(f"max_simulations={cfg.max_simulations}: not above the {done:,} simulations "
                          f"{where} already ran; allowed: a larger number")
    kept = pd.read_parquet(draws_path).drop(columns="weight", errors="ignore").to_dict("records")
    return kept, done


def run_rejection(cfg: CalibrateConfig, fitted: list[Target], n_jobs: int,
                  progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """ABC rejection, reproducible and bounded: the same ``seed`` gives the same posterior on any
    number of workers, and at most ``max_simulations`` runs are made (see the module docstring).

    Draws come in batches of ``population_size``: quantiles of every inferred and marginalised
    parameter and each run's seed from three streams spawned from ``seed``; a batch is split over the
    workers and put back in index order. Returns the kept draws (equal weights) and a record like
    :func:`run_abc`'s; raises RunnerError (one line) when nothing is within the tolerance."""
    from joblib import Parallel, delayed
    from tqdm import tqdm

    from experiments.engine.runner import RunnerError

    params = inferred_parameters(cfg)
    nuisance = marginalised_parameters(cfg)
    simulator = Simulator(cfg, [d.key for d, _ in params], fitted, params, nuisance)
    eps = tolerance(cfg, fitted)
    observed = np.array([t.observed for t in fitted])
    sd = np.array([t.sd for t in fitted])
    draws_rng, nuisance_rng, seed_rng = (np.random.default_rng(s)
                                         for s in np.random.SeedSequence(cfg.seed).spawn(3))
    deadline = time.monotonic() + 60 * cfg.max_walltime_minutes
    kept: list[dict[str, float]] = []
    done, stop = 0, "accepted"
    batch = cfg.population_size
    if cfg.continue_from is not None:
        kept, done = previous_run(cfg, fitted)
        for _ in range(done // batch):  # the streams as the previous run left them, without its runs
            draws_rng.random((batch, len(params)))
            nuisance_rng.random((batch, len(nuisance)))
            seed_rng.integers(0, 2**32, size=batch)
    with (Parallel(n_jobs=n_jobs) as parallel,
          tqdm(total=cfg.max_simulations, initial=done, desc="simulations", unit="run",
               disable=not progress, dynamic_ncols=True) as bar):
        while len(kept) < cfg.population_size:
            if done >= cfg.max_simulations:
                stop = "max_simulations"
                break
            if time.monotonic() > deadline:
                stop = "max_walltime_minutes"
                break
            size = min(batch, cfg.max_simulations - done)
            u = draws_rng.random((size, len(params)))
            un = nuisance_rng.random((size, len(nuisance)))
            seeds = [int(x) for x in seed_rng.integers(0, 2**32, size=size)]
            values = [{**{d.key: float(prior.from_unit(u[i, j])) for j, (d, prior) in enumerate(params)},
                       **{d.key: float(prior.from_unit(un[i, j])) for j, (d, prior) in enumerate(nuisance)}}
                      for i in range(size)]
            chunks = np.array_split(np.arange(size), max(1, min(n_jobs, size)))
            results = [r for part in parallel(delayed(_simulate_batch)(simulator, [values[i] for i in c],
                                                                       [seeds[i] for i in c])
                                              for c in chunks if len(c)) for r in part]
            for v, r in zip(values, results, strict=True):
                model = np.array([r[t.name] for t in fitted])
                if np.sqrt(np.sum(((model - observed) / sd) ** 2)) <= eps and len(kept) < cfg.population_size:
                    kept.append(v)
            done += size
            bar.update(size)
    if not kept:
        raise RunnerError(f"ABC rejection kept no parameter set in {done:,} simulations (tolerance "
                          f"{eps:.3g}, stopped by {stop}); allowed: raise max_simulations, "
                          "max_walltime_minutes or tolerance")
    posterior = pd.DataFrame(kept)
    posterior["weight"] = 1.0 / len(posterior)
    record = {"generations": [{"generation": 0, "epsilon": eps, "simulations": done,
                               "acceptance_rate": len(kept) / done}],
              "parameters": [d.key for d, _ in params], "effective_sample_size": float(len(kept)),
              "marginalised": [d.key for d, _ in nuisance], "stopped_by": stop, "method": "rejection",
              "state": {"identity": rejection_identity(cfg, fitted), "simulations": done}}
    return posterior, record
