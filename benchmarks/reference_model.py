"""The same monthly rules written the usual Mesa way: one agent object per person, one method per phase.

This is the yardstick the vectorised :class:`sim.model.DigitalAdoptionModel` is measured against
(``python -m benchmarks.run``), and ``tests/model/test_reference.py`` checks that the two agree
statistically. It is written the way a Mesa modeller would write it:

* ``Citizen`` is a ``CellAgent`` on a ``mesa.discrete_space.Network`` (one cell per citizen) and
  finds its neighbours through ``self.cell.neighborhood.agents``; ``CivilServant`` and
  ``ServiceOffice`` are plain ``mesa.Agent`` objects holding references to each other.
* Each phase of the month is ``agents.shuffle_do(...)`` over the agents, with the Mesa model's
  ``random`` for the draws. Phases that read other agents' state are synchronous, as in the
  vectorised model: agents first compute their next value from the others' current values, then all
  adopt it (``advance``, ``commit_*``), the staged activation of Mesa's classic examples.
* The equations are shared with the vectorised model wherever they are plain arithmetic (the
  helpers in :mod:`sim.rules`), so that both run the same rules; only the loops differ.

The month, in the model's order (:mod:`sim.model`):

0. Baseline trends: citizens without access get it along their own access trend; literacy rises.
1. Policy, inside its spending window: each unit lever of :data:`sim.rules.policy.UNIT_LEVERS`
   (training, infrastructure, literacy, co-production, outreach, leadership) buys whole units at
   its unit cost, with carry-over, for recipients who are targeted (at most ``target_share`` of the
   citizens, most in need first; of the offices, those serving the largest share of targeted
   citizens first; fixed at the start), eligible and willing (their fixed ``willingness`` draw below
   the programme's take-up chance); then the platform stocks are bought.
2. Civil servants: retirements (entrants start from the post's initial values), then the top-down
   push (the office's will, raised where the head was led), learning or skill decay; 3. offices.
4. Citizens: awareness; need (and, under a digital-first mandate, the non-exempt who comply, in
   need of a covered transaction, become users); adoption (not for those who keep to the counter),
   the service encounter and lapse (not for the mandated).
5. Trust: each citizen's experiences push their anchor (log-odds); a visit to an office is fair
   with probability = the office's fairness (one draw per visiting citizen); the anchor drifts back
   towards its start; transparency above its initial level pushes too; then the Friedkin-Johnsen
   mix with the neighbours' trust.
6. Platform: users' feedback raises usability; stocks depreciate.
7. Breach: a breach pushes the anchors of users and of others with access, and their expressed
   trust moves by (1 - susceptibility) x the change of their anchor's level.

The starting population, offices, network and trust anchors are built with the model's own
synthesis functions and random streams (seed for seed, the two start from identical states); the
monthly draws come from the Mesa model's ``random``. Only the default mechanisms and the UTAUT rule
are implemented.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.agent import AgentSet
from mesa.discrete_space import CellAgent, Network

from sim.config import (
    LEVERS,
    REGIONS,
    Mechanisms,
    SimConfig,
    apply_overrides,
    compose,
    policy_start_month,
    to_sim_config,
)
from sim.model import STREAMS
from sim.networks import build_network, degrees, network_block
from sim.population import initial_platform, synthesise_citizens, synthesise_offices_and_staff
from sim.provinces import PROVINCES
from sim.rules.adoption import (
    adoption_utility,
    awareness_probability,
    ease_of_use,
    lapse_probability,
    literacy_relief,
    success_probability,
    time_saved_share,
)
from sim.rules.bureaucracy import (
    competence_next,
    digital_utility,
    office_will,
    practice,
    resistance_next,
)
from sim.rules.channels import centre_coverage
from sim.rules.consolidation import advance_consolidation, effective_usability, fund_consolidation
from sim.rules.mandate import mandate_active
from sim.rules.platform import depreciate_stocks, draw_breach, invest_in_stocks
from sim.rules.policy import (
    IDR_PER_BN,
    UNIT_LEVERS,
    _buy_units,
    _settle,
    course_takeup,
    spending_window,
    stock_spending,
    training_takeup,
    unit_cost_idr,
)
from sim.rules.trends import access_hazard, decimal_year, start_shift
from sim.rules.trust import (
    LOGIT_BOUND,
    breach_push,
    encounter_push,
    expressed_trust,
    initial_expressed_trust,
    transparency_push,
)
from sim.state import LAPSED, USER, State


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def _pushed(anchor: float, delta: float) -> float:
    """An anchor (log-odds) after a push, kept within the model's bounds."""
    return min(max(anchor + delta, -LOGIT_BOUND), LOGIT_BOUND)


def _mark_targets(agents: list[Any], in_group: Callable[[Any], bool], share: float | None,
                  priority: Callable[[Any], float]) -> None:
    """Set ``targeted`` on every agent: members of the group, or, if the group is larger than
    ``share`` of everyone, its members with the highest ``priority`` up to that many (``share``
    None: no cap)."""
    group = [a for a in agents if in_group(a)]
    if share is not None:
        cap = math.floor(share * len(agents))
        if len(group) > cap:
            group = sorted(group, key=priority, reverse=True)[:cap]
    for agent in agents:
        agent.targeted = False
    for agent in group:
        agent.targeted = True


def _need(agent: Any) -> float:
    return agent.need_score


class ServiceOffice(mesa.Agent):
    """A service office; recomputes its readiness, digital share and fairness from its staff."""

    def __init__(self, model: ReferenceModel, region: int, urban: bool, capacity: float,
                 offline_hours: float, need_score: float, province: int = 0,
                 will_log_odds: float = 0.0) -> None:
        super().__init__(model)
        self.region = region
        self.province = province
        self.will_log_odds = will_log_odds
        self.urban = urban
        self.capacity = capacity
        self.offline_hours = offline_hours
        self.need_score = need_score
        self.led = False
        self.targeted = True
        self.staff: list[CivilServant] = []
        self.head: CivilServant | None = None
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

    # -- the leadership lever (recipient: the office's head) --------------------------------------
    def eligible_for_leadership(self) -> bool:
        return not self.led and self.head.willingness < self.model.cfg.params.bureaucracy.leadership_takeup

    def receive_leadership(self) -> None:
        self.led = True


class CivilServant(mesa.Agent):
    """A civil servant: resistance under hierarchy and peers, learning, choice of digital work."""

    def __init__(self, model: ReferenceModel, office: ServiceOffice, competence: float,
                 resistance: float, fairness: float, digital: bool, willingness: float) -> None:
        super().__init__(model)
        self.office = office
        self.supervisor: CivilServant | None = None
        self.competence = self.competence_initial = competence
        self.resistance = self.resistance_initial = resistance
        self.fairness = self.fairness_initial = fairness
        self.digital = digital
        self.willingness = willingness
        self.trained = False
        self._next_digital = digital

    @property
    def targeted(self) -> bool:
        """Staff levers reach the staff of targeted offices."""
        return self.office.targeted

    def step(self) -> None:
        model = self.model
        params = model.cfg.params.bureaucracy
        office = self.office
        digital = 1.0 if self.digital else 0.0
        supervisor_digital = 1.0 if self.supervisor is None or self.supervisor.digital else 0.0
        will = float(office_will(params, model.cfg.policy.political_will, office.led,
                                 office.will_log_odds))
        top_down = will * supervisor_digital
        # Staff only change their practice in ``advance``, so the office's share from its last
        # refresh is this month's share of digital peers.
        peers = office.digital_share
        self.resistance = _clip01(resistance_next(params, self.resistance, top_down, peers))
        self.competence = competence_next(params, self.competence, digital, self.competence_initial)
        self._next_digital = self.digital
        if self.random.random() < params.switch_rate:
            utility = digital_utility(params, self.competence, office.capacity, self.resistance)
            self._next_digital = self.random.random() < _sigmoid(utility)

    def advance(self) -> None:
        self.digital = self._next_digital

    def maybe_retire(self) -> None:
        """Turnover: with probability turnover_rate the post passes to an entrant who starts from the
        post's initial values, untrained and not digital; a new head has not been led."""
        if self.random.random() >= self.model.cfg.params.bureaucracy.turnover_rate:
            return
        self.competence = self.competence_initial
        self.resistance = self.resistance_initial
        self.fairness = self.fairness_initial
        self.trained = False
        self.digital = self._next_digital = False
        if self.supervisor is None:
            self.office.led = False

    # -- the training lever --------------------------------------------------------------------
    def eligible_for_training(self) -> bool:
        bureaucracy = self.model.cfg.params.bureaucracy
        return not self.trained and self.willingness < training_takeup(bureaucracy, self.resistance)

    def receive_training(self) -> None:
        bur = self.model.cfg.params.bureaucracy
        self.competence += bur.training_competence_gain * (1 - self.competence)
        self.resistance *= 1 - bur.training_resistance_cut
        self.fairness += bur.training_fairness_gain * (1 - self.fairness)
        self.trained = True


class Citizen(CellAgent):
    """A resident who may hear of, adopt, use and lapse from the digital public services."""

    def __init__(self, model: ReferenceModel, cell: Any, attrs: dict[str, Any]) -> None:
        super().__init__(model)
        self.cell = cell
        for key, value in attrs.items():
            setattr(self, key, value)
        self.targeted = True
        self.in_need = self.mandated = False
        self.success = self.failure = self.forced_failure = self.offline = False
        self._next: Any = None

    def neighbours(self) -> list[Citizen]:
        return list(self.cell.neighborhood.agents)

    # -- awareness (synchronous) ---------------------------------------------------------------
    def hear(self) -> None:
        self._next = self.aware
        if not self.aware:
            neighbours = self.neighbours()
            share = sum(n.aware for n in neighbours) / max(len(neighbours), 1)
            p = awareness_probability(self.model.cfg.params.adoption, share)
            self._next = self.random.random() < p

    def commit_awareness(self) -> None:
        self.aware = self._next

    # -- need, and the mandate for those in need ------------------------------------------------
    def exempt(self) -> bool:
        """Whether a digital-first mandate leaves this citizen the offline channel."""
        if not self.access:
            return True
        model = self.model
        tests = {
            "elderly": self.age_band == 3,
            "low_literacy": self.literacy_tercile == 0,
            "rural": not self.urban,
            "outer_islands": self.region in model.outer_regions,
        }
        return any(tests.get(group, False) for group in model.cfg.policy.mandate.exempt)

    def keeps_to_counter(self) -> bool:
        return self.counter_attachment < self.model.cfg.params.adoption.offline_preference

    def need_service(self, mandate: bool) -> None:
        cfg = self.model.cfg
        need_rate = cfg.params.adoption.need_rate
        u = self.random.random()
        self.in_need = u < need_rate
        complies = self.counter_attachment >= 1.0 - cfg.policy.mandate.compliance
        self.mandated = mandate and not self.exempt() and complies
        self.success = self.failure = self.forced_failure = self.offline = False
        if self.in_need and self.mandated and u < need_rate * cfg.policy.mandate.scope:
            self.aware = True
            self.state = USER

    # -- adoption and the service encounter (synchronous on neighbours' use) --------------------
    def step(self) -> None:
        self._next = self.state
        if not self.in_need:
            return
        model = self.model
        params = model.cfg.params.adoption
        office = self.office
        state = self.state
        if self.aware and self.access and state != USER and not self.keeps_to_counter():
            neighbours = self.neighbours()
            social = sum(n.state == USER for n in neighbours) / max(len(neighbours), 1)
            usefulness = office.readiness * time_saved_share(office.offline_hours, params.digital_hours)
            relief = float(literacy_relief(np.bool_(self.centre_covered), np.bool_(self.partner_covered),
                                           params))
            ease = ease_of_use(self.literacy, effective_usability(model.platform),
                               model.platform.accessibility, params.required_literacy, relief)
            utility = adoption_utility(params, usefulness, social, self.trust, ease)
            if self.random.random() < _sigmoid(utility):
                state = USER
        if state == USER:
            p = success_probability(params, model.cfg.params.platform, office.readiness)
            self.success = self.random.random() < p
            self.failure = not self.success
            self.forced_failure = self.failure and self.mandated
            if (self.failure and not self.mandated
                    and self.random.random() < lapse_probability(params, self.trust)):
                state = LAPSED
        self.offline = not self.success  # failed digital attempts end at the office too
        self._next = state

    def advance(self) -> None:
        self.state = self._next

    # -- trust: own experience moves the anchor, then the neighbours' mix (synchronous) ---------
    def own_trust(self) -> None:
        model = self.model
        params = model.cfg.params.trust
        anchor = self.trust_anchor
        if self.success:
            anchor = _pushed(anchor, params.success_gain)
        if self.failure:
            anchor = _pushed(anchor, -params.failure_loss)
        if self.forced_failure:
            anchor = _pushed(anchor, -params.mandate_failure_loss)
        if self.offline:
            fair = self.random.random() < self.office.fairness
            anchor = _pushed(anchor, float(encounter_push(params, fair)))
        anchor += params.anchor_reversion * (self.trust_anchor_initial - anchor)
        if model.transparency_rise != 0.0:
            anchor = _pushed(anchor, float(transparency_push(params, model.transparency_rise,
                                                             self.access)))
        self.trust_anchor = anchor

    def social_trust(self) -> None:
        neighbours = self.neighbours()
        mean = sum(n.trust for n in neighbours) / len(neighbours) if neighbours else self.trust
        self._next = expressed_trust(_sigmoid(self.trust_anchor), mean,
                                     self.model.cfg.params.trust.susceptibility)

    def commit_trust(self) -> None:
        self.trust = self._next

    def hear_of_breach(self) -> None:
        user = self.state == USER
        if not (user or self.access):
            return
        params = self.model.cfg.params.trust
        before = _sigmoid(self.trust_anchor)
        self.trust_anchor = _pushed(self.trust_anchor, float(breach_push(params, user, self.access)))
        self.trust += (1.0 - params.susceptibility) * (_sigmoid(self.trust_anchor) - before)

    # -- citizen levers ----------------------------------------------------------------------------
    def _willing(self) -> bool:
        """Accepts a course or a co-production session (fixed willingness below the take-up chance)."""
        adoption = self.model.cfg.params.adoption
        return self.willingness < course_takeup(adoption, self.literacy, self.age_band == 3)

    def eligible_for_infrastructure(self) -> bool:
        return not self.access

    def receive_infrastructure(self) -> None:
        self.access = True

    def eligible_for_literacy(self) -> bool:
        return not self.literacy_trained and self._willing()

    def receive_literacy(self) -> None:
        gain = self.model.cfg.params.adoption.literacy_programme_gain
        self.literacy += gain * (1 - self.literacy)
        self.literacy_trained = True

    def eligible_for_coproduction(self) -> bool:
        return self.aware and not self.coproduced and self._willing()

    def receive_coproduction(self) -> None:
        self.coproduced = True
        self.trust_anchor = _pushed(self.trust_anchor, self.model.cfg.params.trust.coproduction_gain)

    def eligible_for_service_centres(self) -> bool:
        return not self.centre_covered

    def receive_service_centres(self) -> None:
        self.centre_covered = True

    def eligible_for_partnerships(self) -> bool:
        return not (self.partner_covered or self.centre_covered)

    def receive_partnerships(self) -> None:
        self.partner_covered = True

    def eligible_for_outreach(self) -> bool:
        return not self.aware

    def receive_outreach(self) -> None:
        self.aware = True


# The agent class that receives each kind of unit lever (the ``recipients`` of UNIT_LEVERS); a lever
# named L is implemented by its ``eligible_for_L`` and ``receive_L`` methods.
RECIPIENTS: dict[str, type] = {"citizens": Citizen, "staff": CivilServant, "offices": ServiceOffice}


class ReferenceModel(mesa.Model):
    """Per-agent version of :class:`sim.model.DigitalAdoptionModel` (UTAUT rule, all mechanisms)."""

    def __init__(self, n_citizens: int | None = None, policy: str = "baseline",
                 population: str = "indonesia", network: str = "homophilous",
                 steps: int | None = None, seed: int | None = None,
                 overrides: dict[str, Any] | None = None, config: SimConfig | None = None) -> None:
        """The same parameters as the model; ``config`` (a composed config) replaces the names."""
        extra = dict(overrides or {})
        if n_citizens is not None:
            extra["population.n_citizens"] = n_citizens
        if steps is not None:
            extra["steps"] = steps
        if seed is not None:
            extra["seed"] = seed
        if config is None:
            cfg = compose(policy=policy, population=population, network=network, overrides=extra)
        else:
            cfg = apply_overrides(config, extra) if extra else to_sim_config(config)
        if cfg.params.adoption.rule != "utaut" or cfg.mechanisms != Mechanisms():
            raise ValueError("the reference model implements the UTAUT rule with all mechanisms on")
        for lever in UNIT_LEVERS:
            recipient = RECIPIENTS.get(lever.recipients)
            if getattr(cfg.policy.allocation, lever.name) > 0 and not (
                hasattr(recipient, f"eligible_for_{lever.name}")
                and hasattr(recipient, f"receive_{lever.name}")
            ):
                raise ValueError(f"the reference model does not implement the lever {lever.name!r}")
        super().__init__(seed=cfg.seed)
        self.cfg = cfg
        self.month = 0
        self.policy_month = policy_start_month(cfg)  # the policy's months count from here
        self.carry_idr: dict[str, float] = {}
        self.transparency_rise = 0.0
        self.outer_regions = {REGIONS.index(r) for r in cfg.population.outer_islands}
        self._build()
        n, n_staff = len(self.citizens), len(self.civil_servants)
        self.datacollector = mesa.DataCollector(model_reporters={
            "adoption": lambda m: sum(c.state == USER for c in m.citizens) / n,
            "lapsed": lambda m: sum(c.state == LAPSED for c in m.citizens) / n,
            "awareness": lambda m: sum(c.aware for c in m.citizens) / n,
            "access": lambda m: sum(c.access for c in m.citizens) / n,
            "literacy_mean": lambda m: sum(c.literacy for c in m.citizens) / n,
            "trust_mean": lambda m: sum(c.trust for c in m.citizens) / n,
            "digital_staff_share": lambda m: sum(s.digital for s in m.civil_servants) / n_staff,
            "trained_staff_share": lambda m: sum(s.trained for s in m.civil_servants) / n_staff,
            "led_office_share": lambda m: sum(o.led for o in m.offices) / len(m.offices),
            "usability": lambda m: m.platform.usability,
            "accessibility": lambda m: m.platform.accessibility,
            "transparency": lambda m: m.platform.transparency,
            "security": lambda m: m.platform.security,
        })
        self.datacollector.collect(self)

    # ----------------------------------------------------------------- construction
    def _build(self) -> None:
        """The model's own synthesis, network and initial trust with its own streams, then one agent
        per row."""
        cfg = self.cfg
        pop = cfg.population
        streams = np.random.SeedSequence(cfg.seed).spawn(len(STREAMS))
        rngs = {name: np.random.default_rng(s) for name, s in zip(STREAMS, streams, strict=True)}
        shift = start_shift(pop, cfg.params.trends, cfg.start_date)
        c = synthesise_citizens(pop, cfg.params.adoption, rngs["population"], shift,
                                attachment_rng=rngs["attachment"], network=cfg.network)
        self.trend_random = rngs["trends"]
        o, s = synthesise_offices_and_staff(c, pop, cfg.params.adoption, rngs["population"])
        block = network_block(c.region, c.urban, c.quintile)
        adjacency = build_network(cfg.network, c.n, block, rngs["network"])
        if adjacency is None:
            raise ValueError("the reference model needs a network (not mean field)")
        synthesis = State(
            citizens=c, staff=s, offices=o, platform=initial_platform(cfg.params.platform),
            adjacency=adjacency, degree=degrees(adjacency, c.n),
            people_per_citizen=pop.population_total / c.n,
            civil_servants_per_staff=pop.population_total / pop.residents_per_civil_servant / s.n,
        )
        # Initial expressed trust as the model sets it: the synthesised anchors mixed once.
        c.trust = initial_expressed_trust(synthesis, cfg.params.trust)
        self.platform = synthesis.platform
        self.people_per_citizen = synthesis.people_per_citizen
        self.civil_servants_per_staff = synthesis.civil_servants_per_staff

        self.offices = [
            ServiceOffice(self, int(o.region[i]), bool(o.urban[i]), float(o.capacity[i]),
                          float(o.offline_hours[i]), float(o.need_score[i]), int(o.province[i]),
                          float(o.will_log_odds[i]))
            for i in range(o.n)
        ]
        staff = [
            CivilServant(self, self.offices[s.office[i]], float(s.competence[i]),
                         float(s.resistance[i]), float(s.fairness[i]), bool(s.digital[i]),
                         float(s.willingness[i]))
            for i in range(s.n)
        ]
        for i, member in enumerate(staff):
            if s.supervisor[i] >= 0:
                member.supervisor = staff[s.supervisor[i]]
            else:
                member.office.head = member
            member.office.staff.append(member)
        self.civil_servants = AgentSet(staff, random=self.random)
        self.office_set = AgentSet(self.offices, random=self.random)

        self.grid = Network(nx.from_scipy_sparse_array(adjacency), random=self.random)
        citizens = []
        for i in range(c.n):
            attrs = {
                "region": int(c.region[i]), "province": int(c.province[i]),
                "urban": bool(c.urban[i]),
                "age_band": int(c.age_band[i]), "quintile": int(c.quintile[i]),
                "income_rank": float(c.income_rank[i]), "literacy": float(c.literacy[i]),
                "literacy_tercile": int(c.literacy_tercile[i]), "access": bool(c.access[i]),
                "access_log_odds": float(c.access_log_odds[i]),
                "trust": float(c.trust[i]), "trust_anchor": float(c.trust_anchor[i]),
                "trust_anchor_initial": float(c.trust_anchor_initial[i]),
                "counter_attachment": float(c.counter_attachment[i]),
                "centre_order": float(c.centre_order[i]), "centre_covered": False,
                "partner_covered": False,
                "aware": bool(c.aware[i]), "state": int(c.state[i]),
                "office": self.offices[c.office[i]], "literacy_trained": False,
                "coproduced": False, "willingness": float(c.willingness[i]),
                "need_score": float(c.need_score[i]),
            }
            citizens.append(Citizen(self, self.grid[i], attrs))
        self.citizens_in_order = citizens  # row order: citizen i takes the i-th draw of a stream
        self.citizens = AgentSet(citizens, random=self.random)
        self._mark_targets()
        self.office_set.do("step")
        self.follow_centre_openings(0)

    def _mark_targets(self) -> None:
        """Who the targeted levers may reach (from fixed attributes, so fixed for the whole run).

        Citizens: the named group, capped at ``target_share`` of everyone, most in need first.
        Offices (their staff and heads): those serving targeted citizens, capped at ``target_share``
        of the offices, those with the largest share of targeted residents first (office need breaks
        ties). Universal targeting reaches everyone. Only citizens and offices of the provinces in
        ``policy.provinces`` (all if empty) are targeted.
        """
        pol = self.cfg.policy
        outer = self.outer_regions
        chosen = {PROVINCES.index(name) for name in pol.provinces} or set(range(len(PROVINCES)))
        citizen_groups: dict[str, Callable[[Citizen], bool]] = {
            "universal": lambda c: True,
            "rural": lambda c: not c.urban,
            "low_literacy": lambda c: c.literacy_tercile == 0,
            "elderly": lambda c: c.age_band == 3,
            "poorest": lambda c: c.quintile == 0,
            "outer_islands": lambda c: c.region in outer,
            "left_behind": lambda c: c.need_score >= 1.0,  # at least one disadvantage
        }
        group = citizen_groups[pol.targeting]

        def in_group(c: Citizen) -> bool:
            return c.province in chosen and group(c)

        if pol.targeting == "universal":
            _mark_targets(list(self.citizens), in_group, None, _need)
            _mark_targets(self.offices, lambda o: o.province in chosen, None, _need)
            return
        _mark_targets(list(self.citizens), in_group, pol.target_share, _need)
        served = {office: [0, 0] for office in self.offices}  # residents, targeted residents
        for c in self.citizens:
            tally = served[c.office]
            tally[0] += 1
            tally[1] += c.targeted
        for office, (residents, targeted) in served.items():
            office.targeted_share = targeted / residents if residents else 0.0
        _mark_targets(self.offices, lambda o: o.targeted_share > 0, pol.target_share,
                      lambda o: o.targeted_share * 1e3 + o.need_score)

    # ----------------------------------------------------------------- the month
    def step(self) -> None:
        cfg = self.cfg
        self.follow_trends()
        self.follow_centre_openings(self.month + 1)
        self.apply_policy()
        advance_consolidation(self.platform, cfg.params.platform, cfg.params.costs.consolidation_project_bn)
        self.civil_servants.shuffle_do("maybe_retire")
        self.civil_servants.shuffle_do("step")
        self.civil_servants.do("advance")
        self.office_set.shuffle_do("step")
        self.citizens.shuffle_do("hear")
        self.citizens.do("commit_awareness")
        self.citizens.shuffle_do("need_service", mandate_active(cfg.policy.mandate,
                                                                         self.month - self.policy_month))
        self.citizens.shuffle_do("step")
        self.citizens.do("advance")
        self.transparency_rise = self.platform.transparency - cfg.params.platform.transparency_initial
        self.citizens.shuffle_do("own_trust")
        self.citizens.shuffle_do("social_trust")
        self.citizens.do("commit_trust")
        # Co-production feedback and platform upkeep.
        params = cfg.params.platform
        user_share = sum(c.state == USER for c in self.citizens) / len(self.citizens)
        p = self.platform
        p.usability += params.feedback_rate * user_share * (1 - p.usability)
        depreciate_stocks(p, params)
        # Security incidents (draw_breach reads ``self.platform`` and counts the breach on it).
        if draw_breach(self, params, self.random):
            self.citizens.do("hear_of_breach")
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= cfg.steps:
            self.running = False

    def follow_trends(self) -> None:
        """The baseline trends, citizen by citizen: access along each one's own log-odds trend
        (hazard from the trend's closed form), literacy's log-odds up by the yearly slope / 12."""
        trends = self.cfg.params.trends
        draws = self.trend_random.random(len(self.citizens), dtype=np.float32)
        for citizen, u in zip(self.citizens_in_order, draws, strict=True):
            if not citizen.access:
                hazard = access_hazard(np.float64(citizen.access_log_odds),
                                       trends.access_logit_per_year, self.month)
                citizen.access = bool(u < hazard)
            lit = min(max(citizen.literacy, 1e-9), 1 - 1e-9)
            citizen.literacy = _sigmoid(math.log(lit / (1 - lit)) + trends.literacy_logit_per_year / 12)

    def follow_centre_openings(self, month: int) -> None:
        """Citizens whose district has a service centre by the end of ``month`` are covered."""
        coverage = centre_coverage(decimal_year(self.cfg.start_date) + month / 12)
        for citizen in self.citizens:
            citizen.centre_covered = citizen.centre_covered or citizen.centre_order < coverage

    # ----------------------------------------------------------------- government
    def apply_policy(self) -> dict[str, float]:
        """The government's month: the model's levers, unit costs, take-up, targets and carry-over."""
        cfg = self.cfg
        spent = dict.fromkeys(LEVERS, 0.0)
        spending = spending_window(cfg.policy, cfg.budget_idr_bn_per_month, self.month - self.policy_month)
        if spending:
            budget = cfg.budget_idr_bn_per_month * IDR_PER_BN
            recipients = {"citizens": self.citizens, "staff": self.civil_servants,
                          "offices": self.office_set}
            for lever in UNIT_LEVERS:
                money = budget * getattr(cfg.policy.allocation, lever.name)
                if money <= 0:
                    continue
                unit = unit_cost_idr(self, cfg.params.costs, lever)
                k = _buy_units(self, lever.name, money, unit)
                eligible = f"eligible_for_{lever.name}"
                candidates = [a for a in recipients[lever.recipients]
                              if a.targeted and getattr(a, eligible)()]
                chosen = candidates if k >= len(candidates) else self.random.sample(candidates, k)
                for agent in chosen:
                    getattr(agent, f"receive_{lever.name}")()
                if lever.name == "coproduction" and chosen:
                    self._coproduction_platform(chosen)
                _settle(self, lever.name, k, len(chosen))
                spent[lever.name] = len(chosen) * unit / IDR_PER_BN
        stocks = stock_spending(cfg.policy.allocation, cfg.budget_idr_bn_per_month, spending)
        consolidation = cfg.budget_idr_bn_per_month * cfg.policy.allocation.consolidation if spending else 0.0
        spent["consolidation"] = fund_consolidation(self.platform, consolidation,
                                                    cfg.params.costs.consolidation_project_bn)
        spent.update(invest_in_stocks(self.platform, cfg.params.platform, stocks,
                                      cfg.params.costs.stock_half_saturation_bn, cfg.mechanisms))
        return spent

    def _coproduction_platform(self, chosen: list[Citizen]) -> None:
        """Co-production sessions raise usability, and accessibility by the share of participants
        from the least literate or the oldest."""
        plat, p = self.cfg.params.platform, self.platform
        share = len(chosen) / len(self.citizens)
        low = sum(c.literacy_tercile == 0 or c.age_band == 3 for c in chosen) / len(chosen)
        p.usability += min(1.0, plat.participant_rate * share) * (1 - p.usability)
        p.accessibility += min(1.0, plat.participant_rate * share * low) * (1 - p.accessibility)

    # ----------------------------------------------------------------- results
    def timeseries(self):
        """One row per month (0 = initial state): the DataCollector's model variables."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "month", np.arange(len(frame), dtype=float))
        return frame.reset_index(drop=True)
