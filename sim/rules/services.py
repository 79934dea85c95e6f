"""Services as entities: a portfolio of public services, each with its own users, season and rules.

Citizens do not take up "digital government"; they file a tax return, register a business or activate
a digital identity. Each service of the portfolio (``services.<name>``, one YAML per service in
``configs/service/``, chosen together by ``portfolio=<name>``, ``configs/portfolio/``) declares:

- **who needs it**: everyone, or a share of citizens picked by income (the richest first: people
  obliged to file an income-tax return) or at random (business owners);
- **how often**: a monthly chance of needing it, in every month or only in the months of its season
  (an annual filing season before its deadline), from its launch date on;
- **a first use in person**: whether the first online use needs an officer's step at the office (an
  identity activation); offices complete at most ``activation_capacity`` x their citizens such steps a
  month, so busy offices make people wait (they are served at the counter meanwhile);
- **its pull**: a utility shift for its online channel (a deadline, an employer's or a tax office's
  push); 0 for a service that pulls like any other.

One disposition per citizen stays: whether they use the online channel (``state``: user, lapsed,
non-user), decided by the utility of :mod:`sim.rules.adoption` when they need any service. A citizen
who needs several services this month decides once, on the strongest pull among them. Users then use
the online channel for every service they need, but for a first use that still waits for its in-person
step. A digital-first mandate can cover some services only (``policy.mandate.services``).

The first service of a portfolio reads the need draw the one-service model reads, so the portfolio of
the one general service (the default, ``portfolio=general``) is that model exactly; the other services
draw from their own stream, so adding a service leaves every other random number as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.parameters import Block, par

ELIGIBILITY = ("everyone", "by_income", "at_random")

# Each service's values live in its own file, with their source or the word assumption; the defaults
# here are the general service's.
_PER_SERVICE = "per service: configs/service/<name>.yaml gives each value's source or says assumption"


@dataclass
class ServiceParams(Block):
    """One public service of the portfolio (``configs/service/<name>.yaml``)."""

    label: str = par("public services in general", "-", "the service in words", "-")
    eligible: str = par("everyone", "-", "who can need it: everyone, the richest share (by_income: e.g. "
                        "people obliged to file an income-tax return) or a random share (at_random: e.g. "
                        "business owners)", "-", choices=ELIGIBILITY)
    eligible_share: float = par(1.0, "share of citizens", "share of citizens who can need it (ignored "
                                "for everyone)", _PER_SERVICE, low=0, high=1, low_open=True)
    need_rate: float | None = par(
        None, "probability / month", "monthly chance that an eligible citizen needs it (in its season "
        "months only, where it has a season); null: params.adoption.need_rate, the calibrated rate of "
        "the general service", _PER_SERVICE, low=0, high=1)
    season_months: list[int] = par([], "calendar months", "the months it can be needed in (e.g. [1, 2, "
                                   "3] before a 31 March deadline); empty: every month", "-", low=1,
                                   high=12, integer=True)
    launch_date: str | None = par(None, "YYYY-MM", "first month it exists online; null: before the run "
                                  "starts", "-")
    in_person_first: bool = par(False, "-", "whether the first online use needs an in-person step at "
                                "an office (identity activation by an officer)", "-")
    activation_capacity: float = par(
        0.002, "share of an office's citizens / month", "in-person first steps an office completes a "
        "month, per citizen it serves (only for in_person_first)", _PER_SERVICE, low=0, high=1)
    pull: float = par(0.0, "utility", "shift of the utility of using its online channel (a deadline, an "
                      "employer's push); 0: like any other service", _PER_SERVICE, low=-10, high=10)


def launch_month(service: ServiceParams, start_year: float) -> int | None:
    """Month index (0 = the run's start) of the service's launch; None when it exists from the start."""
    if service.launch_date is None:
        return None
    year, month = (int(x) for x in service.launch_date.split("-"))
    return round((year + (month - 1) / 12 - start_year) * 12)


@dataclass
class Portfolio:
    """The services of one run and each citizen's standing with each (arrays citizens x services)."""

    names: tuple[str, ...]
    params: tuple[ServiceParams, ...]
    eligible: np.ndarray  # bool (n, K): can need service k
    launch: tuple[int | None, ...]  # launch month per service (None: from the start)
    used: np.ndarray  # bool (n, K): has used service k online (successfully)
    activated: np.ndarray  # bool (n, K): has done service k's in-person first step
    office_citizens: np.ndarray  # int64 per office: citizens it serves (sets its monthly slots)
    # this month, per service: needs, online uses, in-person first steps done, refused for lack of slots
    month_counts: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.names)

    def is_single_general(self) -> bool:
        """The one general service: the model without a portfolio, to the last random number."""
        p = self.params[0]
        return (self.k == 1 and p.eligible == "everyone" and p.need_rate is None and not p.season_months
                and p.launch_date is None and not p.in_person_first and p.pull == 0.0)


def build_portfolio(services: dict[str, ServiceParams], income_rank: np.ndarray, office: np.ndarray,
                    n_offices: int, start_year: float, rng: np.random.Generator) -> Portfolio:
    """Eligibility per service, drawn once: by income rank, or at random (from the services stream)."""
    n = income_rank.size
    names = tuple(services)
    eligible = np.ones((n, len(names)), dtype=bool)
    for k, s in enumerate(services.values()):
        if s.eligible == "by_income":
            eligible[:, k] = income_rank >= 1.0 - s.eligible_share
        elif s.eligible == "at_random":
            eligible[:, k] = rng.random(n, dtype=np.float32) < s.eligible_share
    return Portfolio(names=names, params=tuple(services.values()), eligible=eligible,
                     launch=tuple(launch_month(s, start_year) for s in services.values()),
                     used=np.zeros((n, len(names)), dtype=bool),
                     activated=np.zeros((n, len(names)), dtype=bool),
                     office_citizens=np.bincount(office, minlength=n_offices))


def covered_services(portfolio: Portfolio, mandate_services: list[str]) -> np.ndarray:
    """bool (K,): the services a digital-first mandate covers (``policy.mandate.services``; empty: all)."""
    return np.array([not mandate_services or name in mandate_services for name in portfolio.names])


def need_rates(portfolio: Portfolio, month: int, calendar_month: int, general_rate: float) -> np.ndarray:
    """Each service's monthly need chance this month: 0 before its launch and outside its season."""
    rates = np.zeros(portfolio.k)
    for k, s in enumerate(portfolio.params):
        launch = portfolio.launch[k]
        if launch is not None and month < launch:
            continue
        if s.season_months and calendar_month not in s.season_months:
            continue
        rates[k] = general_rate if s.need_rate is None else s.need_rate
    return rates


def service_needs(portfolio: Portfolio, rates: np.ndarray, first_u: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Who needs which service this month (bool (n, K)) and the draws behind it (float32 (n, K)).

    The first service reads ``first_u``, the need draw of the one-service model; the others draw
    from the services stream (drawn every month for every citizen, so that scenarios share them).
    """
    n = first_u.size
    u = np.empty((n, portfolio.k), dtype=np.float32)
    u[:, 0] = first_u
    if portfolio.k > 1:
        u[:, 1:] = rng.random((n, portfolio.k - 1), dtype=np.float32)
    return portfolio.eligible & (u < rates), u


def strongest_pull(portfolio: Portfolio, needs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per citizen in ``rows``: the largest pull among the services they need (0 for none)."""
    pulls = np.array([s.pull for s in portfolio.params])
    if not pulls.any():
        return np.zeros(rows.size)
    return np.max(np.where(needs[rows], pulls, -np.inf), axis=1, initial=-np.inf).clip(min=pulls.min())


def activate(portfolio: Portfolio, needs: np.ndarray, users: np.ndarray, office: np.ndarray,
             order_u: np.ndarray) -> np.ndarray:
    """Online use per (user, service) this month, bool (users.size, K), after in-person first steps.

    For a service with an in-person first step, users who have not done it ask their office; each
    office completes at most ceil(capacity x its citizens) a month, in a random order (``order_u``:
    one float per citizen); those it cannot serve yet use the counter this time."""
    online = needs[users].copy()
    done = np.zeros(portfolio.k, dtype=np.int64)
    refused = np.zeros(portfolio.k, dtype=np.int64)
    for k, s in enumerate(portfolio.params):
        if not s.in_person_first:
            continue
        waiting = np.flatnonzero(online[:, k] & ~portfolio.activated[users, k])
        if waiting.size == 0:
            continue
        slots = np.ceil(s.activation_capacity * portfolio.office_citizens).astype(np.int64)
        who = users[waiting]
        order = np.lexsort((order_u[who], office[who]))  # by office, then at random within it
        ranked_office = office[who][order]
        first = np.searchsorted(ranked_office, ranked_office, side="left")
        served = (np.arange(order.size) - first) < slots[ranked_office]
        served_rows = waiting[order[served]]
        portfolio.activated[users[served_rows], k] = True
        refused_rows = waiting[order[~served]]
        online[refused_rows, k] = False
        done[k], refused[k] = served_rows.size, refused_rows.size
    portfolio.month_counts["activations"] = done
    portfolio.month_counts["activations_refused"] = refused
    return online


def record_month(portfolio: Portfolio, needs: np.ndarray, users: np.ndarray, online: np.ndarray,
                 succeeded: np.ndarray) -> None:
    """This month's counts per service (``online`` and ``succeeded`` are rows of ``users``); ``used``
    gains the successful online uses."""
    portfolio.month_counts["needs"] = needs.sum(axis=0)
    portfolio.month_counts["online"] = online.sum(axis=0)
    portfolio.month_counts["online_successes"] = online[succeeded].sum(axis=0)
    portfolio.used[users[succeeded]] |= online[succeeded]


SERVICE_COLUMNS = ("month", "service", "eligible_share", "needs", "online", "online_successes",
                   "activations", "activations_refused", "used_share_of_eligible", "online_share")


def service_rows(portfolio: Portfolio, month: int) -> list[dict[str, object]]:
    """One row per service for ``month`` (the counts of the month just simulated; zeros at month 0)."""
    counts = portfolio.month_counts
    zero = np.zeros(portfolio.k, dtype=np.int64)
    eligible = portfolio.eligible.sum(axis=0)
    used = (portfolio.used & portfolio.eligible).sum(axis=0)
    n = portfolio.eligible.shape[0]
    rows = []
    for k, name in enumerate(portfolio.names):
        needs = int(counts.get("needs", zero)[k])
        successes = int(counts.get("online_successes", zero)[k])
        rows.append({
            "month": month, "service": name, "eligible_share": eligible[k] / n, "needs": needs,
            "online": int(counts.get("online", zero)[k]), "online_successes": successes,
            "activations": int(counts.get("activations", zero)[k]),
            "activations_refused": int(counts.get("activations_refused", zero)[k]),
            "used_share_of_eligible": used[k] / eligible[k] if eligible[k] else float("nan"),
            "online_share": successes / needs if needs else float("nan"),
        })
    portfolio.month_counts = {}
    return rows
