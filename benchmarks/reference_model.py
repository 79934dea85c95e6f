"""The same monthly rules written the usual Mesa way: one agent object per person, one ``step`` each.

This is the yardstick the vectorised :class:`sim.model.DigitalAdoptionModel` is measured against
(``python -m benchmarks.run``), and ``tests/test_reference.py`` checks that the two agree
statistically. It is written the way a Mesa modeller would write it:

* ``Citizen`` is a ``CellAgent`` on a ``mesa.discrete_space.Network`` (one cell per citizen) and
  finds its neighbours through ``self.cell.neighborhood.agents``; ``CivilServant`` and
  ``ServiceOffice`` are plain ``mesa.Agent`` objects holding references to each other.
* Each phase of the month is ``agents.shuffle_do(...)`` over the agents, with Python's ``random``
  for the draws. Phases that read other agents' state are synchronous, as in the vectorised model:
  agents first compute their next value from the others' current values (``step``), then all adopt
  it (``advance``), the staged activation of Mesa's classic examples.
* The equations are shared with the vectorised model wherever they are plain arithmetic (the
  helpers in :mod:`sim.rules`), so that both run the same rules; only the loops differ.

The starting population, offices and network are built with the model's own synthesis functions
and random streams (seed for seed, the two start from identical states); the monthly draws come
from the Mesa model's ``random``. Only the default mechanisms and the UTAUT rule are implemented.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.agent import AgentSet
from mesa.discrete_space import CellAgent, Network

from sim.config import LEVERS, REGIONS, Mechanisms, compose
from sim.model import STREAMS
from sim.networks import build_network
from sim.population import initial_platform, synthesise_citizens, synthesise_offices_and_staff
from sim.rules.adoption import (
    adoption_utility,
    awareness_probability,
    lapse_probability,
    success_probability,
    time_saved_share,
)
from sim.rules.bureaucracy import competence_next, digital_utility, practice, resistance_next
from sim.rules.platform import breach_probability
from sim.rules.policy import IDR_PER_BN, _buy_units, _settle, invest_in_stocks, platform_decay
from sim.rules.trust import (
    after_failure,
    after_social,
    after_success,
    after_transparency,
    after_visit,
)
from sim.state import LAPSED, USER


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class ServiceOffice(mesa.Agent):
    """A service office; recomputes its readiness and fairness from its staff each month."""

    def __init__(self, model: ReferenceModel, region: int, urban: bool, capacity: float,
                 offline_hours: float) -> None:
        super().__init__(model)
        self.region = region
        self.urban = urban
        self.capacity_base = capacity
        self.capacity = capacity
        self.offline_hours = offline_hours
        self.staff: list[CivilServant] = []
        self.readiness = 0.0
        self.digital_share = 0.0
        self.fairness = 0.0

    def step(self) -> None:
        staff = self.staff
        if not staff:
            self.readiness = self.digital_share = self.fairness = 0.0
            return
        self.readiness = self.capacity * (
            sum(practice(s.digital, s.competence) for s in staff) / len(staff)
        )
        self.digital_share = sum(s.digital for s in staff) / len(staff)
        self.fairness = sum(s.fairness for s in staff) / len(staff)


class CivilServant(mesa.Agent):
    """A civil servant: resistance under hierarchy and peers, learning, choice of digital work."""

    def __init__(self, model: ReferenceModel, office: ServiceOffice, competence: float,
                 resistance: float, fairness: float, digital: bool) -> None:
        super().__init__(model)
        self.office = office
        self.supervisor: CivilServant | None = None
        self.competence = competence
        self.resistance = resistance
        self.fairness = fairness
        self.digital = digital
        self.trained = False
        self._next_digital = digital

    def step(self) -> None:
        model = self.model
        params = model.cfg.params.bureaucracy
        digital = 1.0 if self.digital else 0.0
        supervisor_digital = 1.0 if self.supervisor is None or self.supervisor.digital else 0.0
        top_down = model.cfg.policy.political_will * supervisor_digital
        peers = self.office.digital_share_now
        self.resistance = _clip01(resistance_next(params, self.resistance, top_down, peers))
        self.competence = competence_next(params, self.competence, digital)
        self._next_digital = self.digital
        if self.random.random() < params.switch_rate:
            utility = digital_utility(params, self.competence, self.office.capacity, self.resistance)
            self._next_digital = self.random.random() < _sigmoid(utility)

    def advance(self) -> None:
        self.digital = self._next_digital


class Citizen(CellAgent):
    """A resident who may hear of, adopt, use and lapse from the digital public services."""

    def __init__(self, model: ReferenceModel, cell: Any, attrs: dict[str, Any]) -> None:
        super().__init__(model)
        self.cell = cell
        for key, value in attrs.items():
            setattr(self, key, value)
        self.last_experience = 0
        self.offline_visit = False
        self._next = None

    # -- phase 1: awareness (synchronous) ------------------------------------------------------
    def hear(self) -> None:
        self._next = self.aware
        if not self.aware:
            neighbours = list(self.cell.neighborhood.agents)
            share = sum(n.aware for n in neighbours) / max(len(neighbours), 1)
            p = awareness_probability(self.model.cfg.params.adoption, share)
            self._next = self.random.random() < p

    def commit_awareness(self) -> None:
        self.aware = self._next

    # -- phase 2: need, adoption, service encounter (synchronous on neighbours' use) --------------
    def step(self) -> None:
        model = self.model
        params = model.cfg.params.adoption
        office = self.office
        self._next = self.state
        self.last_experience = 0
        self.in_need = self.random.random() < params.need_rate
        self.offline_visit = False
        if not self.in_need:
            return
        state = self.state
        if self.aware and self.access and state != USER:
            neighbours = list(self.cell.neighborhood.agents)
            social = sum(n.state == USER for n in neighbours) / max(len(neighbours), 1)
            usefulness = office.readiness * time_saved_share(office.offline_hours,
                                                             params.digital_hours)
            needed = max(params.required_literacy * (1.0 - model.platform.accessibility), 1e-9)
            ease = model.platform.usability * min(1.0, self.literacy / needed)
            utility = adoption_utility(params, usefulness, social, self.trust, ease)
            if self.random.random() < _sigmoid(utility):
                state = USER
        success = False
        if state == USER:
            p = success_probability(params, model.cfg.params.platform, office.readiness)
            success = self.random.random() < p
            self.last_experience = 1 if success else -1
            if not success and self.random.random() < lapse_probability(params, self.trust):
                state = LAPSED
        self.offline_visit = not success
        self._next = state

    def advance(self) -> None:
        self.state = self._next

    # -- phase 3: trust (own experience, then the neighbours' mean, synchronous) ----------------
    def own_trust(self) -> None:
        params = self.model.cfg.params.trust
        trust = self.trust
        if self.last_experience == 1:
            trust = after_success(params, trust)
        elif self.last_experience == -1:
            trust = after_failure(params, trust)
        if self.offline_visit:
            trust = after_visit(params, trust, self.office.fairness)
        self.trust = after_transparency(params, trust, self.model.platform.transparency)

    def social_trust(self) -> None:
        neighbours = list(self.cell.neighborhood.agents)
        if neighbours:
            mean = sum(n.trust for n in neighbours) / len(neighbours)
            self._next = after_social(self.model.cfg.params.trust, self.trust, mean)
        else:
            self._next = self.trust

    def commit_trust(self) -> None:
        self.trust = _clip01(self._next)


class ReferenceModel(mesa.Model):
    """Per-agent version of :class:`sim.model.DigitalAdoptionModel` (UTAUT rule, all mechanisms)."""

    def __init__(self, n_citizens: int | None = None, policy: str = "baseline",
                 population: str = "indonesia", network: str = "homophilous",
                 steps: int | None = None, seed: int = 42,
                 overrides: dict[str, Any] | None = None) -> None:
        extra = dict(overrides or {})
        if n_citizens is not None:
            extra["population.n_citizens"] = n_citizens
        if steps is not None:
            extra["steps"] = steps
        extra["seed"] = seed
        cfg = compose(policy=policy, population=population, network=network, overrides=extra)
        if cfg.params.adoption.rule != "utaut" or cfg.mechanisms != Mechanisms():
            raise ValueError("the reference model implements the UTAUT rule with all mechanisms on")
        super().__init__(seed=seed)
        self.cfg = cfg
        self.month = 0
        self.carry_idr: dict[str, float] = {}
        self._build()
        self.datacollector = mesa.DataCollector(model_reporters={
            "adoption": lambda m: sum(c.state == USER for c in m.citizens) / len(m.citizens),
            "awareness": lambda m: sum(c.aware for c in m.citizens) / len(m.citizens),
            "trust_mean": lambda m: sum(c.trust for c in m.citizens) / len(m.citizens),
            "digital_staff_share": lambda m: (
                sum(s.digital for s in m.civil_servants) / len(m.civil_servants)
            ),
            "usability": lambda m: m.platform.usability,
        })
        self.datacollector.collect(self)

    # ----------------------------------------------------------------- construction
    def _build(self) -> None:
        """The model's own synthesis and network with its own streams, then one agent per row."""
        cfg = self.cfg
        pop = cfg.population
        streams = np.random.SeedSequence(cfg.seed).spawn(len(STREAMS))
        rngs = {name: np.random.default_rng(s) for name, s in zip(STREAMS, streams, strict=True)}
        c = synthesise_citizens(pop, cfg.params.adoption, rngs["population"])
        o, s = synthesise_offices_and_staff(c, pop, cfg.params.adoption, rngs["population"])
        block = c.region.astype(np.int64) * 10 + c.urban.astype(np.int64) * 5 + c.quintile
        adjacency = build_network(cfg.network, c.n, block, rngs["network"])
        self.platform = initial_platform(cfg.params.platform)
        self.people_per_citizen = pop.population_total / c.n
        self.civil_servants_per_staff = pop.population_total / pop.residents_per_civil_servant / s.n

        self.offices = [
            ServiceOffice(self, int(o.region[i]), bool(o.urban[i]), float(o.capacity_base[i]),
                          float(o.offline_hours[i]))
            for i in range(o.n)
        ]
        staff = [
            CivilServant(self, self.offices[s.office[i]], float(s.competence[i]),
                         float(s.resistance[i]), float(s.fairness[i]), bool(s.digital[i]))
            for i in range(s.n)
        ]
        for i, member in enumerate(staff):
            if s.supervisor[i] >= 0:
                member.supervisor = staff[s.supervisor[i]]
            member.office.staff.append(member)
        self.civil_servants = AgentSet(staff, random=self.random)
        self.office_set = AgentSet(self.offices, random=self.random)

        if adjacency is None:
            raise ValueError("the reference model needs a network (not mean field)")
        self.grid = Network(nx.from_scipy_sparse_array(adjacency), random=self.random)
        citizens = []
        for i in range(c.n):
            attrs = {
                "region": int(c.region[i]), "urban": bool(c.urban[i]),
                "age_band": int(c.age_band[i]), "quintile": int(c.quintile[i]),
                "income_rank": float(c.income_rank[i]), "literacy": float(c.literacy[i]),
                "literacy_tercile": int(c.literacy_tercile[i]), "access": bool(c.access[i]),
                "trust": float(c.trust[i]), "aware": bool(c.aware[i]), "state": int(c.state[i]),
                "office": self.offices[c.office[i]], "literacy_trained": False,
                "coproduced": False, "in_need": False,
            }
            citizens.append(Citizen(self, self.grid[i], attrs))
        self.citizens = AgentSet(citizens, random=self.random)
        self._coverage_base = self._cell_coverage()
        self._refresh_offices()

    def _cell_coverage(self) -> dict[tuple[int, bool], float]:
        counts: dict[tuple[int, bool], list[int]] = {}
        for c in self.citizens:
            tally = counts.setdefault((c.region, c.urban), [0, 0])
            tally[0] += 1
            tally[1] += c.access
        return {cell: covered / total for cell, (total, covered) in counts.items()}

    def _refresh_offices(self) -> None:
        self.office_set.do("step")
        for office in self.offices:
            office.digital_share_now = office.digital_share

    # ----------------------------------------------------------------- the month
    def step(self) -> None:
        self.apply_policy()
        # Civil servants read their peers' practice at the start of the month (synchronous).
        for office in self.offices:
            office.digital_share_now = (
                sum(s.digital for s in office.staff) / len(office.staff) if office.staff else 0.0
            )
        self.civil_servants.shuffle_do("step")
        self.civil_servants.do("advance")
        self._refresh_offices()
        self.citizens.shuffle_do("hear")
        self.citizens.do("commit_awareness")
        self.citizens.shuffle_do("step")
        self.citizens.do("advance")
        self.citizens.shuffle_do("own_trust")
        self.citizens.shuffle_do("social_trust")
        self.citizens.do("commit_trust")
        # Co-production feedback, platform upkeep, security incidents.
        params = self.cfg.params.platform
        user_share = sum(c.state == USER for c in self.citizens) / len(self.citizens)
        p = self.platform
        p.usability += params.feedback_rate * user_share * (1 - p.usability)
        platform_decay(SimpleNamespace(platform=p), self.cfg)
        if self.random.random() < breach_probability(SimpleNamespace(platform=p), params):
            loss = self.cfg.params.trust.breach_loss
            for c in self.citizens:
                c.trust *= 1 - (loss if c.state == USER else loss / 2)
            p.breaches += 1
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= self.cfg.steps:
            self.running = False

    # ----------------------------------------------------------------- government
    def _select(self, candidates: list[Any], priority: Any, k: int) -> list[Any]:
        """Up to ``k`` candidates, those with ``priority(agent)`` first, at random within groups."""
        first = [a for a in candidates if priority(a)]
        if k <= len(first):
            return self.random.sample(first, k)
        rest = [a for a in candidates if not priority(a)]
        return first + self.random.sample(rest, min(k - len(first), len(rest)))

    def _citizen_priority(self) -> Any:
        targeting = self.cfg.policy.targeting
        outer = {REGIONS.index(r) for r in self.cfg.population.outer_islands}
        tests = {
            "universal": lambda c: True,
            "rural": lambda c: not c.urban,
            "low_literacy": lambda c: c.literacy_tercile == 0,
            "elderly": lambda c: c.age_band == 3,
            "poorest": lambda c: c.quintile == 0,
            "outer_islands": lambda c: c.region in outer,
        }
        if targeting == "left_behind":
            return lambda c: any(tests[t](c) for t in tests if t != "universal")
        return tests[targeting]

    def _office_priority(self) -> Any:
        targeting = self.cfg.policy.targeting
        outer = {REGIONS.index(r) for r in self.cfg.population.outer_islands}
        if targeting == "rural":
            return lambda s: not s.office.urban
        if targeting == "outer_islands":
            return lambda s: s.office.region in outer
        if targeting == "left_behind":
            return lambda s: not s.office.urban or s.office.region in outer
        return lambda s: True

    def apply_policy(self) -> dict[str, float]:
        """The government's month: the same levers, unit costs and carry-over as the model."""
        cfg = self.cfg
        pol, costs, plat = cfg.policy, cfg.params.costs, cfg.params.platform
        bur, adopt = cfg.params.bureaucracy, cfg.params.adoption
        spent = dict.fromkeys(LEVERS, 0.0)
        if self.month < pol.start_month or cfg.budget_idr_bn_per_month <= 0:
            return spent
        budget = cfg.budget_idr_bn_per_month * IDR_PER_BN
        people = self.people_per_citizen
        target = self._citizen_priority()

        def buy(lever: str, unit: float, candidates: list[Any], priority: Any) -> list[Any]:
            k = _buy_units(self, lever, budget * getattr(pol.allocation, lever), unit)
            chosen = self._select(candidates, priority, k)
            _settle(self, lever, k, len(chosen))
            spent[lever] = len(chosen) * unit / IDR_PER_BN
            return chosen

        if pol.allocation.training > 0:
            unit = costs.training_per_civil_servant * self.civil_servants_per_staff
            for s in buy("training", unit, [s for s in self.civil_servants if not s.trained],
                         self._office_priority()):
                s.competence += bur.training_competence_gain * (1 - s.competence)
                s.resistance *= 1 - bur.training_resistance_cut
                s.fairness += bur.training_fairness_gain * (1 - s.fairness)
                s.trained = True
        if pol.allocation.infrastructure > 0:
            unit = costs.infrastructure_per_person_covered * people
            chosen = buy("infrastructure", unit, [c for c in self.citizens if not c.access], target)
            for c in chosen:
                c.access = True
            if chosen:
                coverage = self._cell_coverage()
                for office in self.offices:
                    key = (office.region, office.urban)
                    gain = max(coverage.get(key, 0.0) - self._coverage_base.get(key, 0.0), 0.0)
                    office.capacity = _clip01(office.capacity_base + bur.capacity_per_infra * gain)
        if pol.allocation.literacy > 0:
            unit = costs.literacy_per_learner * people
            for c in buy("literacy", unit, [c for c in self.citizens if not c.literacy_trained],
                         target):
                c.literacy += adopt.literacy_programme_gain * (1 - c.literacy)
                c.literacy_trained = True
                c.aware = True
        if pol.allocation.coproduction > 0:
            unit = costs.coproduction_per_participant * people
            chosen = buy("coproduction", unit, [c for c in self.citizens if not c.coproduced],
                         target)
            for c in chosen:
                c.coproduced = True
                c.aware = True
                c.trust += adopt.coproduction_trust_gain * (1 - c.trust)
            if chosen:
                share = len(chosen) / len(self.citizens)
                p = self.platform
                p.usability += min(1.0, plat.participant_rate * share) * (1 - p.usability)
                low = sum(c.literacy_tercile == 0 or c.age_band == 3 for c in chosen) / len(chosen)
                p.accessibility += (
                    min(1.0, plat.participant_rate * share * low) * (1 - p.accessibility)
                )
        spent.update(invest_in_stocks(self.platform, cfg))
        return spent

    # ----------------------------------------------------------------- results
    def timeseries(self):
        """One row per month (0 = initial state): the DataCollector's model variables."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "month", np.arange(len(frame), dtype=float))
        return frame.reset_index(drop=True)

