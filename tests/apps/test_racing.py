"""The main job's seed-adding loop end to end: seeds added until P(best) is precise or max_seeds is
reached, racing (the added seeds run only the baseline and the contenders), and ``reuse=true`` taking
the same steps over the same runs."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from experiments.compare import app as compare
from experiments.engine import stats
from experiments.engine.settings import CompareConfig

# five scenarios besides the baseline on four worlds: at least one is best on none of them. The cautious
# error of any share of 4 worlds (0.15 or more) and of 8 (0.11 or more) is above 0.1, so the loop adds
# one batch up to max_seeds, whatever the runs give.
SCENARIOS = ["baseline", "training", "mandate", "infrastructure", "outreach", "comprehensive"]
RACE = CompareConfig(population="small", n_citizens=300, steps=14, seeds=4, p_best_precision=0.1,
                     max_seeds=8, scenarios=SCENARIOS, launcher="basic", progress=False)


@pytest.fixture(scope="module")
def raced(tmp_path_factory):
    out = tmp_path_factory.mktemp("race")
    compare.run_compare(RACE, out)
    return out


def test_the_added_seeds_run_only_the_baseline_and_the_scenarios_best_in_the_first_worlds(raced):
    runs = pd.read_csv(raced / "run_summaries.csv")
    seeds = runs.groupby("scenario")["seed"].nunique()
    first = runs[runs["seed"] < RACE.seeds]
    going_on = {"baseline", *stats.contenders(first, [s for s in RACE.scenarios if s != "baseline"])}
    assert {s for s, n in seeds.items() if n == RACE.max_seeds} == going_on
    assert {s for s, n in seeds.items() if n == RACE.seeds} == set(RACE.scenarios) - going_on != set()
    summary = pd.read_csv(raced / "scenario_summary.csv").set_index("scenario")
    assert summary["p_best"].sum() == pytest.approx(1.0)
    assert (summary.loc[sorted(set(RACE.scenarios) - going_on), "p_best"] == 0).all()
    assert summary["n_seeds"].to_dict() == seeds.to_dict()
    report = (raced / "report.md").read_text()
    assert f"x {RACE.seeds} seeds ({RACE.max_seeds} for the scenarios still in contention" in report
    assert "Racing: " in report and f"below {stats.screening_bound(RACE.seeds):.2f}" in report
    bound = f"under {stats.screening_bound(RACE.seeds):.0%}, stopped after {RACE.seeds} worlds"
    assert report.count(bound) == len(set(RACE.scenarios) - going_on)  # one ranking row each


def test_reuse_takes_the_same_steps_over_the_same_runs(raced):
    before = (raced / "scenario_summary.csv").read_bytes()
    compare.run_compare(replace(RACE, reuse=True), raced)
    assert (raced / "scenario_summary.csv").read_bytes() == before
