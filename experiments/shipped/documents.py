"""The generated blocks of the written documents, made from the files the apps write.

``docs/sensitivity.md`` and ``docs/validation.md`` are written by people: what is varied, how checks
are scored, what the numbers mean. Only their numbers are generated, each block between stamp
markers (:func:`experiments.engine.stamp.replace_block`), so that a regeneration replaces the tables
and leaves the explanations alone. Each function reads an app's output folder (its CSV and JSON
files, the interface the apps publish) and returns Markdown.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.engine.posterior import shipped_checks
from experiments.engine.targets import use_measures
from sim import summary

MORRIS_OUTCOMES = ("adoption_final", "gap_urban_rural")
SOBOL_OUTCOMES = ("adoption_final", "gap_urban_rural")
TOP = 10
CASE_ORDER = ("bass", "granovetter", "watts", "limits", "indonesia", "observed", "ablation", "interactions",
              "mechanics")


def para(text: str) -> str:
    """A paragraph wrapped as the written documents are (source lines of about 105 characters)."""
    return textwrap.fill(text, 105, break_long_words=False, break_on_hyphens=False)


def run_config(folder: Path) -> dict[str, Any]:
    """The resolved settings of an app's run (Hydra's ``.hydra/config.yaml``; empty when missing)."""
    path = folder / ".hydra" / "config.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


def _label(outcome: str) -> str:
    text = summary.label(outcome)
    return text[:1].upper() + text[1:]


def morris_noise_level(noise_sd: float, num_levels: int) -> float:
    """About the smallest mu* that differs from noise: the sd of a difference of two runs divided by
    the Morris step on the unit scale (as the sensitivity app draws it in its figures)."""
    return float(np.sqrt(2.0) * noise_sd / (num_levels / (2.0 * (num_levels - 1))))


def _runs_sentence(folder: Path, wall: str, what: str) -> str:
    cfg = run_config(folder)
    points = len(pd.read_csv(folder / "samples.csv"))
    noise = pd.read_csv(folder / "noise.csv")
    noise_runs = int(noise["points"].max() * noise["seeds_per_point"].max()) if len(noise) else 0
    return para(f"{what}: {points} design runs + {noise_runs} noise runs = {points + noise_runs} runs, each "
                f"{int(cfg.get('n_citizens', 0)):,} citizens x {cfg.get('steps', '?')} forecast months "
                f"({cfg.get('population', '?')} profile, {cfg.get('policy', 'baseline')} scenario), "
                f"**{wall}** wall.")


def morris_block(folder: Path, wall: str) -> str:
    """Ranking tables (top ten by mu*) of the headline outcomes, how many parameters stand above the
    noise, the noise shares, and the figures."""
    cfg = run_config(folder)
    levels = int(cfg.get("num_levels", 4))
    conf = float(cfg.get("conf_level", 0.95))
    table = pd.read_csv(folder / "sensitivity.csv")
    noise = pd.read_csv(folder / "noise.csv").set_index("outcome")
    n_par = table["parameter"].nunique()
    lines = [_runs_sentence(folder, wall, f"`make shipped` (step morris: `python -m "
                            f"experiments.exploration.sensitivity`), {n_par} parameters"), ""]
    for outcome in MORRIS_OUTCOMES:
        rows = table[table["outcome"] == outcome].sort_values("mu_star", ascending=False, kind="stable")
        if rows.empty or rows["mu_star"].isna().all():
            lines += [f"{_label(outcome)} (`{outcome}`): no indices (undefined or constant).", ""]
            continue
        level = (morris_noise_level(float(noise.loc[outcome, "noise_sd"]), levels)
                 if outcome in noise.index and np.isfinite(noise.loc[outcome, "noise_sd"]) else np.nan)
        lines += [f"{_label(outcome)} (`{outcome}`; noise level of mu* {level:.3f}):", "",
                  f"| rank | parameter | mu* ± {conf:.0%} interval | sigma |", "|---|---|---|---|"]
        for i, (_, r) in enumerate(rows.head(TOP).iterrows(), start=1):
            lines.append(f"| {i} | `{r['parameter']}` | {r['mu_star']:.3f} ± {r['mu_star_conf']:.3f} | "
                         f"{r['sigma']:.3f} |")
        above = int((rows["mu_star"] > level).sum())
        sure = int((rows["mu_star"] - rows["mu_star_conf"] > level).sum())
        lines += ["", para(f"{above} parameters have mu* above the noise level, {sure} with the lower end of "
                           "their interval above it."), ""]
    shares = [f"{summary.label(o)} {noise.loc[o, 'noise_share']:.1%}" for o in noise.index]
    sds = [f"{noise.loc[o, 'noise_sd']:.3f}" for o in noise.index]
    if shares:
        lines += [para(f"Noise share of the output variance over the Morris design: {', '.join(shares)} "
                       f"(seed-to-seed sd {', '.join(sds)})."), ""]
    for outcome in MORRIS_OUTCOMES:
        lines += [f"![Morris screening: {summary.label(outcome)}](figures/sensitivity_morris_{outcome}.png)",
                  ""]
    return "\n".join(lines)


def sobol_block(folder: Path, wall: str) -> str:
    """S1 and ST with their intervals per parameter and outcome, and the noise shares."""
    table = pd.read_csv(folder / "sensitivity.csv")
    noise = pd.read_csv(folder / "noise.csv").set_index("outcome")
    outcomes = [o for o in SOBOL_OUTCOMES if o in set(table["outcome"])]
    params = list(dict.fromkeys(table["parameter"]))
    lines = [_runs_sentence(folder, wall, "`make shipped` (step figures: `python -m "
                            "experiments.exploration.sensitivity method=sobol`), the top "
                            f"{len(params)} of the Morris screening for final adoption, the others at "
                            "their defaults"), "",
             "| parameter | " + " | ".join(f"{o} S1 | {o} ST" for o in outcomes) + " |",
             "|---|" + "---|---|" * len(outcomes)]
    cells = table.set_index(["parameter", "outcome"])
    for p in params:
        row = []
        for o in outcomes:
            r = cells.loc[(p, o)]
            row += [f"{r['S1']:.2f} ± {r['S1_conf']:.2f}", f"{r['ST']:.2f} ± {r['ST_conf']:.2f}"]
        lines.append(f"| `{p}` | " + " | ".join(row) + " |")
    lines.append("| noise share | " + " | ".join(
        f"{noise.loc[o, 'noise_share']:.1%} | " if o in noise.index else "- | " for o in outcomes) + "|")
    conf = float(run_config(folder).get("conf_level", 0.95))
    lines += ["", f"(± half-width of the {conf:.0%} bootstrap interval.)", ""]
    for o in outcomes:
        lines += [f"![Sobol indices: {summary.label(o)}](figures/sensitivity_sobol_{o}.png)", ""]
    return "\n".join(lines)


def discover_block(folder: Path, wall: str) -> str:
    """The chosen PRIM box(es): limits against the prior, quasi-p values, coverage, density, mass."""
    cfg = run_config(folder)
    samples = pd.read_csv(folder / "samples.csv")
    boxes = pd.read_csv(folder / "boxes.csv")
    holds = samples["condition"].astype(bool) if "condition" in samples else None
    share = (f"; the condition holds at {int(holds.sum())} of {len(samples)} points ({holds.mean():.1%})"
             if holds is not None else "")
    lines = [para(f"`make shipped` (step figures: `python -m experiments.exploration.discover "
                  f"n_samples={len(samples)}`): condition `{cfg.get('condition', '?')}`, {len(samples)} "
                  f"Latin-hypercube points, **{wall}** wall{share}."), ""]
    if boxes.empty:
        return "\n".join([*lines, "No box found.", ""])
    for number, box in boxes.groupby("box", sort=True):
        first = box.iloc[0]
        lines += [f"Box {number}: **coverage {first['coverage']:.0%}, density {first['density']:.0%}, "
                  f"mass {first['mass']:.0%}**.", "", "| parameter | box | prior | quasi-p |",
                  "|---|---|---|---|"]
        for _, r in box.iterrows():
            qp = r["qp_value"]
            qp_text = "< 1e-20" if qp < 1e-20 else f"{qp:.2g}"
            lines.append(f"| `{r['parameter']}` | {r['low']:.3g} to {r['high']:.3g} | "
                         f"{r['prior_low']:.3g} to {r['prior_high']:.3g} | {qp_text} |")
        lines.append("")
    lines += ["![PRIM peeling trajectory](figures/discover_peeling_trajectory.png)", ""]
    return "\n".join(lines)


def validation_block(folder: Path, wall: str) -> str:
    """The validation's count of scored checks per case, what is reported instead, and each failure."""
    data = json.loads((folder / "validation.json").read_text(encoding="utf-8"))
    checks = pd.DataFrame(data["checks"])
    s = data["summary"]
    cfg = run_config(folder)
    kinds = checks.loc[~checks["scored"], "kind"].fillna("reported").value_counts()
    kinds_text = ", ".join(f"{n} {k}" for k, n in kinds.items())
    lines = [para(f"`make shipped` (step validation: `python -m experiments.validation`, seed "
                  f"{cfg.get('seed', 1)}): **{s['passed']} of {s['scored']} scored checks pass**; "
                  f"{s['reported']} rows are reported but not scored ({kinds_text or 'none'}) and "
                  f"{s['identities']} identities listed. **{wall}** wall."), "",
             "| case | scored | pass | fail | reported |", "|---|---:|---:|---:|---:|"]
    present = set(checks["case"])
    cases = [c for c in CASE_ORDER if c in present] + sorted(present - set(CASE_ORDER))
    for case in cases:
        rows = checks[checks["case"] == case]
        scored = rows[rows["scored"]]
        passed = int(scored["passed"].astype(bool).sum())
        unscored = rows.loc[~rows["scored"], "kind"].fillna("reported").value_counts()
        reported = str(int(unscored.sum()))
        if set(unscored.index) - {"reported"}:
            reported += " (" + ", ".join(f"{n} {k}" for k, n in unscored.items()) + ")"
        lines.append(f"| {case} | {len(scored)} | {passed if len(scored) else '-'} | "
                     f"{len(scored) - passed if len(scored) else '-'} | {reported} |")
    failed = checks[checks["scored"] & ~checks["passed"].astype(bool)]
    if len(failed):
        lines += ["", "Failing:", ""]
        lines += [f"- [{r['case']}] {r['name']}: {r['reason']}" for _, r in failed.iterrows()]
    lines.append("")
    return "\n".join(lines)


SERVICE_COLUMNS_SHOWN = ("service", "scenario", "eligible", "used online by the end",
                         "electronic share, last year", "change against baseline")


def services_block(folder: Path, checks_path: Path, wall: str) -> str:
    """The comparison under the ``indonesia`` portfolio, per service (the compare app's
    ``service_summary.csv``), and the fit of that portfolio's own posterior to the published figures
    (its shipped ``calibration_<portfolio>.json``)."""
    cfg = run_config(folder)
    table = pd.read_csv(folder / "service_summary.csv")
    scenarios = list(dict.fromkeys(table["scenario"]))
    baseline = scenarios[0]

    def share(r: pd.Series, name: str) -> str:
        return (f"{r[f'{name}_mean']:.1%} [{r[f'{name}_p05']:.1%}, {r[f'{name}_p95']:.1%}]"
                if np.isfinite(r[f"{name}_mean"]) else "-")

    weights = {m: w for m, w in (cfg.get("use_measures") or {}).items() if w > 0}
    mixture = ", ".join(f"{m} {w / sum(weights.values()):.0%}" for m, w in weights.items())
    worlds = (f"each seed one draw of the portfolio's posterior under one measure of use (mixture "
              f"{mixture}; `experiments/data/posterior_indonesia[_<measure>].parquet`)"
              if cfg.get("uncertainty") == "posterior"
              else "every seed the same parameter set (uncertainty=none)")
    lines = [para(f"`make shipped` (step services: `python -m experiments.compare portfolio=indonesia`): "
                  f"{len(scenarios)} scenarios x {cfg.get('seeds', '?')} seeds, {worlds}, "
                  f"{int(cfg.get('n_citizens') or 0):,} citizens, {cfg.get('steps', '?')} forecast months; "
                  f"5%-95% across the runs in brackets; changes are paired by seed. **{wall}** wall."), "",
             "| " + " | ".join(SERVICE_COLUMNS_SHOWN) + " |", "|---|---|---:|---:|---:|---:|"]
    order = {name: i for i, name in enumerate(dict.fromkeys(table["service"]))}
    by_service = table.sort_values("service", key=lambda s: s.map(order), kind="stable")
    for _, r in by_service.iterrows():
        change = ("-" if r["scenario"] == baseline else
                  f"{100 * r['used_change_mean']:+.1f} pp [{100 * r['used_change_p05']:+.1f}, "
                  f"{100 * r['used_change_p95']:+.1f}]")
        lines.append(f"| {r['service']} | {r['scenario']} | {r['eligible_share']:.0%} | "
                     f"{share(r, 'used_final')} | {share(r, 'electronic_share_last_year')} | {change} |")
    checks = json.loads(checks_path.read_text(encoding="utf-8")) if checks_path.is_file() else []
    if checks:
        inside = sum(bool(c["inside"]) for c in checks)
        lines += ["", para(f"The portfolio's posterior against the published figures (`{checks_path.name}`): "
                           f"{inside} of {len(checks)} inside the 90% posterior predictive interval."), "",
                  "| target | service | date | observed | predicted [90%] | fitted | inside |",
                  "|---|---|---|---:|---:|---|---|"]
        for c in checks:
            lines.append(f"| {c['name']} | {c.get('service') or '-'} | {c['date']} | {c['observed']:.3g} | "
                         f"{c['predicted']:.3g} [{c['low']:.3g}, {c['high']:.3g}] | "
                         f"{'held out' if c['held_out'] else 'fitted'} | {'yes' if c['inside'] else 'no'} |")
    others = []
    for measure in use_measures()[1:]:
        other = shipped_checks("indonesia", measure)
        if other.is_file():
            found = json.loads(other.read_text(encoding="utf-8"))
            outside = [c["name"] for c in found if not c["inside"]]
            others.append(f"`{other.name}` (measure {measure}): {len(found) - len(outside)} of {len(found)} "
                          f"inside" + (f"; outside: {', '.join(outside)}" if outside else ""))
    if others:
        lines += ["", para("The posteriors under the other measures of use: " + "; ".join(others) + ".")]
    lines.append("")
    return "\n".join(lines)
