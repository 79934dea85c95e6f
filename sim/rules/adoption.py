"""Citizens: awareness, adoption and service experience.

Three rules share one entry point, chosen by ``params.adoption.rule``:

* ``utaut`` (default): an aware citizen with access who needs a service this month adopts with
  probability sigmoid(intercept + w_u * usefulness + w_e * ease + w_s * social + w_t * trust), where
  usefulness = office readiness x share of time saved against the offline queue, ease = usability x
  min(1, literacy / (required literacy x (1 - accessibility))) (F3, C2), social = share of neighbours
  using, and trust gates adoption (C3). Users then have a service experience: success with
  probability reliability x (floor + (1 - floor) x readiness); a failure lowers trust and can cause a
  lapse. A share ``offline_preference`` of citizens keep to the counter by choice and never adopt
  voluntarily, so uptake plateaus below everyone connected. Under a digital-first mandate
  (:mod:`sim.rules.mandate`) the non-exempt who comply, in need of a transaction the mandate covers,
  use the digital channel whatever their utility, and the mandated do not lapse.
* ``bass``: every citizen is eligible and nothing lapses; monthly hazard p + q x share of adopters
  among neighbours (among everyone in mean field). Exactly the discrete-time Bass model.
* ``threshold``: adopt when the share of adopting neighbours reaches the citizen's threshold
  (Granovetter 1978; Watts 2002).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from sim.names import ADOPTION_RULES
from sim.parameters import Block, par
from sim.rules.consolidation import effective_usability
from sim.rules.platform import PlatformParams
from sim.rules.services import (
    Portfolio,
    activate,
    covered_needs,
    default_obliged,
    record_month,
    service_needs,
    strongest_pull,
    success_chances,
)
from sim.scenario import Mechanisms
from sim.state import LAPSED, USER, State
from sim.weights import of_rows


@dataclass
class AdoptionParams(Block):
    """Citizens' awareness and adoption (UTAUT/TAM-style utility), or reduced forms for validation."""

    rule: str = par("utaut", "-", "adoption rule: the UTAUT utility, or a reduced form for validation",
                    "-", choices=ADOPTION_RULES)
    literacy_programme_gain: float = par(
        0.25, "share of gap closed", "share of the literacy gap closed by a course", low=0, high=1,
        prior=(0.1, 0.4))
    course_takeup_max: float = par(
        0.8, "probability", "take-up of courses and co-production at full literacy, under 60: "
        "P(accept) = max x (1 - elderly cut for 60+) x (floor + (1 - floor) x literacy)",
        low=0, high=1, prior=(0.6, 1.0))
    course_takeup_elderly_cut: float = par(
        0.4, "share of take-up lost", "share of course take-up lost at 60+", low=0, high=1,
        prior=(0.2, 0.6))
    course_takeup_floor: float = par(
        0.4, "share of take-up kept", "share of course take-up kept at literacy 0", low=0, high=1,
        prior=(0.2, 0.6))
    need_rate: float = par(0.15, "probability / month", "share needing a public service each month",
                           low=0, high=1, prior=(0.08, 0.25))
    media_awareness: float = par(
        0.005, "probability / month", "monthly chance of becoming aware from mass media",
        low=0, high=1, prior=(0.001, 0.02, "loguniform"))
    word_of_mouth: float = par(
        0.05, "probability / month per share aware", "monthly awareness chance x share of aware "
        "neighbours", low=0, high=1, prior=(0.01, 0.15))
    intercept: float = par(-4.5, "utility", "adoption utility intercept (the pull of habit)",
                           prior=(-6.5, -2.5))
    w_usefulness: float = par(2.5, "utility", "weight of usefulness (time saved x office readiness)",
                              low=0, prior=(1.0, 4.0))
    w_ease: float = par(2.0, "utility", "weight of ease of use (usability x literacy fit)", low=0,
                        prior=(0.5, 3.5))
    w_social: float = par(2.0, "utility", "weight of the share of neighbours using", low=0,
                          prior=(0.5, 3.5))
    w_trust: float = par(2.0, "utility", "weight of trust in government", low=0, prior=(0.5, 3.5))
    required_literacy: float = par(
        0.6, "literacy [0, 1]", "literacy that makes the platform fully usable", low=0, low_open=True,
        prior=(0.4, 0.8))
    offline_hours_urban: float = par(3.0, "hours / transaction", "offline transaction, urban", low=0,
                                     prior=(1.5, 4.5))
    offline_hours_rural: float = par(6.0, "hours / transaction", "offline transaction, rural", low=0,
                                     prior=(3.0, 9.0))
    digital_hours: float = par(0.5, "hours / transaction", "digital transaction", low=0,
                               prior=(0.25, 1.0))
    success_floor: float = par(0.7, "probability", "success chance with an office not ready at all",
                               low=0, high=1, prior=(0.5, 0.9))
    offline_preference: float = par(
        0.10, "share of citizens", "share who keep to the office counter by choice: they never take up "
        "the digital channel voluntarily (a mandate can still oblige them; see policy.mandate.compliance)",
        "assumption bounded by two observations: 3-4% of annual tax returns are still filed on paper "
        "every year since 2020 with e-Filing free and pushed (DJP), and 15% of internet users had not "
        "used an online public service in 2022 (APJII 2022: 84.9% had)", low=0, high=1,
        prior=(0.02, 0.25))
    assisted_literacy_cut: float = par(
        0.5, "share of the literacy needed", "share of the literacy the platform demands that a "
        "service centre's help removes, for people whose district has one (assisted digital)",
        "assumption", low=0, high=1, prior=(0.2, 0.8))
    partner_literacy_cut: float = par(
        0.3, "share of the literacy needed", "share of the literacy needed that a partner's assisted "
        "access point (post office, bank or telco agent, village agent) removes; less than a service "
        "centre's staff, who know the services", "assumption", low=0, high=1, prior=(0.1, 0.5))
    assisted_electronic: float = par(
        0.5, "share of counter transactions", "share of a digital-by-default service's counter "
        "transactions that the office's staff complete in the online system (help desks; employers and "
        "consultants filing for people): electronic transactions of the service, not the person's own "
        "use; identified by DJP's electronic share of tax returns (docs/services.md)",
        low=0, high=1, prior=(0.0, 1.0))
    lapse_on_failure: float = par(0.3, "probability", "chance to lapse after a failure, x (1 - trust)",
                                  low=0, high=1, prior=(0.1, 0.5))
    p: float = par(0.03, "/ month", "Bass innovation coefficient (reduced form only)",
                   "Bass (1969) reduced form", low=0, high=1)
    q: float = par(0.38, "/ month", "Bass imitation coefficient (reduced form only)",
                   "Bass (1969) reduced form", low=0, high=1)
    threshold: float = par(0.18, "share of neighbours", "adoption threshold (reduced form only)",
                           "Granovetter (1978), Watts (2002) reduced form", low=0, high=1)
    threshold_sd: float = par(
        0.0, "share of neighbours", "spread of a normal threshold distribution (clipped at 0); 0: one "
        "value", "-", low=0)
    # Explicit thresholds: one per citizen, in order, when the list is as long as the population;
    # otherwise an empirical distribution each citizen draws from. Empty: use threshold, threshold_sd.
    thresholds: list[float] = par([], "shares", "explicit thresholds (empty: threshold, threshold_sd)",
                                  "-", low=0, high=1)
    initial_adopters: int = par(
        -1, "agents", "number of initial users; -1: the profile's adoption_initial share", "-",
        low=-1, integer=True)

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class ServiceMonth:
    """A portfolio's month for :func:`step_citizens`: need chances, the mandate's services, the draws."""

    portfolio: Portfolio
    rates: np.ndarray  # (K,) need chance per service this month
    covered: np.ndarray  # bool (K,): services a mandate covers
    rng: np.random.Generator  # the services stream: needs beyond the first service
    month: int  # the model month (rotates the office queues)


@dataclass
class ServiceOutcome:
    """This month's service encounters: counts for the metrics, who met what for the trust rule."""

    # counts of citizen agents, or of people in citizen agents in a stratified sample (sim.weights)
    needs: float = 0
    digital_attempts: float = 0
    digital_successes: float = 0
    hours: float = 0.0  # citizen-agent hours spent on services this month
    success: np.ndarray = field(default_factory=lambda: _EMPTY)  # citizens whose digital use succeeded
    failure: np.ndarray = field(default_factory=lambda: _EMPTY)  # ... failed
    forced_failure: np.ndarray = field(default_factory=lambda: _EMPTY)  # failed under a mandate
    offline: np.ndarray = field(default_factory=lambda: _EMPTY)  # served at an office


def awareness_probability(params: AdoptionParams, share_aware):
    """Monthly chance of hearing of the services: mass media, or word of mouth from aware neighbours.
    (The funded awareness campaign is the ``outreach`` lever, :mod:`sim.rules.policy`.)"""
    return 1.0 - (1.0 - params.media_awareness) * (1.0 - params.word_of_mouth * share_aware)


def spread_awareness(state: State, params: AdoptionParams, uniform: np.ndarray) -> None:
    """Citizens not yet aware become aware with :func:`awareness_probability`.

    ``uniform`` holds one uniform draw per citizen (see :func:`step_citizens` on why every citizen
    gets a draw whether or not they need it).
    """
    c = state.citizens
    unaware = np.flatnonzero(~c.aware)
    share_aware = state.neighbour_share(c.aware, rows=unaware, track="aware")
    p = awareness_probability(params, share_aware)
    c.aware[unaware[uniform[unaware] < p]] = True


def ease_of_use(literacy, usability: float, accessibility: float, required_literacy: float,
                relief=0.0):
    """F3: usable platforms; accessibility features lower the literacy needed, and so does help at a
    service centre (``relief``: the share of it removed, per citizen; :mod:`sim.rules.channels`)."""
    needed = np.maximum(required_literacy * (1.0 - accessibility) * (1.0 - relief), 1e-9)
    return usability * np.minimum(1.0, literacy / needed)


def literacy_relief(centre: np.ndarray, partner: np.ndarray, params: AdoptionParams) -> np.ndarray:
    """Share of the literacy needed that assisted access removes: a service centre's cut where one
    serves the citizen, a partner point's where one does, the larger where both do, else 0."""
    return np.maximum(np.where(centre, params.assisted_literacy_cut, 0.0),
                      np.where(partner, params.partner_literacy_cut, 0.0))


def time_saved_share(offline_hours, digital_hours: float):
    """Share of the offline time a digital transaction saves, in [0, 1]."""
    return np.clip((offline_hours - digital_hours) / offline_hours, 0.0, 1.0)


def adoption_utility(params: AdoptionParams, usefulness, social, trust, ease=None):
    """UTAUT/TAM-style utility; ``ease`` is None when the ease-of-use mechanism is off."""
    utility = (
        params.intercept
        + params.w_usefulness * usefulness
        + params.w_social * social
        + params.w_trust * trust
    )
    if ease is not None:
        utility = utility + params.w_ease * ease
    return utility


def adoption_probability(state: State, params: AdoptionParams, mechanisms: Mechanisms,
                         social: np.ndarray, rows: np.ndarray | None = None,
                         pull: np.ndarray | None = None) -> np.ndarray:
    """Adoption probability of every citizen, or of the citizens ``rows`` (``social`` matches);
    ``pull``: a utility shift per citizen (the strongest pull of the services they need), or None."""
    c, o, p = state.citizens, state.offices, state.platform
    office = c.office if rows is None else c.office[rows]
    # Per office (a few thousand), then read by each citizen's office: the same products.
    usefulness = (o.readiness * time_saved_share(o.offline_hours, params.digital_hours))[office]
    ease = None
    if mechanisms.ease_of_use:
        literacy = c.literacy if rows is None else c.literacy[rows]
        centre = c.centre_covered if rows is None else c.centre_covered[rows]
        partner = c.partner_covered if rows is None else c.partner_covered[rows]
        ease = ease_of_use(literacy, effective_usability(p), p.accessibility, params.required_literacy,
                           literacy_relief(centre, partner, params))
    trust = c.trust if rows is None else c.trust[rows]
    utility = adoption_utility(params, usefulness, social, trust, ease)
    return expit(utility if pull is None else utility + pull)


def success_probability(params: AdoptionParams, platform_params: PlatformParams, readiness):
    """Chance a digital transaction succeeds: platform reliability x office readiness."""
    return platform_params.reliability * (
        params.success_floor + (1 - params.success_floor) * readiness
    )


def lapse_probability(params: AdoptionParams, trust):
    """Chance a user stops using the services after a failed transaction."""
    return params.lapse_on_failure * (1 - trust)


def keeps_to_counter(attachment: np.ndarray, params: AdoptionParams) -> np.ndarray:
    """Whether citizens with this counter attachment keep to the counter by choice (a durable
    preference: the most attached share ``offline_preference``)."""
    return attachment < params.offline_preference


def step_reduced_form(state: State, params: AdoptionParams, rng: np.random.Generator) -> None:
    """Bass or threshold rule: everyone eligible, no lapse, synchronous update."""
    c = state.citizens
    adopters = c.state == USER
    share = state.neighbour_share(adopters, track="users")
    if params.rule == "bass":
        new = rng.random(c.n) < params.p + params.q * share
    else:
        new = share >= c.threshold - 1e-12
    c.state = np.where(adopters | new, USER, c.state).astype(np.int8)
    c.aware |= c.state == USER


def citizen_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """The month's uniform draws of every citizen, one row per decision: awareness, need, adoption,
    success, lapse (float32; see :func:`step_citizens`)."""
    return rng.random((5, n), dtype=np.float32)


def step_citizens(
    state: State,
    params: AdoptionParams,
    platform_params: PlatformParams,
    mechanisms: Mechanisms,
    rng: np.random.Generator,
    mandated: np.ndarray | None = None,
    mandate_scope: float = 1.0,
    services: ServiceMonth | None = None,
    uniforms: np.ndarray | None = None,
) -> ServiceOutcome:
    """UTAUT rule: awareness, adoption among those in need, then service experiences.

    Only citizens in need this month (a share ``need_rate``) take decisions, so after the month's
    need draw every computation runs on index arrays of those citizens, not on the whole population.
    The random numbers, though, are drawn for every citizen and every decision at the start of the
    month (float32, one array per decision): citizen i's draw for a decision does not depend on how
    many others face it, so two scenarios run with the same seed share their random numbers
    (common random numbers), and paired scenario differences are far less noisy.

    ``mandated`` (a mask over citizens, or None without a mandate): those the mandate obliges (the
    non-exempt who comply) to use the digital channel when they need a transaction it covers; it
    covers a share ``mandate_scope`` of transactions. Whether this month's transaction is covered
    reuses the need draw: given need (u < need_rate), u / need_rate is uniform, so u < need_rate x
    scope covers the share ``scope`` of the needs without another random number.

    ``services``: the month of a portfolio of services (:mod:`sim.rules.services`), or None for the
    one general service. With a portfolio, a citizen is in need when they need any service; they
    decide on the strongest pull among those, a mandate obliges them when it covers one of them, and
    a user's online use of each service waits for its in-person first step where it has one.

    ``uniforms``: this month's :func:`citizen_uniforms` from ``rng``, if they were drawn ahead (on
    another thread, :func:`sim.parallel.in_background`); None draws them here.
    """
    c, o = state.citizens, state.offices
    if uniforms is None:
        uniforms = citizen_uniforms(rng, c.n)
    awareness_u, need_u, adopt_u, success_u, lapse_u = uniforms
    spread_awareness(state, params, awareness_u)
    if services is None:
        in_need = need_u < params.need_rate
    else:
        needs_k = service_needs(services.portfolio, services.rates, need_u, services.rng)
        in_need = needs_k.bits > 0
    need = np.flatnonzero(in_need)
    status = c.state.copy()

    forced = _EMPTY
    if mandated is not None:
        if services is None:
            covered = need_u[need] < params.need_rate * mandate_scope
        else:
            covered = covered_needs(needs_k, services.rates, mandate_scope, services.covered, c.n)[need]
        forced = need[mandated[need] & covered]
    if services is not None:  # services that are digital by default oblige their followers
        forced = np.union1d(forced, default_obliged(services.portfolio, needs_k, services.month, c.access,
                                                    c.counter_attachment))
    c.aware[forced] = True
    status[forced] = USER

    # Adoption: aware citizens with access, in need, not using the services yet, who do not keep to
    # the counter by choice.
    candidates = need[c.aware[need] & c.access[need] & (status[need] != USER)
                      & ~keeps_to_counter(c.counter_attachment[need], params)]
    social = state.neighbour_share(status == USER, rows=candidates, track="users")
    pull = None if services is None else strongest_pull(services.portfolio, needs_k, candidates)
    p_adopt = adoption_probability(state, params, mechanisms, social, rows=candidates, pull=pull)
    status[candidates[adopt_u[candidates] < p_adopt]] = USER

    # Service encounters of everyone in need.
    users = need[status[need] == USER]
    if services is not None:  # a first use waiting for its in-person step is served at the counter
        online = activate(services.portfolio, needs_k, users, c.office, services.month)
        served_online = online.any(axis=1)
        users, online = users[served_online], online[served_online]
    p_success = success_probability(params, platform_params, o.readiness[c.office[users]])
    if services is None:
        succeeded = success_u[users] < p_success
    else:
        # One draw per user decides every service used online this month (service k succeeds when the
        # draw is below its chance); the month's experience succeeds when all of them did.
        chances = success_chances(services.portfolio, p_success)
        if chances is None:
            succeeded = success_u[users] < p_success
            ok = online & succeeded[:, None]
        else:
            ok = online & (success_u[users][:, None] < chances)
            succeeded = ok.sum(axis=1) == online.sum(axis=1)
        record_month(services.portfolio, needs_k, users, online, ok, services.month,
                     params.assisted_electronic)
    success, failure = users[succeeded], users[~succeeded]
    experience = np.zeros(c.n, dtype=np.int8)
    experience[success] = 1
    experience[failure] = -1
    c.last_experience = experience
    chose = failure if mandated is None else failure[~mandated[failure]]
    lapse = chose[lapse_u[chose] < lapse_probability(params, c.trust[chose])]
    status[lapse] = LAPSED
    c.state = status

    offline = in_need.copy()  # failed digital attempts end at the office too
    offline[success] = False
    offline_idx = np.flatnonzero(offline)
    offline_hours = o.offline_hours[c.office[offline_idx]]
    w = c.weight  # survey weights: the counts are of people, in citizen agents (sim.weights)
    if w is None:
        hours = float(params.digital_hours * users.size + offline_hours.sum())
    else:
        hours = float(params.digital_hours * of_rows(users, w)
                      + np.einsum("i,i->", w[offline_idx], offline_hours))
    return ServiceOutcome(
        needs=of_rows(need, w),
        digital_attempts=of_rows(users, w),
        digital_successes=of_rows(success, w),
        hours=hours,
        success=success,
        failure=failure,
        forced_failure=_EMPTY if mandated is None else failure[mandated[failure]],
        offline=offline_idx,
    )
