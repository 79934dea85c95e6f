"""Validation: known results in fast versions, the scoring's ability to fail, and the app end to end.

The full run is ``python -m experiments.validation`` (docs/validation.md).

* Bass: the mean-field reduced form follows the discrete Bass recursion; its distance from the closed
  form is the known discretisation error of monthly steps.
* Granovetter's riot and Watts' (2002) cascade window.
* Limits of the full UTAUT rule: constant hazard and mean-field social influence.
* Scoring: a wrong-sign effect fails, an interval containing zero fails, identities are not counted.
* Indonesia: the rows the population is built to meet are reported (input consistency), not scored.
* Observed: the calibration's held-out and growth targets scored against their 90% posterior
  predictive interval, read from a ``calibration.json`` written here (not the shipped one).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.engine.targets import national_targets
from experiments.validation.app import (
    AblationCase,
    IndonesiaCase,
    InteractionsCase,
    ObservedCase,
    PatternsCase,
    ValidateConfig,
    check_config,
    run_validation,
)
from experiments.validation.cases.ablation import ABLATIONS, Ablation, ablation_case
from experiments.validation.cases.bass import bass_runs
from experiments.validation.cases.granovetter import granovetter_adopters, granovetter_case
from experiments.validation.cases.indonesia import indonesia_case
from experiments.validation.cases.limits import limits_case
from experiments.validation.cases.observed import observed_case
from experiments.validation.cases.watts import watts_cascade_sizes
from experiments.validation.runner import RunSpec, run_summaries
from experiments.validation.scoring import (
    identity,
    inside_interval,
    paired_effect,
    reported,
    signed_effect_check,
    tally,
    within,
)
from experiments.validation.theory import (
    bass_closed_form,
    bass_recursion,
    cascade_condition,
    cascade_probability,
    cascade_window,
    constant_hazard_curve,
    mean_field_logit_recursion,
)
from sim import DigitalAdoptionModel
from sim.config import ConfigError, Mechanisms, compose
from tests.conftest import REPO

P, Q = 0.03, 0.38


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


# --------------------------------------------------------------------------- scoring
def test_within_passes_and_fails_on_the_tolerance():
    assert within("c", "x", 1.0, 1.05, 0.1)["passed"]
    miss = within("c", "x", 1.0, 1.2, 0.1, "because")
    assert not miss["passed"] and miss["scored"]
    assert "> tolerance" in miss["reason"] and miss["reason"].endswith("because")
    assert not within("c", "x", math.nan, 0.0, 1.0)["passed"]  # nothing measured: a failure


def test_a_wrong_sign_effect_fails_even_when_clear():
    effect = paired_effect([-0.10, -0.11, -0.09, -0.10])
    assert effect.excludes_zero()
    row = signed_effect_check("ablation", "F4", effect, +1)
    assert row["passed"] is False
    assert "wrong sign" in row["reason"]
    assert signed_effect_check("ablation", "F4", effect, -1)["passed"] is True


def test_an_interval_containing_zero_fails():
    effect = paired_effect([0.02, -0.01, 0.03, -0.02])
    assert effect.mean > 0 and effect.low < 0 < effect.high
    row = signed_effect_check("ablation", "F6", effect, +1)
    assert row["passed"] is False
    assert "contains 0" in row["reason"]


def test_no_effect_at_all_fails():
    row = signed_effect_check("ablation", "F5", paired_effect([0.0, 0.0, 0.0]), +1)
    assert row["passed"] is False and "no effect" in row["reason"]


def test_paired_interval_is_the_t_interval():
    d = np.array([0.010, 0.012, 0.008, 0.011, 0.009])
    effect = paired_effect(d)
    half = 2.776445 * d.std(ddof=1) / math.sqrt(5)  # t(0.975, 4 df)
    assert effect.low == pytest.approx(d.mean() - half, rel=1e-5)
    assert effect.high == pytest.approx(d.mean() + half, rel=1e-5)
    assert effect.t == pytest.approx(d.mean() / (d.std(ddof=1) / math.sqrt(5)))
    with pytest.raises(ValueError):
        paired_effect([0.1])


def test_identities_and_reported_rows_are_not_counted():
    rows = [within("c", "a", 1, 1, 0), within("c", "b", 1, 2, 0),
            reported("c", "edge", 0.1, 0.0, 0.05, "finite size")]
    assert tally(rows) == {"scored": 2, "passed": 1, "failed": 1, "reported": 1}
    ident = identity("c", "share", 0.561, 0.561, "an input")
    assert "passed" not in ident and "scored" not in ident
    built = reported("c", "raked", 0.79, 0.795, 0.02, "built to meet it", kind="consistency")
    assert tally([built]) == {"scored": 0, "passed": 0, "failed": 0, "reported": 1}
    with pytest.raises(ValueError):
        reported("c", "x", 0, 0, None, "why", kind="nonsense")


def test_inside_interval_passes_only_inside():
    row = inside_interval("c", "x", 0.80, 0.795, 0.78, 0.82)
    assert row["passed"] and row["scored"] and row["interval"] == [0.78, 0.82]
    assert row["measured"] == 0.80 and row["expected"] == 0.795
    below = inside_interval("c", "x", 0.80, 0.70, 0.78, 0.82, "why")
    assert not below["passed"] and "below" in below["reason"] and below["reason"].endswith("why")
    assert not inside_interval("c", "x", 0.80, math.nan, 0.78, 0.82)["passed"]


def test_the_ablation_table_names_one_outcome_and_a_sign_per_mechanism():
    names = [a.mechanism for a in ABLATIONS]
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(Mechanisms))
    assert len(set(names)) == len(names)
    for a in ABLATIONS:
        assert a.sign in (1, -1) and a.outcome and a.scenario


def test_ablation_scores_the_sign_named_in_advance():
    # Ease of use clearly raises adoption; a table row that expected the opposite must fail, the
    # right one must pass, on the same runs.
    ease = dict(factor="F3", mechanism="ease_of_use", title="ease", scenario="baseline",
                outcome="adoption_final", why="test")
    rows = (Ablation(sign=+1, **ease), Ablation(sign=-1, **ease))
    result = ablation_case(2000, [1, 2, 3], 24, ablations=rows, progress=False)
    right, wrong = result.checks
    assert right["passed"] and right["interval"][0] > 0
    assert not wrong["passed"] and "wrong sign" in wrong["reason"]
    assert right["measured"] == wrong["measured"]  # the same paired effect, judged against its sign


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
    result = granovetter_case(100)
    assert [r["measured"] for r in result.checks] == [100, 1]
    assert all(r["passed"] for r in result.checks)
    assert result.data["uniform"][:4] == pytest.approx([0, 1, 2, 3])  # one more each month


def test_explicit_thresholds_as_a_distribution():
    users, _ = granovetter_adopters([0.0] * 50 + [1.0] * 50)
    assert users == 50
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
    assert np.mean(inside[inside > 0.1]) > 0.85
    assert np.mean(outside > 0.1) == 0.0
    assert outside.max() < 0.01


# --------------------------------------------------------------------------- limits of the full rule
def test_limit_closed_forms_agree_without_the_social_term():
    a = mean_field_logit_recursion(0.05, -1.5, 0.0, 30)
    assert a == pytest.approx(constant_hazard_curve(0.05, 1 / (1 + math.exp(1.5)), 30))
    with_social = mean_field_logit_recursion(0.05, -1.5, 2.0, 30, n=1000)
    assert np.all(with_social[1:] > a[1:])  # the social term only adds


def test_full_rule_meets_its_closed_forms_in_the_limits():
    # At the declared defaults, whose hazard and social weight this small version has the power for
    # (the calibrated draw's monthly hazard, about 0.01, and its smaller social weight move a
    # 12-month curve too little for the checks below to tell the limits apart).
    result = limits_case(4000, [1, 2], 12, tolerance=0.005, parameters="declared")
    assert len(result.checks) == 3
    for row in result.checks:
        assert row["passed"], row["reason"]
    hazard = result.data["constant_hazard"]["hazard"]
    assert 0.01 < hazard < 0.5  # expit(intercept + w_ease x usability_initial)
    # The social limit is not the constant-hazard curve: the check can tell them apart.
    mf = result.data["mean_field"]
    assert np.max(np.abs(mf["expected"] - mf["without_social"])) > 0.05


# --------------------------------------------------------------------------- runner
def test_run_summaries_runs_each_distinct_spec_once_in_order():
    a = RunSpec.make(300, 1, 2)
    b = RunSpec.make(300, 2, 2, overrides={"mechanisms.training": False}, series=("adoption",))
    cache: dict = {}
    first = run_summaries([a, b, a], cache=cache, progress=False)
    assert len(cache) == 2
    assert first[0] is first[2]
    assert len(first[1]["series:adoption"]) == 3
    again = run_summaries([b], cache=cache, progress=False)
    assert again[0] is first[1]  # taken from the cache, not rerun
    parallel = run_summaries([a, b], n_jobs=2, progress=False)
    assert parallel[0]["adoption_final"] == first[0]["adoption_final"]  # same seed, same result
    assert b.hydra_overrides()[-1] == "mechanisms.training=False"


# --------------------------------------------------------------------------- Indonesia, observed
def test_indonesia_rows_are_input_consistency_not_scored():
    result = indonesia_case(2000, 1, 2.0)
    rows = result.checks
    assert not any(r["scored"] for r in rows) and all(r["passed"] is None for r in rows)
    assert tally(rows) == {"scored": 0, "passed": 0, "failed": 0, "reported": len(rows)}
    kinds = {r["name"]: r["kind"] for r in rows}
    ages = [n for n, k in kinds.items() if k == "unattainable"]
    assert len(ages) == 4 and all("age" in n for n in ages)
    consistency = [n for n, k in kinds.items() if k == "consistency"]
    assert len(consistency) == 10  # national, six island groups, urban, rural, trust
    assert any("trust" in n for n in consistency)
    assert all("built to meet" in r["reason"] for r in rows if r["kind"] == "consistency")
    assert all("cannot be met by construction" in r["reason"] for r in rows if r["kind"] == "unattainable")


def _calibration_file(path: Path, outside: str | None = None, drop: str | None = None,
                      commit: str | None = None) -> dict[str, dict]:
    """A calibration.json for every target of the shipped targets file, with made-up numbers: the
    observation at the centre of [observed - 0.05, observed + 0.05], or above it for ``outside``."""
    entries = {}
    for i, t in enumerate(national_targets()):
        if t.name == drop:
            continue
        predicted = t.observed + 0.001 * (i + 1)
        low, high = (t.observed + 0.01, t.observed + 0.05) if t.name == outside else (
            t.observed - 0.05, t.observed + 0.05)
        entries[t.name] = {
            "name": t.name, "date": t.date, "metric": t.metric, "observed": t.observed,
            "predicted": predicted, "model_mean": predicted, "low": low, "high": high, "sd": t.sd,
            "held_out": t.held_out, "inside": bool(low <= t.observed <= high), "source": t.source}
    payload = {"commit": commit, "checks": list(entries.values())} if commit else list(entries.values())
    path.write_text(json.dumps(payload))
    return entries


def test_observed_case_scores_held_out_and_growth_targets_from_the_file(tmp_path: Path):
    targets = national_targets()
    held = [t for t in targets if t.held_out]
    growth = [t for t in targets if t.is_growth]
    assert held and growth
    cal = tmp_path / "calibration.json"
    entries = _calibration_file(cal, commit="abc1234")
    result = observed_case(cal)
    rows = result.checks
    assert len(rows) == len({t.name for t in held + growth})
    assert all(r["scored"] and r["passed"] for r in rows)
    for t, r in zip([t for t in targets if t.held_out or t.is_growth], rows, strict=True):
        e = entries[t.name]
        assert t.name in r["name"]
        assert (r["measured"], r["expected"], r["interval"]) == (e["predicted"], e["observed"],
                                                                 [e["low"], e["high"]])
        assert str(cal) in r["reason"] and "abc1234" in r["reason"]
        if t.is_growth:
            assert "in-sample" in r["reason"]
        else:
            assert "held out" in r["reason"]
    implied = [r for r in rows if "implied by fitted" in r["reason"]]
    assert len(implied) == 1 and "ever_used" in implied[0]["name"]  # the 2024 use level


def test_observed_target_outside_its_interval_fails(tmp_path: Path):
    cal = tmp_path / "calibration.json"
    held = next(t for t in national_targets() if t.held_out and t.metric == "access")
    _calibration_file(cal, outside=held.name)
    rows = {r["name"]: r for r in observed_case(cal).checks}
    (miss,) = [r for name, r in rows.items() if held.name in name]
    assert miss["scored"] and not miss["passed"] and "below the interval" in miss["reason"]
    assert tally(rows.values())["failed"] == 1


def test_observed_target_missing_from_the_file_is_reported(tmp_path: Path):
    cal = tmp_path / "calibration.json"
    growth = next(t for t in national_targets() if t.is_growth)
    _calibration_file(cal, drop=growth.name)
    rows = observed_case(cal).checks
    (missing,) = [r for r in rows if growth.name in r["name"]]
    assert not missing["scored"] and "not in" in missing["reason"]
    assert all(r["scored"] for r in rows if r is not missing)


def test_observed_calibration_file_must_exist(tmp_path: Path):
    cfg = ValidateConfig(cases=["observed"], observed=ObservedCase(calibration=str(tmp_path / "no.json")))
    with pytest.raises(ConfigError, match=r"^observed\.calibration="):
        check_config(cfg)
    (tmp_path / "bad.json").write_text("[{}]")
    cfg.observed.calibration = str(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match=r"^observed\.calibration="):
        check_config(cfg)
    check_config(ValidateConfig(cases=["bass"], observed=cfg.observed))  # not checked unless selected


# --------------------------------------------------------------------------- the app
def test_report_for_marginals_ablation_and_interactions(tmp_path: Path):
    cal = tmp_path / "calibration.json"
    _calibration_file(cal)
    cfg = ValidateConfig(cases=["indonesia", "observed", "ablation", "interactions"], n_jobs=1,
                         progress=False, observed=ObservedCase(calibration=str(cal)))
    cfg.indonesia = IndonesiaCase(n_citizens=2000)
    cfg.ablation = AblationCase(n_citizens=300, seeds=2, steps=2)
    cfg.interactions = InteractionsCase(n_citizens=300, seeds=2, steps=2,
                                        pairs=[["training", "infrastructure"]])
    results, json_path, md_path = run_validation(cfg, tmp_path)
    report = json.loads(json_path.read_text())
    checks = report["checks"]
    ablation = [r for r in checks if r["case"] == "ablation"]
    assert len(ablation) == len(ABLATIONS)
    for row in ablation:
        assert row["scored"] and len(row["interval"]) == 2 and row["expected_sign"] in "+-"
    assert any("age 60+" in r["name"] for r in checks)
    assert not any(r["scored"] for r in checks if r["case"] == "indonesia")
    observed = [r for r in checks if r["case"] == "observed"]
    assert observed and all(r["scored"] and r["interval"] for r in observed)
    # Identities are listed apart and not counted among the checks.
    assert report["identities"] and all(r["case"] == "indonesia" for r in report["identities"])
    assert report["summary"]["scored"] == sum(r["scored"] for r in checks)
    assert report["summary"]["reported"] == sum(not r["scored"] for r in checks)
    assert report["summary"]["identities"] == len(report["identities"])
    assert not any("population share" in r["name"] for r in checks)
    inter = report["interactions"]["rows"][0]
    assert {"interaction", "main_a", "main_b", "both"} <= set(inter)
    assert inter["interaction"]["low"] <= inter["interaction"]["mean"] <= inter["interaction"]["high"]
    md = md_path.read_text()
    assert "Input consistency (not scored: the population is built to meet these figures)" in md
    for figure in ("indonesia_marginals.png", "observed.png", "ablation.png", "interactions.png"):
        assert (tmp_path / "figures" / figure).is_file()
        assert figure in md
    assert (tmp_path / "validation.html").is_file()


def test_validate_app_runs_quick_and_writes_report(tmp_path: Path):
    args = ["quick=true", "n_jobs=1", "progress=false", "cases=[granovetter,watts,limits]",
            f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.run([sys.executable, "-m", "experiments.validation", *args], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "run"
    report = json.loads((out / "validation.json").read_text())
    assert report["checks"], "no checks written"
    for row in report["checks"]:
        assert {"case", "name", "measured", "expected", "tolerance", "passed", "scored",
                "reason"} <= set(row)
    assert {r["case"] for r in report["checks"]} == {"granovetter", "watts", "limits"}
    assert "limits.png" in (out / "validation.md").read_text()
    assert str(out) in proc.stdout


def test_validate_app_rejects_bad_input_in_one_line(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "experiments.validation", "interactions.share=0.8",
                           f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "interactions.share=0.8" in proc.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("key", "value"), [
    ("cases", ["nonsense"]), ("n_jobs", 0),
    ("interactions", InteractionsCase(pairs=[["training", "training"]])),
    ("ablation", AblationCase(seeds=1)),
    ("patterns", PatternsCase(plateau_steps=24)), ("patterns", PatternsCase(stall_tolerance=-0.1)),
])
def test_validate_config_rejects_bad_values(key, value):
    cfg = ValidateConfig(**{key: value})
    with pytest.raises(ConfigError, match=f"^{key}"):
        check_config(cfg)


def test_mechanics_case_reports_its_tables_and_scores_the_mandate():
    from experiments.validation.cases.mechanics import CHANNELS, mechanics_case

    res = mechanics_case(n=600, seeds=[1, 2, 3], steps=6, mandate_month=2, end_month=2, n_jobs=1,
                         progress=False)
    titles = [t["title"] for t in res.data["tables"]]
    assert len(titles) == 4 and titles[0].startswith("Trust") and titles[-1].startswith("Channels")
    assert [row[0] for row in res.data["tables"][-1]["rows"]] == list(CHANNELS)
    (check,) = res.checks
    assert check["scored"] and check["expected_sign"] == "+"
    assert check["passed"] == (check["measured"] > 0 and check["interval"][0] > 0)


def test_patterns_case_scores_the_mandate_bound_and_the_plateau():
    from experiments.validation.cases.patterns import patterns_case

    res = patterns_case(n=800, seeds=[1, 2, 3], mandate_month=3, plateau_steps=30, stall_tolerance=0.01,
                        assisted_steps=24, n_jobs=1, progress=False)
    scored = [r for r in res.checks if r["scored"]]
    # the mandate bound and the residual offline share hold at any size; whether uptake has stalled
    # after 30 months is the model's answer, not a premise (checked below against its definition)
    assert len(scored) == 8 and all(r["passed"] for r in scored[:2]), [r["reason"] for r in scored]
    # the assisted-channel contrast is a signed paired effect: it passes exactly when its interval is
    # above 0 (at this size it may well not)
    assisted = scored[3]
    assert assisted["expected_sign"] == "+" and assisted["passed"] == (assisted["interval"][0] > 0)
    # so is the office bottleneck (first-year gain - second-year gain of the digital identity)
    bottleneck = scored[7]
    assert "digital_id" in bottleneck["name"] and bottleneck["passed"] == (bottleneck["interval"][0] > 0)
    # the e-Filing seasons: three scored against DJP, 2024 held out and reported
    efiling = [r for r in res.checks if "filed electronically" in r["name"]]
    assert [r["scored"] for r in efiling] == [True, True, True, False] and "2024" in efiling[3]["name"]
    assert all(0 <= r["measured"] <= 1 for r in efiling)
    census = [r for r in res.checks if "2020 census" in r["name"]]
    assert len(census) == 1 and not census[0]["scored"] and 0 < census[0]["measured"] < 1
    # the jump is positive and, seed by seed, near its bound (the bound is an expectation)
    assert all(0 < j <= b * 1.5 for j, b in zip(res.data["jump_pp"], res.data["bound_pp"], strict=True))
    assert res.data["ever_used_mean"][-1] <= 1 - res.data["offline_preference"]
    # the stall check passes exactly when the mean rise over the last 24 months is within tolerance
    ever = res.data["ever_used_mean"]
    assert scored[2]["passed"] == (ever[-1] - ever[-25] <= 0.01 + 1e-12)
