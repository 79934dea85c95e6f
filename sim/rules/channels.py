"""Integrated service centres (Mal Pelayanan Publik, MPP): assisted access to the digital channel.

A service centre gathers central, regional, state-enterprise and private counters in one building
(Permen PANRB 23/2017) and, since 2023, helps visitors through the online services ("MPP Digital").
For the people of a district that has one, a centre's staff do part of the digital work with them:
the literacy the platform demands of them falls by ``params.adoption.assisted_literacy_cut``
(:func:`sim.rules.adoption.ease_of_use`). This is the study's integrated service centre and its
inclusive approach: help where literacy is the barrier.

Who lives near a centre: each citizen has a fixed uniform ``centre_order`` (drawn once, from the
``attachment`` stream), and a citizen is covered once the share of districts with a centre exceeds
it. The share follows the published counts (:data:`CENTRES_OPENED`, out of :data:`DISTRICTS`
districts and cities), linearly between the dates, held at the last count after it (no published
plan). Centres are taken to open in an order unrelated to the people's traits (an assumption: the
published counts by province are not available over time; in 2022, 60% of the 59 centres were on
Java, which holds 56% of the people). The ``service_centres`` lever (:mod:`sim.rules.policy`) opens
more: it covers people not yet covered, at a cost per person covered.
"""

from __future__ import annotations

import numpy as np

from sim.state import State

# Centres in operation (Kementerian PANRB; ../shared/data/indonesia-adoption.md, B4): 4 pilots in
# 2017, 59 in June 2022, 67 in September 2022, 152 in September 2023, 175 in November 2023, 208 in
# June 2024, 272 in December 2024, 305 in December 2025.
CENTRES_OPENED: tuple[tuple[float, int], ...] = (
    (2017 + 11 / 12, 4), (2022 + 5 / 12, 59), (2022 + 8 / 12, 67), (2023 + 8 / 12, 152),
    (2023 + 10 / 12, 175), (2024 + 5 / 12, 208), (2024 + 11 / 12, 272), (2025 + 11 / 12, 305),
)
DISTRICTS = 514  # regencies and cities (kabupaten/kota), one centre each at most


def centre_coverage(year: float) -> float:
    """Share of districts with a service centre at decimal ``year``: the published counts,
    interpolated linearly, 0 before the first pilots, the last count after the last date."""
    years = np.array([y for y, _ in CENTRES_OPENED])
    counts = np.array([n for _, n in CENTRES_OPENED], dtype=float)
    return float(np.interp(year, np.concatenate(([years[0] - 1 / 12], years)),
                           np.concatenate(([0.0], counts)))) / DISTRICTS


def follow_centre_openings(state: State, year: float) -> None:
    """Citizens whose district has a centre by ``year`` are covered (never uncovered again)."""
    c = state.citizens
    c.centre_covered |= c.centre_order < centre_coverage(year)
