"""Calendar time and the baseline trends of access and literacy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from sim import DigitalAdoptionModel
from sim.config import ConfigError, compose
from sim.rules.trends import access_hazard, decimal_year, start_shift


def _run(steps: int = 36, seed: int = 3, policy: str = "baseline", **overrides) -> DigitalAdoptionModel:
    model = DigitalAdoptionModel(population="small", policy=policy, seed=seed, steps=steps,
                                 overrides={"progress": False, "population.n_citizens": 20_000, **overrides})
    return model.run(progress=False)


def test_months_are_calendar_months():
    ts = _run(steps=13).timeseries()
    assert ts["year"].iloc[0] == pytest.approx(2025.0) and ts["year"].iloc[12] == pytest.approx(2026.0)
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


def test_the_start_date_moves_the_profile_along_the_trend():
    early = compose(overrides={"start_date": "2020-01"})
    late = compose(overrides={"start_date": "2025-01"})
    slope = early.params.trends.access_logit_per_year
    def shift(cfg):
        return start_shift(cfg.population, cfg.params.trends, cfg.start_date, cfg.mechanisms.infrastructure)

    assert shift(late)[0] - shift(early)[0] == pytest.approx(slope * 5)
    a0 = DigitalAdoptionModel(config=compose(population="small", overrides={
        "start_date": "2020-01", "progress": False, "population.n_citizens": 20_000})).timeseries()
    a1 = DigitalAdoptionModel(config=compose(population="small", overrides={
        "start_date": "2025-01", "progress": False, "population.n_citizens": 20_000})).timeseries()
    assert a0["access"].iloc[0] < a1["access"].iloc[0] - 0.03
    assert logit(a1["access"].iloc[0]) - logit(a0["access"].iloc[0]) == pytest.approx(slope * 5, abs=0.1)


def test_adoption_starts_at_the_measured_share_of_the_connected():
    ts = DigitalAdoptionModel(population="small", seed=1, overrides={
        "progress": False, "population.n_citizens": 20_000}).timeseries()
    assert ts["ever_used_connected"].iloc[0] == pytest.approx(0.36, abs=0.005)
