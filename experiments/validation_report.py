"""Figures, ``validation.json`` and ``validation.md`` for the validation run."""

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

from experiments.validation_cases import (  # noqa: E402
    APJII_2024,
    CONTEXT_OUTCOMES,
    FACTORS,
    IMDI_2024,
    OUTCOMES,
)
from experiments.validation_theory import cascade_probability  # noqa: E402
from sim.config import AGE_BANDS, REGIONS  # noqa: E402

FIGURES = "figures"


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
def _save(fig: plt.Figure, out: Path, name: str) -> str:
    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / FIGURES / name, dpi=120)
    plt.close(fig)
    return f"{FIGURES}/{name}"


def figure_bass(d: dict[str, Any], out: Path) -> str:
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
    return _save(fig, out, "bass.png")


def figure_granovetter(d: dict[str, Any], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(d["uniform"], label="thresholds 0, 1, ..., 99 others: everyone joins")
    ax.plot(d["perturbed"], label="second-lowest threshold raised by one: one joins")
    ax.set(xlabel="month", ylabel="adopters", title=f"Granovetter's riot, {d['n']} agents")
    ax.legend(fontsize=8)
    return _save(fig, out, "granovetter.png")


def figure_watts(d: dict[str, Any], out: Path) -> str:
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
    ax.set(xlabel="mean degree z", ylabel="frequency / size",
           title=f"Watts global cascades, Erdos-Renyi, phi={d['phi']}, {d['n']:,} nodes", ylim=(-0.03, 1.05))
    ax.legend(fontsize=8, loc="center right")
    return _save(fig, out, "watts.png")


def figure_indonesia(d: dict[str, Any], out: Path) -> str:
    m = d["measured"]
    labels = ["national"] + list(REGIONS) + ["urban", "rural"] + [f"age {a}" for a in AGE_BANDS]
    model = [m["national"]] + [m[f"region:{r}"] for r in REGIONS] + [m["urban"], m["rural"]] + [
        m[f"age:{a}"] for a in AGE_BANDS]
    published = [APJII_2024["national"]] + APJII_2024["region"] + [
        APJII_2024["urban"], APJII_2024["rural"]] + APJII_2024["age"]
    y = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(7, 5.2))
    ax.errorbar(np.array(published) * 100, y, xerr=2, fmt="|", color="0.4", ms=12, capsize=3,
                label="APJII 2024 (+/- 2 pp)")
    ax.plot(np.array(model) * 100, y, "o", color="C0", label=f"model t=0, {d['n']:,} citizens")
    shifted_y = y[-len(AGE_BANDS):]
    ax.plot(np.array(d["shifted_age"]) * 100, shifted_y, "x", color="C3",
            label="age targets after the common logit shift")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set(xlabel="internet access (%)", title="Indonesia profile: initial access vs published marginals")
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, out, "indonesia_marginals.png")


def figure_ablation(d: dict[str, Any], out: Path, name: str) -> str:
    effects = d["effects"]
    spread = d["spread"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1, 1.3]})
    labels = [f"{e['factor']} {e['mechanism']}" for e in effects]
    values = [e["adoption_final"] * 100 for e in effects]
    y = np.arange(len(effects))
    s = spread["adoption_final"] * 100
    ax.axvspan(-s, s, color="0.85", label=f"seed-to-seed spread (+/- {s:.2f} pp)")
    ax.barh(y, values, color=["C0" if abs(v) > s else "C7" for v in values])
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set(xlabel="change in final adoption when switched off (pp)",
           title=f"{d['label']}\n{d['policy']} policy, {d['n']:,} citizens, {len(d['seeds'])} seeds")
    ax.legend(fontsize=8, loc="lower left")
    raw = np.array([[e[f"{k}_ratio"] for k, _ in OUTCOMES] for e in effects])
    ratios = np.minimum(raw, 30.0)  # colour scale capped at 30
    im = ax2.imshow(ratios, cmap="viridis", aspect="auto", vmin=0, vmax=max(3.0, float(ratios.max())))
    for i in range(ratios.shape[0]):
        for j in range(ratios.shape[1]):
            ax2.text(j, i, f"{raw[i, j]:.1f}", ha="center", va="center", fontsize=7,
                     color="white" if ratios[i, j] < 0.6 * ratios.max() else "black")
    ax2.set_xticks(range(len(OUTCOMES)), [lbl for _, lbl in OUTCOMES], rotation=30, ha="right")
    ax2.set_yticks(y, labels)
    ax2.set_title("|effect| / seed-to-seed spread (> 1: beyond the spread)")
    fig.colorbar(im, ax=ax2, fraction=0.04)
    return _save(fig, out, name)


# --------------------------------------------------------------------------- text
def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _checks_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| case | measured | expected | tolerance | pass | status | note |",
             "|---|---:|---:|---:|:---:|---|---|"]
    for r in rows:
        case, note = (str(r[k]).replace("|", "\\|") for k in ("case", "note"))
        lines.append(f"| {case} | {_fmt(r['measured'])} | {_fmt(r['expected'])} | "
                     f"{_fmt(r['tolerance'])} | {'yes' if r['pass'] else '**no**'} | {r['status']} | "
                     f"{note} |")
    return lines


def ablation_table(d: dict[str, Any]) -> list[str]:
    columns = OUTCOMES + CONTEXT_OUTCOMES
    head = "| rank | factor | mechanism switched off | " + " | ".join(lbl for _, lbl in OUTCOMES) + \
        " | " + " | ".join(f"({lbl})" for _, lbl in CONTEXT_OUTCOMES) + " | beyond spread |"
    lines = [head, "|---:|---|---|" + "---:|" * len(columns) + ":---:|"]
    spread = d["spread"]
    lines.append("| | all on (mean) | | " + " | ".join(
        f"{d['base_mean'][k]:.4f}" for k, _ in columns) + " | |")
    lines.append("| | seed-to-seed spread (s.d.) | | " + " | ".join(
        f"{spread[k]:.4f}" for k, _ in columns) + " | |")
    for rank, e in enumerate(d["effects"], start=1):
        cells = []
        for k, _ in columns:
            mark = "**" if e[f"{k}_ratio"] > 1 else ""
            cells.append(f"{mark}{e[k]:+.4f}{mark}")
        lines.append(f"| {rank} | {e['factor']} {e['title']} | `mechanisms.{e['mechanism']}=false` | "
                     + " | ".join(cells) + f" | {'yes' if e['largest_ratio'] > 1 else '**no**'} |")
    lines.append("")
    lines.append("Effects are mean paired differences (switched off minus all on, same seed); bold: "
                 "larger than the seed-to-seed spread of the all-on runs. Columns in brackets are "
                 "context, not scored: the change in mean trust over the run and the number of "
                 "security breaches.")
    return lines


def write_report(out: Path, rows: list[dict[str, Any]], data: dict[str, dict[str, Any]],
                 config: dict[str, Any], wall_seconds: dict[str, float]) -> tuple[Path, Path]:
    """Figures, validation.json and validation.md in ``out``; returns the two file paths."""
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, str] = {}
    if "bass" in data:
        figures["bass"] = figure_bass(data["bass"], out)
    if "granovetter" in data:
        figures["granovetter"] = figure_granovetter(data["granovetter"], out)
    if "watts" in data:
        figures["watts"] = figure_watts(data["watts"], out)
    if "indonesia" in data:
        figures["indonesia"] = figure_indonesia(data["indonesia"], out)
    if "ablation" in data:
        figures["ablation"] = figure_ablation(data["ablation"], out, "ablation.png")
    if "ablation_no_breach" in data:
        figures["ablation_no_breach"] = figure_ablation(data["ablation_no_breach"], out,
                                                        "ablation_no_breach.png")
    passed = sum(r["pass"] for r in rows)
    payload = {
        "summary": {"checks": len(rows), "passed": passed, "failed": len(rows) - passed,
                    "wall_seconds": wall_seconds},
        "checks": rows,
        "config": config,
        "figures": figures,
        "data": {k: v for k, v in data.items() if k in ("indonesia",)},
        "ablation": {k: {kk: data[k][kk] for kk in ("effects", "spread", "base_mean", "seeds", "n",
                                                    "steps", "policy", "extra")}
                     for k in ("ablation", "ablation_no_breach") if k in data},
        "bass_errors": data.get("bass", {}).get("errors"),
        "watts": {k: data["watts"][k] for k in ("z", "freq", "freq_1pct", "expected", "mean_size",
                                                 "window")} if "watts" in data else None,
    }
    json_path = out / "validation.json"
    _atomic_write(json_path, json.dumps(_json_safe(payload), indent=2) + "\n")

    lines = ["# Validation report", "",
             f"{passed} of {len(rows)} checks pass. Wall time: "
             + ", ".join(f"{k} {v:.0f} s" for k, v in wall_seconds.items()) + ".", "",
             "Each check compares a measured value with the expected one; `status` says whether it is "
             "within tolerance or its difference is explained (see the note). Method and discussion: "
             "docs/validation.md.", ""]
    sections = [
        ("bass", "Bass diffusion (mean field)", "Bass"),
        ("granovetter", "Granovetter's riot", "Granovetter"),
        ("watts", "Watts (2002) global cascades", "Watts"),
        ("indonesia", "Indonesia profile: initial state against published marginals", "Indonesia"),
        ("ablation", "Factor ablation", "Ablation F"),
        ("ablation_no_breach", "Factor ablation without security incidents (diagnostic)",
         "Ablation without"),
    ]
    for key, title, prefix in sections:
        selected = [r for r in rows if r["case"].startswith(prefix)]
        if not selected:
            continue
        lines += [f"## {title}", ""]
        if key in figures:
            lines += [f"![{title}]({figures[key]})", ""]
        lines += _checks_table(selected) + [""]
        if key in ("ablation", "ablation_no_breach") and key in data:
            lines += ablation_table(data[key]) + [""]
    if "indonesia" in data:
        lit = data["indonesia"]["literacy_by_region"]
        lines += ["Mean literacy by island group at t=0 (no published island-group figure; IMDI 2024 "
                  f"national {IMDI_2024 * 100:.2f}, Jakarta 50.50, North Maluku 38.32): "
                  + ", ".join(f"{r} {v * 100:.1f}" for r, v in zip(REGIONS, lit, strict=True)) + ".", ""]
    factors = ", ".join(f"{c} `{n}`" for c, n, _ in FACTORS)
    lines += [f"Factors and their switches: {factors}.", ""]
    md_path = out / "validation.md"
    _atomic_write(md_path, "\n".join(lines))
    return json_path, md_path
