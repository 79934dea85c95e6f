"""Shared fixtures: cached simulation runs on the small profile, and a runner for the command line.

Simulation runs are cached for the whole session, so the factor tests and the invariant tests look at
the same runs instead of repeating them. Runs use ``population=small`` (3000 citizens), no progress
bar and no mesa Agent objects (the agent tests build their own models), and their policy acts from the
run's first month (``policy.start_date=null``); the timeline tests set it themselves.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim import DigitalAdoptionModel, SimConfig, compose
from sim.metrics import GROUP_METRIC_NAMES, METRIC_NAMES, bounds
from sim.state import State

REPO = Path(__file__).resolve().parent.parent
# Every national monthly metric declared to lie in [0, 1] (shares, means of [0, 1] quantities, yes/no).
SHARE_COLUMNS = [name for name in METRIC_NAMES
                 if bounds(name) == (0.0, 1.0) and name not in GROUP_METRIC_NAMES]

# The factor comparisons: every scenario runs with these seeds for this many months.
FACTOR_SEEDS = tuple(range(1, 9))
FACTOR_STEPS = 36


@dataclass(frozen=True)
class Run:
    """What the tests need from one finished run."""

    cfg: SimConfig
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    state: State  # the final state arrays

    @property
    def final(self) -> pd.Series:
        return self.timeseries.iloc[-1]


def _key(overrides: dict[str, Any]) -> tuple:
    """A hashable cache key for overrides whose values may be lists."""
    return tuple(sorted((k, repr(v)) for k, v in overrides.items()))


Compose = Callable[..., SimConfig]
Simulate = Callable[..., Run]


@pytest.fixture(scope="session")
def composed() -> Compose:
    """``composed(policy, population, overrides, parameters)`` -> validated config, cached for the
    session.

    Composing costs more than a small run, so each distinct config is composed once.
    """
    cache: dict[tuple, SimConfig] = {}

    def get(policy: str = "baseline", population: str = "small",
            overrides: dict[str, Any] | None = None, parameters: str = "calibrated") -> SimConfig:
        # Mechanism tests: the policy acts from the run's first month (no history before it).
        extra = {"policy.start_date": None, **(overrides or {})}
        key = (policy, population, _key(extra), parameters)
        if key not in cache:
            cache[key] = compose(policy=policy, population=population, overrides=extra,
                                 parameters=parameters)
        return cache[key]

    return get


def _simulator(composed: Compose, parameters: str) -> Simulate:
    cache: dict[tuple, Run] = {}

    def run(
        policy: str = "baseline",
        seed: int = 1,
        steps: int = FACTOR_STEPS,
        overrides: dict[str, Any] | None = None,
        population: str = "small",
    ) -> Run:
        extra = dict(overrides or {})
        key = (policy, population, _key(extra), steps, seed)
        if key not in cache:
            cfg = dataclasses.replace(
                composed(policy, population, extra, parameters),
                seed=seed, steps=steps, progress=False, materialise_agents="never",
            )
            model = DigitalAdoptionModel(config=cfg).run()
            cache[key] = Run(model.cfg, model.summary(), model.timeseries(), model.state)
        return cache[key]

    return run


@pytest.fixture(scope="session")
def simulate(composed) -> Simulate:
    """``simulate(policy, seed, steps, overrides)`` -> :class:`Run` at the default parameter set
    (the calibrated draw), cached for the session."""
    return _simulator(composed, "calibrated")


@pytest.fixture(scope="session")
def simulate_declared(composed) -> Simulate:
    """Like ``simulate``, at the declared values (``parameters=declared``). A few mechanism tests
    were written for the declared values (docs/parameters.md) and state a premise that holds at
    those values only (an effect size, a ratio); they use this fixture and say why."""
    return _simulator(composed, "declared")


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("HYDRA_FULL_ERROR", None)  # the default behaviour is what users see
    return env


def run_cli(args: Sequence[str], cwd: Path, timeout: float = 120) -> CliResult:
    """``python -m sim *args`` in ``cwd``."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=_cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(tuple(args), proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def cli() -> Callable[[list[tuple[Sequence[str], Path]]], list[CliResult]]:
    """Run several ``python -m sim`` commands, two at a time (each pays ~2 s of imports)."""

    def run_many(jobs: list[tuple[Sequence[str], Path]]) -> list[CliResult]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda job: run_cli(*job), jobs))

    return run_many
