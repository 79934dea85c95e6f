"""The comparison by province: a table across calibrated worlds, a tile map, and the report section.

Each run writes its final state by province (``provinces.csv``, :func:`sim.metrics.province_table`).
Here the runs are gathered per scenario and province: final adoption and access (mean and 5%-95% range
across runs) and each scenario's paired effect on adoption against the baseline run of the same seed
(mean and range of the per-seed differences), with the fewest citizen agents the province held in any
run, because a province estimate is only as good as its agent count: in a sample in proportion to the
people the smallest provinces hold a few dozen of 20,000 agents, and their ranges are mostly sampling
noise; the main job therefore stratifies its sample by province (``province_min_share``: at least 300 of
20,000 in each, with survey weights, :mod:`sim.weights`).

A scenario that confines its levers to some provinces (``policy.provinces``) is also read side by side:
the residents of its targeted provinces together against everyone else, each group's final adoption
and access and the paired effect on them (:func:`targeting_summary`). Pooled, the targeted provinces
hold enough agents for an estimate even where each one alone does not, and the untargeted side shows
what reaches the rest of the country (through the social network and the national platform) or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.engine.plots import save_figure
from experiments.engine.render import Block, pct, pp, scenario_label
from sim.metrics import FEW_PROVINCE_AGENTS
from sim.provinces import PROVINCE_TILES, PROVINCES
from sim.store.record import RunRecord

# Fewer citizen agents than this in a province: its estimates are flagged as noisy (declared once, in
# sim.metrics, for the dashboard's province view too).
FEW_AGENTS = FEW_PROVINCE_AGENTS


def read_provinces(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per run x province: scenario, seed, province, island group, and each province metric.

    The runs' long tables are stacked and turned wide once (one pivot per run took most of the time of a
    comparison's tables at a few thousand runs)."""
    records = list(records)
    if not records:
        return pd.DataFrame()
    long = pd.concat([pd.read_csv(r.provinces_path).assign(run=i) for i, r in enumerate(records)],
                     ignore_index=True)
    wide = long.pivot_table(index=["run", "province", "island_group"], columns="metric", values="value",
                            aggfunc="first").reset_index()
    run = wide.pop("run").to_numpy()
    wide.insert(0, "seed", [records[i].seed for i in run])
    wide.insert(0, "scenario", [records[i].scenario for i in run])
    return wide


def _spread(values: pd.core.groupby.SeriesGroupBy, name: str) -> pd.DataFrame:
    return pd.DataFrame({f"{name}_mean": values.mean(), f"{name}_p05": values.quantile(0.05),
                         f"{name}_p95": values.quantile(0.95)})


def province_summary(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per scenario x province: agents (fewest in any run), final adoption and access across runs, and
    the paired change of adoption against the baseline (per seed), with 5%-95% ranges."""
    keys = ["scenario", "province"]
    grouped = table.groupby(keys, sort=False)
    out = pd.concat([grouped["citizen_agents"].min().rename("agents_min"),
                     _spread(grouped["adoption"], "adoption_final"),
                     _spread(grouped["access"], "access_final")], axis=1)
    ref = table.loc[table["scenario"] == baseline, ["seed", "province", "adoption"]]
    paired = table[["scenario", "seed", "province", "adoption"]].merge(
        ref, on=["seed", "province"], suffixes=("", "_baseline"))
    paired["change"] = paired["adoption"] - paired["adoption_baseline"]
    out = out.join(_spread(paired.groupby(keys, sort=False)["change"], "adoption_change"))
    out = out.reset_index()
    out.insert(2, "island_group", out["province"].map(
        table.drop_duplicates("province").set_index("province")["island_group"]))
    order = {name: i for i, name in enumerate(PROVINCES)}
    return out.sort_values(["scenario", "province"], key=lambda c: c.map(order) if c.name == "province"
                           else c, kind="stable").reset_index(drop=True)


def targeted_provinces(records: Iterable[RunRecord]) -> dict[str, list[str]]:
    """The province targeting of each scenario that has one, read from its runs' configs
    (``policy.provinces``), in the order of the records."""
    out: dict[str, list[str]] = {}
    for record in records:
        if record.config.policy.provinces:
            out.setdefault(record.scenario, list(record.config.policy.provinces))
    return out


def _pooled(table: pd.DataFrame, names: Sequence[str], inside: bool) -> pd.DataFrame:
    """Per run (scenario, seed): citizen agents, final adoption and access among the residents of the
    named provinces (``inside``) or of all the others, each province weighted by the people its agents
    stand for (``citizens_represented``: by its agents in a proportional sample, by its people in one
    stratified by province)."""
    part = table[table["province"].isin(names) == inside]
    people = part["citizens_represented"].fillna(0.0)
    frame = pd.DataFrame({"scenario": part["scenario"], "seed": part["seed"],
                          "agents": part["citizen_agents"].fillna(0.0), "people": people,
                          "users": part["adoption"].fillna(0.0) * people,
                          "connected": part["access"].fillna(0.0) * people})
    runs = frame.groupby(["scenario", "seed"], sort=False).sum().reset_index()
    runs["adoption"] = runs["users"] / runs["people"].where(runs["people"] > 0)
    runs["access"] = runs["connected"] / runs["people"].where(runs["people"] > 0)
    return runs[["scenario", "seed", "agents", "adoption", "access"]]


def _quantiles(values: pd.Series, name: str) -> dict[str, float]:
    return {f"{name}_mean": float(values.mean()), f"{name}_p05": float(values.quantile(0.05)),
            f"{name}_p95": float(values.quantile(0.95))}


def targeting_summary(table: pd.DataFrame, baseline: str, targeted: dict[str, list[str]]) -> pd.DataFrame:
    """Per province-targeted scenario x side (``targeted``: its provinces pooled, ``untargeted``: every
    other province pooled): provinces, fewest agents in any run, final adoption under the baseline and
    under the scenario, and the paired effects (scenario minus baseline of the same seed, so of the same
    calibrated world) on adoption and access, each with its 5%-95% range across the seeds."""
    rows = []
    for scenario, names in targeted.items():
        if scenario == baseline:
            continue
        for side, inside in (("targeted", True), ("untargeted", False)):
            runs = _pooled(table[table["scenario"].isin([scenario, baseline])], names, inside)
            mine, ref = runs[runs["scenario"] == scenario], runs[runs["scenario"] == baseline]
            paired = mine.merge(ref, on="seed", suffixes=("", "_baseline"))
            count = len(names) if inside else len(PROVINCES) - len(set(names))
            rows.append({"scenario": scenario, "side": side, "provinces": count,
                         "seeds": len(paired), "agents_min": float(mine["agents"].min()),
                         **_quantiles(paired["adoption_baseline"], "adoption_baseline"),
                         **_quantiles(paired["adoption"], "adoption_final"),
                         **_quantiles(paired["adoption"] - paired["adoption_baseline"], "adoption_change"),
                         **_quantiles(paired["access"] - paired["access_baseline"], "access_change")})
    return pd.DataFrame(rows)


def targeting_blocks(targeting: pd.DataFrame, targeted: dict[str, list[str]], baseline: str,
                     spread: str) -> list[Block]:
    """For each province-targeted scenario, its targeted and untargeted provinces side by side."""
    blocks: list[Block] = []
    for scenario, part in targeting.groupby("scenario", sort=False):
        label, names = scenario_label(str(scenario)), targeted[str(scenario)]
        seeds = int(part["seeds"].min())
        blocks += [("h3", f"{label}: targeted and untargeted provinces"), ("p", (
            f"The {label} scenario spends only in {len(names)} provinces ({', '.join(names)}). Their "
            "residents together, beside everyone else: final adoption under "
            f"{scenario_label(baseline)} and under {label}, and the effect of {label} on adoption and "
            "on internet access (paired by seed: the same calibrated world under both), mean and 5%-95% "
            f"{spread} over {seeds} seeds. Each side pools the citizen agents of its provinces (each "
            "province counts by its people), so it rests on far more agents than any one province. "
            "An effect on the untargeted side is what reaches the rest of the country through the "
            "social network and the national platform. Both sides: province_targeting.csv."))]
        header = ["provinces", "number", "agents (fewest)", f"final adoption, {scenario_label(baseline)}",
                  f"final adoption, {label}", f"effect of {label} on adoption", "effect on access"]
        rows = []
        for _, r in part.iterrows():
            rows.append([str(r["side"]), int(r["provinces"]), f"{int(r['agents_min']):,}",
                         pct(r["adoption_baseline_mean"], r["adoption_baseline_p05"],
                             r["adoption_baseline_p95"], digits=0),
                         pct(r["adoption_final_mean"], r["adoption_final_p05"], r["adoption_final_p95"],
                             digits=0),
                         pp(r["adoption_change_mean"], r["adoption_change_p05"], r["adoption_change_p95"]),
                         pp(r["access_change_mean"], r["access_change_p05"], r["access_change_p95"])])
        blocks.append(("table", header, rows))
        fewest = int(part.loc[part["side"] == "targeted", "agents_min"].min())
        if fewest < FEW_AGENTS:
            blocks.append(("p", f"The targeted provinces together hold only {fewest:,} citizen agents in "
                                f"some run (fewer than {FEW_AGENTS}): their figures are noisy; run more "
                                "citizen agents."))
    return blocks


def tile_map(values: pd.Series, title: str, path: Path, label: str, diverging: bool = False) -> Path:
    """One square per province (:data:`sim.provinces.PROVINCE_TILES`), coloured by ``values`` (indexed
    by province; in percent or percentage points), its value written in it."""
    rows = max(r for r, _ in PROVINCE_TILES.values()) + 1
    cols = max(c for _, c in PROVINCE_TILES.values()) + 1
    fig, ax = plt.subplots(figsize=(0.95 * cols + 1.4, 0.95 * rows + 0.6))
    finite = values[np.isfinite(values)]
    if diverging:
        reach = float(np.nanmax(np.abs(finite))) if len(finite) else 1.0
        norm, cmap = plt.Normalize(-reach or -1, reach or 1), plt.get_cmap("RdBu")
    else:
        norm, cmap = plt.Normalize(0, 100), plt.get_cmap("viridis")
    for province, (r, c) in PROVINCE_TILES.items():
        value = values.get(province, np.nan)
        color = cmap(norm(value)) if np.isfinite(value) else (0.85, 0.85, 0.85, 1.0)
        ax.add_patch(plt.Rectangle((c, -r), 0.94, 0.94, color=color))
        dark = np.isfinite(value) and sum(color[:3]) < 1.5
        short = province.replace("Kepulauan Bangka Belitung", "Bangka Belitung").replace(
            "Kepulauan ", "Kep. ").replace("Sulawesi ", "Sul. ").replace(
            "Kalimantan ", "Kal. ").replace("Sumatera ", "Sum. ").replace("Nusa Tenggara ", "NT ")
        ax.text(c + 0.47, -r + 0.62, short, ha="center", va="center", fontsize=5.2,
                color="white" if dark else "black", wrap=True)
        ax.text(c + 0.47, -r + 0.3, "-" if not np.isfinite(value) else f"{value:+.1f}" if diverging
                else f"{value:.0f}", ha="center", va="center", fontsize=8, fontweight="bold",
                color="white" if dark else "black")
    ax.set_xlim(-0.1, cols)
    ax.set_ylim(-rows + 0.9, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.025, pad=0.01,
                 label=label)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def province_blocks(summary: pd.DataFrame, baseline: str, best: str | None, figures: dict[str, Path],
                    spread: str, targeting: list[Block] | None = None, min_share: float = 0.0) -> list[Block]:
    """The report's province section: the maps, a table of the baseline and the leading scenario's
    effect per province, how many agents stand behind each estimate (and the sampling design that put
    them there: ``min_share``, the runs' ``population.province_min_share``), then the side-by-side blocks
    of the province-targeted scenarios (``targeting``, :func:`targeting_blocks`)."""
    base = summary[summary["scenario"] == baseline].set_index("province")
    few = base.index[base["agents_min"] < FEW_AGENTS].tolist()
    fewest = int(base["agents_min"].min())
    design = (f"The sample is stratified by province: every province gets at least {min_share:.1%} of the "
              "citizen agents, the smallest over-sampled, and each agent carries a survey weight, the "
              "people it stands for, so that every national figure weighs the provinces by their people "
              f"(province_min_share={min_share:g}). " if min_share > 0 else
              "Provinces get citizen agents in proportion to their people. ")
    noise = (f"{len(few)} of 38 provinces hold fewer than {FEW_AGENTS} in some run (fewest: {fewest:,}), so "
             "their ranges are mostly sampling noise; run more citizen agents, or stratify the sample "
             "(province_min_share=0.015 gives 300 of 20,000 to each), for a province estimate. " if few else
             f"every province holds at least {fewest:,} in every run. ")
    blocks: list[Block] = [("h2", "By province"), ("p", (
        f"Final adoption in each of the 38 provinces under {scenario_label(baseline)} (mean and 5%-95% "
        f"{spread}), and the paired effect of "
        + (f"{scenario_label(best)}" if best else "each scenario")
        + " on it. " + design + "A province's estimate rests on the citizen agents living there: "
        + noise + "The map is a tile cartogram (one square per province, "
        "neighbours kept close), not a map of boundaries. Every scenario and province: "
        "province_summary.csv."))]
    for key, caption in (("baseline", f"Final adoption by province under {scenario_label(baseline)} (%)."),
                         ("effect", f"Effect of {scenario_label(best) if best else ''} on final adoption "
                                    "by province (percentage points, paired by seed).")):
        if key in figures:
            blocks.append(("fig", figures[key], caption))
    other = summary[summary["scenario"] == best].set_index("province") if best else None
    header = ["province", "island group", "agents (fewest)", f"final adoption, {scenario_label(baseline)}",
              "access"] + ([f"effect of {scenario_label(best)}"] if best else [])
    rows = []
    for province, r in base.iterrows():
        row = [province, r["island_group"], f"{int(r['agents_min']):,}",
               pct(r["adoption_final_mean"], r["adoption_final_p05"], r["adoption_final_p95"], digits=0),
               pct(r["access_final_mean"], digits=0)]
        if other is not None and province in other.index:
            o = other.loc[province]
            row.append(pp(o["adoption_change_mean"], o["adoption_change_p05"], o["adoption_change_p95"]))
        rows.append(row)
    blocks.append(("table", header, rows))
    return blocks + list(targeting or [])


def province_section(records: Sequence[RunRecord], baseline: str, best: str | None, out: Path,
                     spread: str) -> list[Block]:
    """Gather the runs' provinces, write ``province_summary.csv`` (and ``province_targeting.csv`` when
    a scenario targets provinces) and the maps, return the blocks."""
    from sim.store.files import atomic_path

    table = read_provinces(records)
    summary = province_summary(table, baseline)
    with atomic_path(out / "province_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    targeted = targeted_provinces(records)
    targeting = targeting_summary(table, baseline, targeted)
    if not targeting.empty:
        with atomic_path(out / "province_targeting.csv") as tmp:
            targeting.to_csv(tmp, index=False)
    base = summary[summary["scenario"] == baseline].set_index("province")
    figures = {"baseline": tile_map(base["adoption_final_mean"] * 100,
                                    f"Final adoption by province, {scenario_label(baseline)}",
                                    out / "figures" / "provinces_adoption.png", "% of citizens")}
    if best:
        effect = summary[summary["scenario"] == best].set_index("province")["adoption_change_mean"] * 100
        figures["effect"] = tile_map(effect, f"Effect of {scenario_label(best)} on final adoption",
                                     out / "figures" / "provinces_effect.png", "percentage points",
                                     diverging=True)
    return province_blocks(summary, baseline, best, figures, spread,
                           targeting_blocks(targeting, targeted, baseline, spread) if len(targeting) else [],
                           min_share=records[0].config.population.province_min_share if records else 0.0)
