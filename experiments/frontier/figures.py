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
from sim import summary as outputs  # noqa: E402


# --------------------------------------------------------------------------- budget frontier
def frontier(table: pd.DataFrame, objective: str, equity_metrics: Sequence[str], path: Path) -> Path:
    """Against the first lever's share, per pair: the objective (top) and the equity gaps (middle) as
    paired changes against the no-spending reference (levels when there is none), in percentage points
    for shares, with 95 % bands; the regret of choosing each split (bottom: its mean over the worlds
    and the level it exceeds in 1 world of 20; in adopters when the objective is final adoption, as
    the report counts it). Star: the best split, only when it beats both neighbours; its bootstrap
    range shaded when computed; hollow markers: splits that could not spend their budget."""
    curves = table[table["pair"] != "reference"]
    has_ref = (table["pair"] == "reference").any()
    pairs = list(dict.fromkeys(curves["pair"]))
    has_regret = "expected_regret" in curves and curves["expected_regret"].notna().any()
    fig, axes = plt.subplots(3 if has_regret else 2, 1, figsize=(9, 13 if has_regret else 9.5), sharex=True)
    ax1, ax2 = axes[0], axes[1]
    in_people = has_regret and curves["expected_regret_adopters"].notna().any()
    regret_scale = 1e-6 if in_people else percent_scale(objective)
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
        ax1.fill_between(x, d[f"{obj_col}_p05"] * scale, d[f"{obj_col}_p95"] * scale, color=color,
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
        if has_regret:
            cols = [f"{k}_adopters" if in_people else k for k in ("expected_regret", "regret_p95")]
            ax3 = axes[2]
            ax3.plot(x, d[cols[0]] * regret_scale, "-o", color=color, ms=4,
                     label="expected regret" + (f" ({name})" if len(pairs) > 1 else ""))
            ax3.plot(x, d[cols[1]] * regret_scale, "--", color=color,
                     label="exceeded in 1 world of 20" + (f" ({name})" if len(pairs) > 1 else ""))
            for flag, marker, what in (("lowest_expected_regret", "v", "lowest expected regret"),
                                       ("minimax_regret", "s", "minimax regret")):
                chosen = d[d[flag].astype(bool)]
                if not chosen.empty:
                    ax3.plot(chosen["share_a"] * 100, chosen[cols[0]] * regret_scale, marker, color=color,
                             mfc="none", ms=11, mew=1.5, label=f"{what}: {chosen['share_a'].iloc[0]:.0%}")
        for j, gap in enumerate(equity_metrics):
            col = f"{gap}_change" if has_ref else gap
            if f"{col}_mean" not in d:
                continue
            gscale = percent_scale(gap)
            gcolor = cmap((j + 3) % 10)
            label = metric_label(gap) + (f" ({name})" if len(pairs) > 1 else "")
            ax2.plot(x, d[f"{col}_mean"] * gscale, styles[k % 4], marker="o", color=gcolor, ms=3, label=label)
            ax2.fill_between(x, d[f"{col}_p05"] * gscale, d[f"{col}_p95"] * gscale, color=gcolor,
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
                  "paired by seed against no extra spending; bands: 5%-95% range across worlds")
    if has_regret:
        regret_unit = "million adopters" if in_people else ("percentage points" if regret_scale == 100
                                                     else outputs.unit(objective))
        axes[2].set_ylabel(f"regret: loss against the best split\nin each world ({regret_unit})")
        axes[2].set_ylim(bottom=0)
    axes[-1].set_xlabel(f"share of the budget on {lever_a}")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="best")
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(100.0, 0))
    fig.tight_layout()
    return save_figure(fig, path)


