"""The numbers and words of the reports: intervals stay within the bounds of what they measure,
numbers carry the precision their intervals support, few seeds are warned about, every name is in
words, and a scenario that could not spend its budget is flagged.

Built on synthetic runs (no model runs), so that each property is checked on known inputs; the
end-to-end reports are checked in tests/apps/test_experiments.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.compare import app as compare_app
from experiments.compare import report as compare_report
from experiments.engine import render, stats, tables
from experiments.frontier import algorithm
from experiments.frontier import report as frontier_report
from sim import summary as outputs
from sim.config import LEVERS, TARGETINGS, compose
from sim.metrics import METRIC_NAMES

SCENARIOS = {  # name: (allocation, targeting, adoption effect, share of its budget it can spend)
    "baseline": ({}, "universal", 0.0, 0.0),
    "inclusive": ({"infrastructure": 0.5, "literacy": 0.5}, "left_behind", 0.05, 1.0),
    "outreach": ({"outreach": 1.0}, "universal", 0.10, 0.2),
    "low_literacy_courses": ({"literacy": 1.0}, "low_literacy", 0.0, 1.0),
}
GROUP_COLUMNS = [col for _, _, col in render.group_columns()]
STEPS = 60
BUDGET = 500.0


def fake_runs(n_seeds: int, seed: int = 0) -> pd.DataFrame:
    """One row per scenario x seed with every column the tables and the report read."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, (alloc, targeting, effect, spends) in SCENARIOS.items():
        for s in range(n_seeds):
            base = 0.5 + 0.02 * np.sin(s)  # shared by the scenarios' runs of one seed (paired)
            adoption = base + effect + rng.normal(0, 0.005)
            available = BUDGET * STEPS * sum(alloc.values())
            cost = available * spends * (1 + rng.normal(0, 0.01)) if available else 0.0
            row = {"scenario": name, "seed": s, "adoption_final": adoption, "cost_idr_bn": cost,
                   "population_total": 280e6, "budget_idr_bn_per_month": BUDGET, "budget_months": STEPS,
                   "budget_available_idr_bn": available, "budget_spent_share": cost / available if available
                   else np.nan, "description": f"What the {name.replace('_', ' ')} scenario does.",
                   "targeting": targeting, "target_provinces": 0,
                   "political_will": 0.5, "trust_mean_final": 0.7 + rng.normal(0, 0.01),
                   "digital_staff_share_final": 0.5 + rng.normal(0, 0.01), "months_to_25pct": 20.0 + s,
                   "n_citizens": 3000}
            for lever in LEVERS:
                row[f"alloc_{lever}"] = alloc.get(lever, 0.0)
            for col in GROUP_COLUMNS:
                row[col] = float(np.clip(adoption + rng.normal(0, 0.05), 0, 1))
            for gap in outputs.GAP_METRICS:
                row[gap] = 0.2 - effect + rng.normal(0, 0.01)
            rows.append(row)
    return pd.DataFrame(rows)


def compare_markdown(n_seeds: int, tmp_path: Path, summary: pd.DataFrame | None = None,
                     share: float = 0.8, uncertainty: str = "posterior") -> str:
    """The comparison report of the synthetic runs (or of a given ranked summary) as Markdown."""
    runs = fake_runs(n_seeds)
    if summary is None:
        summary = compare_app.ranked_summary(runs, list(SCENARIOS), "baseline")
    setup = {"population": "indonesia", "n_citizens": 3000, "steps": STEPS, "seeds": n_seeds,
             "network": "homophilous", "population_total": 280e6, "budget_idr_bn_per_month": BUDGET,
             "created": "today", "wall_time": "1 s", "clear_winner_share": share, "uncertainty": uncertainty,
             "posterior_file": "posterior.parquet"}
    model_cfg = compose(policy="baseline", overrides={"steps": STEPS, "budget_idr_bn_per_month": BUDGET})
    gaps = tables.present_gaps(runs)
    blocks = compare_report.compare_blocks(summary, "baseline", setup, {}, [model_cfg], gaps,
                                           stats.pairwise(runs, list(SCENARIOS)))
    return render.to_markdown(blocks, tmp_path)


def raw_names(text: str) -> set[str]:
    """Identifiers (words joined by underscores) in the text before its list of files, other than
    file names and command-line settings."""
    body = text.split("## Files")[0]
    tokens = set(re.findall(r"(?<![\w.=<])[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+(?![\w.=>])", body))
    return tokens


# --------------------------------------------------------------------------- precision
@pytest.mark.parametrize(("half", "decimals"), [
    (2.75, 0), (0.16, 2), (0.05, 2), (0.4, 1), (1234.0, -2), (0.96, 1), (9.96, 0), (35.0, -1),
])
def test_interval_half_width_sets_the_decimals(half, decimals):
    assert render.interval_decimals(half) == decimals


def test_numbers_are_rounded_to_what_their_interval_supports():
    # 20.88 million from a few thousand agents with an interval of +/- 2.75: no decimals are real
    assert render.estimate(20.884, 18.13, 23.64, sign=True) == "+21 (+18 to +24)"
    assert render.round_to_interval(20.884, 2.75) == 21.0
    assert render.round_to_interval(1234.5, 160.0) == 1230.0
    assert render.pct(0.6284, 0.5872, 0.6696) == "63% (59% to 67%)"
    assert render.pct(0.6284, 0.6270, 0.6298) == "62.84% (62.70% to 62.98%)"
    assert render.pp(-0.047, -0.067, -0.026) == "-5 pp (-7 to -3)"
    assert render.pp(-0.047, -0.067, -0.026, interval=False) == "-5 pp"
    assert render.num(9049.3, 7900.0, 10200.0) == "9,000 (7,900 to 10,200)"
    # no interval (one seed) or no width (identical values): the stated default
    assert render.pct(0.6284) == "62.8%"
    assert render.num(30000.0, 30000.0, 30000.0) == "30,000"
    assert render.estimate(np.nan) == "n/a"
    assert render.estimate(-0.0001, -0.2, 0.2, sign=True, interval=False) == "+0.0"
    with pytest.raises(ValueError):
        render.interval_decimals(0.0)


# --------------------------------------------------------------------------- bounded intervals
@pytest.mark.parametrize(("metric", "bounds"), [
    ("adoption_final", (0.0, 1.0)), ("adoption_rural_final", (0.0, 1.0)), ("trust_mean_final", (0.0, 1.0)),
    ("gap_urban_rural", (-1.0, 1.0)), ("adoption_change", (-1.0, 1.0)),
    ("gap_urban_rural_change", (-2.0, 2.0)), ("adoption_q1_final_change", (-1.0, 1.0)),
    ("trust_mean_change_in_run", (-1.0, 1.0)), ("budget_spent_share", (0.0, 1.0)), ("cost_idr_bn", None),
    ("additional_adopters_per_idr_bn", None),
])
def test_every_share_gap_and_change_has_its_bounds(metric, bounds):
    assert outputs.bounds(metric) == bounds


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6))
def test_intervals_of_shares_never_leave_zero_to_one(values):
    mean, low, high = stats.t_interval(values, bounds=outputs.bounds("adoption_final"))
    assert 0.0 <= low <= mean + 1e-12 and mean - 1e-12 <= high <= 1.0


def test_tables_and_bands_keep_intervals_of_shares_gaps_and_differences_within_bounds():
    rng = np.random.default_rng(3)
    n = 3
    runs = pd.DataFrame({"scenario": ["a"] * n + ["b"] * n, "seed": list(range(n)) * 2,
                         "adoption_final": [0.001, 0.0, 0.05, 0.999, 1.0, 0.9],
                         "gap_urban_rural": [-0.99, -0.8, -1.0, 0.95, 1.0, 0.7]})
    table = stats.describe(runs, "scenario", ["adoption_final", "gap_urban_rural"])
    assert (table["adoption_final_ci_low"] >= 0).all() and (table["adoption_final_ci_high"] <= 1).all()
    assert (table["gap_urban_rural_ci_low"] >= -1).all() and (table["gap_urban_rural_ci_high"] <= 1).all()
    assert table["adoption_final_ci_low"].iloc[0] == 0.0  # the unclipped interval went below 0
    tidy = pd.DataFrame({"scenario": np.repeat(["base", "x"], 2 * n),
                         "seed": np.tile(np.repeat(range(n), 2), 2), "month": np.tile([0, 1], 2 * n)})
    tidy["adoption"] = np.where(tidy["scenario"] == "base", 0.0, rng.uniform(0.0, 1.0, len(tidy)))
    tidy.loc[(tidy["scenario"] == "x") & (tidy["month"] == 1), "adoption"] = [1.0, 0.9, 0.995]
    level = stats.bands(tidy, "adoption")
    diff = stats.paired_bands(tidy, "adoption", "base")
    # quantiles of values within bounds stay within them: nothing needs clipping
    assert level["p05"].min() >= 0 and level["p95"].max() <= 1
    assert diff["p05"].min() >= -1 and diff["p95"].max() <= 1
    assert diff.loc[diff["scenario"] == "base", "mean"].eq(0).all()
    # the band is the 5%-95% range of the runs' values in that month, as the tables give final values
    assert diff.query("scenario == 'x' and month == 1")["p95"].iloc[0] == pytest.approx(
        np.quantile([1.0, 0.9, 0.995], 0.95))


def test_the_report_and_the_figures_read_the_same_paired_ranges():
    runs = fake_runs(4)
    summary = tables.scenario_summary(runs, list(SCENARIOS), "baseline").set_index("scenario")
    ref = runs[runs["scenario"] == "baseline"].set_index("seed")["adoption_rural_final"]
    for s in SCENARIOS:
        diff = runs[runs["scenario"] == s].set_index("seed")["adoption_rural_final"] - ref
        mean, low, high, se = stats.predictive_interval(diff.to_numpy())
        row = summary.loc[s]
        assert row["adoption_rural_final_change_mean"] == pytest.approx(mean)
        assert row["adoption_rural_final_change_p05"] == pytest.approx(low)
        assert row["adoption_rural_final_change_p95"] == pytest.approx(high)
        assert row["adoption_rural_final_change_mc_se"] == pytest.approx(se)
        assert render.stat(row, "adoption_rural_final_change") == pytest.approx((mean, low, high))


# --------------------------------------------------------------------------- the report's text
def test_few_seeds_are_warned_about_and_five_are_not(tmp_path):
    assert "only 3 seeds" in compare_markdown(3, tmp_path).split("## Headline")[0]
    assert "only 2 seeds" in compare_markdown(2, tmp_path)
    assert "only" not in compare_markdown(5, tmp_path).split("## Headline")[0]
    assert render.few_seeds_warning(stats.MIN_SEEDS) is None
    assert render.few_draws_warning(stats.MIN_SEEDS, "posterior") is None


def test_every_name_in_the_report_is_in_words(tmp_path):
    md = compare_markdown(4, tmp_path)
    assert raw_names(md) == set(), raw_names(md)
    for name in [*TARGETINGS, *METRIC_NAMES, *outputs.GAP_METRICS, "adoption_final", "cost_idr_bn"]:
        if "_" in name:
            assert name not in md.split("## Files")[0], name
    assert "low literacy courses" in md  # a scenario named with underscores is written in words
    assert render.targeting_label("left_behind") in md
    assert set(render.TARGETING_LABELS) == set(TARGETINGS)
    assert set(render.LEVER_LABELS) == set(LEVERS)
    assert raw_names("see scenario_summary.csv and set seeds=10") == set()
    assert raw_names("aimed at left_behind") == {"left_behind"}


def test_spending_is_per_month_and_in_total_and_underspending_is_flagged(tmp_path):
    md = compare_markdown(4, tmp_path)
    assert "spent per month (IDR bn)" in md and f"spent over {STEPS} months (IDR bn)" in md
    assert f"IDR {BUDGET:,.0f} bn a month (IDR {BUDGET * STEPS:,.0f} bn over {STEPS} months)" in md
    rows = [line for line in md.splitlines() if "| outreach |" in line]
    flag = re.compile(r"could not spend its budget: (19\.9\d*|20)% of it")
    assert len([r for r in rows if flag.search(r)]) == 3  # in the ranking, scenario and cost tables
    assert not [line for line in md.splitlines()
                if line.startswith("| inclusive |") and "could not spend" in line]
    summary = tables.scenario_summary(fake_runs(4), list(SCENARIOS), "baseline").set_index("scenario")
    assert summary["underspent"].to_dict() == {"baseline": False, "inclusive": False, "outreach": True,
                                               "low_literacy_courses": False}


def test_the_frontier_summary_is_in_words_and_flags_splits_that_could_not_spend(tmp_path):
    runs = fake_runs(3)
    table = pd.DataFrame([
        {"pair": "training/infrastructure", "lever_a": "training", "lever_b": "infrastructure",
         "share_a": a, "share_b": 1 - a, "top_split": a == 1.0, "is_best": False,
         "best_distinguishable": False, "p_best": np.nan, "budget_months": STEPS, "underspent": a == 1.0,
         "budget_spent_share_mean": 0.7 if a == 1.0 else 1.0,
         "cost_idr_bn_mean": 21000.0 if a == 1.0 else 3e4,
         "adoption_final_mean": 0.6 + 0.01 * a, "adoption_final_ci_low": 0.55, "adoption_final_ci_high": 0.7,
         "gap_urban_rural_mean": 0.2, "gap_urban_rural_ci_low": 0.1, "gap_urban_rural_ci_high": 0.3}
        for a in (0.0, 0.5, 1.0)])
    setup = {"budget_idr_bn_per_month": BUDGET, "steps": STEPS, "n_splits": 3, "seeds": 3,
             "population": "indonesia", "n_citizens": int(runs["n_citizens"].iloc[0]), "created": "today",
             "wall_time": "1 s"}
    blocks = frontier_report.frontier_blocks(table, setup, None, "adoption_final", ["gap_urban_rural"])
    md = render.to_markdown(blocks, tmp_path)
    assert raw_names(md) == set(), raw_names(md)
    assert "only 3 seeds" in md
    assert "no split is distinguishable" in md
    assert "could not spend their budget" in md
    assert "100% civil-servant training / 0% connectivity spent 70.0% of it" in md


def test_a_split_ahead_by_less_than_the_practical_difference_is_not_named(tmp_path):
    """Told apart from its neighbours but ahead by less than practical_difference: no best split."""
    table = pd.DataFrame([
        {"pair": "training/infrastructure", "lever_a": "training", "lever_b": "infrastructure",
         "share_a": a, "share_b": 1 - a, "top_split": a == 0.5, "is_best": False,
         "best_distinguishable": True, "best_margin": 0.0012, "p_best": 0.9, "budget_months": STEPS,
         "underspent": False, "budget_spent_share_mean": 1.0, "cost_idr_bn_mean": 3e4,
         "adoption_final_mean": 0.6 + (0.0012 if a == 0.5 else 0.0), "adoption_final_ci_low": 0.59,
         "adoption_final_ci_high": 0.61}
        for a in (0.0, 0.5, 1.0)])
    setup = {"budget_idr_bn_per_month": BUDGET, "steps": STEPS, "n_splits": 3, "seeds": 10,
             "population": "indonesia", "n_citizens": 3000, "created": "today", "wall_time": "1 s",
             "practical_difference": 0.005}
    blocks = frontier_report.frontier_blocks(table, setup, None, "adoption_final", [])
    md = render.to_markdown(blocks, tmp_path)
    assert "no split is clearly better" in md and "below the practical threshold of 0.50 pp" in md
    assert "best split 50%" not in md


def test_the_margin_over_neighbours_is_the_closer_neighbours_gap():
    values = np.array([[0.50, 0.52], [0.60, 0.62], [0.58, 0.58]])  # splits x seeds
    assert algorithm.margin_over_neighbours(values, 1, maximize=True) == pytest.approx(0.03)
    assert algorithm.margin_over_neighbours(values, 0, maximize=False) == pytest.approx(0.10)
    assert algorithm.margin_over_neighbours(values[:1], 0, maximize=True) == float("inf")
