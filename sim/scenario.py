"""The scenario blocks: the policy (budget split, targeting, provinces, mandate) and the mechanism
switches.

They are part of :class:`sim.config.SimConfig` (``policy``, ``mechanisms``) but are declared here,
below the rules, because the rules take them as inputs (:mod:`sim.rules.policy` the policy block,
:mod:`sim.rules.mandate` the mandate, every rule its switches): a rule names the blocks it reads in
its signature and never needs the whole config, and the config imports the rules, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.names import MANDATE_EXEMPTIONS, TARGETINGS
from sim.parameters import Block, par
from sim.provinces import PROVINCES

_SCENARIO = "scenario design"


# --------------------------------------------------------------------------- policy
def _share_of_budget(lever: str) -> Any:
    return par(0.0, "share of budget", f"share of the monthly budget spent on {lever}", _SCENARIO,
               low=0, high=1)


@dataclass
class Allocation(Block):
    """Share of the monthly budget given to each lever (must sum to at most 1)."""

    training: float = _share_of_budget("training civil servants")
    infrastructure: float = _share_of_budget("connectivity")
    literacy: float = _share_of_budget("digital-literacy courses")
    coproduction: float = _share_of_budget("co-production sessions")
    transparency: float = _share_of_budget("publishing data (transparency)")
    security: float = _share_of_budget("platform security")
    accessibility: float = _share_of_budget("accessible design")
    outreach: float = _share_of_budget("awareness campaigns")
    leadership: float = _share_of_budget("leadership programmes for office heads")
    service_centres: float = _share_of_budget("opening integrated service centres (Mal Pelayanan Publik)")
    partnerships: float = _share_of_budget("assisted access points run by partners (post offices, bank "
                                           "and telco agents, village agents)")
    consolidation: float = _share_of_budget("consolidating the government's apps into one (a project: "
                                            "spends until its cost is paid)")


@dataclass
class MandateConfig(Block):
    """A digital-first mandate: from ``start_month`` the non-exempt must use the digital channel."""

    start_month: int | None = par(None, "month", "months after policy.start_date when the mandate "
                                  "takes effect; null: no mandate",
                                  _SCENARIO, low=0, integer=True)
    exempt: list[str] = par(["no_access"], "groups", "groups kept offline-capable (people without "
                            "access always are)", _SCENARIO, choices=MANDATE_EXEMPTIONS)
    services: list[str] = par([], "services", "the services of the portfolio it covers (empty: all)",
                              _SCENARIO)
    scope: float = par(1.0, "share of transactions", "share of transactions the mandate covers (the "
                       "rest stay voluntary)", _SCENARIO, low=0, high=1, low_open=True)
    compliance: float = par(
        0.95, "share of the non-exempt", "share of the non-exempt who follow the mandate; the rest, the "
        "most attached to the counter, keep using it",
        "assumption near the e-Filing record: 96-97% of annual returns electronic and 3-4% on paper "
        "every year since 2020 (DJP)", low=0, high=1, prior=(0.85, 1.0))


@dataclass
class PolicyConfig(Block):
    """A named policy scenario: how the budget is split across levers, and whom it targets."""

    name: str = par("baseline", "-", "scenario name (letters, digits, _ and -)", "-")
    description: str = par("No additional spending.", "-", "one line for the report", "-")
    allocation: Allocation = field(default_factory=Allocation)
    targeting: str = par("universal", "-", "who targeted levers reach first", _SCENARIO,
                         choices=TARGETINGS)
    target_share: float = par(
        0.3, "share of citizens (or offices)", "targeted levers reach at most this share, the most "
        "in need first; then the lever's money is returned unspent",
        "policy setting (a programme for those most in need)", low=0, high=1, low_open=True)
    provinces: list[str] = par(
        [], "provinces", "every lever's recipients (citizens, civil servants, office heads) only in "
        "these provinces, each named once; empty: all 38 (platform stocks stay national)", _SCENARIO,
        choices=PROVINCES)
    political_will: float = par(
        0.5, "[0, 1]", "national top-down push for digital work (uncosted; the leadership lever "
        "raises it office by office)", prior=(0.3, 0.7), low=0, high=1)
    start_date: str | None = par(
        "2025-01", "YYYY-MM", "calendar month the policy begins: its months (start_month, end_month, "
        "mandate.start_month) count from here, and the run's summary covers the months from here on "
        "(the forecast); null: the run's start_date", "the month after the latest observed figure "
        "the calibration uses (APJII 2025, Jan 2025)")
    start_month: int = par(0, "month", "months after start_date of the first month with spending",
                           _SCENARIO, low=0, integer=True)
    end_month: int | None = par(None, "month", "months after start_date of the first month without "
                                "spending again; null: never",
                                _SCENARIO, low=1, integer=True)
    mandate: MandateConfig = field(default_factory=MandateConfig)


# --------------------------------------------------------------------------- switches
def _switch(doc: str) -> Any:
    return par(True, "switch", doc, "-")


@dataclass
class Mechanisms(Block):
    """Switches for each factor's mechanism (all on by default; ablation turns one off).

    Off removes the mechanism's influence and nothing else: the factor is held at its initial state
    (or its weight is 0); money allocated to a lever whose mechanism is off is still spent.
    """

    resistance_dynamics: bool = _switch("F1 off: staff resistance held at its initial values")
    coproduction: bool = _switch("F2 off: usability and accessibility not raised by co-production")
    ease_of_use: bool = _switch("F3 off: ease of use has weight 0 in the adoption utility")
    infrastructure: bool = _switch("F4 off: the infrastructure lever connects nobody and platform "
                                   "security is held at start (the observed access trend continues)")
    training: bool = _switch("F5 off: training leaves competence, resistance and fairness alone")
    trust_dynamics: bool = _switch("F6 off: trust held at its initial values")
