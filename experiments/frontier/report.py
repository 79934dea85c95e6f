"""The budget-frontier report (``frontier.md`` / ``frontier.html``) as document blocks, rendered by
:mod:`experiments.engine.render`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine import stats
from experiments.engine.posterior import MEASURE_COLUMN
from experiments.engine.render import (
    Block,
    all_finite,
    few_seeds_warning,
    lever_label,
    metric_label,
    num,
    pct,
    pp,
    probability,
    spending_cells,
    stat,
    value_text,
    words,
)
from experiments.engine.stats import MIN_SEEDS
from experiments.frontier import decision
from sim import summary
from sim.declarations import declaration

# Words for a share of the worlds: "no clear winner" below this P(best) (DESIGN.md, uncertainty).
CLEAR_WINNER = 0.8
# Parameters listed in the report's value-of-information table, per pair.
TOP_PARAMETERS = 5


# --------------------------------------------------------------------------- frontier
def _split_text(row: pd.Series) -> str:
    return (f"{row['share_a']:.0%} {lever_label(row['lever_a'])} / {row['share_b']:.0%} "
            f"{lever_label(row['lever_b'])}")


def _people(value: float) -> str:
    """A number of people to two significant digits (a few worlds support no more)."""
    if not all_finite(value):
        return "n/a"
    if value == 0:
        return "0"
    rounded = float(f"{value:.2g}")
    return f"{rounded / 1e6:,.1f} million" if abs(rounded) >= 1e6 else f"{rounded:,.0f}"


def short_amount(value: float, people: float, objective: str) -> str:
    """A loss or a value of information for a table cell: in adopters when the objective is final
    adoption (``people``: the same in people, NaN otherwise), else in the objective's units."""
    if not all_finite(value):
        return "-"
    if all_finite(people):
        return f"{_people(people)} adopters"
    if summary.is_share(objective):
        return f"{value * 100:.2g} pp"
    return f"{value:.3g} {summary.unit(objective)}"


def amount(value: float, people: float, objective: str) -> str:
    """:func:`short_amount` in a sentence, naming the measure it is counted in."""
    if not all_finite(value):
        return "n/a"
    goal = metric_label(objective)
    if all_finite(people):
        return f"{_people(people)} adopters ({value * 100:.2g} percentage points of {goal})"
    if summary.is_share(objective):
        return f"{value * 100:.2g} percentage points of {goal}"
    return f"{value:.3g} {summary.unit(objective)} of {goal}"


def parameter_text(key: str) -> str:
    """A parameter as the report names it: its key and its declared description (in words); the
    measure of use of a mixture of posteriors as the survey question it is."""
    if key == MEASURE_COLUMN:
        return (f"`{MEASURE_COLUMN}` (which survey's measure of the use of online services is right: "
                "a survey that settles it; configs/calibration/use/)")
    spec = declaration(key).spec
    return f"`{key}` ({words(spec.doc)}; {spec.unit})"


def regret_items(d: pd.DataFrame, objective: str) -> list[str]:
    """The regret of one pair in words: the split with the lowest expected regret, the minimax-regret
    split, what choosing each loses on average and in 1 world of 20, and whether any split is a
    clear winner (best in at least :data:`CLEAR_WINNER` of the worlds)."""
    if "expected_regret" not in d or not d["expected_regret"].notna().any():
        return []
    n = int(d["n_seeds"].min()) if "n_seeds" in d else 0
    low = d[d["lowest_expected_regret"].astype(bool)].iloc[0]
    mini = d[d["minimax_regret"].astype(bool)].iloc[0]
    name = f"{lever_label(low['lever_a'])} against {lever_label(low['lever_b'])}"

    def loss(r: pd.Series) -> str:
        return (f"loses on average {amount(r['expected_regret'], r['expected_regret_adopters'], objective)} "
                "against the best split in each world, and in 1 world in 20 more than "
                f"{amount(r['regret_p95'], r['regret_p95_adopters'], objective)}")

    def worst(r: pd.Series) -> str:
        return amount(r["regret_max"], r["regret_max_adopters"], objective)

    items = [f"{name}: the lowest expected regret is {_split_text(low)} (the split with the best mean): "
             f"choosing it {loss(low)}; {n} worlds (posterior draws, each run on its own seed)."]
    if mini.name == low.name:
        items.append(f"{name}: it is also the minimax-regret split: its largest loss in any world, "
                     f"{worst(mini)}, is no larger than any other split's.")
    else:
        items.append(f"{name}: the minimax-regret split is {_split_text(mini)}: its largest loss in any "
                     f"world, {worst(mini)}, is no larger than any other split's (against {worst(low)} "
                     f"for the lowest expected regret); choosing it {loss(mini)}.")
    top = d.sort_values("p_best", ascending=False, kind="stable").iloc[0]
    if top["p_best"] >= CLEAR_WINNER:
        items.append(f"{name}: {_split_text(top)} is best in "
                     f"{probability(top['p_best'], top.get('p_best_mc_se'))} of the worlds.")
    else:
        items.append(f"{name}: no clear winner: no split is best in {CLEAR_WINNER:.0%} of the worlds or "
                     f"more (the most often best, {_split_text(top)}, in "
                     f"{probability(top['p_best'], top.get('p_best_mc_se'))}).")
    return items


def information_blocks(voi: pd.DataFrame, objective: str, setup: dict[str, Any]) -> list[Block]:
    """The value of information: the most valuable measurement per pair (the parameter with the
    highest EVPPI, with its declared description), what it is worth, the EVPI it is part of, and a
    caution when the draws are few."""
    if voi.empty:
        return []
    blocks: list[Block] = [("h2", "Which measurement is worth paying for")]
    n = int(voi["n_draws"].min())
    intro = (f"The expected value of perfect information (EVPI) is what choosing the split after "
             "learning everything about a world would add on average; it also counts each run's own "
             "randomness, which no measurement removes, so it is an upper bound. The expected value of "
             "partial perfect information (EVPPI) of one parameter is what learning that parameter alone "
             "would add: estimated by regressing each split's outcome on the parameter across the "
             f"{n} worlds (Strong, Oakley & Brennan 2014), kept between 0 and the EVPI.")
    blocks.append(("p", intro))
    if voi["parameter"].isna().all():
        blocks.append(("p", "No parameter varies across the seeds (every seed ran the declared defaults, "
                            "without parameter uncertainty), so no measurement can be valued; the EVPI "
                            "below is the value of knowing each run's own randomness."))
    elif n < decision.FEW_DRAWS:
        blocks.append(("p", f"Caution: only {n} draws. EVPPI estimates from fewer than "
                            f"{decision.FEW_DRAWS} draws are noisy (a parameter can rank high by chance) "
                            "and biased upwards; run more seeds before paying for a measurement on "
                            "their strength."))
    items, rows = [], []
    for pair, d in voi.groupby("pair", sort=False):
        a, b = str(pair).split("/")
        name = f"{lever_label(a)} against {lever_label(b)}"
        first = d.iloc[0]
        total = amount(first["evpi"], first["evpi_adopters"], objective)
        ranked = d[d["parameter"].notna() & d["evppi"].notna()]
        if ranked.empty or not ranked["evppi"].iloc[0] > 0:
            why = ("no parameter varies" if d["parameter"].isna().all()
                   else f"the value of a single parameter is not estimated from fewer than "
                        f"{decision.MIN_DRAWS_EVPPI} draws (run more seeds)" if ranked.empty
                   else "no single parameter is worth anything measurable here")
            items.append(f"{name}: {why}; perfect information about everything would be worth {total}.")
            continue
        best = ranked.iloc[0]
        items.append(f"{name}: the most valuable measurement is {parameter_text(best['parameter'])}: "
                     "knowing it before choosing the split is worth "
                     f"{amount(best['evppi'], best['evppi_adopters'], objective)} on average: "
                     f"{best['share_of_evpi']:.0%} of the value of perfect information, "
                     f"{short_amount(first['evpi'], first['evpi_adopters'], objective)}.")
        for _, r in ranked.head(TOP_PARAMETERS).iterrows():
            rows.append([name, parameter_text(r["parameter"]),
                         short_amount(r["evppi"], r["evppi_adopters"], objective),
                         pct(r["share_of_evpi"], digits=0) if all_finite(r["share_of_evpi"]) else "-"])
    blocks.append(("ul", items))
    if rows:
        blocks.append(("table", ["pair", "parameter", "value of knowing it (EVPPI)", "share of EVPI"], rows))
    return blocks


def _amount(value: float, objective: str) -> str:
    """A difference in the objective's units: percentage points for a share, else three digits."""
    return pp(value, sign=False, digits=2) if summary.is_share(objective) else f"{value:.3g}"


def frontier_blocks(table: pd.DataFrame, setup: dict[str, Any], figure: Path | None, objective: str,
                    equity_metrics: Sequence[str], voi: pd.DataFrame | None = None,
                    by_measure: pd.DataFrame | None = None) -> list[Block]:
    """The frontier's summary as blocks: the best split per pair only where it beats both neighbouring
    splits, the regret of choosing each split, the splits that could not spend their budget, one row
    per split, and the value of information (``voi``: see
    :func:`experiments.frontier.algorithm.value_of_information`)."""
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
        f"{words(setup['population'])} profile ({setup['n_citizens']:,} agents; a {steps}-month forecast "
        f"from {setup.get('policy_start_date') or setup.get('start_date')} after "
        f"{setup.get('history_months', 0)} months of shared history from {setup.get('start_date')}). The "
        f"highest mean of {goal} names a best split only when it beats both neighbouring splits in the "
        f"paired 95% interval over seeds; from {MIN_SEEDS} seeds on, the range of the best share is the "
        "95% interval over bootstrap resamples of the seeds. Each seed is one world (one posterior draw, "
        "the same at every split): the regret of a split in a world is how much less it achieves than the "
        "best split in that world, and P(best) the share of worlds in which it is best. Ranges in "
        "brackets are the 5%-95% range across the worlds (they do not narrow as seeds are added); every "
        "number is rounded to the digits its range supports. Produced "
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
            if all_finite(top.get("best_share_ci_low", np.nan)):
                text += (f"; best share 95% range {pct(top['best_share_ci_low'], digits=0)} to "
                         f"{pct(top['best_share_ci_high'], digits=0)} (over "
                         "bootstrap resamples)")
            items.append(text + ".")
        elif bool(top.get("best_distinguishable", False)):
            items.append(f"{name}: no split is clearly better; the highest mean, {_split_text(top)} "
                         f"({goal} {value}), is ahead of its neighbours by only "
                         f"{_amount(top['best_margin'], objective)}, below the practical threshold of "
                         f"{_amount(setup.get('practical_difference', 0.0), objective)} "
                         "(practical_difference).")
        else:
            items.append(f"{name}: no split is distinguishable from its neighbours; the highest mean, "
                         f"{_split_text(top)} ({goal} {value}), is within the paired 95% interval of a "
                         "neighbouring split.")
        items += regret_items(d, objective)
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
                                      "points; bands: 5%-95% range across worlds); star: best split, "
                                      "only where it beats both "
                                      "neighbours; hollow: could not spend its budget."))
    change = stats.change_column(objective)
    header = ["split", goal, *(["change against no extra spending, paired by seed"] if has_ref else []),
              *[metric_label(g) for g in equity_metrics], "spent per month (IDR bn)",
              f"spent over {steps} months (IDR bn)", "best in (share of worlds)",
              "expected regret", "regret, 1 world in 20"]
    rows = []
    for _, r in table.iterrows():
        split = "no extra spending" if r["pair"] == "reference" else _split_text(r)
        level = value_text(r, objective)
        effect = ["-" if r["pair"] == "reference" else value_text(r, change)] if has_ref else []
        regret = [short_amount(r.get(k, np.nan), r.get(f"{k}_adopters", np.nan), objective)
                  for k in ("expected_regret", "regret_p95")]
        rows.append([split, level, *effect, *(value_text(r, g, sign=False) for g in equity_metrics),
                     *spending_cells(r),
                     probability(r["p_best"], r.get("p_best_mc_se")) if all_finite(r.get("p_best", np.nan))
                     else "-", *regret])
    blocks.append(("table", header, rows))
    if by_measure is not None and not by_measure.empty:
        blocks += measure_blocks(by_measure, objective)
    if voi is not None:
        blocks += information_blocks(voi, objective, setup)
    return blocks


def measure_blocks(by_measure: pd.DataFrame, objective: str) -> list[Block]:
    """The split most often best under each measure of use (``measure_splits.csv``), and whether the
    choice depends on which survey defines use."""
    items, rows = [], []
    for pair, d in by_measure.groupby("pair", sort=False):
        a, b = str(pair).split("/")
        name = f"{lever_label(a)} against {lever_label(b)}"
        shares = set(d["share_a"].round(6))
        verdict = ("the same split leads under every measure" if len(shares) == 1
                   else "the split that leads depends on which survey defines use")
        items.append(f"{name}: {verdict} (" + "; ".join(
            f"{r['use_measure']}: {r['share_a']:.0%} {lever_label(a)}, best in "
            f"{probability(r['p_best'], r['p_best_mc_se'])} of its {int(r['worlds'])} worlds"
            for _, r in d.iterrows()) + ").")
        for _, r in d.iterrows():
            rows.append([name, str(r["use_measure"]), str(int(r["worlds"])),
                         f"{r['share_a']:.0%} {lever_label(a)} / {1 - r['share_a']:.0%} {lever_label(b)}",
                         probability(r["p_best"], r["p_best_mc_se"]),
                         _amount(r["expected_regret"], objective)])
    return [("h2", "The split under each measure of use"),
            ("p", "The worlds of each survey's measure of the use of online services alone (the seeds "
                  "are split between the measures' posteriors): the split most often best there, with its "
                  "P(best) and Monte Carlo error, and its expected regret in those worlds. With few worlds "
                  "per measure a leader is tentative; measure_splits.csv has the numbers."),
            ("ul", items),
            ("table", ["pair", "measure of use", "worlds", "split most often best", "P(best)",
                       "expected regret"], rows)]


