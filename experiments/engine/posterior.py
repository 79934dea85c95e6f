"""The shipped posterior: what ``uncertainty=posterior`` draws parameter sets from.

``make calibrate ARGS="ship=true"`` copies a calibration's equally weighted posterior draws of the
behavioural parameters (not the initial conditions of the calibration's start date, which describe
2020, not the start of a policy run) to :data:`SHIPPED`. Each seed of a comparison takes one draw,
the same for every scenario (paired), so intervals cover parameter uncertainty and run-to-run noise.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError, SimConfig, apply_overrides
from sim.declarations import declaration

UNCERTAINTY = ("none", "posterior")

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "posterior.parquet"


def load_posterior(path: str | Path = SHIPPED) -> pd.DataFrame:
    """Equally weighted posterior draws, one column per dotted parameter key (checked)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"uncertainty=posterior: no posterior at {path}; allowed: run `make calibrate "
                          "ARGS=ship=true` first, or uncertainty=none")
    frame = pd.read_parquet(path)
    for key in frame.columns:
        declaration(key)
    if frame.empty or not np.isfinite(frame.to_numpy(dtype=float)).all():
        raise ConfigError(f"uncertainty=posterior: {path} has no usable draws; allowed: finite draws")
    return frame


def draw_for_seed(posterior: pd.DataFrame, seed: int) -> dict[str, float]:
    """The parameter set a seed uses: a fixed function of the seed, so scenarios share it."""
    row = np.random.default_rng([seed, 20_250_101]).integers(len(posterior))
    return {key: float(value) for key, value in posterior.iloc[int(row)].items()}


def equal_weight_draws(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Resample a weighted posterior to ``n`` equally weighted draws (for shipping)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(posterior), size=n, replace=True, p=posterior["weight"].to_numpy())
    return posterior.drop(columns="weight").iloc[idx].reset_index(drop=True)


def posterior_path(path: str | None) -> Path:
    return SHIPPED if path is None else Path(path)


def seeded_configs(base: SimConfig, seeds: list[int], uncertainty: str,
                   posterior_file: str | None = None) -> list[SimConfig]:
    """One config per seed. With ``uncertainty=posterior`` each seed also takes its posterior draw
    (:func:`draw_for_seed`), the same in every scenario built from the same seeds."""
    if uncertainty == "none":
        return [replace(base, seed=seed) for seed in seeds]
    posterior = load_posterior(posterior_path(posterior_file))
    return [replace(apply_overrides(base, draw_for_seed(posterior, seed)), seed=seed) for seed in seeds]


def check_uncertainty(uncertainty: str, posterior_file: str | None) -> None:
    if uncertainty not in UNCERTAINTY:
        raise ConfigError(f"uncertainty={uncertainty!r}: unknown; allowed: {', '.join(UNCERTAINTY)}")
    if uncertainty == "posterior":
        load_posterior(posterior_path(posterior_file))
