"""The shipped posterior: what ``uncertainty=posterior`` draws parameter sets from.

``make calibrate ARGS="ship=true"`` copies a calibration's equally weighted posterior draws to
:data:`SHIPPED`: the behavioural parameters and the start values of 2020 (a run starts where the
calibration starts and lives through the observed years before its policy begins). Each seed of a
comparison takes one draw, the same for every scenario (paired), so the ranges cover the calibrated
worlds and run-to-run noise. One representative draw (:func:`representative_draw`, nearest the
posterior median) becomes ``configs/parameters/calibrated.yaml``, the parameter set of a single run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from experiments.engine.targets import DEFAULT_MEASURE, check_measure, use_measures
from sim.config import ConfigError, SimConfig, apply_overrides
from sim.declarations import uncertain_parameters
from sim.parameters import Declared

UNCERTAINTY = ("none", "posterior")
MEASURE_COLUMN = "use_measure"  # in tables of runs or draws: the measure of use a seed's world is fitted to
NAMED_FILE = "posterior_file"  # the "measure" of every seed when a posterior file is named

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "posterior.parquet"


def _suffix(portfolio: str, measure: str) -> str:
    """What names a calibration's shipped files: its portfolio unless general, then its measure of use
    unless the default (``posterior.parquet``, ``posterior_indonesia.parquet``,
    ``posterior_indonesia_poll.parquet``)."""
    parts = [p for p, default in ((portfolio, "general"), (measure, DEFAULT_MEASURE)) if p != default]
    return "".join(f"_{p}" for p in parts)


def shipped_posterior(portfolio: str = "general", measure: str = DEFAULT_MEASURE) -> Path:
    """The shipped posterior of a portfolio calibrated with one measure of use (the general service and
    the default measure: ``posterior.parquet``; otherwise named after them, beside it)."""
    return SHIPPED.with_name(f"posterior{_suffix(portfolio, measure)}.parquet")


def representative_set(portfolio: str = "general", measure: str = DEFAULT_MEASURE) -> Path:
    """The calibrated parameter set (the representative posterior draw) of a portfolio and measure:
    ``configs/parameters/calibrated.yaml``, or ``calibrated_<portfolio>[_<measure>].yaml`` beside it,
    selected with ``parameters=calibrated_<portfolio>``."""
    return REPRESENTATIVE.with_name(f"calibrated{_suffix(portfolio, measure)}.yaml")


# Every calibration the project ships (portfolio, measure of use): the apps' portfolio under each
# published measure, and the one general service under the default measure.
SHIPPED_CALIBRATIONS: tuple[tuple[str, str], ...] = (
    ("indonesia", "kominfo"), ("indonesia", "poll"), ("indonesia", "apjii"), ("general", "kominfo"))


def shipped_files(portfolio: str, measure: str) -> tuple[Path, Path, Path]:
    """The files one calibration ships: its posterior, its checks and its representative parameter set."""
    return (shipped_posterior(portfolio, measure), shipped_checks(portfolio, measure),
            representative_set(portfolio, measure))


def calibrate_command(portfolio: str = "general", measure: str = DEFAULT_MEASURE,
                      settings: Sequence[str] = ()) -> str:
    """The command that makes (and ships) the posterior of a portfolio and measure of use; with
    ``settings`` (``key=value`` as given on a run's command line), the command of that run, so that a
    shipped posterior's stamp says how many simulations and what bounds made it. Hydra's own settings
    (``hydra.*``) and those the command names already are left out."""
    named = ("ship", "portfolio", "use_measure", "hydra.")
    args = ["ship=true", *([f"portfolio={portfolio}"] if portfolio != "general" else []),
            *([f"use_measure={measure}"] if measure != DEFAULT_MEASURE else []),
            *(a for a in settings if not a.lstrip("+~").split("=", 1)[0].startswith(named))]
    return f"make calibrate ARGS={args[0]}" if len(args) == 1 else f"make calibrate ARGS='{' '.join(args)}'"


def shipped_checks(portfolio: str = "general", measure: str = DEFAULT_MEASURE) -> Path:
    """The posterior predictive checks shipped with :func:`shipped_posterior`."""
    return SHIPPED.with_name(f"calibration{_suffix(portfolio, measure)}.json")


REPRESENTATIVE = Path(__file__).resolve().parents[2] / "configs" / "parameters" / "calibrated.yaml"


def load_posterior(path: str | Path = SHIPPED, key: str = "posterior_file",
                   remedy: str = "make calibrate ARGS=ship=true") -> pd.DataFrame:
    """Equally weighted posterior draws, one column per dotted parameter key.

    Checked up front, because a comparison reads the file only once its runs are being built: a
    readable Parquet file, at least one row, numeric columns each naming an uncertain parameter
    (one with a prior), every value finite and inside the parameter's declared range. Anything else
    is a one-line ConfigError naming ``key``, the file and what is wrong.
    """
    path = Path(path)
    where = f"{key}={path}"
    fix = f"a Parquet file of posterior draws ({remedy}), or uncertainty=none"
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
    uncertain = {d.key: d for d in uncertain_parameters()}
    for column in frame.columns:
        _check_column(frame[column], str(column), where, uncertain)
    return frame


def _check_column(values: pd.Series, column: str, where: str, uncertain: dict[str, Declared]) -> None:
    """One posterior column: an uncertain parameter's key, numbers, finite, inside the declared range."""
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


def posterior_row(n_rows: int, index: int) -> int:
    """The row of a posterior of ``n_rows`` draws that its ``index``-th world (0, 1, ...) takes: a
    fixed shuffle of the rows, gone through in order and then again, so the first ``n_rows`` worlds
    are distinct draws (sampling with replacement would repeat some and leave others out) and adding
    worlds never changes the earlier ones' draws."""
    order = np.random.default_rng([n_rows, 20_250_101]).permutation(n_rows)
    return int(order[index % n_rows])


def draw_of_world(posterior: pd.DataFrame, index: int) -> dict[str, float]:
    """The parameter set of the ``index``-th world drawn from ``posterior`` (:func:`posterior_row`)."""
    row = posterior_row(len(posterior), index)
    return {key: float(value) for key, value in posterior.iloc[row].items()}


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


def posterior_path(path: str | None, portfolio: str = "general", measure: str = DEFAULT_MEASURE) -> Path:
    """The posterior file a setting names (None: the one shipped for ``portfolio`` and ``measure``);
    an empty name is refused, since ``Path("")`` is the current folder."""
    if path is None:
        return shipped_posterior(portfolio, measure)
    if not str(path).strip():
        raise ConfigError(f"posterior_file={path!r}: an empty file name; allowed: a path to a Parquet "
                          "file, or null for the shipped posterior")
    return Path(path)


def measure_of_seeds(seeds: list[int], weights: dict[str, float] | None = None) -> dict[int, str]:
    """Which measure of use each seed's world is calibrated on, for a mixture of the measures'
    posteriors. The seeds in increasing order are dealt out one at a time to the measure furthest
    below its share so far (sequential apportionment), so that every first k seeds give each measure
    its share of k to within one: a comparison that adds seeds keeps its earlier seeds' measures and
    draws, and a draw from the mixture with random counts could leave a measure with none."""
    weights = weights or {DEFAULT_MEASURE: 1.0}
    names = [m for m, w in weights.items() if w > 0]
    shares = np.array([weights[m] for m in names], dtype=float) / sum(weights[m] for m in names)
    counts = np.zeros(len(names))
    out = {}
    for k, seed in enumerate(sorted(seeds)):
        chosen = int(np.argmax(shares * (k + 1) - counts))  # the largest shortfall; ties: the first
        counts[chosen] += 1
        out[seed] = names[chosen]
    return out


def world_index(allocation: dict[int, str]) -> dict[int, int]:
    """Each seed's place among the seeds of its measure (0, 1, ...), in increasing seed order: which
    draw of that measure's posterior it takes (:func:`posterior_row`)."""
    seen: dict[str, int] = {}
    out = {}
    for seed in sorted(allocation):
        out[seed] = seen.get(allocation[seed], 0)
        seen[allocation[seed]] = out[seed] + 1
    return out


def _posteriors(seeds: list[int], posterior_file: str | None, portfolio: str,
                weights: dict[str, float] | None) -> tuple[dict[int, str], dict[str, pd.DataFrame]]:
    """Each seed's measure and each used measure's posterior (a named file stands for one measure)."""
    if posterior_file is not None:  # one named file for every seed: the measures' weights do not apply
        return dict.fromkeys(seeds, NAMED_FILE), {NAMED_FILE: load_posterior(posterior_path(posterior_file))}
    weights = weights or {DEFAULT_MEASURE: 1.0}
    allocation = measure_of_seeds(seeds, weights)
    used = [m for m, w in weights.items() if w > 0]
    return allocation, {m: load_posterior(shipped_posterior(portfolio, m), key=f"use_measures.{m}",
                                          remedy=f"{calibrate_command(portfolio, m)}, or "
                                                 f"use_measures.{m}=0 to leave the measure out")
                        for m in used}


def draws_for_seeds(seeds: list[int], posterior_file: str | None = None, portfolio: str = "general",
                    measures: dict[str, float] | None = None) -> dict[int, tuple[str, dict[str, float]]]:
    """Each seed's measure of use (:func:`measure_of_seeds`) and its draw of that measure's posterior
    (:func:`draw_of_world`, by the seed's place among its measure's seeds): a fixed function of the
    seeds, so every scenario shares it, and distinct draws until a measure has more seeds than draws."""
    allocation, posteriors = _posteriors(seeds, posterior_file, portfolio, measures)
    index = world_index(allocation)
    return {seed: (allocation[seed], draw_of_world(posteriors[allocation[seed]], index[seed]))
            for seed in seeds}


def seeded_configs(base: SimConfig, seeds: list[int], uncertainty: str,
                   posterior_file: str | None = None, portfolio: str = "general",
                   measures: dict[str, float] | None = None) -> list[SimConfig]:
    """One config per seed. With ``uncertainty=posterior`` each seed also takes its posterior draw,
    the same in every scenario built from the same seeds (:func:`draws_for_seeds`)."""
    if uncertainty == "none":
        return [replace(base, seed=seed) for seed in seeds]
    draws = draws_for_seeds(seeds, posterior_file, portfolio, measures)
    return [replace(apply_overrides(base, draws[seed][1]), seed=seed) for seed in seeds]


def check_measures(measures: dict[str, float]) -> None:
    """Known measures of use, weights >= 0 with a positive sum."""
    for name, weight in measures.items():
        check_measure(name, "use_measures")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
            raise ConfigError(f"use_measures.{name}={weight!r}: out of range; allowed: a weight >= 0")
    if not measures or sum(measures.values()) <= 0:
        raise ConfigError(f"use_measures={dict(measures)!r}: no weight; allowed: at least one measure with "
                          f"a weight > 0 ({', '.join(use_measures())})")


def check_uncertainty(uncertainty: str, posterior_file: str | None, portfolio: str = "general",
                      measures: dict[str, float] | None = None) -> None:
    if uncertainty not in UNCERTAINTY:
        raise ConfigError(f"uncertainty={uncertainty!r}: unknown; allowed: {', '.join(UNCERTAINTY)}")
    measures = {DEFAULT_MEASURE: 1.0} if measures is None else measures
    check_measures(measures)
    if uncertainty == "posterior":
        _posteriors([0], posterior_file, portfolio, measures)  # every weighted measure's file, read
