"""The budget-frontier figure: the objective and the equity gaps along each split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.engine.plots import BASELINE_COLOR, percent_scale, save_figure
from experiments.engine.render import (  # noqa: E402
    lever_label,
    metric_label,
)
from experiments.engine.stats import change_column  # noqa: E402


# --------------------------------------------------------------------------- budget frontier
def frontier(table: pd.DataFrame, objective: str, equity_metrics: Sequence[str], path: Path) -> Path:
    """Against the first lever's share, per pair: the objective (top) and the equity gaps (bottom) as
    paired changes against the no-spending reference (levels when there is none), in percentage points
    for shares, with 95 % bands. Star: the best split, only when it beats both neighbours; its
    bootstrap range shaded when computed; hollow markers: splits that could not spend their budget."""
    curves = table[table["pair"] != "reference"]
    has_ref = (table["pair"] == "reference").any()
    pairs = list(dict.fromkeys(curves["pair"]))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 9.5), sharex=True)
    styles = ["-", "--", ":", "-."]
    cmap = plt.get_cmap("tab10")
    obj_col = change_column(objective) if has_ref else objective
    scale = percent_scale(objective)
    for k, pair in enumerate(pairs):
        d = curves[curves["pair"] == pair].sort_values("share_a")
        x = d["share_a"].to_numpy(dtype=float) * 100
        color = cmap(k)
        a, b = d["lever_a"].iloc[0], d["lever_b"].iloc[0]
        name = f"{lever_label(a)} / {lever_label(b)}"
        y = d[f"{obj_col}_mean"].to_numpy(dtype=float) * scale
        ax1.plot(x, y, "-", color=color, label=name)
        ax1.fill_between(x, d[f"{obj_col}_ci_low"] * scale, d[f"{obj_col}_ci_high"] * scale, color=color,
                         alpha=0.18, lw=0)
        under = d.get("underspent", pd.Series(False, index=d.index)).astype(bool).to_numpy()
        ax1.plot(x[~under], y[~under], "o", color=color, ms=5)
        if under.any():
            ax1.plot(x[under], y[under], "o", mfc="white", mec=color, ms=7,
                     label="could not spend its budget (spent " + ", ".join(
                         f"{v:.0%}" for v in d.loc[under, "budget_spent_share_mean"]) + ")")
        best = d[d["is_best"].astype(bool)]
        if not best.empty:
            r = best.iloc[0]
            ax1.plot(r["share_a"] * 100, r[f"{obj_col}_mean"] * scale, "*", color=color, ms=18, mec="k",
                     label=f"best split: {r['share_a']:.0%} {lever_label(a)} (beats both neighbours)")
            lo, hi = r.get("best_share_ci_low", np.nan), r.get("best_share_ci_high", np.nan)
            if np.isfinite(lo) and np.isfinite(hi):
                ax1.axvspan(lo * 100 - 1, hi * 100 + 1, color=color, alpha=0.08,
                            label=f"95% bootstrap range of the best share: {lo:.0%} to {hi:.0%}")
            ax2.axvline(r["share_a"] * 100, color=color, ls="--", lw=1)
        for j, gap in enumerate(equity_metrics):
            col = f"{gap}_change" if has_ref else gap
            if f"{col}_mean" not in d:
                continue
            gscale = percent_scale(gap)
            gcolor = cmap((j + 3) % 10)
            label = metric_label(gap) + (f" ({name})" if len(pairs) > 1 else "")
            ax2.plot(x, d[f"{col}_mean"] * gscale, styles[k % 4], marker="o", color=gcolor, ms=3, label=label)
            ax2.fill_between(x, d[f"{col}_ci_low"] * gscale, d[f"{col}_ci_high"] * gscale, color=gcolor,
                             alpha=0.15, lw=0)
    if has_ref:
        for ax in (ax1, ax2):
            ax.axhline(0, color=BASELINE_COLOR, lw=1.2, label="no extra spending" if ax is ax1 else None)
    lever_a = lever_label(curves["lever_a"].iloc[0]) if len(pairs) == 1 else "the first lever"
    lever_b = lever_label(curves["lever_b"].iloc[0]) if len(pairs) == 1 else "the second lever"
    unit = " (percentage points)" if scale == 100 else ""
    if has_ref:
        ax1.set_ylabel(f"{metric_label(objective)}: change against\nno extra spending{unit}")
        ax2.set_ylabel("change of equity gap against\nno extra spending (percentage points)")
    else:
        ax1.set_ylabel(metric_label(objective) + (" (%)" if scale == 100 else ""))
        ax2.set_ylabel("equity gap (percentage points)")
    ax1.set_title(f"Budget frontier: share of one budget on {lever_a} (rest on {lever_b})\n"
                  "paired by seed against no extra spending; 95% bands")
    ax2.set_xlabel(f"share of the budget on {lever_a}")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="best")
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(100.0, 0))
    fig.tight_layout()
    return save_figure(fig, path)


