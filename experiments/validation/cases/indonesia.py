"""The ``indonesia`` profile's initial state against the published figures it is built from.

Nothing here is scored: the population is built to meet these figures, so meeting them is no
evidence about the model's behaviour (that is the ``observed`` case's job).

Input consistency (reported, ``kind="consistency"``): internet access nationally, by island group and
urban/rural (APJII 2024; the synthesis rakes access to these marginals at once) and mean trust in
government (Edelman 2023; the trust intercept is solved for it). Each row says whether the built
population lies within ``tolerance_pp`` of the figure, which shows where the raking meets its inputs.

Cannot be met by construction (reported, ``kind="unattainable"``): access by generation (APJII 2024).
The published generation figures contradict the island-group figures, so the synthesis shifts all four
by one logit offset; each row gives that reason and the model's own shifted target.

Identities (shown, not counted): island-group population shares and the urban share (inputs drawn as
given) and mean digital literacy (the literacy intercept is solved on the drawn population for exactly
this mean).
"""

from __future__ import annotations

import numpy as np

from experiments.validation.runner import RunSpec, build_model
from experiments.validation.scoring import CaseResult, Check, identity, reported
from sim.config import AGE_BANDS, REGIONS
from sim.metrics import group_shares
from sim.population import consistent_age_targets

CASE = "indonesia"

# ../shared/data/indonesia.md
APJII_2024 = {
    "national": 0.795,
    "urban": 0.822,
    "rural": 0.740,
    "region": [0.8364, 0.7734, 0.7742, 0.6835, 0.7180, 0.6991],
    "age": [0.8702, 0.9317, 0.8369, 0.6052],  # Gen Z, Millennials, Gen X, Boomers
}
GENERATIONS = ["Gen Z", "Millennials", "Gen X", "Boomers (60-78)"]
APJII_2024_PRE_BOOMERS = 0.32
IMDI_2024 = 0.4334
EDELMAN_2023_TRUST = 0.76
CENSUS_2020_REGION_SHARES = [0.5610, 0.2168, 0.0615, 0.0736, 0.0554, 0.0317]
BPS_URBAN_SHARE = {2020: 0.567, 2025: 0.600}


CONSISTENCY = "input consistency, not scored: the population is built to meet this figure"
UNATTAINABLE = "not scored: cannot be met by construction"


def _se(share: float, count: int) -> str:
    return f"sampling s.e. {np.sqrt(share * (1 - share) / max(count, 1)) * 100:.2f} pp"


def _consistency(name: str, measured: float, published: float, tol: float, how: str, detail: str
                 ) -> Check:
    """A reported input-consistency row: whether the built population lies within ``tol`` of the
    figure it is built to meet (``how``: by what means)."""
    gap = abs(measured - published)
    inside = "within" if gap <= tol + 1e-12 else "outside"
    band = f"|model - published| = {gap * 100:.2f} pp, {inside} the {tol * 100:g} pp band"
    return reported(CASE, name, measured, published, tol, f"{CONSISTENCY} ({how}); {band}; {detail}",
                    kind="consistency")


def indonesia_case(n: int, seed: int, tolerance_pp: float) -> CaseResult:
    """Month-0 marginals of one ``n``-citizen population against the published figures."""
    # The profile as published: no move along the trends from the figures' dates to start_date, and
    # the access marginals at their own (APJII 2024) level, not anchored to the APJII 2023 national
    # figure (population.access_level), so that the raking is checked against the figures it rakes to.
    model = build_model(RunSpec.make(n, seed, 1, overrides={
        "params.trends.access_logit_per_year": 0.0, "params.trends.literacy_logit_per_year": 0.0,
        "population.access_level": None}))
    c = model.state.citizens
    pop = model.cfg.population
    tol = tolerance_pp / 100
    checks: list[Check] = []
    measured: dict[str, float] = {}
    implied = float(np.dot(pop.region_shares, pop.access_by_region))

    national = float(c.access.mean())
    measured["national"] = national
    raked = "the synthesis rakes access to the APJII 2024 marginals"
    checks.append(_consistency("Indonesia t=0: internet access, national (APJII 2024)", national,
                               APJII_2024["national"], tol, raked,
                               f"the island-group figures imply {implied:.4f} nationally; "
                               f"{_se(national, n)}"))
    reg = group_shares(c.access, c.region, len(REGIONS))
    counts = np.bincount(c.region, minlength=len(REGIONS))
    for i, name in enumerate(REGIONS):
        measured[f"region:{name}"] = float(reg[i])
        checks.append(_consistency(f"Indonesia t=0: internet access, {name} (APJII 2024)", reg[i],
                                   APJII_2024["region"][i], tol, raked, _se(reg[i], counts[i])))
    ur = group_shares(c.access, c.urban.astype(np.int64), 2)
    n_urban = int(c.urban.sum())
    urban_national = pop.urban_share * APJII_2024["urban"] + (1 - pop.urban_share) * APJII_2024["rural"]
    conflict = (f"the published urban/rural figures imply {urban_national:.4f} nationally at "
                f"{pop.urban_share:.0%} urban, the island-group figures {implied:.4f}; raking to both "
                "cannot meet both exactly")
    for label, value, target, count in (("urban", ur[1], APJII_2024["urban"], n_urban),
                                        ("rural", ur[0], APJII_2024["rural"], n - n_urban)):
        measured[label] = float(value)
        checks.append(_consistency(f"Indonesia t=0: internet access, {label} (APJII 2024)", value,
                                   target, tol, raked, f"{conflict}; {_se(value, count)}"))
    age = group_shares(c.access, c.age_band, len(AGE_BANDS))
    shifted = consistent_age_targets(pop)
    raw_national = float(np.dot(pop.age_shares, APJII_2024["age"]))
    for i, band in enumerate(AGE_BANDS):
        measured[f"age:{band}"] = float(age[i])
        reason = (f"{UNATTAINABLE}: age-band raking conflict: the published generation figures average "
                  f"{raw_national:.4f} at the profile's age shares, {100 * (raw_national - implied):.1f} "
                  f"pp above the {implied:.4f} the island groups imply, so the synthesis shifts all "
                  f"four by one logit offset (its own target here {shifted[i]:.4f}, met within "
                  f"{abs(age[i] - shifted[i]) * 100:.2f} pp)")
        if band == "60+":
            reason += (f"; the 60+ band also holds the pre-boomers, {APJII_2024_PRE_BOOMERS:.0%} "
                       "online, whom APJII reports separately")
        reason += f"; |model - published| = {abs(age[i] - APJII_2024['age'][i]) * 100:.2f} pp"
        checks.append(reported(CASE, f"Indonesia t=0: internet access, age {band} (APJII 2024, "
                               f"{GENERATIONS[i]})", age[i], APJII_2024["age"][i], tol, reason,
                               kind="unattainable"))
    trust = float(c.trust.mean())
    measured["trust"] = trust
    checks.append(_consistency(
        "Indonesia t=0: mean trust in government (Edelman 2023, 76/100)", trust, EDELMAN_2023_TRUST,
        tol, f"the trust intercept is solved so that the anchors' mean is {pop.trust_mean}",
        "month-0 trust mixes the anchors once with the neighbours' (Friedkin-Johnsen), which moves the "
        "mean very little"))

    lit = float(c.literacy.mean())
    measured["literacy"] = lit
    shares = counts / n
    identities = [identity(CASE, "mean digital literacy (IMDI 2024, 43.34/100)", lit, IMDI_2024,
                           "the literacy intercept is solved on the drawn population for this mean")]
    identities += [identity(CASE, f"population share, {name} (Census 2020)", shares[i],
                            CENSUS_2020_REGION_SHARES[i], "an input (population.region_shares), drawn "
                            "at random") for i, name in enumerate(REGIONS)]
    identities.append(identity(
        CASE, "urban population share (BPS projection)", float(c.urban.mean()), pop.urban_share,
        f"an input (population.urban_share = {pop.urban_share}), drawn at random; BPS projection "
        f"{BPS_URBAN_SHARE[2020]:.1%} in 2020, {BPS_URBAN_SHARE[2025]:.1%} in 2025"))
    lit_region = [float(v) for v in (np.bincount(c.region, weights=c.literacy, minlength=len(REGIONS))
                                     / np.maximum(counts, 1))]
    data = {"measured": measured, "shifted_age": [float(v) for v in shifted], "n": n,
            "literacy_by_region": lit_region, "implied_national": implied, "tolerance_pp": tolerance_pp}
    return CaseResult(checks, data, identities)
