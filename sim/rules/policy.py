"""Government policy: inside its spending window, each lever buys units for the people it targets.

One table of levers, :data:`UNIT_LEVERS`, says for each lever bought by the unit who receives it
(citizens, civil servants or office heads), its unit cost, who is eligible, and the one mechanism it
feeds. Nothing else in this module changes the state, so a lever's effect runs through its named
mechanism only (awareness, for instance, comes from ``outreach`` alone). The platform stocks
(transparency, security, accessibility) are bought in :mod:`sim.rules.platform`.

Units are bought at a unit cost in real terms: one citizen agent stands for ``people_per_citizen``
people, so reaching one agent costs that many times the cost per person. Money a lever cannot spend
this month (less than one unit) carries over to the next month; money it cannot spend because nobody
eligible is left is returned. Spending therefore never exceeds the budget allocated so far.

Take-up is below 100%: programmes people must attend (training, literacy courses, co-production,
leadership) reach only those who accept, and the chance of accepting depends on the person. Each
person has one ``willingness`` draw, fixed at synthesis; they accept a programme while the draw is
below its take-up chance. Those who decline cost nothing and the money goes to the next person.

Targeting reaches at most ``policy.target_share`` of the population, the most in need first (office
levers: that share of the offices, those serving the most targeted citizens first); targeted money is
not spent on anybody else. ``policy.provinces`` restricts every lever's recipients (citizens, and
the staff and heads of offices) to the named provinces' citizens and regional governments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.names import LEVERS
from sim.parameters import Block, par
from sim.population import in_regions
from sim.provinces import in_provinces
from sim.rules.adoption import AdoptionParams
from sim.rules.bureaucracy import BureaucracyParams
from sim.rules.consolidation import fund_consolidation
from sim.rules.platform import STOCK_LEVERS, PlatformParams, invest_in_stocks
from sim.rules.trust import TrustParams, push_anchor
from sim.scenario import Allocation, Mechanisms, PolicyConfig
from sim.state import State
from sim.weights import draw_people, group_totals, mean, of_rows

_UNIT_COST_SOURCE = "assumption (order of magnitude of Indonesian programmes)"


@dataclass
class CostParams(Block):
    """Unit costs in IDR per real person reached (assumptions; priors span half to double)."""

    training_per_civil_servant: float = par(
        5_000_000.0, "IDR / civil servant", "digital-skills training course", _UNIT_COST_SOURCE,
        low=0, low_open=True, prior=(2.5e6, 1e7, "loguniform"))
    infrastructure_per_person_covered: float = par(
        1_500_000.0, "IDR / person", "usable connectivity for one person", _UNIT_COST_SOURCE,
        low=0, low_open=True, prior=(7.5e5, 3e6, "loguniform"))
    literacy_per_learner: float = par(
        300_000.0, "IDR / learner", "digital-literacy course", _UNIT_COST_SOURCE, low=0,
        low_open=True, prior=(1.5e5, 6e5, "loguniform"))
    coproduction_per_participant: float = par(
        500_000.0, "IDR / participant", "co-production session", _UNIT_COST_SOURCE, low=0,
        low_open=True, prior=(2.5e5, 1e6, "loguniform"))
    outreach_per_person_reached: float = par(
        25_000.0, "IDR / person reached", "awareness campaign", _UNIT_COST_SOURCE, low=0,
        low_open=True, prior=(1.25e4, 5e4, "loguniform"))
    leadership_per_office_head: float = par(
        40_000_000.0, "IDR / office head", "leadership programme", _UNIT_COST_SOURCE, low=0,
        low_open=True, prior=(2e7, 8e7, "loguniform"))
    service_centre_per_person_covered: float = par(
        50_000.0, "IDR / person covered", "opening and running an integrated service centre, per "
        "resident of the district it serves (about IDR 27 bn for a district of 540,000)",
        _UNIT_COST_SOURCE, low=0, low_open=True, prior=(2e4, 1.2e5, "loguniform"))
    partner_point_per_person_covered: float = par(
        15_000.0, "IDR / person covered", "an assisted access point run by a partner (agent fees and "
        "training), per resident it serves", _UNIT_COST_SOURCE, low=0, low_open=True,
        prior=(5e3, 4e4, "loguniform"))
    consolidation_project_bn: float = par(
        3_000.0, "IDR bn", "cost of consolidating the government's apps into one (the whole project)",
        "assumption (IDR 6.2 trillion of 2024 budget for new apps was cancelled for INA Digital)",
        low=0, low_open=True, prior=(1_500.0, 6_000.0, "loguniform"))
    stock_half_saturation_bn: float = par(
        200.0, "IDR bn / month", "spending at which a platform-level lever works at half speed",
        low=0, low_open=True, prior=(100.0, 400.0, "loguniform"))

IDR_PER_BN = 1e9


@dataclass(frozen=True)
class LeverInputs:
    """The parameter blocks and switches the levers read: take-up and effects of the unit levers
    (:data:`UNIT_LEVERS`) and the platform stocks. Built once per model from its config."""

    bureaucracy: BureaucracyParams  # training take-up and effects, leadership take-up
    adoption: AdoptionParams  # course take-up, literacy gain
    platform: PlatformParams  # co-production's platform effect, the stocks
    trust: TrustParams  # co-production's trust effect
    mechanisms: Mechanisms  # which effects are switched on


# --------------------------------------------------------------------------- who is targeted
def _capped(group: np.ndarray, score: np.ndarray, share: float, weight: np.ndarray | None = None
            ) -> np.ndarray:
    """``group``, or, if it is larger, its members with the highest ``score`` (need, or for offices
    the share of targeted residents) up to ``share`` of everyone (of the people, with the citizens'
    survey ``weight``, :mod:`sim.weights`)."""
    members = np.flatnonzero(group)
    mask = np.zeros(group.size, dtype=bool)
    if weight is not None:
        cap_people = share * float(weight.sum())
        if float(weight[members].sum()) <= cap_people:
            return group
        ranked = members[np.argsort(-score[members], kind="stable")]
        mask[ranked[np.cumsum(weight[ranked]) <= cap_people + 1e-9]] = True
        return mask
    cap = int(np.floor(share * group.size))
    if members.size <= cap:
        return group
    if cap > 0:
        mask[members[np.argpartition(-score[members], cap - 1)[:cap]]] = True
    return mask


def citizen_group(state: State, targeting: str, outer_islands: Sequence[str]) -> np.ndarray:
    """The citizens a targeting option names, before the cap on its size (also the groups a mandate
    can exempt, :mod:`sim.rules.mandate`)."""
    c = state.citizens
    if targeting == "universal":
        return np.ones(c.n, dtype=bool)
    if targeting == "rural":
        return ~c.urban
    if targeting == "low_literacy":
        return c.literacy_tercile == 0
    if targeting == "elderly":
        return c.age_band == 3
    if targeting == "poorest":
        return c.quintile == 0
    if targeting == "outer_islands":
        return in_regions(c.region, outer_islands)
    return c.need_score >= 1.0  # left_behind: at least one disadvantage


def citizen_target_mask(state: State, pol: PolicyConfig, outer_islands: Sequence[str]) -> np.ndarray:
    """Citizens a targeted lever may reach: the named group inside the chosen provinces
    (``policy.provinces``; all if empty), capped at ``target_share`` by need. ``outer_islands``:
    the island groups of the outer_islands targeting (``population.outer_islands``)."""
    c = state.citizens

    def build() -> np.ndarray:
        group = citizen_group(state, pol.targeting, outer_islands)
        if pol.provinces:
            group = group & in_provinces(c.province, pol.provinces)
        return (group if pol.targeting == "universal"
                else _capped(group, c.need_score, pol.target_share, c.weight))

    key = f"policy.citizens.{pol.targeting}.{pol.target_share}.{'|'.join(pol.provinces)}"
    return state.cached(key, (c.need_score, c.region, c.urban, c.province, c.weight), build)


def office_target_mask(state: State, pol: PolicyConfig, outer_islands: Sequence[str]) -> np.ndarray:
    """Offices whose staff (or head) a targeted office lever may reach: those serving the largest
    share of targeted citizens first, at most ``target_share`` of the offices, so that every
    targeting option (rural, elderly, poorest, ...) has a meaning for training and leadership too.
    Citizens are served by offices of their own province, so a province restriction of the citizens
    restricts the offices too."""
    o, c = state.offices, state.citizens
    if pol.targeting == "universal":
        return in_provinces(o.province, pol.provinces)

    def build() -> np.ndarray:
        targeted = citizen_target_mask(state, pol, outer_islands)
        served = group_totals(c.office, o.n, c.weight)  # residents (people, in citizen agents)
        hits = group_totals(c.office, o.n, c.weight, targeted)
        share = np.divide(hits, served, out=np.zeros(o.n), where=served > 0)
        # Rank by the share of targeted residents; office need breaks ties (fractional part < 1).
        score = share * 1e3 + o.need_score
        return _capped(share > 0, score, pol.target_share)

    key = f"policy.offices.{pol.targeting}.{pol.target_share}.{'|'.join(pol.provinces)}"
    return state.cached(key, (o.need_score, c.office, c.need_score, c.province, c.weight), build)


# --------------------------------------------------------------------------- take-up
def training_takeup(b: BureaucracyParams, resistance: np.ndarray) -> np.ndarray:
    """Chance a civil servant accepts training: the most resistant are the least willing."""
    return b.training_takeup_max * (1.0 - b.training_takeup_resistance * resistance)


def course_takeup(a: AdoptionParams, literacy: np.ndarray, elderly: np.ndarray) -> np.ndarray:
    """Chance a citizen enrols in a course or a co-production session: lower for the least literate
    and the oldest, who are the hardest to reach."""
    return (
        a.course_takeup_max
        * (1.0 - a.course_takeup_elderly_cut * elderly)
        * (a.course_takeup_floor + (1.0 - a.course_takeup_floor) * literacy)
    )


def literacy_to_enrol(a: AdoptionParams, willingness: np.ndarray, elderly: np.ndarray) -> np.ndarray:
    """The literacy above which a citizen accepts a course: ``willingness < course_takeup(...)``
    solved for literacy, once per person (it depends on fixed traits only), so the monthly check is
    one comparison instead of the whole formula."""
    scale = a.course_takeup_max * (1.0 - a.course_takeup_elderly_cut * elderly)
    ratio = np.divide(willingness, scale, out=np.full(willingness.size, np.inf), where=scale > 0)
    if a.course_takeup_floor >= 1.0:
        return np.where(ratio < 1.0, -np.inf, np.inf)
    return (ratio - a.course_takeup_floor) / (1.0 - a.course_takeup_floor)


def _course_willing(state: State, a: AdoptionParams) -> np.ndarray:
    """Citizens who would accept a course or a co-production session at their current literacy."""
    c = state.citizens
    key = (f"policy.literacy_to_enrol.{a.course_takeup_max}.{a.course_takeup_elderly_cut}."
           f"{a.course_takeup_floor}")
    needed = state.cached(key, (c.willingness, c.age_band),
                          lambda: literacy_to_enrol(a, c.willingness.astype(np.float64), c.age_band == 3))
    return c.literacy > needed


# --------------------------------------------------------------------------- the levers
def _training_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    s = state.staff
    return ~s.trained & (s.willingness < training_takeup(inputs.bureaucracy, s.resistance))


def _training_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    s, bur, mech = state.staff, inputs.bureaucracy, inputs.mechanisms
    if mech.training:
        s.competence[chosen] += bur.training_competence_gain * (1 - s.competence[chosen])
        if mech.resistance_dynamics:
            s.resistance[chosen] *= 1 - bur.training_resistance_cut
        s.fairness[chosen] += bur.training_fairness_gain * (1 - s.fairness[chosen])
    s.trained[chosen] = True


def _infrastructure_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    return ~state.citizens.access


def _infrastructure_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    if inputs.mechanisms.infrastructure:
        state.citizens.access[chosen] = True


def _literacy_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    c = state.citizens
    return ~c.literacy_trained & _course_willing(state, inputs.adoption)


def _literacy_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    c = state.citizens
    c.literacy[chosen] += inputs.adoption.literacy_programme_gain * (1 - c.literacy[chosen])
    c.literacy_trained[chosen] = True


def _coproduction_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    """Participants are recruited among citizens who know the services (co-producing a service you
    have never heard of is not possible), so the lever itself raises nobody's awareness."""
    c = state.citizens
    return c.aware & ~c.coproduced & _course_willing(state, inputs.adoption)


def _coproduction_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    c, plat, mech = state.citizens, inputs.platform, inputs.mechanisms
    c.coproduced[chosen] = True
    if mech.trust_dynamics and chosen.size:
        push_anchor(c, chosen, inputs.trust.coproduction_gain)
    if mech.coproduction and chosen.size:
        share = of_rows(chosen, c.weight) / c.n  # of the people (sim.weights: weights sum to n)
        p = state.platform
        p.usability += min(1.0, plat.participant_rate * share) * (1 - p.usability)
        low = mean((c.literacy_tercile[chosen] == 0) | (c.age_band[chosen] == 3),
                   None if c.weight is None else c.weight[chosen])
        p.accessibility += min(1.0, plat.participant_rate * share * low) * (1 - p.accessibility)


def _outreach_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    return ~state.citizens.aware


def _outreach_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    state.citizens.aware[chosen] = True


def _leadership_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    heads = office_heads(state)
    return ~state.offices.led & (state.staff.willingness[heads] < inputs.bureaucracy.leadership_takeup)


def _leadership_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    state.offices.led[chosen] = True


def _service_centres_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    return ~state.citizens.centre_covered


def _service_centres_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    state.citizens.centre_covered[chosen] = True


def _partnerships_eligible(state: State, inputs: LeverInputs) -> np.ndarray:
    """People without assisted access yet: a partner point beside a service centre adds nothing."""
    c = state.citizens
    return ~c.partner_covered & ~c.centre_covered


def _partnerships_apply(state: State, inputs: LeverInputs, chosen: np.ndarray) -> None:
    state.citizens.partner_covered[chosen] = True


def office_heads(state: State) -> np.ndarray:
    """Index of each office's head among the staff (fixed; cached)."""
    s = state.staff

    def build() -> np.ndarray:
        heads = np.flatnonzero(s.level == 0)
        out = np.empty(state.offices.n, dtype=np.int64)
        out[s.office[heads]] = heads
        return out

    return state.cached("policy.office_heads", (s.level, s.office), build)


@dataclass(frozen=True)
class UnitLever:
    """A lever that buys whole units (a person trained, covered, taught, reached; a head led)."""

    name: str
    factor: str  # the study's factor or challenge it serves
    recipients: str  # "citizens", "staff" or "offices" (their heads)
    cost: str  # field of CostParams: IDR per real person (or head)
    mechanism: str  # what it changes (documentation; the switches are read in ``apply``)
    eligible: Callable[[State, LeverInputs], np.ndarray]  # boolean mask over the recipients
    apply: Callable[[State, LeverInputs, np.ndarray], None]  # effect on the chosen recipients


UNIT_LEVERS: tuple[UnitLever, ...] = (
    UnitLever("training", "F5", "staff", "training_per_civil_servant",
              "competence, resistance, fairness", _training_eligible, _training_apply),
    UnitLever("infrastructure", "F4", "citizens", "infrastructure_per_person_covered",
              "access", _infrastructure_eligible, _infrastructure_apply),
    UnitLever("literacy", "C2", "citizens", "literacy_per_learner",
              "literacy", _literacy_eligible, _literacy_apply),
    UnitLever("coproduction", "F2", "citizens", "coproduction_per_participant",
              "usability, accessibility, participants' trust", _coproduction_eligible,
              _coproduction_apply),
    UnitLever("outreach", "awareness", "citizens", "outreach_per_person_reached",
              "awareness", _outreach_eligible, _outreach_apply),
    UnitLever("leadership", "F1", "offices", "leadership_per_office_head",
              "top-down push in the office", _leadership_eligible, _leadership_apply),
    UnitLever("service_centres", "integrated service centres", "citizens",
              "service_centre_per_person_covered", "assisted access (literacy needed)",
              _service_centres_eligible, _service_centres_apply),
    UnitLever("partnerships", "partnerships with private firms", "citizens",
              "partner_point_per_person_covered", "assisted access (literacy needed)",
              _partnerships_eligible, _partnerships_apply),
)


# --------------------------------------------------------------------------- spending
def choose(candidates: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of up to ``k`` candidates, uniformly at random, sorted."""
    pool = np.flatnonzero(candidates)
    if k >= pool.size:
        return pool
    return np.sort(rng.choice(pool, size=k, replace=False)) if k > 0 else pool[:0]


def _buy_units(state: State, lever: str, money_idr: float, unit_cost_idr: float) -> int:
    available = money_idr + state.carry_idr.get(lever, 0.0)
    units = int(available // unit_cost_idr)
    state.carry_idr[lever] = available - units * unit_cost_idr
    return units


def _settle(state: State, lever: str, bought: int, used: int) -> None:
    """Units nobody could use are not spent, and do not carry over either: nobody is left."""
    if used < bought:
        state.carry_idr[lever] = 0.0


def spending_window(pol: PolicyConfig, budget_idr_bn_per_month: float, month: int) -> bool:
    """Whether the policy spends in ``month`` (from start_month up to, not including, end_month)."""
    return (
        budget_idr_bn_per_month > 0
        and month >= pol.start_month
        and (pol.end_month is None or month < pol.end_month)
    )


def unit_cost_idr(state: State, costs: CostParams, lever: UnitLever) -> float:
    """IDR per recipient agent: the real unit cost times the real people one agent stands for."""
    per_real = getattr(costs, lever.cost)
    scale = state.people_per_citizen if lever.recipients == "citizens" else state.civil_servants_per_staff
    return per_real * scale


def stock_spending(allocation: Allocation, budget_idr_bn_per_month: float,
                   spending: bool) -> dict[str, float]:
    """IDR bn for each platform stock this month: its whole share inside the spending window,
    nothing outside it."""
    return {lever: budget_idr_bn_per_month * getattr(allocation, lever) if spending else 0.0
            for lever in STOCK_LEVERS}


def _target(state: State, pol: PolicyConfig, outer_islands: Sequence[str], recipients: str) -> np.ndarray:
    if recipients == "citizens":
        return citizen_target_mask(state, pol, outer_islands)
    offices = office_target_mask(state, pol, outer_islands)
    return offices if recipients == "offices" else offices[state.staff.office]


def apply_policy(
    state: State,
    pol: PolicyConfig,
    budget_idr_bn_per_month: float,
    costs: CostParams,
    inputs: LeverInputs,
    outer_islands: Sequence[str],
    month: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Spend this month's budget; returns IDR billion actually spent per lever.

    ``pol``: the policy block (allocation, targeting, provinces, spending window); ``costs``: unit
    costs; ``inputs``: what the levers' take-up and effects read; ``outer_islands``: the island
    groups of the outer_islands targeting (``population.outer_islands``).
    """
    spent = dict.fromkeys(LEVERS, 0.0)
    spending = spending_window(pol, budget_idr_bn_per_month, month)
    if spending:
        budget_idr = budget_idr_bn_per_month * IDR_PER_BN
        for lever in UNIT_LEVERS:
            money = budget_idr * getattr(pol.allocation, lever.name)
            if money <= 0:
                continue
            unit = unit_cost_idr(state, costs, lever)
            k = _buy_units(state, lever.name, money, unit)
            candidates = lever.eligible(state, inputs) & _target(state, pol, outer_islands, lever.recipients)
            weight = state.citizens.weight if lever.recipients == "citizens" else None
            if weight is None:
                chosen = choose(candidates, k, rng)
                used: float = chosen.size
                _settle(state, lever.name, k, chosen.size)
            else:  # units of people (sim.weights): what the chosen do not use carries over
                pool = np.flatnonzero(candidates)
                chosen = draw_people(pool, k, weight, rng)
                used = float(weight[chosen].sum())
                state.carry_idr[lever.name] = (0.0 if chosen.size == pool.size
                                               else state.carry_idr[lever.name] + (k - used) * unit)
            lever.apply(state, inputs, chosen)
            spent[lever.name] = used * unit / IDR_PER_BN
    consolidation = budget_idr_bn_per_month * pol.allocation.consolidation if spending else 0.0
    spent["consolidation"] = fund_consolidation(state.platform, consolidation, costs.consolidation_project_bn)
    stocks = stock_spending(pol.allocation, budget_idr_bn_per_month, spending)
    spent.update(invest_in_stocks(state.platform, inputs.platform, stocks, costs.stock_half_saturation_bn,
                                  inputs.mechanisms))
    return spent
