"""The configuration schema: the tree of parameter blocks, loading and validation.

Each parameter block is declared beside the code that uses it (``sim/population.py``,
``sim/networks.py``, ``sim/rules/*.py``; the policy and the mechanism switches in
``sim/scenario.py``) with :func:`sim.parameters.par`: default, unit, range, source, prior. This module
assembles them into :class:`SimConfig`, declares the run settings, and validates a config: Hydra and
OmegaConf reject wrong types and unknown keys, the declared ranges are checked by
:func:`sim.parameters.check_declared_ranges`, and the few checks that relate two keys live in
:func:`validate`, so that every entry point (the Hydra app, the Python constructor,
``mesa.batch_run``) gives the same one-line error.

A validated config is read-only (:class:`sim.parameters.Block`): what passed the checks is what the
model runs with. :func:`with_changes` (or :func:`apply_overrides`) gives a changed copy, validated
again.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.names import (  # noqa: F401  (re-exported: the names every caller imports from here)
    ADOPTION_RULES,
    AGE_BANDS,
    LEVERS,
    MANDATE_EXEMPTIONS,
    NETWORK_KINDS,
    REGIONS,
    TARGETINGS,
)
from sim.networks import NetworkConfig
from sim.parameters import MAPPING_OF, Block, ConfigError, check_declared_ranges, is_locked, lock, par
from sim.population import PopulationConfig
from sim.rules.adoption import AdoptionParams
from sim.rules.bureaucracy import BureaucracyParams
from sim.rules.platform import PlatformParams
from sim.rules.policy import CostParams
from sim.rules.services import MAX_SERVICES, ServiceParams, launch_month
from sim.rules.trends import TrendParams, add_months, decimal_year
from sim.rules.trust import TrustParams
from sim.scenario import (  # noqa: F401  (re-exported: the policy blocks callers import from here)
    Allocation,
    MandateConfig,
    Mechanisms,
    PolicyConfig,
)

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


# --------------------------------------------------------------------------- the tree
@dataclass
class ModelParams(Block):
    costs: CostParams = field(default_factory=CostParams)
    bureaucracy: BureaucracyParams = field(default_factory=BureaucracyParams)
    adoption: AdoptionParams = field(default_factory=AdoptionParams)
    trust: TrustParams = field(default_factory=TrustParams)
    platform: PlatformParams = field(default_factory=PlatformParams)
    trends: TrendParams = field(default_factory=TrendParams)


@dataclass
class SimConfig(Block):
    """Everything one simulation run needs."""

    seed: int = par(42, "-", "run seed; every random stream is spawned from it", "-", low=0,
                    integer=True)
    start_date: str = par(
        "2020-01", "YYYY-MM", "the calendar month of month 0: where the calibration starts, so a run "
        "lives through the observed years before its policy begins (policy.start_date)",
        "before the first fitted figure (Edelman 2021, fieldwork Oct-Nov 2020)")
    steps: int = par(120, "months", "months simulated from start_date (default: 2020-01 to 2029-12, "
                     "five observed years then a five-year forecast; at most a century, since the "
                     "population neither ages, is born nor dies: assumption)", "-", low=1,
                     high=1200, integer=True)
    budget_idr_bn_per_month: float = par(
        500.0, "IDR bn / month", "monthly budget of every non-baseline scenario",
        "policy setting (about IDR 6 trillion a year, ~0.2% of the state budget)", low=0)
    materialise_agents: str = par(
        "auto", "-", "mesa Agent objects: auto (up to 50,000 citizens), always, never", "-",
        choices=("auto", "always", "never"))
    progress: bool = par(True, "-", "show a progress bar", "-")
    parameter_set: str = par(
        "declared", "-", "where the parameter values come from: declared (the defaults of "
        "docs/parameters.md) or the calibrated draw it names (set by the config group parameters=)", "-")
    population: PopulationConfig = field(default_factory=PopulationConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    params: ModelParams = field(default_factory=ModelParams)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    # The portfolio of services, by name (configs/service/<name>.yaml, chosen together by
    # portfolio=<name>, configs/portfolio/): empty or the one general service is the one-service model.
    services: dict[str, ServiceParams] = field(default_factory=dict, metadata={MAPPING_OF: ServiceParams})


# --------------------------------------------------------------------------- loading
def group_options(group: str) -> list[str]:
    """Names of the YAML options available in a config group (e.g. the policy scenarios)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _mandated_services(policy: str) -> set[str]:
    """The services a policy's mandate names (``mandate.services``; empty: every service)."""
    raw = yaml.safe_load((CONFIG_DIR / "policy" / f"{policy}.yaml").read_text(encoding="utf-8")) or {}
    return set((raw.get("mandate") or {}).get("services") or [])


def portable_policies() -> list[str]:
    """The policy scenarios that run under any portfolio: all but those whose mandate names services
    (``mandate.services``), which need a portfolio that has them."""
    return [name for name in group_options("policy") if not _mandated_services(name)]


def runnable_policies(portfolio: str) -> list[str]:
    """The policy scenarios that run under ``portfolio``: those whose mandate names no service the
    portfolio lacks."""
    services = set(portfolio_services(portfolio))
    return [name for name in group_options("policy") if _mandated_services(name) <= services]


def _load_group(group: str, name: str) -> DictConfig:
    options = group_options(group)
    if name not in options:
        raise ConfigError(f"{group}={name}: unknown {group}; allowed: {', '.join(options)}")
    return OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml")


def portfolio_services(name: str) -> dict[str, DictConfig]:
    """The services of ``configs/portfolio/<name>.yaml``, each read from ``configs/service/``.

    A portfolio file is a Hydra defaults list (``- /service@services.<key>: <service file>``), so the
    Hydra app composes it itself; this reads the same list for :func:`compose`."""
    raw = _load_group("portfolio", name)
    services = {}
    for entry in raw.get("defaults", []):
        (target, option), = entry.items()
        group, _, package = str(target).lstrip("/").partition("@")
        if group != "service" or not package.startswith("services."):
            raise ConfigError(f"portfolio={name}: entry {target!r} is not '/service@services.<key>'")
        services[package.removeprefix("services.")] = _load_group("service", str(option))
    return services


CALIBRATED = "calibrated"  # the parameter set of the representative calibrated draw
# The services the apps and the dashboard simulate unless told otherwise: Indonesia's portfolio (tax
# filing, business licence, digital identity and the 2020 census beside the general service),
# calibrated on their own published uptake as well as the national figures. The model's own default
# (compose, DigitalAdoptionModel, python -m sim) stays the one general service: the reduced form the
# per-agent reference model checks.
APP_PORTFOLIO = "indonesia"


def parameter_set_name(name: str, portfolio: str) -> str:
    """The parameter set a run under ``portfolio`` takes for ``name``: ``calibrated`` means the
    portfolio's own calibrated set where one ships (``calibrated_<portfolio>``, since another
    portfolio's draw does not fit it: "use" is made of other services), else ``calibrated.yaml``."""
    own = f"{CALIBRATED}_{portfolio}"
    return own if name == CALIBRATED and (CONFIG_DIR / "parameters" / f"{own}.yaml").is_file() else name


def compose(
    policy: str = "baseline",
    population: str = "indonesia",
    network: str = "homophilous",
    overrides: dict[str, Any] | list[str] | None = None,
    parameters: str = "calibrated",
    portfolio: str = "general",
) -> SimConfig:
    """Build a validated config the way the Hydra app does, without Hydra's global state.

    ``overrides`` is a dotted-key mapping (``{"population.n_citizens": 5000}``) or a Hydra-style
    list (``["seed=3"]``). ``parameters``: ``calibrated`` (the representative calibrated draw of the
    portfolio, :func:`parameter_set_name`, set over the groups' values) or ``declared`` (the
    declared defaults); overrides win over both. ``portfolio``: the services (``configs/portfolio/``;
    ``general``: the one general service, the one-service model).
    """
    base = OmegaConf.load(CONFIG_DIR / "config.yaml")
    base.pop("defaults", None)
    base.pop("hydra", None)
    merged = OmegaConf.structured(SimConfig)
    try:
        merged = OmegaConf.merge(
            merged,
            base,
            {"population": _load_group("population", population)},
            {"network": _load_group("network", network)},
            {"policy": _load_group("policy", policy)},
            {"services": portfolio_services(portfolio)},
            # '# @package _global_': merged at the root
            _load_group("parameters", parameter_set_name(parameters, portfolio)),
        )
    except OmegaConfBaseException as exc:
        raise ConfigError(describe_omegaconf_error(exc)) from None
    return _apply_and_convert(merged, overrides or {})


def _override_items(overrides: dict[str, Any] | list[str]) -> list[tuple[str, Any]]:
    check_overrides_type(overrides)
    if isinstance(overrides, dict):
        return list(overrides.items())
    items = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{item!r}: malformed override; expected key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise ConfigError(f"{item!r}: malformed override; expected key=value") from None
        items.append((key.strip(), value))
    return items


def _check_known_key(cfg: DictConfig, dotted_key: str) -> None:
    """Reject an unknown key with the list of keys allowed at that level."""
    node: Any = cfg
    parts = dotted_key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, DictConfig) or part not in node:
            where = ".".join(parts[:depth]) or "the top level"
            allowed = ", ".join(node.keys()) if isinstance(node, DictConfig) else "none"
            raise ConfigError(f"{dotted_key}: unknown key; allowed keys at {where}: {allowed}")
        node = node[part]


def apply_overrides(cfg: SimConfig, overrides: dict[str, Any] | list[str]) -> SimConfig:
    """A copy of ``cfg`` with dotted-key overrides applied, checked like :func:`compose`.

    Numbers given for number fields (a posterior draw: every seed of every scenario of a comparison
    takes one) are set on a copy of the dataclasses directly and validated: the same config as the
    OmegaConf round trip, at a hundredth of its cost. Anything else (text, lists, unknown keys, a
    service's keys, a value OmegaConf would have to convert or refuse) takes the OmegaConf path and
    its one-line errors.
    """
    if isinstance(overrides, dict):
        changed = _replace_numbers(cfg, overrides)
        if changed is not None:
            validate(changed)
            return changed
    return _apply_and_convert(OmegaConf.structured(cfg), overrides)


def _number_for(current: Any, value: Any) -> float | int | None:
    """``value`` as the type of the number field holding ``current``, or None where OmegaConf's
    rules are needed (not a Python number, a bool, a whole-number field given a fraction, a null
    field)."""
    if isinstance(value, bool) or isinstance(current, bool) or type(value) not in (int, float):
        return None
    if isinstance(current, float):
        return float(value)
    if isinstance(current, int) and float(value).is_integer():
        return int(value)
    return None


def _replace_numbers(cfg: SimConfig, overrides: dict[str, Any]) -> SimConfig | None:
    """A copy of ``cfg`` with number fields of its dataclass blocks replaced, or None (see
    :func:`apply_overrides`). Unchanged blocks are shared with ``cfg`` (read-only once validated)."""
    tree: dict[str, Any] = {}
    for key, value in overrides.items():
        node: Any = tree
        block: Any = cfg
        parts = key.split(".")
        for part in parts[:-1]:
            block = getattr(block, part, None)
            if not isinstance(block, Block):
                return None
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return None
        leaf = parts[-1]
        if not isinstance(block, Block) or leaf not in {f.name for f in fields(block)}:
            return None
        number = _number_for(getattr(block, leaf), value)
        if number is None or isinstance(node.get(leaf), dict):
            return None
        node[leaf] = number
    return _rebuilt(cfg, tree) if tree else None


def _rebuilt(block: Any, changes: dict[str, Any]) -> Any:
    """``block`` with the nested ``changes`` applied, as new (unlocked) dataclass instances."""
    values = {name: _rebuilt(getattr(block, name), sub) if isinstance(sub, dict) else sub
              for name, sub in changes.items()}
    return dataclasses.replace(block, **values)


def with_changes(cfg: SimConfig, /, **changes: Any) -> SimConfig:
    """A validated, read-only copy of ``cfg`` with some keys changed; ``cfg`` itself is untouched.

    The way to change a config once it has been validated (attribute assignment raises): the copy is
    checked like :func:`compose`, so that, say, allocation shares summing to 2 are refused with a
    ConfigError rather than run. Keys are dotted, with ``__`` for the dots in keyword form::

        with_changes(cfg, seed=3, policy__allocation__training=0.5)
        with_changes(cfg, **{"params.trust.social_rate": 0.1})
    """
    return apply_overrides(cfg, {key.replace("__", "."): value for key, value in changes.items()})


def quiet(cfg: SimConfig) -> SimConfig:
    """``cfg`` without a progress bar or mesa Agent views, as a sweep's worker runs it (neither is in
    the config hash nor acts on a result); ``cfg`` itself if it is quiet already.

    The copy of a validated config is validated too (both values are allowed, nothing else changed),
    so it is locked as it is: validating it again cost 2 ms of every branch of the main job's
    200 ms runs."""
    if not cfg.progress and cfg.materialise_agents == "never":
        return cfg
    copy = dataclasses.replace(cfg, progress=False, materialise_agents="never")
    if is_locked(cfg):
        lock(copy)  # its blocks are the validated config's, locked already
    return copy


def _apply_and_convert(merged: DictConfig, overrides: dict[str, Any] | list[str]) -> SimConfig:
    """Apply overrides to a structured config (unknown keys and bad types -> ConfigError), validate."""
    try:
        for key, value in _override_items(overrides):
            _check_known_key(merged, key)
            refuse_interpolation(key, value)
            OmegaConf.update(merged, key, value, merge=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(describe_omegaconf_error(exc)) from None
    return to_sim_config(merged)


def to_sim_config(cfg: DictConfig | SimConfig) -> SimConfig:
    """Convert a (Hydra) DictConfig to the typed dataclass and validate its ranges. A locked config
    passed validation when it was locked and cannot have changed since, so it is returned as it is
    (validating costs about 5 ms, which every branch of a sweep's shared history paid again)."""
    if isinstance(cfg, SimConfig):
        if is_locked(cfg):
            return cfg
        sim_cfg = cfg
    else:
        try:
            typed = OmegaConf.merge(OmegaConf.structured(SimConfig), cfg)
            sim_cfg = OmegaConf.to_object(typed)
        except OmegaConfBaseException as exc:
            raise ConfigError(describe_omegaconf_error(exc)) from None
    validate(sim_cfg)
    return sim_cfg


def describe_omegaconf_error(exc: OmegaConfBaseException) -> str:
    """One line from an OmegaConf error: the key, the value, what is allowed.

    A single value given where a list belongs (``policy.provinces=Papua``) is the likeliest slip with a
    list key, and OmegaConf's own words name neither the value nor the way to write a list, so that case
    says both."""
    key = getattr(exc, "full_key", None) or "config"
    msg = str(getattr(exc, "msg", None) or exc).splitlines()[0]
    value = getattr(exc, "value", None)
    if "is not a ListConfig, list or tuple" in msg and value is not None:
        return (f"{key}={value!r}: not a list; allowed: a list in brackets, e.g. {key}='[{value}]' "
                f"(quote a name with spaces inside it: {key}='[\"Nusa Tenggara Timur\",Papua]')")
    return f"{key}: {msg}"


# --------------------------------------------------------------------------- validation
def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")


def validate(cfg: SimConfig) -> None:
    """Declared ranges, then the checks that relate two keys; ConfigError with one line naming the
    key, the value and what is allowed. A config that passes is locked: read-only from then on."""
    check_finite(cfg)
    check_limits(cfg)
    check_declared_ranges(cfg, SimConfig)
    decimal_year(cfg.start_date, "start_date")
    decimal_year(cfg.population.access_date, "population.access_date")
    decimal_year(cfg.population.literacy_date, "population.literacy_date")

    pop = cfg.population
    _check(pop.supervisors_per_office < pop.office_size, "population.supervisors_per_office",
           pop.supervisors_per_office, f"an integer in [1, office_size-1={pop.office_size - 1}]")
    for key in ("region_shares", "age_shares"):
        values = getattr(pop, key)
        _check(abs(sum(values) - 1.0) < 1e-6, f"population.{key}", list(values), "shares summing to 1")
    _check(cfg.network.mean_degree < pop.n_citizens, "network.mean_degree", cfg.network.mean_degree,
           f"a number in (0, n_citizens={pop.n_citizens}): lower network.mean_degree or raise "
           "population.n_citizens")

    if pop.province_min_share > 0:
        _check(cfg.network.kind != "mean_field" and cfg.params.adoption.rule == "utaut",
               "population.province_min_share", pop.province_min_share,
               "0 with network.kind=mean_field or a reduced adoption rule (bass, threshold), whose "
               "population shares are unweighted; a stratified sample needs a network and the utaut rule")

    if pop.access_level is not None:
        national = sum(s * a for s, a in zip(pop.region_shares, pop.access_by_region, strict=True))
        _check(0 < national < 1, "population.access_level", pop.access_level,
               f"null when the access marginals' own national level is {national:g} (no log-odds "
               "shift moves a level of 0 or 1)")

    pol = cfg.policy
    first = policy_start_month(cfg)
    begins = pol.start_date or f"{cfg.start_date} (the run's start)"
    _check(first >= 0, "policy.start_date", pol.start_date,
           f"null (the run's start) or a month from start_date={cfg.start_date} on")
    acts = cfg.budget_idr_bn_per_month > 0 and any(getattr(pol.allocation, lever) > 0 for lever in LEVERS)
    last = add_months(cfg.start_date, cfg.steps - 1)
    _check(not (acts or pol.mandate.start_month is not None) or first < cfg.steps, "policy.start_date",
           pol.start_date, f"a month from {cfg.start_date} to {last} (the run's months; steps={cfg.steps}), "
           f"or null (from the run's start); or make the run longer than {first} months")
    _check(not acts or first + pol.start_month < cfg.steps, "policy.start_month", pol.start_month,
           f"an integer in [0, {cfg.steps - first}) (months after the policy start {begins}: "
           f"spending must start by {last})")
    _check(pol.mandate.start_month is None or first + pol.mandate.start_month < cfg.steps,
           "policy.mandate.start_month", pol.mandate.start_month,
           f"null (no mandate) or an integer in [0, {cfg.steps - first}) (months after the policy "
           f"start {begins}: within the run, by {last})")
    _check(pol.end_month is None or pol.end_month > pol.start_month, "policy.end_month",
           pol.end_month, f"null (never) or an integer > start_month ({pol.start_month})")
    total = sum(getattr(pol.allocation, lever) for lever in LEVERS)
    _check(total <= 1.0 + 1e-9, "policy.allocation", round(total, 6), "shares summing to <= 1")
    # a province named twice is a slip (a copied line, a misremembered list) that would also count twice
    # in the report's number of targeted provinces
    twice = sorted({p for p in pol.provinces if list(pol.provinces).count(p) > 1})
    _check(not twice, "policy.provinces", list(pol.provinces),
           f"each province at most once ({', '.join(twice)} named more than once)")
    validate_services(cfg)
    _check(cfg.params.adoption.initial_adopters <= pop.n_citizens, "params.adoption.initial_adopters",
           cfg.params.adoption.initial_adopters,
           f"-1 (use the profile's share) or an integer in [0, n_citizens={pop.n_citizens}]")
    lock(cfg)


def validate_services(cfg: SimConfig) -> None:
    """Each service's declared ranges and dates, and a mandate's services against the portfolio."""
    _check(len(cfg.services) <= MAX_SERVICES, "services", list(cfg.services),
           f"at most {MAX_SERVICES} services in a portfolio (a citizen's needs are one byte a month)")
    for name, service in cfg.services.items():
        check_declared_ranges(service, ServiceParams, prefix=f"services.{name}.")
        for key in ("launch_date", "end_date", "digital_default_date"):
            if getattr(service, key) is not None:
                decimal_year(getattr(service, key), f"services.{name}.{key}")
        if service.launch_date is not None and service.end_date is not None:
            _check(decimal_year(service.end_date) > decimal_year(service.launch_date),
                   f"services.{name}.end_date", service.end_date,
                   f"a month after its launch_date ({service.launch_date}), or null")
    mandate = cfg.policy.mandate
    names = list(cfg.services) or ["general"]
    for service in mandate.services:
        _check(service in names, "policy.mandate.services", list(mandate.services),
               f"services of the portfolio: {', '.join(names)} (empty: all of them)")
    if mandate.start_month is None:
        return
    starts = policy_start_month(cfg) + mandate.start_month
    for name, service in cfg.services.items():
        launch = launch_month(service, decimal_year(cfg.start_date))
        # a mandate for every service (services empty) covers a later one from its launch on
        if name in mandate.services and launch is not None and starts < launch:
            _check(False, "policy.mandate.start_month", mandate.start_month,
                   f"a month from the launch of {name} ({service.launch_date}) on: a mandate cannot "
                   "precede the service it covers")


def policy_start_month(cfg: SimConfig) -> int:
    """The model month of ``policy.start_date`` (null: month 0): the policy's own months
    (``start_month``, ``end_month``, ``mandate.start_month``) count from it, and the per-run summary
    covers the months from it on (the forecast)."""
    return history_months(cfg.start_date, cfg.policy.start_date)


def history_months(start_date: str, policy_start_date: str | None) -> int:
    """Months from the run's ``start_date`` to ``policy_start_date`` (null: 0): the history before
    the policy begins (negative when the policy would begin before the run)."""
    if policy_start_date is None:
        return 0
    years = decimal_year(policy_start_date, "policy.start_date") - decimal_year(start_date)
    return round(years * 12)


# --------------------------------------------------------------------------- input safety
# Checks that hold for every value, kept apart from the per-parameter ranges above.
POLICY_NAME = re.compile(r"[\w-]+")  # letters of any script, digits, _ and -: no separators, no ".."
# Peak memory of one run per citizen: about 250 bytes of state plus about 20 per social tie
# (benchmarks/results.md: 4.3 GB at 10 million citizens, mean degree 10).
BYTES_PER_CITIZEN = 250.0
BYTES_PER_TIE = 20.0
# A monthly budget above about half of Indonesia's monthly GDP (IDR ~1.8 million bn) is not a policy.
MAX_BUDGET_IDR_BN_PER_MONTH = 1e6


def check_overrides_type(overrides: Any) -> None:
    """``overrides`` must be a mapping of dotted keys or a list of ``key=value`` strings."""
    if isinstance(overrides, dict):
        return
    if isinstance(overrides, (list, tuple, ListConfig)) and all(isinstance(o, str) for o in overrides):
        return
    raise TypeError(f"overrides must be a mapping of dotted keys to values, e.g. "
                    f"{{'params.trust.social_rate': 0.1}}, or a list of 'key=value' strings; "
                    f"got {type(overrides).__name__}")


def refuse_interpolation(key: str, value: Any) -> None:
    """A user value may not be an OmegaConf interpolation such as ``${oc.env:HOME}``: it would be
    resolved from the environment of whichever process reads it and written into the results."""
    if isinstance(value, dict):
        value = list(value.values())
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, (dict, list, tuple)):
            refuse_interpolation(key, item)
        elif isinstance(item, str) and "${" in item:
            raise ConfigError(f"{key}={item!r}: interpolations are not allowed; allowed: a plain value")


def _finite_items(value: Any, key: str) -> Any:
    if is_dataclass(value):
        for f in fields(value):
            yield from _finite_items(getattr(value, f.name), f"{key}.{f.name}" if key else f.name)
    elif isinstance(value, (list, tuple, ListConfig)):
        for i, item in enumerate(value):
            yield from _finite_items(item, f"{key}[{i}]")
    elif isinstance(value, float):
        yield key, value


def check_finite(cfg: Any) -> None:
    """Every number anywhere in the config must be finite: a NaN passes every range check (all
    comparisons with it are false) and silently stops the mechanism it enters."""
    for key, value in _finite_items(cfg, ""):
        if not math.isfinite(value):
            raise ConfigError(f"{key}={value!r}: not a finite number; allowed: a finite number")


def memory_bytes() -> int:
    """Memory this process may use: physical memory, or a smaller cgroup limit (containers)."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def max_citizens(mean_degree: float) -> int:
    """The largest population whose run fits in this machine's memory at this mean degree."""
    return int(memory_bytes() / (BYTES_PER_CITIZEN + BYTES_PER_TIE * max(mean_degree, 0.0)))


def check_limits(cfg: SimConfig) -> None:
    """Upper bounds that keep a run inside the machine and the arithmetic finite, and a policy name
    that is safe as a folder name (no separators, no ``..``)."""
    name = cfg.policy.name
    _check(isinstance(name, str) and POLICY_NAME.fullmatch(name) is not None, "policy.name", name,
           "letters (any script), digits, _ and - only")
    limit = max_citizens(cfg.network.mean_degree)
    _check(cfg.population.n_citizens <= limit, "population.n_citizens", cfg.population.n_citizens,
           f"an integer in [10, {limit:,}] (what fits in {memory_bytes() / 2**30:.0f} GiB of memory at "
           f"mean degree {cfg.network.mean_degree:g})")
    _check(cfg.budget_idr_bn_per_month <= MAX_BUDGET_IDR_BN_PER_MONTH, "budget_idr_bn_per_month",
           cfg.budget_idr_bn_per_month, f"a number in [0, {MAX_BUDGET_IDR_BN_PER_MONTH:g}] (IDR billion "
           "per month; about half of Indonesia's monthly GDP at most)")
