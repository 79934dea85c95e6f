"""Scenario discovery: ``python -m experiments.exploration.discover`` (Hydra app, ``make discover``).

Under which assumptions does a policy win? A Latin hypercube (SALib) of ``n_samples`` points over the
uncertain parameters (:mod:`experiments.exploration.design`: the declared priors or ``uncertainty_file``); at
each point every scenario the ``condition`` names runs with the same seed (common random numbers),
and the condition -- by default ``training:adoption_final > infrastructure:adoption_final``, training
beats infrastructure on final adoption -- marks the point as a case of interest or not. PRIM
(:mod:`experiments.exploration.prim`, Friedman & Fisher 1999) then peels the parameter space down
to boxes where the condition mostly holds. Of each box's peeling trajectory the densest box with at
least ``min_coverage`` coverage is chosen, then its restrictions are dropped one at a time, the least
significant first, until each has a quasi-p value of at most ``max_qp`` (with dozens of parameters
and a few hundred points, peeling also restricts parameters that merely happen to separate the
sample). Each limit of a restriction is tested separately (one-sided binomial test);
dropping a restriction frees both limits, so a parameter's quasi-p value is the smaller of the two
and it is dropped only when neither limit is significant. Coverage is the share of all cases of
interest inside the box, density the share of the box's points that are cases of interest.

Writes into one folder: ``runs/`` and ``timeseries/`` (every run), ``samples.csv`` (each point's
parameter values, the metrics the condition compares and whether it holds), ``boxes.csv`` (one row
per box x restricted parameter: limits, the prior's range, PRIM's quasi-p value, the box's coverage,
density and mass), ``trajectory.csv`` and ``peeling_trajectory.png`` (the coverage-density
trade-off), ``discover.md`` / ``.html``.

Configuration: ``configs/experiment/discover.yaml``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.sample import latin

from experiments.engine import render
from experiments.engine.app import (
    elapsed,
    hydra_app,
    print_table,
)
from experiments.engine.runner import run_configs
from experiments.engine.settings import (
    DiscoverConfig,
    check_varied_overrides,
    check_work,
    validate_discover,
)
from experiments.exploration import design, prim
from experiments.exploration import figures as figs
from sim.config import SimConfig
from sim.store.files import atomic_path
from sim.summary import SUMMARY_METRICS

BOX_COLUMNS = ["box", "parameter", "low", "high", "prior_low", "prior_high", "qp_value", "coverage",
               "density", "mass", "restricted", "trajectory_step"]


def _settings(cfg: DiscoverConfig) -> tuple[design.Space, design.Condition, dict[str, SimConfig]]:
    validate_discover(cfg)
    condition = design.parse_condition(cfg.condition, SUMMARY_METRICS)
    bases = design.scenario_bases(cfg, condition.scenarios)
    base = bases[condition.scenarios[0]]
    space = design.load_space(cfg.uncertainty_file, cfg.parameters, base)
    check_varied_overrides(cfg, space.names)
    check_work(cfg, cfg.n_samples * len(bases), base.population.n_citizens, base.steps,
               {"n_samples": cfg.n_samples})
    return space, condition, bases


def check(cfg: DiscoverConfig) -> None:
    """Every check that can fail before the runs start (one-line ConfigError)."""
    _settings(cfg)


def choose_step(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest box on the trajectory with at least ``min_coverage`` coverage (ties: the larger
    coverage); the first box if none has that much."""
    ok = trajectory[trajectory["coverage"] >= min_coverage]
    if ok.empty:
        return 0
    best = ok.sort_values(["density", "coverage"], ascending=False, kind="stable")
    return int(best.index[0])


def prune(box: prim.PrimBox, max_qp: float) -> None:
    """Drop the box's restrictions one at a time, the largest quasi-p value first, until every
    remaining one has a quasi-p value of at most ``max_qp`` (``drop_restriction`` appends the widened
    box to the trajectory and selects it, so the quasi-p values are recomputed for the box that
    remains)."""
    while True:
        lims = box.restrictions()
        if lims.empty or lims["qp"].max() <= max_qp:
            return
        box.drop_restriction(str(lims["qp"].idxmax()))


def _trajectory(box: prim.PrimBox) -> pd.DataFrame:
    """The peeling trajectory in the columns ``trajectory.csv`` and the figure use."""
    return box.peeling_trajectory[prim.TRAJECTORY_COLUMNS].reset_index(drop=True).copy()


def find_boxes(x: pd.DataFrame, y: np.ndarray, space: design.Space,
               cfg: DiscoverConfig) -> tuple[pd.DataFrame, list[tuple[pd.DataFrame, int]]]:
    """PRIM boxes one after another: the table of chosen boxes, and each box's trajectory and step.

    A box counts only if the end of its search reaches density 0.5 (PRIM's ``threshold``): a box is
    one where the condition mostly holds. The search ends at the first search that finds none, or
    whose box restricts nothing.
    """
    rows: list[dict[str, Any]] = []
    trajectories: list[tuple[pd.DataFrame, int]] = []
    if y.sum() == 0 or y.all():
        return pd.DataFrame(columns=BOX_COLUMNS), trajectories
    search = prim.Prim(x.reset_index(drop=True), y.astype(bool), threshold=0.5, peel_alpha=cfg.peel_alpha,
                       paste_alpha=cfg.paste_alpha, mass_min=cfg.mass_min)
    bounds = space.bounds().set_index("parameter")
    for number in range(1, cfg.max_boxes + 1):
        box = search.find_box()
        if box is None or int(box.peeling_trajectory["res dim"].max()) == 0:
            break  # no points left, no box dense enough, or nothing to restrict
        trajectory = _trajectory(box)
        step = choose_step(trajectory, cfg.min_coverage)
        box.select(step)
        if cfg.max_qp is not None:
            prune(box, cfg.max_qp)
        stats, lims = box.stats, box.restrictions()
        trajectories.append((trajectory, step))
        for name, lim in lims.iterrows():
            rows.append({"box": number, "parameter": name, "low": float(lim["low"]),
                         "high": float(lim["high"]), "prior_low": float(bounds.loc[name, "low"]),
                         "prior_high": float(bounds.loc[name, "high"]),
                         "qp_value": float(lim["qp"]), "coverage": float(stats["coverage"]),
                         "density": float(stats["density"]), "mass": float(stats["mass"]),
                         "restricted": int(stats["res dim"]), "trajectory_step": step})
        if not lims.shape[0]:
            break
    return pd.DataFrame(rows, columns=BOX_COLUMNS), trajectories


def run_discover(cfg: DiscoverConfig, out: Path, started: float | None = None) -> pd.DataFrame:
    """The whole discovery without Hydra's app machinery: runs, PRIM, tables, figure, render."""
    started = time.perf_counter() if started is None else started
    space, condition, bases = _settings(cfg)
    unit = latin.sample(space.problem(), cfg.n_samples, seed=cfg.sample_seed)
    values = space.values(unit)
    configs = design.point_configs(bases, values, [cfg.seed])
    scenarios = list(bases)
    if not cfg.reuse:
        print(f"scenario discovery: {cfg.n_samples} Latin hypercube points over {len(space.parameters)} "
              f"parameters x {len(scenarios)} scenarios ({', '.join(scenarios)}) = {len(configs)} runs "
              f"({cfg.launcher} launcher)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    records = run_configs(configs, out, launcher=cfg.launcher, n_jobs=cfg.n_jobs, progress=cfg.progress,
                          ray_address=cfg.ray_address, reuse=cfg.reuse)
    by_scenario = design.summaries(records, cfg.n_samples, scenarios, 1)
    holds = condition.holds(by_scenario).to_numpy(dtype=bool)
    samples = values.copy()
    for side in (condition.left, condition.right):
        if isinstance(side, tuple):
            samples[":".join(side)] = pd.to_numeric(by_scenario[side[0]][side[1]], errors="coerce").to_numpy()
    samples["condition"] = holds
    samples.insert(0, "point", range(cfg.n_samples))
    boxes, trajectories = find_boxes(values, holds, space, cfg)
    with atomic_path(out / "samples.csv") as tmp:
        samples.to_csv(tmp, index=False)
    with atomic_path(out / "boxes.csv") as tmp:
        boxes.to_csv(tmp, index=False)
    traj = pd.concat([t.assign(box=i + 1, step=t.index) for i, (t, _) in enumerate(trajectories)],
                     ignore_index=True) if trajectories else pd.DataFrame()
    with atomic_path(out / "trajectory.csv") as tmp:
        traj.to_csv(tmp, index=False)
    first = boxes[boxes["box"] == 1]
    final = (float(first["coverage"].iloc[0]), float(first["density"].iloc[0])) if len(first) else None
    fig = (figs.peeling_trajectory(trajectories[0][0], trajectories[0][1], out / "peeling_trajectory.png",
                                   f"PRIM peeling trajectory: {cfg.condition}", final)
           if trajectories else None)
    setup = {"runs": len(configs), "scenarios": scenarios, "wall_time": elapsed(started),
             "n_citizens": int(bases[scenarios[0]].population.n_citizens),
             "created": datetime.now().strftime("%Y-%m-%d %H:%M")}
    render.write(report_blocks(boxes, holds, space, cfg, setup, fig), out, "discover", "Scenario discovery")
    return boxes


def _range(low: float, high: float) -> str:
    return f"{low:.4g} to {high:.4g}"


def report_blocks(boxes: pd.DataFrame, holds: np.ndarray, space: design.Space, cfg: DiscoverConfig,
                  setup: dict[str, Any], fig: Path | None) -> list[render.Block]:
    """The report as blocks (see :mod:`experiments.engine.render`)."""
    blocks: list[render.Block] = [
        ("h1", f"Scenario discovery: where {cfg.condition}"),
        ("p", f"A Latin hypercube of {cfg.n_samples} points over {len(space.parameters)} parameters "
              f"({space.source}); at each point the scenarios {', '.join(setup['scenarios'])} ran with "
              f"seed {cfg.seed} (common random numbers): {setup['runs']} runs of {setup['n_citizens']:,} "
              f"citizens x {cfg.steps} "
              f"forecast months after the history, {cfg.population} profile. Created {setup['created']}; "
              f"wall time {setup['wall_time']}."),
        ("p", f"The condition holds at {int(holds.sum())} of {len(holds)} points ({holds.mean():.0%})."),
    ]
    if boxes.empty:
        blocks.append(("p", "PRIM found no box: the condition holds everywhere or nowhere in the sample, or "
                            "no restriction of the chosen box is significant (max_qp)."))
    for number, rows in boxes.groupby("box"):
        first = rows.iloc[0]
        blocks.append(("h2", f"Box {number}"))
        pruned = (f", then restrictions with a quasi-p value above {cfg.max_qp:g} dropped"
                  if cfg.max_qp is not None else "")
        blocks.append(("p", f"Coverage {first['coverage']:.0%} (share of all points where the condition "
                            f"holds that lie in the box), density {first['density']:.0%} (share of the box's "
                            f"points where it holds; {holds.mean():.0%} in the whole sample), mass "
                            f"{first['mass']:.0%} of the points; {int(first['restricted'])} parameter(s) "
                            f"restricted. From step {int(first['trajectory_step'])} of the peeling "
                            f"trajectory (the densest with coverage >= {cfg.min_coverage:.0%}){pruned}."))
        blocks.append(("table", ["parameter", "box", "prior range", "quasi-p"],
                       [[r["parameter"], _range(r["low"], r["high"]), _range(r["prior_low"], r["prior_high"]),
                         f"{r['qp_value']:.2g}"] for _, r in rows.iterrows()]))
    if fig is not None:
        blocks.append(("fig", fig, "Peeling trajectory of the first box: coverage against density; "
                                   "colour: number of restricted parameters"))
    blocks.append(("p", "A quasi-p value (one-sided binomial test of the box's density with and without "
                        "the restriction; for a parameter limited from both sides, the smaller of the two "
                        "limits' values) above about 0.05 marks a restriction that may be chance. Each point "
                        "ran once: where the scenarios are close, run-to-run noise decides the condition at "
                        "some points."))
    return blocks


def print_boxes(boxes: pd.DataFrame) -> None:
    if boxes.empty:
        print("PRIM found no box")
        return
    for number, rows in boxes.groupby("box"):
        first = rows.iloc[0]
        print(f"\nbox {number}: coverage {first['coverage']:.0%}, density {first['density']:.0%}, "
              f"mass {first['mass']:.0%}")
        print_table(["parameter", "low", "high", "prior", "quasi-p"],
                    [[r["parameter"], f"{r['low']:.4g}", f"{r['high']:.4g}",
                      _range(r["prior_low"], r["prior_high"]), f"{r['qp_value']:.2g}"]
                     for _, r in rows.iterrows()])


def show(boxes: pd.DataFrame, cfg: DiscoverConfig, out: Path) -> None:
    print_boxes(boxes)
    print()


entry = hydra_app("discover", DiscoverConfig, check, run_discover, show)

if __name__ == "__main__":
    entry()
