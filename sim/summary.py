"""The per-run summary (``summary.json``): every output declared once, beside :func:`summarise`.

Each output has a name, unit, short label (table headers, axes, the command line, the dashboard),
a description (sentences and the docs), the range it lies in and its kind. The final values, group
shares and gaps are derived from the monthly declarations in :mod:`sim.metrics`, so a new group or
gap appears here without a second list. Tables, reports, figures and the dashboard read labels, units
and bounds from the helpers below (:func:`label`, :func:`unit`, :func:`bounds`, :func:`is_share`),
which also answer for the names derived from a summary output -- a paired effect against a reference
scenario (``<metric>_change``, ``adoption_change``, ``additional_adopters``, ``..._per_idr_bn``) -- and
for the monthly metrics (delegated to :mod:`sim.metrics`).

Two kinds of change never share a suffix: a run's own change over its months ends in ``_in_run``
(``trust_mean_change_in_run``); ``_change`` is always a paired effect of one scenario against another.

``summary.json`` also carries the run's identity (policy, seed, ...) and provenance (config hash,
versions, checksums); they are declared apart (:data:`IDENTITY`, :data:`PROVENANCE`) and are never
metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import metrics
from sim.names import LEVERS

KINDS = ("level", "share", "gap", "index", "change", "count", "money", "time", "effect")


@dataclass(frozen=True)
class Output:
    """One per-run output (or a quantity derived from them): what it is called, in what unit it is
    measured, how a reader sees it, and the range it lies in (None: unbounded)."""

    name: str
    unit: str
    label: str
    description: str
    bounds: tuple[float, float] | None
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")


def _kind(unit: str) -> str:
    return {"share": "share", "share points": "gap", "trust points": "gap", "[-1, 1]": "index"}.get(
        unit, "level")


def _final(name: str, label: str | None = None) -> Output:
    """The value of a monthly metric in the run's last month."""
    m = metrics.metric(name)
    return Output(f"{name}_final", m.unit, label or f"{m.words} at the end",
                  f"{m.description}, in the last month", metrics.bounds(name), _kind(m.unit))


def _last(name: str, description: str | None = None) -> Output:
    """A monthly metric (a gap or an index) reported under its own name, in the run's last month."""
    m = metrics.metric(name)
    return Output(name, m.unit, m.words, description or m.description, metrics.bounds(name), _kind(m.unit))


# Final values in the order summarise() writes them; the group shares and gaps follow from sim.metrics.
_FINAL_LABELS = {"adoption": "final adoption", "trust_mean": "final mean trust",
                 "ever_used_connected": "ever used, share of connected people"}
_FINALS = ("adoption", "ever_used_connected", "trust_mean", "trust_sd", "digital_staff_share",
           "resistance_mean", "competence_mean", "awareness", "access", "literacy_mean", "usability",
           "success_rate", "digital_transaction_share")

OUTPUTS: tuple[Output, ...] = (
    Output("adoption_initial", "share", "adoption at the forecast start",
           "citizens who use the digital services when the policy begins (policy.start_date; month 0 "
           "when it is null)", metrics.bounds("adoption"), "share"),
    *(_final(name, _FINAL_LABELS.get(name)) for name in _FINALS),
    Output("months_to_25pct", "months", "months to 25% adoption",
           "months after the forecast start until adoption first reached 25% (0: already there; "
           "empty: never)", None, "time"),
    Output("months_to_50pct", "months", "months to 50% adoption",
           "months after the forecast start until adoption first reached 50% (0: already there; "
           "empty: never)", None, "time"),
    Output("trust_sd_initial", "[0, 1]", "spread of trust at the forecast start",
           "standard deviation of trust across citizens when the policy begins",
           metrics.bounds("trust_sd"), "level"),
    Output("trust_mean_change_in_run", "trust points", "change of mean trust during the forecast",
           "mean trust in the last month minus mean trust at the forecast start (this run's own "
           "change, not an effect against another scenario)", (-1.0, 1.0), "change"),
    Output("citizen_hours_million_total", "million hours", "citizen hours (million)",
           "hours citizens spent on services over the forecast", None, "count"),
    Output("breaches_total", "count", "data breaches", "data breaches over the forecast", None, "count"),
    Output("cost_idr_bn", "IDR bn", "spent over the run (IDR bn)", "spent on all levers over the run",
           None, "money"),
    *(Output(f"cost_{lever}_idr_bn", "IDR bn", f"spent on {lever} (IDR bn)", f"spent on {lever} over the run",
             None, "money") for lever in LEVERS),
    *(_final(f"adoption_{g.key}") for g in metrics.GROUPS),
    *(_final(f"trust_{g.key}") for g in metrics.GROUPS),
    *(_last(f"gap_{g.key}") for g in metrics.GAPS),
    _last("concentration_index", "concentration index of adoption over income (> 0: richer)"),
    *(_last(f"gap_trust_{g.key}") for g in metrics.GAPS),
)

# Computed by the tables from a run's summary and its config, not written by the run itself.
DERIVED: tuple[Output, ...] = (
    Output("budget_spent_share", "share", "share of the budget spent",
           "spent over the run divided by what the policy could spend", (0.0, 1.0), "share"),
)

# Who a run is: written into summary.json by the model, the key of every table row.
IDENTITY: tuple[Output, ...] = (
    Output("policy", "name", "scenario", "the policy scenario (configs/policy/<name>.yaml)", None, "level"),
    Output("population", "name", "population profile", "the population profile", None, "level"),
    Output("network", "name", "social network", "the kind of social network", None, "level"),
    Output("seed", "integer", "seed", "the run's random seed", None, "level"),
    Output("n_citizens", "count", "citizen agents", "citizen agents simulated", None, "count"),
    Output("months", "months", "months simulated", "months the run lasted", None, "time"),
    Output("forecast_from_month", "month", "forecast from month", "the model month the summary starts "
           "from: policy.start_date (the months before it are the shared history)", None, "time"),
)
# Where a run came from (sim.store.provenance, sim.store.files): text, never a metric.
PROVENANCE: dict[str, str] = {
    "config_hash": "SHA-256 of the resolved config (the run's identity on disk)",
    "code_version": "git commit of the code (with a dirty flag) or the package version",
    "python_version": "Python version",
    "numpy_version": "numpy version",
    "mesa_version": "Mesa version",
    "timeseries_sha256": "SHA-256 of timeseries.parquet",
    "provinces_sha256": "SHA-256 of provinces.csv",
    "services_sha256": "SHA-256 of services.csv (a portfolio of services only)",
    "summary_sha256": "SHA-256 of summary.json without this field",
}
PROVENANCE_FIELDS: tuple[str, ...] = tuple(PROVENANCE)
IDENTITY_FIELDS: tuple[str, ...] = tuple(o.name for o in IDENTITY)

SUMMARY_METRICS: tuple[str, ...] = tuple(o.name for o in OUTPUTS)
GAP_METRICS: tuple[str, ...] = (*(f"gap_{g.key}" for g in metrics.GAPS), "concentration_index")
# Final adoption of each group, in the order of sim.metrics.GROUPS.
GROUP_METRICS: tuple[str, ...] = tuple(f"adoption_{g.key}_final" for g in metrics.GROUPS)
_BY_NAME: dict[str, Output] = {o.name: o for o in (*OUTPUTS, *DERIVED)}

# Paired effects against a reference scenario (experiments.engine.stats.paired_effects).
CHANGE, PER_BN = "_change", "_per_idr_bn"
_EFFECTS: dict[str, Output] = {o.name: o for o in (
    Output("adoption_change", "share points", "change of final adoption",
           "final adoption minus the reference scenario's, paired by seed", (-1.0, 1.0), "effect"),
    Output("additional_adopters", "people", "additional adopters",
           "change of final adoption times the population the agents stand for", None, "effect"),
)}
_CHANGE_UNITS = {"share": "share points", "[0, 1]": "points", "index [0, 1]": "points", "[-1, 1]": "points"}


def _effect(name: str) -> Output | None:
    """The declaration of a paired effect, derived from the output it is a change of."""
    if name in _EFFECTS:
        return _EFFECTS[name]
    if name.endswith(PER_BN):
        inner = summary_output(name.removesuffix(PER_BN))
        return Output(name, f"{inner.unit} per IDR bn", f"{inner.label} per IDR bn",
                      f"{inner.description}, per IDR bn spent", None, "effect")
    if name.endswith(CHANGE):
        inner = summary_output(name.removesuffix(CHANGE))
        lo_hi = None if inner.bounds is None else (inner.bounds[0] - inner.bounds[1],
                                                   inner.bounds[1] - inner.bounds[0])
        return Output(name, _CHANGE_UNITS.get(inner.unit, inner.unit), f"change of {inner.label}",
                      f"{inner.description}: minus the reference scenario's, paired by seed", lo_hi, "effect")
    return None


def summary_output(name: str) -> Output:
    """The declaration of a per-run output, a derived quantity, a paired effect or a monthly metric.

    A change is the difference of two values in [lo, hi], so it lies in [lo - hi, hi - lo]."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    effect = _effect(name)
    if effect is not None:
        return effect
    if name in metrics.METRIC_NAMES:
        m = metrics.metric(name)
        return Output(name, m.unit, m.words, m.description, metrics.bounds(name), _kind(m.unit))
    raise KeyError(f"{name!r} is not a declared output (sim.summary.OUTPUTS, sim.metrics.METRICS) "
                   "or a paired effect of one")


def label(name: str) -> str:
    """An output in words, short enough for a table header, an axis or a legend."""
    return summary_output(name).label


def description(name: str) -> str:
    """An output in the words a sentence uses."""
    return summary_output(name).description


def unit(name: str) -> str:
    return summary_output(name).unit


def bounds(name: str) -> tuple[float, float] | None:
    """The range an output lies in, or None when it is unbounded (counts, costs, months, per IDR bn)."""
    return summary_output(name).bounds


def is_share(name: str) -> bool:
    """Whether an output is a share or a difference of shares, shown in percent or percentage points."""
    return summary_output(name).unit in metrics.SHARE_UNITS


def is_metric(name: str) -> bool:
    """Whether a column of a run table is a declared per-run metric (or derived from one)."""
    return name in _BY_NAME


# --------------------------------------------------------------------------- computing the summary
def months_to(series: np.ndarray, months: np.ndarray, level: float) -> float | None:
    """First month at which ``series`` reaches ``level`` (None if never)."""
    hit = np.flatnonzero(series >= level)
    return float(months[hit[0]]) if hit.size else None


def summarise(rows: list[dict[str, float]], start: int = 0) -> dict[str, float | None]:
    """The per-run summary of a run's monthly rows from month ``start`` (the forecast start) on: one
    value for each of :data:`OUTPUTS`. Sums (hours, breaches, money) cover those months; times count
    from ``start``. A run that ends before ``start`` is summarised over all its months."""
    rows = rows[start:] if start < len(rows) else rows
    first, last = rows[0], rows[-1]
    # Row m holds the flows of the month that ends in it, so the forecast's flows are in the rows after
    # its first (row 0 of a run has none).
    flows = rows[1:]
    adoption = np.array([r["adoption"] for r in rows])
    months = np.array([r["month"] for r in rows]) - first["month"]
    summary: dict[str, float | None] = {
        "adoption_initial": first["adoption"],
        **{f"{name}_final": last[name] for name in _FINALS},
        "months_to_25pct": months_to(adoption, months, 0.25),
        "months_to_50pct": months_to(adoption, months, 0.50),
        "trust_sd_initial": first["trust_sd"],
        "trust_mean_change_in_run": last["trust_mean"] - first["trust_mean"],
        "citizen_hours_million_total": float(sum(r["citizen_hours_million"] for r in flows)),
        "breaches_total": last["breaches_cumulative"] - first["breaches_cumulative"],
        "cost_idr_bn": float(sum(r["spend_total_idr_bn"] for r in flows)),
    }
    for lever in LEVERS:
        summary[f"cost_{lever}_idr_bn"] = float(sum(r[f"spend_{lever}_idr_bn"] for r in flows))
    for g in metrics.GROUPS:
        summary[f"adoption_{g.key}_final"] = last[f"adoption_{g.key}"]
    for g in metrics.GROUPS:
        summary[f"trust_{g.key}_final"] = last[f"trust_{g.key}"]
    for name in (*GAP_METRICS, *(f"gap_trust_{g.key}" for g in metrics.GAPS)):
        summary[name] = last[name]
    return summary


def summary_markdown() -> str:
    """The table of per-run outputs in docs/metrics.md, generated from :data:`OUTPUTS`."""
    def rng(b: tuple[float, float] | None) -> str:
        return "" if b is None else f"[{b[0]:g}, {b[1]:g}]"

    lines = [
        "## Per run (`summary.json`)",
        "",
        "Generated from `sim.summary.OUTPUTS`: one value per run, one column of `run_summaries.csv`",
        "and `<name>_mean`, `_p05`, `_p95` (5%-95% range across runs: calibrated worlds) and `_mc_se`",
        "(Monte Carlo error of the mean) in `scenario_summary.csv` (the frontier's `frontier.csv`:",
        "`_mean`, `_ci_low`, `_ci_high`). A paired effect of a scenario against the baseline is",
        "`<name>_change` (`adoption_change` for final adoption), per IDR bn spent",
        "`<name>_change_per_idr_bn`; a run's own change ends in `_in_run`.",
        "",
        "| output | kind | unit | range | label | meaning |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| `{o.name}` | {o.kind} | {o.unit} | {rng(o.bounds)} | {o.label} | {o.description} |"
              for o in (*OUTPUTS, *DERIVED, *_EFFECTS.values())]
    lines += [
        "",
        "Identity and provenance fields of `summary.json` (not metrics): "
        + ", ".join(f"`{o.name}`" for o in IDENTITY) + "; "
        + "; ".join(f"`{k}` ({v})" for k, v in PROVENANCE.items()) + ".",
    ]
    return "\n".join(lines) + "\n"


def outputs_markdown() -> str:
    """docs/metrics.md: the monthly, by-province and per-run outputs."""
    return metrics.metrics_markdown() + "\n" + summary_markdown()
