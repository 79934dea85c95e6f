"""What a calibration leaves behind: posterior predictive checks, identification, figures, report.

- ``calibration.json``: one entry per target (``name``, ``year``, ``observed``, ``predicted``,
  ``low``, ``high``, ``held_out``, ``inside``, and the metric, date, error sd and source). ``predicted``
  is the posterior predictive mean of the observation and [low, high] its 90% interval: parameter
  sets drawn from the posterior, one run each, plus the target's normal error, so the interval says
  where the published figure should fall if model and error model are right.
- identification: the posterior's spread against the prior's, per parameter (1 = nothing learnt).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

from experiments.calibration.inference import Simulator  # noqa: E402
from experiments.engine.targets import Target  # noqa: E402
from sim.metrics import METRICS  # noqa: E402
from sim.parameters import Prior  # noqa: E402

LABELS = {m.name: m.description for m in METRICS}


def _series(simulator: Simulator, values: dict[str, float], seed: int, metrics: list[str]) -> pd.DataFrame:
    rows = simulator.series(values, seed)
    return rows[["year", *metrics]].assign(draw=seed)


def predictive_runs(simulator: Simulator, draws: pd.DataFrame, n_jobs: int, seed: int) -> pd.DataFrame:
    """Monthly rows of one run per posterior draw (the target metrics), stacked with a ``draw`` id."""
    metrics = sorted({t.column for t in simulator.targets})
    jobs = (delayed(_series)(simulator, {k: float(v) for k, v in row.items()}, seed * 100_003 + i, metrics)
            for i, row in enumerate(draws.to_dict("records")))
    frames = Parallel(n_jobs=n_jobs)(jobs)
    return pd.concat(frames, ignore_index=True)


def target_checks(targets: list[Target], runs: pd.DataFrame, start_date: str, seed: int) -> list[dict]:
    """Observed against the posterior predictive (mean, 90% interval), for every target."""
    rng = np.random.default_rng(seed)
    out = []
    for t in targets:
        at = np.array([t.value(run[t.column].reset_index(drop=True), start_date)
                       for _, run in runs.groupby("draw", sort=True)])
        observed_like = at + rng.normal(0.0, t.sd, at.size)
        low, high = np.quantile(observed_like, [0.05, 0.95])
        out.append({
            "name": t.name, "year": int(math.floor(t.year)), "date": t.date, "metric": t.metric,
            "service": t.service, "column": t.column,
            "observed": t.observed, "predicted": float(observed_like.mean()),
            "model_mean": float(at.mean()), "low": float(low), "high": float(high), "sd": t.sd,
            "held_out": t.held_out, "inside": bool(low <= t.observed <= high), "source": t.source,
        })
    return out


def _spread(values: np.ndarray, weights: np.ndarray | None, prior: Prior) -> float:
    x = np.log(values) if prior.kind == "loguniform" else values
    mean = np.average(x, weights=weights)
    return float(np.sqrt(np.average((x - mean) ** 2, weights=weights)))


def identification(posterior: pd.DataFrame, priors: dict[str, Prior]) -> pd.DataFrame:
    """Posterior s.d. / prior s.d. per parameter (log scale for log-uniform priors), and the
    posterior median and 90% interval; sorted, best identified first."""
    w = posterior["weight"].to_numpy()
    rows = []
    for key, prior in priors.items():
        values = posterior[key].to_numpy()
        span = (math.log(prior.high) - math.log(prior.low) if prior.kind == "loguniform"
                else prior.high - prior.low)
        order = np.argsort(values)
        cum = np.cumsum(w[order]) / w.sum()
        q = [float(values[order][np.searchsorted(cum, p)]) for p in (0.05, 0.5, 0.95)]
        rows.append({"parameter": key, "sd_ratio": _spread(values, w, prior) / (span / math.sqrt(12)),
                     "median": q[1], "low": q[0], "high": q[2], "prior": prior.describe()})
    return pd.DataFrame(rows).sort_values("sd_ratio", kind="stable").reset_index(drop=True)


def fit_figure(targets: list[Target], runs: pd.DataFrame, checks: list[dict], path: Path) -> Path:
    """One panel per target metric: predictive mean and 90% band over time, published figures with
    their error bars (filled: fitted; open: held out)."""
    metrics = sorted({t.column for t in targets if not t.is_growth})  # growth: in the table
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 4.2), squeeze=False)
    by_month = runs.groupby("draw").cumcount()
    for ax, metric in zip(axes[0], metrics, strict=True):
        grouped = runs.assign(m=by_month).groupby("m")
        year = grouped["year"].first()
        band = grouped[metric].quantile([0.05, 0.95]).unstack()
        ax.fill_between(year, band[0.05] * 100, band[0.95] * 100, color="#9ecae1", alpha=0.6,
                        label="90% of posterior runs")
        ax.plot(year, grouped[metric].mean() * 100, color="#08519c", label="posterior mean")
        for c in (c for c in checks if c.get("column", c["metric"]) == metric):
            t = next(t for t in targets if t.name == c["name"])
            ax.errorbar(t.year, t.observed * 100, yerr=1.645 * t.sd * 100, fmt="o", capsize=3,
                        color="#d62728", mfc="white" if t.held_out else "#d62728",
                        label="held out" if t.held_out else "fitted")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8, loc="lower right")
        ax.set_title(_title(metric)[:60], fontsize=9)
        ax.set_xlabel("year")
        ax.set_ylabel("%")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    fig.suptitle("Calibration: published figures against the posterior predictive")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _title(column: str) -> str:
    """A panel's title: the metric's description, or ``<service>: <column>`` for a service column."""
    service, _, metric = column.rpartition(".")
    return f"{service}: {metric.replace('_', ' ')}" if service else LABELS.get(column, column)


def marginals_figure(posterior: pd.DataFrame, ident: pd.DataFrame, priors: dict[str, Prior],
                     path: Path, k: int = 8) -> Path:
    """Posterior histograms of the ``k`` best identified parameters over their prior range."""
    top = ident["parameter"].head(k).tolist()
    cols = 4
    rows = math.ceil(len(top) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.6 * rows), squeeze=False)
    for ax, key in zip(axes.flat, top, strict=False):
        prior = priors[key]
        bins = (np.geomspace(prior.low, prior.high, 16) if prior.kind == "loguniform"
                else np.linspace(prior.low, prior.high, 16))
        ax.hist(posterior[key], bins=bins, weights=posterior["weight"], color="#6baed6")
        ax.axhline(1 / 15, color="grey", ls="--", lw=1)
        if prior.kind == "loguniform":
            ax.set_xscale("log")
        ax.set_title(key.split(".", 1)[-1], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(top):]:
        ax.axis("off")
    fig.suptitle("Posterior of the best identified parameters (dashed: flat prior)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report_blocks(checks: list[dict], ident: pd.DataFrame, record: dict[str, Any],
                  setup: dict[str, Any], figures: list[tuple[Path, str]]) -> list[tuple]:
    fitted = [c for c in checks if not c["held_out"]]
    held = [c for c in checks if c["held_out"]]

    def rows(items: list[dict]) -> list[list[str]]:
        return [[c["name"], c["date"], f"{c['observed']:.1%}", f"{c['predicted']:.1%}",
                 f"{c['low']:.1%} - {c['high']:.1%}", "yes" if c["inside"] else "NO"] for c in items]

    header = ["target", "date", "observed", "predicted", "90% interval", "inside"]
    gens = record["generations"]
    method = ("ABC rejection (prior draws kept when their standardised misfit is within the error "
              "model's bound; the same seed gives the same posterior)" if record.get("method") == "rejection"
              else "ABC-SMC (pyabc)")
    if record.get("stopped_by") not in (None, "accepted"):
        method += (f", stopped by {record['stopped_by']} with {record.get('effective_sample_size', 0):.0f} "
                   "draws kept, fewer than asked for")
    blocks: list[tuple] = [
        ("h1", "Calibration against Indonesian data"),
        ("p", f"{method} over {len(ident)} uncertain parameters; "
              f"{len(record.get('marginalised', []))} others drawn from their priors in every "
              "simulation (marginalised: their posterior is their prior). "
              f"Effective sample size of the last generation: {record.get('effective_sample_size', 0):.0f}. "
              f"{setup['n_citizens']:,} citizens from {setup['start_date']}, {len(gens)} generations, "
              f"{sum(g['simulations'] for g in gens):,} simulations, wall time {setup['wall_time']}. "
              f"Fitted: {len(fitted)} targets dated up to 2023; held out: {len(held)} targets dated "
              "2024-2025, never used in fitting."),
        ("h2", "Fitted targets (to 2023)"), ("table", header, rows(fitted)),
        ("h2", "Held out (2024-2025): out-of-sample test"), ("table", header, rows(held)),
        ("p", f"{sum(c['inside'] for c in held)} of {len(held)} held-out figures fall inside the 90% "
              "posterior predictive interval."),
    ]
    blocks += [("fig", path, caption) for path, caption in figures]
    top = ident.head(5)
    bottom = ident.tail(5)

    def irows(frame: pd.DataFrame) -> list[list[str]]:
        return [[r.parameter, f"{r.sd_ratio:.2f}", f"{r.median:.4g} [{r.low:.4g}, {r.high:.4g}]", r.prior]
                for r in frame.itertuples()]

    iheader = ["parameter", "posterior sd / prior sd", "median [90%]", "prior"]
    blocks += [
        ("h2", "What the data identify"),
        ("p", "Posterior s.d. over prior s.d. per parameter: 1 means the data taught nothing about it."),
        ("h3", "Most identified"), ("table", iheader, irows(top)),
        ("h3", "Least identified"), ("table", iheader, irows(bottom)),
        ("h2", "Generations"),
        ("table", ["generation", "tolerance", "simulations", "acceptance"],
         [[g["generation"], f"{g['epsilon']:.3g}", g["simulations"],
           f"{g['acceptance_rate']:.1%}" if g["acceptance_rate"] else "-"] for g in gens]),
        ("h2", "Sources and error model"),
        ("ul", [f"{c['name']} ({c['date']}, sd {c['sd']:.3f}): {c['source']}" for c in checks]),
    ]
    return blocks
