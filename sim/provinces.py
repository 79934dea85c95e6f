"""The 38 provinces: who lives where, how connected and literate each is, and its regional government.

About three quarters of Indonesia's civil servants work for regional governments (BKN 2022: 77 %),
and access, literacy and e-government maturity differ far more between provinces than between the six
island groups the population is raked to. This module holds the table of provinces and the few
vectorised functions that turn it into citizens' and offices' attributes:

- a citizen's province is drawn *within* their island group by the provinces' population shares
  inside that group, so the island-group shares (``population.region_shares``, Census 2020) stay the
  marginals (:func:`draw_provinces`);
- internet access gets a province offset on the logit scale: the province's log-odds of access (BPS
  2023) minus the population-weighted mean of its island group's, so provinces differ inside an island
  group as BPS says while raking keeps the island-group marginals (:func:`access_log_odds`);
- digital literacy gets the same kind of offset from IMDI 2024 by province (:func:`literacy_log_odds`);
- offices belong to a province; their infrastructure capacity, their staff's competence and their
  political will get a province effect ordered by the province's IMDI 2024 (standardised across the
  38 provinces), whose size is an assumption (:func:`office_effects`): no published index gives the spread
  of regional e-government maturity on these scales (SPBE scores by province are not published beyond
  the 2018 shares in ``shared/data/indonesia-adoption.md``).

Every figure carries its source; values filled in for provinces a publication leaves out follow a
stated rule and are flagged in :data:`PROVINCE_TABLE` (``*_published`` false).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import expit, logit

from sim.names import REGIONS
from sim.parameters import Block, par

POPULATION_SOURCE = ("BPS, Penduduk menurut Provinsi 2024 (mid-year, thousands); Papua, Papua "
                     "Selatan, Papua Tengah, Papua Pegunungan and Papua Barat Daya: Dukcapil "
                     "Kemendagri registered population, December 2024 (Kepmendagri 300.2.2-2138/2025)")
ACCESS_SOURCE = ("BPS Statistik Telekomunikasi 2023: % of people 5+ who used the internet in the "
                 "last 3 months, by province (databoks, 30 Aug 2024)")
IMDI_SOURCE = "Kominfo IMDI 2024 by province (top five and bottom five published)"
# BPS 2023 reports Papua and Papua Barat within their boundaries before the 2022 split: the four
# provinces carved out of Papua take the old Papua value, Papua Barat Daya the old Papua Barat value.
OLD_PAPUA_ACCESS, OLD_PAPUA_BARAT_ACCESS = 29.87, 60.01
# IMDI 2024 publishes the top five (DKI 50.50 ... DIY 47.10) and the bottom five (Malut 38.32 ...
# Kalteng 41.09); every other province lies between 41.09 and 47.10. Fill rule for those: the IMDI
# 2025 value less the national change 2024 -> 2025 (44.53 - 43.34 = 1.19), kept inside that window;
# provinces in neither published list: the window's midpoint.
IMDI_UNRANKED_LOW, IMDI_UNRANKED_HIGH = 41.09, 47.10
IMDI_NATIONAL_CHANGE_2025 = 44.53 - 43.34


class Province(NamedTuple):
    """One province as published: population (thousands), access (%, BPS 2023, None if not
    published for its current boundaries), IMDI 2024 and 2025 (None if not published)."""

    name: str
    region: str
    population_thousand: float
    access_2023: float | None
    imdi_2024: float | None
    imdi_2025: float | None = None


# Ordered by island group (the order of sim.names.REGIONS), then by BPS province code.
PROVINCE_TABLE: tuple[Province, ...] = (
    Province("DKI Jakarta", "Java", 10684.9, 86.50, 50.50, 56.97),
    Province("Jawa Barat", "Java", 50345.2, 72.54, None, 52.05),
    Province("Jawa Tengah", "Java", 37892.3, 70.00, 47.42, 51.19),
    Province("DI Yogyakarta", "Java", 3759.5, 78.61, 47.10, 51.13),
    Province("Jawa Timur", "Java", 41814.5, 66.17, None, 49.17),
    Province("Banten", "Java", 12431.4, 71.73, None),
    Province("Aceh", "Sumatra", 5554.8, 59.30, None),
    Province("Sumatera Utara", "Sumatra", 15588.5, 70.29, None),
    Province("Sumatera Barat", "Sumatra", 5836.2, 68.64, None, 49.70),
    Province("Riau", "Sumatra", 6728.1, 73.02, None),
    Province("Jambi", "Sumatra", 3724.3, 68.14, None),
    Province("Sumatera Selatan", "Sumatra", 8837.3, 66.66, 41.00),
    Province("Bengkulu", "Sumatra", 2112.2, 66.25, None),
    Province("Lampung", "Sumatra", 9419.6, 70.68, None, 50.36),
    Province("Kepulauan Bangka Belitung", "Sumatra", 1531.5, 72.03, 47.62, 52.15),
    Province("Kepulauan Riau", "Sumatra", 2183.3, 86.71, None, 50.77),
    Province("Kalimantan Barat", "Kalimantan", 5695.5, 66.39, None),
    Province("Kalimantan Tengah", "Kalimantan", 2809.7, 71.34, 41.09),
    Province("Kalimantan Selatan", "Kalimantan", 4273.4, 72.13, None),
    Province("Kalimantan Timur", "Kalimantan", 4045.9, 80.46, None),
    Province("Kalimantan Utara", "Kalimantan", 739.8, 77.03, None, 48.91),
    Province("Sulawesi Utara", "Sulawesi", 2701.8, 64.81, None),
    Province("Sulawesi Tengah", "Sulawesi", 3121.8, 58.22, None),
    Province("Sulawesi Selatan", "Sulawesi", 9463.4, 66.95, None),
    Province("Sulawesi Tenggara", "Sulawesi", 2793.1, 65.83, None),
    Province("Gorontalo", "Sulawesi", 1227.8, 63.77, None),
    Province("Sulawesi Barat", "Sulawesi", 1503.2, 59.89, None),
    Province("Bali", "Bali-Nusa Tenggara", 4433.3, 73.34, 49.05),
    Province("Nusa Tenggara Barat", "Bali-Nusa Tenggara", 5646.0, 63.20, None),
    Province("Nusa Tenggara Timur", "Bali-Nusa Tenggara", 5656.0, 51.06, None),
    Province("Maluku", "Maluku-Papua", 1945.6, 58.54, None),
    Province("Maluku Utara", "Maluku-Papua", 1355.6, 53.48, 38.32),
    Province("Papua Barat", "Maluku-Papua", 578.7, 60.01, 41.04, 33.90),
    Province("Papua Barat Daya", "Maluku-Papua", 623.2, None, None),
    Province("Papua", "Maluku-Papua", 1102.4, 29.87, 40.46),
    Province("Papua Selatan", "Maluku-Papua", 562.2, None, None, 31.62),
    Province("Papua Tengah", "Maluku-Papua", 1369.1, None, None, 36.0),
    Province("Papua Pegunungan", "Maluku-Papua", 1470.5, None, None, 31.11),
)
# Papua Tengah 2025 is published as "36.x"; any value below 42.28 gives the same filled 2024 value.

# Share of people per island group (in REGIONS order), Census 2020: the default profile's
# ``population.region_shares``, kept here so that the province table below needs no population module.
CENSUS_2020_REGION_SHARES: tuple[float, ...] = (0.5610, 0.2168, 0.0615, 0.0736, 0.0554, 0.0317)
PROVINCES: tuple[str, ...] = tuple(p.name for p in PROVINCE_TABLE)
N_PROVINCES = len(PROVINCES)
PROVINCE_REGION = np.array([REGIONS.index(p.region) for p in PROVINCE_TABLE], dtype=np.int8)
PROVINCE_POPULATION = np.array([p.population_thousand for p in PROVINCE_TABLE])
ACCESS_PUBLISHED = np.array([p.access_2023 is not None for p in PROVINCE_TABLE])
IMDI_PUBLISHED = np.array([p.imdi_2024 is not None for p in PROVINCE_TABLE])

# A tile cartogram of the 38 provinces: (row, column) of each province's square, west to east and
# north to south, so that neighbours stay neighbours (an approximate layout drawn for this project,
# not a map; real boundaries would need a redistributable source).
PROVINCE_TILES: dict[str, tuple[int, int]] = {
    "Aceh": (0, 0), "Sumatera Utara": (1, 1), "Sumatera Barat": (2, 1), "Riau": (2, 2),
    "Kepulauan Riau": (2, 3), "Jambi": (3, 2), "Bengkulu": (4, 1), "Sumatera Selatan": (4, 2),
    "Kepulauan Bangka Belitung": (4, 3), "Lampung": (5, 2),
    "Banten": (6, 2), "DKI Jakarta": (6, 3), "Jawa Barat": (6, 4), "Jawa Tengah": (6, 5),
    "DI Yogyakarta": (7, 5), "Jawa Timur": (6, 6),
    "Bali": (7, 7), "Nusa Tenggara Barat": (7, 8), "Nusa Tenggara Timur": (7, 9),
    "Kalimantan Utara": (1, 6), "Kalimantan Barat": (3, 4), "Kalimantan Tengah": (3, 5),
    "Kalimantan Timur": (2, 6), "Kalimantan Selatan": (4, 6),
    "Gorontalo": (2, 9), "Sulawesi Utara": (1, 10), "Sulawesi Tengah": (2, 8), "Sulawesi Barat": (3, 7),
    "Sulawesi Selatan": (4, 8), "Sulawesi Tenggara": (4, 9),
    "Maluku Utara": (1, 11), "Maluku": (3, 11),
    "Papua Barat Daya": (2, 12), "Papua Barat": (2, 13), "Papua Tengah": (3, 13), "Papua": (2, 14),
    "Papua Pegunungan": (3, 14), "Papua Selatan": (4, 14),
}


def _filled_access(p: Province) -> float:
    if p.access_2023 is not None:
        return p.access_2023
    return OLD_PAPUA_BARAT_ACCESS if p.name == "Papua Barat Daya" else OLD_PAPUA_ACCESS


def _filled_imdi(p: Province) -> float:
    if p.imdi_2024 is not None:
        return p.imdi_2024
    if p.imdi_2025 is not None:
        return float(np.clip(p.imdi_2025 - IMDI_NATIONAL_CHANGE_2025, IMDI_UNRANKED_LOW,
                             IMDI_UNRANKED_HIGH))
    return (IMDI_UNRANKED_LOW + IMDI_UNRANKED_HIGH) / 2


ACCESS_2023 = np.array([_filled_access(p) for p in PROVINCE_TABLE]) / 100.0
IMDI_2024 = np.array([_filled_imdi(p) for p in PROVINCE_TABLE]) / 100.0


@dataclass
class RegionalConfig(Block):
    """Province heterogeneity: how strongly provinces differ from their island group (citizens) and
    from each other (regional governments' offices). 0 everywhere gives provinces that differ only
    in name and size."""

    access_scale: float = par(
        1.0, "x BPS log-odds", "province offset of internet access: this times the province's "
        "log-odds of access minus its island group's mean (1 = as BPS 2023 says)", ACCESS_SOURCE,
        low=0, prior=(0.5, 1.5))
    literacy_scale: float = par(
        1.0, "x IMDI log-odds", "province offset of digital literacy: this times the province's "
        "log-odds of IMDI 2024 / 100 minus its island group's mean",
        "IMDI 2024 by province (unpublished provinces filled: sim/provinces.py)", low=0,
        prior=(0.5, 1.5))
    capacity_sd: float = par(
        0.05, "[0, 1] per sd", "office capacity shift per standard deviation of the province's "
        "IMDI 2024 (log-odds, across provinces)",
        "assumption (order from IMDI 2024; size not published: SPBE 2018 rated only ~41% of 34 "
        "provinces above 2.6 of 5)", low=0, high=0.5, prior=(0.0, 0.1))
    competence_sd: float = par(
        0.05, "[0, 1] per sd", "shift of the mean staff competence per standard deviation of the "
        "province's IMDI 2024", "assumption (order from IMDI 2024; size not published)", low=0,
        high=0.5, prior=(0.0, 0.1))
    will_sd_log_odds: float = par(
        0.4, "log-odds per sd", "shift of an office's political will (log-odds of the national "
        "will) per standard deviation of the province's IMDI 2024",
        "assumption (order from IMDI 2024; size not published: SPBE 2018 rated only ~41% of 34 "
        "provinces above 2.6 of 5)", low=0, high=3, prior=(0.0, 0.8))


def shares_within_groups() -> np.ndarray:
    """Each province's share of its island group's population (sums to 1 in every group)."""
    totals = np.bincount(PROVINCE_REGION, weights=PROVINCE_POPULATION, minlength=len(REGIONS))
    return PROVINCE_POPULATION / totals[PROVINCE_REGION]


def population_shares(region_shares: Sequence[float] | np.ndarray) -> np.ndarray:
    """Each province's share of the whole population: its share within its island group times the
    island group's share (so the island groups keep the profile's marginals)."""
    return shares_within_groups() * np.asarray(region_shares, dtype=float)[PROVINCE_REGION]


def draw_provinces(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each citizen's province, drawn within their island group by the provinces' shares inside it.

    One uniform draw per citizen and one sorted search: the provinces are ordered by island group,
    so ``region + cumulative share within the group`` increases along the table, and
    ``region + u`` (u uniform in [0, 1)) falls in exactly one province's interval of its own group.
    """
    shares, groups = shares_within_groups(), PROVINCE_REGION
    cumulative = np.empty(N_PROVINCES)
    for r in range(len(REGIONS)):  # six island groups, not agents
        members = np.flatnonzero(groups == r)
        cumulative[members] = np.cumsum(shares[members])
        cumulative[members[-1]] = 1.0  # no rounding gap at the group's end
    edges = groups + cumulative
    u = rng.random(region.size)
    return np.searchsorted(edges, region + u, side="right").astype(np.int8)


def _centred_in_groups(values: np.ndarray) -> np.ndarray:
    """``values`` minus the population-weighted mean of the province's island group."""
    weights = PROVINCE_POPULATION
    sums = np.bincount(PROVINCE_REGION, weights=values * weights, minlength=len(REGIONS))
    totals = np.bincount(PROVINCE_REGION, weights=weights, minlength=len(REGIONS))
    return values - (sums / totals)[PROVINCE_REGION]


def access_log_odds(cfg: RegionalConfig) -> np.ndarray:
    """Province offsets of the access log-odds, centred within each island group (BPS 2023)."""
    return cfg.access_scale * _centred_in_groups(logit(ACCESS_2023))


def literacy_log_odds(cfg: RegionalConfig) -> np.ndarray:
    """Province offsets of the literacy log-odds, centred within each island group (IMDI 2024)."""
    return cfg.literacy_scale * _centred_in_groups(logit(IMDI_2024))


def readiness_score() -> np.ndarray:
    """Each province's IMDI 2024 in log-odds, standardised across the 38 provinces (each regional
    government counts once: mean 0, standard deviation 1): the order and relative distance of
    regional governments' digital readiness."""
    x = logit(IMDI_2024)
    return (x - x.mean()) / x.std()


class OfficeEffects(NamedTuple):
    """Per-office province effects (arrays over offices)."""

    capacity: np.ndarray  # added to the urban/rural capacity, then clipped to [0, 1]
    competence: np.ndarray  # added to each staff member's competence draw, then clipped
    will_log_odds: np.ndarray  # added to the log-odds of the national political will


def office_effects(office_province: np.ndarray, cfg: RegionalConfig) -> OfficeEffects:
    """The province effects of each office, from its province's readiness score."""
    z = readiness_score()[office_province]
    return OfficeEffects(cfg.capacity_sd * z, cfg.competence_sd * z, cfg.will_sd_log_odds * z)


def regional_will(political_will: float, will_log_odds: np.ndarray | float) -> np.ndarray:
    """The will an office feels before leadership: the national will moved on the log-odds scale by
    the province's offset (0 offset: the national will itself; will 0 or 1 stays 0 or 1)."""
    p = np.clip(political_will, 1e-12, 1.0 - 1e-12)
    will = expit(logit(p) + np.asarray(will_log_odds, dtype=float))
    return np.where(political_will <= 0.0, 0.0, np.where(political_will >= 1.0, 1.0, will))


def province_codes(names: list[str]) -> np.ndarray:
    """Codes of the named provinces (names already validated against :data:`PROVINCES`)."""
    return np.array([PROVINCES.index(n) for n in names], dtype=np.int8)


def in_provinces(province: np.ndarray, names: list[str]) -> np.ndarray:
    """Whether each province code is one of the named provinces (an empty list: all of them)."""
    if not names:
        return np.ones(province.size, dtype=bool)
    return np.isin(province, province_codes(names))


_DUKCAPIL_FILLED = ("Papua", "Papua Selatan", "Papua Tengah", "Papua Pegunungan", "Papua Barat Daya")
_OLD_BOUNDARIES = ("Papua Barat", "Papua", "Papua Barat Daya", "Papua Selatan", "Papua Tengah",
                   "Papua Pegunungan")


def provinces_markdown() -> str:
    """The table of provinces in ``docs/provinces.md`` (``make docs``), with what the model derives
    from each row at the default settings."""
    within = shares_within_groups()
    total = population_shares(CENSUS_2020_REGION_SHARES)  # the default profile's island-group shares
    cfg = RegionalConfig()
    access, literacy, z = access_log_odds(cfg), literacy_log_odds(cfg), readiness_score()
    lines = [
        "# Provinces",
        "",
        "Generated from `sim/provinces.py` by `make docs`; do not edit by hand. Sources:",
        "",
        f"- population: {POPULATION_SOURCE} (marked ᴰ);",
        f"- internet use: {ACCESS_SOURCE}; ᴼ: BPS reports Papua and Papua Barat within their "
        "boundaries before the 2022 split, so the four provinces carved out of Papua take the old "
        "Papua value and Papua Barat Daya the old Papua Barat value;",
        f"- IMDI: {IMDI_SOURCE}; ᶠ: not published, filled with the IMDI 2025 value less the national "
        f"change 2024 -> 2025 ({IMDI_NATIONAL_CHANGE_2025:.2f}), kept within the window "
        f"[{IMDI_UNRANKED_LOW}, {IMDI_UNRANKED_HIGH}] that the published top and bottom five leave to "
        "the others; in neither list: the window's midpoint.",
        "",
        "The share of Indonesia is the share within the island group times the island group's Census",
        "2020 share (`population.region_shares`), so the island groups keep their marginals. π and λ",
        "are the province offsets of access and literacy (log-odds, centred within the island group;",
        "ODD 5.2, 5.3); z is the readiness score that orders the regional governments' office capacity,",
        "staff competence and political will (ODD 5.5).",
        "",
        "| Province | Island group | Population (thousand) | Share of island group | Share of Indonesia "
        "| Internet use 2023 (%) | IMDI 2024 | π | λ | z |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, p in enumerate(PROVINCE_TABLE):
        pop = f"{p.population_thousand:,.1f}{' ᴰ' if p.name in _DUKCAPIL_FILLED else ''}"
        use = f"{ACCESS_2023[i] * 100:.2f}{' ᴼ' if p.name in _OLD_BOUNDARIES else ''}"
        imdi = f"{IMDI_2024[i] * 100:.2f}{'' if IMDI_PUBLISHED[i] else ' ᶠ'}"
        lines.append(f"| {p.name} | {p.region} | {pop} | {within[i]:.4f} | {total[i]:.4f} | {use} | "
                     f"{imdi} | {access[i]:+.2f} | {literacy[i]:+.3f} | {z[i]:+.2f} |")
    return "\n".join(lines) + "\n"
