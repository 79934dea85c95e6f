"""The mesa.Model: owns the state arrays and runs the monthly schedule.

One step is one month. The schedule (DESIGN section 3) is:

1. Government applies the policy inside its spending window (each lever buys units for its
   targeted, willing recipients; platform stocks are bought).
2. Civil servants: retirements and entrants, training effects (in 1), resistance, learning or
   skill decay, digital practice.
3. Offices: readiness and fairness.
4. Citizens: awareness, adoption (those who keep to the counter by choice never adopt; a
   digital-first mandate obliges those who comply), service experiences.
5. Trust: pushes from experience, fair or unfair encounters and transparency move each citizen's
   anchor, which drifts back towards its start; neighbours' trust mixes in (Friedkin-Johnsen).
6. Platform: users' feedback raises usability; stocks (transparency, security, accessibility)
   depreciate towards their initial levels.
7. Security incidents (a breach pushes trust down, hardest for users).
8. Observation.

Every phase is a vectorised function over arrays (see :mod:`sim.rules`); within a phase updates are
synchronous. Every random draw comes from a stream spawned from the run's seed.
"""

from __future__ import annotations

import copy
import random
import secrets
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from sim import weights
from sim.agents import Citizen, CivilServant, ServiceOffice
from sim.config import (
    SimConfig,
    apply_overrides,
    compose,
    policy_start_month,
    to_sim_config,
    with_changes,
)
from sim.metrics import METRIC_NAMES, observe, province_columns, province_table
from sim.networks import build_network, degrees, network_block, weighted_by_neighbour
from sim.parallel import in_background
from sim.parameters import ConfigError
from sim.population import initial_platform, synthesise_citizens, synthesise_offices_and_staff
from sim.rules.adoption import (
    ServiceMonth,
    ServiceOutcome,
    citizen_uniforms,
    step_citizens,
    step_reduced_form,
)
from sim.rules.bureaucracy import replace_leavers, update_offices, update_staff
from sim.rules.channels import follow_centre_openings
from sim.rules.consolidation import advance_consolidation
from sim.rules.mandate import mandate_active, mandated_mask
from sim.rules.platform import (
    breach_probability,
    coproduction_feedback,
    depreciate_stocks,
    draw_breach,
)
from sim.rules.policy import LeverInputs, apply_policy
from sim.rules.services import SERVICE_COLUMNS, build_portfolio, covered_services, need_rates, service_rows
from sim.rules.trends import decimal_year, follow_trends, start_shift
from sim.rules.trust import apply_breach, initial_expressed_trust, update_trust
from sim.state import USER, State
from sim.store.files import row_columns
from sim.store.provenance import HISTORY_POLICY_KEYS, flatten, history_dict
from sim.summary import summarise

AUTO_MATERIALISE_LIMIT = 50_000
# New streams go at the end: SeedSequence children keep their draws whatever comes after them.
STREAMS = ("population", "network", "policy", "bureaucracy", "citizens", "security", "trust",
           "trends", "attachment", "turnover", "services")
# Keys outside the policy block that set_policy may change: the budget is what the policy spends.
POLICY_TOP_LEVEL_KEYS = ("budget_idr_bn_per_month",)
# mesa's agent registries (and our flag): a copy of the model gets its own agent views, not copies.
AGENT_REGISTRIES = ("_agents", "_agents_by_type", "_all_agents", "_materialised")


class DigitalAdoptionModel(mesa.Model):
    """Citizens and civil servants taking up digital public services, month by month.

    Build it from keyword parameters (what ``mesa.batch_run`` and SolaraViz pass)::

        DigitalAdoptionModel(n_citizens=5000, policy="training", seed=3)

    or from a full config (``sim.config.compose(...)`` or a Hydra ``DictConfig``). Any other
    parameter can be set with ``overrides={"params.trust.susceptibility": 0.5}`` or, for batch runs,
    as a keyword with ``__`` for dots: ``policy__political_will=0.9``.
    """

    def __init__(
        self,
        n_citizens: int | None = None,
        policy: str = "baseline",
        population: str = "indonesia",
        network: str = "homophilous",
        portfolio: str = "general",
        steps: int | None = None,
        seed: int | None = None,
        config: SimConfig | DictConfig | None = None,
        overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if overrides is not None and not isinstance(overrides, Mapping):
            raise TypeError(f"overrides must be a mapping of dotted keys to values, e.g. "
                            f"{{'params.trust.susceptibility': 0.5}}; got {type(overrides).__name__}")
        extra = dict(overrides or {})
        extra.update({key.replace("__", "."): value for key, value in kwargs.items()})
        if n_citizens is not None:
            extra["population.n_citizens"] = n_citizens
        if steps is not None:
            extra["steps"] = steps
        if seed is not None:
            extra["seed"] = seed
        elif config is None and "seed" not in extra:
            # As in Mesa: no seed means a fresh one (recorded in cfg.seed and the summary), so that
            # repeated runs such as batch_run(iterations=3) differ.
            extra["seed"] = secrets.randbits(32)
        # numpy scalars (e.g. from np.arange in a batch run) as the plain Python values OmegaConf takes
        extra = {key: v.item() if isinstance(v, np.generic) else v for key, v in extra.items()}
        if config is None:
            cfg = compose(policy=policy, population=population, network=network, overrides=extra,
                          portfolio=portfolio)
        else:
            cfg = to_sim_config(config)
            if extra:
                cfg = apply_overrides(cfg, extra)
        self.cfg: SimConfig = cfg
        # (month, changes) of every set_policy call: a run whose policy changed mid-way says so.
        self.policy_changes: list[tuple[int, dict[str, Any]]] = []
        super().__init__(seed=cfg.seed)

        streams = np.random.SeedSequence(cfg.seed).spawn(len(STREAMS))
        self.rngs = {name: np.random.default_rng(s) for name, s in zip(STREAMS, streams, strict=True)}
        self.state = self._build_state()
        self.start_year = decimal_year(cfg.start_date)
        # The policy's months count from here; the months before are the history every scenario shares.
        self.policy_month = policy_start_month(cfg)
        self.month = 0
        self.rows: list[dict[str, float]] = []
        self.service_rows: list[dict[str, Any]] = []  # per month and service (a portfolio only)
        self._observe(spent={}, outcome=None, breach=False)

        self.datacollector = MetricCollector(
            model_reporters={key: _latest(key) for key in METRIC_NAMES}
        )
        self.datacollector.collect(self)

        if _wants_agents(cfg):
            self.materialise_agents()

    def __repr__(self) -> str:
        cfg = self.cfg
        changed = "*" if self.policy_changes else ""
        return (f"<{type(self).__name__} policy={cfg.policy.name}{changed} seed={cfg.seed} "
                f"month={self.month}/{cfg.steps} citizens={cfg.population.n_citizens:,}>")

    # ----------------------------------------------------------------- changing the policy
    def set_policy(self, changes: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        """Change the running model's policy; the change takes effect from the next step.

        Keys are relative to the policy block, dotted or with ``__`` for dots, as a mapping or as
        keywords (``set_policy(allocation__training=0.5)``, ``set_policy({"allocation.training":
        0.5})``); ``policy.``-prefixed keys and ``budget_idr_bn_per_month`` are accepted too. The
        changed config goes through :func:`sim.config.with_changes`, the same validation as a new
        run, because a validated config is locked: an invalid change (an unknown key, a negative
        share, shares summing above 1, a spending window past the horizon) raises a one-line
        :class:`~sim.parameters.ConfigError` and leaves the model exactly as it was (config, state,
        random streams). Only policy keys may change mid-run: everything else (population, network,
        parameters, seed, horizon) was used to build the state and would not be honoured.

        What the model derives from the policy is recomputed each step from ``self.cfg`` (targeting
        masks are cached under the targeting, share and provinces, so a new targeting gets a new
        mask); money a lever carried over from earlier months stays with that lever. Every call is
        recorded in ``policy_changes`` as ``(month, changes)``, and ``repr`` marks a changed policy.
        """
        if changes is not None and not isinstance(changes, Mapping):
            raise TypeError(f"changes must be a mapping of policy keys to values, e.g. "
                            f"{{'allocation.training': 0.5}}; got {type(changes).__name__}")
        items = {**dict(changes or {}), **kwargs}
        dotted = {_policy_key(key): value.item() if isinstance(value, np.generic) else value
                  for key, value in items.items()}
        if not dotted:
            return
        cfg = with_changes(self.cfg, **dotted)  # raises ConfigError before anything is changed
        self.cfg = cfg
        self.policy_month = policy_start_month(cfg)
        self.policy_changes.append((self.month, dotted))

    # ----------------------------------------------------------------- branching
    def branch(self, cfg: SimConfig | DictConfig) -> DigitalAdoptionModel:
        """An independent copy of this model at its current month that continues under ``cfg``.

        Every scenario of one seed lives through the same history before its policy starts
        (``policy.start_date``): before it a policy spends nothing and draws no random numbers. So a
        model run to the policy start month can be branched into each scenario, and each branch gives
        exactly, byte for byte, what a run of its config from month 0 gives. The copy is deep (state
        arrays, random streams, rows, month, data collector); configs are read-only and shared.

        ``cfg`` must have this model's history: the same config apart from the policy block (other
        than ``policy.start_date`` and ``policy.political_will``, which act before the start) and
        ``budget_idr_bn_per_month`` (:func:`sim.store.provenance.history_key`); and the model must not
        be past ``cfg``'s policy start month. Otherwise, and for a model whose ``set_policy`` changed a
        key that acts before the start, a one-line :class:`~sim.parameters.ConfigError`. The branch
        has mesa Agent views if ``cfg.materialise_agents`` asks for them, as a new model would.
        """
        cfg = to_sim_config(cfg)
        start = policy_start_month(cfg)
        if self.month > start:
            raise ConfigError(f"branch: the model is at month {self.month}, past the policy start of "
                              f"{cfg.policy.name} (month {start}, {cfg.policy.start_date}); allowed: "
                              f"branching at month {start} or before")
        history_keys = [f"policy.{k}" for k in HISTORY_POLICY_KEYS]
        history = " and ".join(history_keys)
        ours, theirs = history_dict(self.cfg), history_dict(cfg)
        if ours != theirs:  # name the first key that differs
            ours, theirs = flatten(ours), flatten(theirs)
            key = min(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            raise ConfigError(f"branch: {key}={theirs.get(key)!r} differs from this model's "
                              f"{ours.get(key)!r}, so the history differs; allowed: configs that differ "
                              f"only in the policy block (except {history}) and budget_idr_bn_per_month")
        changed = [(month, key) for month, changes in self.policy_changes for key in changes
                   if key in history_keys]
        if changed:
            month, key = changed[0]
            raise ConfigError(f"branch: set_policy changed {key} at month {month}, so this model's "
                              f"history is no run's from its start; allowed: branching a model whose "
                              f"set_policy calls left {history} alone")
        branch = self._copy()
        branch.cfg = cfg
        branch.policy_month = start
        branch.policy_changes = []  # the branch is the run of cfg (changes of other keys never acted)
        if _wants_agents(cfg):
            branch.materialise_agents()
        return branch

    def __deepcopy__(self, memo: dict[int, Any]) -> DigitalAdoptionModel:
        """A deep copy (see :meth:`branch`), with its own mesa Agent views if this model has them."""
        new = self._copy(memo)
        if getattr(self, "_materialised", False):
            new.materialise_agents()
        return new

    def _copy(self, memo: dict[int, Any] | None = None) -> DigitalAdoptionModel:
        """A deep copy without mesa Agent views. The config and the network are shared (validated
        configs are read-only, and so are the network's arrays: half the bytes of a 20,000-citizen
        state); the month's rows (and the services' rows) and the collector's series are lists of
        numbers and names, copied one level deep (a generic deep copy of them costs as much as the state
        arrays at 20,000 citizens: 3.4 ms against 0.05 ms for a portfolio's 305 service rows); the
        random streams by their states (:meth:`_copy_streams`)."""
        memo = {} if memo is None else memo
        memo[id(self.cfg)] = self.cfg
        network = self.state.adjacency
        if network is not None:  # never changed after it is built (its arrays are read-only)
            memo[id(network)] = network
        memo[id(self.rows)] = [dict(row) for row in self.rows]
        memo[id(self.service_rows)] = [dict(row) for row in self.service_rows]
        model_vars = self.datacollector.model_vars
        memo[id(model_vars)] = {name: list(values) for name, values in model_vars.items()}
        self._copy_streams(memo)
        cls = type(self)
        new = cls.__new__(cls)
        memo[id(self)] = new
        for name, value in vars(self).items():
            if name not in AGENT_REGISTRIES:
                new.__dict__[name] = copy.deepcopy(value, memo)
        new._agents = {}
        new._agents_by_type = {}
        new._all_agents = mesa.agent.AgentSet([], random=new.random)
        return new

    def _copy_streams(self, memo: dict[int, Any]) -> None:
        """Put copies of the random streams (numpy's and mesa's ``random``) into ``memo``, each at
        the same point of its sequence. Setting a new generator's state takes 7 microseconds, a
        generic deep copy (a pickle of the generator) 35, and 145 for a ``random.Random``: half a
        millisecond of a branch."""
        for stream in {id(s): s for s in (*self.rngs.values(), self.rng)}.values():
            bits = stream.bit_generator
            twin = type(bits)(copy.deepcopy(bits.seed_seq, memo))
            twin.state = bits.state
            memo[id(stream)] = np.random.Generator(twin)
        python_stream = random.Random()
        python_stream.setstate(self.random.getstate())
        memo[id(self.random)] = python_stream

    # ----------------------------------------------------------------- construction
    def _build_state(self) -> State:
        cfg = self.cfg
        pop, adoption = cfg.population, cfg.params.adoption
        rng = self.rngs["population"]
        shift = start_shift(pop, cfg.params.trends, cfg.start_date)
        citizens = synthesise_citizens(pop, adoption, rng, shift, attachment_rng=self.rngs["attachment"],
                                       network=cfg.network)
        offices, staff = synthesise_offices_and_staff(citizens, pop, adoption, rng)
        if adoption.rule != "utaut":  # reduced forms: access and awareness never limit
            citizens.access[:] = True
            citizens.aware[:] = True
        block = network_block(citizens.region, citizens.urban, citizens.quintile)
        adjacency = build_network(cfg.network, citizens.n, block, self.rngs["network"])
        if citizens.weight is not None and adjacency is not None:
            adjacency = weighted_by_neighbour(adjacency, citizens.weight)
        if adjacency is not None:  # the network never changes: branches share it (_copy)
            for array in (adjacency.data, adjacency.indices, adjacency.indptr):
                array.flags.writeable = False
        total_staff_real = pop.population_total / pop.residents_per_civil_servant
        state = State(
            citizens=citizens,
            staff=staff,
            offices=offices,
            platform=initial_platform(cfg.params.platform),
            adjacency=adjacency,
            degree=degrees(adjacency, citizens.n),
            people_per_citizen=pop.population_total / citizens.n,
            civil_servants_per_staff=total_staff_real / staff.n,
        )
        citizens.trust = initial_expressed_trust(state, cfg.params.trust)
        if adoption.rule == "utaut":
            follow_centre_openings(state, decimal_year(cfg.start_date))
            if cfg.services:
                portfolio = build_portfolio(cfg.services, citizens.income_rank, citizens.office, offices.n,
                                            decimal_year(cfg.start_date), self.rngs["services"],
                                            citizens.weight)
                state.services = None if portfolio.is_single_general() else portfolio
        update_offices(state.staff, state.offices)
        return state

    def materialise_agents(self) -> None:
        """Create the mesa Agent views (once). Costs about 1 KB and a few microseconds per agent."""
        if getattr(self, "_materialised", False):
            return
        for i in range(self.state.offices.n):
            ServiceOffice(self, i)
        for i in range(self.state.staff.n):
            CivilServant(self, i)
        for i in range(self.state.citizens.n):
            Citizen(self, i)
        self._materialised = True

    # ----------------------------------------------------------------- the monthly schedule
    def step(self) -> None:
        """One month. At the horizon (``steps`` months done) the model is left unchanged and
        ``running`` stays false, so a dashboard's Play with a render interval above 1 cannot run past
        the configured horizon."""
        if self.month >= self.cfg.steps:
            self.running = False
            return
        cfg, state, rngs = self.cfg, self.state, self.rngs
        mech, par = cfg.mechanisms, cfg.params
        if par.adoption.rule == "utaut":
            # The citizens' and the trust rule's draws come from streams of their own that nothing
            # before them uses, so a second core can draw them while the phases before them run.
            draws = in_background(state.citizens.n, _citizen_and_trust_uniforms, rngs["citizens"],
                                  rngs["trust"], state.citizens.n)
            follow_trends(state, par.trends, self.month, rngs["trends"])
            follow_centre_openings(state, self.start_year + (self.month + 1) / 12)
        levers = LeverInputs(bureaucracy=par.bureaucracy, adoption=par.adoption, platform=par.platform,
                             trust=par.trust, mechanisms=mech)
        spent = apply_policy(state, cfg.policy, cfg.budget_idr_bn_per_month, par.costs, levers,
                             cfg.population.outer_islands, self.month - self.policy_month, rngs["policy"])
        replace_leavers(state.staff, state.offices, par.bureaucracy, rngs["turnover"])
        advance_consolidation(state.platform, par.platform, par.costs.consolidation_project_bn)
        update_staff(state.staff, state.offices, par.bureaucracy, cfg.policy.political_will, mech,
                     rngs["bureaucracy"])
        update_offices(state.staff, state.offices)
        policy_month = self.month - self.policy_month  # the policy's own months: < 0 before it starts
        mandate = par.adoption.rule == "utaut" and mandate_active(cfg.policy.mandate, policy_month)
        outcome: ServiceOutcome | None = None
        if par.adoption.rule == "utaut":
            mandated = (
                mandated_mask(state, cfg.policy.mandate, cfg.population.outer_islands)
                if mandate else None
            )
            uniforms, fair_u = draws.result()
            outcome = step_citizens(state, par.adoption, par.platform, mech, rngs["citizens"], mandated,
                                    cfg.policy.mandate.scope, self._service_month(), uniforms)
            if mech.trust_dynamics:
                rise = state.platform.transparency - par.platform.transparency_initial
                update_trust(state, par.trust, outcome.success, outcome.failure,
                             outcome.forced_failure, outcome.offline, fair_u, rise)
        else:
            step_reduced_form(state, par.adoption, rngs["citizens"])
        if mech.coproduction:
            coproduction_feedback(state, par.platform)
        depreciate_stocks(state.platform, par.platform)
        breach = draw_breach(state, par.platform, rngs["security"])
        if breach and mech.trust_dynamics:
            apply_breach(state, par.trust)
        self.month += 1
        self._observe(spent, outcome, breach, mandate)
        self.datacollector.collect(self)
        if self.month >= cfg.steps:
            self.running = False

    def _service_month(self) -> ServiceMonth | None:
        """This month of the portfolio of services (None for the one general service)."""
        portfolio = self.state.services
        if portfolio is None:
            return None
        calendar_month = (int(self.cfg.start_date[5:7]) - 1 + self.month) % 12 + 1
        rates = need_rates(portfolio, self.month, calendar_month, self.cfg.params.adoption.need_rate)
        return ServiceMonth(portfolio, rates, covered_services(portfolio, self.cfg.policy.mandate.services),
                            self.rngs["services"], self.month)

    def _observe(self, spent: dict[str, float], outcome: ServiceOutcome | None, breach: bool,
                 mandate: bool = False) -> None:
        if self.state.services is not None:
            self.service_rows.extend(service_rows(self.state.services, self.month))
        self.rows.append(
            observe(
                self.state,
                self.month,
                spent,
                needs=outcome.needs if outcome else 0,
                digital_attempts=outcome.digital_attempts if outcome else 0,
                digital_successes=outcome.digital_successes if outcome else 0,
                hours=outcome.hours if outcome else 0.0,
                breach=breach,
                breach_probability=breach_probability(self.state, self.cfg.params.platform),
                mandate_active=mandate,
                start_year=self.start_year,
            )
        )

    # ----------------------------------------------------------------- running and results
    def run(self, progress: bool | None = None) -> DigitalAdoptionModel:
        """Run the remaining months, with a progress bar unless switched off."""
        show = self.cfg.progress if progress is None else progress
        remaining = self.cfg.steps - self.month
        for _ in tqdm(range(remaining), desc=f"{self.cfg.policy.name} seed {self.cfg.seed}",
                      unit="month", disable=not show, leave=False):
            self.step()
        return self

    @property
    def latest(self) -> dict[str, float]:
        return self.rows[-1]

    def timeseries(self) -> pd.DataFrame:
        """One row per month (0 = initial state), one column per metric."""
        return pd.DataFrame(self.timeseries_columns())

    def timeseries_columns(self) -> dict[str, np.ndarray]:
        """:meth:`timeseries` as one array per metric (what a run's files are written from)."""
        return row_columns(self.rows)

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "policy": self.cfg.policy.name,
            "population": self.cfg.population.name,
            "network": self.cfg.network.kind,
            "seed": self.cfg.seed,
            "n_citizens": self.cfg.population.n_citizens,
            "months": self.month,
            "forecast_from_month": self.summary_start,
        }
        summary.update(summarise(self.rows, self.summary_start))
        return summary

    def service_table(self) -> pd.DataFrame:
        """Per month and service of the portfolio: needs, online uses, in-person first steps, the share
        of eligible citizens who have used it online, the month's online share (empty for the one
        general service, whose figures are the national ones)."""
        return pd.DataFrame(self.service_columns())

    def service_columns(self) -> dict[str, np.ndarray]:
        """:meth:`service_table` as one array per column (no rows for the one general service)."""
        return row_columns(self.service_rows, SERVICE_COLUMNS)

    def province_table(self) -> pd.DataFrame:
        """The current state by province, long format (province, island_group, metric, value):
        what a run writes as ``provinces.csv`` (:func:`sim.metrics.province_table`)."""
        return province_table(self.state)

    def province_columns(self) -> dict[str, np.ndarray]:
        """:meth:`province_table` as one array per column."""
        return province_columns(self.state)

    @property
    def summary_start(self) -> int:
        """The first month the summary covers: the policy's start, or month 0 for a run that ended
        before it (a history-only run)."""
        return self.policy_month if self.policy_month < len(self.rows) else 0

    @property
    def adoption(self) -> float:
        c = self.state.citizens
        return float(weights.share(c.state == USER, c.weight))


def _wants_agents(cfg: SimConfig) -> bool:
    """Whether a model of ``cfg`` creates its mesa Agent views (``materialise_agents``)."""
    choice = cfg.materialise_agents
    return choice == "always" or (choice == "auto" and cfg.population.n_citizens <= AUTO_MATERIALISE_LIMIT)


def _policy_key(key: str) -> str:
    """``allocation__training`` or ``allocation.training`` -> ``policy.allocation.training``;
    ``budget_idr_bn_per_month`` stays top-level; any other top-level key is refused in one line."""
    dotted = key.replace("__", ".")
    if dotted in POLICY_TOP_LEVEL_KEYS or dotted.startswith("policy."):
        return dotted
    if dotted.split(".")[0] in SimConfig.__dataclass_fields__:
        raise ConfigError(f"{dotted}: not a policy key; set_policy changes the policy block and "
                          f"{', '.join(POLICY_TOP_LEVEL_KEYS)} (build a new model for other keys)")
    return f"policy.{dotted}"


def _citizen_and_trust_uniforms(citizens: np.random.Generator, trust: np.random.Generator,
                                n: int) -> tuple[np.ndarray, np.ndarray]:
    """A month's draws of the citizens' stream (:func:`citizen_uniforms`) and of the trust stream (one
    per citizen: fair or unfair office encounters)."""
    return citizen_uniforms(citizens, n), trust.random(n, dtype=np.float32)


class MetricCollector(mesa.DataCollector):
    """Mesa's DataCollector, fed from the month's row of declared metrics.

    Every metric is computed once a month by :func:`sim.metrics.observe`; calling one reporter per
    metric and deep-copying each float (what ``DataCollector.collect`` does) would cost more than
    some submodels at small sizes. The reporters stay declared, so Mesa's tools see the same
    variables; only the collection is direct.
    """

    def collect(self, model: DigitalAdoptionModel) -> None:
        row = model.latest
        for name, values in self.model_vars.items():
            values.append(row[name])


def _latest(key: str):
    def reporter(model: DigitalAdoptionModel) -> float:
        return model.latest[key]

    reporter.__name__ = f"latest_{key}"
    return reporter
