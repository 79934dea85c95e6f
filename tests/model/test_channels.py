"""Integrated service centres (Mal Pelayanan Publik): coverage follows the published openings, the
lever opens more, and the help they give (less literacy needed) matters where literacy binds."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.adoption import AdoptionParams, ease_of_use, literacy_relief
from sim.rules.channels import CENTRES_OPENED, DISTRICTS, centre_coverage
from sim.rules.policy import UNIT_LEVERS

UNIT_LEVERS_BY_NAME = {lever.name: lever for lever in UNIT_LEVERS}


def test_coverage_follows_the_published_counts():
    for year, count in CENTRES_OPENED:
        assert centre_coverage(year) == pytest.approx(count / DISTRICTS)
    assert centre_coverage(2010.0) == 0.0
    assert centre_coverage(2040.0) == pytest.approx(CENTRES_OPENED[-1][1] / DISTRICTS)
    years = np.linspace(2015, 2030, 200)
    assert np.all(np.diff([centre_coverage(y) for y in years]) >= 0)


def test_the_run_covers_citizens_as_centres_open(simulate):
    run = simulate("baseline", 1, steps=72)
    ts = run.timeseries
    for row in (0, 36, 60, 72):
        expected = centre_coverage(float(ts["year"].iloc[row]))
        # each citizen is covered once the share passes their own draw: a binomial share
        se = np.sqrt(expected * (1 - expected) / run.state.citizens.n)
        assert abs(ts["centre_coverage"].iloc[row] - expected) <= 4 * se + 1e-12
    assert np.all(np.diff(ts["centre_coverage"]) >= 0)


def test_help_at_a_centre_lowers_the_literacy_needed():
    literacy = np.array([0.1, 0.3, 0.9])
    plain = ease_of_use(literacy, 0.8, 0.0, 0.6)
    helped = ease_of_use(literacy, 0.8, 0.0, 0.6, relief=0.5)
    assert np.all(helped >= plain)
    assert helped[0] == pytest.approx(2 * plain[0])  # literacy binds: twice the ease at half the need
    assert helped[2] == plain[2] == pytest.approx(0.8)  # the literate gain nothing


def test_the_lever_opens_centres_and_helps_the_least_literate_most(simulate):
    gains = {"t1": [], "t3": []}
    for seed in (1, 2, 3, 4):
        base = simulate("baseline", seed, steps=48)
        centres = simulate("service_centres", seed, steps=48)
        assert centres.final["centre_coverage"] == 1.0 > base.final["centre_coverage"]
        assert centres.summary["cost_idr_bn"] > 0
        for t in gains:
            gains[t].append(centres.final[f"adoption_literacy_{t}"] - base.final[f"adoption_literacy_{t}"])
    assert np.mean(gains["t1"]) > 0
    assert np.mean(gains["t1"]) > np.mean(gains["t3"]), gains


def test_the_better_help_counts_where_both_serve():
    params = AdoptionParams(assisted_literacy_cut=0.5, partner_literacy_cut=0.3)
    centre = np.array([False, True, False, True])
    partner = np.array([False, False, True, True])
    np.testing.assert_allclose(literacy_relief(centre, partner, params), [0.0, 0.5, 0.3, 0.5])


def test_partners_reach_only_people_no_centre_serves(simulate):
    base = simulate("baseline", 1, steps=36)
    partners = simulate("partnerships", 1, steps=36)
    c = partners.state.citizens
    assert c.partner_covered.any()
    # a partner point goes only to someone no centre serves yet (a centre may open there later)
    eligible = UNIT_LEVERS_BY_NAME["partnerships"].eligible(partners.state, None)
    assert not (eligible & c.centre_covered).any() and not (eligible & c.partner_covered).any()
    assert partners.final["assisted_access"] > base.final["assisted_access"]
    assert partners.final["centre_coverage"] == base.final["centre_coverage"]  # centres open as published
    assert partners.final["adoption_literacy_t1"] > base.final["adoption_literacy_t1"]


def test_no_help_no_effect(simulate):
    """With no literacy relief a centre changes nothing: the lever's runs equal the baseline's."""
    off = {"params.adoption.assisted_literacy_cut": 0.0}
    base = simulate("baseline", 1, steps=24, overrides=off)
    centres = simulate("service_centres", 1, steps=24, overrides=off)
    assert np.array_equal(base.timeseries["adoption"], centres.timeseries["adoption"])
