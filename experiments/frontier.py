"""Budget frontier for planners: ``python -m experiments.frontier`` (Hydra app).

At one total budget, the split between two levers (by default civil-servant training and
infrastructure) moves from 0 % to 100 % of the first lever in ``n_splits`` steps, ``seeds`` runs each
(and, as a reference, the same seeds with no extra spending). All the runs are one model multirun
(joblib launcher, every local core). Writes into one folder:

- ``runs/``: every run's folder and ``sweep.log``; ``run_summaries.csv``: one row per run;
- ``frontier.csv``: one row per (pair, share): every summary metric as ``<metric>_mean/_ci_low/_ci_high``
  (95 % across seeds), effects against the no-spending reference (absolute and per IDR bn), ``p_best``
  (share of bootstrap resamples of the seeds in which this split is best), ``is_best`` and the 95 % range
  of the best share (``best_share_ci_low/high``); the reference is the row with ``pair == "reference"``;
- ``frontier.png``: final adoption and equity gaps against the first lever's share, 95 % bands, best
  split marked; ``frontier.md`` / ``frontier.html``: a short summary.

Configuration: ``configs/experiment/frontier.yaml``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments import aggregate, figures, report
from experiments.app import (
    APP_CONFIG_DIR,
    checked_entry,
    common_sim_overrides,
    elapsed,
    fail,
    known_summary_metrics,
    print_table,
    seed_list,
    sweep_runs,
)
from experiments.config import FrontierConfig, check_sim_overrides, validate_frontier
from experiments.sweep import SweepError
from sim.config import ConfigError

POLICY_NAME = "frontier"


def allocations(cfg: FrontierConfig) -> list[dict[str, float]]:
    """Every distinct allocation the frontier needs (the reference, all zeros, first when asked for)."""
    seen: dict[tuple, dict[str, float]] = {}
    if cfg.reference:
        zero = aggregate.split_allocation(cfg.pairs[0][0], cfg.pairs[0][1], 0.0)
        zero = dict.fromkeys(zero, 0.0)
        seen[aggregate.allocation_key(list(zero.values()))] = zero
    for point in aggregate.frontier_points(cfg.pairs, cfg.n_splits):
        seen.setdefault(aggregate.allocation_key(list(point["allocation"].values())), point["allocation"])
    return list(seen.values())


def allocation_override(allocs: list[dict[str, float]]) -> str:
    """A Hydra choice sweep over whole allocation dicts: ``policy.allocation={...},{...}``."""
    items = ["{" + ",".join(f"{k}:{v:.6f}" for k, v in a.items()) + "}" for a in allocs]
    return "policy.allocation=" + ",".join(items)


def sweep_overrides(cfg: FrontierConfig) -> list[str]:
    seeds = ",".join(str(s) for s in seed_list(cfg.first_seed, cfg.seeds))
    return [f"policy={cfg.base_policy}", f"policy.name={POLICY_NAME}", allocation_override(allocations(cfg)),
            f"seed={seeds}", *common_sim_overrides(cfg)]


def check(cfg: FrontierConfig) -> None:
    """Every check that can fail before the sweep starts."""
    validate_frontier(cfg)
    known = known_summary_metrics()
    for key, names in (("objective", [cfg.objective]), ("equity_metrics", cfg.equity_metrics)):
        for name in names:
            if name not in known:
                raise ConfigError(f"{key}={name!r}: unknown summary metric; allowed: {', '.join(known)}")
    first = aggregate.frontier_points(cfg.pairs[:1], cfg.n_splits)[1]["allocation"]
    check_sim_overrides(cfg, cfg.base_policy, extra={"policy.allocation": first, "policy.name": POLICY_NAME})


def run_frontier(cfg: FrontierConfig, out: Path, started: float | None = None) -> pd.DataFrame:
    """The whole experiment without Hydra's app machinery: sweep, frontier.csv, figure, summary."""
    started = time.perf_counter() if started is None else started
    check(cfg)
    out.mkdir(parents=True, exist_ok=True)
    n_runs = len(allocations(cfg)) * cfg.seeds
    intro = (f"budget frontier: {len(cfg.pairs)} pair(s) x {cfg.n_splits} splits"
             f"{' + no-spending reference' if cfg.reference else ''} x {cfg.seeds} seeds = {n_runs} runs")
    run_dirs = sweep_runs(cfg, out / "runs", sweep_overrides(cfg), n_runs, intro)
    runs = aggregate.read_runs(run_dirs)
    runs.to_csv(out / "run_summaries.csv", index=False)
    table = aggregate.frontier_table(runs, cfg.pairs, cfg.n_splits, cfg.objective, cfg.maximize,
                                     cfg.bootstrap)
    if table.empty or not (table["pair"] != "reference").any():
        raise SweepError(f"no runs of the frontier's splits in {out / 'runs'}")
    table.to_csv(out / "frontier.csv", index=False)
    label = "final adoption" if cfg.objective == "adoption_final" else cfg.objective
    fig = figures.frontier(table, cfg.objective, cfg.equity_metrics, out / "frontier.png", label)
    setup: dict[str, Any] = {
        "population": cfg.population, "n_citizens": int(runs["n_citizens"].iloc[0]), "steps": cfg.steps,
        "seeds": cfg.seeds, "n_splits": cfg.n_splits,
        "budget_idr_bn_per_month": float(runs["budget_idr_bn_per_month"].iloc[0]),
        "created": datetime.now().strftime("%Y-%m-%d %H:%M"), "wall_time": elapsed(started),
    }
    blocks = report.frontier_blocks(table, setup, fig, cfg.objective, cfg.equity_metrics)
    report.write(blocks, out, "frontier", "Budget frontier")
    return table


def print_frontier(table: pd.DataFrame, cfg: FrontierConfig) -> None:
    rows = []
    for _, r in table.iterrows():
        share = "no extra spending" if r["pair"] == "reference" else f"{r['share_a']:.0%} {r['lever_a']}"
        mark = "  <- best" if r.get("is_best") is True else ""
        rows.append([share, report.num(*report.stat(r, cfg.objective), fmt="{:.3f}"),
                     *[report.num(r[f"{g}_mean"], fmt="{:.3f}") for g in cfg.equity_metrics],
                     (report.pct(r["p_best"], digits=0) if report._ok(r.get("p_best")) else "-") + mark])
    print_table(["split", cfg.objective, *cfg.equity_metrics, "P(best)"], rows)
    for _, b in table[table.get("is_best", False) == True].iterrows():  # noqa: E712
        print(f"\nbest split ({b['pair']}): {b['share_a']:.0%} {b['lever_a']} / {b['share_b']:.0%} "
              f"{b['lever_b']}; 95% range of the best share {b['best_share_ci_low']:.0%} to "
              f"{b['best_share_ci_high']:.0%}")


@hydra.main(version_base="1.3", config_path=str(APP_CONFIG_DIR), config_name="frontier")
def main(cfg: DictConfig) -> None:
    started = time.perf_counter()
    out = Path(HydraConfig.get().runtime.output_dir).resolve()
    try:
        typed: FrontierConfig = OmegaConf.to_object(cfg)
        table = run_frontier(typed, out, started)
    except (ConfigError, SweepError) as exc:
        fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    print()
    print_frontier(table, typed)
    print(f"\nresults ({elapsed(started)}): {out}")


def entry() -> None:
    checked_entry("frontier", FrontierConfig, check, main)


if __name__ == "__main__":
    entry()
