"""Figures of the sensitivity analysis and scenario discovery (matplotlib, PNG files).

- :func:`morris`: mu* against sigma per parameter (Campolongo et al. 2007): far right = influential,
  high = non-linear or interacting; the bootstrap interval of mu* as a horizontal bar;
- :func:`sobol`: first-order and total indices per parameter with their bootstrap intervals;
- :func:`peeling_trajectory`: PRIM's coverage-density trade-off, the chosen box marked.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.engine.plots import save_figure

LABELLED = 8  # parameters named in a Morris plot (the highest mu*)


def short(key: str) -> str:
    """A parameter key without the ``params.`` prefix, for labels that must stay short."""
    return key.removeprefix("params.")


def morris(table: pd.DataFrame, outcome: str, path: Path, noise_floor: float | None = None) -> Path:
    """mu* (x) against sigma (y) of one outcome; the top parameters labelled."""
    rows = table[table["outcome"] == outcome].sort_values("mu_star", ascending=False)
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    ax.errorbar(rows["mu_star"], rows["sigma"], xerr=rows["mu_star_conf"], fmt="o", ms=4, color="tab:blue",
                ecolor="0.75", elinewidth=1, capsize=0)
    for _, r in rows.head(LABELLED).iterrows():
        ax.annotate(short(r["parameter"]), (r["mu_star"], r["sigma"]), fontsize=7, xytext=(4, 2),
                    textcoords="offset points")
    top = float(np.nanmax([rows["mu_star"].max(), rows["sigma"].max(), 1e-12]))
    ax.plot([0, top], [0, top], ls=":", color="0.5", lw=1, label="sigma = mu*")
    if noise_floor is not None and np.isfinite(noise_floor):
        ax.axvline(noise_floor, color="tab:red", ls="--", lw=1, label="run-to-run noise level")
    ax.set_xlabel("mu* (mean absolute elementary effect, over the prior's full range)")
    ax.set_ylabel("sigma (spread of the elementary effects)")
    ax.set_title(f"Morris screening: {outcome}")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def sobol(table: pd.DataFrame, outcome: str, path: Path) -> Path:
    """First-order (S1) and total (ST) indices of one outcome as bars with their intervals."""
    rows = table[table["outcome"] == outcome].sort_values("ST", ascending=True)
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.45 * len(rows)))
    ax.barh(y + 0.2, rows["S1"], height=0.38, xerr=rows["S1_conf"], color="tab:blue", label="first order S1",
            error_kw={"elinewidth": 1, "capsize": 2})
    ax.barh(y - 0.2, rows["ST"], height=0.38, xerr=rows["ST_conf"], color="tab:orange", label="total ST",
            error_kw={"elinewidth": 1, "capsize": 2})
    ax.set_yticks(y, [short(p) for p in rows["parameter"]], fontsize=8)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("share of the output variance (bars: bootstrap interval)")
    ax.set_title(f"Sobol indices: {outcome}")
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def peeling_trajectory(trajectory: pd.DataFrame, chosen: int, path: Path, title: str,
                       final: tuple[float, float] | None = None) -> Path:
    """Coverage (x) against density (y) of every box on PRIM's peeling trajectory, the chosen one
    circled and, if its insignificant restrictions were dropped, the resulting box starred."""
    fig, ax = plt.subplots(figsize=(7, 5))
    points = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res dim"],
                        cmap="viridis", s=18)
    fig.colorbar(points, ax=ax, label="restricted parameters")
    pick = trajectory.iloc[chosen]
    ax.scatter([pick["coverage"]], [pick["density"]], s=160, facecolors="none", edgecolors="tab:red", lw=1.5,
               label=f"chosen box (step {chosen})")
    if final is not None:
        ax.scatter([final[0]], [final[1]], marker="*", s=160, color="tab:red",
                   label="after dropping insignificant restrictions")
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's points that are cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, path)
