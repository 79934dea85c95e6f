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
from sim.weights import of_rows

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
    end_date: str | None = par(None, "YYYY-MM", "first month it is no longer needed (a one-off campaign "
                               "such as a census); null: never", "-")
    in_person_first: bool = par(False, "-", "whether the first online use needs an in-person step at "
                                "an office (identity activation by an officer)", "-")
    activation_capacity: float = par(
        0.002, "share of an office's citizens / month", "in-person first steps an office completes a "
        "month, per citizen it serves (only for in_person_first)", _PER_SERVICE, low=0, high=1)
    pull: float = par(0.0, "utility", "shift of the utility of using its online channel (a deadline, an "
                      "employer's push); 0: like any other service", _PER_SERVICE, low=-10, high=10)
    digital_default_date: str | None = par(
        None, "YYYY-MM", "from this month the service is digital by default: its transactions go online "
        "unless the person has no internet or is among the most attached to the counter (1 - "
        "default_compliance); null: never (the person decides)", "-")
    default_compliance: float = par(
        1.0, "share of the connected", "share of the connected who follow the digital default (the rest "
        "file at the counter)", _PER_SERVICE, low=0, high=1)
    success: float | None = par(
        None, "probability", "chance that an online transaction of this service succeeds (a failure ends "
        "at the counter); null: the general chance, reliability x office readiness", _PER_SERVICE,
        low=0, high=1)


def month_index(date: str, start_year: float) -> int:
    """Month index (0 = the run's start, negative before it) of a YYYY-MM date."""
    year, month = (int(x) for x in date.split("-"))
    return round((year + (month - 1) / 12 - start_year) * 12)


def launch_month(service: ServiceParams, start_year: float) -> int | None:
    """Month index (0 = the run's start) of the service's launch; None when it exists from the start."""
    return None if service.launch_date is None else month_index(service.launch_date, start_year)


@dataclass
class Portfolio:
    """The services of one run and each citizen's standing with each (arrays citizens x services)."""

    names: tuple[str, ...]
    params: tuple[ServiceParams, ...]
    eligible_idx: tuple[np.ndarray, ...]  # per service: the citizens who can need it (sorted)
    launch: tuple[int | None, ...]  # launch month per service (None: from the start)
    end: tuple[int | None, ...]  # month from which nobody needs it (None: never)
    default_from: tuple[int | None, ...]  # month the digital default starts per service (None: never)
    used: np.ndarray  # bool (n, K): has used service k online (successfully)
    activated: np.ndarray  # bool (n, K): has done service k's in-person first step
    office_citizens: np.ndarray  # int64 per office: citizens it serves (sets its monthly slots)
    queue_u: np.ndarray  # float32 per citizen: place in an office's queue (rotated every month)
    used_count: np.ndarray  # int64 (K,): citizens who have used each service online
    # this month, per service: needs, online uses, in-person first steps done, refused for lack of slots
    month_counts: dict[str, np.ndarray] = field(default_factory=dict)
    # the citizens' survey weights (sim.weights): every count is then of people, in citizen agents
    weight: np.ndarray | None = None

    def people(self, rows: np.ndarray, flags: np.ndarray | None = None) -> np.ndarray | float:
        """The citizens ``rows``: their number (``flags`` None), or per service the number with
        ``flags`` (bool, rows x K) set; of people with survey weights."""
        if flags is None:
            return of_rows(rows, self.weight)
        return flags.sum(axis=0) if self.weight is None else self.weight[rows] @ flags

    @property
    def k(self) -> int:
        return len(self.names)

    def is_single_general(self) -> bool:
        """The one general service: the model without a portfolio, to the last random number."""
        p = self.params[0]
        return (self.k == 1 and p.eligible == "everyone" and p.need_rate is None and not p.season_months
                and p.launch_date is None and p.end_date is None and not p.in_person_first and p.pull == 0.0
                and p.digital_default_date is None and p.success is None)


def build_portfolio(services: dict[str, ServiceParams], income_rank: np.ndarray, office: np.ndarray,
                    n_offices: int, start_year: float, rng: np.random.Generator,
                    weight: np.ndarray | None = None) -> Portfolio:
    """Eligibility per service, drawn once: by income rank, or at random (from the services stream),
    then the citizens' places in office queues (one draw each, only if a service has an in-person step)."""
    n = income_rank.size
    names = tuple(services)
    eligible = []
    for s in services.values():
        if s.eligible == "by_income":
            eligible.append(np.flatnonzero(income_rank >= 1.0 - s.eligible_share))
        elif s.eligible == "at_random":
            eligible.append(np.flatnonzero(rng.random(n, dtype=np.float32) < s.eligible_share))
        else:
            eligible.append(np.arange(n))
    in_person = any(s.in_person_first for s in services.values())
    return Portfolio(names=names, params=tuple(services.values()), eligible_idx=tuple(eligible),
                     launch=tuple(launch_month(s, start_year) for s in services.values()),
                     end=tuple(None if s.end_date is None else month_index(s.end_date, start_year)
                               for s in services.values()),
                     default_from=tuple(None if s.digital_default_date is None
                                        else month_index(s.digital_default_date, start_year)
                                        for s in services.values()),
                     used=np.zeros((n, len(names)), dtype=bool),
                     activated=np.zeros((n, len(names)), dtype=bool),
                     office_citizens=np.bincount(office, minlength=n_offices),
                     queue_u=rng.random(n, dtype=np.float32) if in_person else np.zeros(0, np.float32),
                     used_count=np.zeros(len(names), dtype=np.int64 if weight is None else np.float64),
                     weight=weight)


MAX_SERVICES = 8  # a citizen's needs this month are one byte, one bit per service
# Each month every place in the office queues moves by the golden ratio (mod 1), so that nobody is
# always last: an equidistributed rotation of each citizen's one draw.
QUEUE_ROTATION = 0.6180339887498949


def covered_services(portfolio: Portfolio, mandate_services: list[str]) -> np.ndarray:
    """bool (K,): the services a digital-first mandate covers (``policy.mandate.services``; empty: all)."""
    return np.array([not mandate_services or name in mandate_services for name in portfolio.names])


def need_rates(portfolio: Portfolio, month: int, calendar_month: int, general_rate: float) -> np.ndarray:
    """Each service's monthly need chance this month: 0 before its launch, from its end on and outside
    its season."""
    rates = np.zeros(portfolio.k)
    for k, s in enumerate(portfolio.params):
        launch, end = portfolio.launch[k], portfolio.end[k]
        if (launch is not None and month < launch) or (end is not None and month >= end):
            continue
        if s.season_months and calendar_month not in s.season_months:
            continue
        rates[k] = general_rate if s.need_rate is None else s.need_rate
    return rates


@dataclass
class Needs:
    """Who needs which service this month."""

    bits: np.ndarray  # uint8 per citizen: bit k set when they need service k
    who: list[np.ndarray]  # per service: the citizens who need it (sorted)
    draw: list[np.ndarray]  # per service: their need draws (for a mandate's scope)

    def of(self, rows: np.ndarray) -> np.ndarray:
        """bool (rows.size, K): which services the citizens ``rows`` need."""
        k = len(self.who)
        return ((self.bits[rows, None] >> np.arange(k, dtype=np.uint8)) & 1).astype(bool)


def service_needs(portfolio: Portfolio, rates: np.ndarray, first_u: np.ndarray,
                  rng: np.random.Generator) -> Needs:
    """Who needs which service this month.

    The first service reads ``first_u``, the need draw of the one-service model, if everyone can
    need it (else it draws like the others). The others draw from the services stream, one number per
    eligible citizen, in the months the service can be needed: the same numbers in every scenario of a
    seed, since eligibility, launch and season do not depend on the policy.
    """
    n = first_u.size
    bits = np.zeros(n, dtype=np.uint8)
    who, draw = [], []
    for k, eligible in enumerate(portfolio.eligible_idx):
        if rates[k] <= 0:
            who.append(eligible[:0])
            draw.append(np.zeros(0, dtype=np.float32))
            continue
        everyone = k == 0 and eligible.size == n
        u = first_u if everyone else rng.random(eligible.size, dtype=np.float32)
        needed = u < rates[k]
        who.append(np.flatnonzero(needed) if everyone else eligible[needed])
        draw.append(u[needed])
        bits[who[-1]] |= np.uint8(1 << k)
    return Needs(bits, who, draw)


def covered_needs(needs: Needs, rates: np.ndarray, scope: float, covered: np.ndarray, n: int) -> np.ndarray:
    """bool per citizen: needs a transaction a mandate covers this month (a covered service, within its
    scope: the need draw below need_rate x scope, given need a share ``scope`` of them)."""
    mask = np.zeros(n, dtype=bool)
    for k in np.flatnonzero(covered):
        mask[needs.who[k][needs.draw[k] < rates[k] * scope]] = True
    return mask


def default_obliged(portfolio: Portfolio, needs: Needs, month: int, access: np.ndarray,
                    attachment: np.ndarray) -> np.ndarray:
    """Citizens who need a service that is digital by default this month and follow the default: they
    have internet and are not among the share 1 - default_compliance most attached to the counter
    (the same attachment as the counter preference and a mandate's compliance)."""
    obliged = []
    for k, s in enumerate(portfolio.params):
        start = portfolio.default_from[k]
        if start is None or month < start or needs.who[k].size == 0:
            continue
        who = needs.who[k]
        obliged.append(who[access[who] & (attachment[who] >= 1.0 - s.default_compliance)])
    return np.unique(np.concatenate(obliged)) if obliged else np.zeros(0, dtype=np.int64)


def success_chances(portfolio: Portfolio, general: np.ndarray) -> np.ndarray | None:
    """Per user and service: the chance an online transaction succeeds, the service's own ``success``
    or, where it has none, the user's general chance (``general``); None when no service has its own."""
    own = np.array([np.nan if s.success is None else s.success for s in portfolio.params])
    if np.isnan(own).all():
        return None
    return np.where(np.isnan(own), general[:, None], own)


def strongest_pull(portfolio: Portfolio, needs: Needs, rows: np.ndarray) -> np.ndarray:
    """Per citizen in ``rows``: the largest pull among the services they need (0 for none)."""
    pulls = np.array([s.pull for s in portfolio.params])
    if not pulls.any():
        return np.zeros(rows.size)
    return np.where(needs.of(rows), pulls, -np.inf).max(axis=1, initial=-np.inf).clip(min=pulls.min())


def activate(portfolio: Portfolio, needs: Needs, users: np.ndarray, office: np.ndarray,
             month: int) -> np.ndarray:
    """Online use per (user, service) this month, bool (users.size, K), after in-person first steps.

    For a service with an in-person first step, users who have not done it ask their office; each
    office completes at most ceil(capacity x its citizens) a month, in the order of their places in
    the queue this month; those it cannot serve yet use the counter this time."""
    online = needs.of(users)
    kind = np.int64 if portfolio.weight is None else np.float64
    done = np.zeros(portfolio.k, dtype=kind)
    refused = np.zeros(portfolio.k, dtype=kind)
    for k, s in enumerate(portfolio.params):
        if not s.in_person_first:
            continue
        waiting = np.flatnonzero(online[:, k] & ~portfolio.activated[users, k])
        if waiting.size == 0:
            continue
        slots = np.ceil(s.activation_capacity * portfolio.office_citizens).astype(np.int64)
        who = users[waiting]
        place = (portfolio.queue_u[who] + month * QUEUE_ROTATION) % 1.0
        order = np.lexsort((place, office[who]))  # by office, then by place in its queue
        ranked_office = office[who][order]
        first = np.searchsorted(ranked_office, ranked_office, side="left")
        served = (np.arange(order.size) - first) < slots[ranked_office]
        served_rows = waiting[order[served]]
        portfolio.activated[users[served_rows], k] = True
        refused_rows = waiting[order[~served]]
        online[refused_rows, k] = False
        done[k] = portfolio.people(users[served_rows])
        refused[k] = portfolio.people(users[refused_rows])
    portfolio.month_counts["activations"] = done
    portfolio.month_counts["activations_refused"] = refused
    return online


def record_month(portfolio: Portfolio, needs: Needs, users: np.ndarray, online: np.ndarray,
                 ok: np.ndarray, month: int, assisted_electronic: float) -> None:
    """This month's counts per service (``online`` and ``ok``, the online uses that succeeded, are rows of
    ``users``); ``used`` gains the successful online uses.

    A service that is digital by default is electronic at the counter too: of the transactions done
    there (the needs not met online), the office's staff complete a share ``assisted_electronic`` in
    the online system (tax offices' e-Filing help desks; employers and consultants filing for people).
    They count as the service's electronic transactions, not as the person's own use: the person has
    not used the online channel, so ``used`` and the national measures are unchanged. The count is the
    expected one, rounded (no draw: nobody's state depends on which of them it was)."""
    weighted = portfolio.weight is not None
    need_counts = np.array([portfolio.people(w) for w in needs.who],
                           dtype=np.float64 if weighted else np.int64)
    successes = portfolio.people(users, ok)
    portfolio.month_counts["needs"] = need_counts
    portfolio.month_counts["online"] = portfolio.people(users, online)
    portfolio.month_counts["online_successes"] = successes
    by_default = np.array([start is not None and month >= start for start in portfolio.default_from])
    assisted = assisted_electronic * (need_counts - successes)
    portfolio.month_counts["assisted_electronic"] = np.where(
        by_default, assisted if weighted else np.rint(assisted), 0).astype(need_counts.dtype)
    new = ok & ~portfolio.used[users]
    portfolio.used[users] |= new
    portfolio.used_count += portfolio.people(users, new)

SERVICE_COLUMNS = ("month", "service", "eligible_share", "needs", "online", "online_successes",
                   "assisted_electronic", "activations", "activations_refused", "used_share_of_eligible",
                   "online_share", "electronic_share")


def electronic_share(online_successes: float, assisted_electronic: float, needs: float) -> float:
    """A service's electronic share of its transactions: those completed online by the citizens and
    those its staff completed electronically at the counter, over every need (what DJP's e-Filing
    share counts); NaN without needs. Sums of a period's counts give the period's share."""
    return (online_successes + assisted_electronic) / needs if needs else float("nan")


def service_rows(portfolio: Portfolio, month: int) -> list[dict[str, object]]:
    """One row per service for ``month`` (the counts of the month just simulated; zeros at month 0)."""
    counts = portfolio.month_counts
    zero = np.zeros(portfolio.k, dtype=np.int64)
    eligible = np.array([portfolio.people(e) for e in portfolio.eligible_idx])
    used = portfolio.used_count  # only the eligible ever need, so only they ever use
    n = portfolio.used.shape[0]  # the people all citizens stand for, with or without weights

    def count(key: str, k: int) -> int | float:  # whole agents, or people in agents with weights
        return counts.get(key, zero)[k].item()

    rows = []
    for k, name in enumerate(portfolio.names):
        needs, successes = count("needs", k), count("online_successes", k)
        assisted = count("assisted_electronic", k)
        rows.append({
            "month": month, "service": name, "eligible_share": eligible[k] / n, "needs": needs,
            "online": count("online", k), "online_successes": successes,
            "assisted_electronic": assisted,
            "activations": count("activations", k),
            "activations_refused": count("activations_refused", k),
            "used_share_of_eligible": used[k] / eligible[k] if eligible[k] else float("nan"),
            "online_share": successes / needs if needs else float("nan"),
            "electronic_share": electronic_share(successes, assisted, needs),
        })
    portfolio.month_counts = {}
    return rows
