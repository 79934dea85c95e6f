"""App fragmentation and consolidation: a project that is paid once, takes effect after a delay, and
makes the services easier in proportion to the apps it removes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.consolidation import app_factor
from sim.rules.platform import PlatformParams


def test_the_initial_fragmentation_is_the_reference():
    params = PlatformParams(separate_apps_initial=4.0, app_effort=0.1)
    assert app_factor(params, 4.0) == 1.0
    assert app_factor(params, 1.0) == pytest.approx(1.3)
    factors = [app_factor(params, a) for a in (4.0, 3.0, 2.0, 1.0)]
    assert np.all(np.diff(factors) > 0)  # every app removed helps
    assert app_factor(PlatformParams(separate_apps_initial=4.0, app_effort=0.0), 1.0) == 1.0


def test_the_baseline_keeps_its_apps(simulate):
    run = simulate("baseline", 1, steps=36)
    ts = run.timeseries
    assert (ts["separate_apps"] == run.cfg.params.platform.separate_apps_initial).all()
    assert (ts["spend_consolidation_idr_bn"] == 0).all()


def test_consolidation_is_paid_once_and_takes_effect_after_the_delay(simulate):
    delay = 6
    run = simulate("consolidation", 1, steps=36,
                   overrides={"params.platform.consolidation_delay_months": delay})
    ts, cfg = run.timeseries, run.cfg
    cost = cfg.params.costs.consolidation_project_bn
    spent = ts["spend_consolidation_idr_bn"]
    assert spent.sum() == pytest.approx(cost)  # paid once, never more
    paid = spent.cumsum()
    done = int(np.flatnonzero(paid.to_numpy() >= cost - 1e-9)[0])  # row whose month completed it
    apps = ts["separate_apps"].to_numpy()
    assert apps[done + delay] == pytest.approx(1.0)
    assert apps[done + delay - 1] > 1.0
    assert np.all(np.diff(apps) <= 1e-12)  # apps are only ever removed
    assert (spent.iloc[done + 1:] == 0).all()


def test_fewer_apps_raise_uptake_and_no_effort_no_effect(simulate):
    base = simulate("baseline", 1, steps=48)
    cons = simulate("consolidation", 1, steps=48)
    assert cons.final["adoption"] > base.final["adoption"]
    off = {"params.platform.app_effort": 0.0}
    base0 = simulate("baseline", 1, steps=48, overrides=off)
    cons0 = simulate("consolidation", 1, steps=48, overrides=off)
    assert np.array_equal(base0.timeseries["adoption"], cons0.timeseries["adoption"])
