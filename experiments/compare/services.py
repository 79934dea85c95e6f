"""The comparison per service of the portfolio: a table across calibrated worlds and the report section.

With a portfolio beyond the one general service (``portfolio=indonesia``), each run writes its rows per
month and service (``services.csv``, :meth:`sim.model.DigitalAdoptionModel.service_table`). Here they
are gathered per scenario and service: the share of eligible citizens who have used the service online
by the end, and the share of its transactions done electronically over the last 12 months (online by
the citizens, or by staff at the counter of a digital-by-default service: what the published series
measure, e.g. e-Filing's electronic share of a season's returns), each as the mean and 5%-95%
range across runs, and each scenario's paired change of the first against the baseline run of the same
seed. Written as ``service_summary.csv``; the report gains a section "By service".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from experiments.engine.render import Block, pct, pp, scenario_label
from sim.rules.services import electronic_share
from sim.store.files import atomic_path
from sim.store.record import RunRecord

LAST_MONTHS = 12  # the online share is read over the run's last year (a season's worth of needs)


def read_services(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per run x service: scenario, seed, service, final used share, last-year electronic share.

    The runs' tables are stacked and summed by run and service at once (a loop over runs and services
    took most of the time of a comparison's tables at a few thousand runs)."""
    records = list(records)
    tables = [t.assign(run=i, last=t["month"].max()) for i, r in enumerate(records)
              if not (t := r.services()).empty]
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    keys = ["run", "service"]
    recent = table[table["month"] > table["last"] - LAST_MONTHS].groupby(keys, sort=False)[
        ["needs", "online_successes", "assisted_electronic"]].sum()
    final = table[table["month"] == table["last"]].groupby(keys, sort=False)["used_share_of_eligible"].first()
    eligible = table.groupby(keys, sort=False)["eligible_share"].first()
    out = pd.DataFrame({"used_final": final, "eligible_share": eligible}).join(recent).reset_index()
    run = out["run"].to_numpy()
    return pd.DataFrame({
        "scenario": [records[i].scenario for i in run], "seed": [records[i].seed for i in run],
        "service": out["service"].to_numpy(), "used_final": out["used_final"].astype(float).to_numpy(),
        "electronic_share_last_year": [electronic_share(s, a, n) for s, a, n in zip(
            out["online_successes"], out["assisted_electronic"], out["needs"], strict=True)],
        "eligible_share": out["eligible_share"].astype(float).to_numpy()})


def _spread(values: pd.core.groupby.SeriesGroupBy, name: str) -> pd.DataFrame:
    return pd.DataFrame({f"{name}_mean": values.mean(), f"{name}_p05": values.quantile(0.05),
                         f"{name}_p95": values.quantile(0.95)})


def service_summary(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per scenario x service: the final used share and the last year's electronic share across runs, and
    the paired change of the used share against the baseline (per seed), each with its 5%-95% range."""
    keys = ["scenario", "service"]
    grouped = table.groupby(keys, sort=False)
    out = pd.concat([grouped["eligible_share"].first(), _spread(grouped["used_final"], "used_final"),
                     _spread(grouped["electronic_share_last_year"], "electronic_share_last_year")], axis=1)
    ref = table.loc[table["scenario"] == baseline, ["seed", "service", "used_final"]]
    paired = table[["scenario", "seed", "service", "used_final"]].merge(
        ref, on=["seed", "service"], suffixes=("", "_baseline"))
    paired["change"] = paired["used_final"] - paired["used_final_baseline"]
    return out.join(_spread(paired.groupby(keys, sort=False)["change"], "used_change")).reset_index()


def service_blocks(summary: pd.DataFrame, baseline: str, labels: dict[str, str], spread: str) -> list[Block]:
    """The report section: one row per scenario and service."""
    blocks: list[Block] = [("h2", "By service"), ("p", (
        "Each service of the portfolio separately: the share of the citizens who can need it (eligible) "
        "who have used it online by the end, the share of its transactions done electronically over the "
        f"last {LAST_MONTHS} months (online, or by staff at the counter of a service that is digital by "
        f"default), and each scenario's change of the first against {scenario_label(baseline)} "
        f"(paired by seed); 5%-95% {spread} in brackets. Service values and their sources: "
        "configs/service/ (set by hand, not inferred); the portfolio's posterior is fitted to DJP's "
        "e-Filing shares and the 2020 census online beside the national figures (docs/services.md)."))]
    header = ["service", "scenario", "eligible", "used online by the end", "electronic share, last year",
              "change against baseline"]
    rows = []
    for _, r in summary.iterrows():
        base = r["scenario"] == baseline
        rows.append([labels.get(r["service"], r["service"]), scenario_label(r["scenario"]),
                     pct(r["eligible_share"]),
                     pct(r["used_final_mean"], r["used_final_p05"], r["used_final_p95"]),
                     pct(r["electronic_share_last_year_mean"], r["electronic_share_last_year_p05"],
                         r["electronic_share_last_year_p95"]),
                     "-" if base else pp(r["used_change_mean"], r["used_change_p05"], r["used_change_p95"])])
    blocks.append(("table", header, rows))
    return blocks


def service_section(records: Sequence[RunRecord], baseline: str, out: Path, spread: str) -> list[Block]:
    """Write ``service_summary.csv`` and return the report blocks (none for the one general service)."""
    table = read_services(records)
    if table.empty:
        return []
    summary = service_summary(table, baseline)
    with atomic_path(out / "service_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    labels = {name: s.label for r in records for name, s in r.config.services.items()}
    return service_blocks(summary, baseline, labels, spread)
