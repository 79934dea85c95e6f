"""Running the validation's simulations: one place, in process, in parallel on local cores.

Every model run the cases need is a :class:`RunSpec` (scenario, size, horizon, seed and dotted
overrides); :func:`run_summaries` runs a list of them and returns one summary dict each, in order.
Runs are the unit of parallel work (joblib's loky workers, with a progress bar); identical specs
are run once. The cases never build a model for a multi-seed experiment themselves, so switching
the validation to the project's runner means replacing :func:`run_summaries` alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from experiments.sweep import resolve_jobs
from sim.model import DigitalAdoptionModel


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class RunSpec:
    """One simulation: hashable, so identical runs requested by two cases are run once.

    ``series`` names monthly metrics to return as lists beside the summary (e.g. ``adoption``).
    """

    n_citizens: int
    seed: int
    steps: int
    policy: str = "baseline"
    network: str = "homophilous"
    overrides: tuple[tuple[str, Any], ...] = ()
    series: tuple[str, ...] = field(default=())

    @classmethod
    def make(cls, n_citizens: int, seed: int, steps: int, policy: str = "baseline",
             network: str = "homophilous", overrides: dict[str, Any] | None = None,
             series: Sequence[str] = ()) -> RunSpec:
        items = tuple(sorted((k, _freeze(v)) for k, v in (overrides or {}).items()))
        return cls(n_citizens, seed, steps, policy, network, items, tuple(series))

    def override_dict(self) -> dict[str, Any]:
        return {k: _thaw(v) for k, v in self.overrides}

    def hydra_overrides(self) -> list[str]:
        """The same run as command-line overrides of ``python -m sim`` (for the project runner)."""
        head = [f"policy={self.policy}", f"network={self.network}",
                f"population.n_citizens={self.n_citizens}", f"seed={self.seed}", f"steps={self.steps}"]
        return head + [f"{k}={_thaw(v)}" for k, v in self.overrides]


def build_model(spec: RunSpec) -> DigitalAdoptionModel:
    """The model of one spec, without agent objects or progress bar (workers run many)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    return DigitalAdoptionModel(
        n_citizens=spec.n_citizens, network=spec.network, policy=spec.policy, steps=spec.steps,
        seed=spec.seed,
        overrides={"materialise_agents": "never", "progress": False, **spec.override_dict()},
    )


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Run one spec to its horizon; its summary plus the requested monthly series."""
    model = build_model(spec).run(progress=False)
    result: dict[str, Any] = dict(model.summary())
    for name in spec.series:
        result[f"series:{name}"] = [float(row[name]) for row in model.rows]
    return result


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
    """One summary per spec, in the order given; each distinct spec is run once.

    ``cache`` (spec -> summary), shared between calls, lets two cases share runs (e.g. the baseline
    of the ablation and the empty cell of the interactions at the same size and seeds).
    """
    done = cache if cache is not None else {}
    todo = [s for s in dict.fromkeys(configs) if s not in done]
    results = parallel_map(run_one, [(s,) for s in todo], n_jobs=n_jobs, desc=desc, progress=progress)
    done.update(zip(todo, results, strict=True))
    return [done[s] for s in configs]
