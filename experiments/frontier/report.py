"""The budget-frontier report (``frontier.md`` / ``frontier.html``) as document blocks, rendered by
:mod:`experiments.engine.render`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine import stats
from experiments.engine.render import (
    Block,
    all_finite,
    few_seeds_warning,
    lever_label,
    metric_label,
    num,
    pct,
    spending_cells,
    stat,
    value_text,
    words,
)
from experiments.engine.stats import MIN_SEEDS


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
            if all_finite(top.get("p_best", np.nan)):
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
    change = stats.change_column(objective)
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
                     pct(r["p_best"], digits=0) if all_finite(r.get("p_best", np.nan)) else "-"])
    blocks.append(("table", header, rows))
    return blocks


