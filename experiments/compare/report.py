"""The policy-comparison report (``report.md`` / ``report.html``) as document blocks, rendered by
:mod:`experiments.engine.render`: headline, ranking, head-to-head probabilities, equity, costs,
assumptions and uncertainty.

Following the project's uncertainty conventions, every level and effect carries its 5 %-95 % range
across calibrated worlds (across seeds under ``uncertainty=none``), never a confidence interval of a
mean; the decision is given as probabilities (P(best), P(A beats B)) with their Monte Carlo errors, and
a winner is named only when it is best in at least ``clear_winner_share`` of the draws."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.render import (
    Block,
    all_finite,
    differs_from_zero,
    estimate,
    few_draws_warning,
    group_columns,
    lever_label,
    metric_label,
    metric_phrase,
    num,
    p_best_text,
    pct,
    pp,
    probability,
    range_name,
    scenario_label,
    spending_cells,
    stat,
    targeting_label,
    value_text,
    words,
)
from experiments.engine.stamp import CURRENT, SHIPPED, Freshness, status_sentence
from experiments.engine.stats import clear_winner, screening_bound
from experiments.exploration import drivers
from sim.config import LEVERS, SimConfig, policy_start_month
from sim.parameters import get_value


def allocation_text(row: pd.Series) -> str:
    """The policy's split of the budget between levers, in words."""
    parts = [f"{lever_label(lever)} {row[f'alloc_{lever}']:.0%}" for lever in LEVERS
             if row.get(f"alloc_{lever}", 0) > 0]
    return ", ".join(parts) if parts else "no additional spending"




def _left_behind(row: pd.Series, k: int = 3) -> str:
    groups = [(label, col) for _, label, col in group_columns() if all_finite(row.get(f"{col}_mean", np.nan))]
    groups = sorted(groups, key=lambda g: row[f"{g[1]}_mean"])[:k]
    return ", ".join(f"{label} ({pct(*stat(row, col), interval=False)})" for label, col in groups)




def _gap_sentence(row: pd.Series, gap: str, baseline: str, is_baseline: bool) -> str:
    label = metric_phrase(gap)
    level = value_text(row, gap, interval=False, sign=False)
    if is_baseline:
        return f"{label} {level}"
    sig = differs_from_zero(row, f"{gap}_change")
    verdict = ("no clear change" if not sig else "narrows" if row[f"{gap}_change_mean"] < 0 else "widens")
    change = value_text(row, f"{gap}_change")
    return f"{label} {level}: {verdict} against {scenario_label(baseline)} ({change})"


def months_to_text(row: pd.Series, metric: str) -> str:
    """Months to a level in words: "at the start" when every run began above it (a 0 would read as a
    result), "not reached" when no run reached it, else the mean over the runs that did."""
    mean = row[f"{metric}_mean"]
    if not all_finite(mean):
        return "not reached"
    if mean == 0 and row.get(f"{metric}_p95", 0) == 0:
        return "at the start"
    return estimate(*stat(row, metric), interval=False, decimals=0)


def assumption_items(configs: Sequence[SimConfig], n_citizens: int,
                     uncertainty: str = "posterior") -> list[str]:
    """The settings that drive the comparison, with their values in these runs (``configs``: the
    baseline's runs, one per seed, as the runner ran them). A value that differs between the runs (a
    parameter drawn from the posterior) is given as its median with the 5%-95% range across the
    draws, at three significant digits."""
    model_cfg = configs[0]
    pop = model_cfg.population
    total = pop.population_total

    prefixes = {"ad": "params.adoption", "bur": "params.bureaucracy", "tr": "params.trust",
                "pl": "params.platform", "co": "params.costs", "pop": "population", "pol": "policy",
                "man": "policy.mandate"}

    def v(key: str, fmt: str, scale: float = 1.0) -> str:
        """The value of ``key`` (short prefix: see above) in these runs, formatted."""
        head, _, rest = key.partition(".")
        values = np.array([float(get_value(c, f"{prefixes[head]}.{rest}")) * scale for c in configs])
        if np.ptp(values) == 0:
            return format(values[0], fmt)
        low, mid, high = np.percentile(values, [5, 50, 95])
        return f"{mid:{fmt}} ({low:{fmt}} to {high:{fmt}} across the draws)"

    budget = model_cfg.budget_idr_bn_per_month
    history = policy_start_month(model_cfg)
    steps = model_cfg.steps - history
    smallest = min(pop.region_shares)

    def million(key: str, digits: int = 1) -> str:
        return f"IDR {v(f'co.{key}', f',.{digits}f', 1e-6)} M"

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
        f"{v('co.stock_half_saturation_bn', ',.0f')} bn a month. Each lever acts through its "
        "named mechanism only (awareness comes from the outreach lever, media and word of mouth).",
        f"Take-up and targeting (assumptions): at most {v('bur.training_takeup_max', '.0%')} of "
        "civil servants accept training, fewer the more resistant they are; at most "
        f"{v('ad.course_takeup_max', '.0%')} of citizens enrol in a course or co-production, fewer "
        "among the least literate and the oldest; targeted levers reach at most "
        f"{v('pol.target_share', '.0%')} of the population, those most in need first.",
        f"Citizens' choice (UTAUT-style utility, assumptions calibrated to a slow start): intercept "
        f"{v('ad.intercept', '.3g')}, weights usefulness {v('ad.w_usefulness', '.3g')}, ease of use "
        f"{v('ad.w_ease', '.3g')}, social influence {v('ad.w_social', '.3g')}, trust "
        f"{v('ad.w_trust', '.3g')}; {v('ad.need_rate', '.0%')} of citizens need a service each "
        f"month; literacy {v('ad.required_literacy', '.3g')} makes the platform fully usable.",
        f"Timeline: every run starts in {model_cfg.start_date}, where the calibration starts, and lives "
        f"through {history} months of history (the same in every scenario) before the policies begin in "
        f"{model_cfg.policy.start_date or model_cfg.start_date}; the results cover the {steps} months "
        f"from then. In {model_cfg.start_date}, {v('pop.adoption_initial', '.0%')} of people with "
        f"internet access used the services and {v('pop.awareness_initial', '.0%')} knew of them; "
        f"mean trust {v('pop.trust_mean', '.2f')} (start values inferred by the calibration); "
        f"internet access at {v('pop.access_level', '.1%')} in {model_cfg.population.access_date} "
        "(APJII 2023) with its shape by region, age, income and urban/rural from APJII 2024, moved "
        "along the observed trend; digital literacy from IMDI 2024. The start of the forecast is "
        "whatever each run's history produced.",
        f"Bureaucracy: national political will {v('pol.political_will', '.3g')} in every scenario (a "
        "scenario setting that costs nothing; the costed leadership lever raises it office by office); "
        "training "
        f"closes {v('bur.training_competence_gain', '.0%')} of a civil servant's competence gap and "
        f"removes {v('bur.training_resistance_cut', '.0%')} of resistance; "
        f"{v('pop.staff_digital_initial', '.0%')} of civil servants work digitally at the start.",
        f"Trust and security: a breach happens with probability up to {v('pl.breach_base', '.0%')} "
        f"a month at zero security and costs users {v('tr.breach_loss', '.3g')} log-odds of trust "
        f"(others with internet access {v('tr.breach_spillover', '.0%')} of that); successes, "
        "fair encounters and transparency raise trust, failures and unfair encounters lower it; "
        "neighbours' trust mixes in with weight "
        f"{v('tr.susceptibility', '.3g')} (Friedkin-Johnsen); platform reliability "
        f"{v('pl.reliability', '.0%')}.",
        "A digital-first mandate (scenario mandate) is a rule, not spending: it costs nothing from the "
        "budget, puts people in need who have internet access and no exemption on the digital channel "
        f"if they comply ({v('man.compliance', '.0%')} do; the rest, those most attached to the counter, "
        f"keep it) for the {v('man.scope', '.0%')} of transactions it covers, cannot lapse them, and "
        "costs extra trust where that service fails. No political or enforcement cost is modelled.",
        f"Behaviour (assumptions): {v('ad.offline_preference', '.0%')} of citizens keep to the office "
        "counter by choice and never take up the digital channel voluntarily, so uptake plateaus below "
        f"everyone connected; {v('bur.turnover_rate', '.2%')} of civil servants retire each month and "
        "are replaced by untrained entrants, and unpractised skills fade "
        f"({v('bur.skill_decay', '.1%')} of the gain a month); trust anchors drift back towards their "
        f"start at {v('tr.anchor_reversion', '.1%')} a month.",
        f"Channels and apps (assumptions): integrated service centres open as published and lower the "
        f"literacy needed of the people they serve by {v('ad.assisted_literacy_cut', '.0%')} (partners' "
        f"access points by {v('ad.partner_literacy_cut', '.0%')}); people need "
        f"{v('pl.separate_apps_initial', '.2g')} separate apps at the start, each beyond the first adding "
        f"{v('pl.app_effort', '.0%')} effort, and consolidating them costs IDR "
        f"{v('co.consolidation_project_bn', ',.0f')} bn and takes {v('pl.consolidation_delay_months', 'g')} "
        "months to take effect.",
        f"Awareness: {v('pop.awareness_initial', '.0%')} of citizens know of the services at the "
        f"start and a campaign reaches a person for {million('outreach_per_person_reached', 3)} (both "
        "assumptions); the outreach scenario's effect rests on them.",
        "Reading the results: they compare scenarios under these assumptions; they are not forecasts. "
        + ("The ranges span the calibrated parameters' uncertainty (one posterior draw per seed) and "
           "run-to-run noise; the parameters the calibration does not estimate keep the values above, "
           "most of which are assumptions." if uncertainty == "posterior" else
           "The ranges cover only the runs' random variation across seeds, not the uncertainty of the "
           "parameters above, most of which are assumptions."),
    ]


def trust_cost_items(others: pd.DataFrame, base_name: str, setup: dict[str, Any]) -> list[str]:
    """A trust cost beside its adoption gain: every scenario whose paired change of mean trust against
    the baseline is negative in at least 95% of the draws (its 95th percentile below zero), most costly
    first, so a rule that buys adoption with trust (a mandate) says so in the headline."""
    if "trust_mean_final_change_p95" not in others:
        return []
    costly = others[others["trust_mean_final_change_p95"] < 0].sort_values("trust_mean_final_change_mean")
    return [f"Trust cost: {scenario_label(r['scenario'])} changes final adoption by "
            f"{pp(*stat(r, 'adoption_change'))} but mean trust (0 to 1) by "
            f"{estimate(*stat(r, 'trust_mean_final_change'), decimals=3, sign=True)} against {base_name}, "
            f"lower in at least 95% of {draws_name(setup)}." for _, r in costly.iterrows()]


def draws_name(setup: dict[str, Any]) -> str:
    """What one seed's run stands for, in words: a calibrated world, or (at the declared defaults) a seed."""
    return "calibrated worlds" if setup.get("uncertainty") == "posterior" else "seeds"


def _mixture(setup: dict[str, Any]) -> bool:
    """Whether the seeds drew from more than one measure's posterior (``setup["measures"]``)."""
    return len(setup.get("measures") or []) > 1


def posterior_words(setup: dict[str, Any]) -> str:
    """Which posterior a seed draws from, in words: one, or its measure of use's in a mixture."""
    return ("the calibrated posterior of its measure of use (see Which survey defines use)"
            if _mixture(setup) else "the calibrated posterior")


def fitted_survey(setup: dict[str, Any]) -> str:
    """The survey the measure of use is fitted to: Kominfo-KIC 2021, or each measure's in a mixture."""
    return ("Kominfo-KIC 2021, or in a mixture each world's own survey" if _mixture(setup)
            else "Kominfo-KIC 2021")


def decision_item(summary: pd.DataFrame, setup: dict[str, Any]) -> str:
    """The headline decision: the winner with its P(best) and Monte Carlo error when one scenario is best
    in at least ``clear_winner_share`` of the draws, else "no clear winner" and the leading scenarios."""
    share = float(setup.get("clear_winner_share", 0.8))
    worlds = draws_name(setup)
    winner = clear_winner(summary, share)
    ranked = summary.sort_values("p_best", ascending=False, kind="stable")
    if winner is not None:
        r = ranked.iloc[0]
        return (f"Clear winner on final adoption: {scenario_label(winner)}, best in "
                f"{probability(r['p_best'], r['p_best_mc_se'])} of {worlds} (P(best) with its Monte Carlo "
                f"error; a winner is named at {share:.0%} or more).")
    leading = [r for _, r in ranked.iterrows() if r["p_best"] > 0][:3]
    names = ", ".join(f"{scenario_label(r['scenario'])} "
                      f"(P(best) {probability(r['p_best'], r['p_best_mc_se'])})" for r in leading)
    return (f"No clear winner on final adoption: no scenario is best in at least {share:.0%} of {worlds}. "
            f"Leading: {names or 'none'}.")


def uncertainty_blocks(summary: pd.DataFrame, baseline: str, setup: dict[str, Any]) -> list[Block]:
    """What the ranges span, and which adoption gains hold across parameter uncertainty."""
    if setup.get("uncertainty") != "posterior":
        return [("p", "Ranges cover run-to-run noise and nothing else: every run uses the declared "
                      "default parameters (uncertainty=none); they do not show how much of a result "
                      "rests on assumed parameter values.")]
    others = summary[summary["scenario"] != baseline]
    holds = [scenario_label(r["scenario"]) for _, r in others.iterrows()
             if differs_from_zero(r, "adoption_change")]
    fails = [scenario_label(r["scenario"]) for _, r in others.iterrows()
             if differs_from_zero(r, "adoption_change") is False]
    items = []
    if holds:
        items.append("Adoption gain against the baseline in at least 95% of calibrated worlds (the 5%-95% "
                     f"range of the paired change is above zero): {', '.join(holds)}.")
    if fails:
        items.append("Adoption gain that parameter uncertainty can erase (the range includes zero): "
                     f"{', '.join(fails)}.")
    blocks: list[Block] = [
        ("h2", "Parameter uncertainty"),
        ("p", f"Each seed runs one draw of {posterior_words(setup)} "
              f"({setup.get('posterior_file')}), the same draw for every scenario, so the ranges below "
              "span parameter uncertainty and run-to-run noise together.")]
    if items:
        blocks.append(("ul", items))
    return blocks


def seeds_sentence(setup: dict[str, Any], summary: pd.DataFrame) -> str:
    """How the number of seeds was set (a fixed number, or added until P(best) was precise enough)
    and, under posterior uncertainty, how many distinct posterior draws the worlds are."""
    n = int(setup["seeds"])
    out = ""
    target = setup.get("p_best_precision")
    if target is not None:
        reached = float(summary["p_best_mc_se"].max()) if "p_best_mc_se" in summary else float("nan")
        out += (f"Seeds were added in batches until every scenario's P(best) was known to within "
                f"±{target:g} (a cautious Monte Carlo error) or {setup.get('max_seeds')} seeds had run: "
                f"{n} seeds; the largest Monte Carlo error in the table below is {reached:.3f}. ")
    dropped, screened = setup.get("dropped") or [], setup.get("screened_seeds")
    if dropped and screened:
        names = ", ".join(scenario_label(d) for d in dropped)
        out += (f"Racing: {len(dropped)} scenarios ({names}) were best in none of the first {screened} "
                f"worlds, so each one's P(best) is below {screening_bound(int(screened)):.2f} (95% "
                f"confidence), and they ran those {screened} seeds only; the seeds added after them ran "
                "the baseline and the scenarios still in contention. "
                "P(best) counts each world's best among the scenarios run in it, and the ranges and "
                f"effects of a scenario that stopped come from its {screened} worlds (racing=false runs "
                "every scenario on every seed). ")
    draws = setup.get("distinct_draws")
    if setup.get("uncertainty") == "posterior" and draws is not None and int(draws) < n:
        out += (f"The {n} worlds are {int(draws)} distinct posterior draws: a posterior with fewer draws "
                "than its share of the seeds is gone through again, each time with a new seed. ")
    return out


def scenario_seeds(setup: dict[str, Any]) -> str:
    """How many seeds the scenarios ran, in words: "180 seeds", or with racing "20 seeds (180 for the
    scenarios still in contention after them)"."""
    n, screened, dropped = int(setup["seeds"]), setup.get("screened_seeds"), setup.get("dropped") or []
    if not dropped or screened is None:
        return f"{n} seeds"
    return f"{int(screened)} seeds ({n} for the scenarios still in contention after them)"


def pairwise_blocks(pairwise: pd.DataFrame, order: Sequence[str], setup: dict[str, Any]) -> list[Block]:
    """P(row beats column) on final adoption, in percent, rows and columns in the ranking's order."""
    table = pairwise.set_index("scenario").loc[list(order), list(order)]
    n = int(setup["screened_seeds"] if setup.get("dropped") else setup["seeds"])  # the fewest a pair shares
    worst = float(np.sqrt(0.25 / max(n, 1)))
    rows = [[scenario_label(a), *("-" if a == b or not all_finite(table.loc[a, b])
                                  else f"{table.loc[a, b]:.0%}" for b in order)] for a in order]
    return [
        ("h2", "Head to head: P(row beats column)"),
        ("p", f"Share of {draws_name(setup)} in which the row scenario's {metric_label('adoption_final')} is "
              "higher than the column scenario's (paired: the same draw and seed; a tie counts half, so "
              f"the two cells of a pair add up to 100%). With {n} draws each cell carries a Monte Carlo "
              f"error of up to {worst:.0%}; the table is pairwise.csv."),
        ("table", ["row beats column", *(scenario_label(s) for s in order)], rows),
    ]


def _step(path: str) -> str:
    """Which part of ``make shipped`` makes a shipped result again."""
    step = SHIPPED.get(path)
    return "ARGS=posterior=true" if step == "posterior" else f"step {step}" if step else "-"


def shipped_blocks(rows: Sequence[Freshness]) -> list[Block]:
    """Whether the shipped results this report leans on (the posterior it draws from, the Morris
    screening it quotes, the documents it points to) were made from the model code that produced it:
    one sentence, and a table of those that were not or whose age is unknown."""
    blocks: list[Block] = [("h2", "Shipped results"), ("p", status_sentence(list(rows)))]
    behind = [r for r in rows if r.status != CURRENT]
    if behind:
        header = ["shipped result", "against the model code", "why", "made again by make shipped"]
        blocks.append(("table", header, [[r.path, r.status, r.reason, _step(r.path)] for r in behind]))
    return blocks


def compare_blocks(summary: pd.DataFrame, baseline: str, setup: dict[str, Any], figures: dict[str, Path],
                   configs: Sequence[SimConfig], gaps: Sequence[str],
                   pairwise: pd.DataFrame | None = None) -> list[Block]:
    """The comparison report as blocks (see module docstring); ``summary`` ranked by
    :func:`experiments.engine.stats.ranking` (``rank``, ``p_best``, ``p_best_mc_se``)."""
    ranked = summary.sort_values("rank", kind="stable").reset_index(drop=True)
    spread = range_name(setup.get("uncertainty", "posterior"))
    worlds = draws_name(setup)
    others = ranked[ranked["scenario"] != baseline]
    base = summary.set_index("scenario").loc[baseline]
    base_name = scenario_label(baseline)
    budget, steps = setup["budget_idr_bn_per_month"], setup["steps"]
    blocks: list[Block] = [("h1", "Digital public services in Indonesia: policy scenario comparison")]
    warning = few_draws_warning(setup["seeds"], setup.get("uncertainty", "posterior"))
    if warning:
        blocks.append(("p", warning))
    how_many = seeds_sentence(setup, summary)
    blocks.append(("p", (
        f"{len(summary)} policy scenarios x {scenario_seeds(setup)} on the {words(setup['population'])} "
        f"population profile ({setup['n_citizens']:,} agents, {setup['population_total'] / 1e6:,.0f} million "
        f"people), {words(setup['network'])} social network; a {steps}-month forecast from "
        f"{setup.get('policy_start_date') or setup.get('start_date', 'month 0')}, after "
        f"{setup.get('history_months', 0)} months of history from {setup.get('start_date', 'month 0')} "
        "that every scenario shares (figures show both; tables and effects cover the forecast). "
        + how_many + "Every scenario with spending "
        f"may spend up to IDR {budget:,.0f} bn a month (IDR {budget * steps:,.0f} bn over {steps} months). "
        f"Ranges in brackets are the 5%-95% {spread}: 90% of the runs fall between them. "
        + ("Each seed runs one draw of the calibrated parameters (one world), the same draw in every "
           "scenario, so a range shows how far a result spreads across the worlds the calibration "
           "allows; " if setup.get("uncertainty") == "posterior" else
           "Every run uses one parameter set (" + str(setup.get("parameter_set", "declared")) + "), so a "
           "range shows only how far a result "
           "varies from one seed to the next; ")
        + "it does not narrow as seeds are added. How precisely the runs pin down a mean or a "
        "probability is a separate number, its Monte Carlo error, which shrinks with more seeds: "
        f"P(best) is shown with it (±), the mean of final adoption carries at most "
        f"{pp(summary['adoption_final_mc_se'].max(), sign=False, digits=2)} of it, and "
        "scenario_summary.csv gives it for every mean. "
        f"Effects against {base_name} are paired by seed (each scenario's run minus the baseline's run "
        "with the same seed), and every number is rounded to the digits its range supports. "
        f"Produced {setup['created']} in {setup['wall_time']}.")))

    blocks += uncertainty_blocks(summary, baseline, setup)
    # ---- headline
    blocks.append(("h2", "Headline: which policy, for whom, at what cost"))
    items = [decision_item(summary, setup)] if "p_best" in summary else []
    if setup.get("measures_headline"):  # the decision under each measure of use, beside the mixture's
        items.append(setup["measures_headline"])
    if not others.empty:
        top = others.iloc[0]
        items.append(f"Top of the ranking besides {base_name}: {scenario_label(top['scenario'])}, "
                     "final adoption "
                     f"{pct(*stat(top, 'adoption_final'))}, against {pct(*stat(base, 'adoption_final'))} "
                     f"under {base_name}: {pp(*stat(top, 'adoption_change'))}, or "
                     f"{num(*(v / 1e6 for v in stat(top, 'additional_adopters')), fmt='{:+,.1f}')} million "
                     "more people using digital public services.")
        if "ever_used_connected_final_mean" in summary:
            items.append(
                f"Measures: {metric_label('adoption_final')} counts current users as a share of everyone; "
                "the measure the calibration fits, people with internet access who have ever used the "
                f"services ({fitted_survey(setup)}), ends at "
                f"{pct(*stat(base, 'ever_used_connected_final'))} under "
                f"{base_name} and {pct(*stat(top, 'ever_used_connected_final'))} under "
                f"{scenario_label(top['scenario'])}.")
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
        for gap in ("gap_urban_rural", "gap_income_q5_q1"):
            if f"{gap}_change_mean" in others:
                eq = others.sort_values(f"{gap}_change_mean").iloc[0]
                verdict = ("" if differs_from_zero(eq, f"{gap}_change")
                           else " (the 5%-95% range includes zero)")
                items.append(f"Largest cut of the {metric_label(gap)}: {scenario_label(eq['scenario'])} "
                             f"({value_text(eq, f'{gap}_change')} against {base_name}){verdict}.")
        items += trust_cost_items(others, base_name, setup)
        flat = [scenario_label(r["scenario"]) for _, r in others.iterrows()
                if differs_from_zero(r, "adoption_change") is False]
        if flat:
            items.append(f"No adoption gain in at least 95% of {worlds} (the 5%-95% range of the paired "
                         f"change includes zero): {', '.join(flat)}.")
        under = [r for _, r in others.iterrows() if bool(r.get("underspent", False))]
        if under:
            items.append("Could not spend their budget (a lever ran out of willing, eligible people to reach "
                         "and returned the money), so compare what they spent: " + ", ".join(
                             f"{scenario_label(r['scenario'])} spent "
                             f"{pct(*stat(r, 'budget_spent_share'), interval=False)} of it" for r in under)
                         + ".")
    blocks.append(("ul", items))
    table_gaps = ("gap_urban_rural", "gap_income_q5_q1", "gap_region_max_min")
    header = ["rank", "scenario", "P(best)", metric_label("adoption_final"),
              metric_label("ever_used_connected_final"), f"change against {base_name}",
              f"{metric_label('additional_adopters')} (million)",
              f"{metric_label('additional_adopters')} per IDR bn spent",
              *(metric_label(g) for g in table_gaps), f"{metric_label('trust_mean')} (0 to 1)",
              f"trust change against {base_name}",
              metric_label("digital_staff_share"), metric_label("months_to_25pct"),
              "spent per month (IDR bn)", f"spent over {steps} months (IDR bn)"]
    rows = []
    for _, r in ranked.iterrows():
        is_base = r["scenario"] == baseline
        per_month, total = spending_cells(r)
        rows.append([
            r["rank"], scenario_label(r["scenario"]), p_best_text(r, int(summary["n_seeds"].max())),
            pct(*stat(r, "adoption_final")),
            pct(*stat(r, "ever_used_connected_final"), interval=False),
            "-" if is_base else pp(*stat(r, "adoption_change")),
            "-" if is_base else num(*(v / 1e6 for v in stat(r, "additional_adopters")), fmt="{:+,.2f}"),
            "-" if is_base or not r["cost_idr_bn_mean"] > 0
            else num(*stat(r, "additional_adopters_per_idr_bn")),
            *(value_text(r, g, interval=False, sign=False) for g in table_gaps),
            estimate(*stat(r, "trust_mean_final"), interval=False, decimals=3),
            "-" if is_base or "trust_mean_final_change_mean" not in r
            else estimate(*stat(r, "trust_mean_final_change"), decimals=3, sign=True),
            pct(*stat(r, "digital_staff_share_final"), interval=False),
            months_to_text(r, "months_to_25pct"),
            per_month, total,
        ])
    blocks.append(("table", header, rows))
    blocks.append(("p", f"Ranked by P(best), the share of {worlds} in which a scenario has the highest "
                        "final adoption (± its Monte Carlo error), then by the mean change against the "
                        "baseline. Gaps are differences of adoption shares in percentage points at the end "
                        "of the horizon (positive: the first group is ahead), rounded as their ranges allow "
                        "(the ranges are in scenario_summary.csv). Months to 25% adoption averages the seeds "
                        "that reach it. Spending per month is over the months a scenario may spend."))
    if pairwise is not None:
        blocks += pairwise_blocks(pairwise, list(ranked["scenario"]), setup)

    # ---- scenarios
    blocks.append(("h2", "What each scenario does"))
    rows = []
    for _, r in summary.iterrows():
        rows.append([scenario_label(r["scenario"]), r["description"], allocation_text(r),
                     targeting_label(r["targeting"], int(r.get("target_provinces", 0) or 0)),
                     *spending_cells(r)])
    header = ["scenario", "what it does", "budget split", "aimed at", "spent per month (IDR bn)",
              f"spent over {steps} months (IDR bn)"]
    blocks.append(("table", header, rows))

    # ---- equity
    blocks.append(("h2", "The equity picture: who is left behind"))
    blocks.append(("p", "For each scenario, the three groups with the lowest final adoption, and each "
                        f"equity gap with its change against {base_name} (narrows / widens only when the "
                        f"5%-95% range of the paired change excludes zero, that is in at least 95% of "
                        f"{worlds})."))
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
                       f"percentage points, paired by seed (grey: the 5%-95% {spread} includes zero)."))
    if "gaps" in figures:
        blocks.append(("fig", figures["gaps"],
                       f"Change of each equity gap against {base_name}, paired by seed, with its 5%-95% "
                       f"{spread} (the same as in the table below)."))
    header = ["scenario", *[f"{metric_phrase(g)}: change" for g in gaps]]
    rows = [[scenario_label(r["scenario"]), *(value_text(r, f"{g}_change") for g in gaps)]
            for _, r in ranked.iterrows() if r["scenario"] != baseline]
    blocks.append(("p", f"Change of each equity gap against {base_name} (negative: narrower), percentage "
                        "points; the concentration index in index points."))
    blocks.append(("table", header, rows))

    # ---- dynamics
    blocks.append(("h2", "Over time"))
    for key, what in (("adoption", "Adoption"),
                      ("ever_used", "People with internet access who have ever used the services (the "
                                    "measure the calibration fits, with the published figures)"),
                      ("trust", "Mean trust of citizens in government"),
                      ("staff", "The share of civil servants working digitally")):
        if key in figures:
            blocks.append(("fig", figures[key],
                           f"{what} over time: {base_name}'s mean level with its 5%-95% {spread}, month by "
                           f"month, and each scenario's difference from {base_name}, paired by seed, with "
                           "its range."))

    # ---- cost-effectiveness
    blocks.append(("h2", "At what cost"))
    if "cost" in figures:
        blocks.append(("fig", figures["cost"],
                       f"Cost-effectiveness and the adoption-equity trade-off (5%-95% {spread} of the "
                       "paired differences; hatched or hollow: could not spend its budget)."))
    header = ["scenario", "spent per month (IDR bn)", f"spent over {steps} months (IDR bn)",
              f"{metric_label('additional_adopters')} (million)", "per IDR bn spent",
              *(f"{metric_label(g)} change per IDR 1,000 bn spent"
                for g in ("gap_urban_rural", "gap_income_q5_q1"))]
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
    blocks.append(("ul", assumption_items(configs, setup["n_citizens"],
                                          setup.get("uncertainty", "posterior"))))
    blocks.append(("p", drivers.headline_sentence()))
    if "shipped" in setup:
        blocks += shipped_blocks(setup["shipped"])
    blocks.append(("h2", "Files"))
    blocks.append(("ul", [
        "runs.parquet: one row per run x month (scenario, seed, month, every monthly metric)",
        "run_summaries.csv: one row per run (every summary metric)",
        "scenario_summary.csv: one row per scenario: rank, p_best and p_best_mc_se, and for every metric and "
        "every effect against the baseline (absolute and per IDR bn) <metric>_mean, <metric>_p05 and "
        "<metric>_p95 (the 5%-95% range across runs) and <metric>_mc_se (Monte Carlo error of the mean)",
        "pairwise.csv: P(row scenario's final adoption > column scenario's) over the draws, ties half",
        "figures/: the figures above; runs/: every run's folder (config, time series, summary)",
    ]))
    return blocks


