"""Policy comparison, the main job: ``python -m experiments.compare`` (Hydra app).

Runs every policy scenario x several seeds with :mod:`experiments.engine.runner` (every local core by default,
or one after another, or on Ray; a progress bar; each run written to disk as it finishes; the same
command into the same folder resumes an interrupted comparison), then writes into one folder:

- ``runs/``: every run's folder (``config.yaml``, ``timeseries.parquet``, ``summary.json``) and
  ``timeseries/``, the same monthly rows as one partitioned Parquet dataset;
- ``runs.parquet``: one row per run x month (scenario, seed, month, every monthly metric);
- ``run_summaries.csv``: one row per run (every summary metric);
- ``scenario_summary.csv``: one row per scenario, ranked by ``p_best`` (share of draws in which it has
  the highest final adoption, with its Monte Carlo error ``p_best_mc_se``): every metric and every effect
  against the baseline (additional adopters, change of each equity gap, absolute and per IDR bn) as
  ``<metric>_mean``, ``_p05``/``_p95`` (the range across calibrated worlds, or across seeds under
  ``uncertainty=none``) and ``_mc_se`` (Monte Carlo error of the mean);
- ``scenario_summary_long.csv``: the same statistics in long format, one row per scenario x metric x
  statistic (columns ``scenario``, ``metric``, ``statistic``, ``value``; statistic ``mean``, ``p05``,
  ``p95``, ``mc_se``, or ``value`` for ``p_best``), for filtering and plotting without parsing names;
- ``pairwise.csv``: P(row scenario's final adoption > column scenario's) over the draws (ties count half);
- ``service_summary.csv`` (a portfolio beyond the general service, ``portfolio=indonesia``): per scenario
  and service, the share of the eligible who have used it online and the last year's online share
  (:mod:`experiments.compare.services`);
- ``province_summary.csv``: per scenario and province, final adoption, access and the paired effect;
  ``province_targeting.csv`` when a scenario confines its levers to some provinces (``policy.provinces``):
  its targeted provinces pooled beside all the others (:mod:`experiments.compare.provinces`);
- ``figures/*.png`` and ``report.md`` / ``report.html`` (self-contained).

Configuration: ``configs/experiment/compare.yaml``; the folder is Hydra's run folder
(``hydra.run.dir=...``), printed at the end. ``reuse=true`` runs nothing and rebuilds the tables and
report from the runs in the folder, provided every one is complete and of this comparison's configs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.compare import figures, measures, provinces, report, services
from experiments.engine import render, stats, tables
from experiments.engine.app import (
    elapsed,
    hydra_app,
    print_table,
    seed_list,
)
from experiments.engine.posterior import measure_of_seeds, posterior_path, seeded_configs
from experiments.engine.runner import RunnerError, claim_folder, experiment_settings, run_configs
from experiments.engine.settings import CompareConfig, check_work, composed, scenario_list, validate_compare
from experiments.engine.stamp import shipped_status
from experiments.engine.targets import national_targets
from sim.config import SimConfig, policy_start_month
from sim.store.files import atomic_path
from sim.store.record import RunRecord

log = logging.getLogger(__name__)

FIGURES = {
    "adoption": "adoption_over_time.png",
    "ever_used": "ever_used_over_time.png",
    "heatmap": "adoption_by_group.png",
    "gaps": "equity_gaps.png",
    "trust": "trust_over_time.png",
    "staff": "digital_staff_over_time.png",
    "cost": "cost_effectiveness.png",
}


def check(cfg: CompareConfig) -> None:
    """Every check that can fail before the sweep starts: ranges, the work it would take, then each
    scenario's model config (a start month past the horizon, a bad override)."""
    validate_compare(cfg)
    base = composed(cfg, cfg.baseline)
    scenarios = scenario_list(cfg)
    if cfg.p_best_precision is None or cfg.reuse:
        check_work(cfg, len(scenarios) * cfg.seeds, base.population.n_citizens, base.steps,
                   {"seeds": cfg.seeds})
    else:  # as many seeds as the precision may add
        key = "max_seeds" if cfg.max_seeds > cfg.seeds else "seeds"
        check_work(cfg, len(scenarios) * max(cfg.seeds, cfg.max_seeds), base.population.n_citizens,
                   base.steps, {key: getattr(cfg, key)})
    for scenario in scenarios:
        composed(cfg, scenario)


@dataclass(frozen=True)
class Race:
    """Racing: the seeds after the first ``screened`` run only the ``kept`` scenarios (the baseline and
    :func:`experiments.engine.stats.contenders`); the others run the first ``screened`` seeds alone."""

    screened: int
    kept: tuple[str, ...]

    def seeds_of(self, scenario: str, seeds: int) -> int:
        """How many seeds ``scenario`` runs when the comparison runs ``seeds``."""
        return seeds if scenario in self.kept else min(seeds, self.screened)

    def dropped(self, scenarios: list[str]) -> list[str]:
        return [s for s in scenarios if s not in self.kept]


def sim_configs(cfg: CompareConfig, race: Race | None = None) -> list[SimConfig]:
    """Every run's model config: each scenario composed once, then one copy per seed it runs."""
    out = []
    for scenario in cfg.scenarios:
        base = replace(composed(cfg, scenario), progress=False, materialise_agents="never")
        seeds = cfg.seeds if race is None else race.seeds_of(scenario, cfg.seeds)
        out += seeded_configs(base, seed_list(cfg.first_seed, seeds), cfg.uncertainty,
                              cfg.posterior_file, cfg.portfolio, cfg.use_measures)
    return out


def collect_runs(cfg: CompareConfig, out: Path, announce: bool = True, race: Race | None = None
                 ) -> list[RunRecord]:
    """Run (or resume, or with reuse take) every scenario x seed into ``out/runs``."""
    configs = sim_configs(cfg, race)
    size = f"{cfg.n_citizens:,} citizens" if cfg.n_citizens else f"the {cfg.population} profile"
    if announce and not cfg.reuse:
        history = policy_start_month(configs[0])
        print(f"policy comparison: {len(cfg.scenarios)} scenarios x {cfg.seeds} seeds = {len(configs)} runs "
              f"of {size}: {history} months of history from {configs[0].start_date}, then "
              f"{configs[0].steps - history} months of policy ({cfg.launcher} launcher)", flush=True)
    return run_configs(configs, out, launcher=cfg.launcher, n_jobs=cfg.n_jobs, progress=cfg.progress,
                       ray_address=cfg.ray_address, reuse=cfg.reuse)


def start_race(cfg: CompareConfig, runs: pd.DataFrame) -> Race | None:
    """With ``racing``, the race after the first batch: the baseline and the contenders go on, the
    others stop (None when every scenario goes on)."""
    if not cfg.racing:
        return None
    scenarios = list(cfg.scenarios)
    going_on = set(stats.contenders(runs, [s for s in scenarios if s != cfg.baseline])) | {cfg.baseline}
    race = Race(cfg.seeds, tuple(s for s in scenarios if s in going_on))
    dropped = race.dropped(scenarios)
    if not dropped:
        return None
    print(f"racing: {len(dropped)} of {len(scenarios)} scenarios were best in none of the first {cfg.seeds} "
          f"worlds (P(best) below {stats.screening_bound(cfg.seeds):.2f} each, 95% confidence) and stop "
          f"there; {', '.join(race.kept)} go on (racing=false runs every scenario on every seed)", flush=True)
    return race


def add_seeds_until_precise(cfg: CompareConfig, out: Path, records: list[RunRecord]
                            ) -> tuple[CompareConfig, list[RunRecord], pd.DataFrame | None, Race | None]:
    """With ``p_best_precision``, more seeds until every scenario's P(best) is that precise
    (:func:`experiments.engine.stats.draws_for_precision`) or ``max_seeds`` are run; returns the
    config naming the seeds run, their records, the table of their runs (None without
    ``p_best_precision``: nothing was read) and the race (:class:`Race`; None when every scenario ran
    every seed).
    Each batch asks for the draws the estimate so far needs (at least a quarter more), so a clear
    decision stops early and a close one runs up to the limit; with ``racing`` the added seeds run
    only the scenarios still in contention (:func:`start_race`). Earlier seeds keep their measure of
    use and draw (:func:`experiments.engine.posterior.measure_of_seeds`), so the runs done stay valid,
    and a rerun into the same folder (or ``reuse=true``) takes the same steps."""
    if cfg.p_best_precision is None:
        return cfg, records, None, None
    runs = tables.read_runs(records, root=out)
    first, race = cfg.seeds, None
    while True:
        have, needed, error = stats.draws_for_precision(runs, list(cfg.scenarios), cfg.p_best_precision)
        if needed <= have:
            print(f"P(best) known to within {error:.3f} (Monte Carlo error, cautious) from {have} worlds: "
                  f"enough for p_best_precision={cfg.p_best_precision:g}", flush=True)
            return cfg, records, runs, race
        if cfg.seeds >= cfg.max_seeds:
            print(f"P(best) known to within {error:.3f} from max_seeds={cfg.max_seeds} worlds, short of "
                  f"p_best_precision={cfg.p_best_precision:g} (about {needed} needed)", flush=True)
            return cfg, records, runs, race
        if cfg.seeds == first:  # the race is decided once, on the first batch
            race = start_race(cfg, runs)
        seeds = min(max(needed, cfg.seeds + -(-cfg.seeds // 4)), cfg.max_seeds)
        going_on = len(cfg.scenarios) if race is None else len(race.kept)
        print(f"P(best) known to within {error:.3f} from {have} worlds, p_best_precision="
              f"{cfg.p_best_precision:g} asks for about {needed}: running seeds "
              f"{cfg.first_seed + cfg.seeds} to {cfg.first_seed + seeds - 1} "
              f"({(seeds - cfg.seeds) * going_on} runs)", flush=True)
        cfg = replace(cfg, seeds=seeds)
        records = collect_runs(cfg, out, announce=False, race=race)
        runs = tables.read_runs(records, root=out)


def ranked_summary(runs: pd.DataFrame, scenarios: list[str], baseline: str) -> pd.DataFrame:
    """The scenario summary with ``rank`` (by P(best), then the mean paired change of final adoption
    against the baseline), ``p_best`` and its Monte Carlo error ``p_best_mc_se`` in front, scenarios in
    the order given."""
    summary = tables.scenario_summary(runs, scenarios, baseline)
    best = stats.p_best_table(runs, scenarios)
    summary.insert(1, "p_best", summary["scenario"].map(best["p_best"]))
    summary.insert(2, "p_best_mc_se", summary["scenario"].map(best["p_best_mc_se"]))
    ranks = stats.ranking(summary).set_index("scenario")["rank"]
    summary.insert(1, "rank", summary["scenario"].map(ranks))
    return summary


def write_outputs(cfg: CompareConfig, out: Path, records: list[RunRecord], started: float,
                  runs: pd.DataFrame | None = None, race: Race | None = None) -> pd.DataFrame:
    """Tables, figures and the report from the finished runs' records (``runs``: their table, when it
    has been read already; ``race``: which scenarios stopped after the first seeds); returns the
    scenario summary."""
    runs = tables.read_runs(records, root=out) if runs is None else runs
    mixed = cfg.uncertainty == "posterior" and cfg.posterior_file is None
    if mixed:  # each seed's measure of use, allocated over the seeds the comparison ran
        allocation = measure_of_seeds(seed_list(cfg.first_seed, cfg.seeds), dict(cfg.use_measures))
        runs.insert(runs.columns.get_loc("seed") + 1, measures.COLUMN, runs["seed"].map(allocation))
    missing = [s for s in cfg.scenarios if s not in set(runs["scenario"])]
    if missing:
        raise RunnerError(f"no finished runs for scenario(s) {', '.join(missing)} in {out / 'runs'}")
    scenarios = list(cfg.scenarios)
    tidy = tables.tidy_timeseries(records)
    with atomic_path(out / "runs.parquet") as tmp:
        tidy.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    with atomic_path(out / "run_summaries.csv") as tmp:
        runs.to_csv(tmp, index=False)
    summary = ranked_summary(runs, scenarios, cfg.baseline)
    with atomic_path(out / "scenario_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    with atomic_path(out / "scenario_summary_long.csv") as tmp:
        tables.long_summary(summary).to_csv(tmp, index=False)
    pairwise = stats.pairwise(runs, scenarios)
    with atomic_path(out / "pairwise.csv") as tmp:
        pairwise.to_csv(tmp, index=False)

    # the report describes the runs it was made from: the baseline's first run, as the runner ran it
    baseline_configs = [r.config for r in sorted({r.key: r for r in records if r.scenario == cfg.baseline}
                                                  .values(), key=lambda r: (r.seed, r.directory))]
    model_cfg = baseline_configs[0]
    history = policy_start_month(model_cfg)
    shown = {t.name: t for m, w in cfg.use_measures.items() if w > 0 for t in national_targets(m)}
    timeline = figures.timeline_of(model_cfg.start_date, history, list(shown.values()))
    gaps = tables.present_gaps(runs)
    paths = figures.compare_figures(tidy, summary, scenarios, cfg.baseline, gaps, out / "figures", FIGURES,
                                    render.range_name(cfg.uncertainty), timeline)
    setup: dict[str, Any] = {
        "population": cfg.population, "n_citizens": model_cfg.population.n_citizens,
        "steps": model_cfg.steps - history, "history_months": history,
        "start_date": model_cfg.start_date, "policy_start_date": model_cfg.policy.start_date,
        "parameter_set": model_cfg.parameter_set,
        "seeds": int(runs["seed"].nunique()),
        "screened_seeds": None if race is None else race.screened,
        "dropped": [] if race is None else race.dropped(scenarios),
        "network": cfg.network, "population_total": float(model_cfg.population.population_total),
        "budget_idr_bn_per_month": float(model_cfg.budget_idr_bn_per_month),
        "created": datetime.now().strftime("%Y-%m-%d %H:%M"), "wall_time": elapsed(started),
        "uncertainty": cfg.uncertainty, "clear_winner_share": cfg.clear_winner_share,
        "p_best_precision": cfg.p_best_precision, "max_seeds": cfg.max_seeds,
        "distinct_draws": len({repr(c.params) for c in baseline_configs}),
        "posterior_file": str(cfg.posterior_file) if cfg.posterior_file is not None else "; ".join(
            str(posterior_path(None, cfg.portfolio, m)) for m, w in cfg.use_measures.items() if w > 0),
        "measures": [m for m, w in cfg.use_measures.items() if w > 0] if mixed else [],
        "measures_headline": measures.headline_item(runs, scenarios, cfg.baseline, cfg.clear_winner_share),
        "shipped": shipped_status(),
    }
    blocks = report.compare_blocks(summary, cfg.baseline, setup, paths, baseline_configs, gaps, pairwise)
    others = summary[summary["scenario"] != cfg.baseline].sort_values("rank", kind="stable")
    best = None if others.empty else str(others.iloc[0]["scenario"])
    at = next((i for i, b in enumerate(blocks) if b[:2] == ("h2", "Assumptions that drive these results")),
              len(blocks))
    spread = render.range_name(cfg.uncertainty)
    blocks[at:at] = [*measures.measure_section(runs, scenarios, cfg.baseline, dict(cfg.use_measures),
                                               cfg.clear_winner_share, out),
                     *services.service_section(records, cfg.baseline, out, spread),
                     *provinces.province_section(records, cfg.baseline, best, out, spread)]
    render.write(blocks, out, "report", "Policy scenario comparison")
    return summary


def print_ranking(summary: pd.DataFrame, baseline: str, uncertainty: str) -> None:
    """The ranking of ``scenario_summary.csv`` (by P(best)), each level and effect with its 5 %-95 %
    range across calibrated worlds (across seeds under ``uncertainty=none``)."""
    ranked = summary.sort_values("rank", kind="stable")
    worlds = int(summary["n_seeds"].max())
    rows = []
    for _, r in ranked.iterrows():
        base = r["scenario"] == baseline
        rows.append([
            r["rank"], r["scenario"], render.p_best_text(r, worlds),
            render.pct(*render.stat(r, "adoption_final")),
            "-" if base else render.num(*(v / 1e6 for v in render.stat(r, "additional_adopters")),
                                        fmt="{:+.1f}"),
            "-" if base else render.num(*render.stat(r, "additional_adopters_per_idr_bn"), interval=False),
            render.pp(*render.stat(r, "gap_urban_rural"), interval=False, sign=False),
            render.pp(*render.stat(r, "gap_income_q5_q1"), interval=False, sign=False),
        ])
    print_table(["#", "scenario", "P(best)",
                 f"{render.metric_label('adoption_final')} (5%-95% {render.range_name(uncertainty)})",
                 "extra adopters, M",
                 "per IDR bn", *(render.metric_label(g) for g in ("gap_urban_rural", "gap_income_q5_q1"))],
                rows)


def run_compare(cfg: CompareConfig, out: Path, started: float | None = None) -> pd.DataFrame:
    """The whole job without Hydra's app machinery: sweep, tables, figures, report."""
    started = time.perf_counter() if started is None else started
    cfg = replace(cfg, scenarios=scenario_list(cfg))  # the settings recorded name every scenario
    check(cfg)
    with claim_folder(out, experiment_settings("compare", cfg), reuse=cfg.reuse):
        records = collect_runs(cfg, out)
        cfg, records, runs, race = add_seeds_until_precise(cfg, out, records)
        return write_outputs(cfg, out, records, started, runs, race)


def show(summary: pd.DataFrame, cfg: CompareConfig, out: Path) -> None:
    print()
    print_ranking(summary, cfg.baseline, cfg.uncertainty)
    print(f"\nreport: {out / 'report.html'}")


entry = hydra_app("compare", CompareConfig, check, run_compare, show)

if __name__ == "__main__":
    entry()
