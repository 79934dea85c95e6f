"""The shipped posterior: what ``uncertainty=posterior`` draws parameter sets from.

``make calibrate ARGS="ship=true"`` copies a calibration's equally weighted posterior draws to
:data:`SHIPPED`: the behavioural parameters and the start values of 2020 (a run starts where the
calibration starts and lives through the observed years before its policy begins). Each seed of a
comparison takes one draw, the same for every scenario (paired), so the ranges cover the calibrated
worlds and run-to-run noise. One representative draw (:func:`representative_draw`, nearest the
posterior median) becomes ``configs/parameters/calibrated.yaml``, the parameter set of a single run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim.config import ConfigError, SimConfig, apply_overrides
from sim.declarations import uncertain_parameters

UNCERTAINTY = ("none", "posterior")

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "posterior.parquet"


def shipped_posterior(portfolio: str = "general") -> Path:
    """The shipped posterior of a portfolio: ``posterior.parquet`` for the general service,
    ``posterior_<portfolio>.parquet`` beside it for another (calibrated on its services' figures too)."""
    return SHIPPED if portfolio == "general" else SHIPPED.with_name(f"posterior_{portfolio}.parquet")


def representative_set(portfolio: str = "general") -> Path:
    """The calibrated parameter set (the representative posterior draw) of a portfolio:
    ``configs/parameters/calibrated.yaml``, or ``calibrated_<portfolio>.yaml`` beside it, selected
    with ``parameters=calibrated_<portfolio>``."""
    if portfolio == "general":
        return REPRESENTATIVE
    return REPRESENTATIVE.with_name(f"calibrated_{portfolio}.yaml")


def parameter_set_for(name: str, portfolio: str) -> str:
    """The parameter set a run takes: ``calibrated`` means the portfolio's own calibrated set where one
    ships (``calibrated_<portfolio>``), since another portfolio's draw does not fit it."""
    own = representative_set(portfolio)
    return own.stem if name == "calibrated" and own.is_file() else name


def shipped_checks(portfolio: str = "general") -> Path:
    """The posterior predictive checks shipped with :func:`shipped_posterior`."""
    name = "calibration.json" if portfolio == "general" else f"calibration_{portfolio}.json"
    return SHIPPED.with_name(name)


REPRESENTATIVE = Path(__file__).resolve().parents[2] / "configs" / "parameters" / "calibrated.yaml"


def load_posterior(path: str | Path = SHIPPED, key: str = "posterior_file") -> pd.DataFrame:
    """Equally weighted posterior draws, one column per dotted parameter key.

    Checked up front, because a comparison reads the file only once its runs are being built: a
    readable Parquet file, at least one row, numeric columns each naming an uncertain parameter
    (one with a prior), every value finite and inside the parameter's declared range. Anything else
    is a one-line ConfigError naming ``key``, the file and what is wrong.
    """
    path = Path(path)
    where = f"{key}={path}"
    portfolio = path.stem.removeprefix("posterior_") if path.parent == SHIPPED.parent else "general"
    ship = "ship=true" if portfolio in ("general", path.stem) else f"'ship=true portfolio={portfolio}'"
    fix = f"a Parquet file of posterior draws (make calibrate ARGS={ship}), or uncertainty=none"
    if not path.exists():
        raise ConfigError(f"{where}: no posterior there (no such file); allowed: {fix}")
    if not path.is_file():
        raise ConfigError(f"{where}: not a file; allowed: {fix}")
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = text.rsplit("': ", 1)[-1].split(". ")[0].rstrip(".")  # pyarrow's own reason, no path
        hint = " (it looks like CSV)" if path.suffix.lower() in (".csv", ".txt") else ""
        raise ConfigError(f"{where}: not a readable Parquet file{hint} ({reason}); allowed: {fix}") from None
    if frame.empty or not len(frame.columns):
        raise ConfigError(f"{where}: no draws ({len(frame)} rows, {len(frame.columns)} columns); "
                          f"allowed: {fix} with at least one row")
    for column in frame.columns:
        _check_column(frame[column], str(column), where)
    return frame


def _check_column(values: pd.Series, column: str, where: str) -> None:
    """One posterior column: an uncertain parameter's key, numbers, finite, inside the declared range."""
    uncertain = {d.key: d for d in uncertain_parameters()}
    if column not in uncertain:
        raise ConfigError(f"{where}: column {column!r} is not an uncertain parameter; allowed: keys of "
                          "parameters with a prior (docs/parameters.md)")
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise ConfigError(f"{where}: column {column!r} holds {values.dtype} values; allowed: numbers")
    numbers = values.to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise ConfigError(f"{where}: column {column!r} row {int(np.argmax(bad))} is {numbers[bad][0]!r}; "
                          "allowed: finite numbers")
    spec = uncertain[column].spec
    for value in (numbers.min(), numbers.max()):
        if not spec.accepts(float(value)):
            raise ConfigError(f"{where}: column {column!r} has {value:g}, out of range; allowed: "
                              f"{spec.allowed()}")


def draw_for_seed(posterior: pd.DataFrame, seed: int) -> dict[str, float]:
    """The parameter set a seed uses: a fixed function of the seed, so scenarios share it."""
    row = np.random.default_rng([seed, 20_250_101]).integers(len(posterior))
    return {key: float(value) for key, value in posterior.iloc[int(row)].items()}


def equal_weight_draws(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Resample a weighted posterior to ``n`` equally weighted draws (for shipping)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(posterior), size=n, replace=True, p=posterior["weight"].to_numpy())
    return posterior.drop(columns="weight").iloc[idx].reset_index(drop=True)


def representative_draw(posterior: pd.DataFrame) -> int:
    """The row nearest the posterior median: each parameter's distance to its median in units of its
    posterior spread (median absolute deviation; columns without spread ignored), summed in squares.
    One whole draw rather than the vector of medians, so that the set is one the data accepted."""
    values = posterior.drop(columns="weight", errors="ignore").to_numpy(dtype=float)
    median = np.median(values, axis=0)
    spread = np.median(np.abs(values - median), axis=0)
    keep = spread > 0
    z = (values[:, keep] - median[keep]) / spread[keep]
    return int(np.argmin(np.sum(z ** 2, axis=1)))


def parameter_set_yaml(posterior: pd.DataFrame, source: str, commit: str) -> str:
    """``configs/parameters/calibrated.yaml``: the representative draw as nested keys, merged over the
    declared defaults by every single run (``python -m sim``, the API, the dashboard)."""
    row = representative_draw(posterior)
    tree: dict = {"parameter_set": f"calibrated (draw {row} of {len(posterior)}, nearest the posterior "
                                   f"median; {source} at {commit})"}
    for key, value in posterior.drop(columns="weight", errors="ignore").iloc[row].items():
        node = tree
        *parents, leaf = str(key).split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = round(float(value), 6)
    header = ("# @package _global_\n"
              "# Generated by `make calibrate ARGS=ship=true` (experiments/engine/posterior.py): one\n"
              "# calibrated parameter set, the posterior draw nearest the posterior median.\n"
              "# parameters=declared gives the declared defaults instead.\n")
    return header + yaml.safe_dump(tree, sort_keys=False, width=100)


def posterior_path(path: str | None, portfolio: str = "general") -> Path:
    """The posterior file a setting names (None: the one shipped for ``portfolio``); an empty name is
    refused, since ``Path("")`` is the current folder."""
    if path is None:
        return shipped_posterior(portfolio)
    if not str(path).strip():
        raise ConfigError(f"posterior_file={path!r}: an empty file name; allowed: a path to a Parquet "
                          "file, or null for the shipped posterior")
    return Path(path)


def seeded_configs(base: SimConfig, seeds: list[int], uncertainty: str,
                   posterior_file: str | None = None, portfolio: str = "general") -> list[SimConfig]:
    """One config per seed. With ``uncertainty=posterior`` each seed also takes its posterior draw
    (:func:`draw_for_seed`), the same in every scenario built from the same seeds."""
    if uncertainty == "none":
        return [replace(base, seed=seed) for seed in seeds]
    posterior = load_posterior(posterior_path(posterior_file, portfolio))
    return [replace(apply_overrides(base, draw_for_seed(posterior, seed)), seed=seed) for seed in seeds]


def check_uncertainty(uncertainty: str, posterior_file: str | None, portfolio: str = "general") -> None:
    if uncertainty not in UNCERTAINTY:
        raise ConfigError(f"uncertainty={uncertainty!r}: unknown; allowed: {', '.join(UNCERTAINTY)}")
    if uncertainty == "posterior":
        load_posterior(posterior_path(posterior_file, portfolio))
