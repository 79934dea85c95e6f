"""Regret, P(best), EVPI and EVPPI (experiments.frontier.decision) on synthetic outcome matrices whose
answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.frontier import algorithm, decision, report
from sim.declarations import declaration, uncertain_parameters


def _noisy(seed: int = 0, n_options: int = 4, n_draws: int = 30) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.5, 0.05, size=(n_options, n_draws))


@pytest.mark.parametrize("maximize", [True, False])
def test_regret_is_zero_for_the_best_option_of_each_draw_and_never_negative(maximize):
    outcomes = _noisy()
    r = decision.regret(outcomes, maximize)
    assert r.shape == outcomes.shape
    assert (r >= 0).all()
    best = outcomes.argmax(axis=0) if maximize else outcomes.argmin(axis=0)
    assert np.allclose(r[best, np.arange(outcomes.shape[1])], 0.0)
    assert np.allclose(r.min(axis=0), 0.0)


def test_an_option_best_in_every_draw_has_no_regret_and_information_is_worth_nothing():
    outcomes = _noisy()
    outcomes[2] = outcomes.max(axis=0) + 0.01  # option 2 best in every world
    s = decision.summarise_regret(outcomes)
    assert s.expected[2] == 0 and s.maximum[2] == 0 and s.p95[2] == 0
    assert s.lowest_expected == s.minimax == 2
    assert s.p_best.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert decision.evpi(outcomes) == 0.0
    theta = np.random.default_rng(1).normal(size=outcomes.shape[1])
    assert decision.evppi(outcomes, theta).value == 0.0
    # minimised: the lowest outcome is best, so the mirror image gives the same answer
    assert decision.summarise_regret(-outcomes, maximize=False).minimax == 2
    assert decision.evpi(-outcomes, maximize=False) == 0.0


def test_p_best_sums_to_one_and_ties_share_the_draw():
    outcomes = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 4.0], [0.0, 2.0, 0.0]])
    p = decision.p_best(outcomes)
    assert p.sum() == pytest.approx(1.0)
    assert p.tolist() == pytest.approx([1 / 2 * 1 / 3 + 1 / 2 * 1 / 3, 1 / 2 * 1 / 3 + 1 / 3, 1 / 2 * 1 / 3])


def test_minimax_regret_can_differ_from_the_lowest_expected_regret():
    # option 0: best on average but loses a lot in one world; option 1: never far behind
    outcomes = np.array([[10.0, 10.0, 10.0, 0.0], [8.0, 8.0, 8.0, 8.0]])
    s = decision.summarise_regret(outcomes)
    assert s.expected.tolist() == pytest.approx([2.0, 1.5])
    assert s.lowest_expected == 1  # 7.5 mean against 8: option 1 also has the best mean here
    outcomes = np.array([[10.0, 10.0, 10.0, 4.0], [8.0, 8.0, 8.0, 8.0]])
    s = decision.summarise_regret(outcomes)
    assert s.lowest_expected == 0 and s.minimax == 1
    assert s.maximum.tolist() == pytest.approx([4.0, 2.0])
    assert decision.evpi(outcomes) == pytest.approx(s.expected.min())


def test_evpi_is_the_expected_best_minus_the_best_expected():
    outcomes = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert decision.evpi(outcomes) == pytest.approx(0.5)


def _two_parameter_world(n: int = 500, seed: int = 7):
    """Three options whose ranking depends on parameter a only (b does nothing), plus run noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    noise = rng.normal(0, 0.02, size=(3, n))
    outcomes = np.vstack([0.5 + 0.2 * a, 0.6 + 0.0 * a, 0.7 - 0.2 * a]) + noise
    return outcomes, a, b


def test_evppi_is_near_evpi_for_the_parameter_that_decides_and_near_zero_for_one_that_cannot():
    outcomes, a, b = _two_parameter_world()
    total = decision.evpi(outcomes)
    on_a, on_b = decision.evppi(outcomes, a), decision.evppi(outcomes, b)
    for e in (on_a, on_b):
        assert 0.0 <= e.value <= total and e.n_draws == 500
    assert on_b.value < 0.05 * total
    # a alone explains the ranking; what is left of EVPI is the run noise no measurement removes
    assert on_a.value > 0.75 * total
    assert on_a.value == pytest.approx(0.05, abs=0.01)  # E[max(0.2a, 0.1, 0.2 - 0.2a)] - 0.1 = 0.05
    # a group holding a is worth at least as much as a alone, within the fit's noise
    both = decision.evppi(outcomes, np.column_stack([a, b]))
    assert both.value >= on_a.value - 0.005 and both.value <= total


def test_evppi_stays_between_zero_and_evpi_and_is_not_estimated_from_too_few_draws():
    for seed in range(20):
        outcomes = _noisy(seed, n_draws=12)
        theta = np.random.default_rng(seed + 100).normal(size=12)
        e = decision.evppi(outcomes, theta)
        assert 0.0 <= e.value <= decision.evpi(outcomes) and e.df <= 1
    few = decision.evppi(_noisy(n_draws=decision.MIN_DRAWS_EVPPI - 1),
                         np.arange(decision.MIN_DRAWS_EVPPI - 1.0))
    assert np.isnan(few.value) and few.evpi > 0
    constant = decision.evppi(_noisy(), np.ones(30))  # a parameter that does not vary: no information
    assert constant.value == 0.0


def test_the_spline_fit_is_linear_with_few_draws_and_bends_with_many():
    assert decision.spline_df(5) == 1 and decision.spline_df(39) == 1
    assert decision.spline_df(60) == 3 and decision.spline_df(10_000) == decision.MAX_DF
    x = np.linspace(0, 1, 50)
    basis = decision.natural_spline_basis(x, 4)
    assert basis.shape == (50, 4)
    # a curve the straight line misses and the spline follows
    y = np.sin(3 * x)
    for cols, worse in ((basis[:, :1], 1e-3), (basis, None)):
        design = np.column_stack([np.ones(50), cols])
        fit = design @ np.linalg.lstsq(design, y, rcond=None)[0]
        err = np.abs(fit - y).max()
        assert err > worse if worse else err < 0.02


def test_a_curved_dependence_gets_a_spline_and_a_straight_one_a_line():
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, 500)
    curved = np.vstack([0.5 + 0.1 * np.sin(2 * np.pi * a), np.full(500, 0.5)]) + rng.normal(0, 0.02, (2, 500))
    e = decision.evppi(curved, a)
    assert e.df > 1
    assert e.value == pytest.approx(0.1 / np.pi, abs=0.005)  # E[max(0, 0.1 sin)] = 0.1 / pi
    straight = np.vstack([0.5 + 0.1 * a, np.full(500, 0.55)]) + rng.normal(0, 0.02, (2, 500))
    e = decision.evppi(straight, a)
    assert e.df == 1 and e.value == pytest.approx(0.0125, abs=0.002)  # E[max(0, 0.1 a - 0.05)]


def test_values_in_people_only_for_final_adoption():
    assert decision.in_people(0.01, "adoption_final", 2e8) == pytest.approx(2e6)
    assert np.isnan(decision.in_people(0.01, "gap_urban_rural", 2e8))


# --------------------------------------------------------------------------- the frontier's tables
def _matrix(outcomes: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(outcomes, index=pd.Index([0.0, 0.5, 1.0], name="share_a"),
                        columns=pd.RangeIndex(outcomes.shape[1], name="seed"))


def test_value_of_information_ranks_the_parameters_that_vary_and_reports_evpi_alone_without_draws():
    outcomes, a, b = _two_parameter_world()
    keys = [d.key for d in uncertain_parameters()[:3]]
    draws = pd.DataFrame({keys[0]: b, keys[1]: a, keys[2]: 1.0})  # the third does not vary
    voi = algorithm.value_of_information({"training/infrastructure": _matrix(outcomes)}, draws,
                                         "adoption_final", True, 1e6)
    assert voi["parameter"].tolist() == keys[1::-1]  # a first; the constant one left out
    assert (voi["evppi"] <= voi["evpi"]).all() and voi["n_draws"].eq(500).all()
    assert voi["evppi_adopters"].tolist() == pytest.approx((voi["evppi"] * 1e6).tolist())
    assert voi["share_of_evpi"].iloc[0] > 0.75 and voi["share_of_evpi"].iloc[1] < 0.05
    none = algorithm.value_of_information({"training/infrastructure": _matrix(outcomes)}, None,
                                          "gap_urban_rural", False, 1e6)
    assert len(none) == 1 and none["parameter"].isna().all() and none["evppi"].isna().all()
    assert none["evpi"].iloc[0] == pytest.approx(decision.evpi(outcomes, maximize=False))
    assert none["evpi_adopters"].isna().all()  # a gap is not counted in adopters
    blocks = report.information_blocks(voi, "adoption_final", {})
    text = " ".join(str(b[1]) for b in blocks if b[0] in ("p", "ul"))
    assert declaration(keys[1]).spec.doc.replace("_", " ") in text and "most valuable measurement" in text
    assert "noisy" not in text  # 500 draws: no caution
    blocks = report.information_blocks(none, "gap_urban_rural", {})
    assert "No parameter varies" in " ".join(str(b[1]) for b in blocks if b[0] == "p")


def test_regret_columns_flag_one_lowest_expected_and_one_minimax_split():
    outcomes = np.array([[10.0, 10.0, 10.0, 4.0], [8.0, 8.0, 8.0, 8.0], [1.0, 1.0, 1.0, 1.0]])
    cols = algorithm.regret_columns(_matrix(outcomes), "adoption_final", True, 100.0)
    assert cols["lowest_expected_regret"].tolist() == [True, False, False]
    assert cols["minimax_regret"].tolist() == [False, True, False]
    assert cols["expected_regret"].tolist() == pytest.approx([1.0, 1.5, 8.5])
    assert cols["regret_max_adopters"].tolist() == pytest.approx([400.0, 200.0, 900.0])
    assert cols["p_best"].tolist() == pytest.approx([0.75, 0.25, 0.0])


def test_which_survey_defines_use_is_valued_as_a_categorical_uncertainty():
    """A mixture of posteriors: the best split depends on the measure a world is calibrated on (share 0
    under kominfo, 1 under apjii, no preference under poll), so knowing the measure is worth almost all
    of EVPI; an unrelated measure label is worth nothing."""
    rng = np.random.default_rng(5)
    n = 300
    measure = np.array(["kominfo", "poll", "apjii"] * (n // 3), dtype=object)
    lean = np.select([measure == "kominfo", measure == "apjii"], [-0.05, 0.05], 0.0)
    outcomes = np.vstack([0.5 - lean, np.full(n, 0.5), 0.5 + lean]) + rng.normal(0, 0.002, (3, n))
    draws = pd.DataFrame({"use_measure": pd.Series(measure, dtype=object)})
    voi = algorithm.value_of_information({"training/infrastructure": _matrix(outcomes)}, draws,
                                         "adoption_final", True, 1e6)
    (row,) = voi.itertuples()
    assert row.parameter == "use_measure" and row.share_of_evpi > 0.8
    assert row.evppi == pytest.approx(2 / 3 * 0.05, rel=0.1)  # kominfo and apjii worlds gain 0.05
    shuffled = pd.DataFrame({"use_measure": pd.Series(rng.permutation(measure), dtype=object)})
    flat = np.vstack([np.full(n, 0.5), np.full(n, 0.5), np.full(n, 0.5)]) + rng.normal(0, 0.01, (3, n))
    none = algorithm.value_of_information({"training/infrastructure": _matrix(flat)}, shuffled,
                                          "adoption_final", True, 1e6)
    assert none["evppi"].iloc[0] == pytest.approx(0.0, abs=1e-3)
    text = " ".join(str(b[1]) for b in report.information_blocks(voi, "adoption_final", {}) if b[0] == "ul")
    assert "which survey's measure of the use of online services is right" in text
