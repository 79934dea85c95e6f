"""Validation against known results, fast versions (the full run: ``python -m experiments.validate``).

* Bass: the mean-field reduced form follows the discrete Bass recursion; its distance from the closed
  form is the known discretisation error of monthly steps.
* Granovetter's riot: thresholds 0, 1, ..., 99 others: everyone joins; raise the second-lowest by one:
  one joins.
* Watts (2002): global cascades from one seed inside the analytic window, none far outside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.validate import AblationCase, ValidateConfig, check_config, run_validation
from experiments.validation_cases import (
    bass_runs,
    granovetter_adopters,
    granovetter_case,
    watts_cascade_sizes,
)
from experiments.validation_theory import (
    bass_closed_form,
    bass_recursion,
    cascade_condition,
    cascade_probability,
    cascade_window,
)
from sim import DigitalAdoptionModel
from sim.config import ConfigError, compose

REPO = Path(__file__).resolve().parent.parent
P, Q = 0.03, 0.38


# --------------------------------------------------------------------------- Bass
def test_bass_recursion_tends_to_the_closed_form_as_the_step_shrinks():
    t = np.arange(37)
    closed = bass_closed_form(P, Q, t)
    errors = [np.max(np.abs(bass_recursion(P / k, Q / k, 36 * k)[::k] - closed)) for k in (1, 4, 16)]
    assert errors[0] > 0.05  # monthly steps: a visible discretisation error (about 7 pp)
    assert errors[0] > 3 * errors[1] > 9 * errors[2]  # first order in the step
    assert errors[2] < 0.006


def test_bass_reduced_form_follows_the_discrete_recursion():
    n, months = 20_000, 24
    runs = bass_runs(n, P, Q, months, seeds=[1, 2, 3])
    assert runs[:, 0].max() == 0.0  # initial_adopters=0: nobody at t=0
    assert np.all(np.diff(runs, axis=1) >= 0)  # nothing lapses
    mean = runs.mean(axis=0)
    recursion = bass_recursion(P, Q, months)
    assert np.max(np.abs(mean - recursion)) < 0.015
    # Against the closed form, the error is the recursion's own discretisation error.
    closed = bass_closed_form(P, Q, np.arange(months + 1))
    discretisation = np.max(np.abs(recursion - closed))
    assert np.max(np.abs(mean - closed)) == pytest.approx(discretisation, abs=0.02)
    assert mean[-1] > 0.99


def test_bass_on_a_network_uses_the_neighbour_share():
    # q acts through neighbours: with q=0 adoption is pure innovation, 1 - (1 - p)^t, on any network.
    model = DigitalAdoptionModel(
        n_citizens=20_000, network="random", steps=12, seed=4,
        overrides={"params.adoption.rule": "bass", "params.adoption.q": 0.0,
                   "params.adoption.initial_adopters": 0, "progress": False,
                   "materialise_agents": "never"},
    ).run()
    assert model.adoption == pytest.approx(1 - (1 - P) ** 12, abs=0.015)


# --------------------------------------------------------------------------- Granovetter
def test_granovetter_riot_everyone_joins_then_one():
    rows, data = granovetter_case(100)
    assert [r["measured"] for r in rows] == [100, 1]
    assert all(r["pass"] for r in rows)
    assert data["uniform"][:4] == pytest.approx([0, 1, 2, 3])  # one more each month


def test_explicit_thresholds_as_a_distribution():
    # A list as long as the population assigns one threshold per citizen: 50 join at once, and a
    # threshold of 1 (all of the others) is then never reached.
    users, _ = granovetter_adopters([0.0] * 50 + [1.0] * 50)
    assert users == 50
    # A shorter list is an empirical distribution each citizen draws from.
    cfg = compose(overrides={"population.n_citizens": 1000, "params.adoption.rule": "threshold",
                             "params.adoption.thresholds": [0.1, 0.5]})
    model = DigitalAdoptionModel(config=cfg, materialise_agents="never")
    values, counts = np.unique(model.state.citizens.threshold, return_counts=True)
    assert values.tolist() == [0.1, 0.5]
    assert abs(counts[0] - 500) < 100


def test_threshold_list_out_of_range_is_rejected():
    with pytest.raises(ConfigError, match=r"params\.adoption\.thresholds\[1\]"):
        compose(overrides={"params.adoption.thresholds": [0.1, 1.5]})


# --------------------------------------------------------------------------- Watts
def test_watts_analytic_cascade_window():
    lo, hi = cascade_window(0.18)
    assert lo == pytest.approx(1.0, abs=0.05)  # percolation of the vulnerable cluster
    assert 5.5 < hi < 6.0  # z P(Poisson(z) <= 3) = 1
    assert cascade_condition(3.0, 0.18) > 0 > cascade_condition(8.0, 0.18)
    assert cascade_probability(0.8, 0.18) == pytest.approx(0.0, abs=1e-9)
    assert cascade_probability(8.0, 0.18) == pytest.approx(0.0, abs=1e-9)
    assert 0.8 < cascade_probability(3.0, 0.18) < 0.95


def test_watts_global_cascades_inside_the_window_only():
    inside = watts_cascade_sizes(2000, 3.0, 0.18, realisations=30, seed=7)
    outside = watts_cascade_sizes(2000, 9.0, 0.18, realisations=30, seed=7)
    assert np.mean(inside > 0.1) >= 0.6  # analytic probability 0.87
    assert np.mean(inside[inside > 0.1]) > 0.85  # a global cascade takes (almost) everyone reachable
    assert np.mean(outside > 0.1) == 0.0
    assert outside.max() < 0.01


# --------------------------------------------------------------------------- the app
def test_validate_app_runs_and_writes_report(tmp_path: Path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    args = ["cases=[granovetter,watts]", "granovetter.agents=20", "watts.n_nodes=500",
            "watts.realisations=5", "watts.degrees=[2.0,9.0]", f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.run([sys.executable, "-m", "experiments.validate", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "run"
    report = json.loads((out / "validation.json").read_text())
    assert report["checks"], "no checks written"
    for row in report["checks"]:
        assert {"case", "measured", "expected", "tolerance", "pass"} <= set(row)
    assert any(r["case"].startswith("Granovetter") and r["pass"] for r in report["checks"])
    assert "watts.png" in (out / "validation.md").read_text()
    assert str(out) in proc.stdout


def test_report_for_marginals_and_ablation(tmp_path: Path):
    cfg = ValidateConfig(cases=["indonesia", "ablation"])
    cfg.indonesia.n_citizens = 2000
    cfg.ablation = AblationCase(n_citizens=300, seeds=2, steps=2, diagnostic_without_breaches=False)
    rows, json_path, md_path = run_validation(cfg, tmp_path)
    cases = [r["case"] for r in rows]
    assert sum(c.startswith("Ablation F") for c in cases) == 6
    assert any("age 60+" in c for c in cases)
    md = md_path.read_text()
    for figure in ("indonesia_marginals.png", "ablation.png"):
        assert (tmp_path / "figures" / figure).is_file()
        assert figure in md
    assert json.loads(json_path.read_text())["summary"]["checks"] == len(rows)


@pytest.mark.parametrize(("key", "value"), [("cases", ["nonsense"]), ("n_jobs", 0)])
def test_validate_config_rejects_bad_values(key, value):
    cfg = ValidateConfig(**{key: value})
    with pytest.raises(ConfigError, match=f"^{key}="):
        check_config(cfg)
