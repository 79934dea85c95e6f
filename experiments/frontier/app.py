"""Budget frontier for planners: ``python -m experiments.frontier`` (Hydra app).

At one total budget, the split between two levers (by default civil-servant training and
infrastructure) moves from 0 % to 100 % of the first lever in ``n_splits`` steps, ``seeds`` runs each
(and, as a reference, the same seeds with no extra spending). All the runs go through
:mod:`experiments.engine.runner` (every local core by default; resumable). Writes into one folder:

- ``runs/``: every run's folder; ``timeseries/``: their monthly rows as one partitioned Parquet
  dataset; ``run_summaries.csv``: one row per run;
- ``frontier.csv``: one row per (pair, share): every summary metric as ``<metric>_mean/_p05/_p95/_mc_se``
  (the 5%-95% range across worlds and the Monte Carlo error of the mean), effects against the
  no-spending reference (absolute and per IDR bn), ``top_split``
  (highest mean), ``is_best`` (the top split, and only if it beats both neighbouring splits in paired
  95 % intervals over seeds; else no split is best), the 95 % bootstrap range of the top share over
  resamples of the seeds (``best_share_ci_low/high``, from 5 seeds), and the decision measures over the
  worlds (each seed one posterior draw, the same at every split; :mod:`experiments.frontier.decision`):
  ``p_best`` (share of worlds in which the split is best) with its Monte Carlo error ``p_best_mc_se``,
  ``expected_regret``, ``regret_p95`` and
  ``regret_max`` (what choosing it loses against the best split of each world: on average, in 1 world
  of 20, at worst; also in adopters, ``..._adopters``, when the objective is final adoption),
  ``lowest_expected_regret`` and ``minimax_regret``; the reference is the row with
  ``pair == "reference"``;
- ``value_of_information.csv``: per pair, one row per posterior parameter that differs between the
  seeds' draws, highest EVPPI first (``evppi``, ``evppi_adopters``, ``evpi``, ``evpi_adopters``,
  ``share_of_evpi``, ``n_draws``, ``fit_df``, ``clipped``); EVPPI is not estimated below 10 draws;
  under ``uncertainty=none`` one row per pair with EVPI only;
- ``frontier.png``: final adoption, equity gaps and regret against the first lever's share, 95 % bands,
  best split marked; ``frontier.md`` / ``frontier.html``: a short summary, the regret in words and the
  most valuable measurement.

Configuration: ``configs/experiment/frontier.yaml``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine import render, tables
from experiments.engine.app import (
    elapsed,
    hydra_app,
    print_table,
    seed_list,
)
from experiments.engine.posterior import MEASURE_COLUMN, draws_for_seeds, seeded_configs
from experiments.engine.runner import RunnerError, claim_folder, experiment_settings, run_configs
from experiments.engine.settings import FrontierConfig, check_work, composed, validate_frontier
from experiments.frontier import algorithm, figures, report
from sim.config import LEVERS, Allocation, ConfigError, SimConfig, policy_start_month, validate
from sim.store.files import atomic_path
from sim.store.provenance import config_hash
from sim.summary import SUMMARY_METRICS

POLICY_NAME = "frontier"


def frontier_plan(cfg: FrontierConfig) -> list[tuple[dict[str, Any] | None, list[SimConfig]]]:
    """Every point of the frontier (None: the no-spending reference, first when asked for) with the
    model configs of its runs: the base scenario composed once, then one copy per split and seed."""
    base = composed(cfg, cfg.base_policy, {"policy.name": POLICY_NAME})
    base = replace(base, progress=False, materialise_agents="never")
    seeds = seed_list(cfg.first_seed, cfg.seeds)

    def seeded(alloc: dict[str, float]) -> list[SimConfig]:
        split = replace(base, policy=replace(base.policy, allocation=Allocation(**alloc)))
        validate(split)
        return seeded_configs(split, seeds, cfg.uncertainty, cfg.posterior_file, cfg.portfolio,
                              cfg.use_measures)

    plan: list[tuple[dict[str, Any] | None, list[SimConfig]]] = []
    if cfg.reference:
        plan.append((None, seeded(dict.fromkeys(LEVERS, 0.0))))
    plan += [(point, seeded(point["allocation"]))
             for point in algorithm.frontier_points(cfg.pairs, cfg.n_splits)]
    return plan


def seed_draws(cfg: FrontierConfig) -> pd.DataFrame | None:
    """Each seed's posterior draw (index: seed; columns: dotted parameter keys), read from the
    posterior file the runs drew from; None under ``uncertainty=none`` (every seed at the defaults)."""
    if cfg.uncertainty == "none":
        return None
    draws = draws_for_seeds(seed_list(cfg.first_seed, cfg.seeds), cfg.posterior_file, cfg.portfolio,
                            cfg.use_measures)
    table = pd.DataFrame({seed: draw for seed, (_, draw) in draws.items()}).T.rename_axis("seed")
    if len({measure for measure, _ in draws.values()}) > 1:  # a mixture: which survey is right is uncertain
        table[MEASURE_COLUMN] = pd.Series({seed: m for seed, (m, _) in draws.items()}, dtype=object)
    return table


def sim_configs(plan: list[tuple[dict[str, Any] | None, list[SimConfig]]]) -> list[SimConfig]:
    """Every distinct run of a plan, in plan order (two pairs may share a split, e.g. all on one
    lever: one run serves both)."""
    distinct: dict[str, SimConfig] = {}
    for _, configs in plan:
        for c in configs:
            distinct.setdefault(config_hash(c), c)
    return list(distinct.values())


def check(cfg: FrontierConfig) -> None:
    """Every check that can fail before the sweep starts."""
    validate_frontier(cfg)
    known = SUMMARY_METRICS
    for key, names in (("objective", [cfg.objective]), ("equity_metrics", cfg.equity_metrics)):
        for name in names:
            if name not in known:
                raise ConfigError(f"{key}={name!r}: unknown summary metric; allowed: {', '.join(known)}")
    base = composed(cfg, cfg.base_policy, {"policy.name": POLICY_NAME})
    splits = len(cfg.pairs) * cfg.n_splits + cfg.reference
    check_work(cfg, splits * cfg.seeds, base.population.n_citizens, base.steps,
               {"seeds": cfg.seeds, "n_splits": cfg.n_splits})
    first = algorithm.frontier_points(cfg.pairs[:1], cfg.n_splits)[1]["allocation"]
    composed(cfg, cfg.base_policy, {"policy.allocation": first, "policy.name": POLICY_NAME})


def run_frontier(cfg: FrontierConfig, out: Path, started: float | None = None) -> pd.DataFrame:
    """The whole experiment without Hydra's app machinery: sweep, frontier.csv, figure, summary."""
    started = time.perf_counter() if started is None else started
    check(cfg)
    with claim_folder(out, experiment_settings("frontier", cfg), reuse=cfg.reuse):
        return _sweep_and_report(cfg, out, started)


def _sweep_and_report(cfg: FrontierConfig, out: Path, started: float) -> pd.DataFrame:
    """The sweep and its outputs, in a folder this process holds for this frontier alone."""
    plan = frontier_plan(cfg)
    configs = sim_configs(plan)
    if not cfg.reuse:
        print(f"budget frontier: {len(cfg.pairs)} pair(s) x {cfg.n_splits} splits"
              f"{' + no-spending reference' if cfg.reference else ''} x {cfg.seeds} seeds = {len(configs)} "
              f"runs ({cfg.launcher} launcher)", flush=True)
    records = run_configs(configs, out, launcher=cfg.launcher, n_jobs=cfg.n_jobs, progress=cfg.progress,
                          ray_address=cfg.ray_address, reuse=cfg.reuse)
    runs = tables.read_runs(records, root=out)
    with atomic_path(out / "run_summaries.csv") as tmp:
        runs.to_csv(tmp, index=False)
    splits = [(point, {config_hash(c) for c in group}) for point, group in plan if point is not None]
    reference = {config_hash(c) for point, group in plan if point is None for c in group}
    table = algorithm.frontier_table(runs, splits, reference, cfg.objective, cfg.maximize, cfg.bootstrap,
                                     practical=cfg.practical_difference)
    if table.empty or not (table["pair"] != "reference").any():
        raise RunnerError(f"no runs of the frontier's splits in {out / 'runs'}")
    with atomic_path(out / "frontier.csv") as tmp:
        table.to_csv(tmp, index=False)
    population_total = float(runs["population_total"].iloc[0])
    outcomes = algorithm.pair_outcomes(runs, splits, cfg.objective)
    draws = seed_draws(cfg)
    voi = algorithm.value_of_information(outcomes, draws, cfg.objective, cfg.maximize, population_total)
    with atomic_path(out / "value_of_information.csv") as tmp:
        voi.to_csv(tmp, index=False)
    by_measure = None
    if draws is not None and MEASURE_COLUMN in draws:  # a mixture of the measures' posteriors
        by_measure = algorithm.measure_splits(outcomes, draws[MEASURE_COLUMN], cfg.maximize)
        with atomic_path(out / "measure_splits.csv") as tmp:
            by_measure.to_csv(tmp, index=False)
    fig = figures.frontier(table, cfg.objective, cfg.equity_metrics, out / "frontier.png")
    ran = records[0].config  # the report describes the runs it was made from
    setup: dict[str, Any] = {
        "population": cfg.population, "n_citizens": ran.population.n_citizens,
        "steps": ran.steps - policy_start_month(ran),
        "history_months": policy_start_month(ran), "start_date": ran.start_date,
        "policy_start_date": ran.policy.start_date,
        "seeds": cfg.seeds, "n_splits": cfg.n_splits, "practical_difference": cfg.practical_difference,
        "budget_idr_bn_per_month": float(ran.budget_idr_bn_per_month),
        "population_total": population_total, "uncertainty": cfg.uncertainty,
        "created": datetime.now().strftime("%Y-%m-%d %H:%M"), "wall_time": elapsed(started),
    }
    blocks = report.frontier_blocks(table, setup, fig, cfg.objective, cfg.equity_metrics, voi, by_measure)
    render.write(blocks, out, "frontier", "Budget frontier")
    return table


def print_frontier(table: pd.DataFrame, cfg: FrontierConfig) -> None:
    """The frontier's table on the console, in the report's words and precision: the share of worlds
    in which each split is best and what choosing it loses on average."""
    rows = []
    for _, r in table.iterrows():
        share = ("no extra spending" if r["pair"] == "reference"
                 else f"{r['share_a']:.0%} {render.lever_label(r['lever_a'])}")
        mark = "  <- best" if r.get("is_best") is True else ""
        p_best = (render.probability(r["p_best"], r.get("p_best_mc_se")) if render.all_finite(r.get("p_best"))
                  else "-")
        rows.append([share + (" (could not spend its budget)" if bool(r.get("underspent")) else ""),
                     render.value_text(r, cfg.objective, sign=False),
                     *[render.value_text(r, g, interval=False, sign=False) for g in cfg.equity_metrics],
                     p_best + mark,
                     report.short_amount(r.get("expected_regret", np.nan),
                                         r.get("expected_regret_adopters", np.nan), cfg.objective)])
    print_table(["split", render.metric_label(cfg.objective),
                 *[render.metric_label(g) for g in cfg.equity_metrics], "P(best)", "expected regret"], rows)
    named = table[table.get("is_best", False) == True]  # noqa: E712
    for _, b in named.iterrows():
        text = (f"\nbest split: {b['share_a']:.0%} {render.lever_label(b['lever_a'])} / {b['share_b']:.0%} "
                f"{render.lever_label(b['lever_b'])}, ahead of both neighbouring splits")
        if np.isfinite(b["best_share_ci_low"]):
            text += (f"; 95% range of the best share {b['best_share_ci_low']:.0%} to "
                     f"{b['best_share_ci_high']:.0%}")
        print(text)
    for pair in sorted(set(table["pair"]) - set(named["pair"]) - {"reference"}):
        a, b = pair.split("/")
        print(f"\n{render.lever_label(a)} against {render.lever_label(b)}: no split is distinguishable from "
              "its neighbours (paired 95% intervals over seeds)")
    for pair in dict.fromkeys(table.loc[table["pair"] != "reference", "pair"]):
        for item in report.regret_items(table[table["pair"] == pair], cfg.objective):
            print(item)


def show(table: pd.DataFrame, cfg: FrontierConfig, out: Path) -> None:
    print()
    print_frontier(table, cfg)
    print(f"value of information per parameter: {out / 'value_of_information.csv'}")
    print()


entry = hydra_app("frontier", FrontierConfig, check, run_frontier, show)

if __name__ == "__main__":
    entry()
