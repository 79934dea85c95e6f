"""Calibration: targets and their checks, the app's bad input, the quick pipeline end to end, and
parameter uncertainty in the comparison (paired draws, p_best)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.calibration.app import calibration_targets
from experiments.calibration.config import (
    CalibrateConfig,
    effective,
    inferred_parameters,
    marginalised_parameters,
)
from experiments.calibration.inference import Simulator
from experiments.engine import stats
from experiments.engine.posterior import (
    SHIPPED,
    check_uncertainty,
    draw_of_world,
    posterior_path,
    seeded_configs,
    shipped_checks,
)
from experiments.engine.targets import load_targets, national_targets, use_measures
from sim.config import ConfigError, compose
from sim.model import DigitalAdoptionModel
from tests.conftest import REPO


@pytest.mark.parametrize("measure", use_measures())
def test_shipped_targets_are_dated_sourced_and_held_out_after_2023(measure):
    targets = national_targets(measure)
    assert {t.held_out for t in targets} == {True, False}
    for t in targets:
        assert t.source and t.sd > 0
        assert 0 < t.observed < (3 if t.is_growth else 1), t.name  # a growth target is a ratio
        assert t.held_out == (t.year >= 2024 and not t.is_growth), t.name
    # the anchored access level (APJII 2023) is met by construction, so it is not a target
    assert not [t for t in targets if t.metric == "access" and t.date == "2023-01"]
    # each measure fits the use of services, and only its own survey's figures
    assert [t for t in targets if t.metric == "ever_used_connected" and not t.held_out]


@pytest.mark.parametrize(("text", "fragment"), [
    ("targets: []", "no 'targets' list"),
    ("targets: [{name: a, metric: nonsense, date: '2021-10', observed: 0.3, sd: 0.1, held_out: false, "
     "source: s}]", "unknown metric"),
    ("targets: [{name: a, metric: access, date: '2021-10', observed: 0.3, sd: 0, held_out: false, "
     "source: s}]", "sd=0"),
    ("targets: [{name: a, metric: access, date: '21-10', observed: 0.3, sd: 0.1, held_out: false, "
     "source: s}]", "not a month"),
    ("targets: [{name: a, metric: access, date: '2021-10', base_date: '2022-01', observed: 1.1, sd: 0.1, "
     "held_out: false, source: s}]", "base_date='2022-01': not before"),
    ("targets: [{name: a, service: tax_filing, metric: access, date: '2021-03', observed: 0.9, sd: 0.1, "
     "held_out: false, source: s}]", "not a per-service column"),
    ("targets: [{name: a, service: nonsense, metric: online_share, date: '2021-03', observed: 0.9, sd: 0.1, "
     "held_out: false, source: s}]", "unknown service"),
])
def test_bad_targets_get_one_line(tmp_path, text, fragment):
    """Read as service targets, a file goes through every check of a national one and the service's."""
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment) as err:
        calibration_targets(CalibrateConfig(portfolio="indonesia", service_targets=str(path)))
    assert "\n" not in str(err.value)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.mark.parametrize(("args", "fragment"), [
    (["population_size=2"], "population_size=2"),
    (["start_date=2020-1"], "start_date"),
    (["targets=/nonexistent.yaml"], "cannot read"),
    (["initial={params.nothing.here: 1}"], "params.nothing.here"),
])
def test_bad_input_to_calibrate_gets_one_line_exit_2_and_nothing_written(tmp_path, args, fragment):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "experiments.calibration", *args, f"hydra.run.dir={out}"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists()


def test_quick_calibration_writes_every_output(tmp_path):
    """The whole pipeline at test size: ABC-SMC, predictive checks, identification, figures, report."""
    out = tmp_path / "cal"
    proc = subprocess.run([sys.executable, "-m", "experiments.calibration", "quick=true", "n_jobs=2",
                           f"hydra.run.dir={out}"], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    checks = json.loads((out / "calibration.json").read_text())
    targets = calibration_targets(CalibrateConfig())  # the apps' portfolio: its service targets too
    assert [t.name for t in national_targets()] == [t.name for t in targets][:len(national_targets())]
    assert [c["name"] for c in checks] == [t.name for t in targets]
    for c in checks:
        assert {"name", "year", "observed", "predicted", "low", "high", "held_out", "inside"} <= set(c)
        assert c["low"] <= c["predicted"] <= c["high"]
        assert c["inside"] == (c["low"] <= c["observed"] <= c["high"])
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert posterior["weight"].sum() == pytest.approx(1.0) and len(posterior) == 8
    ident = pd.read_csv(out / "identification.csv")
    infer = yaml.safe_load((REPO / "configs" / "experiment" / "calibrate.yaml").read_text())["infer"]
    cfg = CalibrateConfig(infer=infer)
    inferred = {d.key for d, _ in inferred_parameters(cfg)}
    marginalised = {d.key for d, _ in marginalised_parameters(cfg)}
    assert set(ident["parameter"]) == inferred and inferred.isdisjoint(marginalised)
    assert set(posterior.columns) - {"weight"} == inferred | marginalised  # every uncertain parameter
    assert (ident["sd_ratio"] > 0).all()
    for name in ("calibration.md", "calibration.html", "figures/fit.png", "figures/posterior.png"):
        assert (out / name).stat().st_size > 0, name


SERVICE_TARGETS = REPO / "configs" / "calibration" / "services.yaml"


def test_service_targets_are_fitted_only_where_the_portfolio_has_the_service():
    national = national_targets()
    services = load_targets(SERVICE_TARGETS)
    assert services and all(t.service and t.source and t.sd > 0 for t in services)
    assert calibration_targets(CalibrateConfig(portfolio="general")) == national  # no service target
    both = calibration_targets(CalibrateConfig(portfolio="indonesia"))
    assert both == national + services
    assert {t.service for t in services} <= set(compose(portfolio="indonesia").services)


def test_a_service_target_reads_its_own_service_column_of_the_run():
    """The value ABC compares is the per-service table's figure at the target's month."""
    cfg = CalibrateConfig(portfolio="indonesia", n_citizens=2_000)
    targets = [t for t in calibration_targets(cfg) if t.service]
    simulator = Simulator(cfg, [], targets)
    rows = simulator.series({}, seed=3)
    values = simulator.run({}, seed=3)
    model = DigitalAdoptionModel(config=simulator.config({}, 3))
    model.run(progress=False)
    table = model.service_table()
    for t in targets:
        month = t.month(cfg.start_date)
        own = table[(table["service"] == t.service) & (table["month"] == month)][t.metric]
        assert values[t.name] == pytest.approx(float(own.iloc[0])), t.name
        assert 0 <= values[t.name] <= 1 and len(rows) == simulator.months + 1


def test_each_portfolio_has_its_own_shipped_posterior_and_a_missing_one_is_one_line():
    assert posterior_path(None) == SHIPPED and shipped_checks().name == "calibration.json"
    assert posterior_path(None, "indonesia").name == "posterior_indonesia.parquet"
    assert posterior_path(None, "indonesia").parent == SHIPPED.parent
    assert posterior_path("mine.parquet", "indonesia").name == "mine.parquet"  # a named file wins
    with pytest.raises(ConfigError, match="posterior_nowhere.parquet: no posterior there") as err:
        check_uncertainty("posterior", None, "nowhere")
    assert "\n" not in str(err.value)


def test_posterior_draws_are_paired_across_scenarios(tmp_path):
    posterior = pd.DataFrame({"params.adoption.intercept": np.linspace(-6, -3, 50),
                              "params.trust.susceptibility": np.linspace(0.1, 0.5, 50)})
    path = tmp_path / "posterior.parquet"
    posterior.to_parquet(path)
    seeds = [0, 1, 2, 3]
    a = seeded_configs(compose(policy="baseline"), seeds, "posterior", str(path))
    b = seeded_configs(compose(policy="training"), seeds, "posterior", str(path))
    for ca, cb, seed in zip(a, b, seeds, strict=True):
        assert ca.seed == cb.seed == seed
        assert ca.params.adoption.intercept == cb.params.adoption.intercept
        assert ca.params.adoption.intercept == draw_of_world(posterior, seed)["params.adoption.intercept"]
    assert len({c.params.adoption.intercept for c in a}) > 1
    with pytest.raises(ConfigError, match="no posterior"):
        seeded_configs(compose(), seeds, "posterior", str(tmp_path / "missing.parquet"))


def test_p_best_shares_sum_to_one_and_split_ties():
    runs = pd.DataFrame({"seed": [0, 0, 0, 1, 1, 1, 2, 2, 2],
                         "scenario": ["a", "b", "c"] * 3,
                         "adoption_final": [0.5, 0.6, 0.6, 0.7, 0.6, 0.5, 0.4, 0.9, 0.1]})
    shares = stats.p_best(runs, ["a", "b", "c"])
    assert shares.sum() == pytest.approx(1.0)
    assert shares.to_dict() == pytest.approx({"a": 1 / 3, "b": 0.5, "c": 1 / 6})


def _quick_rejection(**changes):
    cfg = effective(CalibrateConfig(quick=True))
    for key, value in changes.items():
        setattr(cfg, key, value)
    fitted = [t for t in national_targets() if not t.held_out]
    return cfg, fitted


def test_rejection_gives_the_same_posterior_for_the_same_seed_on_any_number_of_workers():
    from experiments.calibration.inference import run_rejection

    # about 6% of prior draws fit within the quick tolerance (8.0): room for 4 kept draws
    budget = 100
    cfg, fitted = _quick_rejection(population_size=4, max_simulations=budget)
    one, record = run_rejection(cfg, fitted, n_jobs=1, progress=False)
    two, _ = run_rejection(cfg, fitted, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    other, _ = run_rejection(*_quick_rejection(population_size=4, max_simulations=budget, seed=1), n_jobs=1,
                             progress=False)
    assert not one.equals(other)
    assert len(one) == 4 and record["generations"][0]["simulations"] <= budget


def test_rejection_stops_at_max_simulations_and_says_so_when_nothing_fits():
    from experiments.calibration.inference import run_rejection
    from experiments.engine.runner import RunnerError

    cfg, fitted = _quick_rejection(population_size=4, max_simulations=6)
    impossible = [replace(t, observed=t.observed + 50 * t.sd) for t in fitted]
    with pytest.raises(RunnerError, match=r"kept no parameter set in 6 simulations.*max_simulations"):
        run_rejection(cfg, impossible, n_jobs=1, progress=False)


def test_a_rejection_run_continued_gives_the_posterior_of_one_longer_run(tmp_path):
    """continue_from: the streams are advanced past the earlier run's simulations without running
    them, so 20 simulations then 20 more keep exactly the draws of one run of 40; a run with other
    settings cannot be continued (one line naming what differs)."""
    from experiments.calibration.inference import REJECTION_STATE, run_rejection

    cfg = effective(CalibrateConfig(quick=True, portfolio="general"))
    cfg.n_citizens, cfg.population_size, cfg.tolerance, cfg.max_walltime_minutes = 300, 4, 7.0, 10
    fitted = [t for t in calibration_targets(cfg) if not t.held_out]
    whole, _ = run_rejection(replace(cfg, max_simulations=40), fitted, 1, progress=False)
    first, record = run_rejection(replace(cfg, max_simulations=20), fitted, 2, progress=False)
    first.to_parquet(tmp_path / "posterior.parquet", index=False)
    (tmp_path / REJECTION_STATE).write_text(json.dumps(record["state"]))
    more, more_record = run_rejection(replace(cfg, max_simulations=40, continue_from=str(tmp_path)),
                                      fitted, 1, progress=False)
    assert len(first) < len(whole)  # the second half found draws of its own
    pd.testing.assert_frame_equal(more[whole.columns], whole)
    assert more_record["generations"][0]["simulations"] == 40
    with pytest.raises(ConfigError, match=r"continue_from=.*its tolerance differs") as err:
        run_rejection(replace(cfg, tolerance=6.0, max_simulations=40, continue_from=str(tmp_path)), fitted,
                      1, progress=False)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="not above the 20 simulations"):
        run_rejection(replace(cfg, max_simulations=20, continue_from=str(tmp_path)), fitted, 1,
                      progress=False)
