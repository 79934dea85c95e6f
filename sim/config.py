"""The configuration schema: structured-config dataclasses, loading and range validation.

Hydra and OmegaConf reject wrong types and unknown keys against these dataclasses; the range checks
(shares in [0, 1], positive counts, known option names) live in :func:`validate`, so that every entry
point (the Hydra app, the Python constructor, ``mesa.batch_run``) gives the same one-line error.

Units are in the field comments; sources and the reasoning behind defaults are in the YAML files
under ``configs/`` and in ``docs/ODD.md``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

REGIONS = ("Java", "Sumatra", "Kalimantan", "Sulawesi", "Bali-Nusa Tenggara", "Maluku-Papua")
AGE_BANDS = ("15-27", "28-43", "44-59", "60+")
LEVERS = (
    "training",
    "infrastructure",
    "literacy",
    "coproduction",
    "transparency",
    "security",
    "accessibility",
    "outreach",
    "leadership",
)
TARGETINGS = (
    "universal",
    "rural",
    "low_literacy",
    "elderly",
    "poorest",
    "outer_islands",
    "left_behind",
)
# Groups a digital-first mandate can leave the offline channel open for.
MANDATE_EXEMPTIONS = ("no_access", "elderly", "low_literacy", "rural", "outer_islands")
NETWORK_KINDS = ("homophilous", "small_world", "random", "scale_free", "mean_field")
ADOPTION_RULES = ("utaut", "bass", "threshold")


class ConfigError(ValueError):
    """A configuration value is out of range or unknown; the message is one line for the user."""


# --------------------------------------------------------------------------- population profile
@dataclass
class PopulationConfig:
    """A population profile: marginals the synthetic population is raked to."""

    name: str = "indonesia"
    n_citizens: int = 20_000  # agents; each stands for population_total / n_citizens people
    population_total: float = 280_000_000.0  # people
    residents_per_civil_servant: float = 65.0  # people per ASN (BKN 2022: 4.25 M ASN)
    office_size: int = 12  # civil servants per service office (assumption)
    supervisors_per_office: int = 2  # level-1 staff per office (assumption)
    region_shares: list[float] = field(
        default_factory=lambda: [0.5610, 0.2168, 0.0615, 0.0736, 0.0554, 0.0317]
    )  # share of people per island group, order of REGIONS (Census 2020)
    outer_islands: list[str] = field(default_factory=lambda: ["Maluku-Papua", "Bali-Nusa Tenggara"])
    urban_share: float = 0.58  # share of people in urban areas (BPS projection 2024)
    age_shares: list[float] = field(default_factory=lambda: [0.314, 0.290, 0.246, 0.150])
    access_by_region: list[float] = field(
        default_factory=lambda: [0.8364, 0.7734, 0.7742, 0.6835, 0.7180, 0.6991]
    )  # usable internet by island group (APJII 2024)
    access_urban: float = 0.822  # APJII 2024
    access_rural: float = 0.740  # APJII 2024
    access_by_age: list[float] = field(default_factory=lambda: [0.8702, 0.9317, 0.8369, 0.6052])
    access_income_log_odds_per_quintile: float = 0.35  # assumption (education gradient, APJII 2022)
    literacy_mean: float = 0.4334  # IMDI 2024 / 100
    literacy_sd_logit: float = 0.8  # spread of literacy on the logit scale (assumption)
    literacy_urban_log_odds: float = 0.30  # assumption
    literacy_income_log_odds_per_quintile: float = 0.15  # assumption
    literacy_age_log_odds: list[float] = field(default_factory=lambda: [0.3, 0.2, -0.1, -0.6])
    literacy_region_log_odds: list[float] = field(
        default_factory=lambda: [0.10, 0.0, 0.0, -0.10, -0.10, -0.30]
    )  # IMDI 2024: Jakarta 50.5 vs North Maluku 38.3 (shape is an assumption)
    trust_mean: float = 0.76  # Edelman Trust Barometer 2023, Indonesia, trust in government
    trust_sd_logit: float = 0.8  # spread of initial trust on the logit scale (assumption; s.d. ~0.14)
    # Edelman 2015: informed public 72% vs general population 65% trust in government, about 0.33
    # log-odds between the richer, more educated and the rest; spread over income quintiles
    # (q5 - q1 = 4 x 0.08 = 0.32 log-odds). Derived assumption.
    trust_income_log_odds_per_quintile: float = 0.08
    trust_urban_log_odds: float = 0.0  # no published urban/rural split (assumption: none)
    awareness_initial: float = 0.30  # share aware of the digital services at t=0 (assumption)
    adoption_initial: float = 0.05  # share already using them at t=0 (assumption)
    staff_competence_mean: float = 0.45  # Rumata & Nugraha 2020: 44.9% good digital literacy
    staff_competence_sd: float = 0.15  # assumption
    staff_resistance_mean: float = 0.55  # assumption
    staff_resistance_sd: float = 0.15  # assumption
    staff_digital_initial: float = 0.12  # "apply" share, 0.52 M of 4.29 M ASN (low confidence)
    staff_fairness_mean: float = 0.7  # assumption
    office_capacity_urban: float = 0.8  # office infrastructure capacity [0,1] (assumption)
    office_capacity_rural: float = 0.55  # assumption


# --------------------------------------------------------------------------- network
@dataclass
class NetworkConfig:
    """The citizens' social network."""

    kind: str = "homophilous"  # one of NETWORK_KINDS
    mean_degree: float = 10.0  # ties per citizen
    homophily: float = 0.7  # share of ties inside one's own region x urban x income block
    rewire_p: float = 0.1  # small-world rewiring probability
    powerlaw_exponent: float = 3.0  # scale-free degree exponent
    backend: str = "array"  # "array" (fast numpy generators) or "networkx" (reference, small n)


# --------------------------------------------------------------------------- policy
@dataclass
class Allocation:
    """Share of the monthly budget given to each lever (must sum to at most 1)."""

    training: float = 0.0
    infrastructure: float = 0.0
    literacy: float = 0.0
    coproduction: float = 0.0
    transparency: float = 0.0
    security: float = 0.0
    accessibility: float = 0.0
    outreach: float = 0.0
    leadership: float = 0.0


@dataclass
class MandateConfig:
    """A digital-first mandate: from ``start_month`` the non-exempt must use the digital channel."""

    start_month: int | None = None  # month the mandate takes effect; None: no mandate
    # Groups kept offline-capable (policy setting; default: people without access only)
    exempt: list[str] = field(default_factory=lambda: ["no_access"])


@dataclass
class PolicyConfig:
    """A named policy scenario: how the budget is split across levers, and whom it targets."""

    name: str = "baseline"
    description: str = "No additional spending."
    allocation: Allocation = field(default_factory=Allocation)
    targeting: str = "universal"  # one of TARGETINGS
    # Targeted levers reach at most this share of the population (office levers: of the offices,
    # those serving the most targeted citizens), the most in need first; once they are all reached,
    # the lever's money is returned unspent. (Assumption: a programme for those most in need.)
    target_share: float = 0.3
    # National top-down push for digital work [0,1]: a scenario setting, uncosted (assumption); the
    # costed ``leadership`` lever raises it office by office.
    political_will: float = 0.5
    start_month: int = 0  # first month with spending
    end_month: int | None = None  # first month without spending again; None: spending never stops
    mandate: MandateConfig = field(default_factory=MandateConfig)


# --------------------------------------------------------------------------- behaviour parameters
@dataclass
class CostParams:
    """Unit costs in IDR (assumptions, orders of magnitude of Indonesian programmes)."""

    training_per_civil_servant: float = 5_000_000.0
    infrastructure_per_person_covered: float = 1_500_000.0
    literacy_per_learner: float = 300_000.0
    coproduction_per_participant: float = 500_000.0
    outreach_per_person_reached: float = 25_000.0  # awareness campaign per person (assumption)
    leadership_per_office_head: float = 40_000_000.0  # leadership programme per head (assumption)
    stock_half_saturation_bn: float = 200.0  # IDR bn/month at which a stock lever works at half speed


@dataclass
class BureaucracyParams:
    """F1 and F5: civil servants' resistance, competence and digital practice (C1 hierarchy)."""

    top_down_rate: float = 0.04  # monthly resistance fall from a digital supervisor at full will
    peer_rate: float = 0.02  # monthly resistance fall from a fully digital office
    resistance_rebound: float = 0.01  # monthly drift back up without pressure
    learning_by_doing: float = 0.02  # monthly competence gain of digital staff
    switch_rate: float = 0.25  # monthly chance to reconsider the way of working
    switch_slope: float = 8.0  # steepness of the competence-minus-resistance choice
    training_competence_gain: float = 0.35  # share of the competence gap closed by training
    training_resistance_cut: float = 0.35  # share of resistance removed by training
    training_fairness_gain: float = 0.15  # share of the fairness gap closed by training
    # Take-up of training: P(accept) = training_takeup_max x (1 - training_takeup_resistance x
    # resistance); the most resistant are the least willing (assumption).
    training_takeup_max: float = 0.9
    training_takeup_resistance: float = 0.6
    # Leadership programme: an office whose head took part feels a top-down push of
    # will + leadership_gain x (1 - will) instead of the national political will (assumption).
    leadership_gain: float = 0.5
    leadership_takeup: float = 0.8  # share of heads who accept the programme (assumption)


@dataclass
class AdoptionParams:
    """Citizens' awareness and adoption (UTAUT/TAM-style utility), or reduced forms for validation."""

    rule: str = "utaut"  # one of ADOPTION_RULES
    literacy_programme_gain: float = 0.25  # share of the literacy gap closed by a course
    # Take-up of literacy courses and co-production: P(accept) = takeup_max x (1 - takeup_elderly
    # for 60+) x (takeup_floor + (1 - takeup_floor) x literacy): the least literate and the oldest
    # are the hardest to enrol (assumption).
    course_takeup_max: float = 0.8
    course_takeup_elderly_cut: float = 0.4
    course_takeup_floor: float = 0.4
    need_rate: float = 0.15  # share needing a public service each month (assumption)
    media_awareness: float = 0.005  # monthly chance of becoming aware from mass media (assumption)
    word_of_mouth: float = 0.05  # monthly awareness chance x share of aware neighbours
    intercept: float = -4.5  # utility intercept (assumption, calibrated to a slow start)
    w_usefulness: float = 2.5
    w_ease: float = 2.0
    w_social: float = 2.0
    w_trust: float = 2.0
    required_literacy: float = 0.6  # literacy that makes the platform fully usable
    offline_hours_urban: float = 3.0  # hours per offline transaction (assumption)
    offline_hours_rural: float = 6.0
    digital_hours: float = 0.5
    success_floor: float = 0.7  # success chance with an office not ready at all
    lapse_on_failure: float = 0.3  # chance to lapse after a failure, times (1 - trust)
    # reduced forms (validation against Bass and threshold models)
    p: float = 0.03
    q: float = 0.38
    threshold: float = 0.18
    threshold_sd: float = 0.0  # spread of a normal threshold distribution (clipped at 0); 0: one value
    # Explicit thresholds: one per citizen, in order, when the list is as long as the population;
    # otherwise an empirical distribution each citizen draws from. Empty: use threshold, threshold_sd.
    thresholds: list[float] = field(default_factory=list)
    initial_adopters: int = -1  # -1: use the profile's adoption_initial share


@dataclass
class TrustParams:
    """F6 and C3: trust dynamics (Friedkin-Johnsen anchoring; pushes in log-odds, see rules/trust).

    Every value is an assumption; the form follows Friedkin & Johnsen (1990) for social influence,
    Tyler (2006) for procedural justice and Slovic (1993) for losses of trust larger than gains.
    """

    susceptibility: float = 0.3  # weight of neighbours' trust against one's own anchor (FJ; assumption)
    success_gain: float = 0.10  # log-odds gained by a successful digital transaction (assumption)
    failure_loss: float = 0.20  # log-odds lost by a failed one (assumption; > gain, Slovic 1993)
    fair_gain: float = 0.10  # log-odds gained by a fair offline encounter (assumption)
    unfair_loss: float = 0.20  # log-odds lost by an unfair one (assumption; > gain, Slovic 1993)
    # log-odds / month x rise of transparency above its start. At the largest possible rise (0.3 ->
    # 1) this is 0.34 log-odds a year, about the fastest observed movement of trust in government
    # (Edelman: 70 -> 76, 2021 -> 2022, 0.31 log-odds). Assumption bounded by that observation.
    transparency_rate: float = 0.04
    transparency_offline_reach: float = 0.25  # reach of published data among people offline (assumption)
    breach_loss: float = 0.30  # log-odds lost by users (whose data were exposed) in a breach (assumption)
    breach_spillover: float = 0.25  # share of that loss felt by non-users with access (assumption)
    coproduction_gain: float = 0.30  # log-odds gained by taking part in co-production (assumption)
    # extra log-odds lost by a failure under a mandate, for the non-exempt (assumption)
    mandate_failure_loss: float = 0.20


@dataclass
class PlatformParams:
    """F2, F3, F4: the national platform."""

    usability_initial: float = 0.5  # assumption
    accessibility_initial: float = 0.2  # literacy requirement relief (assumption)
    security_initial: float = 0.5  # assumption
    transparency_initial: float = 0.3  # assumption
    reliability: float = 0.92  # share of digital transactions not failing for technical reasons
    feedback_rate: float = 0.01  # usability gain per month x user share (co-production)
    participant_rate: float = 2.0  # usability gain per month x participant share
    stock_max_monthly_gain: float = 0.05  # transparency/security/accessibility gain per month cap
    stock_decay: float = 0.005  # monthly depreciation of those stocks
    breach_base: float = 0.05  # monthly breach probability at zero security


@dataclass
class Mechanisms:
    """Switches for each factor's mechanism (all on by default; ablation turns one off).

    Off removes the mechanism's influence and nothing else: the factor is held at its initial state
    (or its weight is 0); money allocated to a lever whose mechanism is off is still spent.
    """

    resistance_dynamics: bool = True  # F1 off: staff resistance held at its initial values
    coproduction: bool = True  # F2 off: usability and accessibility not raised by co-production
    ease_of_use: bool = True  # F3 off: ease of use has weight 0 in the adoption utility
    infrastructure: bool = True  # F4 off: citizens' access and platform security held at start
    training: bool = True  # F5 off: training leaves competence, resistance and fairness unchanged
    trust_dynamics: bool = True  # F6 off: trust held at its initial values


@dataclass
class ModelParams:
    costs: CostParams = field(default_factory=CostParams)
    bureaucracy: BureaucracyParams = field(default_factory=BureaucracyParams)
    adoption: AdoptionParams = field(default_factory=AdoptionParams)
    trust: TrustParams = field(default_factory=TrustParams)
    platform: PlatformParams = field(default_factory=PlatformParams)


@dataclass
class SimConfig:
    """Everything one simulation run needs."""

    seed: int = 42
    steps: int = 60  # months
    budget_idr_bn_per_month: float = 500.0  # total monthly budget of every non-baseline scenario
    materialise_agents: str = "auto"  # "auto" (up to 50 000 citizens), "always", "never"
    progress: bool = True  # show a progress bar
    population: PopulationConfig = field(default_factory=PopulationConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    params: ModelParams = field(default_factory=ModelParams)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)


# --------------------------------------------------------------------------- loading
def group_options(group: str) -> list[str]:
    """Names of the YAML options available in a config group (e.g. the policy scenarios)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _load_group(group: str, name: str) -> DictConfig:
    options = group_options(group)
    if name not in options:
        raise ConfigError(f"{group}={name}: unknown {group}; allowed: {', '.join(options)}")
    return OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml")


def compose(
    policy: str = "baseline",
    population: str = "indonesia",
    network: str = "homophilous",
    overrides: dict[str, Any] | list[str] | None = None,
) -> SimConfig:
    """Build a validated config the way the Hydra app does, without Hydra's global state.

    ``overrides`` is a dotted-key mapping (``{"population.n_citizens": 5000}``) or a Hydra-style
    list (``["seed=3"]``).
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
    """A copy of ``cfg`` with dotted-key overrides applied, checked like :func:`compose`."""
    return _apply_and_convert(OmegaConf.structured(cfg), overrides)


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
    """Convert a (Hydra) DictConfig to the typed dataclass and validate its ranges."""
    if isinstance(cfg, SimConfig):
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
    """One line from an OmegaConf error: the key, the value, what is allowed."""
    key = getattr(exc, "full_key", None) or "config"
    msg = str(getattr(exc, "msg", None) or exc).splitlines()[0]
    return f"{key}: {msg}"


# --------------------------------------------------------------------------- validation
_UNIT_INTERVAL = "a number in [0, 1]"


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")


def _check_unit_fields(obj: Any, prefix: str, names: list[str]) -> None:
    for name in names:
        v = getattr(obj, name)
        _check(0.0 <= v <= 1.0, f"{prefix}.{name}", v, _UNIT_INTERVAL)


def _check_nonnegative_fields(obj: Any, prefix: str) -> None:
    """Every numeric field of a parameter block must be non-negative unless named otherwise."""
    for f in fields(obj):
        v = getattr(obj, f.name)
        if is_dataclass(v) or isinstance(v, (str, bool, list, ListConfig)):
            continue
        if f.name in {"intercept", "initial_adopters"}:
            continue
        _check(v >= 0, f"{prefix}.{f.name}", v, "a number >= 0")


def _check_share_list(values: list[float], key: str, length: int, must_sum_to_one: bool) -> None:
    _check(len(values) == length, key, list(values), f"a list of {length} numbers")
    for i, v in enumerate(values):
        _check(0.0 <= v <= 1.0, f"{key}[{i}]", v, _UNIT_INTERVAL)
    if must_sum_to_one:
        _check(abs(sum(values) - 1.0) < 1e-6, key, list(values), "shares summing to 1")


def validate(cfg: SimConfig) -> None:
    """Range checks Hydra cannot do; raises ConfigError with one line naming key, value, range."""
    check_finite(cfg)
    check_limits(cfg)
    _check(cfg.steps >= 1, "steps", cfg.steps, "an integer >= 1")
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _check(cfg.budget_idr_bn_per_month >= 0, "budget_idr_bn_per_month",
           cfg.budget_idr_bn_per_month, "a number >= 0 (IDR billion per month)")
    _check(cfg.materialise_agents in ("auto", "always", "never"), "materialise_agents",
           cfg.materialise_agents, "auto, always, never")

    pop = cfg.population
    _check(pop.n_citizens >= 10, "population.n_citizens", pop.n_citizens, "an integer >= 10")
    _check(pop.population_total > 0, "population.population_total", pop.population_total, "> 0")
    _check(pop.residents_per_civil_servant >= 1, "population.residents_per_civil_servant",
           pop.residents_per_civil_servant, "a number >= 1")
    _check(pop.office_size >= 3, "population.office_size", pop.office_size, "an integer >= 3")
    _check(1 <= pop.supervisors_per_office < pop.office_size, "population.supervisors_per_office",
           pop.supervisors_per_office, f"an integer in [1, office_size-1={pop.office_size - 1}]")
    _check_share_list(pop.region_shares, "population.region_shares", len(REGIONS), True)
    _check_share_list(pop.age_shares, "population.age_shares", len(AGE_BANDS), True)
    _check_share_list(pop.access_by_region, "population.access_by_region", len(REGIONS), False)
    _check_share_list(pop.access_by_age, "population.access_by_age", len(AGE_BANDS), False)
    for region in pop.outer_islands:
        _check(region in REGIONS, "population.outer_islands", region, ", ".join(REGIONS))
    _check(pop.trust_sd_logit >= 0, "population.trust_sd_logit", pop.trust_sd_logit,
           "a number >= 0 (logit units)")
    _check(0 < pop.trust_mean < 1, "population.trust_mean", pop.trust_mean, "(0, 1)")
    _check_unit_fields(pop, "population", [
        "urban_share", "access_urban", "access_rural", "literacy_mean", "trust_mean",
        "awareness_initial", "adoption_initial", "staff_competence_mean", "staff_competence_sd",
        "staff_resistance_mean", "staff_resistance_sd", "staff_digital_initial",
        "staff_fairness_mean", "office_capacity_urban", "office_capacity_rural",
    ])
    _check(0 < pop.literacy_mean < 1, "population.literacy_mean", pop.literacy_mean, "(0, 1)")
    _check(pop.literacy_sd_logit >= 0, "population.literacy_sd_logit", pop.literacy_sd_logit,
           "a number >= 0 (logit units)")
    for key, values, length in (
        ("literacy_age_log_odds", pop.literacy_age_log_odds, len(AGE_BANDS)),
        ("literacy_region_log_odds", pop.literacy_region_log_odds, len(REGIONS)),
    ):
        _check(len(values) == length, f"population.{key}", list(values),
               f"a list of {length} numbers (log-odds)")
    _check(pop.adoption_initial <= pop.awareness_initial, "population.adoption_initial",
           pop.adoption_initial, f"a share <= awareness_initial ({pop.awareness_initial})")

    net = cfg.network
    _check(net.kind in NETWORK_KINDS, "network.kind", net.kind, ", ".join(NETWORK_KINDS))
    _check(net.backend in ("array", "networkx"), "network.backend", net.backend, "array, networkx")
    _check(0 < net.mean_degree < pop.n_citizens, "network.mean_degree", net.mean_degree,
           f"a number in (0, n_citizens={pop.n_citizens})")
    _check_unit_fields(net, "network", ["homophily", "rewire_p"])
    _check(net.powerlaw_exponent > 2, "network.powerlaw_exponent", net.powerlaw_exponent, "> 2")

    pol = cfg.policy
    _check(pol.targeting in TARGETINGS, "policy.targeting", pol.targeting, ", ".join(TARGETINGS))
    _check_unit_fields(pol, "policy", ["political_will"])
    _check_unit_fields(pol, "policy", ["target_share"])
    _check(pol.target_share > 0, "policy.target_share", pol.target_share, "a share in (0, 1]")
    _check(pol.start_month >= 0, "policy.start_month", pol.start_month, "an integer >= 0")
    _check(pol.end_month is None or pol.end_month > pol.start_month, "policy.end_month",
           pol.end_month, f"null (never) or an integer > start_month ({pol.start_month})")
    man = pol.mandate
    _check(man.start_month is None or man.start_month >= 0, "policy.mandate.start_month",
           man.start_month, "null (no mandate) or an integer >= 0")
    for group in man.exempt:
        _check(group in MANDATE_EXEMPTIONS, "policy.mandate.exempt", group,
               ", ".join(MANDATE_EXEMPTIONS))
    _check_unit_fields(pol.allocation, "policy.allocation", list(LEVERS))
    total = sum(getattr(pol.allocation, lever) for lever in LEVERS)
    _check(total <= 1.0 + 1e-9, "policy.allocation", round(total, 6), "shares summing to <= 1")

    par = cfg.params
    for block in ("costs", "bureaucracy", "adoption", "trust", "platform"):
        _check_nonnegative_fields(getattr(par, block), f"params.{block}")
    _check_unit_fields(par.bureaucracy, "params.bureaucracy", [
        "top_down_rate", "peer_rate", "resistance_rebound", "learning_by_doing", "switch_rate",
        "training_competence_gain", "training_resistance_cut", "training_fairness_gain",
        "training_takeup_max", "training_takeup_resistance", "leadership_gain", "leadership_takeup",
    ])
    ad = par.adoption
    _check(ad.rule in ADOPTION_RULES, "params.adoption.rule", ad.rule, ", ".join(ADOPTION_RULES))
    _check_unit_fields(ad, "params.adoption", [
        "need_rate", "media_awareness", "word_of_mouth", "success_floor", "lapse_on_failure", "p", "q",
        "threshold", "literacy_programme_gain", "course_takeup_max", "course_takeup_elderly_cut",
        "course_takeup_floor",
    ])
    _check(ad.required_literacy > 0, "params.adoption.required_literacy", ad.required_literacy,
           "a number > 0")
    for i, v in enumerate(ad.thresholds):
        _check(0.0 <= v <= 1.0, f"params.adoption.thresholds[{i}]", v, _UNIT_INTERVAL)
    _check(ad.initial_adopters >= -1 and ad.initial_adopters <= pop.n_citizens,
           "params.adoption.initial_adopters", ad.initial_adopters,
           f"-1 (use the profile's share) or an integer in [0, n_citizens={pop.n_citizens}]")
    _check_unit_fields(par.trust, "params.trust", [
        "susceptibility", "transparency_offline_reach", "breach_spillover",
    ])
    _check(par.trust.susceptibility < 1, "params.trust.susceptibility", par.trust.susceptibility,
           "a number in [0, 1) (1 would leave no anchor)")
    _check_unit_fields(par.platform, "params.platform", [
        "usability_initial", "accessibility_initial", "security_initial", "transparency_initial",
        "reliability", "stock_max_monthly_gain", "stock_decay", "breach_base",
    ])
    _check(par.costs.stock_half_saturation_bn > 0, "params.costs.stock_half_saturation_bn",
           par.costs.stock_half_saturation_bn, "a number > 0")
    for name in ("training_per_civil_servant", "infrastructure_per_person_covered",
                 "literacy_per_learner", "coproduction_per_participant", "outreach_per_person_reached",
                 "leadership_per_office_head"):
        v = getattr(par.costs, name)
        _check(v > 0, f"params.costs.{name}", v, "a cost > 0 (IDR)")


# --------------------------------------------------------------------------- input safety
# Checks that hold for every value, kept apart from the per-parameter ranges above.
POLICY_NAME = re.compile(r"[A-Za-z0-9_-]+")
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
           "letters, digits, _ and - only")
    limit = max_citizens(cfg.network.mean_degree)
    _check(cfg.population.n_citizens <= limit, "population.n_citizens", cfg.population.n_citizens,
           f"an integer in [10, {limit:,}] (what fits in {memory_bytes() / 2**30:.0f} GiB of memory at "
           f"mean degree {cfg.network.mean_degree:g})")
    _check(cfg.budget_idr_bn_per_month <= MAX_BUDGET_IDR_BN_PER_MONTH, "budget_idr_bn_per_month",
           cfg.budget_idr_bn_per_month, f"a number in [0, {MAX_BUDGET_IDR_BN_PER_MONTH:g}] (IDR billion "
           "per month; about half of Indonesia's monthly GDP at most)")
