"""Synthesise citizens, civil servants and service offices from a population profile.

Citizens' island group, urban/rural and age band are drawn from the profile's shares. Internet access
is drawn from a logistic model whose group offsets are raked (iterative proportional fitting on the
logit scale) so that access by island group, by urban/rural and by age band matches the published
marginals. The age marginals of APJII average above its own national figure, so they are first shifted
by one common logit offset to agree with the national rate implied by the island-group figures
(documented in docs/ODD.md). Literacy and trust are logit-normal with group effects, their intercepts
solved so that the means equal the published levels; each citizen's trust anchor starts at the
log-odds of their initial trust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, logit

from sim.names import AGE_BANDS, REGIONS
from sim.networks import NetworkConfig, locality_order, network_block
from sim.parameters import Block, par
from sim.provinces import (
    CENSUS_2020_REGION_SHARES,
    N_PROVINCES,
    PROVINCE_REGION,
    RegionalConfig,
    access_log_odds,
    draw_provinces,
    literacy_log_odds,
    office_effects,
    population_shares,
)
from sim.rules.adoption import keeps_to_counter
from sim.rules.trust import anchor_log_odds, logistic
from sim.state import NON_USER, USER, Citizens, Offices, Platform, Staff
from sim.weights import (
    draw_people,
    group_totals,
    mean,
    quantiles,
    ranks,
    stratified_counts,
    stratum_weights,
)

if TYPE_CHECKING:
    from sim.rules.adoption import AdoptionParams
    from sim.rules.platform import PlatformParams

_APJII_2024 = "APJII Survei Penetrasi Internet 2024"
_SHARE = {"low": 0, "high": 1}


@dataclass
class PopulationConfig(Block):
    """A population profile: the marginals the synthetic population is raked to.

    Profiles in ``configs/population/`` override some of these (``small``); the Indonesia profile is
    these declarations themselves.
    """

    name: str = par("indonesia", "-", "profile name", "-")
    n_citizens: int = par(20_000, "agents", "citizen agents; each stands for population_total / "
                          "n_citizens people", "-", low=10, integer=True)
    province_min_share: float = par(
        0.0, "share of the citizen agents", "the share of the citizen agents every province gets at least "
        "(0.015: 300 of 20,000): 0 draws provinces in proportion to their people (Papua Selatan, 0.2% of "
        "the people, then has about 40 of 20,000); above 0 the sample is stratified by province and each "
        "citizen carries a survey weight, the people they stand for (every aggregate is weighted, "
        "sim.weights); at most 1/38, an equal share each (a sampling design: it changes the precision of "
        "the figures, not what they estimate)", "-", low=0, high=1 / N_PROVINCES)
    population_total: float = par(
        280_000_000.0, "people", "people represented", "BPS projection 2024 (Census 2020: 270.2 M)",
        low=0, low_open=True)
    residents_per_civil_servant: float = par(
        65.0, "people / civil servant", "residents per civil servant (ASN)",
        "BKN 31 Dec 2022: 4,254,513 ASN", low=1)
    office_size: int = par(12, "civil servants / office", "civil servants per service office",
                           low=3, integer=True)
    supervisors_per_office: int = par(2, "civil servants", "level-1 supervisors per office", low=1,
                                      integer=True)
    region_shares: list[float] = par(
        list(CENSUS_2020_REGION_SHARES), "shares",
        f"share of people per island group ({', '.join(REGIONS)}); sum 1", "Census 2020",
        length=len(REGIONS), **_SHARE)
    outer_islands: list[str] = par(
        ["Maluku-Papua", "Bali-Nusa Tenggara"], "island groups",
        "island groups reached by the outer_islands targeting", "assumption (targeting group)",
        choices=REGIONS)
    urban_share: float = par(0.58, "share", "share of people in urban areas",
                             "BPS projection (2020 56.7%, 2025 60.0%)", **_SHARE)
    age_shares: list[float] = par(
        [0.314, 0.290, 0.246, 0.150], "shares", f"share of people per age band ({', '.join(AGE_BANDS)})"
        "; sum 1", "Census 2020 generation shares (derived)", length=len(AGE_BANDS), **_SHARE)
    access_by_region: list[float] = par(
        [0.8364, 0.7734, 0.7742, 0.6835, 0.7180, 0.6991], "share",
        "usable internet access by island group", _APJII_2024, length=len(REGIONS), **_SHARE)
    access_urban: float = par(0.822, "share", "internet access, urban", _APJII_2024, **_SHARE)
    access_rural: float = par(0.740, "share", "internet access, rural", _APJII_2024, **_SHARE)
    access_date: str = par("2023-01", "YYYY-MM", "the month the access level (``access_level``) "
                           "describes; the marginals' shapes are moved along the trend from it",
                           "APJII Survei Penetrasi Internet 2023 fieldwork 10-27 Jan 2023")
    access_level: float | None = par(
        0.7819, "share", "national internet access at ``access_date``: every access marginal (its "
        "shape from APJII 2024) is shifted by one log-odds constant to this level, so that the 2024 "
        "and 2025 surveys stay out of the profile and test the access trend; null: the marginals' "
        "own level", "APJII Survei Penetrasi Internet 2023 (10-27 Jan 2023): 78.19% of people 13+",
        low=0, high=1, low_open=True, high_open=True)
    literacy_date: str = par("2024-07", "YYYY-MM", "when the literacy mean was measured",
                             "IMDI 2024 (survey year 2024; mid-year assumed)")
    access_by_age: list[float] = par(
        [0.8702, 0.9317, 0.8369, 0.6052], "share", "internet access by age band (shifted, ODD 5.2)",
        f"{_APJII_2024} by generation", length=len(AGE_BANDS), **_SHARE)
    access_log_odds_shift: float = par(
        0.0, "log-odds", "common shift of every access marginal on top of ``access_level`` (a "
        "what-if lever for researchers; 0: none)", "-")
    access_income_log_odds_per_quintile: float = par(
        0.35, "log-odds / quintile", "income gradient of internet access",
        "assumption (from the APJII 2022 education gradient)", prior=(0.1, 0.6))
    literacy_mean: float = par(0.4334, "index / 100", "mean digital literacy",
                               "IMDI 2024 = 43.34 / 100 (Kominfo)", low=0, high=1, low_open=True,
                               high_open=True)
    literacy_sd_logit: float = par(0.8, "logit", "spread of literacy on the logit scale", low=0,
                                   prior=(0.4, 1.2))
    literacy_urban_log_odds: float = par(0.30, "log-odds", "urban literacy advantage",
                                         prior=(0.0, 0.6))
    literacy_income_log_odds_per_quintile: float = par(
        0.15, "log-odds / quintile", "income gradient of literacy", prior=(0.0, 0.3))
    literacy_age_log_odds: list[float] = par(
        [0.3, 0.2, -0.1, -0.6], "log-odds", "literacy offset per age band (shape fixed, not sampled)",
        length=len(AGE_BANDS))
    literacy_region_log_odds: list[float] = par(
        [0.10, 0.0, 0.0, -0.10, -0.10, -0.30], "log-odds",
        "literacy offset per island group (shape fixed, not sampled)",
        "assumption (shape from the IMDI 2024 range: Jakarta 50.5 vs North Maluku 38.3)",
        length=len(REGIONS))
    trust_mean: float = par(0.75, "[0, 1]", "mean trust in government at month 0 (start_date)",
                            "assumption near Edelman Trust Barometer 2020 (fieldwork Oct-Nov 2019), "
                            "Indonesia ~75% trusting; inferred by the calibration",
                            prior=(0.55, 0.9), low=0, high=1, low_open=True, high_open=True)
    trust_sd_logit: float = par(0.8, "logit", "spread of initial trust on the logit scale", low=0,
                                prior=(0.4, 1.2))
    trust_income_log_odds_per_quintile: float = par(
        0.08, "log-odds / quintile", "income gradient of initial trust",
        "assumption derived from Edelman 2015 (informed public 72% vs general population 65%, about "
        "0.33 log-odds between quintiles 5 and 1)", prior=(0.0, 0.16))
    trust_urban_log_odds: float = par(0.0, "log-odds", "urban trust offset",
                                      "assumption (no published urban/rural split of trust)",
                                      prior=(-0.3, 0.3))
    awareness_initial: float = par(
        0.5, "share", "share aware of the digital services at month 0 (users are aware in any case)",
        prior=(0.3, 0.8), **_SHARE)
    adoption_initial: float = par(
        0.15, "share of people with access", "share of people with internet access who use the "
        "digital services at month 0 (start_date, 2020-01 by default; the adoption measure, "
        "docs/ODD.md 2.1)", "assumption below Kominfo-KIC Status Literasi Digital 2021 (28% of "
        "internet users had ever used the internet to reach public services in Oct 2021); inferred "
        "by the calibration", prior=(0.02, 0.4), **_SHARE)
    staff_competence_mean: float = par(
        0.45, "[0, 1]", "mean digital competence of civil servants",
        "Rumata & Nugraha 2020: 44.9% of staff with good digital literacy", **_SHARE)
    staff_competence_sd: float = par(0.15, "[0, 1]", "spread of staff competence", prior=(0.05, 0.25),
                                     **_SHARE)
    staff_resistance_mean: float = par(0.55, "[0, 1]", "mean resistance to digital work",
                                       prior=(0.35, 0.75), **_SHARE)
    staff_resistance_sd: float = par(0.15, "[0, 1]", "spread of staff resistance", prior=(0.05, 0.25),
                                     **_SHARE)
    staff_digital_initial: float = par(
        0.12, "share", "civil servants working digitally at month 0",
        "Bappenas 2020: ~0.52 M of 4.29 M ASN 'apply' digital skills (low confidence)", **_SHARE)
    staff_fairness_mean: float = par(0.7, "[0, 1]", "mean fairness of offline encounters",
                                     prior=(0.5, 0.9), **_SHARE)
    office_capacity_urban: float = par(0.8, "[0, 1]", "infrastructure capacity of urban offices",
                                       prior=(0.6, 0.95), **_SHARE)
    office_capacity_rural: float = par(0.55, "[0, 1]", "infrastructure capacity of rural offices",
                                       prior=(0.35, 0.75), **_SHARE)
    regional: RegionalConfig = field(default_factory=RegionalConfig)

RAKING_ITERATIONS = 60


def _group_means(
    values: np.ndarray, groups: np.ndarray, n_groups: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Mean of ``values`` per group, optionally weighted (e.g. by the number of citizens in a cell)."""
    if weights is None:
        counts = np.bincount(groups, minlength=n_groups)
        sums = np.bincount(groups, weights=values, minlength=n_groups)
    else:
        counts = np.bincount(groups, weights=weights, minlength=n_groups)
        sums = np.bincount(groups, weights=values * weights, minlength=n_groups)
    return np.divide(sums, counts, out=np.zeros(n_groups), where=counts > 0)


def consistent_age_targets(pop: PopulationConfig) -> np.ndarray:
    """Shift the age-band access targets by one logit offset to match the island-group national rate."""
    national = float(np.dot(pop.region_shares, pop.access_by_region))
    age_logits = logit(np.clip(pop.access_by_age, 1e-6, 1 - 1e-6))
    lo, hi = -5.0, 5.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if np.dot(pop.age_shares, expit(age_logits + mid)) > national:
            hi = mid
        else:
            lo = mid
    return expit(age_logits + (lo + hi) / 2)


def rake_access_probability(
    region: np.ndarray,
    urban: np.ndarray,
    age_band: np.ndarray,
    quintile: np.ndarray,
    pop: PopulationConfig,
    province: np.ndarray | None = None,
    citizen_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Access probability per cell, whose group means match the profile's marginals, and each
    citizen's cell (the probability of citizen i is ``probability[cell[i]]``).

    The probability depends on the citizen only through the cell province x urban x age band x
    income quintile (38 x 2 x 4 x 5 cells; island group instead of province when ``province`` is
    None), so the raking runs on the table of cell counts (group means are count-weighted cell means):
    the same fit as raking over the rows, at a cost independent of the population size. Whatever is
    computed from the probability alone is computed per cell too, then looked up per citizen. A
    province's fixed offset (:func:`sim.provinces.access_log_odds`) moves it within its island group;
    the island group's raked offset keeps the group's mean at its target.
    """
    n_regions, n_ages = len(pop.access_by_region), len(pop.access_by_age)
    if province is None:
        unit, unit_region, unit_offset = region, np.arange(n_regions), np.zeros(n_regions)
    else:
        unit, unit_region = province, PROVINCE_REGION
        unit_offset = access_log_odds(pop.regional)
    shape = (unit_region.size, 2, n_ages, 5)
    code = np.ravel_multi_index(
        (unit.astype(np.intp), urban.astype(np.intp), age_band.astype(np.intp),
         quintile.astype(np.intp)), shape
    )
    weight = group_totals(code, int(np.prod(shape)), citizen_weight)  # people per cell
    cell_unit, cell_urban, cell_age, cell_quintile = np.unravel_index(np.arange(weight.size), shape)
    cell_region = unit_region[cell_unit]
    dims = [
        (cell_region, np.asarray(pop.access_by_region, dtype=float)),
        (cell_urban, np.array([pop.access_rural, pop.access_urban])),
        (cell_age, consistent_age_targets(pop)),
    ]
    base = pop.access_income_log_odds_per_quintile * (cell_quintile - 2.0) + unit_offset[cell_unit]
    offsets = [np.zeros(t.size) for _, t in dims]
    for _ in range(RAKING_ITERATIONS):
        for k, (groups, target) in enumerate(dims):
            eta = base + sum(off[g] for off, (g, _) in zip(offsets, dims, strict=True))
            p = expit(eta)
            mean = _group_means(p, groups, target.size, weight)
            slope = _group_means(p * (1 - p), groups, target.size, weight)
            step = np.divide(target - mean, slope, out=np.zeros_like(mean), where=slope > 0)
            offsets[k] = offsets[k] + step
    eta = base + sum(off[g] for off, (g, _) in zip(offsets, dims, strict=True))
    return expit(eta), code


def _literacy(
    region: np.ndarray,
    urban: np.ndarray,
    age_band: np.ndarray,
    quintile: np.ndarray,
    pop: PopulationConfig,
    rng: np.random.Generator,
    province: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    eta = (
        np.asarray(pop.literacy_region_log_odds)[region]
        + (0.0 if province is None else literacy_log_odds(pop.regional)[province])
        + pop.literacy_urban_log_odds * (urban.astype(float) - pop.urban_share)
        + np.asarray(pop.literacy_age_log_odds)[age_band]
        + pop.literacy_income_log_odds_per_quintile * (quintile.astype(float) - 2.0)
        + rng.normal(0.0, pop.literacy_sd_logit, region.size)
    )
    return logit_normal_with_mean(eta, pop.literacy_mean, weight)


def logit_normal_with_mean(eta: np.ndarray, target_mean: float, weight: np.ndarray | None = None
                           ) -> np.ndarray:
    """expit(eta + shift) with the one shift that makes its mean ``target_mean``.

    Solves mean(expit(eta + shift)) = target for shift in [-8, 8]: Newton steps, falling back to
    bisection whenever a step would leave the bracket (a handful of passes over the data). With survey
    ``weight`` the mean is the population's (:mod:`sim.weights`).
    """
    lo, hi, shift = -8.0, 8.0, 0.0
    for _ in range(100):
        p = logistic(eta + shift)
        gap = mean(p, weight) - target_mean
        if gap > 0:
            hi = shift
        else:
            lo = shift
        if abs(gap) < 1e-13 or hi - lo < 1e-12:
            break
        slope = mean(p * (1.0 - p), weight)
        newton = shift - gap / slope if slope > 0 else hi + 1.0
        shift = newton if lo < newton < hi else (lo + hi) / 2
    return logistic(eta + shift)


def _trust(urban: np.ndarray, quintile: np.ndarray, pop: PopulationConfig,
           rng: np.random.Generator, weight: np.ndarray | None = None) -> np.ndarray:
    """Initial trust: logit-normal with income and urban/rural effects, mean at the published level."""
    eta = (
        pop.trust_income_log_odds_per_quintile * (quintile.astype(float) - 2.0)
        + pop.trust_urban_log_odds * (urban.astype(float) - pop.urban_share)
        + rng.normal(0.0, pop.trust_sd_logit, urban.size)
    )
    return logit_normal_with_mean(eta, pop.trust_mean, weight)


def in_regions(region: np.ndarray, names: list[str]) -> np.ndarray:
    """Whether each island-group code is one of the named island groups (e.g. the outer islands)."""
    return np.isin(region, [REGIONS.index(r) for r in names])


def citizen_need_score(region: np.ndarray, urban: np.ndarray, age_band: np.ndarray,
                       quintile: np.ndarray, literacy_tercile: np.ndarray, pop: PopulationConfig,
                       tie_break: np.ndarray) -> np.ndarray:
    """Number of disadvantages (rural, lowest literacy tercile, 60+, poorest quintile, outer
    islands) plus a tie-break in [0, 1): a targeted lever reaches the highest scores first."""
    outer = in_regions(region, pop.outer_islands)
    return (
        (~urban).astype(float) + (literacy_tercile == 0) + (age_band == len(pop.age_shares) - 1)
        + (quintile == 0) + outer + tie_break
    )


def income_order(score: np.ndarray) -> np.ndarray:
    """Citizens from poorest to richest: the stable order of ``score`` (ties keep the citizens' order).

    Continuous scores almost never tie, and numpy's default (vectorised) sort of 1 M floats is several
    times faster than its stable sort; the stable sort is used only if two scores are equal, so the
    order is always the stable one.
    """
    order = np.argsort(score)
    ranked = score[order]
    if np.any(ranked[1:] == ranked[:-1]):
        return np.argsort(score, kind="stable")
    return order


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    return np.clip(rng.normal(mean, sd, n), 0.0, 1.0)


def synthesise_citizens(
    pop: PopulationConfig, adoption: AdoptionParams, rng: np.random.Generator,
    trend_shift: tuple[float, float] = (0.0, 0.0), *, attachment_rng: np.random.Generator,
    network: NetworkConfig | None = None,
) -> Citizens:
    """Draw the citizens' attributes; offices are assigned later by :func:`assign_offices`.

    ``attachment_rng`` draws the attachment to the counter, from its own stream so that every other
    attribute is the same whatever the behaviour settings.

    ``network``: the citizens' network, whose blocks (island group x urban x income quintile) may
    set the order in which the citizens are numbered (:func:`sim.networks.locality_order`): once
    the blocks are known the citizens drawn so far are renumbered and every later attribute is
    drawn in the new order. Citizens are drawn independently of each other, so the order changes
    no distribution; explicit thresholds (one per citizen) go to the citizens in the final order.

    ``trend_shift`` moves access and literacy along their trends (log-odds) from the dates the
    profile's figures were measured to the start date (:mod:`sim.rules.trends`).
    """
    n = pop.n_citizens
    weight = None
    if pop.province_min_share > 0:
        province, weight = stratified_provinces(pop, rng)
        region = PROVINCE_REGION[province]
    else:
        region = rng.choice(len(REGIONS), size=n, p=np.asarray(pop.region_shares)).astype(np.int8)
        province = draw_provinces(region, rng)
    urban = rng.random(n) < pop.urban_share
    age_band = rng.choice(len(pop.age_shares), size=n, p=np.asarray(pop.age_shares)).astype(np.int8)
    # Income: a latent score, richer in towns and on Java (assumption), turned into exact ranks.
    java = (region == 0).astype(float)
    score = 0.6 * urban + 0.3 * java + rng.normal(0.0, 1.0, n)
    income_rank = ranks(income_order(score), weight)
    quintile = np.minimum((income_rank * 5).astype(np.int8), 4)
    order = None if network is None else locality_order(network, network_block(region, urban, quintile))
    if order is not None:
        region, province, urban, age_band, income_rank, quintile = (
            x[order] for x in (region, province, urban, age_band, income_rank, quintile))
        weight = None if weight is None else weight[order]

    probability, cell = rake_access_probability(region, urban, age_band, quintile, pop, province, weight)
    cell_log_odds = logit(np.clip(probability, 1e-9, 1 - 1e-9)) + trend_shift[0]
    access_log_odds = cell_log_odds[cell]
    access = rng.random(n) < expit(cell_log_odds)[cell]
    literacy = _literacy(region, urban, age_band, quintile, pop, rng, province, weight)
    if trend_shift[1]:
        literacy = expit(logit(np.clip(literacy, 1e-9, 1 - 1e-9)) + trend_shift[1])
    cut = quantiles(literacy, [1 / 3, 2 / 3], weight)
    literacy_tercile = np.searchsorted(cut, literacy, side="right").astype(np.int8)
    trust = _trust(urban, quintile, pop, rng, weight)

    attachment = attachment_rng.random(n, dtype=np.float32)
    centre_order = attachment_rng.random(n, dtype=np.float32)
    aware = rng.random(n) < pop.awareness_initial
    state = np.full(n, NON_USER, dtype=np.int8)
    if adoption.rule == "utaut":
        # Initial users: a share of the connected (the measure's base), none of those who keep to the
        # counter by choice; they are aware in any case.
        eligible = np.flatnonzero(access & ~keeps_to_counter(attachment, adoption))
        if weight is None:
            k = (adoption.initial_adopters if adoption.initial_adopters >= 0
                 else int(round(pop.adoption_initial * int(access.sum()))))
            state[rng.choice(eligible, size=min(k, eligible.size), replace=False)] = USER
        else:  # the same share of the connected people, each eligible citizen with the same chance
            people = (adoption.initial_adopters if adoption.initial_adopters >= 0
                      else pop.adoption_initial * float(weight[access].sum()))
            state[draw_people(eligible, people, weight, rng)] = USER
    else:
        # Reduced forms: every citizen is eligible, initial adopters chosen at random.
        k = (adoption.initial_adopters if adoption.initial_adopters >= 0
             else int(round(pop.adoption_initial * n)))
        state[rng.choice(n, size=k, replace=False)] = USER
    threshold = np.clip(rng.normal(adoption.threshold, adoption.threshold_sd, n), 0.0, None)
    if adoption.threshold_sd == 0:
        threshold = np.full(n, adoption.threshold)
    if len(adoption.thresholds) == n:  # explicit: one threshold per citizen
        threshold = np.asarray(adoption.thresholds, dtype=float)
    elif len(adoption.thresholds) > 0:  # an empirical distribution
        threshold = rng.choice(np.asarray(adoption.thresholds, dtype=float), size=n)

    anchor = anchor_log_odds(trust)
    return Citizens(
        region=region,
        province=province,
        urban=urban,
        age_band=age_band,
        income_rank=income_rank,
        quintile=quintile,
        literacy=literacy,
        literacy_tercile=literacy_tercile,
        access=access,
        access_log_odds=access_log_odds,
        trust=trust,
        trust_anchor=anchor,
        trust_anchor_initial=anchor.copy(),
        aware=aware | (state == USER),
        state=state,
        office=np.zeros(n, dtype=np.int32),
        threshold=threshold,
        last_experience=np.zeros(n, dtype=np.int8),
        coproduced=np.zeros(n, dtype=np.bool_),
        literacy_trained=np.zeros(n, dtype=np.bool_),
        willingness=rng.random(n, dtype=np.float32),
        need_score=citizen_need_score(region, urban, age_band, quintile, literacy_tercile, pop,
                                      rng.random(n)),
        counter_attachment=attachment,
        centre_order=centre_order,
        centre_covered=np.zeros(n, dtype=np.bool_),  # set from the published openings by the model
        partner_covered=np.zeros(n, dtype=np.bool_),
        weight=weight,
    )


def stratified_provinces(pop: PopulationConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each citizen's province in a sample stratified by province (at least ``province_min_share`` of
    the agents in each, rounded down, :func:`sim.weights.stratified_counts`) and each citizen's survey
    weight (mean 1). The provinces' counts are exact; their order is shuffled, so that nothing else
    depends on them."""
    n, shares = pop.n_citizens, population_shares(pop.region_shares)
    counts = stratified_counts(shares, n, min(int(pop.province_min_share * n + 1e-9), n // N_PROVINCES))
    province = rng.permutation(np.repeat(np.arange(N_PROVINCES, dtype=np.int8), counts))
    return province, stratum_weights(shares, counts, n)[province]


def synthesise_offices_and_staff(
    citizens: Citizens, pop: PopulationConfig, adoption: AdoptionParams, rng: np.random.Generator
) -> tuple[Offices, Staff]:
    """One office hierarchy per office; offices per province x urban cell in proportion to residents.

    Offices belong to a province (its regional government): every populated province x urban/rural
    cell gets at least one office, so small populations over-represent staff in thinly populated
    cells (at 20,000 citizens every province has offices; a province nobody was drawn in has none);
    ``civil_servants_per_staff`` keeps costs in real terms. Capacity, staff competence and political
    will get the province's effect (:func:`sim.provinces.office_effects`).
    """
    cell = citizens.province.astype(np.int64) * 2 + citizens.urban
    residents = group_totals(cell, 2 * N_PROVINCES, citizens.weight)  # people, in citizen agents
    staff_needed = residents / pop.residents_per_civil_servant
    offices_per_cell = np.where(
        residents > 0, np.maximum(1, np.round(staff_needed / pop.office_size)), 0
    ).astype(np.int64)
    office_cell = np.repeat(np.arange(2 * N_PROVINCES), offices_per_cell)
    n_offices = office_cell.size
    office_province = (office_cell // 2).astype(np.int8)
    office_region = PROVINCE_REGION[office_province]
    office_urban = (office_cell % 2).astype(bool)
    effects = office_effects(office_province, pop.regional)

    # Citizens: a random office of their own cell.
    first_office = np.concatenate([[0], np.cumsum(offices_per_cell)[:-1]])
    draw = (rng.random(citizens.n) * offices_per_cell[cell]).astype(np.int64)
    citizens.office = (first_office[cell] + draw).astype(np.int32)

    # Staff: head, supervisors, then staff reporting round-robin to the supervisors.
    size, n_sup = pop.office_size, pop.supervisors_per_office
    n_staff = n_offices * size
    staff_office = np.repeat(np.arange(n_offices, dtype=np.int32), size)
    position = np.tile(np.arange(size), n_offices)
    level = np.where(position == 0, 0, np.where(position <= n_sup, 1, 2)).astype(np.int8)
    office_start = staff_office.astype(np.int64) * size
    sup_position = np.where(level == 2, 1 + (position - n_sup - 1) % n_sup, 0)
    supervisor = np.where(level == 0, -1, office_start + sup_position).astype(np.int32)

    competence = np.clip(
        rng.normal(pop.staff_competence_mean, pop.staff_competence_sd, n_staff)
        + effects.competence[staff_office], 0.0, 1.0)
    resistance = _clipped_normal(rng, pop.staff_resistance_mean, pop.staff_resistance_sd, n_staff)
    fairness = _clipped_normal(rng, pop.staff_fairness_mean, 0.1, n_staff)
    # Initial digital practice: the most competent, least resistant are the first to work digitally.
    propensity = competence - resistance + rng.normal(0.0, 0.1, n_staff)
    k = int(round(pop.staff_digital_initial * n_staff))
    digital = np.zeros(n_staff, dtype=np.bool_)
    if k > 0:
        digital[np.argsort(-propensity, kind="stable")[:k]] = True

    capacity = np.clip(
        np.where(office_urban, pop.office_capacity_urban, pop.office_capacity_rural)
        + effects.capacity, 0.0, 1.0)
    offline_hours = np.where(
        office_urban, adoption.offline_hours_urban, adoption.offline_hours_rural
    ).astype(float)
    offices = Offices(
        region=office_region,
        province=office_province,
        will_log_odds=effects.will_log_odds,
        urban=office_urban,
        capacity=capacity.astype(float),
        readiness=np.zeros(n_offices),
        digital_share=np.zeros(n_offices),
        fairness=np.zeros(n_offices),
        offline_hours=offline_hours,
        led=np.zeros(n_offices, dtype=np.bool_),
        need_score=(
            (~office_urban).astype(float)
            + in_regions(office_region, pop.outer_islands)
            + rng.random(n_offices)
        ),
    )
    staff = Staff(
        office=staff_office,
        level=level,
        supervisor=supervisor,
        competence=competence,
        resistance=resistance,
        fairness=fairness,
        competence_initial=competence.copy(),
        resistance_initial=resistance.copy(),
        fairness_initial=fairness.copy(),
        trained=np.zeros(n_staff, dtype=np.bool_),
        digital=digital,
        willingness=rng.random(n_staff, dtype=np.float32),
    )
    return offices, staff


def initial_platform(params: PlatformParams) -> Platform:
    return Platform(
        usability=params.usability_initial,
        accessibility=params.accessibility_initial,
        security=params.security_initial,
        transparency=params.transparency_initial,
        separate_apps=params.separate_apps_initial,
    )

