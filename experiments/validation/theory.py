"""Reference results the model is validated against: Bass diffusion and Watts' cascade window.

* Bass (1969): the closed form F(t) of the continuous-time model and the discrete-time recursion
  F[t+1] = F[t] + (1 - F[t]) (p + q F[t]), which is what a synchronous monthly update with hazard
  p + q x (adopter share) gives in expectation.
* Watts (2002): on a random graph with degree distribution p_k and one uniform threshold phi, a node
  is *vulnerable* when one active neighbour is enough (k <= floor(1/phi)). Global cascades are
  possible where the vulnerable nodes percolate: sum_k k (k - 1) rho_k p_k > z (the cascade window),
  and a single random seed triggers one with probability equal to the size of the *extended
  vulnerable cluster* (the seed needs one neighbour that leads into the giant vulnerable cluster).
* Limits of the full adoption rule (``params.adoption.rule=utaut``): with everyone aware, with
  access and in need every month, nobody lapsing, and every term of the utility constant except
  possibly the social one, a non-user adopts in a month with probability expit(b + w_s s), where s
  is the share of users among the others. Without the social term the hazard is a constant h and
  adoption follows 1 - (1 - a0)(1 - h)^t; in the mean field s = a n / (n - 1) for every non-user and
  the expected share follows a[t+1] = a[t] + (1 - a[t]) expit(b + w_s a[t] n / (n - 1)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats
from scipy.special import expit


# --------------------------------------------------------------------------- Bass
def bass_closed_form(p: float, q: float, t: np.ndarray | float) -> np.ndarray:
    """Cumulative adoption share F(t) of the continuous Bass model with F(0) = 0."""
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_recursion(p: float, q: float, steps: int, f0: float = 0.0, n: int | None = None) -> np.ndarray:
    """Discrete-time Bass: F[t+1] = F[t] + (1 - F[t]) (p + q s[t]), for t = 0 .. steps.

    ``s[t]`` is the adopter share a non-adopter sees: F[t] for the whole population, or, with ``n``
    given, the share among the other n - 1 people (F[t] n / (n - 1)), which is what the model's mean
    field measures.
    """
    f = np.empty(steps + 1)
    f[0] = f0
    scale = 1.0 if n is None else n / (n - 1)
    for t in range(steps):
        hazard = min(1.0, p + q * f[t] * scale)
        f[t + 1] = f[t] + (1.0 - f[t]) * hazard
    return f


def bass_peak_time(p: float, q: float) -> float:
    """Time of the peak adoption rate in the continuous Bass model: ln(q/p) / (p + q)."""
    return math.log(q / p) / (p + q)


# --------------------------------------------------------------------------- limits of the full rule
def constant_hazard_curve(a0: float, hazard: float, steps: int) -> np.ndarray:
    """Adoption share 1 - (1 - a0)(1 - h)^t for t = 0 .. steps (no lapse, constant hazard h)."""
    t = np.arange(steps + 1)
    return 1.0 - (1.0 - a0) * (1.0 - hazard) ** t


def mean_field_logit_recursion(a0: float, intercept: float, w_social: float, steps: int,
                               n: int | None = None) -> np.ndarray:
    """a[t+1] = a[t] + (1 - a[t]) expit(b + w_s s[t]), s[t] = a[t] n / (n - 1) (or a[t] without n).

    The share a non-user sees in the mean field is that of users among the other n - 1 people.
    """
    a = np.empty(steps + 1)
    a[0] = a0
    scale = 1.0 if n is None else n / (n - 1)
    for t in range(steps):
        a[t + 1] = a[t] + (1.0 - a[t]) * float(expit(intercept + w_social * a[t] * scale))
    return a


# --------------------------------------------------------------------------- Watts
def _poisson_pmf(z: float, kmax: int) -> np.ndarray:
    return stats.poisson.pmf(np.arange(kmax + 1), z)


def vulnerable_degree_max(phi: float) -> int:
    """Largest degree at which one active neighbour reaches the threshold: 1/k >= phi."""
    return int(math.floor(1.0 / phi + 1e-12)) if phi > 0 else 10**9


def _kmax(z: float) -> int:
    return int(z + 12 * math.sqrt(z + 1) + 30)


def cascade_condition(z: float, phi: float) -> float:
    """sum_k k (k - 1) rho_k p_k - z for Poisson(z) degrees; global cascades need it > 0."""
    kmax = _kmax(z)
    k = np.arange(kmax + 1)
    rho = (k >= 1) & (k <= vulnerable_degree_max(phi))
    return float(np.sum(k * (k - 1) * rho * _poisson_pmf(z, kmax)) - z)


def cascade_window(phi: float, z_max: float = 30.0) -> tuple[float, float]:
    """Lower and upper mean degree of the analytic cascade window on Erdos-Renyi graphs."""
    grid = np.linspace(0.05, z_max, 3000)
    values = np.array([cascade_condition(z, phi) for z in grid])
    inside = np.flatnonzero(values > 0)
    if inside.size == 0:
        return (math.nan, math.nan)
    i, j = inside[0], inside[-1]
    lo = optimize.brentq(cascade_condition, grid[i - 1], grid[i], args=(phi,)) if i > 0 else grid[0]
    hi = (optimize.brentq(cascade_condition, grid[j], grid[j + 1], args=(phi,))
          if j + 1 < grid.size else grid[-1])
    return float(lo), float(hi)


def cascade_probability(z: float, phi: float) -> float:
    """Probability that one random seed triggers a global cascade (infinite Erdos-Renyi graph).

    u: probability that following an edge does not lead into the giant vulnerable cluster,
    u = sum_k (k p_k / z) [(1 - rho_k) + rho_k u^(k-1)] (smallest root in [0, 1]); the seed
    triggers a global cascade unless none of its edges does: 1 - sum_k p_k u^k.
    """
    if z <= 0:
        return 0.0
    kmax = _kmax(z)
    k = np.arange(kmax + 1)
    pk = _poisson_pmf(z, kmax)
    rho = ((k >= 1) & (k <= vulnerable_degree_max(phi))).astype(float)
    qk = k * pk / z  # degree of the node at the end of a random edge

    def edge(u: float) -> float:
        return float(np.sum(qk * ((1.0 - rho) + rho * u ** np.maximum(k - 1, 0))))

    u = 0.0
    for _ in range(100_000):  # iterate from 0: converges to the smallest fixed point
        nxt = edge(u)
        if abs(nxt - u) < 1e-13:
            u = nxt
            break
        u = nxt
    probability = float(1.0 - np.sum(pk * u**k))
    return probability if probability > 1e-9 else 0.0  # below: the slow approach to u = 1
