"""Calendar time and the baseline trends of access and literacy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import expit, logit

from sim import DigitalAdoptionModel
from sim.config import ConfigError, compose
from sim.population import PopulationConfig
from sim.rules.trends import (
    access_anchor_shift,
    access_hazard,
    decimal_year,
    start_shift,
    years_between,
)
from sim.state import NON_USER

BIG = {"progress": False, "population.n_citizens": 20_000}


def _run(steps: int = 36, seed: int = 3, policy: str = "baseline", **overrides) -> DigitalAdoptionModel:
    # policy.start_date=None: a lever acts from month 0 of these short runs.
    model = DigitalAdoptionModel(population="small", policy=policy, seed=seed, steps=steps,
                                 overrides={**BIG, "policy.start_date": None, **overrides})
    return model.run(progress=False)


def _month0(**overrides) -> DigitalAdoptionModel:
    """Month 0 (nothing stepped) of a 20,000-citizen model."""
    return DigitalAdoptionModel(config=compose(population="small", overrides={**BIG, **overrides}))


def test_months_are_calendar_months():
    model = _run(steps=13)
    ts = model.timeseries()
    # Month 0 is start_date, 2020-01 by default: the run lives through the observed years first.
    assert model.cfg.start_date == "2020-01"
    assert ts["year"].iloc[0] == pytest.approx(2020.0) and ts["year"].iloc[12] == pytest.approx(2021.0)
    assert decimal_year("2021-10") == pytest.approx(2021.75)
    with pytest.raises(ConfigError, match="start_date"):
        compose(overrides={"start_date": "2025-13"})


def test_the_hazard_keeps_each_citizen_on_the_log_odds_trend():
    """Closed form: with hazards h(t), P(access by month T) = expit(L + slope T / 12)."""
    log_odds, slope = np.array([-2.0, 0.0, 1.5]), 0.3
    p = expit(log_odds)
    for month in range(24):
        p = p + (1 - p) * access_hazard(log_odds, slope, month)
    np.testing.assert_allclose(p, expit(log_odds + slope * 2), rtol=1e-12)


def test_baseline_access_and_literacy_follow_the_trend():
    model = _run(steps=36)
    ts = model.timeseries()
    slope = model.cfg.params.trends.access_logit_per_year
    # Each citizen's own probability moves along the trend: the mean of the trend probabilities.
    expected = float(np.mean(expit(model.state.citizens.access_log_odds + slope * 3)))
    assert ts["access"].iloc[-1] == pytest.approx(expected, abs=0.01)
    assert ts["access"].iloc[-1] > ts["access"].iloc[0] + 0.02
    assert ts["literacy_mean"].iloc[-1] > ts["literacy_mean"].iloc[0]
    frozen = _run(steps=36, **{"params.trends.access_logit_per_year": 0.0,
                               "params.trends.literacy_logit_per_year": 0.0}).timeseries()
    assert frozen["access"].iloc[-1] == frozen["access"].iloc[0]
    assert frozen["literacy_mean"].iloc[-1] == pytest.approx(frozen["literacy_mean"].iloc[0])


def test_a_lever_adds_to_the_trend_and_the_trend_connects_the_same_people():
    base, infra = _run(), _run(policy="infrastructure")
    b, i = base.state.citizens, infra.state.citizens
    assert i.access.mean() > b.access.mean()
    # Common random numbers: whoever the trend connected without the lever is connected with it.
    assert not np.any(b.access & ~i.access)


def _shift(cfg) -> tuple[float, float]:
    return start_shift(cfg.population, cfg.params.trends, cfg.start_date)


def test_the_start_date_moves_the_profile_along_the_trend():
    early = _month0(start_date="2020-01")
    late = _month0(start_date="2025-01")
    slope = early.cfg.params.trends.access_logit_per_year
    assert _shift(late.cfg)[0] - _shift(early.cfg)[0] == pytest.approx(slope * 5)
    # Same seed, same citizens: every citizen's log-odds of access differ by exactly five years of trend.
    np.testing.assert_allclose(
        late.state.citizens.access_log_odds - early.state.citizens.access_log_odds, slope * 5, atol=1e-9)
    a0, a1 = early.timeseries(), late.timeseries()
    assert a0["access"].iloc[0] < a1["access"].iloc[0] - 0.03
    # The drawn access is each citizen's own probability (mean of expit of the log-odds).
    for model, ts in ((early, a0), (late, a1)):
        expected = float(np.mean(expit(model.state.citizens.access_log_odds)))
        assert ts["access"].iloc[0] == pytest.approx(expected, abs=0.01)


def test_the_profile_describes_the_access_level_at_the_access_date():
    """The access marginals are moved by one log-odds constant to population.access_level at
    population.access_date (APJII 2023); from there the trend moves them to start_date."""
    pop = PopulationConfig()
    assert (pop.access_date, pop.access_level) == ("2023-01", pytest.approx(0.7819))
    national = float(np.dot(pop.region_shares, pop.access_by_region))
    assert access_anchor_shift(pop) == pytest.approx(logit(pop.access_level) - logit(national))
    assert access_anchor_shift(dataclasses.replace(pop, access_level=None)) == 0.0
    default = compose(population="small")
    slope = default.params.trends.access_logit_per_year
    years = years_between(default.population.access_date, default.start_date)
    assert years == pytest.approx(-3.0)  # 2023-01 back to 2020-01
    assert _shift(default)[0] == pytest.approx(access_anchor_shift(default.population) + slope * years)
    # The trend is history, not a lever: switching the infrastructure mechanism off leaves it alone.
    no_lever = compose(population="small", overrides={"mechanisms.infrastructure": False})
    assert _shift(no_lever)[0] == pytest.approx(_shift(default)[0])
    # Starting at the access date, national access at month 0 is the anchored level (20,000 citizens:
    # sampling sd 0.003; the mean of the citizens' probabilities differs from the level moved on the
    # log-odds scale by a few tenths of a point).
    at = _month0(start_date=pop.access_date)
    assert _shift(at.cfg)[0] == pytest.approx(access_anchor_shift(at.cfg.population))
    assert at.timeseries()["access"].iloc[0] == pytest.approx(pop.access_level, abs=0.01)
    # ... and the default start, three years earlier, lies three years of trend below it.
    back = _month0()
    expected = float(np.mean(expit(at.state.citizens.access_log_odds + slope * years)))
    assert back.timeseries()["access"].iloc[0] == pytest.approx(expected, abs=0.01)
    assert back.timeseries()["access"].iloc[0] < pop.access_level - 0.02


def test_adoption_starts_at_the_measured_share_of_the_connected():
    model = DigitalAdoptionModel(population="small", seed=1, overrides=BIG)
    ts, pop = model.timeseries(), model.cfg.population
    # population.adoption_initial describes month 0, start_date (2020-01), as a share of the
    # connected: users are drawn among those with access only.
    assert ts["ever_used_connected"].iloc[0] == pytest.approx(pop.adoption_initial, abs=0.005)
    assert ts["adoption"].iloc[0] == pytest.approx(pop.adoption_initial * ts["access"].iloc[0], abs=0.005)
    c = model.state.citizens
    assert not np.any((c.state != NON_USER) & ~c.access)
