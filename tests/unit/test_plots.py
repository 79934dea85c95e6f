"""Figure helpers: labels of nearby points do not print on top of each other."""

from __future__ import annotations

import numpy as np

from experiments.engine.plots import plt, spread_labels


def test_labels_of_coinciding_points_are_spread_apart_inside_the_axes():
    fig, ax = plt.subplots()
    points = [(1.0, 0.0, f"scenario {i}") for i in range(8)] + [(5.0, -20.0, "far away")]
    ax.plot([p[0] for p in points], [p[1] for p in points], "o")
    heights = spread_labels(ax, points, min_gap=0.05)
    y0, y1 = ax.get_ylim()
    ordered = np.sort(heights)
    assert np.all(np.diff(ordered) >= 0.05 * (y1 - y0) - 1e-9)  # no two labels closer than the gap
    assert y0 <= ordered[0] and ordered[-1] <= y1  # all inside the axes
    assert abs(heights[-1] - (-20.0)) < 0.05 * (y1 - y0)  # a lone point keeps its label beside it
    plt.close(fig)
