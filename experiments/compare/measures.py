"""The decision under each measure of the use of online services: conflicting surveys as structural
uncertainty.

Three published surveys measure the use of online public services in Indonesia and disagree (28% ever
used among internet users, Kominfo-KIC 2021; 47.8%, a 2021 poll; 84.9%, APJII 2022); each gives its own
calibrated posterior (``configs/calibration/use/``). With ``use_measures`` naming more than one, the seeds
are split between their posteriors in proportion to the weights
(:func:`experiments.engine.posterior.measure_of_seeds`), the report's other tables describe the mixture,
and this section reads the decision on the worlds of each measure alone: which scenario is best and in
what share of them, the baseline's level and whether the leader is the same under every measure.
Written as ``measures.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from experiments.engine import stats
from experiments.engine.posterior import MEASURE_COLUMN
from experiments.engine.render import Block, pct, probability, scenario_label
from sim.store.files import atomic_path

COLUMN = MEASURE_COLUMN
FEW_WORLDS = 10  # below this many worlds a P(best) near one half has a Monte Carlo error above 0.15
LABELS = {"kominfo": "Kominfo-KIC 2021 (28% ever used, face-to-face, n=10,000)",
          "poll": "a 2021-2024 poll (47.8% ever accessed in 2021; a weak source)",
          "apjii": "APJII 2022 (84.9% of internet users access public services; broad wording)"}


def measures_table(runs: pd.DataFrame, scenarios: Sequence[str], baseline: str,
                   metric: str = "adoption_final") -> pd.DataFrame:
    """One row per measure x scenario: worlds (seeds), P(best) with its Monte Carlo error and the mean
    of ``metric``, read from that measure's worlds alone."""
    rows = []
    for measure, part in runs.groupby(COLUMN, sort=False):
        best = stats.p_best_table(part, scenarios, metric)
        means = part.groupby("scenario")[metric].mean()
        for scenario in scenarios:
            rows.append({COLUMN: measure, "scenario": scenario, "worlds": int(part["seed"].nunique()),
                         "p_best": float(best.loc[scenario, "p_best"]),
                         "p_best_mc_se": float(best.loc[scenario, "p_best_mc_se"]),
                         f"{metric}_mean": float(means.get(scenario, float("nan"))),
                         "is_baseline": scenario == baseline})
    return pd.DataFrame(rows)


def leaders(table: pd.DataFrame, baseline: str) -> dict[str, pd.Series]:
    """Each measure's leading scenario besides the baseline (highest P(best), then mean)."""
    others = table[~table["is_baseline"]]
    ordered = others.sort_values(["p_best", "adoption_final_mean"], ascending=False, kind="stable")
    return {m: ordered[ordered[COLUMN] == m].iloc[0] for m in table[COLUMN].unique()}


def verdict_of(lead: dict[str, pd.Series], clear_share: float) -> tuple[str, str]:
    """In words: whether the leader is the same, and clear, under every measure (the short verdict,
    for the headline), then why (and a caution for a measure with few worlds)."""
    names = {str(r["scenario"]) for r in lead.values()}
    clear = all(r["p_best"] >= clear_share for r in lead.values())
    if len(names) == 1 and clear:
        short = "The decision holds under every measure"
        why = (f": {scenario_label(names.pop())} is best in at least {clear_share:.0%} of the worlds "
               "calibrated on each.")
    elif len(names) == 1:
        short = f"{scenario_label(names.pop())} leads under every measure, but not clearly under all"
        why = f" (best in fewer than {clear_share:.0%} of some measure's worlds)."
    else:
        short = "The decision depends on which survey defines use"
        why = (": the leader differs between measures (below), so a survey that settles the measure is "
               "worth commissioning before deciding.")
    few = sorted(str(m) for m, r in lead.items() if int(r["worlds"]) < FEW_WORLDS)
    if few:
        why += (f" Few worlds under {', '.join(few)} (fewer than {FEW_WORLDS}): read its P(best) with its "
                "Monte Carlo error, and run more seeds before relying on it.")
    return short, why


def mixes_measures(runs: pd.DataFrame) -> bool:
    """Whether the runs drew from more than one measure's posterior."""
    return COLUMN in runs and runs[COLUMN].nunique() > 1


def headline_item(runs: pd.DataFrame, scenarios: Sequence[str], baseline: str,
                  clear_share: float) -> str | None:
    """The headline's line on the measures of use (None unless the runs mix measures): the short
    verdict, and each measure's leader with its P(best)."""
    if not mixes_measures(runs):
        return None
    lead = leaders(measures_table(runs, scenarios, baseline), baseline)
    each = "; ".join(f"{m}: {scenario_label(str(r['scenario']))} "
                     f"({probability(float(r['p_best']), float(r['p_best_mc_se']))}, "
                     f"{int(r['worlds'])} worlds)" for m, r in lead.items())
    short, _ = verdict_of(lead, clear_share)
    return f"{short} (leader under each survey's measure of use: {each}; section Which survey defines use)."


def measure_blocks(table: pd.DataFrame, baseline: str, weights: dict[str, float],
                   clear_share: float) -> list[Block]:
    """The report section: the mixture's weights, each measure's leader, and whether they agree."""
    lead = leaders(table, baseline)
    base = table[table["is_baseline"]].set_index(COLUMN)
    total = sum(w for w in weights.values() if w > 0)
    mix = ", ".join(f"{m} {w / total:.0%}" for m, w in weights.items() if w > 0)
    verdict = "".join(verdict_of(lead, clear_share))
    blocks: list[Block] = [("h2", "Which survey defines use"), ("p", (
        "Published measures of the use of online public services disagree, and each gives its own "
        f"calibrated posterior (configs/calibration/use/). These runs draw from a mixture ({mix}; the "
        "weights are an assumption: use_measures={kominfo:1,poll:0,apjii:0} runs one measure alone), "
        "the seeds split in proportion; the tables above describe the mixture. Here each measure's "
        f"worlds alone. {verdict}"))]
    rows = []
    for measure, r in lead.items():
        b = base.loc[measure]
        rows.append([LABELS.get(str(measure), str(measure)), int(r["worlds"]),
                     pct(float(b["adoption_final_mean"])), scenario_label(str(r["scenario"])),
                     probability(float(r["p_best"]), float(r["p_best_mc_se"]))])
    blocks.append(("table", ["measure the posterior is fitted to", "worlds (seeds)",
                             f"final adoption under {scenario_label(baseline)} (mean)", "leading scenario",
                             "P(best) under this measure"], rows))
    return blocks


def measure_section(runs: pd.DataFrame, scenarios: Sequence[str], baseline: str,
                    weights: dict[str, float], clear_share: float, out: Path) -> list[Block]:
    """Write ``measures.csv`` and return the report blocks; none unless the runs mix measures."""
    if not mixes_measures(runs):
        return []
    table = measures_table(runs, scenarios, baseline)
    with atomic_path(out / "measures.csv") as tmp:
        table.to_csv(tmp, index=False)
    return measure_blocks(table, baseline, weights, clear_share)
