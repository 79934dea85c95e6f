"""The comparison by province: a table across calibrated worlds, a tile map, and the report section.

Each run writes its final state by province (``provinces.csv``, :func:`sim.metrics.province_table`).
Here the runs are gathered per scenario and province: final adoption and access (mean and 5%-95% range
across runs) and each scenario's paired effect on adoption against the baseline run of the same seed
(mean and range of the per-seed differences), with the fewest citizen agents the province held in any
run, because a province estimate is only as good as its agent count: at the default 20,000 citizens
the smallest provinces hold a few dozen agents, and their ranges are mostly sampling noise.
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
    """One row per run x province: scenario, seed, province, island group, and each province metric."""
    frames = []
    for record in records:
        long = pd.read_csv(record.provinces_path)
        wide = long.pivot_table(index=["province", "island_group"], columns="metric", values="value",
                                aggfunc="first").reset_index()
        wide.insert(0, "seed", record.seed)
        wide.insert(0, "scenario", record.scenario)
        frames.append(wide)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
                    spread: str) -> list[Block]:
    """The report's province section: the maps, a table of the baseline and the leading scenario's
    effect per province, and how many agents stand behind each estimate."""
    base = summary[summary["scenario"] == baseline].set_index("province")
    few = base.index[base["agents_min"] < FEW_AGENTS].tolist()
    blocks: list[Block] = [("h2", "By province"), ("p", (
        f"Final adoption in each of the 38 provinces under {scenario_label(baseline)} (mean and 5%-95% "
        f"{spread}), and the paired effect of "
        + (f"{scenario_label(best)}" if best else "each scenario")
        + " on it. A province's estimate rests on the citizen agents living there: "
        f"{len(few)} of 38 provinces hold fewer than {FEW_AGENTS} in some run (fewest: "
        f"{int(base['agents_min'].min()):,}), so their ranges are mostly sampling noise; run more "
        "citizen agents for a province estimate. The map is a tile cartogram (one square per province, "
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
    return blocks


def province_section(records: Sequence[RunRecord], baseline: str, best: str | None, out: Path,
                     spread: str) -> list[Block]:
    """Gather the runs' provinces, write ``province_summary.csv`` and the maps, return the blocks."""
    from sim.store.files import atomic_path

    summary = province_summary(read_provinces(records), baseline)
    with atomic_path(out / "province_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    base = summary[summary["scenario"] == baseline].set_index("province")
    figures = {"baseline": tile_map(base["adoption_final_mean"] * 100,
                                    f"Final adoption by province, {scenario_label(baseline)}",
                                    out / "figures" / "provinces_adoption.png", "% of citizens")}
    if best:
        effect = summary[summary["scenario"] == best].set_index("province")["adoption_change_mean"] * 100
        figures["effect"] = tile_map(effect, f"Effect of {scenario_label(best)} on final adoption",
                                     out / "figures" / "provinces_effect.png", "percentage points",
                                     diverging=True)
    return province_blocks(summary, baseline, best, figures, spread)
