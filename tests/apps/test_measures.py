"""Conflicting surveys of the use of online services as structural uncertainty: one target file per
measure, a posterior per measure, seeds split between them in a mixture, and the decision per measure."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from experiments.calibration.app import calibration_targets
from experiments.calibration.config import CalibrateConfig, validate_calibrate
from experiments.compare import measures
from experiments.engine import posterior
from experiments.engine.posterior import (
    calibrate_command,
    check_uncertainty,
    draws_for_seeds,
    measure_of_seeds,
    representative_set,
    seeded_configs,
    shipped_checks,
    shipped_posterior,
)
from experiments.engine.targets import DEFAULT_MEASURE, national_targets, use_measures
from sim.config import ConfigError, compose


def test_every_measure_shares_the_access_and_trust_targets_and_has_its_own_use_targets():
    assert use_measures()[0] == DEFAULT_MEASURE and {"kominfo", "poll", "apjii"} <= set(use_measures())
    use = {}
    for m in use_measures():
        targets = national_targets(m)
        assert {"internet_access_2022", "trust_in_government_2021"} <= {t.name for t in targets}
        use[m] = {(t.date, t.observed) for t in targets
                  if t.metric == "ever_used_connected" and not t.is_growth}
    assert use["kominfo"] != use["poll"] != use["apjii"] != use["kominfo"]
    assert ("2021-10", 0.28) in use["kominfo"] and ("2022-01", 0.849) in use["apjii"]


def test_the_calibration_fits_the_measure_it_is_given():
    poll = {t.name for t in calibration_targets(CalibrateConfig(use_measure="poll"))}
    kominfo = {t.name for t in calibration_targets(CalibrateConfig())}
    assert "ever_used_online_services_poll_2021" in poll and "ever_used_online_services_2021" not in poll
    assert "ever_used_online_services_2021" in kominfo
    with pytest.raises(ConfigError, match=r"^use_measure='survey': unknown measure of use; allowed: kominfo"):
        validate_calibrate(CalibrateConfig(use_measure="survey"))


def test_shipped_files_are_named_after_portfolio_and_measure():
    assert shipped_posterior().name == "posterior.parquet"
    assert shipped_posterior("indonesia").name == "posterior_indonesia.parquet"
    assert shipped_posterior("indonesia", "poll").name == "posterior_indonesia_poll.parquet"
    assert shipped_posterior("general", "apjii").name == "posterior_apjii.parquet"
    assert shipped_checks("indonesia", "poll").name == "calibration_indonesia_poll.json"
    assert representative_set("indonesia", "apjii").name == "calibrated_indonesia_apjii.yaml"
    assert calibrate_command() == "make calibrate ARGS=ship=true"
    assert (calibrate_command("indonesia", "poll")
            == "make calibrate ARGS='ship=true portfolio=indonesia use_measure=poll'")
    # a run's own settings: what its stamp records (not Hydra's, not those named already)
    given = ["ship=true", "portfolio=indonesia", "use_measure=apjii", "max_simulations=60000",
             "hydra.run.dir=/tmp/x", "max_walltime_minutes=70"]
    assert (calibrate_command("indonesia", "apjii", given)
            == "make calibrate ARGS='ship=true portfolio=indonesia use_measure=apjii max_simulations=60000 "
               "max_walltime_minutes=70'")


@pytest.mark.parametrize("n", [1, 2, 7, 10, 40])
def test_seeds_split_between_measures_in_proportion_to_the_weights(n):
    weights = {"kominfo": 0.5, "poll": 0.25, "apjii": 0.25}
    seeds = list(range(100, 100 + n))
    split = measure_of_seeds(seeds, weights)
    assert split == measure_of_seeds(list(reversed(seeds)), weights)  # a function of the seeds alone
    counts = Counter(split.values())
    for m, w in weights.items():
        assert abs(counts.get(m, 0) - w * n) <= 1, (m, counts)
    assert set(measure_of_seeds(seeds).values()) == {DEFAULT_MEASURE}
    assert "poll" not in measure_of_seeds(seeds, {"kominfo": 1.0, "poll": 0.0}).values()


def test_adding_seeds_keeps_the_earlier_seeds_measures_and_draws(tmp_path, monkeypatch):
    weights = {"kominfo": 0.5, "poll": 0.25, "apjii": 0.25}
    first, more = list(range(5, 25)), list(range(5, 205))
    assert {s: measure_of_seeds(more, weights)[s] for s in first} == measure_of_seeds(first, weights)
    counts = Counter()  # and every first k seeds are split in proportion to within one
    for k, seed in enumerate(more):
        counts[measure_of_seeds(more, weights)[seed]] += 1
        assert all(abs(counts[m] - w * (k + 1)) < 1 for m, w in weights.items())
    monkeypatch.setattr(posterior, "SHIPPED", tmp_path / "posterior.parquet")
    for measure in weights:
        pd.DataFrame({"params.adoption.need_rate": np.linspace(0.1, 0.3, 7)}).to_parquet(
            shipped_posterior("general", measure))
    few, many = draws_for_seeds(first, measures=weights), draws_for_seeds(more, measures=weights)
    assert all(many[s] == few[s] for s in first)


def test_a_measures_worlds_are_distinct_draws_until_its_posterior_is_used_up(tmp_path):
    path = tmp_path / "draws.parquet"
    pd.DataFrame({"params.adoption.need_rate": np.linspace(0.1, 0.3, 49)}).to_parquet(path)
    draws = draws_for_seeds(list(range(98)), posterior_file=str(path))
    values = [draws[s][1]["params.adoption.need_rate"] for s in range(98)]
    assert len(set(values[:49])) == 49  # every draw once (random rows would repeat about 18 of 49)
    assert values[49:] == values[:49]  # then the same order again


@pytest.mark.parametrize(("weights", "fragment"), [
    ({"survey": 1.0}, "use_measures='survey': unknown measure of use"),
    ({"kominfo": -1.0}, "use_measures.kominfo=-1.0: out of range; allowed: a weight >= 0"),
    ({"kominfo": 0.0}, "no weight; allowed: at least one measure"),
])
def test_bad_measure_weights_are_one_line(weights, fragment):
    with pytest.raises(ConfigError, match=fragment) as err:
        check_uncertainty("none", None, "general", weights)
    assert "\n" not in str(err.value)


def test_a_named_posterior_file_serves_every_seed_whatever_the_weights(tmp_path):
    path = tmp_path / "mine.parquet"
    pd.DataFrame({"params.adoption.need_rate": np.full(5, 0.2)}).to_parquet(path)
    weights = {"kominfo": 0.5, "poll": 0.25, "apjii": 0.25}
    check_uncertainty("posterior", str(path), "indonesia", weights)
    configs = seeded_configs(compose(), [0, 1, 2, 3], "posterior", str(path), "indonesia", weights)
    assert {c.params.adoption.need_rate for c in configs} == {0.2}


def test_a_missing_measure_posterior_names_the_command_that_makes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(posterior, "SHIPPED", tmp_path / "posterior.parquet")
    command = "make calibrate ARGS='ship=true portfolio=indonesia use_measure=poll'"
    with pytest.raises(ConfigError, match=r"use_measures.poll=.*posterior_indonesia_poll.parquet: no "
                       r"posterior there.*" + command):
        check_uncertainty("posterior", None, "indonesia", {"poll": 1.0})


def test_each_seed_draws_from_its_own_measures_posterior(tmp_path, monkeypatch):
    monkeypatch.setattr(posterior, "SHIPPED", tmp_path / "posterior.parquet")
    for measure, value in (("kominfo", 0.1), ("poll", 0.3)):
        pd.DataFrame({"params.adoption.need_rate": np.full(20, value)}).to_parquet(
            shipped_posterior("general", measure))
    seeds = [0, 1, 2, 3]
    weights = {"kominfo": 0.5, "poll": 0.5}
    a = seeded_configs(compose(policy="baseline"), seeds, "posterior", None, "general", weights)
    b = seeded_configs(compose(policy="training"), seeds, "posterior", None, "general", weights)
    split = measure_of_seeds(seeds, weights)
    for ca, cb in zip(a, b, strict=True):
        assert ca.params.adoption.need_rate == cb.params.adoption.need_rate  # paired across scenarios
        assert ca.params.adoption.need_rate == {"kominfo": 0.1, "poll": 0.3}[split[ca.seed]]


def _runs(winner_by_measure: dict[str, str]) -> pd.DataFrame:
    rows = []
    for k, (measure, winner) in enumerate(winner_by_measure.items()):
        for seed in range(10 * k, 10 * k + 5):
            for scenario in ("baseline", "training", "infrastructure"):
                value = 0.3 + (0.1 if scenario == winner else 0.05 * (scenario != "baseline"))
                rows.append({"scenario": scenario, "seed": seed, measures.COLUMN: measure,
                             "adoption_final": value + 0.001 * seed})
    return pd.DataFrame(rows)


def test_the_report_says_whether_the_decision_holds_under_every_measure(tmp_path):
    scenarios = ["baseline", "training", "infrastructure"]
    weights = {"kominfo": 0.5, "poll": 0.5}
    same = measures.measure_section(_runs({"kominfo": "training", "poll": "training"}), scenarios,
                                    "baseline", weights, 0.8, tmp_path)
    assert "The decision holds under every measure" in same[1][1]
    table = pd.read_csv(tmp_path / "measures.csv")
    assert set(table[measures.COLUMN]) == {"kominfo", "poll"} and (table["worlds"] == 5).all()
    flip = measures.measure_section(_runs({"kominfo": "training", "poll": "infrastructure"}), scenarios,
                                    "baseline", weights, 0.8, tmp_path)
    assert "depends on which survey defines use" in flip[1][1]
    assert "Few worlds under kominfo, poll" in flip[1][1]  # 5 worlds each
    leaders = [row[3] for row in flip[2][2]]
    assert leaders == ["training", "infrastructure"]
    one = _runs({"kominfo": "training"})
    assert measures.measure_section(one, scenarios, "baseline", {"kominfo": 1}, 0.8, tmp_path) == []


def test_the_headline_names_each_measures_leader():
    scenarios = ["baseline", "training", "infrastructure"]
    flip = measures.headline_item(_runs({"kominfo": "training", "poll": "infrastructure"}), scenarios,
                                  "baseline", 0.8)
    assert flip.startswith("The decision depends on which survey defines use")
    assert "kominfo: training (100% ± 0%, 5 worlds); poll: infrastructure" in flip
    same = measures.headline_item(_runs({"kominfo": "training", "poll": "training"}), scenarios, "baseline",
                                  0.8)
    assert same.startswith("The decision holds under every measure")
    assert measures.headline_item(_runs({"kominfo": "training"}), scenarios, "baseline", 0.8) is None


def test_the_frontier_names_the_split_each_measure_prefers_and_says_when_they_differ():
    from experiments.frontier import algorithm
    from experiments.frontier.report import measure_blocks

    shares = [0.0, 0.5, 1.0]
    seeds = list(range(12))
    measure = pd.Series({s: "kominfo" if s < 8 else "apjii" for s in seeds})
    rng = np.random.default_rng(3)
    # kominfo worlds: all on the first lever (share 1.0) is best; apjii worlds: none of it (share 0.0)
    values = np.array([[0.50 + (0.0 if measure[s] == "kominfo" else 0.1) + 0.1 * share * (
        1 if measure[s] == "kominfo" else -1) + rng.normal(0, 0.001) for s in seeds] for share in shares])
    outcomes = {"training/infrastructure": pd.DataFrame(values, index=shares, columns=seeds)}
    table = algorithm.measure_splits(outcomes, measure)
    best = table.set_index("use_measure")
    assert best.loc["kominfo", "share_a"] == 1.0 and best.loc["apjii", "share_a"] == 0.0
    assert best.loc["kominfo", "worlds"] == 8 and best.loc["apjii", "p_best"] == 1.0
    assert best.loc["kominfo", "expected_regret"] == 0.0
    text = str(measure_blocks(table, "adoption_final"))
    assert "depends on which survey defines use" in text
    same = algorithm.measure_splits({"training/infrastructure": outcomes["training/infrastructure"]
                                     .iloc[:, :8]}, measure)
    assert "the same split leads under every measure" in str(measure_blocks(same, "adoption_final"))

