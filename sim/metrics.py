"""Group shares, equity gaps and the concentration index (who is left behind).

All functions are pure and vectorised; :func:`observe` gathers one month's metrics into a flat dict
whose keys become the columns of ``timeseries.parquet``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import weights
from sim.names import AGE_BANDS, LEVERS, REGIONS
from sim.parallel import in_background
from sim.provinces import N_PROVINCES, PROVINCE_REGION, PROVINCES
from sim.state import LAPSED, NON_USER, USER, State


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


REGION_KEYS = [slug(r) for r in REGIONS]
AGE_KEYS = ["age_" + slug(a.replace("+", "p")) for a in AGE_BANDS]


def group_shares(flag: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Share of ``flag`` within each group (NaN for an empty group)."""
    counts = np.bincount(groups, minlength=n_groups)
    hits = np.bincount(groups, weights=flag.astype(np.float64), minlength=n_groups)
    return np.divide(hits, counts, out=np.full(n_groups, np.nan), where=counts > 0)


def concentration_index(
    outcome: np.ndarray, income_rank: np.ndarray, rank_mean: float | None = None,
    weight: np.ndarray | None = None,
) -> float:
    """Concentration index of ``outcome`` over income rank: 2 cov(y, R) / mean(y).

    0 means equal shares across the income distribution; positive means concentrated among the
    richer (Wagstaff, Paci & van Doorslaer 1991). Returns 0 when nobody has the outcome.
    For a yes/no outcome, cov(y, R) = mean(y R) - mean(y) mean(R) needs only the ranks of those
    with the outcome. ``rank_mean``: ``income_rank.mean()`` where the caller has it already (the
    ranks never change after synthesis). ``weight``: survey weights (:mod:`sim.weights`), the ranks
    being the population's.
    """
    if weight is not None:
        y_mean = weights.mean(outcome, weight)
        if y_mean <= 0:
            return 0.0
        r_mean = weights.mean(income_rank, weight) if rank_mean is None else rank_mean
        cov = weights.mean(income_rank * outcome, weight) - y_mean * r_mean
        return float(2.0 * cov / y_mean)
    if rank_mean is None:
        rank_mean = income_rank.mean()
    if outcome.dtype == np.bool_:
        mean = np.count_nonzero(outcome) / outcome.size
        if mean <= 0:
            return 0.0
        # The ranks times the 0/1 flags summed by einsum: several times faster than summing the ranks
        # selected by a boolean mask (which first gathers them into a new array). Not np.dot: a BLAS
        # call starts threads that keep spinning after it returns and slow the rest of the month on a
        # machine with few cores.
        cov = float(np.einsum("i,i->", income_rank, outcome)) / outcome.size - mean * rank_mean
        return float(2.0 * cov / mean)
    y = outcome.astype(np.float64)
    mean = y.mean()
    if mean <= 0:
        return 0.0
    cov = np.mean((y - mean) * (income_rank - rank_mean))
    return float(2.0 * cov / mean)


def _gap(shares: np.ndarray) -> float:
    valid = shares[~np.isnan(shares)]
    return float(valid.max() - valid.min()) if valid.size else 0.0


# The fixed groups adoption is reported by, in the axis order of the group-cell table.
GROUP_AXES = ("urban", "region", "quintile", "age_band", "literacy_tercile")


def group_cells(state: State) -> tuple[np.ndarray, np.ndarray]:
    """Each citizen's cell of urban x region x quintile x age band x literacy tercile, and the
    number of citizens per cell (a 2 x 6 x 5 x 4 x 3 table). These attributes never change after
    synthesis, so the codes are computed once per model. They are kept as ``np.intp``, the index
    type ``np.bincount`` works in (it would convert a smaller type on every call).
    """
    c = state.citizens
    sources = tuple(getattr(c, name) for name in GROUP_AXES)

    def build() -> tuple[np.ndarray, np.ndarray]:
        shape = (2, len(REGIONS), 5, len(AGE_BANDS), 3)
        code = np.ravel_multi_index(tuple(a.astype(np.intp) for a in sources), shape)
        counts = weights.group_totals(code, int(np.prod(shape)), c.weight).reshape(shape)
        return code.astype(np.intp, copy=False), counts

    return state.cached("metrics.group_cells", (*sources, c.weight), build)


def _axis_counts(state: State) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """For each group axis, the other axes (to sum over) and its number of citizens per group
    (fixed after synthesis; computed once per model)."""
    code, counts = group_cells(state)

    def build() -> list[tuple[tuple[int, ...], np.ndarray]]:
        out = []
        for axis in range(len(GROUP_AXES)):
            others = tuple(i for i in range(len(GROUP_AXES)) if i != axis)
            out.append((others, counts.sum(axis=others)))
        return out

    return state.cached("metrics.axis_counts", (code,), build)


def _group_margins(state: State, hits: np.ndarray) -> dict[str, np.ndarray]:
    """Margins of a per-cell sum over the group-cell table, as means per group of each axis."""
    _, counts = group_cells(state)
    hits = hits.reshape(counts.shape)
    shares = {}
    for name, (others, k) in zip(GROUP_AXES, _axis_counts(state), strict=True):
        shares[name] = np.divide(hits.sum(axis=others), k, out=np.full(k.size, np.nan), where=k > 0)
    return shares


def _by_group(prefix: str, shares: dict[str, np.ndarray]) -> dict[str, float]:
    out: dict[str, float] = {}
    out[f"{prefix}_rural"], out[f"{prefix}_urban"] = float(shares["urban"][0]), float(shares["urban"][1])
    for key, share in zip(REGION_KEYS, shares["region"], strict=True):
        out[f"{prefix}_{key}"] = float(share)
    for q, share in enumerate(shares["quintile"], start=1):
        out[f"{prefix}_q{q}"] = float(share)
    for key, share in zip(AGE_KEYS, shares["age_band"], strict=True):
        out[f"{prefix}_{key}"] = float(share)
    for t, share in enumerate(shares["literacy_tercile"], start=1):
        out[f"{prefix}_literacy_t{t}"] = float(share)
    return out


def adoption_by_group(state: State, users: np.ndarray | None = None) -> dict[str, float]:
    """Adoption share by urban/rural, island group, income quintile, age band and literacy tercile.

    One count of users per group cell, then the margins of that table (not one pass per group).
    """
    c = state.citizens
    if users is None:
        users = c.state == USER
    code, counts = group_cells(state)
    hits = (_tracked_cell_counts(state, "metrics.user_cells", users, code, counts.size) if c.weight is None
            else weights.group_totals(code, counts.size, c.weight, users))
    return _by_group("adoption", _group_margins(state, hits))


def _tracked_cell_counts(state: State, key: str, flags: np.ndarray, code: np.ndarray, size: int
                         ) -> np.ndarray:
    """Number of citizens with ``flags`` set in each group cell (float64 whole numbers), kept from
    one call to the next under ``key`` and updated from the citizens whose flag changed since.

    A full count weights the cells by the flags (no gather); an update adds the cells of those
    who gained the flag and subtracts those who lost it. The counts are whole numbers far below
    2**53, so the updated float64 counts equal a full count exactly. Few citizens change a month,
    so this saves a pass that converts every flag to a float.
    """
    if flags.dtype != np.bool_:
        return np.bincount(code, weights=flags, minlength=size)
    tracker: dict[str, np.ndarray] = state.cached(key, (code,), dict)  # new for new group cells
    snapshot = tracker.get("flags")
    if snapshot is not None and snapshot.shape == flags.shape:
        changed = np.flatnonzero(flags != snapshot)
        if changed.size * CELL_RECOUNT_FRACTION <= flags.size:
            hits = tracker["hits"].copy()
            now = flags[changed]
            if changed.size:
                hits += np.bincount(code[changed[now]], minlength=size)
                hits -= np.bincount(code[changed[~now]], minlength=size)
            snapshot[changed] = now
            tracker["hits"] = hits
            return hits.copy()
    # Weighted by the flags (exact whole-number sums) rather than counting code[flags]: no gather.
    hits = np.bincount(code, weights=flags, minlength=size)
    tracker["flags"] = np.array(flags, dtype=np.bool_)
    tracker["hits"] = hits
    return hits.copy()


# Above 1 / CELL_RECOUNT_FRACTION of the citizens changed, the group-cell counts are recounted.
CELL_RECOUNT_FRACTION = 8


def trust_by_group(state: State) -> dict[str, float]:
    """Mean trust by the same groups as adoption (one weighted count per group cell)."""
    code, counts = group_cells(state)
    sums = weights.group_totals(code, counts.size, state.citizens.weight, state.citizens.trust)
    return _by_group("trust", _group_margins(state, sums))


def _gaps(prefix: str, groups: dict[str, float]) -> dict[str, float]:
    """Urban-rural, richest-poorest, youngest-oldest, most-least literate and island-group gaps."""
    regions = np.array([groups[f"{prefix}_{k}"] for k in REGION_KEYS])
    return {
        "urban_rural": groups[f"{prefix}_urban"] - groups[f"{prefix}_rural"],
        "income_q5_q1": groups[f"{prefix}_q5"] - groups[f"{prefix}_q1"],
        "region_max_min": _gap(regions),
        "age_young_old": groups[f"{prefix}_{AGE_KEYS[0]}"] - groups[f"{prefix}_{AGE_KEYS[-1]}"],
        "literacy_t3_t1": groups[f"{prefix}_literacy_t3"] - groups[f"{prefix}_literacy_t1"],
    }


def equity_gaps(
    state: State, groups: dict[str, float], users: np.ndarray | None = None
) -> dict[str, float]:
    """Adoption gaps between groups (share points) and the concentration index over income."""
    c = state.citizens
    if users is None:
        users = c.state == USER
    gaps = {f"gap_{name}": value for name, value in _gaps("adoption", groups).items()}
    # The mean income rank is fixed after synthesis: computed once per model.
    rank_mean = state.cached("metrics.income_rank_mean", (c.income_rank, c.weight),
                             lambda: c.income_rank.mean() if c.weight is None
                             else weights.mean(c.income_rank, c.weight))
    gaps["concentration_index"] = concentration_index(users, c.income_rank, rank_mean, c.weight)
    return gaps


def trust_gaps(groups: dict[str, float]) -> dict[str, float]:
    """Trust gaps between the same groups (trust points): who distrusts the services most."""
    return {f"gap_trust_{name}": value for name, value in _gaps("trust", groups).items()}


@dataclass(frozen=True)
class Metric:
    """One monthly output: its column name, unit and meaning (read by the DataCollector, the
    timeseries, the reports and the docs), and a short label where the meaning is too long for a
    table header, an axis or a dashboard tile."""

    name: str
    unit: str
    description: str
    label: str = ""

    @property
    def words(self) -> str:
        """The metric in words: its short label, or its meaning when it needs none."""
        return self.label or self.description


@dataclass(frozen=True)
class Group:
    """A group of citizens adoption and trust are reported by (``adoption_<key>``, ``trust_<key>``)."""

    key: str
    dimension: str  # the axis the group belongs to, in words
    label: str  # the people in words, as a sentence names them
    short: str  # the group as a table column or a heatmap column names it


@dataclass(frozen=True)
class Gap:
    """A difference between two groups (``gap_<key>`` of adoption, ``gap_trust_<key>`` of trust)."""

    key: str
    label: str  # short: "urban-rural gap"
    between: str  # which groups, first minus second: "urban minus rural"


_FIFTHS = ("poorest fifth", "2nd income fifth", "middle income fifth", "4th income fifth", "richest fifth")
_THIRDS = ("least literate third", "middle literacy third", "most literate third")
GROUPS: tuple[Group, ...] = (
    Group("rural", "area", "rural residents", "rural"),
    Group("urban", "area", "urban residents", "urban"),
    *(Group(k, "island group", f"residents of {r}", r) for k, r in zip(REGION_KEYS, REGIONS, strict=True)),
    *(Group(f"q{q}", "income", f"income quintile {q} (1 = poorest)", f)
      for q, f in enumerate(_FIFTHS, start=1)),
    *(Group(k, "age", f"people aged {a}", f"aged {a}") for k, a in zip(AGE_KEYS, AGE_BANDS, strict=True)),
    *(Group(f"literacy_t{t}", "literacy", f"initial literacy tercile {t} (1 = lowest)", short)
      for t, short in enumerate(_THIRDS, start=1)),
)
GAPS: tuple[Gap, ...] = (
    Gap("urban_rural", "urban-rural gap", "urban minus rural"),
    Gap("income_q5_q1", "richest-poorest gap", "richest minus poorest income quintile"),
    Gap("region_max_min", "island-group gap", "highest minus lowest island group"),
    Gap("age_young_old", "youngest-oldest gap", "15-27 minus 60+"),
    Gap("literacy_t3_t1", "literacy gap", "highest minus lowest literacy tercile"),
)

# Edelman Trust Barometer: trusting = 6-9 on a 9-point scale; on [0, 1] (1 -> 0, 9 -> 1) 6 is 5/8.
TRUSTING_THRESHOLD = 5 / 8

METRICS: tuple[Metric, ...] = (
    Metric("month", "month", "months since the start (0 = initial state)"),
    Metric("year", "year", "calendar time of the observation (decimal year; start_date = month 0)"),
    Metric("adoption", "share", "citizens who use the digital services (state user)", "adoption"),
    Metric("ever_used_connected", "share",
           "citizens with internet access who have used the digital services, now or before "
           "(the measure of Kominfo-KIC 2021: ever used the internet to reach a public service)",
           "ever used, share of connected people"),
    Metric("lapsed", "share", "citizens who used them and stopped after a failure"),
    Metric("awareness", "share", "citizens who know the digital services exist"),
    Metric("access", "share", "citizens with usable internet"),
    Metric("literacy_mean", "index [0, 1]", "mean digital literacy"),
    Metric("trust_mean", "[0, 1]", "mean trust in government", "mean trust"),
    Metric("trust_sd", "[0, 1]", "standard deviation of trust across citizens"),
    Metric("trusting_share", "share",
           "citizens whose trust is at least 0.625, the survey's measure: Edelman counts a "
           "respondent as trusting at 6-9 on a 1-9 scale, and 6 is 0.625 of the way from 1 to 9 "
           "(measurement model: assumption)", "trusting government, share"),
    Metric("digital_staff_share", "share", "civil servants working through the digital system",
           "civil servants working digitally"),
    Metric("trained_staff_share", "share", "civil servants who have been trained"),
    Metric("led_office_share", "share", "offices whose head took part in the leadership programme"),
    Metric("resistance_mean", "[0, 1]", "mean resistance of civil servants"),
    Metric("competence_mean", "[0, 1]", "mean digital competence of civil servants"),
    Metric("office_readiness_mean", "[0, 1]", "mean office digital readiness"),
    Metric("usability", "[0, 1]", "platform usability"),
    Metric("accessibility", "[0, 1]", "platform accessibility (relief of the literacy needed)"),
    Metric("security", "[0, 1]", "platform data security"),
    Metric("transparency", "[0, 1]", "published performance data"),
    Metric("mandate_active", "0/1", "a digital-first mandate holds this month"),
    Metric("centre_coverage", "share", "citizens whose district has an integrated service centre "
           "(assisted access to the digital channel)"),
    Metric("separate_apps", "apps", "separate apps or log-ins a person needs for the public services"),
    Metric("assisted_access", "share", "citizens with assisted access to the digital channel: a service "
           "centre or a partner's access point"),
    Metric("success_rate", "share", "digital transactions that succeeded this month"),
    Metric("digital_transaction_share", "share", "transactions this month completed digitally"),
    Metric("hours_per_transaction", "hours", "citizen hours per transaction this month"),
    Metric("citizen_hours_million", "million hours", "hours citizens spent on services this month"),
    Metric("breach", "0/1", "a data breach happened this month"),
    Metric("breaches_cumulative", "count", "breaches so far"),
    Metric("breach_probability", "probability", "chance of a breach this month, at the month's security"),
    *(Metric(f"spend_{lever}_idr_bn", "IDR bn", f"spent on {lever} this month") for lever in LEVERS),
    Metric("spend_total_idr_bn", "IDR bn", "spent on all levers this month"),
    *(Metric(f"adoption_{g.key}", "share", f"adoption among {g.label}") for g in GROUPS),
    *(Metric(f"gap_{g.key}", "share points", f"adoption gap, {g.between}", g.label) for g in GAPS),
    Metric("concentration_index", "[-1, 1]", "concentration of adoption over income rank (> 0: richer)",
           "concentration index"),
    *(Metric(f"trust_{g.key}", "[0, 1]", f"mean trust among {g.label}") for g in GROUPS),
    *(Metric(f"gap_trust_{g.key}", "trust points", f"trust gap, {g.between}", f"trust {g.label}")
      for g in GAPS),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
_BY_NAME = {m.name: m for m in METRICS}

# The range a quantity of each unit lies in; a unit not listed is unbounded (counts, money, hours).
UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "share": (0.0, 1.0), "[0, 1]": (0.0, 1.0), "index [0, 1]": (0.0, 1.0), "0/1": (0.0, 1.0),
    "probability": (0.0, 1.0),
    "share points": (-1.0, 1.0), "trust points": (-1.0, 1.0), "[-1, 1]": (-1.0, 1.0),
}
# The monthly metrics of one group of citizens (NaN where a small population leaves a group empty).
GROUP_METRIC_NAMES: frozenset[str] = frozenset(f"{p}_{g.key}" for g in GROUPS for p in ("adoption", "trust"))
# Units shown in percent (a share) or percentage points (a difference of shares).
SHARE_UNITS = ("share", "share points")


def metric(name: str) -> Metric:
    """The declaration of a monthly metric (KeyError naming it when there is none)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a declared monthly metric (sim.metrics.METRICS)") from None


def unit(name: str) -> str:
    return metric(name).unit


def label(name: str) -> str:
    """A monthly metric in words, short enough for a table header or an axis."""
    return metric(name).words


def bounds(name: str) -> tuple[float, float] | None:
    """The range a monthly metric lies in (from its unit), or None when it is unbounded."""
    return UNIT_BOUNDS.get(metric(name).unit)


def is_share(name: str) -> bool:
    """Whether a monthly metric is a share or a gap between shares (percent, percentage points)."""
    return metric(name).unit in SHARE_UNITS


def observe(
    state: State,
    month: int,
    spent_bn: dict[str, float],
    needs: float,
    digital_attempts: float,
    digital_successes: float,
    hours: float,
    breach: bool,
    breach_probability: float,
    mandate_active: bool = False,
    start_year: float = 0.0,
) -> dict[str, float]:
    """One month's metrics as a flat dict of floats, in the order of :data:`METRICS`."""
    c, s, p = state.citizens, state.staff, state.platform
    group_cells(state)  # built (once) before the trust metrics read it on another thread
    # On two cores the trust metrics (a third of the observation at a million citizens) are computed
    # beside the others (sim.parallel.in_background); their keys keep their places in the row.
    trust = in_background(c.n, _trust_metrics, state)
    row: dict[str, float] = {"month": float(month), "year": start_year + month / 12}
    users, w = c.state == USER, c.weight  # w: survey weights, None in a proportional sample (sim.weights)
    everyone = c.n  # the people everyone stands for, in citizen agents, with or without weights
    row["adoption"] = weights.total(users, w) / everyone
    connected = weights.total(c.access, w)
    row["ever_used_connected"] = (weights.total(c.access & (c.state != NON_USER), w) / connected
                                  if connected else 0.0)
    row["lapsed"] = weights.total(c.state == LAPSED, w) / everyone
    row["awareness"] = weights.total(c.aware, w) / everyone
    row["access"] = connected / everyone
    row["literacy_mean"] = weights.mean(c.literacy, w)
    row.update(dict.fromkeys(TRUST_SUMMARY, 0.0))  # placeholders at their places, filled below
    row["digital_staff_share"] = float(np.mean(s.digital))
    row["trained_staff_share"] = float(np.mean(s.trained))
    row["led_office_share"] = float(np.mean(state.offices.led))
    row["resistance_mean"] = float(np.mean(s.resistance))
    row["competence_mean"] = float(np.mean(s.competence))
    row["office_readiness_mean"] = float(np.mean(state.offices.readiness))
    row["usability"] = float(p.usability)
    row["accessibility"] = float(p.accessibility)
    row["security"] = float(p.security)
    row["transparency"] = float(p.transparency)
    row["mandate_active"] = float(mandate_active)
    row["centre_coverage"] = weights.share(c.centre_covered, w)
    row["separate_apps"] = float(p.separate_apps)
    row["assisted_access"] = weights.share(c.centre_covered | c.partner_covered, w)
    row["success_rate"] = digital_successes / digital_attempts if digital_attempts else 0.0
    row["digital_transaction_share"] = digital_successes / needs if needs else 0.0
    row["hours_per_transaction"] = hours / needs if needs else 0.0
    row["citizen_hours_million"] = hours * state.people_per_citizen / 1e6
    row["breach"] = float(breach)
    row["breaches_cumulative"] = float(p.breaches)
    row["breach_probability"] = float(breach_probability)
    for lever in LEVERS:
        row[f"spend_{lever}_idr_bn"] = float(spent_bn.get(lever, 0.0))
    row["spend_total_idr_bn"] = float(sum(spent_bn.values()))
    groups = adoption_by_group(state, users)
    row.update(groups)
    row.update(equity_gaps(state, groups, users))
    summary, trust_groups = trust.result()
    row.update(summary)
    row.update(trust_groups)
    row.update(trust_gaps(trust_groups))
    return row


TRUST_SUMMARY = ("trust_mean", "trust_sd", "trusting_share")


def _trust_metrics(state: State) -> tuple[dict[str, float], dict[str, float]]:
    """The month's :data:`TRUST_SUMMARY` and :func:`trust_by_group` (reads the state only)."""
    trust, w = state.citizens.trust, state.citizens.weight
    if w is None:
        # The mean as np.std computes it (keepdims), handed to np.std so that it is summed once.
        trust_mean = np.mean(trust, keepdims=True)
        level, spread = float(trust_mean[0]), float(np.std(trust, mean=trust_mean))
    else:
        level = weights.mean(trust, w)
        spread = float(np.sqrt(weights.mean((trust - level) ** 2, w)))
    summary = {"trust_mean": level, "trust_sd": spread,
               "trusting_share": weights.share(trust >= TRUSTING_THRESHOLD, w)}
    return summary, trust_by_group(state)


# Written once per run as ``provinces.csv`` (long format: province, island_group, metric, value):
# the monthly metrics that make sense for one province, read within it, and a few of its own.
_BY_PROVINCE_TOO = ("adoption", "ever_used_connected", "access", "literacy_mean", "awareness", "trust_mean",
                    "office_readiness_mean", "digital_staff_share", "competence_mean")
PROVINCE_METRICS: tuple[Metric, ...] = (
    Metric("citizens_represented", "people", "people the province's citizen agents stand for"),
    Metric("citizen_agents", "count", "citizen agents living in the province"),
    Metric("adoption_urban", "share", "adoption among the province's urban residents"),
    Metric("adoption_rural", "share", "adoption among the province's rural residents"),
    Metric("gap_urban_rural", "share points", "adoption gap, urban minus rural, in the province"),
    Metric("offices", "count", "office agents of the province's regional government"),
    Metric("office_capacity_mean", "[0, 1]", "mean infrastructure capacity of its offices"),
    *(m for m in METRICS if m.name in _BY_PROVINCE_TOO),
)
# Fewer citizen agents than this in a province and its estimates are flagged as noisy, wherever a
# province's figure is shown (the dashboard's province view, the comparison's province section): a
# share's sampling standard deviation at 300 agents is at most sqrt(0.25 / 300), about 3 percentage
# points. Assumption (a reader's tolerance, not a published figure).
FEW_PROVINCE_AGENTS = 300


def _province_mean(values: np.ndarray, groups: np.ndarray, mask: np.ndarray | None = None,
                   weight: np.ndarray | None = None, counts: np.ndarray | None = None) -> np.ndarray:
    """Mean of ``values`` per province code (NaN for a province with nobody in ``mask``).

    The mask is read once (copied): a mask that a rule changes in place, such as ``access``, could
    otherwise change between selecting the values and selecting the groups when a dashboard reads the
    state while its Play thread steps the model, and the two selections would differ in length.
    ``weight``: the citizens' survey weights (None for offices and staff, and in a proportional sample).
    ``counts``: the people per province, where the caller has them already (without a mask only)."""
    k = N_PROVINCES
    if mask is not None:
        keep = np.array(mask, dtype=bool)
        values, groups = values[keep], groups[keep]
        weight = None if weight is None else weight[keep]
    if counts is None or mask is not None:
        counts = weights.group_totals(groups, k, weight)
    sums = weights.group_totals(groups, k, weight, values.astype(np.float64))
    return np.divide(sums, counts, out=np.full(k, np.nan), where=counts > 0)


def province_citizen_columns(state: State) -> dict[str, np.ndarray]:
    """The citizens' side of :data:`PROVINCE_METRICS`, one array over the 38 provinces per metric.

    Kept apart from the offices' side so that the dashboard can read it every month (a dozen counts
    over the citizen arrays) while a run writes the whole table once, at its end; both read the
    province figures from here, so a province's adoption means the same on the page and in the report.
    """
    c, w = state.citizens, state.citizens.weight
    users = c.state == USER
    agents = np.bincount(c.province, minlength=N_PROVINCES).astype(np.float64)
    people = agents if w is None else weights.group_totals(c.province, N_PROVINCES, w)

    def mean(values: np.ndarray) -> np.ndarray:  # over everyone in the province
        return _province_mean(values, c.province, weight=w, counts=people)

    urban, rural = (_province_mean(users, c.province, c.urban, w),
                    _province_mean(users, c.province, ~c.urban, w))
    return {
        "citizens_represented": people * state.people_per_citizen,
        "citizen_agents": agents,
        "adoption": mean(users),
        # as the national figure (observe): among the connected, who has ever used the services
        "ever_used_connected": _province_mean(c.state != NON_USER, c.province, c.access, w),
        "adoption_urban": urban,
        "adoption_rural": rural,
        "gap_urban_rural": urban - rural,
        "access": mean(c.access),
        "literacy_mean": mean(c.literacy),
        "awareness": mean(c.aware),
        "trust_mean": mean(c.trust),
    }


def province_table(state: State) -> pd.DataFrame:
    """The state by province, one row per province x metric of :data:`PROVINCE_METRICS` (NaN where
    a province has no citizens or no offices at this population size)."""
    return pd.DataFrame(province_columns(state))


def province_columns(state: State) -> dict[str, np.ndarray]:
    """:func:`province_table`'s columns (province, island_group, metric, value), one array each.

    A handful of counts over the arrays (no loop over agents): cheap enough to write with every run.
    """
    o, s = state.offices, state.staff
    k = N_PROVINCES
    staff_province = o.province[s.office]
    columns = province_citizen_columns(state) | {
        "offices": np.bincount(o.province, minlength=k).astype(np.float64),
        "office_capacity_mean": _province_mean(o.capacity, o.province),
        "office_readiness_mean": _province_mean(o.readiness, o.province),
        "digital_staff_share": _province_mean(s.digital, staff_province),
        "competence_mean": _province_mean(s.competence, staff_province),
    }
    names = [m.name for m in PROVINCE_METRICS]
    return {
        "province": np.repeat(np.array(PROVINCES, dtype=object), len(names)),
        "island_group": np.repeat(np.array(REGIONS, dtype=object)[PROVINCE_REGION], len(names)),
        "metric": np.tile(np.array(names, dtype=object), k),
        "value": np.column_stack([columns[name] for name in names]).ravel(),
    }


def metrics_markdown() -> str:
    """The table of monthly metrics in docs/metrics.md, generated from :data:`METRICS`."""
    lines = [
        "# Monthly metrics",
        "",
        "Generated from `sim.metrics.METRICS` by `make docs`; one column of",
        "`timeseries.parquet` and one DataCollector variable each. The per-run summary",
        "(`summary.json`, below) holds final values, gaps and totals derived from them.",
        "",
        "| metric | unit | label | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{m.name}` | {m.unit} | {m.label} | {m.description} |" for m in METRICS]
    lines += [
        "",
        "## By province (`provinces.csv`)",
        "",
        "Written once per run, at the end, beside `summary.json`: one row per province x metric",
        "(columns `province`, `island_group`, `metric`, `value`; empty where a province has no",
        "citizens or offices at the run's population size).",
        "",
        "| metric | unit | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{m.name}` | {m.unit} | {m.description} |" for m in PROVINCE_METRICS]
    return "\n".join(lines) + "\n"
