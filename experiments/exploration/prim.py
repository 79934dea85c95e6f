"""PRIM, the Patient Rule Induction Method, for scenario discovery.

Written for this project from the published algorithm: Friedman, J. H. & Fisher, N. I. (1999), "Bump
hunting in high-dimensional data", *Statistics and Computing* 9:123-143. Scenario discovery needs
only its box search on a binary outcome (a condition holds at a point or not), so this is that and no
more; a general toolkit would bring a modelling framework and, through it, a GPL dependency into the
default install.

The search, for one box:

- **Peeling.** Start from the box holding every point. At each step, of the ``2 x d`` candidate
  peels (remove about ``peel_alpha`` of the box's points from the low or the high end of one
  parameter) take the one that raises the box's density most per point removed (Friedman & Fisher's
  criterion, which is also fair between a continuous parameter and one with ties, where a peel may
  remove more than ``peel_alpha``). Stop when no peel leaves at least ``mass_min`` of the points, or
  when the box holds cases of interest only (no peel can raise its density further). Every box on the
  way is kept: the *peeling trajectory*, on which coverage falls as density rises.
- **Pasting** (optional). Peeling is greedy and steps in chunks, so the last box may be cut too
  tight. Widen it, one limit at a time, by about ``paste_alpha`` of its points, taking the widening
  that gives the highest density, while the density does not fall. Pasted boxes join the trajectory.
- **Threshold.** A box counts only if the end of the search reaches ``threshold`` density; otherwise
  there is no box (``find_box`` returns None).

Further boxes are searched among the points outside the earlier boxes (as they stand when the next
search starts, so after any selection and pruning). Coverage (cases of interest in the box / all cases
of interest) and mass (points in the box / all points) are shares of the whole sample.

A box's **quasi-p value** per restricted limit: one-sided binomial test of the box's density against
the density of the box with that limit moved back to the sample's edge. With ``T`` points in the box,
``H`` of them cases of interest, and ``p`` the density without the limit, it is
``P(X >= H)`` for ``X ~ Binomial(T, p)``: how likely a box this dense would be by chance if the limit
did nothing. It is "quasi" because the box was chosen by looking at the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

TRAJECTORY_COLUMNS = ["coverage", "density", "mean", "res dim", "mass"]


@dataclass(frozen=True)
class Limits:
    """One box: a lower and an upper limit per parameter (points with ``low <= x <= high`` are in)."""

    low: np.ndarray
    high: np.ndarray

    def inside(self, x: np.ndarray) -> np.ndarray:
        return np.all((x >= self.low) & (x <= self.high), axis=1)


class PrimBox:
    """One box found by :meth:`Prim.find_box`: its trajectory, the selected step and what it restricts.

    ``select``/``drop_restriction`` change which box is current; the statistics and limits reported
    are those of the current box."""

    def __init__(self, prim: Prim, points: np.ndarray, trajectory: list[Limits]) -> None:
        self._prim = prim
        self._points = points  # indices of the points this search could use (not in earlier boxes)
        self._boxes = list(trajectory)
        self.selected = len(self._boxes) - 1
        self._stats = [self._statistics(b) for b in self._boxes]

    # ------------------------------------------------------------------ statistics
    def _counts(self, limits: Limits) -> tuple[int, int]:
        """(points in the box, cases of interest among them), among the points this search uses."""
        inside = limits.inside(self._prim.x[self._points])
        return int(inside.sum()), int(self._prim.y[self._points][inside].sum())

    def _statistics(self, limits: Limits) -> dict[str, float]:
        n, k = self._counts(limits)
        density = k / n if n else 0.0
        return {"coverage": k / self._prim.total_cases if self._prim.total_cases else 0.0,
                "density": density, "mean": density,
                "res dim": int(self._prim.restricted(limits).sum()), "mass": n / self._prim.n,
                "n": n, "k": k}

    @property
    def peeling_trajectory(self) -> pd.DataFrame:
        """Every box of the search in order (peeled, pasted, then any widened by ``drop_restriction``)."""
        return pd.DataFrame(self._stats)[[*TRAJECTORY_COLUMNS, "n", "k"]]

    @property
    def limits(self) -> Limits:
        return self._boxes[self.selected]

    @property
    def stats(self) -> dict[str, float]:
        """The current box's coverage, density, mean, ``res dim`` (restricted parameters) and mass."""
        return self._stats[self.selected]

    def select(self, step: int) -> None:
        """Make box ``step`` of the trajectory the current one."""
        if not 0 <= step < len(self._boxes):
            raise IndexError(f"step {step} is not on the trajectory (0..{len(self._boxes) - 1})")
        self.selected = step

    # ------------------------------------------------------------------ restrictions
    def _quasi_p(self, limits: Limits, dim: int, side: str) -> float:
        """One-sided binomial test of the box's density against that with one limit freed."""
        n, k = self._counts(limits)
        freed_low, freed_high = limits.low.copy(), limits.high.copy()
        if side == "low":
            freed_low[dim] = self._prim.initial.low[dim]
        else:
            freed_high[dim] = self._prim.initial.high[dim]
        n_free, k_free = self._counts(Limits(freed_low, freed_high))
        if n == 0 or n_free == 0:
            return float("nan")
        # P(X >= k) for X ~ Binomial(n, p): binom.sf(k - 1) (scipy's binomtest, alternative="greater").
        return float(stats.binom.sf(k - 1, n, k_free / n_free))

    def restrictions(self) -> pd.DataFrame:
        """The current box's restricted parameters (index) with columns ``low``, ``high``,
        ``qp_low``/``qp_high`` (each limit's quasi-p value; NaN for a limit at the sample's edge) and
        ``qp``, the smaller of the two, most significant first.

        ``qp`` is what decides whether a parameter stays: dropping a restriction frees both limits, so
        a parameter whose upper limit decides must not go because its lower one is chance (a peeled
        box often nicks the far side too)."""
        limits, initial = self.limits, self._prim.initial
        rows = []
        for dim in np.flatnonzero(self._prim.restricted(limits)):
            qp_low = self._quasi_p(limits, dim, "low") if limits.low[dim] > initial.low[dim] else np.nan
            qp_high = self._quasi_p(limits, dim, "high") if limits.high[dim] < initial.high[dim] else np.nan
            rows.append({"parameter": self._prim.names[dim], "low": float(limits.low[dim]),
                         "high": float(limits.high[dim]), "qp_low": qp_low, "qp_high": qp_high,
                         "qp": float(np.nanmin([qp_low, qp_high]))})
        table = pd.DataFrame(rows, columns=["parameter", "low", "high", "qp_low", "qp_high", "qp"])
        return table.set_index("parameter").sort_values("qp", kind="stable")

    def drop_restriction(self, name: str) -> None:
        """Free both limits of parameter ``name``: the widened box joins the trajectory and is selected
        (so statistics and quasi-p values are those of the box that remains)."""
        dim = self._prim.names.index(name)
        low, high = self.limits.low.copy(), self.limits.high.copy()
        low[dim], high[dim] = self._prim.initial.low[dim], self._prim.initial.high[dim]
        widened = Limits(low, high)
        self._boxes.append(widened)
        self._stats.append(self._statistics(widened))
        self.selected = len(self._boxes) - 1


class Prim:
    """PRIM on a table of parameter values ``x`` (one row per point) and a binary outcome ``y``
    (True/1: a case of interest). See the module's docstring for the algorithm."""

    def __init__(self, x: pd.DataFrame, y: np.ndarray, *, threshold: float = 0.5, peel_alpha: float = 0.05,
                 paste_alpha: float | None = 0.05, mass_min: float = 0.05) -> None:
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)} values")
        if not 0 < peel_alpha < 1 or (paste_alpha is not None and not 0 < paste_alpha < 1):
            raise ValueError("peel_alpha and paste_alpha must lie strictly between 0 and 1")
        self.names: list[str] = [str(c) for c in x.columns]
        self.x = x.to_numpy(dtype=float)
        self.y = np.asarray(y).astype(bool)
        self.n = len(self.y)
        self.total_cases = int(self.y.sum())
        self.threshold, self.peel_alpha, self.paste_alpha, self.mass_min = (
            threshold, peel_alpha, paste_alpha, mass_min)
        # The unrestricted box: the sample's range of each parameter (a limit there restricts nothing).
        self.initial = Limits(self.x.min(axis=0), self.x.max(axis=0)) if self.n else Limits(
            np.zeros(x.shape[1]), np.zeros(x.shape[1]))
        self.boxes: list[PrimBox] = []

    def restricted(self, limits: Limits) -> np.ndarray:
        """Which parameters the box limits more tightly than the sample's range."""
        return (limits.low > self.initial.low) | (limits.high < self.initial.high)

    def _remaining(self) -> np.ndarray:
        """Indices of the points outside every box found so far."""
        free = np.ones(self.n, dtype=bool)
        for box in self.boxes:
            free &= ~box.limits.inside(self.x)
        return np.flatnonzero(free)

    # ------------------------------------------------------------------ peeling
    def _peels(self, xb: np.ndarray, yb: np.ndarray, limits: Limits,
               min_points: int) -> list[tuple[float, Limits]]:
        """Every allowed peel of the box (points ``xb``, outcomes ``yb``) with its score: the rise in
        density per point removed."""
        n_box, mean = len(yb), yb.mean()
        k = max(1, int(self.peel_alpha * n_box))
        out: list[tuple[float, Limits]] = []
        for dim in range(xb.shape[1]):
            values = np.sort(xb[:, dim])
            if values[0] == values[-1]:
                continue
            for side in ("low", "high"):
                if side == "low":
                    cut = values[min(k, n_box - 1)]
                    if cut == values[0]:  # ties at the edge: remove every point sharing the edge value
                        cut = values[values > values[0]][0]
                    keep = xb[:, dim] >= cut
                else:
                    cut = values[max(n_box - 1 - k, 0)]
                    if cut == values[-1]:
                        cut = values[values < values[-1]][-1]
                    keep = xb[:, dim] <= cut
                kept = int(keep.sum())
                if kept < min_points:
                    continue
                low, high = limits.low.copy(), limits.high.copy()
                (low if side == "low" else high)[dim] = cut
                out.append(((yb[keep].mean() - mean) / (n_box - kept), Limits(low, high)))
        return out

    def _peel(self, points: np.ndarray) -> list[Limits]:
        x, y = self.x[points], self.y[points]
        min_points = max(1, math.ceil(self.mass_min * self.n))
        limits = self.initial
        trajectory = [limits]
        while True:
            inside = limits.inside(x)
            if y[inside].all():
                break  # only cases of interest left: no peel can raise the density
            peels = self._peels(x[inside], y[inside], limits, min_points)
            # The best score; among equal scores the first (parameter order, low before high).
            best = max(peels, key=lambda peel: peel[0]) if peels else None
            if best is None or best[0] <= 0:
                break
            limits = best[1]
            trajectory.append(limits)
        return trajectory

    # ------------------------------------------------------------------ pasting
    def _paste(self, points: np.ndarray, limits: Limits, alpha: float) -> list[Limits]:
        """Widen the box one limit at a time while the density does not fall (each paste adds points,
        so the loop ends)."""
        x, y = self.x[points], self.y[points]
        pasted: list[Limits] = []
        while True:
            inside = limits.inside(x)
            n_box = int(inside.sum())
            if n_box == 0:
                return pasted
            mean = y[inside].mean()
            k = max(1, int(alpha * n_box))
            best: tuple[float, Limits] | None = None
            for dim in range(x.shape[1]):
                others = np.ones(x.shape[1], dtype=bool)
                others[dim] = False
                # Points inside every other limit but outside this parameter's.
                beside = np.all((x[:, others] >= limits.low[others]) & (x[:, others] <= limits.high[others]),
                                axis=1)
                for side in ("low", "high"):
                    if side == "low":
                        outside = np.sort(x[beside & (x[:, dim] < limits.low[dim]), dim])[::-1]
                    else:
                        outside = np.sort(x[beside & (x[:, dim] > limits.high[dim]), dim])
                    if not len(outside):
                        continue
                    edge = outside[min(k, len(outside)) - 1]
                    low, high = limits.low.copy(), limits.high.copy()
                    (low if side == "low" else high)[dim] = edge
                    candidate = Limits(low, high)
                    new_mean = y[candidate.inside(x)].mean()
                    if best is None or new_mean > best[0]:
                        best = (new_mean, candidate)
            if best is None or best[0] < mean:
                return pasted
            limits = best[1]
            pasted.append(limits)

    def find_box(self) -> PrimBox | None:
        """The next box among the points outside the earlier ones, or None: no points left, or the
        search ends below ``threshold`` density."""
        points = self._remaining()
        if not len(points):
            return None
        trajectory = self._peel(points)
        if self.paste_alpha is not None:
            trajectory += self._paste(points, trajectory[-1], self.paste_alpha)
        box = PrimBox(self, points, trajectory)
        if box.stats["density"] < self.threshold:
            return None
        self.boxes.append(box)
        return box
