"""Statistics over runs: means with 95 % confidence intervals, bands over months, paired effects against
a reference (absolute and per IDR bn), rankings and P(best).

Confidence intervals are across seeds (runs of one scenario that differ only in their seed), from the
t-distribution: mean +/- t(0.975, n-1) * sd / sqrt(n). They express the model's stochastic variation,
not the uncertainty of its parameters (that is what :mod:`experiments.exploration.sensitivity` is for).

Effects against the baseline are paired by seed (the same seed gives both runs the same synthetic
population and network, common random numbers), which makes them much tighter than a difference of
two independent means:

- additional adopters (real people) = (adoption_final - baseline adoption_final) * population_total;
- change of an equity gap = gap - baseline gap (positive: the gap widens);
- per IDR bn: each of those divided by the run's total cost in IDR billion (``cost_idr_bn``).

Intervals of bounded quantities (shares, gaps between shares, trust, and their paired differences)
are clipped to their declared bounds (:func:`sim.summary.bounds`): the mean of a share cannot leave [0, 1], so
neither may a statement about it, and the clipped interval covers the mean whenever the t-interval
does. Tables and figures read the same intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # t quantile: stdtrit(df, p) == t.ppf(p, df)

from sim.summary import bounds

CONFIDENCE = 0.95
STAT_SUFFIXES = ("mean", "ci_low", "ci_high")
# Below this many seeds a 95 % t-interval is too wide to act on (t(0.975, 3) = 3.2 against 2.0 for
# many seeds) and a bootstrap over seeds has too few distinct resamples to say anything.
MIN_SEEDS = 5

def clip_interval(mean: float, low: float, high: float,
                  bounds: tuple[float, float] | None) -> tuple[float, float, float]:
    """The interval cut to ``bounds`` (None: unchanged); the mean of bounded values is inside them."""
    if bounds is None:
        return mean, low, high
    lo, hi = bounds
    return mean, (float(np.clip(low, lo, hi)) if np.isfinite(low) else low), \
        (float(np.clip(high, lo, hi)) if np.isfinite(high) else high)














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
                                         bounds=bounds(m))
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
    return _band_columns(out, bounds(metric))


def paired_bands(tidy: pd.DataFrame, metric: str, baseline: str) -> pd.DataFrame:
    """Per scenario and month: mean and 95 % band of the per-seed difference of a monthly metric from
    the baseline's run with the same seed (the effect, as the tables measure it; the baseline's own
    rows are zero)."""
    ref = tidy.loc[tidy["scenario"] == baseline, ["seed", "month", metric]]
    merged = tidy[["scenario", "seed", "month", metric]].merge(ref, on=["seed", "month"],
                                                               suffixes=("", "_ref"))
    merged["diff"] = merged[metric] - merged[f"{metric}_ref"]
    out = merged.groupby(["scenario", "month"], sort=False)["diff"].agg(["mean", "std", "count"])
    return _band_columns(out.reset_index(), bounds(f"{metric}_change"))


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
