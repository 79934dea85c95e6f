"""The budget frontier: one budget split between two levers in steps, which split to choose, and
what knowing a parameter first would be worth.

Each split is a full allocation (every lever, shares summing to one). Each seed is one world (one
posterior draw, the same at every split), so the objective of a pair is a matrix of splits x worlds;
:mod:`experiments.frontier.decision` turns it into regret, P(best) and the value of information.
The split with the highest mean is named best only when it beats both neighbouring splits in the
paired 95% interval over seeds; a paired bootstrap over seeds gives the Monte Carlo range of that
highest-mean share.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.stats import (
    MIN_SEEDS,
    effect_metrics,
    paired_effects,
    predictive,
    proportion_mc_se,
    t_interval,
)
from experiments.engine.tables import flag_underspent, present_gaps, summary_metrics
from experiments.frontier import decision
from sim.config import LEVERS


# --------------------------------------------------------------------------- budget frontier
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


def margin_over_neighbours(values: np.ndarray, best: int, maximize: bool) -> float:
    """How far the split ``best`` is ahead of its closer neighbour, in mean objective over the seeds
    (rows: splits in share order; columns: seeds); infinite when it has no neighbour."""
    means = values.mean(axis=1)
    gaps = [means[best] - means[j] if maximize else means[j] - means[best]
            for j in (best - 1, best + 1) if 0 <= j < values.shape[0]]
    return float(min(gaps)) if gaps else float("inf")


def _best_share_range(values: np.ndarray, shares: np.ndarray, maximize: bool, n_boot: int,
                      rng: np.random.Generator) -> tuple[float, float]:
    """Paired bootstrap over seeds: the 95 % range of the share with the highest mean (the Monte Carlo
    uncertainty of that choice, which shrinks with more seeds; not computed below MIN_SEEDS seeds)."""
    n_seeds = values.shape[1]
    if n_boot <= 0 or n_seeds < MIN_SEEDS:
        return np.nan, np.nan
    idx = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    means = values[:, idx].mean(axis=2)  # (shares, resamples)
    best = means.argmax(axis=0) if maximize else means.argmin(axis=0)
    low, high = np.percentile(shares[best], [2.5, 97.5])
    return float(low), float(high)


def pair_outcomes(runs: pd.DataFrame, splits: Sequence[tuple[dict[str, Any], Collection[str]]],
                  objective: str) -> dict[str, pd.DataFrame]:
    """Per pair, the objective as a matrix: one row per split that ran (index: the first lever's
    share, in split order), one column per seed that ran at every split of the pair (a world)."""
    out = {}
    for pair in dict.fromkeys(point["pair"] for point, _ in splits):
        rows = {}
        for point, keys in ((p, k) for p, k in splits if p["pair"] == pair):
            sel = runs[runs["config_hash"].isin(set(keys))]
            if not sel.empty:
                rows[point["share_a"]] = sel.set_index("seed")[objective]
        if rows:
            out[pair] = pd.DataFrame(rows).dropna().T.rename_axis(index="share_a", columns="seed")
    return out


def regret_columns(matrix: pd.DataFrame, objective: str, maximize: bool,
                   population_total: float) -> pd.DataFrame:
    """Per split of one pair (rows of ``matrix``): ``expected_regret`` (mean over worlds of the best
    split's objective in that world minus this split's), ``regret_p95`` (its 95th percentile: exceeded
    in 1 world of 20), ``regret_max`` (its largest), the same three in people when the objective is
    final adoption (``..._adopters``; NaN otherwise), ``p_best`` (share of worlds in which the
    split is best; ties share) with its Monte Carlo error ``p_best_mc_se`` and the flags
    ``lowest_expected_regret`` and ``minimax_regret``."""
    columns = ["expected_regret", "regret_p95", "regret_max", "expected_regret_adopters",
               "regret_p95_adopters", "regret_max_adopters", "p_best", "p_best_mc_se",
               "lowest_expected_regret", "minimax_regret"]
    if matrix.shape[1] == 0:  # no seed ran at every split: no world to compare the splits in
        return pd.DataFrame(np.nan, index=matrix.index, columns=columns).assign(
            lowest_expected_regret=False, minimax_regret=False)
    s = decision.summarise_regret(matrix.to_numpy(), maximize)
    idx = np.arange(len(matrix))
    return pd.DataFrame({
        "expected_regret": s.expected, "regret_p95": s.p95, "regret_max": s.maximum,
        "expected_regret_adopters": decision.in_people(s.expected, objective, population_total),
        "regret_p95_adopters": decision.in_people(s.p95, objective, population_total),
        "regret_max_adopters": decision.in_people(s.maximum, objective, population_total),
        "p_best": s.p_best, "p_best_mc_se": proportion_mc_se(s.p_best, matrix.shape[1]),
        "lowest_expected_regret": idx == s.lowest_expected,
        "minimax_regret": idx == s.minimax,
    }, index=matrix.index)[columns]


def value_of_information(matrices: dict[str, pd.DataFrame], draws: pd.DataFrame | None, objective: str,
                         maximize: bool, population_total: float) -> pd.DataFrame:
    """One row per pair and uncertain parameter that varies across the pair's worlds: ``evppi`` (what
    knowing the parameter before choosing the split would add to the objective on average, in its
    units; :func:`experiments.frontier.decision.evppi`), ``evpi`` (knowing everything, run-to-run noise
    included: an upper bound), both in people when the objective is final adoption, ``share_of_evpi``,
    ``n_draws``, the fit's degrees of freedom (``fit_df``, 0: the parameter explained nothing) and
    ``clipped`` (the estimate was cut to [0, EVPI]); highest EVPPI first within a pair.

    ``draws``: each seed's parameter values (index: seed; columns: dotted keys, and ``use_measure``,
    the survey a mixture's world is calibrated on, as text), None when every seed ran the declared
    defaults; then nothing varies and each pair gets one row with EVPI only."""
    rows = []
    for pair, matrix in matrices.items():
        values = matrix.to_numpy()
        if values.shape[1] == 0:  # no seed ran at every split
            continue
        total = decision.evpi(values, maximize)
        common = {"pair": pair, "evpi": total,
                  "evpi_adopters": decision.in_people(total, objective, population_total),
                  "n_draws": values.shape[1]}
        theta = None if draws is None else draws.reindex(matrix.columns)
        varying = [] if theta is None else [k for k in theta.columns if theta[k].nunique() > 1]
        if not varying:
            rows.append({"parameter": np.nan, "evppi": np.nan, **common})
            continue
        pair_rows = []
        for key in varying:
            column = theta[key]
            # a categorical uncertainty (which survey's measure of use a world is calibrated on) enters
            # as its categories' indicators: the fit is then each category's mean outcome
            x = (pd.get_dummies(column, drop_first=True, dtype=float).to_numpy()
                 if column.dtype == object else column.to_numpy(dtype=float))
            e = decision.evppi(values, x, maximize)
            pair_rows.append({"parameter": key, "evppi": e.value, **common,
                              "fit_df": e.df if np.isfinite(e.value) else np.nan, "clipped": e.clipped})
        rows += sorted(pair_rows, key=lambda r: -r["evppi"] if np.isfinite(r["evppi"]) else np.inf)
    columns = ["pair", "parameter", "evppi", "evppi_adopters", "evpi", "evpi_adopters", "share_of_evpi",
               "n_draws", "fit_df", "clipped"]
    table = pd.DataFrame(rows, columns=[c for c in columns if c not in ("evppi_adopters", "share_of_evpi")])
    table["evppi_adopters"] = decision.in_people(table["evppi"], objective, population_total)
    table["share_of_evpi"] = np.where(table["evpi"] > 0, table["evppi"] / table["evpi"].where(
        table["evpi"] > 0), np.nan)
    return table[columns]


def frontier_table(runs: pd.DataFrame, splits: Sequence[tuple[dict[str, Any], Collection[str]]],
                   reference: Collection[str], objective: str, maximize: bool = True, n_boot: int = 2000,
                   seed: int = 0, practical: float = 0.0) -> pd.DataFrame:
    """One row per (pair, share): every summary metric with its mean, 5%-95% range across the worlds
    (seeds: one posterior draw each) and the Monte Carlo error of the mean, effects against the
    no-spending reference per IDR bn (when it was run), the best split with its uncertainty, and the
    regret of choosing each split (:func:`regret_columns`).

    ``splits``: each point of :func:`frontier_points` (in pair, then share order) with the identities
    (config hashes) of its runs; ``reference``: the identities of the no-spending runs, which become a
    row of their own with ``pair == "reference"``. Runs are recognised by identity, never by their
    allocation's values.
    """
    metrics = summary_metrics(runs)
    gaps = present_gaps(runs)
    ref = runs[runs["config_hash"].isin(set(reference))]
    population_total = float(runs["population_total"].iloc[0])
    matrices = pair_outcomes(runs, splits, objective)
    rng = np.random.default_rng(seed)
    rows = []
    for pair, matrix in matrices.items():
        pair_rows = []
        for point, keys in ((p, k) for p, k in splits if p["pair"] == pair):
            sel = runs[runs["config_hash"].isin(set(keys))]
            if sel.empty:
                continue
            row = {k: point[k] for k in ("pair", "lever_a", "lever_b", "share_a", "share_b")}
            row.update(sel[["budget_months", "budget_available_idr_bn"]].iloc[0].to_dict())
            row.update(predictive(sel.assign(_g=0), "_g", metrics).drop(columns="_g").iloc[0].to_dict())
            if not ref.empty:
                eff = paired_effects(sel, ref, gaps, [objective]).assign(_g=0)
                row.update(predictive(eff, "_g", effect_metrics(gaps, [objective]))
                           .drop(columns=["_g", "n_seeds"])
                           .iloc[0].to_dict())
            pair_rows.append(row)
        values = matrix.to_numpy()
        shares = matrix.index.to_numpy(dtype=float)
        low, high = _best_share_range(values, shares, maximize, n_boot, rng)
        means = np.array([r[f"{objective}_mean"] for r in pair_rows])
        best = int(np.nanargmax(means) if maximize else np.nanargmin(means))
        # named only when told apart from both neighbours AND ahead by a difference that matters
        margin = margin_over_neighbours(values, best, maximize)
        distinct = distinguishable_from_neighbours(values, best, maximize)
        clear = distinct and margin >= practical
        regret = regret_columns(matrix, objective, maximize, population_total).to_dict("records")
        for i, r in enumerate(pair_rows):
            r.update(p_best=regret[i].pop("p_best"), p_best_mc_se=regret[i].pop("p_best_mc_se"),
                     is_best=clear and i == best, best_share_ci_low=low, best_share_ci_high=high,
                     top_split=i == best, best_distinguishable=distinct, best_margin=margin, **regret[i])
        rows += pair_rows
    if not ref.empty:
        row = {"pair": "reference", "lever_a": "", "lever_b": "", "share_a": np.nan, "share_b": np.nan,
               "is_best": False}
        row.update(ref[["budget_months", "budget_available_idr_bn"]].iloc[0].to_dict())
        row.update(predictive(ref.assign(_g=0), "_g", metrics).drop(columns="_g").iloc[0].to_dict())
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(5, "objective", objective)
    return flag_underspent(table)


# --------------------------------------------------------------------------- the split under each measure
def measure_splits(outcomes: dict[str, pd.DataFrame], measure_of_seed: pd.Series,
                   maximize: bool = True) -> pd.DataFrame:
    """Per pair and measure of use, the split most often best in that measure's worlds alone: one row
    with ``pair``, ``use_measure``, ``worlds``, ``share_a`` (that split; a tie goes to the lower
    expected regret), ``p_best`` and its Monte Carlo error ``p_best_mc_se``, ``expected_regret`` in
    those worlds, and ``objective_mean`` of that split there. ``outcomes``: :func:`pair_outcomes`;
    ``measure_of_seed``: each seed's measure (index: seed). Under a mixture of posteriors this says
    whether the split a planner would choose depends on which survey defines use."""
    rows = []
    for pair, matrix in outcomes.items():
        for measure in dict.fromkeys(measure_of_seed.dropna()):
            seeds = [s for s in matrix.columns if measure_of_seed.get(s) == measure]
            if not seeds:
                continue
            values = matrix[seeds].to_numpy()
            s = decision.summarise_regret(values, maximize)
            best = int(np.lexsort((s.expected, -s.p_best))[0])
            rows.append({"pair": pair, "use_measure": measure, "worlds": len(seeds),
                         "share_a": float(matrix.index[best]), "p_best": float(s.p_best[best]),
                         "p_best_mc_se": float(proportion_mc_se(s.p_best[best], len(seeds))),
                         "expected_regret": float(s.expected[best]),
                         "objective_mean": float(values[best].mean())})
    return pd.DataFrame(rows, columns=["pair", "use_measure", "worlds", "share_a", "p_best", "p_best_mc_se",
                                       "expected_regret", "objective_mean"])

