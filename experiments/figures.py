"""Figures of the policy comparison and the budget frontier (matplotlib, Agg backend, PNG files).

Every function takes the tables of :mod:`experiments.aggregate`, writes one PNG and returns its path.
Bands and error bars are 95 % confidence intervals across seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.aggregate import bands  # noqa: E402
from sim.config import AGE_BANDS, REGIONS  # noqa: E402
from sim.metrics import AGE_KEYS, REGION_KEYS  # noqa: E402
from sim.results import atomic_path  # noqa: E402

DPI = 110

GAP_LABELS = {
    "gap_urban_rural": "urban - rural",
    "gap_income_q5_q1": "richest - poorest quintile",
    "gap_region_max_min": "island groups (max - min)",
    "gap_age_young_old": "youngest - oldest age band",
    "gap_literacy_t3_t1": "literacy: top - bottom tercile",
    "concentration_index": "concentration index (income)",
}


def group_columns() -> list[tuple[str, str, str]]:
    """(dimension, label, summary column) of every group in the adoption-by-group heatmap."""
    cols = [("area", "urban", "adoption_urban_final"), ("area", "rural", "adoption_rural_final")]
    cols += [("island group", name, f"adoption_{key}_final") for name, key in zip(REGIONS, REGION_KEYS,
                                                                                   strict=True)]
    quintile_names = ["Q1 poorest", "Q2", "Q3", "Q4", "Q5 richest"]
    cols += [("income", name, f"adoption_q{q}_final") for q, name in enumerate(quintile_names, start=1)]
    cols += [("age", f"age {band}", f"adoption_{key}_final") for band, key in zip(AGE_BANDS, AGE_KEYS,
                                                                                  strict=True)]
    return cols


def scenario_colors(scenarios: Sequence[str], baseline: str | None = None) -> dict[str, tuple]:
    """A fixed colour per scenario (the baseline black), the same in every figure."""
    cmap = plt.get_cmap("tab10")
    others = [s for s in scenarios if s != baseline]
    colors = {s: cmap(i % 10) for i, s in enumerate(others)}
    if baseline is not None:
        colors[baseline] = (0.0, 0.0, 0.0, 1.0)
    return colors


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def _percent_axis(ax: plt.Axes, axis: str = "y") -> None:
    fmt = matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def over_time(tidy: pd.DataFrame, metric: str, order: Sequence[str], colors: dict, path: Path,
              title: str, ylabel: str, percent: bool = True) -> Path:
    """Mean of a monthly metric per scenario with its 95 % band; legend sorted by the final value."""
    b = bands(tidy, metric)
    last = b[b["month"] == b["month"].max()].set_index("scenario")["mean"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for s in sorted(order, key=lambda s: -last.get(s, -np.inf)):
        d = b[b["scenario"] == s]
        if d.empty:
            continue
        ax.plot(d["month"], d["mean"], color=colors[s], lw=1.8, label=f"{s} ({last[s]:.1%})" if percent
                else f"{s} ({last[s]:.3f})")
        ax.fill_between(d["month"], d["ci_low"], d["ci_high"], color=colors[s], alpha=0.15, lw=0)
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if percent:
        _percent_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, title="final value")
    return _save(fig, path)


def group_heatmap(summary: pd.DataFrame, path: Path) -> Path:
    """Final adoption by group (columns) per scenario (rows), mean across seeds, annotated."""
    cols = [c for c in group_columns() if f"{c[2]}_mean" in summary.columns]
    data = summary[[f"{c[2]}_mean" for c in cols]].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * len(cols), 1.4 + 0.42 * len(summary)))
    im = ax.imshow(data, cmap="viridis", vmin=0.0, vmax=max(1e-9, float(np.nanmax(data))), aspect="auto")
    ax.set_xticks(range(len(cols)), [c[1] for c in cols], rotation=50, ha="right")
    ax.set_yticks(range(len(summary)), summary["scenario"])
    mid = np.nanmean(data)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                ax.text(j, i, f"{data[i, j]:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if data[i, j] < mid else "black")
    dims = [c[0] for c in cols]
    for j in range(1, len(dims)):
        if dims[j] != dims[j - 1]:
            ax.axvline(j - 0.5, color="white", lw=2.5)
    ax.set_title("Final adoption by group (mean across seeds)")
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01, format=matplotlib.ticker.PercentFormatter(1.0, 0))
    return _save(fig, path)


def _hbar_ci(ax: plt.Axes, summary: pd.DataFrame, metric: str, colors: dict, scale: float = 1.0) -> None:
    y = np.arange(len(summary))
    mean = summary[f"{metric}_mean"].to_numpy(dtype=float) * scale
    low = summary[f"{metric}_ci_low"].to_numpy(dtype=float) * scale
    high = summary[f"{metric}_ci_high"].to_numpy(dtype=float) * scale
    err = np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])
    ax.barh(y, mean, color=[colors[s] for s in summary["scenario"]], alpha=0.8)
    ax.errorbar(mean, y, xerr=err, fmt="none", ecolor="0.2", capsize=3, lw=1)
    ax.set_yticks(y, summary["scenario"])
    ax.invert_yaxis()
    ax.axvline(0, color="0.4", lw=0.8)
    ax.grid(axis="x", alpha=0.3)


def equity_gaps(summary: pd.DataFrame, gaps: Sequence[str], colors: dict, baseline: str, path: Path) -> Path:
    """Each equity gap per scenario (mean and 95 % CI), with the baseline's value as a dashed line."""
    gaps = [g for g in gaps if f"{g}_mean" in summary.columns]
    ncols = 3
    nrows = int(np.ceil(len(gaps) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 0.35 * len(summary) * nrows + 1.5 * nrows),
                             squeeze=False)
    base = summary.set_index("scenario")
    for ax, gap in zip(axes.flat, gaps, strict=False):
        _hbar_ci(ax, summary, gap, colors)
        if baseline in base.index:
            ax.axvline(base.loc[baseline, f"{gap}_mean"], color="k", ls="--", lw=1)
        ax.set_title(GAP_LABELS.get(gap, gap), fontsize=10)
    for ax in list(axes.flat)[len(gaps):]:
        ax.axis("off")
    fig.suptitle("Equity gaps at the end of the horizon (adoption share difference; 95% CI; "
                 "dashed: baseline)", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def cost_effectiveness(summary: pd.DataFrame, baseline: str, colors: dict, path: Path) -> Path:
    """Left: additional adopters per IDR bn against the baseline. Right: adopters gained (millions) vs
    change of the urban-rural gap, both with 95 % CIs (the adoption-equity trade-off)."""
    s = summary[summary["scenario"] != baseline].reset_index(drop=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 0.38 * len(s) + 2.2))
    if s.empty:
        ax1.text(0.5, 0.5, "no scenario besides the baseline", ha="center", transform=ax1.transAxes)
        return _save(fig, path)
    s = s.sort_values("additional_adopters_per_idr_bn_mean", ascending=False, kind="stable")
    _hbar_ci(ax1, s.reset_index(drop=True), "additional_adopters_per_idr_bn", colors)
    ax1.set_xlabel("additional adopters per IDR bn spent (people)")
    ax1.set_title(f"Cost-effectiveness against {baseline}")
    for _, r in s.iterrows():
        x, y = r["additional_adopters_mean"] / 1e6, r["gap_urban_rural_change_mean"] * 100
        xerr = [[x - r["additional_adopters_ci_low"] / 1e6], [r["additional_adopters_ci_high"] / 1e6 - x]]
        yerr = [[y - r["gap_urban_rural_change_ci_low"] * 100],
                [r["gap_urban_rural_change_ci_high"] * 100 - y]]
        ax2.errorbar(x, y, xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), fmt="o",
                     color=colors[r["scenario"]], capsize=3)
        ax2.annotate(r["scenario"], (x, y), xytext=(5, 4), textcoords="offset points", fontsize=8)
    ax2.axhline(0, color="0.4", lw=0.8)
    ax2.axvline(0, color="0.4", lw=0.8)
    ax2.set_xlabel(f"additional adopters against {baseline} (million people)")
    ax2.set_ylabel("change of urban - rural gap (percentage points)")
    ax2.set_title("Who gains: adopters vs the urban-rural gap (below 0: gap narrows)")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def frontier(table: pd.DataFrame, objective: str, equity_metrics: Sequence[str], path: Path,
             objective_label: str = "final adoption") -> Path:
    """Objective (top) and equity gaps (bottom) against the first lever's share, per pair, with 95 %
    bands; the best split is marked, with the 95 % bootstrap range of the best share shaded."""
    curves = table[table["pair"] != "reference"]
    ref = table[table["pair"] == "reference"]
    pairs = list(dict.fromkeys(curves["pair"]))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 9), sharex=True)
    styles = ["-", "--", ":", "-."]
    cmap = plt.get_cmap("tab10")
    percent = objective.startswith(("adoption", "digital", "trust_mean")) and "change" not in objective
    for k, pair in enumerate(pairs):
        d = curves[curves["pair"] == pair].sort_values("share_a")
        x = d["share_a"].to_numpy(dtype=float)
        color = cmap(k)
        ax1.plot(x, d[f"{objective}_mean"], "o-", color=color, label=pair, ms=4)
        ax1.fill_between(x, d[f"{objective}_ci_low"], d[f"{objective}_ci_high"], color=color, alpha=0.18,
                         lw=0)
        best = d[d["is_best"].astype(bool)]
        if not best.empty:
            b = best.iloc[0]
            ax1.plot(b["share_a"], b[f"{objective}_mean"], "*", color=color, ms=16, mec="k",
                     label=f"best split: {b['share_a']:.0%} {b['lever_a']}")
            lo, hi = b["best_share_ci_low"], b["best_share_ci_high"]
            if np.isfinite(lo) and np.isfinite(hi):
                ax1.axvspan(lo - 0.01, hi + 0.01, color=color, alpha=0.08,
                            label=f"95% range of the best share: {lo:.0%}-{hi:.0%}")
            ax2.axvline(b["share_a"], color=color, ls="--", lw=1)
        for j, gap in enumerate(equity_metrics):
            if f"{gap}_mean" not in d:
                continue
            gcolor = cmap((j + 3) % 10)
            label = GAP_LABELS.get(gap, gap) + (f" ({pair})" if len(pairs) > 1 else "")
            ax2.plot(x, d[f"{gap}_mean"], styles[k % 4], marker="o", color=gcolor, ms=3, label=label)
            ax2.fill_between(x, d[f"{gap}_ci_low"], d[f"{gap}_ci_high"], color=gcolor, alpha=0.15, lw=0)
    if not ref.empty:
        r = ref.iloc[0]
        ax1.axhline(r[f"{objective}_mean"], color="k", ls="--", lw=1, label="no extra spending")
        ax1.axhspan(r[f"{objective}_ci_low"], r[f"{objective}_ci_high"], color="k", alpha=0.06)
    lever_a = curves["lever_a"].iloc[0] if len(pairs) == 1 else "first lever"
    lever_b = curves["lever_b"].iloc[0] if len(pairs) == 1 else "second lever"
    ax1.set_ylabel(objective_label)
    ax1.set_title(f"Budget frontier: share of one budget on {lever_a} (rest on {lever_b}); 95% bands")
    ax2.set_ylabel("equity gap (adoption share difference)")
    ax2.set_xlabel(f"share of the budget on {lever_a}")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="best")
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, 0))
    if percent:
        _percent_axis(ax1)
    fig.tight_layout()
    return _save(fig, path)
