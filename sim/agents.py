"""Mesa agents as views over the model's state arrays.

Each agent holds only its index; every attribute reads and writes through to the arrays in
``model.state``, so Mesa's tools (AgentSet selection, DataCollector agent reporters, SolaraViz) see
exactly what the vectorised submodels compute. The monthly step never loops over these objects.
For large populations the objects are created on request (``model.materialise_agents()``).
"""

from __future__ import annotations

from typing import Protocol

import mesa

from sim.names import AGE_BANDS, REGIONS
from sim.provinces import PROVINCES
from sim.state import State


class ArrayModel(Protocol):
    """What an agent view needs of its model: the state arrays. Typed as a protocol rather than
    :class:`sim.model.DigitalAdoptionModel` so that the agents do not depend on the model that
    creates them (any mesa.Model holding a :class:`sim.state.State` will do)."""

    state: State


def _array_property(group: str, name: str, cast: type, doc: str) -> property:
    def getter(self: _ArrayAgent):
        return cast(getattr(getattr(self.model.state, group), name)[self.index])

    def setter(self: _ArrayAgent, value) -> None:
        getattr(getattr(self.model.state, group), name)[self.index] = value

    return property(getter, setter, doc=doc)


class _ArrayAgent(mesa.Agent):
    """A mesa.Agent whose state is row ``index`` of the model's arrays."""

    model: ArrayModel

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = int(index)


class Citizen(_ArrayAgent):
    """A resident (aged 13+) who may use the digital public services."""

    urban = _array_property("citizens", "urban", bool, "lives in an urban area")
    age_band_index = _array_property("citizens", "age_band", int, "index into AGE_BANDS")
    quintile = _array_property("citizens", "quintile", int, "income quintile, 0 = poorest")
    literacy = _array_property("citizens", "literacy", float, "digital literacy [0, 1]")
    access = _array_property("citizens", "access", bool, "has usable internet")
    trust = _array_property("citizens", "trust", float, "trust in government services [0, 1]")
    aware = _array_property("citizens", "aware", bool, "knows the digital services exist")
    state = _array_property("citizens", "state", int, "0 non-user, 1 user, 2 lapsed")
    office = _array_property("citizens", "office", int, "index of the serving office")
    counter_attachment = _array_property("citizens", "counter_attachment", float,
                                         "attachment to the office counter [0, 1), strongest near 0")

    @property
    def region(self) -> str:
        return REGIONS[int(self.model.state.citizens.region[self.index])]

    @property
    def province(self) -> str:
        return PROVINCES[int(self.model.state.citizens.province[self.index])]

    @property
    def age_band(self) -> str:
        return AGE_BANDS[self.age_band_index]

    @property
    def is_user(self) -> bool:
        return self.state == 1

    @property
    def people(self) -> float:
        """The real people this agent stands for: ``people_per_citizen``, times the survey weight in a
        sample stratified by province (``population.province_min_share``, :mod:`sim.weights`)."""
        state = self.model.state
        weight = state.citizens.weight
        return state.people_per_citizen * (1.0 if weight is None else float(weight[self.index]))


class CivilServant(_ArrayAgent):
    """A civil servant (ASN) in an office hierarchy."""

    office = _array_property("staff", "office", int, "index of the office")
    level = _array_property("staff", "level", int, "0 head, 1 supervisor, 2 staff")
    supervisor = _array_property("staff", "supervisor", int, "index of the supervisor, -1 for heads")
    competence = _array_property("staff", "competence", float, "digital competence [0, 1]")
    resistance = _array_property("staff", "resistance", float, "resistance to change [0, 1]")
    fairness = _array_property("staff", "fairness", float, "procedural justice [0, 1]")
    trained = _array_property("staff", "trained", bool, "has been trained")
    digital = _array_property("staff", "digital", bool, "works through the digital system")


class ServiceOffice(_ArrayAgent):
    """A public-service office of a province's regional government, serving the citizens of one
    province x urban/rural cell."""

    urban = _array_property("offices", "urban", bool, "urban office")
    capacity = _array_property("offices", "capacity", float, "infrastructure capacity [0, 1]")
    readiness = _array_property("offices", "readiness", float, "digital readiness [0, 1]")
    digital_share = _array_property("offices", "digital_share", float, "share of staff digital")
    fairness = _array_property("offices", "fairness", float, "mean staff fairness [0, 1]")

    @property
    def region(self) -> str:
        return REGIONS[int(self.model.state.offices.region[self.index])]

    @property
    def province(self) -> str:
        return PROVINCES[int(self.model.state.offices.province[self.index])]
