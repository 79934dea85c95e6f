"""From run records to tables: one row per run (summary and settings), one row per run x month, and
one row per scenario (every summary metric with its predictive range and Monte Carlo error, paired
effects against the baseline), also in long format (one row per scenario x metric x statistic).

The statistics themselves (ranges, errors, paired effects, rankings) live in :mod:`experiments.engine.stats`;
this module only decides which columns a table holds and in which order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.stats import PREDICTIVE_SUFFIXES, effect_metrics, paired_effects, predictive
from sim.config import LEVERS, SimConfig, policy_start_month
from sim.store.record import RunRecord
from sim.summary import GAP_METRICS, is_metric

# A scenario that spent less than this share of the budget it was given could not spend its budget
# (a lever runs out of willing, eligible people to reach and returns the money).
SPENT_SHARE_FULL = 0.95


# --------------------------------------------------------------------------- reading runs
def spending_months(cfg: SimConfig) -> int:
    """Months of the run in which the policy may spend: from ``policy.start_month`` up to, not
    including, ``policy.end_month`` (both counted from ``policy.start_date``), within the run's
    months 0 .. steps - 1 (as the model spends)."""
    pol = cfg.policy
    first = policy_start_month(cfg)
    start = first + int(pol.start_month or 0)
    end = cfg.steps if pol.end_month is None else min(first + int(pol.end_month), cfg.steps)
    return max(0, end - start)


def run_settings(cfg: SimConfig) -> dict[str, Any]:
    """The run's own settings, from its typed config: scale, budget (per month, and what it could
    spend over the run: the allocated share of the budget in every month with spending), the policy's
    allocation, targeting and how many provinces it is confined to (0: all of them; which ones is in
    ``param:policy.provinces`` and the report's province section)."""
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
        "target_provinces": len(pol.provinces),
        "political_will": float(pol.political_will),
    }
    for lever in LEVERS:
        row[f"alloc_{lever}"] = float(getattr(pol.allocation, lever))
    return row


# Columns of config values that differ between the runs of a table: ``param:<dotted key>``. A prefix
# so that they can never be taken for a summary metric or a setting column, and so that a sweep's
# varied keys are found with ``runs.filter(like=PARAM_PREFIX)``.
PARAM_PREFIX = "param:"
# Config keys never given a param: column: the seed and the policy's name and description are
# columns already (seed, scenario, description); progress and materialise_agents change no result
# (they are left out of a run's identity too).
NOT_PARAM_KEYS = frozenset({"seed", "policy.name", "policy.description", "progress",
                            "materialise_agents"})


def flat_config(cfg: SimConfig) -> dict[str, Any]:
    """Every value of a config under its dotted key (``params.adoption.intercept``), in the config's
    order. Lists become their JSON text, so that every value is one comparable, CSV-safe scalar."""
    out: dict[str, Any] = {}

    def walk(block: Any, prefix: str) -> None:
        for f in fields(block):
            value = getattr(block, f.name)
            if is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            else:
                out[f"{prefix}{f.name}"] = (json.dumps(list(value)) if isinstance(value, (list, tuple))
                                            else value)

    walk(cfg, "")
    return out


def varied_settings(configs: Sequence[SimConfig]) -> pd.DataFrame:
    """One row per config: the value of every config key that differs between the configs, as
    ``param:<dotted key>`` columns (keys in :data:`NOT_PARAM_KEYS` left out). This is what a custom
    sweep varied (a parameter, a posterior draw per seed, a scenario's allocation), so that a table of
    its runs says which value each run had without reading the run folders' configs back."""
    flats = [flat_config(cfg) for cfg in configs]
    keys = [key for key in (flats[0] if flats else {}) if key not in NOT_PARAM_KEYS
            and _differ([flat.get(key) for flat in flats])]
    return pd.DataFrame({f"{PARAM_PREFIX}{key}": [flat.get(key) for flat in flats] for key in keys},
                        index=range(len(flats)))


def _differ(values: list[Any]) -> bool:
    """Whether the values are not all the same: compared as they are where they can be (numbers, text;
    a value of one type per key), as JSON text otherwise (a portfolio's mapping of services)."""
    first = values[0] if values else None
    if isinstance(first, (int, float, str, bool, type(None))) and all(type(v) is type(first) for v in values):
        return any(v != first for v in values)
    return len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1


def read_runs(records: Iterable[RunRecord], root: Path | None = None) -> pd.DataFrame:
    """One row per finished run: its summary, its scenario name, its settings (from the typed
    config the run was made from) and, as ``param:<dotted key>`` columns, every config value that
    differs between the runs (:func:`varied_settings`; e.g. ``param:params.adoption.intercept`` in a
    sweep over that parameter).

    With ``root`` the ``run_dir`` column is relative to it, so that the same runs give the same table
    in any folder (a resumed sweep's tables equal an uninterrupted one's)."""
    ordered = sorted(records, key=lambda r: r.directory)
    summaries = pd.DataFrame([
        dict(r.summary) | {"run_dir": str(r.directory.relative_to(root) if root else r.directory)}
        for r in ordered])
    settings = pd.DataFrame([run_settings(r.config) for r in ordered])
    varied = varied_settings([r.config for r in ordered])
    runs = pd.concat([summaries.reset_index(drop=True), settings, varied], axis=1)
    runs.insert(0, "scenario", runs.pop("policy"))
    metrics = summary_metrics(runs)
    runs[metrics] = runs[metrics].apply(pd.to_numeric, errors="coerce")
    available = runs["budget_available_idr_bn"].to_numpy(dtype=np.float64)
    spent = np.divide(runs["cost_idr_bn"].to_numpy(dtype=np.float64), available,
                      out=np.full(len(runs), np.nan), where=available > 0)
    runs = pd.concat([runs, pd.DataFrame({"budget_spent_share": spent}, index=runs.index)], axis=1)
    # Rows in an order of what the runs are, never of their folders' hashes (which move with every new
    # config key): scenario, seed, then the budget split and every setting that varies.
    ties = [c for c in runs.columns if c.startswith(("alloc_", "param:"))]
    sortable = [c for c in ties if runs[c].map(type).nunique() == 1
                and isinstance(runs[c].iloc[0], (int, float, str, bool))]
    return runs.sort_values(["scenario", "seed", *sortable], kind="stable").reset_index(drop=True)


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
    """Final adoption of every group, ever used (the calibrated measure), mean trust and civil servants
    working digitally: the summary metrics whose paired change against the baseline the report shows."""
    groups = [c for c in runs.columns if c.startswith("adoption_") and c.endswith("_final")
              and c not in ("adoption_final",)]
    also = ("ever_used_connected_final", "trust_mean_final", "digital_staff_share_final")
    return [*groups, *(m for m in also if m in runs.columns)]


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
        ["description", "targeting", "target_provinces", "political_will",
         *(f"alloc_{lever}" for lever in LEVERS),
         "budget_idr_bn_per_month", "budget_months", "budget_available_idr_bn", "population_total"]
    ].first()
    out = settings.join(table).join(eff)
    out = out.reindex([s for s in scenarios if s in out.index])
    return flag_underspent(out.reset_index())




# --------------------------------------------------------------------------- long format
# In the long table a column with no statistic suffix (p_best) has this statistic.
VALUE_STATISTIC = "value"
# Wide columns that are a metric's value, besides <metric>_<statistic>.
PLAIN_VALUE_COLUMNS = ("p_best",)


def split_statistic(column: str) -> tuple[str, str] | None:
    """``adoption_final_p05`` -> (``adoption_final``, ``p05``); ``p_best`` -> (``p_best``, ``value``);
    None for a column that is no metric's statistic (settings, rank, flags)."""
    if column in PLAIN_VALUE_COLUMNS:
        return column, VALUE_STATISTIC
    for statistic in PREDICTIVE_SUFFIXES:
        metric = column.removesuffix(f"_{statistic}")
        if metric != column and metric:
            return metric, statistic
    return None


def wide_column(metric: str, statistic: str) -> str:
    """The wide table's column of a metric's statistic (the inverse of :func:`split_statistic`)."""
    return metric if statistic == VALUE_STATISTIC else f"{metric}_{statistic}"


def long_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The scenario summary in long format: columns ``scenario``, ``metric``, ``statistic``, ``value``.

    Every ``<metric>_<statistic>`` column of the wide table (statistics ``mean``, ``p05``, ``p95``,
    ``mc_se``; ``p_best`` as statistic ``value``) becomes one row per scenario, scenarios in the
    wide table's order and metrics in its column order; settings, ``rank`` and flags stay in the wide
    table only. Long rows filter and plot by metric without parsing column names, and pivot back to
    the wide values (:func:`wide_from_long`)."""
    columns = [(c, parts) for c in summary.columns if (parts := split_statistic(c)) is not None]
    frames = [pd.DataFrame({"scenario": summary["scenario"].to_numpy(), "metric": metric,
                            "statistic": statistic,
                            "value": pd.to_numeric(summary[column], errors="coerce").to_numpy(np.float64)})
              for column, (metric, statistic) in columns]
    if not frames:
        return pd.DataFrame(columns=["scenario", "metric", "statistic", "value"])
    order = {s: i for i, s in enumerate(summary["scenario"])}
    long = pd.concat(frames, ignore_index=True)
    return long.sort_values("scenario", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def wide_from_long(long: pd.DataFrame) -> pd.DataFrame:
    """The long summary pivoted back: one row per scenario, one ``<metric>_<statistic>`` column per
    metric and statistic (in first-seen order)."""
    columns = [wide_column(m, s) for m, s in dict.fromkeys(zip(long["metric"], long["statistic"],
                                                               strict=True))]
    keyed = long.assign(column=[wide_column(m, s) for m, s in zip(long["metric"], long["statistic"],
                                                                  strict=True)])
    wide = keyed.pivot(index="scenario", columns="column", values="value")
    return wide.reindex(index=list(dict.fromkeys(long["scenario"])), columns=columns).reset_index()
