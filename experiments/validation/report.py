"""The validation report: ``validation.json``, ``validation.md``, ``validation.html`` and ``figures/``.

``validation.json`` holds every row with the same fields (``case``, ``name``, ``measured``,
``expected``, ``tolerance`` or ``interval``, ``passed``, ``scored``, ``reason``; unscored rows also
``kind``); identities and interactions are separate lists, so that the summary's counts are of scored
checks only. Unscored rows of kind ``consistency`` and ``unattainable`` are shown in tables of their
own under a heading that says why they are not scored (:data:`KIND_HEADINGS`). The Markdown
and HTML say the same thing (one list of blocks, rendered by :mod:`experiments.engine.render`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.engine.render import write as write_blocks  # noqa: E402
from experiments.validation.cases.indonesia import APJII_2024  # noqa: E402
from experiments.validation.scoring import CaseResult, tally  # noqa: E402
from experiments.validation.theory import cascade_probability  # noqa: E402
from sim.config import AGE_BANDS, REGIONS  # noqa: E402

FIGURES = "figures"
KIND_HEADINGS = {
    "consistency": "Input consistency (not scored: the population is built to meet these figures)",
    "unattainable": "Cannot be met by construction (not scored: the published breakdowns conflict)",
}
TITLES = {
    "bass": "Bass diffusion (mean field, reduced form)",
    "granovetter": "Granovetter's riot (reduced form)",
    "watts": "Watts (2002) global cascades (reduced form)",
    "limits": "Limits of the full adoption rule (UTAUT) with closed forms",
    "indonesia": "Indonesia profile: initial state against the figures it is built from (not scored)",
    "observed": "Observed dynamics: the calibration's posterior predictive against Indonesian figures",
    "ablation": "Each factor at work: ablation, paired by seed",
    "interactions": "Interactions of levers: 2 x 2 factorials, paired by seed (reported)",
    "mechanics": "What the mechanisms imply: trust, mandate, persistence, channels (reported)",
    "patterns": "Patterns of real uptake, named in advance: a mandate's first month, a plateau",
}


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- figures
def save_figure(fig: plt.Figure, out: Path, name: str) -> Path:
    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    path = out / FIGURES / name
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def figure_bass(d: dict[str, Any], out: Path) -> Path:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    t = d["t"]
    for run in d["runs"]:
        ax.plot(t, run, color="0.75", lw=0.8)
    ax.plot(t, d["mean"], "o", ms=3.5, color="C0", label=f"model, mean of {len(d['runs'])} seeds")
    ax.plot(t, d["recursion"], "-", color="C1", label="discrete Bass recursion")
    ax.plot(t, d["closed"], "--", color="C2", label="closed form F(t)")
    ax.plot(t, d["fine"], ":", color="C3", lw=2, label=f"model, {d['substeps']} steps per month")
    ax.set(xlabel="month", ylabel="adoption share",
           title=f"Bass, mean field, p={d['p']}, q={d['q']}, {d['n']:,} citizens")
    ax.legend(fontsize=8)
    ax2.axhline(0, color="0.5", lw=0.8)
    ax2.plot(t, d["mean"] - d["recursion"], "o-", ms=3, color="C1", label="model - recursion")
    ax2.plot(t, d["mean"] - d["closed"], "s-", ms=3, color="C2", label="model - F(t)")
    ax2.plot(t, d["fine"] - d["closed"], ":", color="C3", lw=2,
             label=f"model ({d['substeps']} steps/month) - F(t)")
    ax2.set(xlabel="month", ylabel="difference in adoption share", title="errors")
    ax2.legend(fontsize=8)
    return save_figure(fig, out, "bass.png")


def figure_granovetter(d: dict[str, Any], out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(d["uniform"], label="thresholds 0, 1, ..., n-1 others: everyone joins")
    ax.plot(d["perturbed"], label="second-lowest threshold raised by one: one joins")
    ax.set(xlabel="month", ylabel="adopters", title=f"Granovetter's riot, {d['n']} agents")
    ax.legend(fontsize=8)
    return save_figure(fig, out, "granovetter.png")


def figure_watts(d: dict[str, Any], out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    lo, hi = d["window"]
    ax.axvspan(lo, hi, color="C2", alpha=0.12, label=f"analytic cascade window ({lo:.2f}, {hi:.2f})")
    zz = np.linspace(0.5, max(d["z"]) + 0.5, 400)
    ax.plot(zz, [cascade_probability(z, d["phi"]) for z in zz], color="C2",
            label="analytic: extended vulnerable cluster")
    r = d["realisations"]
    freq = np.asarray(d["freq"])
    err = 1.96 * np.sqrt(freq * (1 - freq) / r)
    ax.errorbar(d["z"], freq, yerr=err, fmt="o", color="C0", capsize=2,
                label=f"model: share of {r} runs with a cascade > {d['global_share']:.0%}")
    ax.plot(d["z"], d["mean_size"], "x", color="C3", label="model: mean size of global cascades")
    ax.set(xlabel="mean degree z", ylabel="frequency / size", ylim=(-0.03, 1.05),
           title=f"Watts global cascades, Erdos-Renyi, phi={d['phi']}, {d['n']:,} nodes")
    ax.legend(fontsize=8, loc="center right")
    return save_figure(fig, out, "watts.png")


def figure_limits(d: dict[str, Any], out: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, kind, title in zip(axes, ("constant_hazard", "mean_field"),
                               ("constant hazard (w_social = 0)", "mean-field social influence"),
                               strict=True):
        k = d[kind]
        for run in k["runs"]:
            ax.plot(k["t"], run, color="0.75", lw=0.8)
        ax.plot(k["t"], k["mean"], "o", ms=3, color="C0", label=f"model, mean of {len(k['runs'])} seeds")
        ax.plot(k["t"], k["expected"], "-", color="C1", label="closed form / recursion")
        if "without_social" in k:
            ax.plot(k["t"], k["without_social"], ":", color="C7", label="same without the social term")
        ax.set(xlabel="month", ylabel="adoption share", title=f"UTAUT limit: {title}")
        ax.legend(fontsize=8)
    return save_figure(fig, out, "limits.png")


def figure_indonesia(d: dict[str, Any], out: Path) -> Path:
    m = d["measured"]
    labels = ["national"] + list(REGIONS) + ["urban", "rural"] + [f"age {a}" for a in AGE_BANDS]
    model = [m["national"]] + [m[f"region:{r}"] for r in REGIONS] + [m["urban"], m["rural"]] + [
        m[f"age:{a}"] for a in AGE_BANDS]
    published = [APJII_2024["national"]] + APJII_2024["region"] + [
        APJII_2024["urban"], APJII_2024["rural"]] + APJII_2024["age"]
    y = np.arange(len(labels))
    tol = d["tolerance_pp"]
    fig, ax = plt.subplots(figsize=(7, 5.2))
    ax.errorbar(np.array(published) * 100, y, xerr=tol, fmt="|", color="0.4", ms=12, capsize=3,
                label=f"APJII 2024 (+/- {tol:g} pp)")
    ok = np.abs(np.array(model) - np.array(published)) * 100 <= tol
    ax.scatter(np.array(model)[ok] * 100, y[ok], color="C0", label="model t=0: within the band")
    ax.scatter(np.array(model)[~ok] * 100, y[~ok], color="C3", marker="s",
               label="model t=0: outside the band")
    ax.plot(np.array(d["shifted_age"]) * 100, y[-len(AGE_BANDS):], "x", color="C7",
            label="the model's own shifted age targets (not scored)")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set(xlabel="internet access (%)",
           title=f"Indonesia profile, {d['n']:,} citizens: access at t=0 vs APJII 2024\n"
                 "(input consistency, not scored)")
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, out, "indonesia_marginals.png")


def figure_observed(d: dict[str, Any], out: Path) -> Path | None:
    rows = [r for r in d["rows"] if not r["missing"]]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.75 * len(rows) + 2.0))

    def pct(r: dict[str, Any], key: str) -> float:  # levels in %, growth as the rise in %
        return (r[key] - 1) * 100 if r["growth"] else r[key] * 100

    for i, r in enumerate(rows):
        ax.plot([pct(r, "low"), pct(r, "high")], [i, i], color="C0", lw=6, alpha=0.35,
                solid_capstyle="butt", label="90% predictive interval" if i == 0 else None)
        ax.plot(pct(r, "predicted"), i, "|", color="C0", ms=14,
                label="predictive mean" if i == 0 else None)
        ax.plot(pct(r, "observed"), i, "o" if r["passed"] else "s", color="C2" if r["passed"] else "C3")
    ax.plot([], [], "o", color="C2", label="observed, inside")
    ax.plot([], [], "s", color="C3", label="observed, outside")
    ax.set_yticks(np.arange(len(rows)), [
        f"{r['name']}\n({'held out' if r['held_out'] else 'fitted'}, "
        f"{'rise in %' if r['growth'] else '%'})" for r in rows])
    ax.set_ylim(len(rows) + 0.6, -0.6)  # room below for the legend
    ax.set(xlabel="% (levels) or % rise (growth)",
           title="Observed figures against the calibration's posterior predictive")
    ax.legend(fontsize=8, loc="lower center", ncol=2)
    return save_figure(fig, out, "observed.png")


def _interval_plot(ax: plt.Axes, labels: list[str], means: list[float], lows: list[float],
                   highs: list[float], colours: list[str]) -> None:
    y = np.arange(len(labels))
    m, lo, hi = (np.array(v) * 100 for v in (means, lows, highs))
    ax.errorbar(m, y, xerr=[m - lo, hi - m], fmt="none", ecolor="0.3", capsize=3)
    ax.scatter(m, y, c=colours, zorder=3)
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()


def figure_ablation(d: dict[str, Any], out: Path) -> Path:
    e = d["effects"]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(e) + 1.6))
    labels = [f"{r['factor']} {r['mechanism']}\n({r['scenario']}, expect {'+' if r['sign'] > 0 else '-'})"
              for r in e]
    _interval_plot(ax, labels, [r["mean"] for r in e], [r["low"] for r in e], [r["high"] for r in e],
                   ["C2" if r["passed"] else "C3" for r in e])
    pct = int(round(d["confidence"] * 100))
    ax.set(xlabel=f"on - off, {e[0]['outcome'] if e else ''} (pp), mean and {pct}% paired interval",
           title=f"Ablation, {d['n']:,} citizens, {len(d['seeds'])} paired seeds (green pass, red fail)")
    return save_figure(fig, out, "ablation.png")


def figure_interactions(d: dict[str, Any], out: Path) -> Path:
    rows = d["rows"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 0.9 * len(rows) + 2.2),
                                  gridspec_kw={"width_ratios": [1, 1.2]})
    labels = [f"{r['a']} x {r['b']}" for r in rows]
    _interval_plot(ax, labels, [r["interaction"]["mean"] for r in rows],
                   [r["interaction"]["low"] for r in rows], [r["interaction"]["high"] for r in rows],
                   ["C0"] * len(rows))
    pct = int(round(d["confidence"] * 100))
    ax.set(xlabel=f"interaction y_AB - y_A - y_B + y_0 (pp), {pct}% paired interval",
           title=f"Interactions on {d['outcome']}, share {d['share']:g} each")
    y = np.arange(len(rows))
    width = 0.25
    for k, (key, label) in enumerate((("main_a", "A alone"), ("main_b", "B alone"), ("both", "A and B"))):
        vals = np.array([r[key]["mean"] for r in rows]) * 100
        err = np.array([r[key]["high"] - r[key]["mean"] for r in rows]) * 100
        ax2.barh(y + (k - 1) * width, vals, height=width, xerr=err, capsize=2, label=label)
    ax2.plot([(r["main_a"]["mean"] + r["main_b"]["mean"]) * 100 for r in rows], y + width, "k|", ms=14,
             label="sum of A and B alone")
    ax2.set_yticks(y, labels)
    ax2.invert_yaxis()
    ax2.axvline(0, color="0.4", lw=0.8)
    ax2.set(xlabel="effect against no spending (pp)", title="main effects and joint effect")
    ax2.legend(fontsize=8)
    return save_figure(fig, out, "interactions.png")


def figure_patterns(d: dict[str, Any], out: Path) -> Path:
    """Ever used among the connected over the plateau run, with the ceiling the offline share sets."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(d["years"], d["ever_used_mean"], label=f"model, mean of {len(d['seeds'])} seeds")
    ax.axhline(1.0 - d["offline_preference"], color="grey", ls="--",
               label="ceiling: 1 - durable offline share")
    ax.set_xlabel("years from the run's start")
    ax.set_ylabel("ever used, share of the connected")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right")
    ax.set_title("Voluntary uptake plateaus below everyone connected")
    return save_figure(fig, out, "patterns.png")


FIGURE_MAKERS = {"bass": figure_bass, "granovetter": figure_granovetter, "watts": figure_watts,
                 "limits": figure_limits, "indonesia": figure_indonesia, "observed": figure_observed,
                 "ablation": figure_ablation,
                 "interactions": figure_interactions, "patterns": figure_patterns}


# --------------------------------------------------------------------------- text
def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _bound(r: dict[str, Any]) -> str:
    if r.get("interval") is not None:
        lo, hi = r["interval"]
        return f"[{lo:+.4g}, {hi:+.4g}]"
    return _fmt(r.get("tolerance"))


def _verdict(r: dict[str, Any]) -> str:
    if not r["scored"]:
        return "not scored" if r.get("kind") in KIND_HEADINGS else "reported"
    return "pass" if r["passed"] else "FAIL"


def check_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[r["name"], _fmt(r["measured"]), r.get("expected_sign") or _fmt(r["expected"]), _bound(r),
             _verdict(r), r["reason"]] for r in rows]


def interaction_rows(d: dict[str, Any]) -> list[list[str]]:
    def pp(e: dict[str, float]) -> str:
        return f"{e['mean'] * 100:+.2f} [{e['low'] * 100:+.2f}, {e['high'] * 100:+.2f}]"

    return [[f"{r['a']} x {r['b']}", pp(r["main_a"]), pp(r["main_b"]), pp(r["both"]),
             pp(r["interaction"]), f"{r['interaction']['t']:.2f}"] for r in d["rows"]]


def build_payload(results: dict[str, CaseResult], config: dict[str, Any], wall: dict[str, float],
                  commit: str | None, figures: dict[str, str]) -> dict[str, Any]:
    rows = [r for res in results.values() for r in res.checks]
    identities = [r for res in results.values() for r in res.identities]
    counts = tally(rows)
    payload: dict[str, Any] = {
        "summary": {**counts, "identities": len(identities), "wall_seconds": wall, "commit": commit},
        "checks": rows,
        "identities": identities,
        "interactions": results["interactions"].data if "interactions" in results else None,
        "ablation": results["ablation"].data if "ablation" in results else None,
        "mechanics": results["mechanics"].data if "mechanics" in results else None,
        "config": config,
        "figures": figures,
    }
    for key in ("bass", "limits", "watts", "indonesia", "observed", "patterns"):
        if key in results:
            d = results[key].data
            payload[key] = {k: v for k, v in d.items() if k not in ("runs",)} if key != "limits" else {
                kind: {k: v for k, v in d[kind].items() if k != "runs"}
                for kind in d if isinstance(d[kind], dict)}
    return payload


def write_report(out: Path, results: dict[str, CaseResult], config: dict[str, Any],
                 wall: dict[str, float], commit: str | None = None) -> tuple[Path, Path]:
    """Figures, validation.json, validation.md and validation.html in ``out``; returns json, md paths."""
    out.mkdir(parents=True, exist_ok=True)
    made = {name: FIGURE_MAKERS[name](res.data, out) for name, res in results.items()
            if name in FIGURE_MAKERS and (name != "interactions" or res.data.get("rows"))}
    figures = {k: v for k, v in made.items() if v is not None}
    payload = build_payload(results, config, wall, commit,
                            {k: v.relative_to(out).as_posix() for k, v in figures.items()})
    json_path = out / "validation.json"
    _atomic_write(json_path, json.dumps(_json_safe(payload), indent=2) + "\n")

    s = payload["summary"]
    kinds = {k: sum(r.get("kind") == k for r in payload["checks"]) for k in KIND_HEADINGS}
    of_which = ", ".join(f"{n} {k.replace('unattainable', 'cannot be met by construction')}"
                         for k, n in kinds.items() if n)
    blocks: list[tuple] = [
        ("h1", "Validation report"),
        ("p", f"{s['passed']} of {s['scored']} scored checks pass, {s['failed']} fail; {s['reported']} "
              f"rows are reported but not scored{f' (of which {of_which})' if of_which else ''} and "
              f"{s['identities']} identities (reproduced by construction) are listed but not counted. "
              f"Code commit: {commit or 'unknown'}. Wall "
              "time: " + ", ".join(f"{k} {v:.0f} s" for k, v in wall.items()) + "."),
        ("p", "A scored check passes when |measured - expected| <= tolerance, or, for an effect, when "
              "its mean has the sign named in advance and its paired interval excludes 0. A failure is "
              "a failure; its reason says why. Method: docs/validation.md."),
    ]
    header = ["check", "measured", "expected", "tolerance / interval", "result", "reason"]
    for name, res in results.items():
        blocks.append(("h2", TITLES[name]))
        if name in figures:
            blocks.append(("fig", str(figures[name]), TITLES[name]))
        plain = [r for r in res.checks if r.get("kind") not in KIND_HEADINGS]
        if plain:
            blocks.append(("table", header, check_rows(plain)))
        for kind, heading in KIND_HEADINGS.items():
            rows = [r for r in res.checks if r.get("kind") == kind]
            if rows:
                blocks.append(("h3", heading))
                blocks.append(("table", header, check_rows(rows)))
        if res.identities:
            blocks.append(("h3", "Identities (reproduced by construction; not counted)"))
            blocks.append(("table", ["quantity", "model", "published / input", "difference", "why"],
                           [[r["name"], f"{r['measured']:.4f}", f"{r['published']:.4f}",
                             f"{r['difference']:+.4f}", r["reason"]] for r in res.identities]))
        for table in res.data.get("tables", []):
            blocks.append(("h3", table["title"]))
            blocks.append(("table", table["header"], table["rows"]))
        if name == "interactions" and res.data.get("rows"):
            d = res.data
            pct = int(round(d["confidence"] * 100))
            blocks.append(("p", f"Outcome {d['outcome']}, pp against no spending, mean and {pct}% "
                                f"paired interval over {len(d['seeds'])} seeds, {d['n']:,} citizens, "
                                f"each lever at budget share {d['share']:g}, targeting universal."))
            blocks.append(("table", ["pair (A x B)", "A alone", "B alone", "A and B",
                                     "interaction AB - A - B + 0", "t"], interaction_rows(d)))
    md_path, _ = write_blocks(blocks, out, "validation", "Validation report")
    return json_path, md_path
