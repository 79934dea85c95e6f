"""From run records to tables: one row per run (summary and settings), one row per run x month, and
one row per scenario (every summary metric with its predictive range and Monte Carlo error, paired
effects against the baseline).

The statistics themselves (ranges, errors, paired effects, rankings) live in :mod:`experiments.engine.stats`;
this module only decides which columns a table holds and in which order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.stats import effect_metrics, paired_effects, predictive
from sim.config import LEVERS, SimConfig
from sim.store.record import RunRecord
from sim.summary import GAP_METRICS, is_metric

# A scenario that spent less than this share of the budget it was given could not spend its budget
# (a lever runs out of willing, eligible people to reach and returns the money).
SPENT_SHARE_FULL = 0.95


# --------------------------------------------------------------------------- reading runs
def spending_months(cfg: SimConfig) -> int:
    """Months of the run in which the policy may spend: months 0 .. steps - 1 from
    ``policy.start_month`` up to, not including, ``policy.end_month`` (as the model spends)."""
    pol = cfg.policy
    start = int(pol.start_month or 0)
    end = cfg.steps if pol.end_month is None else min(int(pol.end_month), cfg.steps)
    return max(0, end - start)


def run_settings(cfg: SimConfig) -> dict[str, Any]:
    """The run's own settings, from its typed config: scale, budget (per month, and what it could
    spend over the run: the allocated share of the budget in every month with spending), the policy's
    allocation."""
    pol = cfg.policy
    budget = float(cfg.budget_idr_bn_per_month)
    allocated = sum(float(getattr(pol.allocation, lever)) for lever in LEVERS)
    months = spending_months(cfg)
    row: dict[str, Any] = {
        "population_total": float(cfg.population.population_total),
        "budget_idr_bn_per_month": budget,
        "budget_months": months,
        "budget_available_idr_bn": budget * min(allocated, 1.0) * months,
        "description": pol.description,
        "targeting": pol.targeting,
        "political_will": float(pol.political_will),
    }
    for lever in LEVERS:
        row[f"alloc_{lever}"] = float(getattr(pol.allocation, lever))
    return row


def read_runs(records: Iterable[RunRecord], root: Path | None = None) -> pd.DataFrame:
    """One row per finished run: its summary, its scenario name and its settings (from the typed
    config the run was made from).

    With ``root`` the ``run_dir`` column is relative to it, so that the same runs give the same table
    in any folder (a resumed sweep's tables equal an uninterrupted one's)."""
    ordered = sorted(records, key=lambda r: r.directory)
    summaries = pd.DataFrame([
        dict(r.summary) | {"run_dir": str(r.directory.relative_to(root) if root else r.directory)}
        for r in ordered])
    settings = pd.DataFrame([run_settings(r.config) for r in ordered])
    runs = pd.concat([summaries.reset_index(drop=True), settings], axis=1)
    runs.insert(0, "scenario", runs.pop("policy"))
    metrics = summary_metrics(runs)
    runs[metrics] = runs[metrics].apply(pd.to_numeric, errors="coerce")
    available = runs["budget_available_idr_bn"].to_numpy(dtype=np.float64)
    spent = np.divide(runs["cost_idr_bn"].to_numpy(dtype=np.float64), available,
                      out=np.full(len(runs), np.nan), where=available > 0)
    runs = pd.concat([runs, pd.DataFrame({"budget_spent_share": spent}, index=runs.index)], axis=1)
    return runs.sort_values(["scenario", "seed"], kind="stable").reset_index(drop=True)


def tidy_timeseries(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per run x month: scenario, seed, month, every metric."""
    frames = []
    for record in sorted(records, key=lambda r: r.directory):
        frame = record.timeseries()
        frame.insert(0, "seed", record.summary["seed"])
        frame.insert(0, "scenario", record.summary["policy"])
        frames.append(frame)
    ts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    ts["month"] = ts["month"].astype(int)
    return ts.sort_values(["scenario", "seed", "month"], kind="stable").reset_index(drop=True)


def summary_metrics(runs: pd.DataFrame) -> list[str]:
    """The per-run metrics among a table's columns, in its order: the outputs declared in
    :mod:`sim.summary` (identity, provenance and settings are not among them)."""
    return [c for c in runs.columns if is_metric(c)]


# Besides adoption and the gaps, the changes against the baseline that the figures and tables show.
def changed_metrics(runs: pd.DataFrame) -> list[str]:
    """Final adoption of every group, mean trust and civil servants working digitally: the summary
    metrics whose paired change against the baseline the report shows."""
    groups = [c for c in runs.columns if c.startswith("adoption_") and c.endswith("_final")
              and c not in ("adoption_final",)]
    return [*groups, *(m for m in ("trust_mean_final", "digital_staff_share_final") if m in runs.columns)]


def flag_underspent(table: pd.DataFrame) -> pd.DataFrame:
    """Adds ``underspent``: the rows that were given a budget and spent less than SPENT_SHARE_FULL of
    it on average (a lever ran out of people to reach)."""
    share = table.get("budget_spent_share_mean", pd.Series(np.nan, index=table.index))
    table["underspent"] = share.notna() & (share < SPENT_SHARE_FULL)
    return table


def present_gaps(runs: pd.DataFrame) -> list[str]:
    return [m for m in GAP_METRICS if m in runs.columns]


def scenario_summary(runs: pd.DataFrame, scenarios: Sequence[str], baseline: str) -> pd.DataFrame:
    """One row per scenario (in the given order): settings, every summary metric and every paired
    effect against the baseline (absolute and per IDR bn) as ``_mean``, ``_p05``, ``_p95`` (the range
    across runs, i.e. across calibrated worlds) and ``_mc_se`` (Monte Carlo error of the mean)."""
    metrics = summary_metrics(runs)
    gaps = present_gaps(runs)
    also = changed_metrics(runs)
    ref = runs[runs["scenario"] == baseline]
    effects = pd.concat(
        [paired_effects(runs[runs["scenario"] == s], ref, gaps, also) for s in scenarios], ignore_index=True
    )
    table = predictive(runs, "scenario", metrics).set_index("scenario")
    eff = (predictive(effects, "scenario", effect_metrics(gaps, also)).set_index("scenario")
           .drop(columns="n_seeds"))
    settings = runs.groupby("scenario", sort=False)[
        ["description", "targeting", "political_will", *(f"alloc_{lever}" for lever in LEVERS),
         "budget_idr_bn_per_month", "budget_months", "budget_available_idr_bn", "population_total"]
    ].first()
    out = settings.join(table).join(eff)
    out = out.reindex([s for s in scenarios if s in out.index])
    return flag_underspent(out.reset_index())


