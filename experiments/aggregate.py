"""From many run folders to tables: tidy runs, means with 95 % confidence intervals, effects per IDR bn.

Confidence intervals are across seeds (runs of one scenario that differ only in their seed), from the
t-distribution: mean +/- t(0.975, n-1) * sd / sqrt(n). They express the model's stochastic variation,
not the uncertainty of its parameters (that is what :mod:`experiments.sensitivity` is for).

Effects against the baseline are paired by seed (the same seed gives both runs the same synthetic
population and network, common random numbers), which makes them much tighter than a difference of
two independent means:

- additional adopters (real people) = (adoption_final - baseline adoption_final) * population_total;
- change of an equity gap = gap - baseline gap (positive: the gap widens);
- per IDR bn: each of those divided by the run's total cost in IDR billion (``cost_idr_bn``).

Intervals of bounded quantities (shares, gaps between shares, trust, and their paired differences)
are clipped to their bounds (:func:`metric_bounds`): the mean of a share cannot leave [0, 1], so
neither may a statement about it, and the clipped interval covers the mean whenever the t-interval
does. Tables and figures read the same intervals.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # t quantile: stdtrit(df, p) == t.ppf(p, df)

from sim.config import LEVERS
from sim.metrics import METRICS
from sim.provenance import PROVENANCE_FIELDS
from sim.results import CONFIG_FILE, read_summaries, read_timeseries

CONFIDENCE = 0.95
ID_COLUMNS = ("policy", "population", "network", "seed", "n_citizens", "months", "run_dir")
GAP_METRICS = (
    "gap_urban_rural",
    "gap_income_q5_q1",
    "gap_region_max_min",
    "gap_age_young_old",
    "gap_literacy_t3_t1",
    "concentration_index",
)
STAT_SUFFIXES = ("mean", "ci_low", "ci_high")
# Below this many seeds a 95 % t-interval is too wide to act on (t(0.975, 3) = 3.2 against 2.0 for
# many seeds) and a bootstrap over seeds has too few distinct resamples to say anything.
MIN_SEEDS = 5
# A scenario that spent less than this share of the budget it was given could not spend its budget
# (a lever runs out of willing, eligible people to reach and returns the money).
SPENT_SHARE_FULL = 0.95

# The range a quantity of each declared unit lies in (sim.metrics declares every monthly output's unit).
_UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "share": (0.0, 1.0), "[0, 1]": (0.0, 1.0), "index [0, 1]": (0.0, 1.0),
    "share points": (-1.0, 1.0), "trust points": (-1.0, 1.0), "[-1, 1]": (-1.0, 1.0),
}
_METRIC_UNITS = {m.name: m.unit for m in METRICS}
# Summary metrics that are not "<monthly metric>_final": the monthly metric whose bounds they share.
_SUMMARY_ALIASES = {"adoption_initial": "adoption", "trust_sd_initial": "trust_sd"}
# Derived here, not declared by the model: the share of its budget a run spent.
_DERIVED_BOUNDS = {"budget_spent_share": (0.0, 1.0)}


def metric_unit(metric: str) -> str | None:
    """The declared unit (sim.metrics) of a monthly or summary metric, or None when it has none here."""
    if metric.endswith("_change"):
        return metric_unit("trust_mean" if metric == "trust_change" else metric[: -len("_change")])
    name = _SUMMARY_ALIASES.get(metric, metric)
    return _METRIC_UNITS.get(name) or _METRIC_UNITS.get(name.removesuffix("_final"))


def is_share(metric: str) -> bool:
    """Whether a metric (or its change) is a share or a gap between shares, shown in percent and
    percentage points."""
    return metric == "budget_spent_share" or metric_unit(metric) in ("share", "share points")


def metric_bounds(metric: str) -> tuple[float, float] | None:
    """The range a summary or monthly metric (or its paired change, ``<metric>_change``) lies in, or
    None when it is unbounded (counts, costs, months, effects per IDR bn).

    A change is the difference of two values in [lo, hi], so it lies in [lo - hi, hi - lo]."""
    if metric.endswith("_change"):
        base = "trust_mean" if metric == "trust_change" else metric[: -len("_change")]
        inner = metric_bounds(base)
        return None if inner is None else (inner[0] - inner[1], inner[1] - inner[0])
    if metric in _DERIVED_BOUNDS:
        return _DERIVED_BOUNDS[metric]
    unit = metric_unit(metric)
    return _UNIT_BOUNDS.get(unit) if unit else None


def clip_interval(mean: float, low: float, high: float,
                  bounds: tuple[float, float] | None) -> tuple[float, float, float]:
    """The interval cut to ``bounds`` (None: unchanged); the mean of bounded values is inside them."""
    if bounds is None:
        return mean, low, high
    lo, hi = bounds
    return mean, (float(np.clip(low, lo, hi)) if np.isfinite(low) else low), \
        (float(np.clip(high, lo, hi)) if np.isfinite(high) else high)


# --------------------------------------------------------------------------- reading runs
def spending_months(cfg: dict[str, Any]) -> int:
    """Months of the run in which the policy may spend: months 0 .. steps - 1 from
    ``policy.start_month`` up to, not including, ``policy.end_month`` (as the model spends)."""
    pol = cfg.get("policy", {})
    steps = int(cfg["steps"])
    start = int(pol.get("start_month", 0) or 0)
    end = pol.get("end_month")
    end = steps if end is None else min(int(end), steps)
    return max(0, end - start)


def _run_config(run_dir: Path) -> dict[str, Any]:
    """The run's own settings from its resolved config: scale, budget (per month, and what it could
    spend over the run: the allocated share of the budget in every month with spending), the policy's
    allocation."""
    cfg = json.loads((run_dir / CONFIG_FILE).read_text())
    pol = cfg.get("policy", {})
    alloc = pol.get("allocation", {})
    budget = float(cfg["budget_idr_bn_per_month"])
    allocated = sum(float(alloc.get(lever, 0.0)) for lever in LEVERS)
    row: dict[str, Any] = {
        "population_total": float(cfg["population"]["population_total"]),
        "budget_idr_bn_per_month": budget,
        "budget_months": spending_months(cfg),
        "budget_available_idr_bn": budget * min(allocated, 1.0) * spending_months(cfg),
        "description": pol.get("description", ""),
        "targeting": pol.get("targeting", ""),
        "political_will": float(pol.get("political_will", np.nan)),
    }
    for lever in LEVERS:
        row[f"alloc_{lever}"] = float(alloc.get(lever, 0.0))
    return row


def read_runs(run_dirs: Iterable[Path], root: Path | None = None) -> pd.DataFrame:
    """One row per finished run: its summary, its scenario name and its settings.

    With ``root`` the ``run_dir`` column is relative to it, so that the same runs give the same table
    in any folder (a resumed sweep's tables equal an uninterrupted one's)."""
    dirs = sorted(Path(d) for d in run_dirs)
    summaries = read_summaries(dirs)
    if root is not None:
        summaries["run_dir"] = [str(Path(d).relative_to(root)) for d in summaries["run_dir"]]
    settings = pd.DataFrame([_run_config(d) for d in dirs])
    runs = pd.concat([summaries.reset_index(drop=True), settings], axis=1)
    runs.insert(0, "scenario", runs.pop("policy"))
    for col in summary_metrics(runs):
        runs[col] = pd.to_numeric(runs[col], errors="coerce")
    available = runs["budget_available_idr_bn"].to_numpy(dtype=np.float64)
    runs["budget_spent_share"] = np.divide(runs["cost_idr_bn"].to_numpy(dtype=np.float64), available,
                                           out=np.full(len(runs), np.nan), where=available > 0)
    return runs.sort_values(["scenario", "seed"], kind="stable").reset_index(drop=True)


def tidy_timeseries(run_dirs: Iterable[Path]) -> pd.DataFrame:
    """One row per run x month: scenario, seed, month, every metric."""
    ts = read_timeseries(sorted(Path(d) for d in run_dirs))
    ts = ts.rename(columns={"policy": "scenario"})
    ts["month"] = ts["month"].astype(int)
    return ts.sort_values(["scenario", "seed", "month"], kind="stable").reset_index(drop=True)


_SETTING_COLUMNS = {"scenario", "population_total", "budget_idr_bn_per_month", "budget_months",
                    "budget_available_idr_bn", "description",
                    "targeting", "political_will", *(f"alloc_{lever}" for lever in LEVERS)}


def summary_metrics(runs: pd.DataFrame) -> list[str]:
    """The per-run summary metrics (every column that is not an identifier, a setting or provenance)."""
    return [c for c in runs.columns
            if c not in ID_COLUMNS and c not in _SETTING_COLUMNS and c not in PROVENANCE_FIELDS]


# --------------------------------------------------------------------------- statistics
def t_interval(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE,
               bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and t-distribution confidence interval of the non-missing values, cut to ``bounds``.

    With one value the interval is undefined (NaN); with identical values it is the mean itself.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if x.size == 1:
        return mean, np.nan, np.nan
    half = float(stdtrit(x.size - 1, 0.5 + confidence / 2) * x.std(ddof=1) / np.sqrt(x.size))
    return clip_interval(mean, mean - half, mean + half, bounds)


def describe(frame: pd.DataFrame, by: str | list[str], metrics: Sequence[str]) -> pd.DataFrame:
    """``<metric>_mean``, ``_ci_low``, ``_ci_high`` per group (plus ``n_seeds``)."""
    rows = []
    for key, grp in frame.groupby(by, sort=False):
        row: dict[str, Any] = dict(zip([by] if isinstance(by, str) else by,
                                       [key] if isinstance(by, str) else key, strict=True))
        row["n_seeds"] = int(grp["seed"].nunique()) if "seed" in grp else len(grp)
        for m in metrics:
            mean, low, high = t_interval(grp[m].to_numpy(dtype=np.float64, na_value=np.nan),
                                         bounds=metric_bounds(m))
            row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"] = mean, low, high
        rows.append(row)
    return pd.DataFrame(rows)


def _band_columns(out: pd.DataFrame, bounds: tuple[float, float] | None) -> pd.DataFrame:
    """``ci_low``/``ci_high`` from per-row mean, std and count, as :func:`t_interval` computes them."""
    tcrit = stdtrit(np.maximum(out["count"] - 1, 1), 0.5 + CONFIDENCE / 2)
    half = np.where(out["count"] > 1, tcrit * out["std"] / np.sqrt(out["count"]), np.nan)
    low, high = out["mean"] - half, out["mean"] + half
    if bounds is not None:
        low, high = low.clip(*bounds), high.clip(*bounds)
    out["ci_low"], out["ci_high"] = low, high
    return out.drop(columns=["std"])


def bands(tidy: pd.DataFrame, metric: str, by: str = "scenario") -> pd.DataFrame:
    """Mean and 95 % band of a monthly metric, per group and month (vectorised over months)."""
    out = tidy.groupby([by, "month"], sort=False)[metric].agg(["mean", "std", "count"]).reset_index()
    return _band_columns(out, metric_bounds(metric))


def paired_bands(tidy: pd.DataFrame, metric: str, baseline: str) -> pd.DataFrame:
    """Per scenario and month: mean and 95 % band of the per-seed difference of a monthly metric from
    the baseline's run with the same seed (the effect, as the tables measure it; the baseline's own
    rows are zero)."""
    ref = tidy.loc[tidy["scenario"] == baseline, ["seed", "month", metric]]
    merged = tidy[["scenario", "seed", "month", metric]].merge(ref, on=["seed", "month"],
                                                               suffixes=("", "_ref"))
    merged["diff"] = merged[metric] - merged[f"{metric}_ref"]
    out = merged.groupby(["scenario", "month"], sort=False)["diff"].agg(["mean", "std", "count"])
    return _band_columns(out.reset_index(), metric_bounds(f"{metric}_change"))


# --------------------------------------------------------------------------- effects against a reference
def paired_effects(runs: pd.DataFrame, reference: pd.DataFrame, gap_metrics: Sequence[str],
                   also: Sequence[str] = ()) -> pd.DataFrame:
    """Per-seed effects of ``runs`` against the ``reference`` runs with the same seed; ``also``: further
    metrics whose change (``<metric>_change``, without a per-IDR-bn form) is wanted."""
    also = [m for m in dict.fromkeys(also) if m not in ("adoption_final", *gap_metrics)]
    cols = ["seed", "adoption_final", *gap_metrics, *also]
    merged = runs.merge(reference[cols], on="seed", suffixes=("", "_ref"), how="inner")
    cost = merged["cost_idr_bn"].to_numpy(dtype=np.float64)
    per_bn = np.where(cost > 0, 1.0 / np.where(cost > 0, cost, 1.0), np.nan)
    out = merged.drop(columns=[f"{m}_ref" for m in cols[1:]]).copy()
    out["adoption_change"] = merged["adoption_final"] - merged["adoption_final_ref"]
    out["additional_adopters"] = out["adoption_change"] * merged["population_total"]
    out["additional_adopters_per_idr_bn"] = out["additional_adopters"] * per_bn
    for m in gap_metrics:
        out[f"{m}_change"] = merged[m] - merged[f"{m}_ref"]
        out[f"{m}_change_per_idr_bn"] = out[f"{m}_change"] * per_bn
    for m in also:
        out[f"{m}_change"] = merged[m] - merged[f"{m}_ref"]
    return out


def effect_metrics(gap_metrics: Sequence[str], also: Sequence[str] = ()) -> list[str]:
    """The columns :func:`paired_effects` adds, in its order."""
    out = ["adoption_change", "additional_adopters", "additional_adopters_per_idr_bn"]
    for m in gap_metrics:
        out += [f"{m}_change", f"{m}_change_per_idr_bn"]
    out += [f"{m}_change" for m in dict.fromkeys(also) if m not in ("adoption_final", *gap_metrics)]
    return out


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
    """One row per scenario (in the given order): settings, every summary metric with its 95 % CI,
    and the paired effects against the baseline (absolute and per IDR bn)."""
    metrics = summary_metrics(runs)
    gaps = present_gaps(runs)
    also = changed_metrics(runs)
    ref = runs[runs["scenario"] == baseline]
    effects = pd.concat(
        [paired_effects(runs[runs["scenario"] == s], ref, gaps, also) for s in scenarios], ignore_index=True
    )
    table = describe(runs, "scenario", metrics).set_index("scenario")
    eff = (describe(effects, "scenario", effect_metrics(gaps, also)).set_index("scenario")
           .drop(columns="n_seeds"))
    settings = runs.groupby("scenario", sort=False)[
        ["description", "targeting", "political_will", *(f"alloc_{lever}" for lever in LEVERS),
         "budget_idr_bn_per_month", "budget_months", "budget_available_idr_bn", "population_total"]
    ].first()
    out = settings.join(table).join(eff)
    out = out.reindex([s for s in scenarios if s in out.index])
    return flag_underspent(out.reset_index())


def paired_difference(runs: pd.DataFrame, a: str, b: str, metric: str) -> tuple[float, float, float]:
    """Mean and 95 % CI of ``metric`` in scenario ``a`` minus scenario ``b``, paired by seed."""
    x = runs[runs["scenario"] == a].set_index("seed")[metric]
    y = runs[runs["scenario"] == b].set_index("seed")[metric]
    return t_interval((x - y).dropna().to_numpy())


def tied_with_top(runs: pd.DataFrame, summary: pd.DataFrame, metric: str = "adoption_final",
                  exclude: Sequence[str] = ()) -> list[str]:
    """Scenarios whose paired difference from the best one (by the mean of ``metric``) includes zero."""
    ranked = [s for s in ranking(summary, metric)["scenario"] if s not in exclude]
    if not ranked:
        return []
    top = ranked[0]
    tied = []
    for other in ranked[1:]:
        _, low, high = paired_difference(runs, top, other, metric)
        if np.isfinite(low) and low <= 0 <= high:
            tied.append(other)
    return tied


def ranking(summary: pd.DataFrame, metric: str = "adoption_final",
            tied: Sequence[str] = ()) -> pd.DataFrame:
    """Scenarios from best to worst by the mean of ``metric``. Rank 1 is the highest; the scenarios in
    ``tied`` (not distinguishable from it, :func:`tied_with_top`) share it as "1=", so a ranking never
    orders what the paired intervals cannot tell apart at the top."""
    out = summary.sort_values(f"{metric}_mean", ascending=False, kind="stable").reset_index(drop=True)
    shared = "1=" if tied else "1"
    labels = [shared if i == 0 or name in tied else str(i + 1) for i, name in enumerate(out["scenario"])]
    out.insert(0, "rank", labels)
    return out


# --------------------------------------------------------------------------- budget frontier
def allocation_key(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in values)


def split_allocation(lever_a: str, lever_b: str, share_a: float) -> dict[str, float]:
    """The full allocation (every lever) of a split: share_a to lever_a, the rest to lever_b."""
    alloc = dict.fromkeys(LEVERS, 0.0)
    alloc[lever_a] = round(share_a, 6)
    alloc[lever_b] = round(1.0 - share_a, 6)
    return alloc


def frontier_points(pairs: Sequence[Sequence[str]], n_splits: int) -> list[dict[str, Any]]:
    """Every (pair, share) point of the frontier with its allocation."""
    points = []
    for a, b in pairs:
        for share in np.linspace(0.0, 1.0, n_splits):
            points.append({"pair": f"{a}/{b}", "lever_a": a, "lever_b": b, "share_a": round(float(share), 6),
                           "share_b": round(1.0 - float(share), 6),
                           "allocation": split_allocation(a, b, float(share))})
    return points




def distinguishable_from_neighbours(values: np.ndarray, best: int, maximize: bool) -> bool:
    """Whether the split ``best`` beats each neighbouring split in the paired 95% t-interval over seeds
    (rows: splits in share order; columns: seeds). Two splits whose paired interval includes zero are
    not told apart, so no best split is named."""
    if values.shape[1] < 2:
        return False
    for j in (best - 1, best + 1):
        if 0 <= j < values.shape[0]:
            diff = values[best] - values[j] if maximize else values[j] - values[best]
            _, low, _ = t_interval(diff)
            if not (np.isfinite(low) and low > 0):
                return False
    return True


def _best_split(values: np.ndarray, shares: np.ndarray, maximize: bool, n_boot: int,
                rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """Paired bootstrap over seeds: how often each share is best, and the 95 % range of the best share
    (not computed below MIN_SEEDS seeds)."""
    n_seeds = values.shape[1]
    if n_boot <= 0 or n_seeds < MIN_SEEDS:
        return np.full(len(shares), np.nan), np.nan, np.nan
    idx = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    means = values[:, idx].mean(axis=2)  # (shares, resamples)
    best = means.argmax(axis=0) if maximize else means.argmin(axis=0)
    p_best = np.bincount(best, minlength=len(shares)) / n_boot
    low, high = np.percentile(shares[best], [2.5, 97.5])
    return p_best, float(low), float(high)


def frontier_table(runs: pd.DataFrame, pairs: Sequence[Sequence[str]], n_splits: int, objective: str,
                   maximize: bool = True, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per (pair, share): every summary metric with its 95 % CI, effects against the
    no-spending reference per IDR bn (when it was run), and the best split with its uncertainty.

    The reference (no extra spending) is a row of its own with ``pair == "reference"``.
    """
    alloc_cols = [f"alloc_{lever}" for lever in LEVERS]
    keys = runs[alloc_cols].apply(lambda r: allocation_key(r.to_numpy()), axis=1)
    metrics = summary_metrics(runs)
    gaps = present_gaps(runs)
    ref_key = allocation_key([0.0] * len(LEVERS))
    ref = runs[keys == ref_key]
    rng = np.random.default_rng(seed)
    rows = []
    for a, b in pairs:
        pair_rows = []
        for point in (p for p in frontier_points([(a, b)], n_splits)):
            sel = runs[keys == allocation_key(list(point["allocation"].values()))]
            if sel.empty:
                continue
            row = {k: point[k] for k in ("pair", "lever_a", "lever_b", "share_a", "share_b")}
            row.update(sel[["budget_months", "budget_available_idr_bn"]].iloc[0].to_dict())
            row.update(describe(sel.assign(_g=0), "_g", metrics).drop(columns="_g").iloc[0].to_dict())
            if not ref.empty:
                eff = paired_effects(sel, ref, gaps, [objective]).assign(_g=0)
                row.update(describe(eff, "_g", effect_metrics(gaps, [objective]))
                           .drop(columns=["_g", "n_seeds"])
                           .iloc[0].to_dict())
            row["_values"] = sel.set_index("seed")[objective]
            pair_rows.append(row)
        if not pair_rows:
            continue
        matrix = pd.concat([r.pop("_values") for r in pair_rows], axis=1).dropna().to_numpy().T
        shares = np.array([r["share_a"] for r in pair_rows])
        p_best, low, high = _best_split(matrix, shares, maximize, n_boot, rng)
        means = np.array([r[f"{objective}_mean"] for r in pair_rows])
        best = int(np.nanargmax(means) if maximize else np.nanargmin(means))
        clear = distinguishable_from_neighbours(matrix, best, maximize)
        for i, r in enumerate(pair_rows):
            r.update(p_best=p_best[i], is_best=clear and i == best, best_share_ci_low=low,
                     best_share_ci_high=high, top_split=i == best, best_distinguishable=clear)
        rows += pair_rows
    if not ref.empty:
        row = {"pair": "reference", "lever_a": "", "lever_b": "", "share_a": np.nan, "share_b": np.nan,
               "is_best": False}
        row.update(ref[["budget_months", "budget_available_idr_bn"]].iloc[0].to_dict())
        row.update(describe(ref.assign(_g=0), "_g", metrics).drop(columns="_g").iloc[0].to_dict())
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(5, "objective", objective)
    return flag_underspent(table)


def change_column(metric: str) -> str:
    """The column of ``metric``'s paired change against the reference (final adoption's is
    ``adoption_change``, every other's ``<metric>_change``)."""
    return "adoption_change" if metric == "adoption_final" else f"{metric}_change"


def p_best(runs: pd.DataFrame, scenarios: Sequence[str], metric: str = "adoption_final") -> pd.Series:
    """Share of seeds (with parameter uncertainty: of posterior draws) in which each scenario ranks
    first on ``metric``; a tie shares the seed equally, so the shares sum to 1."""
    wide = runs.pivot_table(index="seed", columns="scenario", values=metric)[list(scenarios)].dropna()
    if wide.empty:
        return pd.Series(np.nan, index=list(scenarios))
    values = wide.to_numpy()
    best = np.isclose(values, values.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
    return pd.Series((best / best.sum(axis=1, keepdims=True)).mean(axis=0), index=list(scenarios))
