"""PRIM (experiments.exploration.prim) on cases whose answer is known.

The box where a noise-free condition holds is known exactly, so the search must find its limits, leave
the other parameters alone, and report coverage and density near 1; the quasi-p values must tell a
limit that decides from one that does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.exploration import prim
from experiments.exploration.discover import choose_step, prune


def _uniform(n: int, d: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, d)), columns=[f"x{i}" for i in range(d)])


@pytest.fixture(scope="module")
def corner() -> tuple[pd.DataFrame, np.ndarray, prim.PrimBox]:
    """Uniform in [0, 1]^3; the condition holds where x0 > 0.7 and x1 < 0.4 (no noise)."""
    x = _uniform(1000, 3, 7)
    y = ((x["x0"] > 0.7) & (x["x1"] < 0.4)).to_numpy()
    search = prim.Prim(x, y, threshold=0.5, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
    box = search.find_box()
    assert box is not None
    return x, y, box


def test_the_box_found_is_the_one_where_the_condition_holds(corner):
    _, _, box = corner
    box.select(choose_step(box.peeling_trajectory, 0.8))
    lims = box.restrictions()
    assert set(lims.index) == {"x0", "x1"}  # x2 untouched
    assert lims.loc["x0", "low"] == pytest.approx(0.7, abs=0.03)
    assert lims.loc["x1", "high"] == pytest.approx(0.4, abs=0.03)
    assert np.isnan(lims.loc["x0", "qp_high"]) and np.isnan(lims.loc["x1", "qp_low"])  # one-sided limits
    assert (lims["qp"] < 1e-6).all()
    assert box.stats["density"] == 1.0 and box.stats["coverage"] > 0.95
    assert box.stats["res dim"] == 2
    assert box.stats["mass"] == pytest.approx(0.3 * 0.4, abs=0.02)


def test_the_trajectory_trades_coverage_for_density(corner):
    _, y, box = corner
    traj = box.peeling_trajectory
    assert list(traj.columns[:5]) == prim.TRAJECTORY_COLUMNS
    first = traj.iloc[0]
    assert first["coverage"] == 1.0 and first["mass"] == 1.0 and first["res dim"] == 0
    assert first["density"] == pytest.approx(y.mean())
    peeled = traj["mass"].to_numpy()
    assert (np.diff(peeled[: int(np.argmax(traj["density"].to_numpy() == 1.0)) + 1]) < 0).all()
    assert traj["density"].iloc[-1] == 1.0


def test_an_irrelevant_restriction_is_insignificant_and_pruned():
    """A box that also cuts x2 (which has nothing to do with the condition): its quasi-p value is
    large, and pruning drops it while keeping x0 and x1."""
    x = _uniform(1000, 3, 11)
    y = ((x["x0"] > 0.7) & (x["x1"] < 0.4)).to_numpy()
    search = prim.Prim(x, y, paste_alpha=None)
    box = search.find_box()
    assert box is not None
    box.select(choose_step(box.peeling_trajectory, 0.8))
    box.drop_restriction("x0")  # widen, then cut x2 by hand: a known chance restriction
    box._boxes[-1].low[0] = 0.7
    box._boxes[-1].high[2] = 0.6
    box._stats[-1] = box._statistics(box._boxes[-1])
    lims = box.restrictions()
    assert lims.loc["x2", "qp"] > 0.3
    prune(box, 0.05)
    assert set(box.restrictions().index) == {"x0", "x1"}


def test_the_quasi_p_value_is_the_one_sided_binomial_test():
    """Hand-made: 10 points in the box, 8 cases; without the limit 20 points, 9 cases."""
    x = pd.DataFrame({"a": np.arange(20) / 19})
    y = np.array([0] * 9 + [1] + [0] * 2 + [1] * 8)  # box a >= 10/19 holds 8 of 10
    search = prim.Prim(x, y, paste_alpha=None)
    box = search.find_box()
    assert box is not None
    box.drop_restriction("a")
    box._boxes[-1].low[0] = 10 / 19
    box._stats[-1] = box._statistics(box._boxes[-1])
    lims = box.restrictions()
    expected = stats.binomtest(8, 10, 9 / 20, alternative="greater").pvalue
    assert lims.loc["a", "qp_low"] == pytest.approx(expected)
    assert lims.loc["a", "qp"] == pytest.approx(expected)


def test_no_box_below_the_threshold_and_further_boxes_use_the_rest():
    x = _uniform(1000, 2, 3)
    rng = np.random.default_rng(3)
    noise = rng.uniform(size=1000) < 0.1  # a tenth of the points at random: nowhere dense
    assert prim.Prim(x, noise, threshold=0.9).find_box() is None
    # Two regions: a slab x0 > 0.7 (found first: the most cases) and a corner x0 < 0.3, x1 > 0.8.
    y = ((x["x0"] > 0.7) | ((x["x0"] < 0.3) & (x["x1"] > 0.8))).to_numpy()
    search = prim.Prim(x, y, mass_min=0.02)
    first = search.find_box()
    assert first is not None
    first.select(choose_step(first.peeling_trajectory, 0.8))
    second = search.find_box()
    assert second is not None
    second.select(choose_step(second.peeling_trajectory, 0.1))  # coverage: share of all cases
    one, two = first.restrictions(), second.restrictions()
    assert list(one.index) == ["x0"] and one.loc["x0", "low"] == pytest.approx(0.7, abs=0.03)
    assert set(two.index) == {"x0", "x1"}
    assert two.loc["x0", "high"] == pytest.approx(0.3, abs=0.03)
    assert two.loc["x1", "low"] == pytest.approx(0.8, abs=0.03)
    assert first.stats["density"] == second.stats["density"] == 1.0
    assert first.stats["coverage"] + second.stats["coverage"] == pytest.approx(1.0, abs=0.05)
    assert search.find_box() is None  # nothing dense left


def test_ties_peel_whole_values():
    """A parameter with few values (an integer one) peels all the points at its edge value at once."""
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"k": rng.integers(0, 5, size=300).astype(float), "u": rng.uniform(size=300)})
    y = (x["k"] >= 3).to_numpy()
    box = prim.Prim(x, y).find_box()
    assert box is not None
    box.select(choose_step(box.peeling_trajectory, 0.9))
    lims = box.restrictions()
    assert list(lims.index) == ["k"] and lims.loc["k", "low"] == 3.0
    assert box.stats["density"] == 1.0 and box.stats["coverage"] == 1.0
