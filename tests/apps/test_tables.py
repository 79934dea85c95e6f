"""Tables from run records: a sweep's varied config values as columns, and the long-format summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.compare.app import ranked_summary
from experiments.engine import tables
from experiments.engine.runner import run_configs
from sim.config import compose

INTERCEPTS = (-4.5, -3.0)
SEEDS = (1, 2)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two values of one parameter x two seeds, one scenario: the runs differ in that key only."""
    configs = [compose(policy="training", population="small", overrides={
        "population.n_citizens": 300, "steps": 3, "policy.start_date": None, "seed": seed, "progress": False,
        "materialise_agents": "never", "params.adoption.intercept": intercept})
        for intercept in INTERCEPTS for seed in SEEDS]
    out = tmp_path_factory.mktemp("sweep")
    return out, run_configs(configs, out, launcher="basic", n_jobs=1, progress=False)


def test_runs_carry_the_swept_value_and_nothing_else(sweep):
    out, records = sweep
    runs = tables.read_runs(records, root=out)
    params = [c for c in runs.columns if c.startswith(tables.PARAM_PREFIX)]
    # the seed is a column already; progress and materialise_agents change no result
    assert params == ["param:params.adoption.intercept"]
    by_run = {(r.config.params.adoption.intercept, r.seed) for r in records}
    assert set(zip(runs["param:params.adoption.intercept"], runs["seed"], strict=True)) == by_run
    assert sorted(set(runs["param:params.adoption.intercept"])) == sorted(INTERCEPTS)


def test_a_value_no_run_changes_gives_no_column():
    configs = [compose(population="small", overrides={"seed": s, "progress": p})
               for s, p in ((1, True), (2, False))]
    assert tables.varied_settings(configs).columns.tolist() == []
    lists = [compose(population="small", overrides={"policy.provinces": provinces})
             for provinces in ([], ["Papua"])]
    varied = tables.varied_settings(lists)
    assert varied["param:policy.provinces"].tolist() == ["[]", '["Papua"]']


def test_long_summary_round_trips_to_the_wide_table(sweep):
    out, records = sweep
    runs = tables.read_runs(records, root=out)
    # two scenarios from the one sweep: each intercept's runs named as a scenario of its own
    runs["scenario"] = np.where(runs["param:params.adoption.intercept"] == INTERCEPTS[0], "low", "high")
    wide = ranked_summary(runs, ["low", "high"], "low")
    long = tables.long_summary(wide)
    assert long.columns.tolist() == ["scenario", "metric", "statistic", "value"]
    assert set(long["statistic"]) == {"mean", "p05", "p95", "mc_se", "value"}
    assert long["scenario"].drop_duplicates().tolist() == ["low", "high"]
    assert ((long["metric"] == "adoption_final") & (long["statistic"] == "p05")).sum() == 2
    assert ((long["metric"] == "p_best") & (long["statistic"] == "value")).sum() == 2
    back = tables.wide_from_long(long).set_index("scenario")
    expected = wide.set_index("scenario")[back.columns].apply(pd.to_numeric, errors="coerce")
    pd.testing.assert_frame_equal(back, expected.astype(np.float64), check_names=False, check_exact=True)
    # every statistic column of the wide table is in the long one, nothing else is
    statistic_columns = {c for c in wide.columns if tables.split_statistic(c)}
    assert set(back.columns) == statistic_columns
    assert {"rank", "description", "underspent", "n_seeds"}.isdisjoint(back.columns)


@pytest.mark.parametrize(("column", "parts"), [
    ("adoption_final_mean", ("adoption_final", "mean")),
    ("trust_mean_final_p95", ("trust_mean_final", "p95")),
    ("p_best_mc_se", ("p_best", "mc_se")),
    ("p_best", ("p_best", "value")),
    ("budget_idr_bn_per_month", None),
    ("rank", None),
])
def test_statistic_columns_are_recognised(column, parts):
    assert tables.split_statistic(column) == parts
    if parts:
        assert tables.wide_column(*parts) == column
