"""One timeline: a run starts at start_date (2020-01), lives through the observed years, and its policy
begins at policy.start_date (2025-01): every scenario shares the history before it, the forecast
continues that history without a jump, and the per-run summary covers the forecast.

Runs on the small profile with 1500 citizens (a 72-month run takes a fraction of a second).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, SimConfig, compose, policy_start_month
from sim.model import DigitalAdoptionModel

N_CITIZENS = 1500
QUIET = {"population.n_citizens": N_CITIZENS, "progress": False, "materialise_agents": "never"}
# Series that carry the history into the forecast: none of them may jump at the policy start.
CONTINUOUS = ("adoption", "ever_used_connected", "trust_mean", "access")
JUMP_FACTOR = 3.0  # a month's change at the policy start vs the largest of the year before it
SAMPLING_AGENTS = 3  # plus the change that three agents make to a share of everyone


def _config(policy: str = "baseline", seed: int = 1, **overrides) -> SimConfig:
    return compose(policy=policy, population="small", overrides={**QUIET, "seed": seed, **overrides})


def _run(cfg: SimConfig) -> DigitalAdoptionModel:
    return DigitalAdoptionModel(config=cfg).run()


def _first_difference(a: pd.DataFrame, b: pd.DataFrame) -> int | None:
    """The first row in which the two timeseries differ in any column (None: identical)."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    same = (a.to_numpy() == b.to_numpy()) | (a.isna().to_numpy() & b.isna().to_numpy())
    rows = np.flatnonzero(~same.all(axis=1))
    return int(rows[0]) if rows.size else None


@pytest.mark.parametrize("seed", [1, 2])
def test_a_baseline_forecast_continues_its_own_history_with_no_jump(seed):
    cfg = _config(seed=seed, steps=72)  # the defaults: start 2020-01, policy from 2025-01
    assert (cfg.start_date, cfg.policy.start_date) == ("2020-01", "2025-01")
    start = policy_start_month(cfg)
    assert start == 60
    ts = _run(cfg).timeseries()
    for key in CONTINUOUS:
        change = ts[key].diff().to_numpy()
        # The largest monthly change over the year before the policy start (into months 49 .. 59) ...
        before = np.abs(change[start - 11:start]).max()
        assert before > 0, key  # a history that moves, so the bound means something
        # ... bounds the change into the policy start month and out of it.
        bound = JUMP_FACTOR * before + SAMPLING_AGENTS / N_CITIZENS
        around = np.abs(change[start:start + 2])
        assert np.all(around <= bound), (key, around.tolist(), bound)


def test_a_policy_scenario_shares_the_baseline_history_up_to_its_start():
    base_cfg, training_cfg = _config(steps=72), _config("training", steps=72)
    start = policy_start_month(training_cfg)
    assert start == policy_start_month(base_cfg) == 60
    base, training = _run(base_cfg).timeseries(), _run(training_cfg).timeseries()
    # Rows 0 .. start (the policy start month's own row included) are identical, exactly ...
    pd.testing.assert_frame_equal(training.iloc[:start + 1], base.iloc[:start + 1], check_exact=True)
    # ... and the policy acts from the step after it.
    assert _first_difference(training, base) == start + 1
    assert training.loc[start + 1, "spend_total_idr_bn"] > 0


@pytest.mark.parametrize(("policy_start", "month"), [("2021-01", 12), ("2022-01", 24)])
def test_the_policy_start_date_moves_the_divergence(policy_start, month):
    overrides = {"steps": 36, "policy.start_date": policy_start}
    base_cfg, training_cfg = _config(**overrides), _config("training", **overrides)
    assert training_cfg.start_date == "2020-01"
    assert policy_start_month(training_cfg) == month
    base, training = _run(base_cfg).timeseries(), _run(training_cfg).timeseries()
    # Row m holds the step from month m - 1 to m: the first spending is in the row after the start.
    spending = np.flatnonzero(training["spend_total_idr_bn"].to_numpy() > 0)
    assert spending[0] == month + 1
    assert _first_difference(training, base) == month + 1
    pd.testing.assert_frame_equal(training.iloc[:month + 1], base.iloc[:month + 1], check_exact=True)


def test_the_summary_covers_the_forecast_from_the_policy_start():
    # More users at the start, so that adoption crosses 25 % inside the forecast.
    cfg = _config("training", steps=120,
                  **{"policy.start_date": "2024-01", "population.adoption_initial": 0.2})
    start = policy_start_month(cfg)
    assert start == 48
    model = _run(cfg)
    ts, summary = model.timeseries(), model.summary()
    assert summary["forecast_from_month"] == start
    assert summary["months"] == cfg.steps
    forecast = ts[ts["month"] >= start]
    assert summary["cost_idr_bn"] == pytest.approx(forecast["spend_total_idr_bn"].sum())
    assert summary["cost_idr_bn"] == pytest.approx(ts["spend_total_idr_bn"].sum())  # none before
    assert summary["cost_idr_bn"] > 0
    assert summary["adoption_initial"] == ts.loc[start, "adoption"]
    assert summary["adoption_final"] == ts["adoption"].iloc[-1]
    assert summary["trust_mean_change_in_run"] == pytest.approx(
        ts["trust_mean"].iloc[-1] - ts.loc[start, "trust_mean"])
    # Months to a level count from the forecast start (0: already there at the start).
    assert ts.loc[start, "adoption"] < 0.25 <= ts["adoption"].iloc[-1]
    reached = forecast.loc[forecast["adoption"] >= 0.25, "month"]
    assert summary["months_to_25pct"] == float(reached.iloc[0]) - start > 0


def test_a_policy_that_would_start_after_the_run_is_refused_and_a_baseline_is_summarised_whole():
    with pytest.raises(ConfigError, match=r"^policy\.start_date='2025-01': out of range") as info:
        _config("training", steps=12)
    assert "\n" not in str(info.value)
    cfg = _config(steps=12)  # the baseline spends nothing and mandates nothing: a history-only run
    assert policy_start_month(cfg) == 60
    model = _run(cfg)
    ts, summary = model.timeseries(), model.summary()
    assert summary["forecast_from_month"] == 0
    assert summary["adoption_initial"] == ts["adoption"].iloc[0]
