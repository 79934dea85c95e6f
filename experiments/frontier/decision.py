"""Decision measures on a matrix of outcomes: regret, P(best) and the value of information.

Every function takes ``outcomes``, an array with one row per option (a split of the budget) and one
column per draw (a "world": one posterior draw of the uncertain parameters run on one seed, the same
draw for every option), and ``maximize`` (True: more of the objective is better). They are pure and
work in the objective's own units; :func:`in_people` turns a share of everyone into people.

Why these and not a best mean with an interval: a planner chooses one option and lives in one world.
Regret says how much the choice costs against the best option *in that world*, so its mean is the
expected loss and its 95th percentile a bad case; the value of information says how much choosing
could improve if an uncertainty were resolved first, which prices a measurement before it is bought.

Limits, said once here and repeated in the report:

- the draws are few (the seeds of a run, often 5 to 50), so every number is a Monte Carlo estimate
  whose error shrinks with more draws; report ``n_draws`` beside it;
- a world's outcome also carries run-to-run noise (the agents' own randomness on its seed), which no
  measurement removes; EVPI computed from single runs counts that noise as if it could be learned,
  so it is an upper bound on what knowing the parameters is worth. EVPPI by regression averages the
  noise out (that is what the smooth fit is for), so it is the better guide to a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The only objective whose value is a share of everyone using the services (in people: adopters).
ADOPTION = "adoption_final"
# Below this many draws the report warns that EVPPI estimates are noisy (their Monte Carlo error is
# of the order of the smaller values).
FEW_DRAWS = 100
# Below this many draws EVPPI is not estimated: a straight line through a handful of worlds explains
# almost all of their spread whatever the parameter, so every parameter would look worth the EVPI.
MIN_DRAWS_EVPPI = 10
# Draws per degree of freedom the smooth fit may use, and the most it may use (a natural cubic spline
# with df + 1 knots): up to 1 (a straight line) below 40 draws, up to 5 from 100 on.
DRAWS_PER_DF = 20
MAX_DF = 5


def _checked(outcomes: np.ndarray) -> np.ndarray:
    values = np.asarray(outcomes, dtype=float)
    if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError(f"outcomes must be options x draws with at least one of each, got {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("outcomes must be finite (drop the draws an option is missing)")
    return values


def _gain(values: np.ndarray, maximize: bool) -> np.ndarray:
    """The outcomes turned so that more is better: the minimised case mirrors the maximised one."""
    return values if maximize else -values


# --------------------------------------------------------------------------- regret
def regret(outcomes: np.ndarray, maximize: bool = True) -> np.ndarray:
    """Regret of option i in draw j: the best option's outcome in draw j minus option i's (maximised;
    option i's minus the lowest when minimised). Zero for the best option of each draw, never negative."""
    gain = _gain(_checked(outcomes), maximize)
    return gain.max(axis=0, keepdims=True) - gain


@dataclass(frozen=True)
class RegretSummary:
    """Per option: expected regret, its 95th percentile and maximum across draws, and P(best); which
    option has the lowest expected regret and which the lowest maximum regret (minimax regret).

    The option with the lowest expected regret is always the one with the best mean outcome
    (expected regret = E[best of each draw] - E[option], and the first term is shared); minimax regret
    guards against the worst draw instead and can differ from it."""

    expected: np.ndarray
    p95: np.ndarray
    maximum: np.ndarray
    p_best: np.ndarray
    lowest_expected: int
    minimax: int
    n_draws: int


def p_best(outcomes: np.ndarray, maximize: bool = True, atol: float = 1e-12) -> np.ndarray:
    """Share of draws in which each option is best; options tied at the top share the draw, so the
    shares sum to 1."""
    top = regret(outcomes, maximize) <= atol
    return (top / top.sum(axis=0, keepdims=True)).mean(axis=1)


def summarise_regret(outcomes: np.ndarray, maximize: bool = True) -> RegretSummary:
    """Regret per option across draws (see :class:`RegretSummary`); the first option wins a tie."""
    r = regret(outcomes, maximize)
    expected, maximum = r.mean(axis=1), r.max(axis=1)
    return RegretSummary(expected=expected, p95=np.percentile(r, 95, axis=1), maximum=maximum,
                         p_best=p_best(outcomes, maximize), lowest_expected=int(np.argmin(expected)),
                         minimax=int(np.argmin(maximum)), n_draws=r.shape[1])


# --------------------------------------------------------------------------- value of information
def evpi(outcomes: np.ndarray, maximize: bool = True) -> float:
    """Expected value of perfect information: E_draws[best option's outcome] - best option's
    E_draws[outcome], in the objective's units (>= 0; 0 when one option is best in every draw).

    It equals the lowest expected regret. From single runs it also counts run-to-run noise as
    learnable, so it bounds the value of knowing the parameters from above (module docstring)."""
    gain = _gain(_checked(outcomes), maximize)
    return max(0.0, float(gain.max(axis=0).mean() - gain.mean(axis=1).max()))


def spline_df(n_draws: int) -> int:
    """The most degrees of freedom the smooth fit may use per parameter, by the number of draws: a
    straight line below ``2 * DRAWS_PER_DF`` draws, then one more per ``DRAWS_PER_DF`` draws, at most
    ``MAX_DF``; few coefficients because each fit sees only the draws (:func:`evppi` may use fewer)."""
    return int(np.clip(n_draws // DRAWS_PER_DF, 1, MAX_DF))


def natural_spline_basis(x: np.ndarray, df: int) -> np.ndarray:
    """Natural cubic spline basis of ``x`` without the constant, ``df`` columns: ``x`` itself and
    ``df - 1`` truncated-power terms (Hastie, Tibshirani & Friedman, Elements of Statistical Learning,
    eq. 5.4-5.5) with ``df + 1`` knots at equally spaced quantiles of ``x``; linear beyond the boundary
    knots, so the ends of the fit do not swing. A constant ``x`` gives no column; ``x`` is scaled to
    [0, 1] first so the cubes stay well conditioned."""
    x = np.asarray(x, dtype=float)
    span = x.max() - x.min()
    if not span > 0:
        return np.empty((len(x), 0))
    z = (x - x.min()) / span
    knots = np.unique(np.quantile(z, np.linspace(0, 1, df + 1)))
    if len(knots) < 3:
        return z[:, None]
    last, cubes = knots[-1], []

    def d(k: float) -> np.ndarray:
        return (np.clip(z - k, 0, None) ** 3 - np.clip(z - last, 0, None) ** 3) / (last - k)

    for k in knots[:-2]:
        cubes.append(d(k) - d(knots[-2]))
    return np.column_stack([z, *cubes])


@dataclass(frozen=True)
class Evppi:
    """EVPPI of one parameter or group: ``value`` clipped to [0, EVPI] (``raw`` before clipping,
    ``clipped`` whether that changed it), the degrees of freedom per parameter of the chosen fit (0:
    a constant, the parameter explained nothing) and the draws. ``value`` is NaN when the draws are
    too few for a fit."""

    value: float
    raw: float
    evpi: float
    df: int
    n_draws: int
    clipped: bool


def evppi(outcomes: np.ndarray, theta: np.ndarray, maximize: bool = True, df: int | None = None) -> Evppi:
    """Expected value of partial perfect information about one parameter (``theta``: one value per
    draw) or a group of them (``theta``: draws x parameters), by the regression method of Strong,
    Oakley & Brennan (2014, Medical Decision Making 34:311-326).

    For each option the outcome is regressed on the parameter(s) with a smooth fit, and the fitted
    values g_i(theta_j) stand for the expected outcome of option i once theta is known; then

        EVPPI = mean_j max_i g_i(theta_j) - max_i mean_j g_i(theta_j).

    The fit: a natural cubic spline per parameter (for a group, their sum: an additive fit, no
    interactions) with at most :func:`spline_df` degrees of freedom, so a straight line with few
    draws. How many (0: a constant, i.e. the parameter tells nothing; 1: a line; more: a spline) is
    chosen by the Bayesian information criterion summed over the options, as a GAM would choose its
    smoothness; without that choice a parameter that cannot matter still gets a fit that follows the
    noise, and its EVPPI the upward bias of a maximum over noisy fits (about a tenth of EVPI at 500
    draws with a fixed spline). BIC rather than cross-validation because it keeps an irrelevant
    parameter at the constant far more often; the price is that a weak real effect needs more draws
    before it counts. ``df`` fixes the degrees of
    freedom instead. Every option is fitted on the same design (a linear smoother), so regressing the
    incremental outcome against a reference option gives the same number. The fit averages out what
    the parameter does not explain (other parameters and run-to-run noise).

    Limits: with few draws (tens) the estimate is noisy and still biased upwards -- report ``n_draws``
    beside it; an additive group fit misses interactions; a parameter correlated with another in the
    posterior is credited with some of the other's value. The estimate is clipped at 0 and at EVPI
    (``clipped`` says when it had to be) and is NaN below :data:`MIN_DRAWS_EVPPI` draws.
    """
    values = _checked(outcomes)
    gain = _gain(values, maximize)
    n = values.shape[1]
    total = evpi(values, maximize)
    theta = np.asarray(theta, dtype=float)
    theta = theta[:, None] if theta.ndim == 1 else theta
    if theta.shape[0] != n:
        raise ValueError(f"theta has {theta.shape[0]} draws, outcomes {n}")
    if n < MIN_DRAWS_EVPPI:
        return Evppi(np.nan, np.nan, total, 0, n, False)

    def design(k: int) -> np.ndarray:
        return np.column_stack([np.ones(n), *(natural_spline_basis(theta[:, c], k)
                                              for c in range(theta.shape[1]) if k > 0)])

    best: tuple[float, int, np.ndarray] | None = None
    for k in ([int(df)] if df is not None else range(spline_df(n) + 1)):
        x = design(k)
        if x.shape[1] > n - 1:  # no residual left to judge the fit by
            break
        coef, *_ = np.linalg.lstsq(x, gain.T, rcond=None)
        fitted = x @ coef  # draws x options
        rss = ((gain.T - fitted) ** 2).sum(axis=0)  # per option
        bic = float(n * np.log(np.maximum(rss, 1e-300) / n).sum() + len(rss) * x.shape[1] * np.log(n))
        if best is None or bic < best[0]:
            best = (bic, k, fitted)
    if best is None:
        return Evppi(np.nan, np.nan, total, 0, n, False)
    _, chosen, fitted = best
    # a constant fit (the parameter explains nothing) is worth exactly nothing, not float round-off
    raw = float(fitted.max(axis=1).mean() - fitted.mean(axis=0).max()) if chosen > 0 else 0.0
    value = float(np.clip(raw, 0.0, total))
    clipped = abs(raw - value) > 1e-9 * max(abs(raw), total, 1e-12)  # beyond float round-off
    return Evppi(value, raw, total, chosen, n, clipped)


def in_people(value: float | np.ndarray, objective: str, population_total: float) -> float | np.ndarray:
    """A value of ``objective`` in people when it is final adoption (a share of everyone): times the
    population the agents stand for; NaN for every other objective, whose shares are of a group or
    not of people using the services."""
    return value * (population_total if objective == ADOPTION else np.nan)
