"""Running the validation's simulations through the project's runner (:mod:`experiments.engine.runner`).

Every model run the cases need is a :class:`RunSpec` (scenario, size, horizon, seed and dotted
overrides); :func:`run_summaries` composes their configs, hands them to
:func:`experiments.engine.runner.run_configs` (serial, local cores or Ray; each run written as it finishes;
a second run into the same folder resumes) and returns one summary dict each, in order, with any
monthly series the spec asks for read back from the run's ``timeseries.parquet``. Identical specs
are run once. Where the runs go and on which launcher is set once per validation with
:func:`runner_settings`; without it, runs go to a temporary folder on local cores.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from experiments.engine.runner import resolve_jobs, run_configs
from sim.config import SimConfig, compose
from sim.model import DigitalAdoptionModel
from sim.store.record import RunRecord


@dataclass(frozen=True)
class RunnerSettings:
    """Where the validation's runs are written and how they are launched."""

    out_dir: Path | None = None  # None: a temporary folder per call
    launcher: str = "joblib"
    ray_address: str | None = None


_SETTINGS: ContextVar[RunnerSettings | None] = ContextVar("validation_runner", default=None)


@contextlib.contextmanager
def runner_settings(out_dir: Path | None, launcher: str = "joblib",
                    ray_address: str | None = None) -> Iterator[None]:
    """Send every :func:`run_summaries` call inside the block to ``out_dir`` on ``launcher``."""
    token = _SETTINGS.set(RunnerSettings(out_dir, launcher, ray_address))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


# What every validation run shares unless its spec says otherwise: the cases test mechanisms and
# known results in short runs from month 0, so a scenario's policy acts from the run's first month
# (policy.start_date null: no history before it), and each run's summary covers all its months.
RUN_DEFAULTS: dict[str, Any] = {"policy.start_date": None}


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class RunSpec:
    """One simulation: hashable, so identical runs requested by two cases are run once.

    ``series`` names monthly metrics to return as lists beside the summary (e.g. ``adoption``);
    ``parameters`` the parameter set (``calibrated``, ``declared``; None: the model's default);
    ``portfolio`` the services (``configs/portfolio/``); beyond the general one, the run's rows per
    month and service come back as ``services`` (a list of dicts).
    """

    n_citizens: int
    seed: int
    steps: int
    policy: str = "baseline"
    network: str = "homophilous"
    overrides: tuple[tuple[str, Any], ...] = ()
    series: tuple[str, ...] = field(default=())
    parameters: str | None = None
    portfolio: str = "general"

    @classmethod
    def make(cls, n_citizens: int, seed: int, steps: int, policy: str = "baseline",
             network: str = "homophilous", overrides: dict[str, Any] | None = None,
             series: Sequence[str] = (), parameters: str | None = None,
             portfolio: str = "general") -> RunSpec:
        items = tuple(sorted((k, _freeze(v)) for k, v in (overrides or {}).items()))
        return cls(n_citizens, seed, steps, policy, network, items, tuple(series), parameters, portfolio)

    def override_dict(self) -> dict[str, Any]:
        """The spec's overrides over the validation's defaults (:data:`RUN_DEFAULTS`)."""
        return {**RUN_DEFAULTS, **{k: _thaw(v) for k, v in self.overrides}}

    def hydra_overrides(self) -> list[str]:
        """The same run as command-line overrides of ``python -m sim`` (for the project runner)."""
        head = [f"policy={self.policy}", f"network={self.network}", f"portfolio={self.portfolio}",
                *([f"parameters={self.parameters}"] if self.parameters else []),
                f"population.n_citizens={self.n_citizens}", f"seed={self.seed}", f"steps={self.steps}"]
        return head + [f"{k}={'null' if v is None else v}" for k, v in self.override_dict().items()]


def spec_config(spec: RunSpec) -> SimConfig:
    """The validated config of one spec (what the runner runs)."""
    chosen = {"parameters": spec.parameters} if spec.parameters else {}
    return compose(policy=spec.policy, network=spec.network, portfolio=spec.portfolio, **chosen, overrides={
        "population.n_citizens": spec.n_citizens, "seed": spec.seed, "steps": spec.steps,
        "materialise_agents": "never", "progress": False, **spec.override_dict()})


def read_result(record: RunRecord, spec: RunSpec) -> dict[str, Any]:
    """A finished run's summary plus the monthly series the spec asks for."""
    result: dict[str, Any] = dict(record.summary)
    if spec.series:
        frame = record.timeseries(columns=list(spec.series))
        for name in spec.series:
            result[f"series:{name}"] = frame[name].astype(float).tolist()
    if spec.portfolio != "general":
        result["services"] = record.services().to_dict("records")
    return result


def build_model(spec: RunSpec) -> DigitalAdoptionModel:
    """The model of one spec, without agent objects or progress bar (workers run many)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    return DigitalAdoptionModel(config=spec_config(spec))


def parallel_map(fn: Callable[..., Any], args: Sequence[tuple], n_jobs: int = 1, desc: str = "runs",
                 progress: bool = True) -> list[Any]:
    """``[fn(*a) for a in args]`` on ``n_jobs`` loky workers (-1: every local core), in order."""
    jobs = min(resolve_jobs(n_jobs), max(len(args), 1))
    bar = tqdm(total=len(args), desc=desc, unit="run", disable=not progress or not args, leave=False)
    try:
        if jobs == 1:
            results = []
            for a in args:
                results.append(fn(*a))
                bar.update()
            return results
        from joblib import Parallel, delayed

        results = []
        for value in Parallel(n_jobs=jobs, backend="loky", return_as="generator")(
                delayed(fn)(*a) for a in args):
            results.append(value)
            bar.update()
        return results
    finally:
        bar.close()


def run_summaries(configs: Sequence[RunSpec], n_jobs: int = 1, desc: str = "runs",
                  progress: bool = True, cache: dict[RunSpec, dict[str, Any]] | None = None
                  ) -> list[dict[str, Any]]:
    """One summary per spec, in the order given; each distinct spec is run once, by the runner.

    ``cache`` (spec -> summary), shared between calls, lets two cases share runs (e.g. the baseline
    of the ablation and the empty cell of the interactions at the same size and seeds).
    """
    done = cache if cache is not None else {}
    todo = [s for s in dict.fromkeys(configs) if s not in done]
    if todo:
        settings = _SETTINGS.get() or RunnerSettings()
        with (tempfile.TemporaryDirectory(prefix="validation-") if settings.out_dir is None
              else contextlib.nullcontext(settings.out_dir)) as out:
            records = run_configs([spec_config(s) for s in todo], Path(out), launcher=settings.launcher,
                                  n_jobs=n_jobs, progress=progress, ray_address=settings.ray_address,
                                  desc=desc)
            done.update((s, read_result(r, s)) for s, r in zip(todo, records, strict=True))
    return [done[s] for s in configs]
