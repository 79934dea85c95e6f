"""The policy comparison's figures: adoption, trust and staff over time, adoption by group, equity
gaps and cost-effectiveness.

Every interval drawn is the 5 %-95 % range across runs (across calibrated worlds; across seeds under
``uncertainty=none``), the same range the tables give (``_p05``/``_p95``), never a confidence interval of a
mean; ``spread`` names it in the captions (:func:`experiments.engine.render.range_name`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.engine.plots import (
    BASELINE_COLOR,
    hbar,
    percent_scale,
    save_figure,
    scenario_colors,
    spread_labels,
)
from experiments.engine.render import (  # noqa: E402
    estimate,
    group_columns,
    metric_label,
    pp,
    scenario_label,
    stat,
)
from experiments.engine.stats import bands, change_column, paired_bands  # noqa: E402
from experiments.engine.targets import Target  # noqa: E402
from sim.rules.trends import decimal_year  # noqa: E402
from sim.summary import bounds, is_share  # noqa: E402


def _change_text(row: pd.Series, metric: str) -> str:
    """The paired change of ``metric`` in a row of a table, as the report writes it."""
    mean, low, high = stat(row, change_column(metric))
    if is_share(metric):
        return pp(mean, low, high)
    return estimate(mean, low, high, sign=True, decimals=3)


# --------------------------------------------------------------------------- over time
@dataclass(frozen=True)
class Timeline:
    """Calendar time of the runs: the year of month 0, the month the policies begin, and the
    published figures per monthly metric (:mod:`experiments.engine.targets`)."""

    start_year: float
    policy_month: int
    observed: dict[str, tuple[Target, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "year" if self.start_year else "month"

    def axis(self, months: pd.Series) -> np.ndarray:
        """Months as calendar years (or months when the calendar is unknown)."""
        months = np.asarray(months, dtype=float)
        return self.start_year + months / 12 if self.start_year else months

    def mark(self, ax) -> None:
        """Calendar ticks (``2025`` or ``2025-07``), and a dashed line where the policies begin (none
        when they begin at month 0)."""
        if self.start_year:
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_calendar_tick))
        if self.policy_month > 0:
            ax.axvline(float(self.axis(pd.Series([self.policy_month]))[0]), color="0.3", ls="--", lw=1)


def _calendar_tick(year: float, _position: int) -> str:
    month = round((year - np.floor(year)) * 12)
    whole, month = (int(np.floor(year)) + 1, 0) if month == 12 else (int(np.floor(year)), month)
    return f"{whole}" if month == 0 else f"{whole}-{month + 1:02d}"


def timeline_of(start_date: str, policy_month: int, targets: Sequence[Target]) -> Timeline:
    """The timeline of runs starting at ``start_date`` (level targets only: a growth target has no
    point on a level axis)."""
    observed: dict[str, list[Target]] = {}
    for t in targets:
        if not t.is_growth:
            observed.setdefault(t.metric, []).append(t)
    return Timeline(decimal_year(start_date), policy_month, {k: tuple(v) for k, v in observed.items()})



def over_time(tidy: pd.DataFrame, summary: pd.DataFrame, metric: str, scenarios: Sequence[str],
              baseline: str, colors: dict, path: Path, title: str, spread: str,
              timeline: Timeline | None = None) -> Path:
    """Small multiples in calendar time: the baseline's level over the history and the forecast (mean
    and 5 %-95 % range across runs, month by month; axis over the whole range), with the published
    figures of this measure (filled: fitted by the calibration; open: held out) and a line where the
    policies begin; then one panel per scenario with its paired difference from the baseline over the
    forecast (mean and 5 %-95 % range of the per-seed differences; a shared axis, so panels compare).
    Panels from the largest final effect down; each titled with the final effect and its range, as in
    the tables."""
    timeline = timeline or Timeline(0.0, 0)
    scale = percent_scale(metric)
    unit = "percentage points" if scale == 100 else "points"
    final = f"{metric}_final"
    rows = summary.set_index("scenario")
    others = [s for s in scenarios if s != baseline and s in rows.index]
    others.sort(key=lambda s: -np.nan_to_num(rows.loc[s, f"{change_column(final)}_mean"], nan=-np.inf))
    diff = paired_bands(tidy, metric, baseline)
    ncols = 4
    nrows = int(np.ceil((len(others) + 1) / ncols))
    fig = plt.figure(figsize=(3.6 * ncols, 2.7 * nrows + 0.8))
    grid = fig.add_gridspec(nrows, ncols)
    level = bands(tidy[tidy["scenario"] == baseline], metric)
    x = timeline.axis(level["month"])
    ax0 = fig.add_subplot(grid[0, 0])
    ax0.fill_between(x, level["p05"] * scale, level["p95"] * scale, color="0.6", alpha=0.35, lw=0)
    ax0.plot(x, level["mean"] * scale, color=BASELINE_COLOR, lw=2)
    timeline.mark(ax0)
    for point in timeline.observed.get(metric, ()):
        ax0.errorbar(point.year, point.observed * scale, yerr=1.645 * point.sd * scale, fmt="o",
                     ms=4, capsize=2, color="#d62728", mfc="white" if point.held_out else "#d62728",
                     zorder=5)
    lo, hi = bounds(metric) or (np.nanmin(level["p05"]), np.nanmax(level["p95"]))
    ax0.set_ylim(lo * scale, hi * scale)
    if scale == 100:
        ax0.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(100.0, decimals=0))
    level_text = estimate(*stat(rows.loc[baseline], final), scale=scale, unit="%" if scale == 100 else "",
                          unit_each=True, decimals=3)
    ax0.set_title(f"{scenario_label(baseline)} (level)\nfinal {level_text}", fontsize=9)
    ax0.set_xlabel(timeline.label, fontsize=8)
    ax0.grid(alpha=0.3)
    diff = diff[diff["month"] >= timeline.policy_month]  # the history is shared: no difference
    d = diff[diff["scenario"].isin(others)]
    values = d[["p05", "p95", "mean"]].to_numpy(dtype=float) * scale
    top = max(float(np.nanmax(values, initial=0.0)), 0.0)
    bottom = min(float(np.nanmin(values, initial=0.0)), 0.0)
    pad = 0.08 * (top - bottom) or 1.0
    shared = None
    for k, s in enumerate(others, start=1):
        ax = fig.add_subplot(grid[k // ncols, k % ncols], sharey=shared)
        shared = shared or ax
        e = diff[diff["scenario"] == s]
        ax.axhline(0, color=BASELINE_COLOR, lw=1, zorder=1)
        ex = timeline.axis(e["month"])
        ax.fill_between(ex, e["p05"] * scale, e["p95"] * scale, color=colors[s], alpha=0.3, lw=0)
        ax.plot(ex, e["mean"] * scale, color=colors[s], lw=1.8)
        timeline.mark(ax)
        ax.set_ylim(bottom - pad, top + pad)
        ax.set_title(f"{scenario_label(s)}\nfinal {_change_text(rows.loc[s], final)}", fontsize=9)
        ax.grid(alpha=0.3)
        if k % ncols == 0 or k == 1:
            ax.set_ylabel(f"minus {scenario_label(baseline)}\n({unit})", fontsize=8)
        if k // ncols == nrows - 1 or k + ncols > len(others):
            ax.set_xlabel(timeline.label, fontsize=8)
    points = " and the published figures (red; open: held out)" if timeline.observed.get(metric) else ""
    fig.suptitle(f"{title}\nfirst panel: {scenario_label(baseline)} with its 5%-95% {spread}{points}, "
                 f"history and forecast (dashed: policies begin); others: difference from "
                 f"{scenario_label(baseline)} over the forecast, paired by seed, with the same range of the "
                 f"differences (black line: {scenario_label(baseline)})", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


# --------------------------------------------------------------------------- adoption by group
def group_heatmap(summary: pd.DataFrame, baseline: str, path: Path, spread: str) -> Path:
    """Top row: the baseline's final adoption by group. Below: each scenario's paired change against
    it, in percentage points (grey numbers: the 5 %-95 % range includes zero)."""
    cols = [c for c in group_columns() if f"{c[2]}_mean" in summary.columns]
    rows = summary.set_index("scenario")
    others = [s for s in summary.sort_values("adoption_change_mean", ascending=False)["scenario"]
              if s != baseline]
    level = rows.loc[[baseline], [f"{c[2]}_mean" for c in cols]].to_numpy(dtype=float) * 100
    change = rows.loc[others, [f"{c[2]}_change_mean" for c in cols]].to_numpy(dtype=float) * 100
    low = rows.loc[others, [f"{c[2]}_change_p05" for c in cols]].to_numpy(dtype=float)
    high = rows.loc[others, [f"{c[2]}_change_p95" for c in cols]].to_numpy(dtype=float)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(1.2 + 0.6 * len(cols), 2.2 + 0.42 * (len(others) + 1)),
                                   height_ratios=[1, max(len(others), 1)], sharex=True)
    ax1.imshow(level, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for j, v in enumerate(level[0]):
        ax1.text(j, 0, f"{v:.0f}%", ha="center", va="center", fontsize=7, color="white" if v < 50 else "k")
    ax1.set_yticks([0], [f"{scenario_label(baseline)} (level)"])
    ax1.set_title("Final adoption by group: the baseline's level (top, 0-100%), and each scenario's change "
                  f"from it\nin percentage points, paired by seed (grey: the 5%-95% {spread} includes zero)",
                  fontsize=10)
    if others:
        lim = max(1.0, float(np.nanmax(np.abs(change))))
        im = ax2.imshow(change, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
        for i in range(change.shape[0]):
            for j in range(change.shape[1]):
                if not np.isfinite(change[i, j]):
                    continue
                unclear = not (low[i, j] > 0 or high[i, j] < 0)
                text = estimate(change[i, j] / 100, low[i, j], high[i, j], scale=100, sign=True,
                                interval=False, decimals=0)
                ax2.text(j, i, text, ha="center", va="center", fontsize=6.5,
                         color="0.55" if unclear else ("white" if abs(change[i, j]) > 0.6 * lim else "k"),
                         style="italic" if unclear else "normal")
        ax2.set_yticks(range(len(others)), [scenario_label(s) for s in others])
        fig.colorbar(im, ax=ax2, fraction=0.025, pad=0.01, label="change (percentage points)")
    ax2.set_xticks(range(len(cols)), [c[1] for c in cols], rotation=50, ha="right")
    dims = [c[0] for c in cols]
    for ax in (ax1, ax2):
        for j in range(1, len(dims)):
            if dims[j] != dims[j - 1]:
                ax.axvline(j - 0.5, color="white", lw=2.5)
    return save_figure(fig, path)


def equity_gaps(summary: pd.DataFrame, gaps: Sequence[str], colors: dict, baseline: str, path: Path,
                spread: str) -> Path:
    """One panel per equity gap: each scenario's paired change of the gap against the baseline, in
    percentage points with its 5 %-95 % range (left of zero: the gap narrows); the baseline's own gap
    in the panel's title."""
    gaps = [g for g in gaps if f"{g}_change_mean" in summary.columns]
    ordered = summary.sort_values("adoption_change_mean", ascending=False)
    s = ordered[ordered["scenario"] != baseline]
    base = summary.set_index("scenario").loc[baseline]
    ncols = 3
    nrows = int(np.ceil(len(gaps) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 0.34 * len(s) * nrows + 1.9 * nrows),
                             squeeze=False)
    for ax, gap in zip(axes.flat, gaps, strict=False):
        scale = percent_scale(gap)
        mean, low, high = (s[f"{gap}_change_{k}"].to_numpy(dtype=float) * scale
                           for k in ("mean", "p05", "p95"))
        hbar(ax, [scenario_label(n) for n in s["scenario"]], mean, low, high,
              [colors[n] for n in s["scenario"]])
        ax.axvline(0, color=BASELINE_COLOR, lw=1.5)
        level = (pp(*stat(base, gap), sign=False) if scale == 100
                 else estimate(*stat(base, gap), decimals=3))
        ax.set_title(f"{metric_label(gap)}\n{scenario_label(baseline)}: {level}", fontsize=9)
        ax.set_xlabel("change against the baseline (" + ("percentage points)" if scale == 100
                                                         else "index points)"), fontsize=8)
    for ax in list(axes.flat)[len(gaps):]:
        ax.axis("off")
    fig.suptitle(f"Change of each equity gap against {scenario_label(baseline)} at the end of the horizon "
                 f"(below zero: the gap narrows; 5%-95% {spread} of the paired differences; black line: "
                 f"{scenario_label(baseline)})",
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


# --------------------------------------------------------------------------- cost-effectiveness
def cost_effectiveness(summary: pd.DataFrame, baseline: str, colors: dict, path: Path, spread: str) -> Path:
    """Left: additional adopters per IDR bn actually spent, against the baseline (hatched: the scenario
    could not spend its budget). Right: the change of final adoption against the change of the
    urban-rural gap, both in percentage points with 5 %-95 % ranges (the adoption-equity trade-off)."""
    s = summary[summary["scenario"] != baseline].reset_index(drop=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 0.4 * len(s) + 2.6))
    if s.empty:
        ax1.text(0.5, 0.5, "no scenario besides the baseline", ha="center", transform=ax1.transAxes)
        return save_figure(fig, path)
    paid = s[s["cost_idr_bn_mean"] > 0].sort_values("additional_adopters_per_idr_bn_mean", ascending=False)
    under = paid.get("underspent", pd.Series(False, index=paid.index)).astype(bool)
    names = [scenario_label(r["scenario"]) + (f" (spent {r['budget_spent_share_mean']:.0%} of its budget)"
                                              if u else "")
             for (_, r), u in zip(paid.iterrows(), under, strict=True)]
    hbar(ax1, names, *(paid[f"additional_adopters_per_idr_bn_{k}"].to_numpy(dtype=float)
                        for k in ("mean", "p05", "p95")),
          [colors[n] for n in paid["scenario"]], ["//" if u else "" for u in under])
    ax1.axvline(0, color=BASELINE_COLOR, lw=1)
    ax1.set_title(f"Cost-effectiveness against {scenario_label(baseline)}\n(hatched: could not spend its "
                  "budget; scenarios that spend nothing are left out)", fontsize=10)
    labels: list[tuple[float, float, str]] = []
    for _, r in s.iterrows():
        x, xl, xh = (v * 100 for v in stat(r, "adoption_change"))
        y, yl, yh = (v * 100 for v in stat(r, "gap_urban_rural_change"))
        hollow = bool(r.get("underspent", False))
        # a 5%-95% range need not contain the mean (a skewed spread): no arm shorter than zero
        ax2.errorbar(x, y, xerr=np.clip([[np.nan_to_num(x - xl)], [np.nan_to_num(xh - x)]], 0, None),
                     yerr=np.clip([[np.nan_to_num(y - yl)], [np.nan_to_num(yh - y)]], 0, None), fmt="o",
                     color=colors[r["scenario"]], capsize=3, mfc="white" if hollow else None)
        labels.append((x, y, scenario_label(r["scenario"])))
    ax2.plot([0], [0], "s", color=BASELINE_COLOR, ms=7)
    labels.append((0.0, 0.0, scenario_label(baseline)))
    ax2.axhline(0, color="0.4", lw=0.8)
    ax2.axvline(0, color="0.4", lw=0.8)
    people = float(summary["population_total"].iloc[0]) / 1e6 / 100  # million people per pp
    top = ax2.secondary_xaxis("top", functions=(lambda v: v * people, lambda v: v / people))
    top.set_xlabel("additional adopters (million people)", fontsize=8)
    ax2.set_xlabel(f"change of final adoption against {scenario_label(baseline)} (percentage points)")
    ax2.set_ylabel("change of the urban-rural gap (percentage points)")
    ax2.set_title("Who gains: adoption against the urban-rural gap (below 0: the gap narrows;\n"
                  "hollow: could not spend its budget)", fontsize=10)
    ax2.grid(alpha=0.3)
    spread_labels(ax2, labels)
    ax1.set_xlabel(f"additional adopters per IDR bn actually spent (people)\n5%-95% {spread} "
                   "of the paired differences")
    fig.tight_layout()
    return save_figure(fig, path)


def compare_figures(tidy: pd.DataFrame, summary: pd.DataFrame, scenarios: Sequence[str], baseline: str,
                    gaps: Sequence[str], directory: Path, names: dict[str, str],
                    spread: str = "range across calibrated worlds",
                    timeline: Timeline | None = None) -> dict[str, Path]:
    """Every figure of the comparison into ``directory`` (``names``: figure key -> file name;
    ``spread``: what the drawn ranges span, in words; ``timeline``: calendar, policy start and the
    published figures)."""
    colors = scenario_colors(scenarios, baseline)
    paths = {
        "adoption": over_time(tidy, summary, "adoption", scenarios, baseline, colors,
                              directory / names["adoption"], "Adoption of digital public services "
                              "(current users, share of everyone)", spread, timeline),
        "ever_used": over_time(tidy, summary, "ever_used_connected", scenarios, baseline, colors,
                               directory / names["ever_used"], "Ever used digital public services, share "
                               "of people with internet access (the calibrated measure)", spread, timeline),
        "heatmap": group_heatmap(summary, baseline, directory / names["heatmap"], spread),
        "gaps": equity_gaps(summary, gaps, colors, baseline, directory / names["gaps"], spread),
        "trust": over_time(tidy, summary, "trust_mean", scenarios, baseline, colors,
                           directory / names["trust"], "Mean trust of citizens in government (0 to 1)",
                           spread, timeline),
        "staff": over_time(tidy, summary, "digital_staff_share", scenarios, baseline, colors,
                           directory / names["staff"], "Civil servants working through the digital system",
                           spread, timeline),
        "cost": cost_effectiveness(summary, baseline, colors, directory / names["cost"], spread),
    }
    return paths


