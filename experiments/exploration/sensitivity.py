"""Global sensitivity analysis: ``python -m experiments.exploration.sensitivity`` (Hydra app,
``make sensitivity``).

Which assumptions drive a result? SALib samples the uncertain parameters (the declared priors, or a
user's ``uncertainty_file``; :mod:`experiments.exploration.design`) and analyses the runs:

- ``method=morris`` (default): Morris screening, ``trajectories`` x (parameters + 1) runs; per
  parameter the mean absolute elementary effect mu* (over the prior's full range, in the outcome's
  units), its bootstrap interval and sigma (non-linearity and interactions);
- ``method=sobol``: Saltelli's sampling of Sobol indices, ``sobol_n`` x (parameters + 2) runs; first
  order S1 and total ST shares of the output variance with bootstrap intervals. For a handful of
  parameters (``parameters=[...]``) once Morris has screened the rest out.

Every design point runs with the same seed (common random numbers), so differences between points
are the parameters' doing; what noise remains is measured apart: at ``noise_points`` points the
runs are repeated with ``noise_seeds`` seeds, and the share of the design's output variance that is
seed-to-seed variance is reported, so that nobody mistakes noise for sensitivity. Outcomes are
summary metrics of the ``policy`` scenario or paired effects ``effect:<scenario>:<metric>`` against
``baseline``. All runs go through :mod:`experiments.engine.runner` (every local core, Ray, resumable).

Writes into one folder: ``runs/`` and ``timeseries/`` (every run), ``samples.csv`` (each design
point's parameter values and outcomes), ``sensitivity.csv`` (one row per parameter x outcome:
``parameter, outcome, method`` and ``mu_star, mu_star_conf, sigma`` or ``S1, S1_conf, ST, ST_conf``),
``noise.csv``, ``figures/`` (one per outcome) and ``sensitivity.md`` / ``.html``.

Configuration: ``configs/experiment/sensitivity.yaml``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import latin
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from experiments.engine import render
from experiments.engine.app import (
    elapsed,
    hydra_app,
    print_table,
)
from experiments.engine.runner import resolve_jobs, run_configs
from experiments.engine.settings import (
    SensitivityConfig,
    check_varied_overrides,
    check_work,
    validate_sensitivity,
)
from experiments.exploration import design
from experiments.exploration import figures as figs
from sim.config import SimConfig
from sim.store.files import atomic_path
from sim.summary import SUMMARY_METRICS

COLUMNS = {"morris": ["mu_star", "mu_star_conf", "sigma"], "sobol": ["S1", "S1_conf", "ST", "ST_conf"]}
RANK_BY = {"morris": "mu_star", "sobol": "ST"}


@dataclass(frozen=True)
class Plan:
    """Everything decided before the runs: parameters, outcomes, design and configs."""

    space: design.Space
    outcomes: list[design.Outcome]
    scenarios: list[str]
    unit: np.ndarray  # the design on the unit cube (rows: points)
    noise_unit: np.ndarray  # the points at which the noise is measured
    noise_seeds: list[int]
    bases: dict[str, SimConfig]

    @property
    def n_runs(self) -> int:
        return len(self.scenarios) * (len(self.unit) + len(self.noise_unit) * len(self.noise_seeds))


Settings = tuple[design.Space, list[design.Outcome], list[str], dict[str, SimConfig]]


def _settings(cfg: SensitivityConfig) -> Settings:
    validate_sensitivity(cfg)
    known = SUMMARY_METRICS
    outcomes = [design.parse_outcome(name, known) for name in cfg.outcomes]
    scenarios = design.outcome_scenarios(outcomes, cfg.policy, cfg.baseline)
    bases = design.scenario_bases(cfg, scenarios)
    space = design.load_space(cfg.uncertainty_file, cfg.parameters, bases[scenarios[0]])
    check_varied_overrides(cfg, space.names)
    k = len(space.parameters)
    points = cfg.trajectories * (k + 1) if cfg.method == "morris" else cfg.sobol_n * (k + 2)
    base = bases[scenarios[0]]
    drivers = ({"trajectories": cfg.trajectories} if cfg.method == "morris" else {"sobol_n": cfg.sobol_n})
    check_work(cfg, len(scenarios) * (points + cfg.noise_points * cfg.noise_seeds),
               base.population.n_citizens, base.steps,
               {**drivers, "noise_points": cfg.noise_points, "noise_seeds": cfg.noise_seeds})
    return space, outcomes, scenarios, bases


def check(cfg: SensitivityConfig) -> None:
    """Every check that can fail before the runs start (one-line ConfigError)."""
    _settings(cfg)


def plan(cfg: SensitivityConfig) -> Plan:
    space, outcomes, scenarios, bases = _settings(cfg)
    problem = space.problem()
    if cfg.method == "morris":
        unit = morris_sample.sample(problem, cfg.trajectories, num_levels=cfg.num_levels,
                                    seed=cfg.sample_seed)
    else:
        unit = sobol_sample.sample(problem, cfg.sobol_n, calc_second_order=False, seed=cfg.sample_seed)
    noise = (latin.sample(problem, cfg.noise_points, seed=cfg.sample_seed + 1) if cfg.noise_points
             else np.empty((0, len(space.parameters))))
    seeds = list(range(cfg.seed, cfg.seed + cfg.noise_seeds)) if cfg.noise_points else []
    return Plan(space, outcomes, scenarios, unit, noise, seeds, bases)


def morris_table(space: design.Space, unit: np.ndarray, y: np.ndarray,
                 cfg: SensitivityConfig) -> pd.DataFrame:
    """mu*, its interval and sigma per parameter (SALib), NaN when an outcome is undefined somewhere."""
    if not np.isfinite(y).all():
        return pd.DataFrame({"parameter": space.names, **{c: np.nan for c in COLUMNS["morris"]}})
    res = morris_analyze.analyze(space.problem(), unit, y, num_resamples=cfg.resamples,
                                 conf_level=cfg.conf_level, num_levels=cfg.num_levels, seed=cfg.sample_seed)
    return pd.DataFrame({"parameter": space.names, "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"]})


def sobol_table(space: design.Space, y: np.ndarray, cfg: SensitivityConfig) -> pd.DataFrame:
    """S1 and ST with their intervals per parameter (SALib)."""
    if not np.isfinite(y).all() or np.var(y) == 0:
        return pd.DataFrame({"parameter": space.names, **{c: np.nan for c in COLUMNS["sobol"]}})
    res = sobol_analyze.analyze(space.problem(), y, calc_second_order=False, num_resamples=cfg.resamples,
                                conf_level=cfg.conf_level, seed=cfg.sample_seed)
    return pd.DataFrame({"parameter": space.names, **{c: res[c] for c in COLUMNS["sobol"]}})


def morris_delta(num_levels: int) -> float:
    """The step of a Morris trajectory on the unit scale (SALib's)."""
    return num_levels / (2.0 * (num_levels - 1))


def noise_table(design_y: pd.DataFrame, noise_y: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
    """Seed-to-seed variance at fixed parameters against the design's total output variance."""
    rows = []
    for name in design_y.columns:
        total = float(design_y[name].var(ddof=1))
        within = (float(noise_y[name].groupby(level="point").var(ddof=1).mean()) if len(noise_y)
                  else np.nan)
        rows.append({"outcome": name, "noise_sd": np.sqrt(within), "noise_variance": within,
                     "total_variance": total,
                     "noise_share": within / total if total > 0 else np.nan,
                     "points": int(noise_y.index.get_level_values("point").nunique()) if len(noise_y) else 0,
                     "seeds_per_point": n_seeds})
    return pd.DataFrame(rows)


def run_sensitivity(cfg: SensitivityConfig, out: Path, started: float | None = None) -> pd.DataFrame:
    """The whole analysis without Hydra's app machinery: runs, tables, figures, render."""
    started = time.perf_counter() if started is None else started
    p = plan(cfg)
    n_points, n_noise = len(p.unit), len(p.noise_unit)
    values = p.space.values(p.unit)
    configs = design.point_configs(p.bases, values, [cfg.seed])
    configs += design.point_configs(p.bases, p.space.values(p.noise_unit), p.noise_seeds) if n_noise else []
    if not cfg.reuse:
        print(f"sensitivity ({cfg.method}): {len(p.space.parameters)} parameters, {n_points} design points "
              f"+ {n_noise} x {len(p.noise_seeds)} noise replicates, x {len(p.scenarios)} scenario(s) = "
              f"{p.n_runs} runs ({cfg.launcher} launcher)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    run_started = time.perf_counter()
    records = run_configs(configs, out, launcher=cfg.launcher, n_jobs=cfg.n_jobs, progress=cfg.progress,
                          ray_address=cfg.ray_address, reuse=cfg.reuse)
    run_seconds = time.perf_counter() - run_started
    split = n_points * len(p.scenarios)
    design_runs = design.summaries(records[:split], n_points, p.scenarios, 1)
    design_y = pd.DataFrame({o.name: design.outcome_values(o, design_runs, cfg.policy, cfg.baseline)
                             for o in p.outcomes})
    if n_noise:
        noise_runs = design.summaries(records[split:], n_noise, p.scenarios, len(p.noise_seeds))
        noise_y = pd.DataFrame({o.name: design.outcome_values(o, noise_runs, cfg.policy, cfg.baseline)
                                for o in p.outcomes})
    else:
        noise_y = pd.DataFrame(columns=design_y.columns)

    tables = []
    for o in p.outcomes:
        y = design_y[o.name].to_numpy(dtype=float)
        t = morris_table(p.space, p.unit, y, cfg) if cfg.method == "morris" else sobol_table(p.space, y, cfg)
        t.insert(1, "outcome", o.name)
        t.insert(2, "method", cfg.method)
        tables.append(t.sort_values(RANK_BY[cfg.method], ascending=False, kind="stable"))
    table = pd.concat(tables, ignore_index=True)[["parameter", "outcome", "method", *COLUMNS[cfg.method]]]
    noise = noise_table(design_y, noise_y, len(p.noise_seeds))

    samples = pd.concat([values, design_y.reset_index(drop=True)], axis=1)
    samples.insert(0, "point", range(n_points))
    for name, frame in (("sensitivity.csv", table), ("noise.csv", noise), ("samples.csv", samples)):
        with atomic_path(out / name) as tmp:
            frame.to_csv(tmp, index=False)
    paths = _figures(table, noise, cfg, out / "figures")
    setup = {"runs": p.n_runs, "run_seconds": run_seconds,
             "workers": 1 if cfg.launcher == "basic" else resolve_jobs(cfg.n_jobs),
             "wall_time": elapsed(started),
             "n_citizens": int(p.bases[p.scenarios[0]].population.n_citizens),
             "created": datetime.now().strftime("%Y-%m-%d %H:%M")}
    render.write(report_blocks(table, noise, p, cfg, setup, paths), out, "sensitivity",
                 "Global sensitivity analysis")
    return table


def _noise_floor(noise: pd.DataFrame, outcome: str, num_levels: int) -> float:
    """About the smallest mu* that differs from noise: the sd of a difference of two runs over the step."""
    sd = float(noise.set_index("outcome").loc[outcome, "noise_sd"])
    return np.sqrt(2.0) * sd / morris_delta(num_levels)


def _figures(table: pd.DataFrame, noise: pd.DataFrame, cfg: SensitivityConfig,
             folder: Path) -> dict[str, Path]:
    paths = {}
    for outcome in dict.fromkeys(table["outcome"]):
        rows = table[table["outcome"] == outcome]
        if rows[COLUMNS[cfg.method][0]].isna().all():
            continue
        stem = outcome.replace(":", "_")
        if cfg.method == "morris":
            paths[outcome] = figs.morris(table, outcome, folder / f"morris_{stem}.png",
                                         _noise_floor(noise, outcome, cfg.num_levels))
        else:
            paths[outcome] = figs.sobol(table, outcome, folder / f"sobol_{stem}.png")
    return paths


def ranking(table: pd.DataFrame, outcome: str, method: str, k: int | None = None) -> pd.DataFrame:
    """The parameters of one outcome, most influential first."""
    rows = table[table["outcome"] == outcome].sort_values(RANK_BY[method], ascending=False, kind="stable")
    return rows if k is None else rows.head(k)


def _cell(row: pd.Series, method: str) -> str:
    if method == "morris":
        return f"{figs.short(row['parameter'])} ({row['mu_star']:.3g} ± {row['mu_star_conf']:.2g})"
    return (f"{figs.short(row['parameter'])} (ST {row['ST']:.2f} ± {row['ST_conf']:.2f}, "
            f"S1 {row['S1']:.2f} ± {row['S1_conf']:.2f})")


def report_blocks(table: pd.DataFrame, noise: pd.DataFrame, p: Plan, cfg: SensitivityConfig,
                  setup: dict[str, Any], paths: dict[str, Path]) -> list[render.Block]:
    """The report as blocks (see :mod:`experiments.engine.render`)."""
    method = cfg.method
    outcomes = [o.name for o in p.outcomes]
    name = "Morris screening" if method == "morris" else "Sobol indices"
    blocks: list[render.Block] = [
        ("h1", f"Global sensitivity analysis: {name} of the {cfg.policy} scenario"),
        ("p", f"{len(p.space.parameters)} parameters varied over {p.space.source}; "
              f"{len(p.unit)} design points x {len(p.scenarios)} scenario(s) "
              f"({', '.join(p.scenarios)}), {setup['runs']} runs in all, each {setup['n_citizens']:,} "
              f"citizens x {cfg.steps} "
              f"forecast months after the history, {cfg.population} profile, seed {cfg.seed} at every point "
              f"(common random numbers). Created {setup['created']}; wall time {setup['wall_time']} "
              f"(the runs: {setup['run_seconds']:.0f} s on {setup['workers']} worker(s), {cfg.launcher} "
              "launcher)."),
    ]
    if method == "morris":
        blocks.append(("p", "mu* is the mean absolute change of the outcome when one parameter moves "
                            f"across {morris_delta(cfg.num_levels):.0%} of its prior range (scaled to the "
                            "full range), in the outcome's units; ± is its "
                            f"{cfg.conf_level:.0%} bootstrap interval. A large sigma next to mu* means the "
                            "effect depends on the other parameters (interaction or non-linearity). Morris "
                            "ranks; it does not apportion variance."))
    else:
        blocks.append(("p", "S1 is the share of the outcome's variance due to a parameter alone, ST the "
                            "share it takes part in (alone or in interaction); ± is the "
                            f"{cfg.conf_level:.0%} bootstrap interval. Parameters not varied are at their "
                            "defaults."))
    k = min(10, len(p.space.parameters))
    header = ["rank", *outcomes]
    cols = [list(ranking(table, o, method, k).apply(lambda r: _cell(r, method), axis=1)) for o in outcomes]
    rows = [[i + 1, *[c[i] if i < len(c) else "" for c in cols]] for i in range(k)]
    blocks += [("h2", f"Ranking (top {k} per outcome)"), ("table", header, rows)]
    undefined = [o for o in outcomes if table.loc[table["outcome"] == o, RANK_BY[method]].isna().all()]
    if undefined:
        blocks.append(("p", f"No indices for {', '.join(undefined)}: the outcome is undefined at some design "
                            "points (for example a threshold never reached) or does not vary."))
    for o in outcomes:
        if o in paths:
            blocks.append(("fig", paths[o], f"{name}: {o}"))
    blocks.append(("h2", "Run-to-run noise"))
    if noise["points"].max() > 0:
        blocks.append(("p", f"At {int(noise['points'].max())} points of the parameter space the runs were "
                            f"repeated with {int(noise['seeds_per_point'].max())} seeds. The noise share is "
                            "the seed-to-seed variance at fixed parameters divided by the output's total "
                            "variance over the design: indices of the same order as the noise share (Sobol), "
                            "or mu* below the noise level (Morris), are not distinguishable from noise."))
        nrows = []
        for _, r in noise.iterrows():
            level = (f"{_noise_floor(noise, r['outcome'], cfg.num_levels):.3g}" if method == "morris" else "")
            nrows.append([r["outcome"], f"{r['noise_sd']:.3g}", f"{np.sqrt(r['total_variance']):.3g}",
                          render.pct(r["noise_share"]), *([level] if method == "morris" else [])])
        blocks.append(("table", ["outcome", "noise sd", "total sd over the design", "noise share",
                                 *(["mu* noise level"] if method == "morris" else [])], nrows))
    else:
        blocks.append(("p", "Not measured (noise_points=0)."))
    blocks.append(("h2", "Parameters varied"))
    bounds = p.space.bounds()
    blocks.append(("table", ["parameter", "low", "high", "prior"],
                   [[r["parameter"], f"{r['low']:g}", f"{r['high']:g}", r["kind"]]
                    for _, r in bounds.iterrows()]))
    return blocks


def print_ranking(table: pd.DataFrame, cfg: SensitivityConfig, k: int = 5) -> None:
    for outcome in dict.fromkeys(table["outcome"]):
        rows = ranking(table, outcome, cfg.method, k)
        print(f"\n{outcome}:")
        print_table(["parameter", *COLUMNS[cfg.method]],
                    [[r["parameter"], *[f"{r[c]:.4g}" for c in COLUMNS[cfg.method]]]
                     for _, r in rows.iterrows()])


def show(table: pd.DataFrame, cfg: SensitivityConfig, out: Path) -> None:
    print_ranking(table, cfg)
    print()


entry = hydra_app("sensitivity", SensitivityConfig, check, run_sensitivity, show)

if __name__ == "__main__":
    entry()
