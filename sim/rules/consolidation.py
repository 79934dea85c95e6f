"""App fragmentation and its consolidation into one government app.

Indonesia's government ran about 27,000 apps across ministries and regional governments in 2024 (one
ministry over 500); INA Digital, launched on 27 May 2024, is to bring them into one portal, and IDR
6.2 trillion of the 2024 budget for new apps was cancelled (../shared/data/indonesia-adoption.md, B4).
For a citizen, each separate app or log-in the services need adds effort. The platform keeps
``separate_apps``, the number of apps a person needs (``separate_apps_initial`` at the start), and the
effort shows as a lower effective usability in the ease of use (:mod:`sim.rules.adoption`):

    effective usability = min(1, usability x (1 + e (apps_initial - 1)) / (1 + e (apps - 1))),
    e = app_effort,

so the initial fragmentation is taken as already reflected in the initial usability (as the initial
transparency is in initial trust) and only consolidation moves it.

Consolidation is one project (``consolidation`` lever): the monthly money goes to it until its cost
(``costs.consolidation_project_bn``) is paid, then the lever spends nothing more. Progress is the
share of the cost paid; it takes effect ``consolidation_delay_months`` later (building and migrating
take time), when the apps a person needs fall in proportion, towards one.
"""

from __future__ import annotations

from sim.rules.platform import PlatformParams
from sim.state import Platform


def app_factor(params: PlatformParams, separate_apps: float) -> float:
    """How much easier the services are with ``separate_apps`` apps than with the initial number."""
    effort = params.app_effort
    return (1.0 + effort * (params.separate_apps_initial - 1.0)) / (1.0 + effort * (separate_apps - 1.0))


def effective_usability(platform: Platform) -> float:
    """Usability as a person meets it: raised by every app consolidated away (at most 1)."""
    return min(1.0, platform.usability * platform.app_factor)


def fund_consolidation(platform: Platform, money_bn: float, project_bn: float) -> float:
    """Put up to ``money_bn`` (IDR bn) into the project until its cost is paid; returns what was spent."""
    spend = max(0.0, min(money_bn, project_bn - platform.consolidation_paid_bn))
    platform.consolidation_paid_bn += spend
    return spend


def advance_consolidation(platform: Platform, params: PlatformParams, project_bn: float) -> None:
    """Record this month's progress and set the apps a person needs from the progress made
    ``consolidation_delay_months`` ago."""
    progress = min(1.0, platform.consolidation_paid_bn / project_bn) if project_bn > 0 else 1.0
    platform.consolidation_history.append(progress)
    lag = params.consolidation_delay_months
    done = platform.consolidation_history[-1 - lag] if len(platform.consolidation_history) > lag else 0.0
    platform.separate_apps = params.separate_apps_initial - (params.separate_apps_initial - 1.0) * done
    platform.app_factor = app_factor(params, platform.separate_apps)
