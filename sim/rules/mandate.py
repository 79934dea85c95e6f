"""A digital-first mandate: from ``policy.mandate.start_month`` the service is digital by default.

A mandate changes the rule, not the budget: it costs nothing to announce. From the mandate's start,
a citizen in need of a covered transaction (a share ``scope`` of transactions) who has internet
access, belongs to no exempt group and complies must use the digital channel: they are made aware
and become a user whatever their utility, and they cannot lapse while the mandate holds.
Compliance is below one: the citizens most attached to the counter (the share 1 - ``compliance``
with the lowest ``counter_attachment``) keep going to it, so counters stay open for them as for the
exempt, and the non-compliers include those who keep to the counter by choice first
(``params.adoption.offline_preference``, the same attachment). Exempt groups
(``policy.mandate.exempt``: by default people without access) keep the offline channel and decide as
before. People without access cannot use the digital channel at all, so they are always exempt.
For the non-exempt, a failure under the mandate costs more trust than an ordinary failure: the channel
they could not avoid failed them (:mod:`sim.rules.trust`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.rules.policy import citizen_group
from sim.scenario import MandateConfig
from sim.state import State


def mandate_active(mandate: MandateConfig, month: int) -> bool:
    """Whether the mandate holds in ``month`` (from its start month on; never without one)."""
    start = mandate.start_month
    return start is not None and month >= start


def complies(state: State, mandate: MandateConfig) -> np.ndarray:
    """Citizens who follow the mandate: all but the share 1 - compliance most attached to the counter."""
    return state.citizens.counter_attachment >= 1.0 - mandate.compliance


def mandated_mask(state: State, mandate: MandateConfig, outer_islands: Sequence[str]) -> np.ndarray:
    """Citizens the mandate obliges to use the digital channel: not exempt, and complying."""
    return ~exempt_mask(state, mandate.exempt, outer_islands) & complies(state, mandate)


def exempt_mask(state: State, exempt: Sequence[str], outer_islands: Sequence[str]) -> np.ndarray:
    """Citizens the mandate leaves the offline channel open for (always those without access)."""
    mask = ~state.citizens.access
    for group in exempt:
        if group != "no_access":  # the other exemptions are the targeting groups of the same name
            mask = mask | citizen_group(state, group, outer_islands)
    return mask
