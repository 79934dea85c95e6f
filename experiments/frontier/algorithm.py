"""The budget frontier: one budget split between two levers in steps, and which split is best.

Each split is a full allocation (every lever, shares summing to one); the best split is the one with the
best mean objective, named only when it beats both neighbouring splits in the paired 95% interval over
seeds, and its uncertainty is a paired bootstrap over seeds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.stats import MIN_SEEDS, describe, effect_metrics, paired_effects, t_interval
from experiments.engine.tables import flag_underspent, present_gaps, summary_metrics
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


def frontier_table(runs: pd.DataFrame, splits: Sequence[tuple[dict[str, Any], Collection[str]]],
                   reference: Collection[str], objective: str, maximize: bool = True, n_boot: int = 2000,
                   seed: int = 0) -> pd.DataFrame:
    """One row per (pair, share): every summary metric with its 95 % CI, effects against the
    no-spending reference per IDR bn (when it was run), and the best split with its uncertainty.

    ``splits``: each point of :func:`frontier_points` (in pair, then share order) with the identities
    (config hashes) of its runs; ``reference``: the identities of the no-spending runs, which become a
    row of their own with ``pair == "reference"``. Runs are recognised by identity, never by their
    allocation's values.
    """
    metrics = summary_metrics(runs)
    gaps = present_gaps(runs)
    ref = runs[runs["config_hash"].isin(set(reference))]
    rng = np.random.default_rng(seed)
    rows = []
    pairs = dict.fromkeys(point["pair"] for point, _ in splits)
    for pair in pairs:
        pair_rows = []
        for point, keys in ((p, k) for p, k in splits if p["pair"] == pair):
            sel = runs[runs["config_hash"].isin(set(keys))]
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


