"""The comparison's uncertainty conventions: a level or an effect carries its 5%-95% range across draws
(calibrated worlds), which does not narrow as draws are added, while the Monte Carlo error of a mean or
a probability does; decisions are probabilities (P(best), P(A beats B)); a winner is named only when it
is best in at least ``clear_winner_share`` of the draws.

Synthetic data only (no model runs); the comparison end to end is in tests/apps/test_experiments.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.compare import app as compare_app
from experiments.engine import render, stats
from experiments.engine.settings import CompareConfig, validate_compare
from sim.config import ConfigError
from tests.unit.test_report import SCENARIOS, compare_markdown, fake_runs

WIDTH_90 = 2 * 1.6448536269514722  # 5%-95% width of a normal, in standard deviations


def _runs(values: np.ndarray, names: list[str]) -> pd.DataFrame:
    """One row per draw x scenario from a (draws x scenarios) array of final adoption."""
    draws, k = values.shape
    return pd.DataFrame({"scenario": np.tile(names, draws), "seed": np.repeat(np.arange(draws), k),
                         "adoption_final": values.ravel()})


def test_the_range_does_not_narrow_with_more_draws_while_the_monte_carlo_error_does():
    rng = np.random.default_rng(7)
    sd = 0.04
    few = [stats.predictive_interval(rng.normal(0.5, sd, 20)) for _ in range(200)]
    many = [stats.predictive_interval(rng.normal(0.5, sd, 2000)) for _ in range(20)]
    width_few = np.mean([high - low for _, low, high, _ in few]) / sd
    width_many = np.mean([high - low for _, low, high, _ in many]) / sd
    # linear quantiles of 20 draws fall a little inside the true ones (about 14% here); more draws
    # bring the range to its true width and never narrow it
    assert width_few == pytest.approx(WIDTH_90, rel=0.2)
    assert width_many == pytest.approx(WIDTH_90, rel=0.03)
    assert width_many >= width_few
    se_ratio = np.mean([se for *_, se in few]) / np.mean([se for *_, se in many])
    assert se_ratio == pytest.approx(10.0, rel=0.1)  # sqrt(2000 / 20)
    # a t-interval of the mean, by contrast, narrows like the error
    assert np.diff(stats.t_interval(rng.normal(0.5, sd, 2000))[1:])[0] / sd < 0.1 * WIDTH_90


def test_the_range_is_numpys_linear_quantiles_and_one_value_has_no_error():
    x = np.array([0.3, 0.1, 0.7, 0.2, np.nan])
    mean, low, high, se = stats.predictive_interval(x)
    finite = x[np.isfinite(x)]
    assert (low, high) == pytest.approx(tuple(np.quantile(finite, [0.05, 0.95])))
    assert mean == pytest.approx(finite.mean()) and se == pytest.approx(finite.std(ddof=1) / 2)
    assert np.isnan(stats.predictive_interval([0.4])[3])
    table = stats.predictive(pd.DataFrame({"scenario": ["a"] * 4, "seed": range(4), "m": finite}),
                             "scenario", ["m"])
    assert list(table.columns) == ["scenario", "n_seeds", "m_mean", "m_p05", "m_p95", "m_mc_se"]


def test_p_best_sums_to_one_and_its_error_follows_the_formula():
    rng = np.random.default_rng(1)
    names = ["a", "b", "c"]
    values = rng.normal([0.50, 0.51, 0.49], 0.02, size=(50, 3))
    values[:5, 1] = values[:5, 0]  # ties share the draw
    table = stats.p_best_table(_runs(values, names), names)
    assert table["p_best"].sum() == pytest.approx(1.0)
    p = table["p_best"].to_numpy()
    assert table["p_best_mc_se"].to_numpy() == pytest.approx(np.sqrt(p * (1 - p) / 50))


def test_pairwise_probabilities_of_a_pair_add_up_to_one_with_ties():
    names = ["a", "b", "c"]
    values = np.array([[0.5, 0.5, 0.1], [0.6, 0.4, 0.1], [0.3, 0.7, 0.9], [0.2, 0.2, 0.2]])
    table = stats.pairwise(_runs(values, names), names)
    assert list(table.columns) == ["scenario", *names] and table["scenario"].tolist() == names
    wide = table.set_index("scenario")
    assert wide.loc["a", "b"] == pytest.approx((0.5 + 1 + 0 + 0.5) / 4)
    assert wide.loc["b", "a"] == pytest.approx((0.5 + 0 + 1 + 0.5) / 4)
    for i in names:
        assert np.isnan(wide.loc[i, i])
        for j in names:
            if i != j:
                assert wide.loc[i, j] + wide.loc[j, i] == pytest.approx(1.0)


def _decided(p_best: list[float]) -> pd.DataFrame:
    """The synthetic comparison's ranked summary with the given P(best) per scenario."""
    summary = compare_app.ranked_summary(fake_runs(10), list(SCENARIOS), "baseline")
    summary["p_best"] = p_best
    summary["p_best_mc_se"] = stats.proportion_mc_se(summary["p_best"], 10)
    summary["rank"] = summary["scenario"].map(stats.ranking(summary.drop(columns="rank"))
                                              .set_index("scenario")["rank"])
    return summary


@pytest.mark.parametrize(("p_best", "share", "clear"), [
    ([0.0, 0.2, 0.8, 0.0], 0.8, True), ([0.0, 0.21, 0.79, 0.0], 0.8, False),
    ([0.0, 0.21, 0.79, 0.0], 0.75, True), ([0.0, 0.0, 1.0, 0.0], 1.0, True),
    ([0.25, 0.25, 0.25, 0.25], 0.8, False),
])
def test_no_clear_winner_exactly_when_no_scenario_reaches_the_share(tmp_path, p_best, share, clear):
    summary = _decided(p_best)
    assert (stats.clear_winner(summary, share) is not None) == clear
    headline = compare_markdown(10, tmp_path, summary, share).split("## Headline")[1].split("\n|")[0]
    assert ("No clear winner" in headline) == (not clear)
    assert ("Clear winner on final adoption: outreach, best in "
            f"{render.probability(max(p_best), np.sqrt(max(p_best) * (1 - max(p_best)) / 10))}"
            in headline) == clear
    if not clear:
        assert "Leading: outreach (P(best) " in headline or "Leading: baseline (P(best) " in headline


def test_the_report_names_its_ranges_and_monte_carlo_errors(tmp_path):
    md = compare_markdown(10, tmp_path)
    assert "5%-95% range across calibrated worlds" in md and "confidence interval" not in md
    assert "Monte Carlo error" in md.split("## Parameter uncertainty")[0]
    assert "## Head to head: P(row beats column)" in md
    assert "| row beats column |" in md
    none = compare_markdown(10, tmp_path, uncertainty="none")
    assert "range across seeds (run-to-run noise)" in none and "calibrated worlds" not in none
    assert "95% interval" not in md and "95% interval" not in none


def test_the_clear_winner_share_is_declared_with_its_range():
    assert CompareConfig().clear_winner_share == 0.8
    validate_compare(CompareConfig(clear_winner_share=1.0))
    for bad in (0.5, 1.01, 0.3):
        with pytest.raises(ConfigError, match="clear_winner_share"):
            validate_compare(CompareConfig(clear_winner_share=bad))


def test_the_cautious_error_is_not_zero_when_every_draw_agrees_and_meets_the_target_at_the_draws_asked():
    assert stats.cautious_mc_se(1.0, 20) == pytest.approx(np.sqrt(22 / 24 * 2 / 24 / 24))
    assert stats.cautious_mc_se(0.5, 10_000) == pytest.approx(0.005, rel=1e-3)
    rng = np.random.default_rng(0)
    names = ["a", "b"]
    # "a" best in about 70-80% of the draws: about 0.2 / 0.03**2 = 220 draws for +-0.03
    values = np.column_stack([np.zeros(20), np.where(rng.random(20) < 0.8, -1.0, 1.0)])
    have, needed, error = stats.draws_for_precision(_runs(values, names), names, 0.03)
    share = float(stats.p_best(_runs(values, names), names)["a"])
    assert have == 20 and error == pytest.approx(float(stats.cautious_mc_se(share, 20))) and error > 0.03
    q = (share * 20 + 2) / 24  # the cautious share now, taken as the share to expect
    assert np.sqrt(q * (1 - q) / (needed + 4)) <= 0.03 < np.sqrt(q * (1 - q) / (needed + 3))
    assert 150 < needed < 300
    agree = np.column_stack([np.zeros(90), -np.ones(90)])  # 90 of 90 agree: cautious error 0.017
    assert stats.draws_for_precision(_runs(agree, names), names, 0.03) == (
        90, 90, pytest.approx(float(stats.cautious_mc_se(1.0, 90))))


def _raced(values: np.ndarray, names: list[str], screened: int, kept: list[str]) -> pd.DataFrame:
    """The runs of a race: every scenario on the first ``screened`` draws, only ``kept`` after them."""
    runs = _runs(values, names)
    return runs[(runs["seed"] < screened) | runs["scenario"].isin(kept)].reset_index(drop=True)


def test_under_racing_p_best_counts_each_draws_best_among_the_scenarios_run_on_it():
    names = ["a", "b", "c"]
    # c is best on draw 1 of the first two and would be best on draw 3, where it is not run
    values = np.array([[0.5, 0.4, 0.1], [0.5, 0.4, 0.9], [0.3, 0.6, 0.1], [0.5, 0.4, 0.9]])
    runs = _raced(values, names, screened=2, kept=["a", "b"])
    shares = stats.p_best(runs, names)
    assert shares.to_dict() == pytest.approx({"a": 2 / 4, "b": 1 / 4, "c": 1 / 4})
    assert stats.p_best_table(runs, names)["p_best_mc_se"]["a"] == pytest.approx(np.sqrt(0.25 / 4))
    # a pair is compared on the draws both ran: a against c on the first two only
    wide = stats.pairwise(runs, names).set_index("scenario")
    assert wide.loc["a", "c"] == pytest.approx(0.5) and wide.loc["a", "b"] == pytest.approx(3 / 4)
    assert stats.draws_for_precision(runs, names, 0.5)[0] == 4


def test_contenders_are_the_scenarios_ever_best_and_never_fewer_than_two():
    names = ["a", "b", "c", "d"]
    values = np.array([[0.5, 0.4, 0.1, 0.2], [0.5, 0.6, 0.1, 0.2], [0.9, 0.4, 0.1, 0.2]])
    assert stats.contenders(_runs(values, names), names) == ["a", "b"]
    # one scenario best on every draw: the other with the highest mean joins it
    only = np.array([[0.9, 0.4, 0.1, 0.6], [0.9, 0.8, 0.1, 0.2], [0.9, 0.85, 0.2, 0.2]])
    assert stats.contenders(_runs(only, names), names) == ["a", "b"]
    # the bound on a P(best) never seen: the rule of three at 95%
    assert stats.screening_bound(20) == pytest.approx(1 - 0.05 ** (1 / 20))
    assert 0.13 < stats.screening_bound(20) < 0.15
    assert stats.screening_bound(100) == pytest.approx(0.0295, abs=1e-3)
