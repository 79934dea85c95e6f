"""Services as entities: the portfolio's needs, seasons, eligibility, office slots, pull and mandates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, compose
from sim.model import DigitalAdoptionModel
from sim.store.files import SERVICES_FILE, run_files

N = 3000


def _run(portfolio: str = "indonesia", policy: str = "baseline", steps: int = 72,
         parameters: str = "calibrated", **overrides):
    cfg = compose(policy=policy, portfolio=portfolio, parameters=parameters,
                  overrides={"population.n_citizens": N, "steps": steps, "progress": False, "seed": 5,
                             **overrides})
    return DigitalAdoptionModel(config=cfg).run()


def _service(model: DigitalAdoptionModel, name: str) -> pd.DataFrame:
    table = model.service_table()
    return table[table.service == name].set_index("month")


def test_the_general_portfolio_is_the_one_service_model_and_writes_no_service_table():
    model = _run("general", steps=12)
    assert model.state.services is None and model.service_table().empty
    files = run_files(model.summary(), model.timeseries(), model.cfg, services=model.service_table())
    assert SERVICES_FILE not in files


def test_a_service_nobody_needs_changes_no_national_figure():
    """Needs beyond the first service draw from their own stream: a service with need 0 beside the
    general one leaves every other random number, and so every monthly metric, as it was."""
    same = "calibrated_indonesia"  # one parameter set under both portfolios
    alone = _run("general", steps=36, parameters=same).timeseries()
    overrides = {"services.tax_filing.need_rate": 0.0, "services.business_licence.need_rate": 0.0,
                 "services.digital_id.need_rate": 0.0, "services.census_2020.need_rate": 0.0}
    beside = _run("indonesia", steps=36, parameters=same, **overrides)
    pd.testing.assert_frame_equal(alone, beside.timeseries())
    assert (beside.service_table().query("service != 'general'").needs == 0).all()


def test_a_seasonal_service_is_needed_in_its_season_only_and_by_the_eligible_only():
    model = _run(steps=26)  # 2020-01 to 2022-02
    tax = _service(model, "tax_filing")
    calendar = (tax.index - 1) % 12 + 1  # the row of month m counts the month that began at m - 1
    in_season = tax.index.isin(range(1, 27)) & np.isin(calendar, [1, 2, 3])
    assert (tax.needs[~in_season & (tax.index > 0)] == 0).all()
    assert (tax.needs[in_season] > 0).all()
    assert tax.eligible_share.iloc[0] == pytest.approx(0.09, abs=1 / N)
    # the eligible are the richest: nobody below the top 9% of income ranks has used it online
    c, portfolio = model.state.citizens, model.state.services
    used = portfolio.used[:, portfolio.names.index("tax_filing")]
    assert used.any() and (c.income_rank[used] >= 1 - 0.09).all()


def test_a_one_off_service_is_needed_between_its_launch_and_its_end_only():
    census = _service(_run(steps=10), "census_2020")  # February to May 2020: rows 2 to 5
    assert (census.needs.loc[[0, 1, 6, 7, 8, 9, 10]] == 0).all()
    assert (census.needs.loc[2:5] > 0).all()
    assert census.used_share_of_eligible.loc[5] == census.used_share_of_eligible.loc[10] > 0


def test_a_service_launched_later_is_not_needed_before_its_launch():
    model = _run(steps=48)
    digital_id = _service(model, "digital_id")
    assert (digital_id.needs.loc[1:36] == 0).all()  # launched 2023-01, month 36
    assert (digital_id.needs.loc[37:] > 0).all()


def test_offices_complete_at_most_their_slots_of_in_person_steps_and_more_slots_mean_faster_uptake():
    model = _run(steps=72)
    portfolio = model.state.services
    k = portfolio.names.index("digital_id")
    slots = np.ceil(portfolio.params[k].activation_capacity * portfolio.office_citizens).sum()
    digital_id = _service(model, "digital_id")
    assert digital_id.activations.max() <= slots
    assert digital_id.activations_refused.sum() > 0  # the offices are the bottleneck at these values
    roomy = _service(_run(steps=72, **{"services.digital_id.activation_capacity": 0.05}), "digital_id")
    assert roomy.activations_refused.sum() < digital_id.activations_refused.sum()
    assert roomy.used_share_of_eligible.iloc[-1] > digital_id.used_share_of_eligible.iloc[-1]
    # nobody uses it online before their in-person step
    assert not (portfolio.used[:, k] & ~portfolio.activated[:, k]).any()


def test_a_stronger_pull_raises_that_service_online_share():
    weak = _service(_run(steps=40, **{"services.business_licence.pull": 0.0}), "business_licence")
    strong = _service(_run(steps=40, **{"services.business_licence.pull": 4.0}), "business_licence")
    assert strong.online_successes.sum() > weak.online_successes.sum()
    assert strong.used_share_of_eligible.iloc[-1] > weak.used_share_of_eligible.iloc[-1]


def test_a_mandate_for_one_service_raises_that_service_and_obliges_nobody_for_the_others():
    # the business licence: voluntary in the portfolio (tax filing is digital by default already)
    settings = {"policy.start_date": "2021-01", "policy.mandate.start_month": 0,
                "policy.mandate.services": ["business_licence"], "steps": 30}
    baseline = _run(steps=30, **{"policy.start_date": "2021-01"})
    mandated = _run(policy="mandate", **settings)
    licence_b, licence_m = _service(baseline, "business_licence"), _service(mandated, "business_licence")
    after = licence_m.index[licence_m.index > 12]
    share_b = licence_b.online.loc[after].sum() / licence_b.needs.loc[after].sum()
    share_m = licence_m.online.loc[after].sum() / licence_m.needs.loc[after].sum()
    assert share_m > share_b + 0.3
    # national adoption rises far less than under a mandate covering every service
    everything = _run(policy="mandate", **{**settings, "policy.mandate.services": []})
    gain_one = mandated.latest["adoption"] - baseline.latest["adoption"]
    gain_all = everything.latest["adoption"] - baseline.latest["adoption"]
    assert 0 < gain_one < gain_all


def test_a_branch_of_a_portfolio_run_is_the_run_from_its_start():
    cfg = compose(policy="mandate", portfolio="indonesia", overrides={
        "population.n_citizens": 2000, "steps": 50, "progress": False, "seed": 2,
        "policy.start_date": "2023-06", "policy.mandate.services": ["digital_id"],
        "policy.mandate.start_month": 2})
    whole = DigitalAdoptionModel(config=cfg).run()
    trunk_cfg = compose(portfolio="indonesia", overrides={
        "population.n_citizens": 2000, "steps": 50, "progress": False, "seed": 2,
        "policy.start_date": "2023-06"})
    trunk = DigitalAdoptionModel(config=trunk_cfg)
    while trunk.month < 41:
        trunk.step()
    branch = trunk.branch(cfg).run()
    pd.testing.assert_frame_equal(whole.service_table(), branch.service_table())
    pd.testing.assert_frame_equal(whole.timeseries(), branch.timeseries())


@pytest.mark.parametrize(("overrides", "words"), [
    ({"services.tax_filing.need_rate": 1.5}, "services.tax_filing.need_rate=1.5: out of range"),
    ({"services.digital_id.season_months": [13]}, "services.digital_id.season_months[0]=13"),
    ({"services.digital_id.launch_date": "2023-13"}, "services.digital_id.launch_date='2023-13'"),
    ({"services.census_2020.end_date": "2020-01"}, "services.census_2020.end_date='2020-01'"),
    ({"services.tax_filing.eligible": "rich"}, "services.tax_filing.eligible='rich'"),
    ({"services.census.pull": 1.0}, "services.census.pull: unknown key"),
    ({"policy.mandate.services": ["census"]}, "policy.mandate.services=['census']"),
    ({"policy.start_date": "2021-01", "policy.mandate.start_month": 0,
      "policy.mandate.services": ["digital_id"]}, "a mandate cannot precede the service it covers"),
])
def test_bad_service_input_is_one_line_naming_the_key(overrides, words):
    with pytest.raises(ConfigError) as err:
        compose(policy="mandate", portfolio="indonesia", overrides=overrides)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_an_unknown_portfolio_is_one_line_listing_the_portfolios():
    with pytest.raises(ConfigError, match=r"portfolio=nope: unknown portfolio; allowed: general, indonesia"):
        compose(portfolio="nope")


def test_a_digital_default_sends_its_followers_online_and_the_most_attached_to_the_counter():
    settings = {"services.tax_filing.digital_default_date": "2019-01", "services.tax_filing.success": 1.0,
                "services.census_2020.need_rate": 0.0}  # no census beside the 2020 season
    full = _run(steps=16, **settings, **{"services.tax_filing.default_compliance": 1.0})
    tax = _service(full, "tax_filing")
    season = tax[tax.needs > 0]
    c, portfolio = full.state.citizens, full.state.services
    k = portfolio.names.index("tax_filing")
    eligible = portfolio.eligible_idx[k]
    # connected filers file online, and with success 1 every filing succeeds, whatever else they use
    assert season.online_successes.sum() == season.online.sum() > 0
    assert portfolio.used[eligible[c.access[eligible]], k].mean() > 0.95
    assert not portfolio.used[eligible[~c.access[eligible]], k].any()  # no internet, no online filing
    half = _service(_run(steps=16, **settings, **{"services.tax_filing.default_compliance": 0.5}),
                    "tax_filing")
    assert half[half.needs > 0].online.sum() < season.online.sum()


def test_a_service_of_its_own_reliability_succeeds_at_that_rate():
    always = _service(_run(steps=14, **{"services.tax_filing.success": 1.0}), "tax_filing")
    never = _service(_run(steps=14, **{"services.tax_filing.success": 0.0}), "tax_filing")
    assert always.online.sum() > 0 and never.online.sum() > 0
    # one draw per user and month decides each service used: at 1 every filing succeeds, at 0 none
    assert never.online_successes.sum() == 0
    assert always.online_successes.sum() == always.online.sum()


def test_staff_assisted_electronic_filing_raises_the_electronic_share_and_nobody_s_own_use():
    """A digital-by-default service's counter transactions completed electronically by staff: the
    service's electronic share rises with params.adoption.assisted_electronic, its own online use and
    every national figure stay as they were (no draw, no change of anyone's state)."""
    none = _run(steps=40, **{"params.adoption.assisted_electronic": 0.0})
    half = _run(steps=40, **{"params.adoption.assisted_electronic": 0.5})
    every = _run(steps=40, **{"params.adoption.assisted_electronic": 1.0})
    tax = [_service(m, "tax_filing") for m in (none, half, every)]
    season = tax[0].needs > 0
    assert (tax[0].assisted_electronic == 0).all()
    assert np.allclose(tax[0].electronic_share[season], tax[0].online_share[season])
    assert (tax[1].electronic_share[season] > tax[0].electronic_share[season]).all()
    assert (tax[2].electronic_share[season] == 1.0).all()  # every counter return filed electronically
    for t in tax[1:]:
        pd.testing.assert_series_equal(t.online_successes, tax[0].online_successes)
        expected = np.rint((0.5 if t is tax[1] else 1.0) * (t.needs - t.online_successes))
        assert (t.assisted_electronic[season] == expected[season]).all()
    pd.testing.assert_frame_equal(half.timeseries(), none.timeseries())
    # a voluntary service is never filed electronically at the counter
    assert (_service(every, "business_licence").assisted_electronic == 0).all()
