"""Calendar time and the observed trends of internet access and digital literacy (the baseline).

Access and literacy in Indonesia rise every year without any programme of this model (APJII, BPS,
Kominfo-KIC, IMDI). Leaving them frozen would credit a lever with what would have happened anyway,
so both follow the observed national trend, and a lever's effect is what it adds on top.

The rule (stated once here, and in ``docs/ODD.md`` 7.10): each citizen's log-odds of access and of
literacy move by a constant slope per year, the same for everyone, so the gaps between groups stay
what the profile says on the log-odds scale while levels rise (and rise most where they are lowest
in percentage points). The slopes are least-squares fits on the logit scale to the published series
up to 2023; the 2024 and 2025 figures are kept out and serve as an out-of-sample test of the rule
(``experiments.calibration``).

- Access: a citizen without access gets it this month with the hazard that moves their own access
  probability along the trend: h = (p(t+1) - p(t)) / (1 - p(t)), p(t) = expit(L + slope * t / 12),
  where L is the log-odds of the citizen's access probability at month 0. Nobody loses access.
- Literacy: logit(literacy) += slope / 12 each month, for everybody (courses add to it).

Profile marginals were measured at a known date (``population.access_date``, ``literacy_date``);
at ``start_date`` they are moved along the same trends, so month 0 is the named month.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from sim.parameters import Block, ConfigError, par
from sim.population import PopulationConfig
from sim.state import State

DATE = re.compile(r"(\d{4})-(\d{2})")
EARLIEST_YEAR, LATEST_YEAR = 2010, 2050


@dataclass
class TrendParams(Block):
    """Yearly slopes of the baseline trends on the log-odds scale (fits to data up to 2023)."""

    access_logit_per_year: float = par(
        0.082, "log-odds / year", "yearly rise of every citizen's log-odds of internet access",
        "APJII national penetration 2019-20, 2022, 2023 (73.7, 77.02, 78.19%): least squares on the "
        "logit scale; BPS Susenas 2020-2023 rises faster (0.21 / year, persons 5+ in the last 3 months)",
        low=0, prior=(0.04, 0.21))
    literacy_logit_per_year: float = par(
        0.043, "log-odds / year", "yearly rise of every citizen's log-odds of digital literacy",
        "Kominfo-KIC Indeks Literasi Digital 2020-2022 (3.46, 3.49, 3.54 on 1-5, rescaled to [0, 1]): "
        "least squares on the logit scale; IMDI 2022 -> 2023 (37.8 -> 43.2) is a change of method",
        low=0, prior=(0.0, 0.1))


def decimal_year(date: str, key: str = "start_date") -> float:
    """``YYYY-MM`` as a decimal year (2025-01 -> 2025.0); one-line ConfigError otherwise."""
    match = DATE.fullmatch(str(date))
    if not match or not 1 <= int(match.group(2)) <= 12 or not (
            EARLIEST_YEAR <= int(match.group(1)) <= LATEST_YEAR):
        raise ConfigError(f"{key}={date!r}: not a month; allowed: YYYY-MM between "
                          f"{EARLIEST_YEAR}-01 and {LATEST_YEAR}-12")
    return int(match.group(1)) + (int(match.group(2)) - 1) / 12


def add_months(date: str, months: int) -> str:
    """``YYYY-MM`` ``months`` after ``date`` (2020-01 + 60 -> 2025-01)."""
    index = round(decimal_year(date) * 12) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def years_between(earlier: str, later: str) -> float:
    return decimal_year(later) - decimal_year(earlier)


def start_shift(pop: PopulationConfig, trends: TrendParams, start_date: str) -> tuple[float, float]:
    """Log-odds shifts of access and literacy from the dates the profile's figures describe to
    ``start_date`` along the trends, plus the profile's access anchor (:func:`access_anchor_shift`)
    and its common access shift. The trends are observed history, not a lever: they apply whichever
    mechanisms are switched off."""
    access = pop.access_log_odds_shift + access_anchor_shift(pop)
    access += trends.access_logit_per_year * years_between(pop.access_date, start_date)
    literacy = trends.literacy_logit_per_year * years_between(pop.literacy_date, start_date)
    return access, literacy


def access_anchor_shift(pop: PopulationConfig) -> float:
    """The log-odds shift that moves the access marginals' national level (island-group figures
    weighted by population) to ``population.access_level``; 0 without an anchor."""
    if pop.access_level is None:
        return 0.0
    national = float(np.dot(pop.region_shares, pop.access_by_region))
    return float(logit(pop.access_level) - logit(national))


def shift_probability(p: np.ndarray, slope_per_year: float, years: float) -> np.ndarray:
    """Move probabilities along a log-odds trend by ``years`` (negative: back in time)."""
    clipped = np.clip(p, 1e-9, 1 - 1e-9)
    return expit(logit(clipped) + slope_per_year * years)


def access_hazard(access_log_odds: np.ndarray, slope_per_year: float, month: int) -> np.ndarray:
    """Chance that a citizen without access gets it during ``month`` (keeps p(t) on its trend).

    With p(t) = expit(L + slope t / 12), h = (p(t+1) - p(t)) / (1 - p(t)) simplifies to
    (1 - r) / (1 + r exp(-(L + slope t / 12))) with r = exp(-slope / 12): one exponential per
    citizen instead of two logistic functions and a division by a difference (the same value up to
    float rounding, and no cancellation where p(t) is close to 1).
    """
    r = math.exp(-slope_per_year / 12)
    return (1.0 - r) / (1.0 + r * np.exp(-(access_log_odds + slope_per_year * month / 12)))


def shift_log_odds(p: np.ndarray, shift: float) -> np.ndarray:
    """expit(logit(p) + shift) for probabilities p, as p k / (1 + p (k - 1)) with k = exp(shift).

    The same value up to float rounding, without a logarithm and an exponential per element: the
    literacy trend moves everyone's literacy every month, so this runs over the whole population.
    ``p`` is clipped to [1e-9, 1 - 1e-9] first, as the log-odds form needs.
    """
    k = math.exp(shift)
    x = np.clip(p, 1e-9, 1 - 1e-9)
    denominator = x * (k - 1.0)
    denominator += 1.0
    x *= k
    return np.divide(x, denominator, out=x)


def follow_trends(state: State, params: TrendParams, month: int, rng: np.random.Generator) -> int:
    """One month of the baseline trends; returns the number of citizens newly connected. The trends
    run whichever mechanisms are switched off: switching infrastructure (F4) off removes what the
    lever adds, not the observed rise of access."""
    c = state.citizens
    connected = 0
    # One draw per citizen whatever happened to others, so that two scenarios run on the same seed
    # connect the same people by the trend (common random numbers for paired comparisons).
    uniform = rng.random(c.n, dtype=np.float32)
    if params.access_logit_per_year > 0:
        without = np.flatnonzero(~c.access)
        if without.size:
            hazard = access_hazard(c.access_log_odds[without], params.access_logit_per_year, month)
            new = without[uniform[without] < hazard]
            c.access[new] = True
            connected = int(new.size)
    if params.literacy_logit_per_year > 0:
        c.literacy = shift_log_odds(c.literacy, params.literacy_logit_per_year / 12)
    return connected
