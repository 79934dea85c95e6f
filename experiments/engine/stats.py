"""Statistics over runs: predictive ranges across runs, Monte Carlo errors, paired effects against a
reference (absolute and per IDR bn), P(best), pairwise P(A beats B) and rankings.

Each seed of the comparison runs one posterior draw of the calibrated parameters (one "world"), the
same draw in every scenario. A level or an effect is therefore reported with its **predictive range**:
the 5 % and 95 % quantiles of its values across runs (:func:`predictive`), which estimates how far the
result spreads across calibrated worlds and does not narrow as draws are added. How precisely the
runs pin down a mean or a probability is a separate number, its **Monte Carlo error** (the standard
error sd / sqrt(n) of a mean, sqrt(p (1 - p) / n) of a probability), which does shrink with more draws.
With ``uncertainty=none`` every run uses the declared defaults, so the same range is the spread across
seeds (run-to-run noise). Decisions are probabilities over the draws: P(best) (:func:`p_best_table`)
and P(row beats column) (:func:`pairwise`); a ranking orders by P(best) (:func:`ranking`).

Effects against the baseline are paired by seed (the same seed gives both runs the same draw, synthetic
population and network, common random numbers), so their range is that of the per-draw differences:

- additional adopters (real people) = (adoption_final - baseline adoption_final) * population_total;
- change of an equity gap = gap - baseline gap (positive: the gap widens);
- per IDR bn: each of those divided by the run's total cost in IDR billion (``cost_idr_bn``).

:func:`t_interval` (95 % t-interval of the mean across seeds, clipped to the declared bounds,
:func:`sim.summary.bounds`) remains for the budget frontier, which names a best split only where paired
intervals of the mean separate it from its neighbours; :func:`describe` gives that interval per group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.typing import SeriesGroupBy
from scipy.special import stdtrit  # t quantile: stdtrit(df, p) == t.ppf(p, df)

from sim.summary import bounds

CONFIDENCE = 0.95
STAT_SUFFIXES = ("mean", "ci_low", "ci_high")
# The predictive range: these quantiles of a quantity's values across runs (draws), numpy's default
# linear interpolation. A 90 % range is as wide as the headline needs and is estimated from tens of
# draws; a 95 % one would rest on the one or two most extreme draws.
PREDICTIVE_QUANTILES = (0.05, 0.95)
PREDICTIVE_SUFFIXES = ("mean", "p05", "p95", "mc_se")
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


def _per_group(frame: pd.DataFrame, by: str | list[str], metrics: Sequence[str],
               stat: Callable[[str, np.ndarray], dict[str, float]]) -> pd.DataFrame:
    """One row per group of ``frame``: the group's key, ``n_seeds`` and ``stat(metric, values)`` for
    every metric (the shared walk of :func:`describe` and :func:`predictive`)."""
    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for key, grp in frame.groupby(by, sort=False):
        row: dict[str, Any] = dict(zip(keys, [key] if isinstance(by, str) else key, strict=True))
        row["n_seeds"] = int(grp["seed"].nunique()) if "seed" in grp else len(grp)
        for m in metrics:
            row.update(stat(m, grp[m].to_numpy(dtype=np.float64, na_value=np.nan)))
        rows.append(row)
    return pd.DataFrame(rows)


def describe(frame: pd.DataFrame, by: str | list[str], metrics: Sequence[str]) -> pd.DataFrame:
    """``<metric>_mean``, ``_ci_low``, ``_ci_high`` per group (plus ``n_seeds``): the 95 % t-interval of
    the mean, clipped to the metric's declared bounds."""
    def interval(m: str, values: np.ndarray) -> dict[str, float]:
        return dict(zip((f"{m}_{s}" for s in STAT_SUFFIXES), t_interval(values, bounds=bounds(m)),
                        strict=True))

    return _per_group(frame, by, metrics, interval)


# --------------------------------------------------------------------------- predictive ranges
def predictive_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """Mean, 5 % and 95 % quantiles and Monte Carlo error (sd / sqrt(n)) of the non-missing values.

    The quantiles describe the spread of the values themselves (across draws: the range across
    calibrated worlds), so more draws estimate them better but do not narrow them; the Monte Carlo
    error says how well the draws pin down the mean, and falls as 1 / sqrt(n). Quantiles of bounded
    values stay within the bounds, so nothing is clipped. With one value the error is undefined (NaN).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan, np.nan
    low, high = np.quantile(x, PREDICTIVE_QUANTILES)
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else np.nan
    return float(x.mean()), float(low), float(high), se


def predictive(frame: pd.DataFrame, by: str | list[str], metrics: Sequence[str]) -> pd.DataFrame:
    """``<metric>_mean``, ``_p05``, ``_p95``, ``_mc_se`` per group (plus ``n_seeds``): the predictive
    range across the group's runs and the Monte Carlo error of its mean (:func:`predictive_interval`)."""
    def ranges(m: str, values: np.ndarray) -> dict[str, float]:
        return dict(zip((f"{m}_{k}" for k in PREDICTIVE_SUFFIXES), predictive_interval(values), strict=True))

    return _per_group(frame, by, metrics, ranges)


def _quantile_band(grouped: SeriesGroupBy) -> pd.DataFrame:
    """Per group: mean and the 5 %-95 % quantiles of its values (numpy's linear interpolation)."""
    lo, hi = PREDICTIVE_QUANTILES
    out = pd.concat({"mean": grouped.mean(), "p05": grouped.quantile(lo), "p95": grouped.quantile(hi)},
                    axis=1)
    return out.reset_index()


def bands(tidy: pd.DataFrame, metric: str, by: str = "scenario") -> pd.DataFrame:
    """Per group and month: the mean of a monthly metric across runs and its 5 %-95 % range across
    runs (``p05``, ``p95``), the same range the tables give its final value."""
    return _quantile_band(tidy.groupby([by, "month"], sort=False)[metric])


def paired_bands(tidy: pd.DataFrame, metric: str, baseline: str) -> pd.DataFrame:
    """Per scenario and month: mean and 5 %-95 % range across runs of the per-seed difference of a
    monthly metric from the baseline's run with the same seed (the effect, as the tables measure it;
    the baseline's own rows are zero)."""
    ref = tidy.loc[tidy["scenario"] == baseline, ["seed", "month", metric]]
    merged = tidy[["scenario", "seed", "month", metric]].merge(ref, on=["seed", "month"],
                                                               suffixes=("", "_ref"))
    merged["diff"] = merged[metric] - merged[f"{metric}_ref"]
    return _quantile_band(merged.groupby(["scenario", "month"], sort=False)["diff"])


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


def change_column(metric: str) -> str:
    """The column of ``metric``'s paired change against the reference (final adoption's is
    ``adoption_change``, every other's ``<metric>_change``)."""
    return "adoption_change" if metric == "adoption_final" else f"{metric}_change"


def p_best(runs: pd.DataFrame, scenarios: Sequence[str], metric: str = "adoption_final") -> pd.Series:
    """Share of seeds (with parameter uncertainty: of posterior draws) in which each scenario ranks
    first on ``metric`` among the scenarios run on that seed; a tie shares the seed equally, so the
    shares sum to 1. A scenario not run on a seed (racing: :func:`contenders`) is not best there."""
    values = _wide(runs, scenarios, metric).to_numpy(dtype=float)
    if values.size == 0:
        return pd.Series(np.nan, index=list(scenarios))
    best = np.isclose(values, np.nanmax(values, axis=1, keepdims=True), rtol=0, atol=1e-12)
    return pd.Series((best / best.sum(axis=1, keepdims=True)).mean(axis=0), index=list(scenarios))


def _wide(runs: pd.DataFrame, scenarios: Sequence[str], metric: str) -> pd.DataFrame:
    """One row per seed (draw) on which any of ``scenarios`` ran, one column per scenario (NaN where
    it was not run)."""
    wide = runs.pivot_table(index="seed", columns="scenario", values=metric).reindex(columns=list(scenarios))
    return wide.dropna(how="all")


def contenders(runs: pd.DataFrame, scenarios: Sequence[str], metric: str = "adoption_final") -> list[str]:
    """The scenarios still in the race after the draws in ``runs``: every one best on at least one draw
    (in the given order), and never fewer than two (with one leader, the other scenario with the
    highest mean joins it), since a P(best) among one scenario says nothing.

    Racing (screening, then selection): the draws added for precision run only these (and the
    baseline); a scenario best on none of the first n draws has a P(best) below 1 - 0.05^(1/n) with 95%
    confidence (0.14 at 20 draws), and counts as not best on the draws it is not run on."""
    names = list(scenarios)
    shares = p_best(runs, names, metric)
    kept = [s for s in names if shares[s] > 0]
    if len(kept) >= 2 or len(names) < 2:
        return kept
    means = runs[runs["scenario"].isin(names)].groupby("scenario")[metric].mean().drop(kept)
    runner_up = means.idxmax()
    return [s for s in names if s in kept or s == runner_up]


def screening_bound(draws: int, confidence: float = 0.95) -> float:
    """The upper confidence bound on the P(best) of a scenario best on none of ``draws`` draws:
    1 - (1 - confidence)^(1/draws) (an exact binomial bound; the rule of three at 95%)."""
    return float(1.0 - (1.0 - confidence) ** (1.0 / draws)) if draws > 0 else 1.0


def proportion_mc_se(p: float | np.ndarray | pd.Series, n: int) -> Any:
    """Monte Carlo error of a probability estimated as a share of ``n`` draws: sqrt(p (1 - p) / n)."""
    return np.sqrt(p * (1 - p) / n) if n > 0 else p * np.nan


def p_best_table(runs: pd.DataFrame, scenarios: Sequence[str],
                 metric: str = "adoption_final") -> pd.DataFrame:
    """``p_best`` (:func:`p_best`) and its Monte Carlo error ``p_best_mc_se`` per scenario (index)."""
    shares = p_best(runs, scenarios, metric)
    n = len(_wide(runs, scenarios, metric))
    return pd.DataFrame({"p_best": shares, "p_best_mc_se": proportion_mc_se(shares, n)})


def _cautious_share(p: float | np.ndarray, n: int) -> Any:
    """The Agresti-Coull share (p n + 2) / (n + 4): two successes and two failures added."""
    return (np.asarray(p) * n + 2.0) / (n + 4.0)


def cautious_mc_se(p: float | np.ndarray, n: int) -> Any:
    """A Monte Carlo error of a share ``p`` of ``n`` draws that is not 0 at a share of 0 or 1: the
    Agresti-Coull form, sqrt(q (1 - q) / (n + 4)) with q = (p n + 2) / (n + 4). Twenty draws that all
    agree give 0.056, not 0: the rule that decides when there are enough draws must not stop at once."""
    q = _cautious_share(p, n)
    return np.sqrt(q * (1 - q) / (n + 4.0))


def draws_for_precision(runs: pd.DataFrame, scenarios: Sequence[str], target: float,
                        metric: str = "adoption_final") -> tuple[int, int, float]:
    """How many draws make every scenario's P(best) as precise as ``target`` (its
    :func:`cautious_mc_se` at most that), judged from the draws in ``runs``: returns (draws there,
    draws needed, the largest cautious error now). The scenario with P(best) nearest one half needs
    the most."""
    shares = p_best(runs, scenarios, metric).to_numpy(dtype=float)
    n = len(_wide(runs, scenarios, metric))
    if n == 0 or not np.isfinite(shares).any():
        return n, n, float("nan")
    error = float(np.nanmax(cautious_mc_se(shares, n)))
    if error <= target:
        return n, n, error
    q = _cautious_share(shares, n)
    variance = float(np.nanmax(q * (1 - q)))
    return n, max(n + 1, int(np.ceil(variance / target**2 - 4.0))), error


def pairwise(runs: pd.DataFrame, scenarios: Sequence[str], metric: str = "adoption_final") -> pd.DataFrame:
    """P(row scenario's ``metric`` > column scenario's) over the draws both were run on, paired by
    seed; a tie counts half, so P(a > b) + P(b > a) = 1. The diagonal (a scenario against itself) is
    empty. One row per scenario in the given order, first column ``scenario``."""
    wide = _wide(runs, scenarios, metric).to_numpy(dtype=float)
    names = list(scenarios)
    out = np.full((len(names), len(names)), np.nan)
    ran = np.isfinite(wide)
    for i in range(len(names)):
        for j in range(len(names)):
            both = ran[:, i] & ran[:, j]
            if i != j and both.any():
                a, b = wide[both, i], wide[both, j]
                tie = np.isclose(a, b, rtol=0, atol=1e-12)
                out[i, j] = float(np.mean(np.where(tie, 0.5, a > b)))
    table = pd.DataFrame(out, columns=names)
    table.insert(0, "scenario", names)
    return table


def ranking(summary: pd.DataFrame, metric: str = "adoption_final") -> pd.DataFrame:
    """Scenarios from best to worst by ``p_best`` (the share of draws in which each is best), then by
    the mean paired change of ``metric`` against the baseline (where the summary has it; else by the
    mean of ``metric``); ``rank`` 1 is the most often best. A decision under uncertainty is a
    probability, so the order follows it rather than a difference of means; the tie-break is the
    paired change because under racing scenarios ran different worlds, and a mean over other worlds
    is no comparison, while a change against the baseline in the same worlds is."""
    change = f"{change_column(metric)}_mean"
    then = change if change in summary else f"{metric}_mean"
    out = summary.sort_values(["p_best", then], ascending=False, kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def clear_winner(summary: pd.DataFrame, share: float) -> str | None:
    """The scenario that is best in at least ``share`` of the draws, or None ("no clear winner")."""
    if summary.empty or not np.isfinite(summary["p_best"]).any():
        return None
    top = summary.loc[summary["p_best"].idxmax()]
    return str(top["scenario"]) if top["p_best"] >= share else None
