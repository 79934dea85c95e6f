"""A sample stratified by province (population.province_min_share) with survey weights: enough agents
in every province, and national figures that agree with a proportional sample's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.agents import Citizen
from sim.model import DigitalAdoptionModel
from sim.parameters import ConfigError
from sim.provinces import N_PROVINCES, population_shares
from sim.weights import group_totals

STRATIFIED = {"population.province_min_share": 0.015}  # 300 of 20,000
# national figures the weights must carry; the seeds' spread of each is the yardstick
NATIONAL = ["access", "literacy_mean", "awareness", "adoption", "ever_used_connected", "trust_mean",
            "gap_urban_rural", "gap_income_q5_q1", "concentration_index", "digital_transaction_share",
            "adoption_maluku_papua", "spend_total_idr_bn"]


def _final(seed: int, overrides: dict, naive: bool = False) -> pd.Series:
    model = DigitalAdoptionModel(n_citizens=20_000, steps=72, seed=seed, policy="infrastructure",
                                 portfolio="indonesia", overrides=overrides)
    model.run(progress=False)
    row = pd.DataFrame(model.rows)[NATIONAL].iloc[-1]
    if naive:  # the same run read without its weights: what the weights correct
        c = model.state.citizens
        row["access"] = float(np.mean(c.access))
        row["adoption_maluku_papua"] = float("nan")
    return row


def test_every_province_gets_its_floor_and_the_weights_stand_for_its_people():
    model = DigitalAdoptionModel(n_citizens=20_000, steps=1, seed=1, overrides=STRATIFIED)
    c = model.state.citizens
    agents = np.bincount(c.province, minlength=N_PROVINCES)
    assert agents.min() >= 300 and agents.sum() == 20_000
    assert c.weight is not None and c.weight.sum() == pytest.approx(20_000, rel=1e-9)
    people = group_totals(c.province, N_PROVINCES, c.weight) / 20_000
    assert np.allclose(people, population_shares(model.cfg.population.region_shares), atol=1e-12)
    proportional = DigitalAdoptionModel(n_citizens=20_000, steps=1, seed=1).state.citizens
    assert proportional.weight is None
    assert np.bincount(proportional.province, minlength=N_PROVINCES).min() < 100


def test_an_agent_says_how_many_people_it_stands_for():
    model = DigitalAdoptionModel(n_citizens=20_000, steps=1, seed=2, overrides=STRATIFIED,
                                 materialise_agents="always")
    citizens = model.agents_by_type[Citizen]
    people = np.array([a.people for a in citizens])
    assert people.sum() == pytest.approx(model.cfg.population.population_total, rel=1e-9)
    papua_selatan = [a.people for a in citizens if a.province == "Papua Selatan"]
    assert len(papua_selatan) >= 300 and max(papua_selatan) < 0.2 * model.state.people_per_citizen
    plain = DigitalAdoptionModel(n_citizens=2_000, steps=1, seed=2, materialise_agents="always")
    assert {a.people for a in plain.agents_by_type[Citizen]} == {plain.state.people_per_citizen}


def test_weighted_national_figures_agree_with_a_proportional_sample():
    """Six seeds of each design, the infrastructure scenario over six years: every national figure's mean
    agrees within four standard errors of the difference. The unweighted reading of the stratified runs
    does not (access is biased towards the over-sampled provinces), so the check has the power to fail."""
    seeds = range(6)
    plain = pd.DataFrame([_final(s, {}) for s in seeds])
    weighted = pd.DataFrame([_final(100 + s, STRATIFIED) for s in seeds])
    se = np.sqrt(plain.var() / len(seeds) + weighted.var() / len(seeds))
    gap = (weighted.mean() - plain.mean()).abs()
    tolerance = np.maximum(4 * se, 1e-3 * plain.mean().abs().clip(lower=1e-3))
    assert (gap <= tolerance).all(), pd.DataFrame({"gap": gap, "tolerance": tolerance})[gap > tolerance]
    naive = pd.DataFrame([_final(100 + s, STRATIFIED, naive=True) for s in seeds[:2]])
    assert plain["access"].mean() - naive["access"].mean() > 10 * se["access"]


def test_a_lever_spends_the_same_money_on_people_whatever_the_sample():
    """The budget buys people: a stratified run spends it as a proportional one does, and the people reached
    are spread over the provinces as their candidates are (not over-sampled where agents are cheap)."""
    runs = {}
    for name, overrides in (("plain", {}), ("weighted", STRATIFIED)):
        model = DigitalAdoptionModel(n_citizens=20_000, steps=72, seed=4, policy="infrastructure",
                                     portfolio="indonesia", overrides=overrides)
        model.run(progress=False)
        runs[name] = pd.DataFrame(model.rows)["spend_total_idr_bn"].sum()
    assert runs["weighted"] == pytest.approx(runs["plain"], rel=0.01)


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"population.province_min_share": 0.03}, "population.province_min_share=0.03"),
    ({"population.province_min_share": 0.015, "network": "mean_field"}, "mean_field"),
])
def test_a_sample_that_cannot_be_stratified_is_refused_in_one_line(overrides, fragment):
    network = overrides.pop("network", "homophilous")
    with pytest.raises(ConfigError, match=fragment) as err:
        DigitalAdoptionModel(n_citizens=20_000, network=network, overrides=overrides)
    assert "\n" not in str(err.value)
