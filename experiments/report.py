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
from scipy.special import stdtrit

from experiments import aggregate, sensitivity_summary
from experiments.aggregate import MIN_SEEDS, is_share, metric_unit
from sim.config import AGE_BANDS, LEVERS, REGIONS
from sim.metrics import AGE_KEYS, METRICS, REGION_KEYS
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


# --------------------------------------------------------------------------- words
# Every name a reader sees, in words. Scenario names and descriptions come from the policy files
# (configs/policy/*.yaml, through each run's config); metrics from their declarations in sim.metrics.
LEVER_LABELS: dict[str, str] = {
    "training": "civil-servant training", "infrastructure": "connectivity",
    "literacy": "digital-literacy courses", "coproduction": "co-production with citizens",
    "transparency": "published performance data", "security": "data security",
    "accessibility": "accessibility of the platform", "outreach": "awareness campaign",
    "leadership": "leadership programme for office heads",
}
TARGETING_LABELS: dict[str, str] = {
    "universal": "everyone", "rural": "rural residents", "low_literacy": "the least literate",
    "elderly": "the elderly", "poorest": "the poorest", "outer_islands": "the outer islands",
    "left_behind": "those left behind (rural, outer islands, elderly, poorest, least literate)",
}
# Summary metrics that are not a monthly metric's final value, and short forms for axes and headers.
_SUMMARY_LABELS: dict[str, str] = {
    "adoption_final": "final adoption", "adoption": "adoption", "trust_mean_final": "final mean trust",
    "trust_mean": "mean trust", "digital_staff_share_final": "civil servants working digitally at the end",
    "digital_staff_share": "civil servants working digitally", "cost_idr_bn": "spent over the run (IDR bn)",
    "months_to_25pct": "months to 25% adoption", "months_to_50pct": "months to 50% adoption",
    "trust_change": "change of mean trust", "concentration_index": "concentration index of adoption "
    "over income (> 0: richer)",
}
_METRIC_DESCRIPTIONS = {m.name: m.description for m in METRICS}


def words(name: str) -> str:
    """A name as words: underscores become spaces (for names nothing else describes)."""
    return str(name).replace("_", " ")


def metric_label(metric: str) -> str:
    """A metric in words: its declaration in sim.metrics (final values and changes named as such)."""
    if metric in _SUMMARY_LABELS:
        return _SUMMARY_LABELS[metric]
    if metric.endswith("_change"):
        return f"change of {metric_label(metric[: -len('_change')])}"
    base = metric.removesuffix("_final")
    if base in _METRIC_DESCRIPTIONS:
        return _METRIC_DESCRIPTIONS[base]
    return words(metric)


def group_columns() -> list[tuple[str, str, str]]:
    """(dimension, short label, summary column) of every group adoption is reported by (the groups of
    sim.metrics, labelled short enough for a table header or a heatmap column)."""
    cols = [("area", "urban", "adoption_urban_final"), ("area", "rural", "adoption_rural_final")]
    cols += [("island group", r, f"adoption_{k}_final") for k, r in zip(REGION_KEYS, REGIONS, strict=True)]
    fifths = ["poorest fifth", "2nd income fifth", "middle income fifth", "4th income fifth", "richest fifth"]
    cols += [("income", f, f"adoption_q{q}_final") for q, f in enumerate(fifths, start=1)]
    cols += [("age", f"aged {a}", f"adoption_{k}_final") for k, a in zip(AGE_KEYS, AGE_BANDS, strict=True)]
    thirds = ["least literate third", "middle literacy third", "most literate third"]
    cols += [("literacy", t, f"adoption_literacy_t{i}_final") for i, t in enumerate(thirds, start=1)]
    return cols


def lever_label(lever: str) -> str:
    return LEVER_LABELS.get(lever, words(lever))


def targeting_label(targeting: str) -> str:
    return TARGETING_LABELS.get(targeting, words(targeting))


def scenario_label(name: str) -> str:
    """A scenario as named in its policy file (configs/policy/<name>.yaml), in words."""
    return words(name)


# --------------------------------------------------------------------------- number formats
def _ok(*values: Any) -> bool:
    return all(v is not None and np.isfinite(float(v)) for v in values)


def interval_decimals(half_width: float) -> int:
    """Decimal places a value with a 95 % interval of this half-width can carry: the half-width to one
    significant digit, two when it begins with 1 (so 0.14 does not become 0.1), and the value to the
    same place. Negative: round to tens, hundreds, ... A digit beyond that is noise across seeds."""
    if not _ok(half_width) or half_width <= 0:
        raise ValueError(f"half-width must be a positive number, not {half_width!r}")
    exponent = int(np.floor(np.log10(half_width)))
    leading = half_width / 10.0 ** exponent
    if round(leading) >= 10:  # 9.6 rounds to 10: one order up
        exponent, leading = exponent + 1, 1.0
    digits = 2 if leading < 2 else 1
    return digits - 1 - exponent


def round_to_interval(value: float, half_width: float) -> float:
    """``value`` rounded to the digits its interval half-width supports (:func:`interval_decimals`)."""
    return round(float(value), interval_decimals(half_width))


def estimate(mean: float, low: float | None = None, high: float | None = None, *, scale: float = 1.0,
             unit: str = "", sign: bool = False, interval: bool = True, unit_each: bool = False,
             decimals: int = 1, grouping: bool = True) -> str:
    """A mean with its 95 % interval as text, every number rounded to the precision the interval
    supports (:func:`interval_decimals`; ``decimals`` only where there is no interval, or it has no
    width). ``scale`` converts (100 for percent), ``interval=False`` writes the mean alone (still
    rounded by its interval), ``unit_each`` repeats the unit on the bounds ("5% (3% to 7%)")."""
    if not _ok(mean):
        return "n/a"
    has_ci = low is not None and high is not None and _ok(low, high)
    half = max(high - mean, mean - low) * abs(scale) if has_ci else np.nan
    # a width at the level of floating-point noise is no width (identical values across seeds)
    width = _ok(half) and half > 1e-9 * max(abs(mean * scale), 1.0)
    places = interval_decimals(half) if width else decimals

    def one(x: float) -> str:
        x = round(float(x) * scale, places) + 0.0  # + 0.0: no "-0"
        return f"{x:{'+' if sign else ''}{',' if grouping else ''}.{max(places, 0)}f}"

    text = one(mean) + unit
    if interval and has_ci:
        bound_unit = unit if unit_each else ""
        text += f" ({one(low)}{bound_unit} to {one(high)}{bound_unit})"
    return text


def pct(mean: float, low: float | None = None, high: float | None = None, digits: int = 1,
        interval: bool = True) -> str:
    """A share in percent, with its interval."""
    return estimate(mean, low, high, scale=100.0, unit="%", unit_each=True, decimals=digits,
                    interval=interval)


def pp(mean: float, low: float | None = None, high: float | None = None, digits: int = 1,
       interval: bool = True, sign: bool = True) -> str:
    """A difference of shares, in percentage points, with its interval."""
    return estimate(mean, low, high, scale=100.0, unit=" pp", sign=sign, decimals=digits, interval=interval)


def num(mean: float, low: float | None = None, high: float | None = None, fmt: str = "{:,.0f}",
        interval: bool = True) -> str:
    """A number with its interval: rounded as the interval supports, else as ``fmt`` says (whose sign
    flag is kept)."""
    if not _ok(mean):
        return "n/a"
    if low is None or not _ok(low, high) or high - low <= 1e-9 * max(abs(mean), 1.0):
        return fmt.format(mean)
    return estimate(mean, low, high, sign="+" in fmt, interval=interval)


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
def few_seeds_warning(n_seeds: int, per: str = "scenario") -> str | None:
    """The warning a report opens with when it rests on fewer than MIN_SEEDS seeds, else None."""
    if n_seeds >= MIN_SEEDS:
        return None
    tcrit, t10 = (float(stdtrit(max(n - 1, 1), 0.975)) for n in (n_seeds, 10))
    return (f"Warning: only {n_seeds} seed{'s' if n_seeds != 1 else ''} per {per}, so the 95% intervals "
            f"are wide (each reaches {tcrit:.1f} standard errors either side, against {t10:.1f} with 10 "
            "seeds) and a ranking or a best choice can change with more runs. Run with seeds=10 or more "
            "before acting on these results.")


def allocation_text(row: pd.Series) -> str:
    """The policy's split of the budget between levers, in words."""
    parts = [f"{lever_label(lever)} {row[f'alloc_{lever}']:.0%}" for lever in LEVERS
             if row.get(f"alloc_{lever}", 0) > 0]
    return ", ".join(parts) if parts else "no additional spending"


def spending_cells(row: pd.Series) -> tuple[str, str]:
    """What a scenario spent per month (over the months it could spend) and over the whole run, with a
    note when it could not spend its budget."""
    months = int(row.get("budget_months", 0) or 0)
    mean, low, high = stat(row, "cost_idr_bn")
    if not _ok(mean) or mean <= 0:
        return "0", "0"
    per_month = num(*(v / max(months, 1) for v in (mean, low, high)), interval=False)
    total = num(mean, low, high, interval=False)
    if bool(row.get("underspent", False)):
        share = pct(*stat(row, "budget_spent_share"), interval=False)
        per_month += f" (could not spend its budget: {share} of it)"
    return per_month, total


def _left_behind(row: pd.Series, k: int = 3) -> str:
    groups = [(label, col) for _, label, col in group_columns() if _ok(row.get(f"{col}_mean", np.nan))]
    groups = sorted(groups, key=lambda g: row[f"{g[1]}_mean"])[:k]
    return ", ".join(f"{label} ({pct(*stat(row, col), interval=False)})" for label, col in groups)


def value_text(row: pd.Series, metric: str, interval: bool = True, sign: bool | None = None) -> str:
    """A metric of a table row in its unit: a share in percent, a gap between shares or a change of a
    share in percentage points, anything else as a number (changes signed unless told otherwise)."""
    signed = metric.endswith("_change") if sign is None else sign
    if metric_unit(metric) == "share" and not metric.endswith("_change"):
        return pct(*stat(row, metric), interval=interval)
    if is_share(metric):
        return pp(*stat(row, metric), interval=interval, sign=signed)
    return estimate(*stat(row, metric), interval=interval, sign=signed, decimals=3)


def _gap_sentence(row: pd.Series, gap: str, baseline: str, is_baseline: bool) -> str:
    label = metric_label(gap)
    level = value_text(row, gap, interval=False, sign=False)
    if is_baseline:
        return f"{label} {level}"
    sig = differs_from_zero(row, f"{gap}_change")
    verdict = ("no clear change" if not sig else "narrows" if row[f"{gap}_change_mean"] < 0 else "widens")
    change = value_text(row, f"{gap}_change")
    return f"{label} {level}: {verdict} against {scenario_label(baseline)} ({change})"


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


def uncertainty_blocks(summary: pd.DataFrame, baseline: str, setup: dict[str, Any]) -> list[Block]:
    """What the intervals cover, and which conclusions survive parameter uncertainty."""
    if setup.get("uncertainty") != "posterior":
        return [("p", "Intervals cover run-to-run noise and nothing else: every run uses the declared "
                      "default parameters (uncertainty=none); they do not show how much of a result "
                      "rests on assumed parameter values.")]
    others = summary[summary["scenario"] != baseline]
    best = summary.sort_values("p_best", ascending=False, kind="stable").iloc[0]
    holds = [scenario_label(r["scenario"]) for _, r in others.iterrows()
             if differs_from_zero(r, "adoption_change")]
    fails = [scenario_label(r["scenario"]) for _, r in others.iterrows()
             if differs_from_zero(r, "adoption_change") is False]
    items = [f"Ranks first on final adoption in {best['p_best']:.0%} of the posterior draws: "
             f"{scenario_label(best['scenario'])}" + (
                 "." if best["p_best"] >= 0.9 else " (a ranking that parameter uncertainty can overturn; "
                 "scenario_summary.csv gives every scenario's share of first places).")]
    if holds:
        items.append("Adoption gain against the baseline that survives parameter uncertainty (paired "
                     f"interval above zero across posterior draws): {', '.join(holds)}.")
    if fails:
        items.append(f"Adoption gain that does not survive it (interval includes zero): {', '.join(fails)}.")
    return [("h2", "Parameter uncertainty"),
            ("p", f"Each seed runs one draw of the calibrated posterior ({setup.get('posterior_file')}), "
                  "the same draw for every scenario, so the intervals below cover parameter uncertainty "
                  "and run-to-run noise together."),
            ("ul", items)]


def compare_blocks(summary: pd.DataFrame, baseline: str, setup: dict[str, Any], figures: dict[str, Path],
                   model_cfg: dict[str, Any], gaps: Sequence[str]) -> list[Block]:
    """The comparison report as blocks (see module docstring)."""
    ranked = summary.sort_values("adoption_final_mean", ascending=False, kind="stable").reset_index(drop=True)
    others = ranked[ranked["scenario"] != baseline]
    base = summary.set_index("scenario").loc[baseline]
    base_name = scenario_label(baseline)
    budget, steps = setup["budget_idr_bn_per_month"], setup["steps"]
    blocks: list[Block] = [("h1", "Digital public services in Indonesia: policy scenario comparison")]
    warning = few_seeds_warning(setup["seeds"])
    if warning:
        blocks.append(("p", warning))
    blocks.append(("p", (
        f"{len(summary)} policy scenarios x {setup['seeds']} seeds on the {words(setup['population'])} "
        f"population profile ({setup['n_citizens']:,} agents, {setup['population_total'] / 1e6:,.0f} million "
        f"people), {steps} months, {words(setup['network'])} social network. Every scenario with spending "
        f"may spend up to IDR {budget:,.0f} bn a month (IDR {budget * steps:,.0f} bn over {steps} months). "
        f"Ranges in brackets are 95% confidence intervals across seeds; effects against {base_name} are "
        "paired by seed (each scenario's run minus the baseline's run with the same seed), and every "
        "number is rounded to the digits its interval supports. "
        f"Produced {setup['created']} in {setup['wall_time']}.")))

    blocks += uncertainty_blocks(summary, baseline, setup)
    # ---- headline
    blocks.append(("h2", "Headline: which policy, for whom, at what cost"))
    items = []
    if not others.empty:
        top = others.iloc[0]
        items.append(f"Highest final adoption: {scenario_label(top['scenario'])}, "
                     f"{pct(*stat(top, 'adoption_final'))}, against {pct(*stat(base, 'adoption_final'))} "
                     f"under {base_name}: {pp(*stat(top, 'adoption_change'))}, or "
                     f"{num(*(v / 1e6 for v in stat(top, 'additional_adopters')), fmt='{:+,.1f}')} million "
                     "more people using digital public services.")
        tied = setup.get("tied_with_top") or []
        if tied:
            items.append(f"Not distinguishable from {scenario_label(top['scenario'])} in final adoption (the "
                         "interval of the paired difference includes zero), so they share rank 1: "
                         f"{', '.join(scenario_label(t) for t in tied)}.")
        paid = others[others["cost_idr_bn_mean"] > 0]
        if not paid.empty:
            ce = paid.sort_values("additional_adopters_per_idr_bn_mean", ascending=False).iloc[0]
            per_adopter = 1e6 / max(ce["additional_adopters_per_idr_bn_mean"], 1e-9)
            spent = (f"; it could not spend its budget and spent "
                     f"{pct(*stat(ce, 'budget_spent_share'), interval=False)} of it"
                     if bool(ce.get("underspent", False)) else "")
            items.append(f"Most adopters per rupiah spent: {scenario_label(ce['scenario'])}, "
                         f"{num(*stat(ce, 'additional_adopters_per_idr_bn'))} additional adopters per IDR bn "
                         f"(about IDR {num(per_adopter, fmt='{:,.0f}')} thousand per additional adopter"
                         f"{spent}).")
        for gap, what in (("gap_urban_rural", "urban-rural"), ("gap_income_q5_q1", "richest-poorest")):
            if f"{gap}_change_mean" in others:
                eq = others.sort_values(f"{gap}_change_mean").iloc[0]
                verdict = "" if differs_from_zero(eq, f"{gap}_change") else " (the interval includes zero)"
                items.append(f"Largest cut of the {what} gap: {scenario_label(eq['scenario'])} "
                             f"({value_text(eq, f'{gap}_change')} against {base_name}){verdict}.")
        flat = [scenario_label(r["scenario"]) for _, r in others.iterrows()
                if differs_from_zero(r, "adoption_change") is False]
        if flat:
            items.append("No adoption gain distinguishable from the baseline (the interval of the paired "
                         f"difference includes zero): {', '.join(flat)}.")
        under = [r for _, r in others.iterrows() if bool(r.get("underspent", False))]
        if under:
            items.append("Could not spend their budget (a lever ran out of willing, eligible people to reach "
                         "and returned the money), so compare what they spent: " + ", ".join(
                             f"{scenario_label(r['scenario'])} spent "
                             f"{pct(*stat(r, 'budget_spent_share'), interval=False)} of it" for r in under)
                         + ".")
    blocks.append(("ul", items))
    header = ["rank", "scenario", "final adoption", f"change against {base_name}",
              "additional adopters (million)", "additional adopters per IDR bn spent",
              "urban-rural gap", "richest-poorest gap", "island-group gap", "mean trust (0 to 1)",
              "civil servants working digitally", "months to 25% adoption",
              "spent per month (IDR bn)", f"spent over {steps} months (IDR bn)"]
    rows = []
    for i, r in ranked.iterrows():
        is_base = r["scenario"] == baseline
        per_month, total = spending_cells(r)
        rows.append([
            r["rank"] if "rank" in r else i + 1, scenario_label(r["scenario"]),
            pct(*stat(r, "adoption_final")),
            "-" if is_base else pp(*stat(r, "adoption_change")),
            "-" if is_base else num(*(v / 1e6 for v in stat(r, "additional_adopters")), fmt="{:+,.2f}"),
            "-" if is_base or not r["cost_idr_bn_mean"] > 0
            else num(*stat(r, "additional_adopters_per_idr_bn")),
            *(value_text(r, g, interval=False, sign=False) for g in
              ("gap_urban_rural", "gap_income_q5_q1", "gap_region_max_min")),
            estimate(*stat(r, "trust_mean_final"), interval=False, decimals=3),
            pct(*stat(r, "digital_staff_share_final"), interval=False),
            estimate(*stat(r, "months_to_25pct"), interval=False, decimals=0)
            if _ok(r["months_to_25pct_mean"]) else "not reached",
            per_month, total,
        ])
    blocks.append(("table", header, rows))
    blocks.append(("p", "Rank 1= marks the scenarios whose paired difference from the highest one "
                        "includes zero. Gaps are differences of adoption shares in percentage points at the "
                        "end of the horizon (positive: the first group is ahead), rounded as their intervals "
                        "allow (the "
                        "intervals are in scenario_summary.csv). Months to 25% adoption averages the seeds "
                        "that reach it. Spending per month is over the months a scenario may spend."))

    # ---- scenarios
    blocks.append(("h2", "What each scenario does"))
    rows = []
    for _, r in summary.iterrows():
        rows.append([scenario_label(r["scenario"]), r["description"], allocation_text(r),
                     targeting_label(r["targeting"]), *spending_cells(r)])
    header = ["scenario", "what it does", "budget split", "aimed at", "spent per month (IDR bn)",
              f"spent over {steps} months (IDR bn)"]
    blocks.append(("table", header, rows))

    # ---- equity
    blocks.append(("h2", "The equity picture: who is left behind"))
    blocks.append(("p", "For each scenario, the three groups with the lowest final adoption, and each "
                        f"equity gap with its change against {base_name} (narrows / widens only when the 95% "
                        "interval of the paired change excludes zero)."))
    items = []
    for _, r in ranked.iterrows():
        is_base = r["scenario"] == baseline
        sentences = "; ".join(_gap_sentence(r, g, baseline, is_base) for g in gaps[:3])
        items.append(f"{scenario_label(r['scenario'])}: lowest adoption: {_left_behind(r)}. "
                     f"{sentences}.")
    blocks.append(("ul", items))
    if "heatmap" in figures:
        blocks.append(("fig", figures["heatmap"],
                       f"Final adoption by group: {base_name}'s level, and each scenario's change from it in "
                       "percentage points, paired by seed (grey: the 95% interval includes zero)."))
    if "gaps" in figures:
        blocks.append(("fig", figures["gaps"],
                       f"Change of each equity gap against {base_name}, paired by seed, with 95% intervals "
                       "(the same as in the table below)."))
    header = ["scenario", *[f"{metric_label(g)}: change" for g in gaps]]
    rows = [[scenario_label(r["scenario"]), *(value_text(r, f"{g}_change") for g in gaps)]
            for _, r in ranked.iterrows() if r["scenario"] != baseline]
    blocks.append(("p", f"Change of each equity gap against {base_name} (negative: narrower), percentage "
                        "points; the concentration index in index points."))
    blocks.append(("table", header, rows))

    # ---- dynamics
    blocks.append(("h2", "Over time"))
    for key, what in (("adoption", "Adoption"), ("trust", "Mean trust of citizens in government"),
                      ("staff", "The share of civil servants working digitally")):
        if key in figures:
            blocks.append(("fig", figures[key],
                           f"{what} over time: {base_name}'s level with its 95% band, and each scenario's "
                           f"difference from {base_name}, paired by seed, with its 95% band."))

    # ---- cost-effectiveness
    blocks.append(("h2", "At what cost"))
    if "cost" in figures:
        blocks.append(("fig", figures["cost"],
                       "Cost-effectiveness and the adoption-equity trade-off (95% intervals of the paired "
                       "differences; hatched or hollow: could not spend its budget)."))
    header = ["scenario", "spent per month (IDR bn)", f"spent over {steps} months (IDR bn)",
              "additional adopters (million)", "per IDR bn spent",
              "urban-rural gap change per IDR trillion", "richest-poorest gap change per IDR trillion"]
    rows = []
    paid = others[others["cost_idr_bn_mean"] > 0]
    for _, r in paid.sort_values("additional_adopters_per_idr_bn_mean", ascending=False).iterrows():
        rows.append([
            scenario_label(r["scenario"]), *spending_cells(r),
            num(*(v / 1e6 for v in stat(r, "additional_adopters")), fmt="{:+,.2f}"),
            num(*stat(r, "additional_adopters_per_idr_bn")),
            pp(*(v * 1000 for v in stat(r, "gap_urban_rural_change_per_idr_bn")), digits=2),
            pp(*(v * 1000 for v in stat(r, "gap_income_q5_q1_change_per_idr_bn")), digits=2),
        ])
    blocks.append(("table", header, rows))
    free = [scenario_label(s) for s in others.loc[~(others["cost_idr_bn_mean"] > 0), "scenario"]]
    if free:
        blocks.append(("p", f"Spending nothing, and so left out of this table: {', '.join(free)}."))

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
def _split_text(row: pd.Series) -> str:
    return (f"{row['share_a']:.0%} {lever_label(row['lever_a'])} / {row['share_b']:.0%} "
            f"{lever_label(row['lever_b'])}")


def frontier_blocks(table: pd.DataFrame, setup: dict[str, Any], figure: Path | None, objective: str,
                    equity_metrics: Sequence[str]) -> list[Block]:
    """The frontier's summary as blocks: the best split per pair only where it beats both neighbours,
    the splits that could not spend their budget, and one row per split."""
    curves = table[table["pair"] != "reference"]
    has_ref = (table["pair"] == "reference").any()
    goal = metric_label(objective)
    budget, steps = setup["budget_idr_bn_per_month"], setup["steps"]
    blocks: list[Block] = [("h1", "Budget frontier")]
    warning = few_seeds_warning(setup["seeds"], per="split")
    if warning:
        blocks.append(("p", warning + " The bootstrap range of the best share is not computed below "
                                      f"{MIN_SEEDS} seeds."))
    blocks.append(("p", (
        f"One budget of IDR {budget:,.0f} bn a month (IDR {budget * steps:,.0f} bn over {steps} months) "
        f"split between two levers in {setup['n_splits']} steps, {setup['seeds']} seeds each, on the "
        f"{words(setup['population'])} profile ({setup['n_citizens']:,} agents, {steps} months). The "
        f"highest mean of {goal} names a best split only when it beats both neighbouring splits in the "
        f"paired 95% interval over seeds; from {MIN_SEEDS} seeds on, the range of the best share is the "
        "95% interval over bootstrap resamples of "
        "the seeds. Every number is rounded to the digits its interval supports. Produced "
        f"{setup['created']} in {setup['wall_time']}.")))
    items = []
    for pair in dict.fromkeys(curves["pair"]):
        d = curves[curves["pair"] == pair]
        top = d[d["top_split"].astype(bool)].iloc[0] if "top_split" in d else d.iloc[0]
        name = f"{lever_label(top['lever_a'])} against {lever_label(top['lever_b'])}"
        value = value_text(top, objective)
        if bool(top.get("is_best", False)):
            text = (f"{name}: best split {_split_text(top)}, {goal} {value}, ahead of both neighbouring "
                    "splits (paired 95% intervals over seeds)")
            if _ok(top.get("p_best", np.nan)):
                text += (f"; best share 95% range {pct(top['best_share_ci_low'], digits=0)} to "
                         f"{pct(top['best_share_ci_high'], digits=0)} (chosen in {top['p_best']:.0%} of "
                         "resamples)")
            items.append(text + ".")
        else:
            items.append(f"{name}: no split is distinguishable from its neighbours; the highest mean, "
                         f"{_split_text(top)} ({goal} {value}), is within the paired 95% interval of a "
                         "neighbouring split.")
        under = d[d.get("underspent", pd.Series(False, index=d.index)).astype(bool)]
        if not under.empty:
            spent = [f"{_split_text(r)} spent {pct(*stat(r, 'budget_spent_share'), interval=False)} of it "
                     f"(IDR {num(*stat(r, 'cost_idr_bn'), interval=False)} bn over {steps} months)"
                     for _, r in under.iterrows()]
            items.append(f"{name}: splits that could not spend their budget (a lever that runs out of "
                         "willing, eligible people to reach returns its money), so compare what they "
                         "spent: " + "; ".join(spent) + ".")
    blocks.append(("ul", items))
    if figure is not None:
        against = "change against no extra spending, paired by seed" if has_ref else "level"
        blocks.append(("fig", figure, f"{goal[:1].upper()}{goal[1:]} and the equity gaps against the "
                                      f"share of the budget on the first lever ({against}; percentage "
                                      "points; 95% bands); star: best split, only where it beats both "
                                      "neighbours; hollow: could not spend its budget."))
    change = aggregate.change_column(objective)
    header = ["split", goal, *(["change against no extra spending, paired by seed"] if has_ref else []),
              *[metric_label(g) for g in equity_metrics], "spent per month (IDR bn)",
              f"spent over {steps} months (IDR bn)", "chosen in bootstrap resamples"]
    rows = []
    for _, r in table.iterrows():
        split = "no extra spending" if r["pair"] == "reference" else _split_text(r)
        level = value_text(r, objective)
        effect = ["-" if r["pair"] == "reference" else value_text(r, change)] if has_ref else []
        rows.append([split, level, *effect, *(value_text(r, g, sign=False) for g in equity_metrics),
                     *spending_cells(r),
                     pct(r["p_best"], digits=0) if _ok(r.get("p_best", np.nan)) else "-"])
    blocks.append(("table", header, rows))
    return blocks
