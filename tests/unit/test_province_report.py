"""The comparison's province section: paired effects per province, agent counts, the tile layout, and a
province-targeted scenario's targeted and untargeted provinces side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.compare.provinces import (
    FEW_AGENTS,
    province_blocks,
    province_summary,
    targeting_blocks,
    targeting_summary,
)
from sim.provinces import PROVINCE_REGION, PROVINCE_TILES, PROVINCES


def _table() -> pd.DataFrame:
    """Two scenarios x three seeds x every province, with known adoption: the effect of training is
    +0.02 in every province and seed, plus a seed-specific level common to both scenarios."""
    rows = []
    for scenario, lift in (("baseline", 0.0), ("training", 0.02)):
        for seed in range(3):
            for i, province in enumerate(PROVINCES):
                rows.append({"scenario": scenario, "seed": seed, "province": province,
                             "island_group": str(PROVINCE_REGION[i]), "citizen_agents": 50.0 + i + seed,
                             "citizens_represented": (50.0 + i + seed) * 14_000,
                             "adoption": 0.3 + 0.1 * seed + 0.001 * i + lift, "access": 0.8})
    return pd.DataFrame(rows)


def test_the_paired_effect_is_the_per_seed_difference_and_agents_the_fewest():
    summary = province_summary(_table(), "baseline")
    assert len(summary) == 2 * len(PROVINCES)
    training = summary[summary["scenario"] == "training"]
    # the seed-to-seed spread of the level cancels in the paired effect
    assert np.allclose(training["adoption_change_mean"], 0.02)
    assert np.allclose(training["adoption_change_p95"] - training["adoption_change_p05"], 0.0)
    base = summary[summary["scenario"] == "baseline"].set_index("province")
    assert base.loc[PROVINCES[0], "agents_min"] == 50.0
    assert base.loc[PROVINCES[0], "adoption_final_p05"] < base.loc[PROVINCES[0], "adoption_final_p95"]
    assert list(base.index) == list(PROVINCES)  # the table keeps the provinces' own order


def test_the_section_says_how_many_provinces_have_few_agents():
    summary = province_summary(_table(), "baseline")
    blocks = province_blocks(summary, "baseline", "training", {}, "range across calibrated worlds")
    text = " ".join(str(b[1]) for b in blocks if b[0] == "p")
    assert f"38 of 38 provinces hold fewer than {FEW_AGENTS}" in text
    assert "in proportion to their people" in text
    summary["agents_min"] = 300.0  # a stratified sample: enough everywhere, and the design is named
    text = " ".join(str(b[1]) for b in province_blocks(summary, "baseline", "training", {}, "range",
                                                         min_share=0.015) if b[0] == "p")
    assert "every province holds at least 300" in text and "fewer than" not in text
    assert "at least 1.5% of the citizen agents" in text and "survey weight" in text
    table = next(b for b in blocks if b[0] == "table")
    assert len(table[2]) == 38 and table[2][0][-1].startswith("+2")


def test_every_province_has_its_own_tile():
    assert set(PROVINCE_TILES) == set(PROVINCES)
    assert len(set(PROVINCE_TILES.values())) == len(PROVINCES)


def test_the_tiles_run_west_to_east():
    column = {p: c for p, (_, c) in PROVINCE_TILES.items()}
    assert column["Aceh"] < column["DKI Jakarta"] < column["Bali"] < column["Maluku"] < column["Papua"]


# --------------------------------------------------------------------------- a province-targeted scenario
TARGETED = ["Papua", "Maluku", "Aceh"]


def _targeted_table() -> pd.DataFrame:
    """Baseline and a scenario that lifts adoption by 0.05 in the targeted provinces only (0.04 to 0.06
    across the seeds) and access by 0.1 there; 100 agents in every province."""
    rows = []
    for scenario in ("baseline", "focus"):
        for seed in range(5):
            for i, province in enumerate(PROVINCES):
                inside = province in TARGETED
                lift = (0.04 + 0.005 * seed) if scenario == "focus" and inside else 0.0
                rows.append({"scenario": scenario, "seed": seed, "province": province,
                             "island_group": str(PROVINCE_REGION[i]), "citizen_agents": 100.0,
                             "citizens_represented": 1.4e6,
                             "adoption": 0.2 + 0.01 * seed + 0.002 * i + lift,
                             "access": 0.7 + (0.1 if scenario == "focus" and inside else 0.0)})
    return pd.DataFrame(rows)


def test_targeted_and_untargeted_provinces_are_pooled_and_paired_by_seed():
    table = _targeted_table()
    summary = targeting_summary(table, "baseline", {"focus": TARGETED})
    sides = summary.set_index("side")
    assert list(sides.index) == ["targeted", "untargeted"]
    assert sides.loc["targeted", "provinces"] == 3 and sides.loc["untargeted", "provinces"] == 35
    assert sides.loc["targeted", "agents_min"] == 300 and sides.loc["untargeted", "agents_min"] == 3500
    assert sides.loc["targeted", "adoption_change_mean"] == pytest.approx(0.05)
    assert sides.loc["targeted", "adoption_change_p05"] == pytest.approx(0.041)  # 5% of 0.04 .. 0.06
    assert sides.loc["targeted", "adoption_change_p95"] == pytest.approx(0.059)
    assert sides.loc["untargeted", "adoption_change_mean"] == pytest.approx(0.0, abs=1e-12)
    assert sides.loc["targeted", "access_change_mean"] == pytest.approx(0.1)
    # pooled by people (equal here): the targeted side's baseline level is its provinces' mean level
    codes = [PROVINCES.index(p) for p in TARGETED]
    assert sides.loc["targeted", "adoption_baseline_mean"] == pytest.approx(0.22 + 0.002 * np.mean(codes))


def test_a_province_weighs_by_its_people_and_an_empty_one_not_at_all():
    table = _targeted_table()
    # a stratified sample: Papua over-sampled (its 100 agents stand for few people) weighs by its people
    table.loc[table["province"] == "Papua", "citizens_represented"] = 1e5
    summary = targeting_summary(table, "baseline", {"focus": TARGETED}).set_index("side")
    levels = table[(table["scenario"] == "baseline") & table["province"].isin(TARGETED)]
    weighted = levels.assign(users=levels["adoption"] * levels["citizens_represented"]).groupby("seed")
    by_seed = weighted["users"].sum() / weighted["citizens_represented"].sum()
    assert summary.loc["targeted", "adoption_baseline_mean"] == pytest.approx(by_seed.mean(), rel=1e-12)
    table.loc[table["province"] == "Papua", "citizen_agents"] = 0.0
    table.loc[table["province"] == "Papua", "citizens_represented"] = 0.0
    table.loc[table["province"] == "Papua", "adoption"] = np.nan  # nobody there: no value
    summary = targeting_summary(table, "baseline", {"focus": TARGETED}).set_index("side")
    assert summary.loc["targeted", "agents_min"] == 200
    assert np.isfinite(summary.loc["targeted", "adoption_change_mean"])


def test_the_section_sets_the_targeted_provinces_beside_the_rest():
    table = _targeted_table()
    targeting = targeting_summary(table, "baseline", {"focus": TARGETED})
    blocks = targeting_blocks(targeting, {"focus": TARGETED}, "baseline", "range across calibrated worlds")
    assert blocks[0] == ("h3", "focus: targeted and untargeted provinces")
    assert "only in 3 provinces (Papua, Maluku, Aceh)" in blocks[1][1]
    header, rows = next(b for b in blocks if b[0] == "table")[1:]
    assert [r[0] for r in rows] == ["targeted", "untargeted"]
    assert rows[0][header.index("effect of focus on adoption")].startswith("+5")
    assert rows[1][header.index("effect of focus on adoption")].startswith("+0.0")
    assert not any("fewer than" in b[1] for b in blocks if b[0] == "p")  # 300 agents together
    # fewer agents in the targeted provinces together: said so
    table["citizen_agents"] = 50.0
    few = targeting_blocks(targeting_summary(table, "baseline", {"focus": TARGETED}), {"focus": TARGETED},
                           "baseline", "range across calibrated worlds")
    assert any(f"only 150 citizen agents in some run (fewer than {FEW_AGENTS})" in b[1]
               for b in few if b[0] == "p")
    # no scenario targets provinces (or only the baseline does): no table
    assert targeting_summary(table, "baseline", {}).empty
    assert targeting_summary(table, "baseline", {"baseline": TARGETED}).empty


def test_the_shipped_province_scenario_targets_the_ten_provinces_least_online():
    from sim.config import compose
    from sim.provinces import ACCESS_2023

    policy = compose("lagging_provinces").policy
    least = [PROVINCES[i] for i in np.argsort(ACCESS_2023, kind="stable")[:10]]
    assert sorted(policy.provinces) == sorted(least)
    assert sum(getattr(policy.allocation, lever) for lever in ("infrastructure", "literacy", "training")) == 1


def test_the_scenario_table_says_the_levers_are_confined_to_some_provinces():
    from experiments.engine.render import targeting_label

    assert targeting_label("universal") == "everyone"
    assert targeting_label("universal", 10) == "everyone in 10 of 38 provinces (By province)"
    assert targeting_label("rural", 3).startswith("rural residents in 3 of 38 provinces")
