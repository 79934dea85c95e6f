"""The mesa Agent classes are views on the model's arrays: reads and writes go straight through."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim import Citizen, CivilServant, DigitalAdoptionModel, ServiceOffice
from sim.config import REGIONS
from sim.state import USER


def small_model(seed: int = 2, policy: str = "baseline", **overrides) -> DigitalAdoptionModel:
    # policy.start_date=None: the policy acts from month 0 of these short runs.
    return DigitalAdoptionModel(population="small", policy=policy, seed=seed, steps=12,
                                overrides={"progress": False, "policy.start_date": None, **overrides})


@pytest.fixture(scope="module")
def model() -> DigitalAdoptionModel:
    """A model three months in (read-only: tests that write build their own)."""
    m = small_model(seed=2, policy="comprehensive")
    for _ in range(3):
        m.step()
    return m


def test_one_agent_per_row_of_each_array(model):
    s = model.state
    for cls, n in ((Citizen, s.citizens.n), (CivilServant, s.staff.n), (ServiceOffice, s.offices.n)):
        agents = model.agents_by_type[cls]
        assert len(agents) == n > 0
        assert sorted(a.index for a in agents) == list(range(n))
    assert len(model.agents) == s.citizens.n + s.staff.n + s.offices.n


def test_agent_attributes_read_the_current_arrays(model):
    citizens = model.agents_by_type[Citizen]
    servants = model.agents_by_type[CivilServant]
    offices = model.agents_by_type[ServiceOffice]
    s = model.state
    order = [a.index for a in citizens]
    np.testing.assert_array_equal(citizens.get("trust"), s.citizens.trust[order])
    np.testing.assert_array_equal(citizens.get("state"), s.citizens.state[order])
    np.testing.assert_array_equal(citizens.get("access"), s.citizens.access[order])
    order = [a.index for a in servants]
    np.testing.assert_array_equal(servants.get("resistance"), s.staff.resistance[order])
    np.testing.assert_array_equal(servants.get("digital"), s.staff.digital[order])
    order = [a.index for a in offices]
    np.testing.assert_array_equal(offices.get("readiness"), s.offices.readiness[order])
    # Mesa's aggregation over the views reproduces the model's own metrics.
    assert citizens.agg("trust", np.mean) == pytest.approx(model.latest["trust_mean"])
    assert np.mean(citizens.get("is_user")) == pytest.approx(model.latest["adoption"])
    assert np.mean(servants.get("digital")) == pytest.approx(model.latest["digital_staff_share"])


def test_views_follow_the_model_as_it_steps():
    m = small_model(seed=4)
    citizen = m.agents_by_type[Citizen][0]
    trust_path = [citizen.trust]
    for _ in range(3):
        m.step()
        trust_path.append(citizen.trust)
        assert citizen.trust == m.state.citizens.trust[citizen.index]
    assert len(set(trust_path)) > 1  # the agent saw the monthly updates


def test_selection_and_grouping(model):
    citizens = model.agents_by_type[Citizen]
    s = model.state
    users = citizens.select(lambda a: a.is_user)
    assert len(users) == int(np.sum(s.citizens.state == USER)) > 0
    assert all(a.state == USER for a in users)
    assert len(citizens.select(lambda a: a.is_user, at_most=10)) == 10
    counts = citizens.groupby("region").count()
    expected = np.bincount(s.citizens.region, minlength=len(REGIONS))
    assert counts == {name: int(expected[i]) for i, name in enumerate(REGIONS) if expected[i]}
    rural_trust = citizens.select(lambda a: not a.urban).agg("trust", np.mean)
    assert rural_trust == pytest.approx(s.citizens.trust[~s.citizens.urban].mean())


def test_hierarchy_and_office_assignment_through_agents(model):
    servants = {a.index: a for a in model.agents_by_type[CivilServant]}
    offices = {a.index: a for a in model.agents_by_type[ServiceOffice]}
    heads = [a for a in servants.values() if a.level == 0]
    assert len(heads) == len(offices)  # one head per office
    assert {h.office for h in heads} == set(offices)
    for servant in servants.values():
        if servant.level == 0:
            assert servant.supervisor == -1
        else:
            boss = servants[servant.supervisor]
            assert boss.office == servant.office and boss.level == servant.level - 1
    for citizen in model.agents_by_type[Citizen]:
        office = offices[citizen.office]
        assert (office.region, office.urban) == (citizen.region, citizen.urban)


def test_writing_an_agent_attribute_writes_the_array():
    m = small_model(seed=5)
    s = m.state
    citizen = m.agents_by_type[Citizen][7]
    citizen.trust = 0.123
    citizen.aware = True
    assert s.citizens.trust[citizen.index] == 0.123 and s.citizens.aware[citizen.index]
    servant = m.agents_by_type[CivilServant][3]
    servant.resistance = 0.0
    servant.digital = True
    assert s.staff.resistance[servant.index] == 0.0 and s.staff.digital[servant.index]
    office = m.agents_by_type[ServiceOffice][1]
    office.capacity = 0.25
    assert s.offices.capacity[office.index] == 0.25
    m.agents_by_type[Citizen].set("literacy", 0.5)
    assert np.all(s.citizens.literacy == 0.5)


def test_writes_through_agents_change_what_the_model_does():
    """Cut everyone's internet through the AgentSet: nobody can adopt any more."""
    no_trend = {"params.trends.access_logit_per_year": 0.0}  # nobody gets connected by the trend
    m = small_model(seed=6, **no_trend)
    m.agents_by_type[Citizen].set("access", False)
    assert not m.state.citizens.access.any()
    users_before = m.state.citizens.state == USER
    for _ in range(4):
        m.step()
    new_users = (m.state.citizens.state == USER) & ~users_before
    assert not new_users.any()
    # The same seed with access untouched gains new users in those months (some lapse as well).
    control = small_model(seed=6, **no_trend)
    for _ in range(4):
        control.step()
    assert ((control.state.citizens.state == USER) & ~users_before).any()


def test_agents_on_request_for_large_populations():
    m = small_model(seed=1, materialise_agents="never")
    assert len(m.agents) == 0
    m.materialise_agents()
    n = m.state.citizens.n + m.state.staff.n + m.state.offices.n
    assert len(m.agents) == n
    m.materialise_agents()  # idempotent
    assert len(m.agents) == n


def test_mesa_datacollector_agent_reporters_work(model):
    collector = mesa.DataCollector(
        agenttype_reporters={Citizen: {"trust": "trust"}, CivilServant: {"resistance": "resistance"}}
    )
    collector.collect(model)
    citizens = collector.get_agenttype_vars_dataframe(Citizen)
    assert len(citizens) == model.state.citizens.n
    assert citizens["trust"].mean() == pytest.approx(model.state.citizens.trust.mean())
    staff = collector.get_agenttype_vars_dataframe(CivilServant)
    assert staff["resistance"].mean() == pytest.approx(model.state.staff.resistance.mean())
