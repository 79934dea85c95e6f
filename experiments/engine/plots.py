"""Figures of the policy comparison and the budget frontier (matplotlib, Agg backend, PNG files).

Every function takes the tables of :mod:`experiments.engine.stats`, writes one PNG and returns its path.
The conclusions rest on effects paired by seed (each scenario's run minus the baseline's run with the
same seed), so the figures show those effects with the same intervals as the tables (the comparison:
5 %-95 % ranges across calibrated worlds; the frontier: 95 % intervals of the mean); a band of each
scenario's own level across seeds would overlap the baseline even where the paired effect is clear.
Shares and gaps are drawn in percent and percentage points, and their intervals stay within their
bounds (:func:`sim.summary.bounds`). The baseline's own level has a panel of its own, on an axis
running over the whole range, so no scenario's line can hide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.store.files import atomic_path  # noqa: E402
from sim.summary import is_share  # noqa: E402

DPI = 110
BASELINE_COLOR = (0.0, 0.0, 0.0, 1.0)


def scenario_colors(scenarios: Sequence[str], baseline: str | None = None) -> dict[str, tuple]:
    """A fixed colour per scenario (the baseline black), the same in every figure."""
    palette = [*plt.get_cmap("tab10").colors, *plt.get_cmap("Dark2").colors]
    others = [s for s in scenarios if s != baseline]
    colors = {s: (*palette[i % len(palette)], 1.0) for i, s in enumerate(others)}
    if baseline is not None:
        colors[baseline] = BASELINE_COLOR
    return colors


def save_figure(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def percent_scale(metric: str) -> float:
    """100 for shares and gaps between shares (drawn in percent and percentage points), else 1."""
    return 100.0 if is_share(metric) else 1.0








# --------------------------------------------------------------------------- equity gaps
def hbar(ax: plt.Axes, names: Sequence[str], mean: np.ndarray, low: np.ndarray, high: np.ndarray,
          colors: Sequence, hatches: Sequence[str] | None = None) -> None:
    """Horizontal bars with error bars from ``low`` to ``high``, first name at the top. A 5 %-95 %
    range need not contain the mean (a skewed spread), so each arm is at least zero long."""
    y = np.arange(len(names))
    bars = ax.barh(y, np.nan_to_num(mean), color=colors, alpha=0.85)
    for bar, hatch in zip(bars, hatches or [""] * len(names), strict=True):
        bar.set_hatch(hatch)
    err = np.clip(np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)]), 0, None)
    ax.errorbar(np.nan_to_num(mean), y, xerr=err, fmt="none", ecolor="0.15", capsize=3, lw=1)
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)










def spread_labels(ax: plt.Axes, points: Sequence[tuple[float, float, str]],
                  min_gap: float = 0.05, fontsize: int = 8) -> list[float]:
    """Label each point (x, y, text) to its right, the labels nudged apart vertically so that no two
    are closer than ``min_gap`` of the axis height (scenarios with similar effects otherwise print
    their names on top of each other); a thin line links a moved label to its point. Returns the
    labels' heights in data units, in the order of ``points``. Call after everything is plotted, so
    that the axis limits are final."""
    if not points:
        return []
    ax.autoscale_view()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    # never more spacing than the axis holds: n labels fit in the height with half a gap at each end
    gap, dx = min((y1 - y0) * min_gap, (y1 - y0) / (len(points) + 1)), (x1 - x0) * 0.015
    low, high = y0 + gap / 2, y1 - gap / 2
    order = sorted(range(len(points)), key=lambda i: points[i][1])
    wanted = np.clip(np.array([points[i][1] for i in order], dtype=float), low, high)
    placed = wanted.copy()
    for k in range(1, len(placed)):  # upwards: at least one gap above the label below
        placed[k] = max(placed[k], placed[k - 1] + gap)
    placed[-1] = min(placed[-1], high)
    for k in range(len(placed) - 2, -1, -1):  # downwards: back inside the axes, keeping the gaps
        placed[k] = min(placed[k], placed[k + 1] - gap)
    heights = [0.0] * len(points)
    for i, label_y in zip(order, placed, strict=True):
        x, y, text = points[i]
        moved = abs(label_y - y) > gap / 3
        ax.annotate(text, (x, y), xytext=(x + dx, label_y), textcoords="data", fontsize=fontsize,
                    va="center", arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5"} if moved else None)
        heights[i] = float(label_y)
    return heights
