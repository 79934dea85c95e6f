"""Government policy: each month, spend each lever's share of the budget on its targeted group.

Per-person levers (training, infrastructure, literacy, co-production) buy whole units at a unit cost in
real terms: one citizen agent stands for ``people_per_citizen`` people, so covering one agent costs
that many times the cost per person. Money a lever cannot spend this month (less than one unit) carries
over to the next month; money it cannot spend because nobody eligible is left is returned. Spending
therefore never exceeds the budget allocated so far.

Stock levers (transparency, security, accessibility) raise a platform level with diminishing returns
(F4, F6, F3).
"""

from __future__ import annotations

import numpy as np

from sim.config import LEVERS, REGIONS, SimConfig
from sim.state import Platform, State

IDR_PER_BN = 1e9
# Levers that raise the platform level of the same name (F6, F4, F3) rather than buying units.
STOCK_LEVERS = ("transparency", "security", "accessibility")


def citizen_target_mask(state: State, targeting: str, outer_islands: list[str]) -> np.ndarray:
    """Which citizens a targeted lever reaches first (only the masks that targeting needs)."""
    c = state.citizens
    masks = {
        "universal": lambda: np.ones(c.n, dtype=bool),
        "rural": lambda: ~c.urban,
        "low_literacy": lambda: c.literacy_tercile == 0,
        "elderly": lambda: c.age_band == 3,
        "poorest": lambda: c.quintile == 0,
        "outer_islands": lambda: np.isin(c.region, [REGIONS.index(r) for r in outer_islands]),
    }
    if targeting == "left_behind":
        return (
            masks["rural"]() | masks["low_literacy"]() | masks["elderly"]() | masks["poorest"]()
            | masks["outer_islands"]()
        )
    return masks[targeting]()


def office_target_mask(state: State, targeting: str, outer_islands: list[str]) -> np.ndarray:
    """Which offices' staff a targeted training lever reaches first (person-level targets: all)."""
    o = state.offices
    if targeting == "rural":
        return ~o.urban
    if targeting in ("outer_islands", "left_behind"):
        outer = np.isin(o.region, [REGIONS.index(r) for r in outer_islands])
        return outer if targeting == "outer_islands" else ~o.urban | outer
    return np.ones(o.n, dtype=bool)


def select_with_priority(
    candidates: np.ndarray, priority: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Indices of up to ``k`` candidates, taking the priority group first, at random within groups."""
    first = np.flatnonzero(candidates & priority)
    if k <= first.size:
        return np.sort(rng.choice(first, size=k, replace=False)) if k > 0 else first[:0]
    rest = np.flatnonzero(candidates & ~priority)
    extra = rng.choice(rest, size=min(k - first.size, rest.size), replace=False)
    return np.sort(np.concatenate([first, extra]))


def _buy_units(state: State, lever: str, money_idr: float, unit_cost_idr: float) -> int:
    available = money_idr + state.carry_idr.get(lever, 0.0)
    units = int(available // unit_cost_idr)
    state.carry_idr[lever] = available - units * unit_cost_idr
    return units


def _settle(state: State, lever: str, bought: int, used: int) -> None:
    """Units nobody could use are not spent, and do not carry over either: nobody is left."""
    if used < bought:
        state.carry_idr[lever] = 0.0


def stock_gain(level: float, spend_bn: float, max_gain: float, half_saturation_bn: float) -> float:
    """Diminishing-returns gain of a platform stock from one month's spending."""
    if spend_bn <= 0:
        return 0.0
    return max_gain * spend_bn / (spend_bn + half_saturation_bn) * (1.0 - level)


def apply_policy(
    state: State, cfg: SimConfig, month: int, rng: np.random.Generator
) -> dict[str, float]:
    """Spend this month's budget; returns IDR billion actually spent per lever."""
    spent = dict.fromkeys(LEVERS, 0.0)
    pol = cfg.policy
    if month < pol.start_month or cfg.budget_idr_bn_per_month <= 0:
        return spent
    costs = cfg.params.costs
    bur = cfg.params.bureaucracy
    adopt = cfg.params.adoption
    plat = cfg.params.platform
    c, s = state.citizens, state.staff
    budget_idr = cfg.budget_idr_bn_per_month * IDR_PER_BN
    target = citizen_target_mask(state, pol.targeting, cfg.population.outer_islands)
    people = state.people_per_citizen

    # F5 training of civil servants (ASN): competence up, resistance down, fairer service.
    money = budget_idr * pol.allocation.training
    if money > 0:
        unit = costs.training_per_civil_servant * state.civil_servants_per_staff
        k = _buy_units(state, "training", money, unit)
        office_priority = office_target_mask(state, pol.targeting, cfg.population.outer_islands)
        chosen = select_with_priority(~s.trained, office_priority[s.office], k, rng)
        if cfg.mechanisms.training:
            s.competence[chosen] += bur.training_competence_gain * (1 - s.competence[chosen])
            s.resistance[chosen] *= 1 - bur.training_resistance_cut
            s.fairness[chosen] += bur.training_fairness_gain * (1 - s.fairness[chosen])
        s.trained[chosen] = True
        _settle(state, "training", k, chosen.size)
        spent["training"] = chosen.size * unit / IDR_PER_BN

    # F4 infrastructure: cover citizens without usable internet.
    money = budget_idr * pol.allocation.infrastructure
    if money > 0:
        unit = costs.infrastructure_per_person_covered * people
        k = _buy_units(state, "infrastructure", money, unit)
        chosen = select_with_priority(~c.access, target, k, rng)
        c.access[chosen] = True
        _settle(state, "infrastructure", k, chosen.size)
        spent["infrastructure"] = chosen.size * unit / IDR_PER_BN
        if chosen.size and cfg.mechanisms.infrastructure:
            _update_office_capacity(state, bur.capacity_per_infra)

    # C2 literacy programmes: close part of the literacy gap; learners hear of the services.
    money = budget_idr * pol.allocation.literacy
    if money > 0:
        unit = costs.literacy_per_learner * people
        k = _buy_units(state, "literacy", money, unit)
        chosen = select_with_priority(~c.literacy_trained, target, k, rng)
        c.literacy[chosen] += adopt.literacy_programme_gain * (1 - c.literacy[chosen])
        c.literacy_trained[chosen] = True
        c.aware[chosen] = True
        _settle(state, "literacy", k, chosen.size)
        spent["literacy"] = chosen.size * unit / IDR_PER_BN

    # F2 co-production sessions: participants gain trust and awareness; usability and, where the
    # participants are those the platform serves worst, accessibility improve.
    money = budget_idr * pol.allocation.coproduction
    if money > 0:
        unit = costs.coproduction_per_participant * people
        k = _buy_units(state, "coproduction", money, unit)
        chosen = select_with_priority(~c.coproduced, target, k, rng)
        c.coproduced[chosen] = True
        c.aware[chosen] = True
        c.trust[chosen] += adopt.coproduction_trust_gain * (1 - c.trust[chosen])
        if cfg.mechanisms.coproduction and chosen.size:
            share = chosen.size / c.n
            p = state.platform
            p.usability += min(1.0, plat.participant_rate * share) * (1 - p.usability)
            low = np.mean((c.literacy_tercile[chosen] == 0) | (c.age_band[chosen] == 3))
            p.accessibility += min(1.0, plat.participant_rate * share * low) * (1 - p.accessibility)
        _settle(state, "coproduction", k, chosen.size)
        spent["coproduction"] = chosen.size * unit / IDR_PER_BN

    spent.update(invest_in_stocks(state.platform, cfg))
    return spent


def invest_in_stocks(platform: Platform, cfg: SimConfig) -> dict[str, float]:
    """Raise each stock lever's platform level; returns IDR bn spent per stock lever (its whole share)."""
    plat, costs = cfg.params.platform, cfg.params.costs
    spent = {}
    for lever in STOCK_LEVERS:
        spend_bn = cfg.budget_idr_bn_per_month * getattr(cfg.policy.allocation, lever)
        level = getattr(platform, lever)
        gain = stock_gain(level, spend_bn, plat.stock_max_monthly_gain, costs.stock_half_saturation_bn)
        setattr(platform, lever, level + gain)
        spent[lever] = spend_bn
    return spent


def _citizen_cells(state: State) -> tuple[np.ndarray, np.ndarray]:
    """Each citizen's region x urban cell and the number of citizens per cell (fixed; cached)."""
    c = state.citizens
    n_cells = state.cell_coverage_base.size

    def build() -> tuple[np.ndarray, np.ndarray]:
        cell = c.region.astype(np.int64) * 2 + c.urban
        return cell.astype(np.int16), np.bincount(cell, minlength=n_cells)

    return state.cached("policy.citizen_cells", (c.region, c.urban), build)


def _update_office_capacity(state: State, capacity_per_infra: float) -> None:
    """Office capacity follows the rise in coverage of the office's region x urban cell."""
    c, o = state.citizens, state.offices
    cell, counts = _citizen_cells(state)
    n_cells = state.cell_coverage_base.size
    covered = counts - np.bincount(cell[~c.access], minlength=n_cells)  # most have access
    coverage = np.divide(covered, counts, out=np.zeros(n_cells), where=counts > 0)
    gain = np.clip(coverage - state.cell_coverage_base, 0.0, None)
    office_cell = o.region.astype(np.int64) * 2 + o.urban
    o.capacity = np.clip(o.capacity_base + capacity_per_infra * gain[office_cell], 0.0, 1.0)


def platform_decay(state: State, cfg: SimConfig) -> None:
    """Stocks depreciate towards their initial levels without upkeep."""
    plat = cfg.params.platform
    p = state.platform
    for lever in STOCK_LEVERS:
        level = getattr(p, lever)
        setattr(p, lever, level - plat.stock_decay * (level - getattr(plat, f"{lever}_initial")))
