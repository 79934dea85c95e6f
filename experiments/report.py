"""The analyst's report: one document rendered as Markdown (``report.md``, figures linked) and as
self-contained HTML (``report.html``, figures embedded as base64 PNG).

A document is a list of blocks -- ``("h1" | "h2" | "h3", text)``, ``("p", text)``, ``("ul", [items])``,
``("table", header, rows)``, ``("fig", path, caption)`` -- so that both renderings say the same thing.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import sensitivity_summary
from experiments.figures import GAP_LABELS, group_columns
from sim.config import LEVERS
from sim.results import atomic_write

Block = tuple
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #333;padding-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.88em}th,td{border:1px solid #ccc;padding:.3em .55em;
text-align:left;vertical-align:top}th{background:#f0f0f0}tr:nth-child(even) td{background:#fafafa}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#555}
code{background:#f4f4f4;padding:0 .2em}
"""


# --------------------------------------------------------------------------- number formats
def _ok(*values: Any) -> bool:
    return all(v is not None and np.isfinite(float(v)) for v in values)


def pct(mean: float, low: float | None = None, high: float | None = None, digits: int = 1) -> str:
    if not _ok(mean):
        return "n/a"
    text = f"{mean:.{digits}%}"
    if low is not None and _ok(low, high):
        text += f" ({low:.{digits}%} to {high:.{digits}%})"
    return text


def pp(mean: float, low: float | None = None, high: float | None = None, digits: int = 1) -> str:
    """A change of a share, in percentage points."""
    if not _ok(mean):
        return "n/a"
    text = f"{mean * 100:+.{digits}f} pp"
    if low is not None and _ok(low, high):
        text += f" ({low * 100:+.{digits}f} to {high * 100:+.{digits}f})"
    return text


def num(mean: float, low: float | None = None, high: float | None = None, fmt: str = "{:,.0f}") -> str:
    if not _ok(mean):
        return "n/a"
    text = fmt.format(mean)
    if low is not None and _ok(low, high):
        text += f" ({fmt.format(low)} to {fmt.format(high)})"
    return text


def stat(row: pd.Series, metric: str) -> tuple[float, float, float]:
    return tuple(float(row.get(f"{metric}_{s}", np.nan)) for s in ("mean", "ci_low", "ci_high"))


def differs_from_zero(row: pd.Series, metric: str) -> bool | None:
    _, low, high = stat(row, metric)
    if not _ok(low, high):
        return None
    return low > 0 or high < 0


# --------------------------------------------------------------------------- rendering
def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block], base: Path) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            header, rows = block[1], block[2]
            lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
                     "|" + "|".join("---" for _ in header) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "fig":
            rel = Path(block[1]).relative_to(base).as_posix()
            out.append(f"![{block[2]}]({rel})\n\n*{block[2]}*")
    return "\n\n".join(out) + "\n"


def to_html(blocks: Sequence[Block], title: str) -> str:
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"]
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{esc(block[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{esc(block[1])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{esc(str(i))}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{esc(str(h))}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                           for row in block[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "fig":
            data = base64.b64encode(Path(block[1]).read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{esc(block[2])}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{esc(block[2])}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write(blocks: Sequence[Block], directory: Path, stem: str, title: str) -> tuple[Path, Path]:
    md, page = directory / f"{stem}.md", directory / f"{stem}.html"
    atomic_write(md, to_markdown(blocks, directory))
    atomic_write(page, to_html(blocks, title))
    return md, page


# --------------------------------------------------------------------------- policy comparison
def allocation_text(row: pd.Series) -> str:
    parts = [f"{lever} {row[f'alloc_{lever}']:.0%}" for lever in LEVERS if row.get(f"alloc_{lever}", 0) > 0]
    return ", ".join(parts) if parts else "no additional spending"


def _left_behind(row: pd.Series, k: int = 3) -> str:
    groups = [(label, row.get(f"{col}_mean", np.nan)) for _, label, col in group_columns()]
    groups = sorted((g for g in groups if _ok(g[1])), key=lambda g: g[1])[:k]
    return ", ".join(f"{label} ({value:.0%})" for label, value in groups)


def _gap_sentence(row: pd.Series, gap: str, baseline: str, is_baseline: bool) -> str:
    label = GAP_LABELS.get(gap, gap)
    mean = row.get(f"{gap}_mean", np.nan)
    if gap == "concentration_index":
        level = num(mean, fmt="{:+.3f}")
    else:
        level = pp(mean).replace(" pp", " pp").lstrip("+")
    if is_baseline:
        return f"{label} {level}"
    change = stat(row, f"{gap}_change")
    sig = differs_from_zero(row, f"{gap}_change")
    delta = num(*change, fmt="{:+.3f}") if gap == "concentration_index" else pp(*change)
    verdict = ("no clear change" if not sig else "narrows" if change[0] < 0 else "widens")
    return f"{label} {level}: {verdict} against {baseline} ({delta})"


def assumption_items(model_cfg: dict[str, Any], n_citizens: int) -> list[str]:
    """The settings that drive the comparison, with their values in these runs."""
    pop = model_cfg.get("population", {})
    par = model_cfg.get("params", {})
    costs, ad = par.get("costs", {}), par.get("adoption", {})
    bur, trust, plat = par.get("bureaucracy", {}), par.get("trust", {}), par.get("platform", {})
    pol = model_cfg.get("policy", {})
    total = pop.get("population_total", np.nan)
    budget = model_cfg.get("budget_idr_bn_per_month", np.nan)
    steps = model_cfg.get("steps", np.nan)
    smallest = min(pop.get("region_shares", [np.nan]))

    def million(key: str, digits: int = 1) -> str:
        return f"IDR {costs.get(key, np.nan) / 1e6:,.{digits}f} M"

    return [
        f"Scale: {n_citizens:,} agents stand for {total / 1e6:,.0f} million people "
        f"({total / max(n_citizens, 1):,.0f} each); the smallest island group holds about "
        f"{smallest * n_citizens:,.0f} agents, so its shares are the noisiest.",
        f"Budget: IDR {budget:,.0f} bn a month for every scenario but the baseline "
        f"(IDR {budget * steps / 1000:,.1f} trillion over {steps} months; an assumption, about 0.2% of the "
        "state budget). A lever spends less when it runs out of people to reach; the cost column shows "
        "what was actually spent.",
        f"Unit costs (assumptions): training {million('training_per_civil_servant')} per civil servant; "
        f"connectivity {million('infrastructure_per_person_covered')} per person newly covered; "
        f"literacy course {million('literacy_per_learner', 2)} per learner; co-production "
        f"{million('coproduction_per_participant', 2)} per participant; awareness campaign "
        f"{million('outreach_per_person_reached', 3)} per person reached; leadership programme "
        f"{million('leadership_per_office_head')} per office head; the stock levers (transparency, "
        "security, accessibility) work at half speed at IDR "
        f"{costs.get('stock_half_saturation_bn', np.nan):,.0f} bn a month. Each lever acts through its "
        "named mechanism only (awareness comes from the outreach lever, media and word of mouth).",
        f"Take-up and targeting (assumptions): at most {bur.get('training_takeup_max', np.nan):.0%} of "
        "civil servants accept training, fewer the more resistant they are; at most "
        f"{ad.get('course_takeup_max', np.nan):.0%} of citizens enrol in a course or co-production, fewer "
        "among the least literate and the oldest; targeted levers reach at most "
        f"{pol.get('target_share', np.nan):.0%} of the population, those most in need first.",
        f"Citizens' choice (UTAUT-style utility, assumptions calibrated to a slow start): intercept "
        f"{ad.get('intercept', np.nan)}, weights usefulness {ad.get('w_usefulness', np.nan)}, ease of use "
        f"{ad.get('w_ease', np.nan)}, social influence {ad.get('w_social', np.nan)}, trust "
        f"{ad.get('w_trust', np.nan)}; {ad.get('need_rate', np.nan):.0%} of citizens need a service each "
        f"month; literacy {ad.get('required_literacy', np.nan)} makes the platform fully usable.",
        f"Starting point: {pop.get('adoption_initial', np.nan):.0%} already use the services and "
        f"{pop.get('awareness_initial', np.nan):.0%} know of them (assumptions); mean trust "
        f"{pop.get('trust_mean', np.nan):.2f} (Edelman 2023); usable internet and digital literacy by "
        "region, age, income and urban/rural from APJII 2024 and IMDI 2024.",
        f"Bureaucracy: national political will {pol.get('political_will', np.nan)} in every scenario (a "
        "scenario setting that costs nothing; the costed leadership lever raises it office by office); "
        "training "
        f"closes {bur.get('training_competence_gain', np.nan):.0%} of a civil servant's competence gap and "
        f"removes {bur.get('training_resistance_cut', np.nan):.0%} of resistance; "
        f"{pop.get('staff_digital_initial', np.nan):.0%} of civil servants work digitally at the start.",
        f"Trust and security: a breach happens with probability up to {plat.get('breach_base', np.nan):.0%} "
        f"a month at zero security and costs users {trust.get('breach_loss', np.nan)} log-odds of trust "
        f"(others with internet access {trust.get('breach_spillover', np.nan):.0%} of that); successes, "
        "fair encounters and transparency raise trust, failures and unfair encounters lower it; "
        "neighbours' trust mixes in with weight "
        f"{trust.get('susceptibility', np.nan)} (Friedkin-Johnsen); platform reliability "
        f"{plat.get('reliability', np.nan):.0%}.",
        "A digital-first mandate (scenario mandate) is a rule, not spending: it costs nothing from the "
        "budget, puts everyone in need who has internet access and no exemption on the digital channel "
        "and cannot lapse them, and costs extra trust where that service fails. Compliance is complete "
        "and no political or enforcement cost is modelled, so its effect is an upper bound.",
        f"Awareness: {pop.get('awareness_initial', np.nan):.0%} of citizens know of the services at the "
        f"start and a campaign reaches a person for {million('outreach_per_person_reached', 3)} (both "
        "assumptions); the outreach scenario's effect rests on them.",
        "Reading the results: they compare scenarios under these assumptions; they are not forecasts. The "
        "95% intervals cover only the runs' random variation across seeds, not the uncertainty of the "
        "parameters above, most of which are assumptions.",
    ]


def compare_blocks(summary: pd.DataFrame, baseline: str, setup: dict[str, Any], figures: dict[str, Path],
                   model_cfg: dict[str, Any], gaps: Sequence[str]) -> list[Block]:
    """The comparison report as blocks (see module docstring)."""
    ranked = summary.sort_values("adoption_final_mean", ascending=False, kind="stable").reset_index(drop=True)
    others = ranked[ranked["scenario"] != baseline]
    base = summary.set_index("scenario").loc[baseline]
    budget = setup["budget_idr_bn_per_month"]
    blocks: list[Block] = [("h1", "Digital public services in Indonesia: policy scenario comparison")]
    blocks.append(("p", (
        f"{len(summary)} policy scenarios x {setup['seeds']} seeds on the {setup['population']} population "
        f"profile ({setup['n_citizens']:,} agents, {setup['population_total'] / 1e6:,.0f} million people), "
        f"{setup['steps']} months, {setup['network']} social network. Every scenario except {baseline} "
        f"spends up to IDR {budget:,.0f} bn a month. Ranges in brackets are 95% confidence intervals across "
        f"seeds; effects against {baseline} are paired by seed. Produced {setup['created']} in "
        f"{setup['wall_time']}.")))

    # ---- headline
    blocks.append(("h2", "Headline: which policy, for whom, at what cost"))
    items = []
    if not others.empty:
        top = others.iloc[0]
        items.append(f"Highest final adoption: {top['scenario']}, {pct(*stat(top, 'adoption_final'))}, "
                     f"against {pct(base['adoption_final_mean'])} under {baseline}: "
                     f"{num(*(v / 1e6 for v in stat(top, 'additional_adopters')), fmt='{:+,.1f}')} million "
                     "more people using digital public services.")
        tied = setup.get("tied_with_top") or []
        if tied:
            items.append(f"Not distinguishable from {top['scenario']} in final adoption (the interval of the "
                         f"paired difference includes zero): {', '.join(tied)}.")
        ce = others.sort_values("additional_adopters_per_idr_bn_mean", ascending=False).iloc[0]
        per_adopter = 1e9 / max(ce["additional_adopters_per_idr_bn_mean"], 1e-9) / 1e3
        items.append(f"Most adopters per rupiah: {ce['scenario']}, "
                     f"{num(*stat(ce, 'additional_adopters_per_idr_bn'), fmt='{:,.0f}')} additional adopters "
                     f"per IDR bn (about IDR {per_adopter:,.0f} thousand per additional adopter).")
        if "gap_urban_rural_change_mean" in others:
            eq = others.sort_values("gap_urban_rural_change_mean").iloc[0]
            items.append(f"Largest cut of the urban-rural gap: {eq['scenario']} "
                         f"({pp(*stat(eq, 'gap_urban_rural_change'))} against {baseline}).")
        if "gap_income_q5_q1_change_mean" in others:
            eq = others.sort_values("gap_income_q5_q1_change_mean").iloc[0]
            items.append(f"Largest cut of the richest-poorest gap: {eq['scenario']} "
                         f"({pp(*stat(eq, 'gap_income_q5_q1_change'))}).")
        flat = [r["scenario"] for _, r in others.iterrows()
                if differs_from_zero(r, "adoption_change") is False]
        if flat:
            items.append("No adoption gain distinguishable from the baseline (the interval of the paired "
                         f"difference includes zero): {', '.join(flat)}.")
    blocks.append(("ul", items))
    header = ["rank", "scenario", "final adoption", f"additional adopters vs {baseline} (million)",
              "adopters per IDR bn", "urban-rural gap", "richest-poorest gap", "island-group gap",
              "mean trust", "civil servants digital", "months to 25%", "spent (IDR bn)"]
    rows = []
    for i, r in ranked.iterrows():
        is_base = r["scenario"] == baseline
        rows.append([
            r["rank"] if "rank" in r else i + 1, r["scenario"], pct(*stat(r, "adoption_final")),
            "-" if is_base else num(*(v / 1e6 for v in stat(r, "additional_adopters")), fmt="{:+,.2f}"),
            "-" if is_base else num(*stat(r, "additional_adopters_per_idr_bn"), fmt="{:,.0f}"),
            pp(r["gap_urban_rural_mean"]).lstrip("+"), pp(r["gap_income_q5_q1_mean"]).lstrip("+"),
            pp(r["gap_region_max_min_mean"]).lstrip("+"), num(r["trust_mean_final_mean"], fmt="{:.3f}"),
            pct(r["digital_staff_share_final_mean"]),
            num(r["months_to_25pct_mean"], fmt="{:.0f}") if _ok(r["months_to_25pct_mean"]) else "not reached",
            num(r["cost_idr_bn_mean"]),
        ])
    blocks.append(("table", header, rows))
    blocks.append(("p", "Gaps are differences of adoption shares in percentage points at the end of the "
                        "horizon (positive: the first group is ahead). 'months to 25%' averages the seeds "
                        "that reach it."))

    # ---- scenarios
    blocks.append(("h2", "What each scenario does"))
    rows = [[r["scenario"], r["description"], allocation_text(r), r["targeting"], num(r["cost_idr_bn_mean"])]
            for _, r in summary.iterrows()]
    header = ["scenario", "what it does", "budget split", "targeting", "spent (IDR bn)"]
    blocks.append(("table", header, rows))

    # ---- equity
    blocks.append(("h2", "The equity picture: who is left behind"))
    blocks.append(("p", "For each scenario, the three groups with the lowest final adoption, and each "
                        f"equity gap with its change against {baseline} (narrows / widens only when the 95% "
                        "interval of the paired change excludes zero)."))
    items = []
    for _, r in ranked.iterrows():
        is_base = r["scenario"] == baseline
        sentences = "; ".join(_gap_sentence(r, g, baseline, is_base) for g in gaps[:3])
        items.append(f"{r['scenario']}: left behind: {_left_behind(r)}. {sentences}.")
    blocks.append(("ul", items))
    if "heatmap" in figures:
        blocks.append(("fig", figures["heatmap"],
                       "Final adoption by group and scenario (mean across seeds)."))
    if "gaps" in figures:
        blocks.append(("fig", figures["gaps"],
                       "Equity gaps per scenario with 95% intervals; dashed line: baseline."))
    header = ["scenario", *[f"{GAP_LABELS.get(g, g)}: change" for g in gaps]]
    rows = []
    for _, r in ranked.iterrows():
        if r["scenario"] == baseline:
            continue
        cells = [num(*stat(r, f"{g}_change"), fmt="{:+.3f}") if g == "concentration_index"
                 else pp(*stat(r, f"{g}_change")) for g in gaps]
        rows.append([r["scenario"], *cells])
    blocks.append(("p", f"Change of each equity gap against {baseline} (negative: narrower)."))
    blocks.append(("table", header, rows))

    # ---- dynamics
    blocks.append(("h2", "Over time"))
    for key, caption in (("adoption", "Adoption over time per scenario, mean and 95% band."),
                         ("trust", "Mean trust of citizens in government over time, mean and 95% band."),
                         ("staff", "Share of civil servants working digitally over time.")):
        if key in figures:
            blocks.append(("fig", figures[key], caption))

    # ---- cost-effectiveness
    blocks.append(("h2", "At what cost"))
    if "cost" in figures:
        blocks.append(("fig", figures["cost"],
                       "Cost-effectiveness and the adoption-equity trade-off (95% intervals)."))
    header = ["scenario", "spent (IDR bn)", "additional adopters (million)", "per IDR bn",
              "urban-rural gap change per IDR trillion", "richest-poorest gap change per IDR trillion"]
    rows = []
    for _, r in others.sort_values("additional_adopters_per_idr_bn_mean", ascending=False).iterrows():
        rows.append([
            r["scenario"], num(r["cost_idr_bn_mean"]),
            num(*(v / 1e6 for v in stat(r, "additional_adopters")), fmt="{:+,.2f}"),
            num(*stat(r, "additional_adopters_per_idr_bn"), fmt="{:,.0f}"),
            pp(*(v * 1000 for v in stat(r, "gap_urban_rural_change_per_idr_bn")), digits=2),
            pp(*(v * 1000 for v in stat(r, "gap_income_q5_q1_change_per_idr_bn")), digits=2),
        ])
    blocks.append(("table", header, rows))

    # ---- assumptions
    blocks.append(("h2", "Assumptions that drive these results"))
    blocks.append(("ul", assumption_items(model_cfg, setup["n_citizens"])))
    blocks.append(("p", sensitivity_summary.headline_sentence()))
    blocks.append(("h2", "Files"))
    blocks.append(("ul", [
        "runs.parquet: one row per run x month (scenario, seed, month, every monthly metric)",
        "run_summaries.csv: one row per run (every summary metric)",
        "scenario_summary.csv: one row per scenario: <metric>_mean, <metric>_ci_low, <metric>_ci_high, and "
        "the effects against the baseline, absolute and per IDR bn",
        "figures/: the figures above; runs/: every run's folder (config, time series, summary)",
    ]))
    return blocks


# --------------------------------------------------------------------------- frontier
def frontier_blocks(table: pd.DataFrame, setup: dict[str, Any], figure: Path | None, objective: str,
                    equity_metrics: Sequence[str]) -> list[Block]:
    curves = table[table["pair"] != "reference"]
    blocks: list[Block] = [("h1", "Budget frontier")]
    blocks.append(("p", (
        f"One budget of IDR {setup['budget_idr_bn_per_month']:,.0f} bn a month split between two levers in "
        f"{setup['n_splits']} steps, {setup['seeds']} seeds each, on the {setup['population']} profile "
        f"({setup['n_citizens']:,} agents, {setup['steps']} months). The best split maximises the mean "
        f"of {objective}; its range is the 95% interval of the best share over bootstrap resamples of the "
        f"seeds. Produced {setup['created']} in {setup['wall_time']}.")))
    items = []
    if setup["seeds"] < 5:
        items.append(f"Only {setup['seeds']} seeds: intervals are wide and the bootstrap over seeds is not "
                     "computed (it needs at least 5); run with seeds=10 or more before choosing a split.")
    for pair in dict.fromkeys(curves["pair"]):
        d = curves[curves["pair"] == pair]
        top = d[d["top_split"].astype(bool)].iloc[0] if "top_split" in d else d.iloc[0]
        where = f"{top['share_a']:.0%} {top['lever_a']} / {top['share_b']:.0%} {top['lever_b']}"
        if bool(top.get("is_best", False)):
            text = (f"{pair}: best split {where}: {objective} {num(*stat(top, objective), fmt='{:.3f}')}, "
                    "ahead of both neighbouring splits (paired 95% intervals over seeds)")
            if _ok(top.get("p_best", np.nan)):
                text += (f"; best share 95% range {pct(top['best_share_ci_low'], digits=0)} to "
                         f"{pct(top['best_share_ci_high'], digits=0)} (chosen in {top['p_best']:.0%} of "
                         "resamples)")
            items.append(text + ".")
        else:
            items.append(f"{pair}: no split is distinguishable from its neighbours; the highest mean, "
                         f"{where}, is within the paired 95% interval of a neighbouring split.")
        spent = d["cost_idr_bn_mean"].to_numpy(dtype=float)
        if np.isfinite(spent).all() and spent.max() > 0 and spent.min() < 0.95 * spent.max():
            low = d.iloc[int(np.argmin(spent))]
            items.append(f"{pair}: the {low['share_a']:.0%} {low['lever_a']} split spent "
                         f"{1 - spent.min() / spent.max():.0%} less than the split that spent most: a lever "
                         "that runs out of people to reach returns its money.")
    blocks.append(("ul", items))
    if figure is not None:
        blocks.append(("fig", figure, "Final adoption and equity gaps against the share of the budget on the "
                                      "first lever; 95% bands; star: best split."))
    header = ["pair", "share of first lever", objective, *[GAP_LABELS.get(g, g) for g in equity_metrics],
              "spent (IDR bn)", "P(best)"]
    rows = []
    for _, r in table.iterrows():
        share = "no extra spending" if r["pair"] == "reference" else f"{r['share_a']:.0%} {r['lever_a']}"
        rows.append([r["pair"], share, num(*stat(r, objective), fmt="{:.3f}"),
                     *[num(*stat(r, g), fmt="{:.3f}") for g in equity_metrics], num(r["cost_idr_bn_mean"]),
                     pct(r["p_best"], digits=0) if _ok(r.get("p_best", np.nan)) else "-"])
    blocks.append(("table", header, rows))
    return blocks
