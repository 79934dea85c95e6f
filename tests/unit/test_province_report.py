"""The comparison's province section: paired effects per province, agent counts, the tile layout."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.compare.provinces import FEW_AGENTS, province_blocks, province_summary
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
    table = next(b for b in blocks if b[0] == "table")
    assert len(table[2]) == 38 and table[2][0][-1].startswith("+2")


def test_every_province_has_its_own_tile():
    assert set(PROVINCE_TILES) == set(PROVINCES)
    assert len(set(PROVINCE_TILES.values())) == len(PROVINCES)


def test_the_tiles_run_west_to_east():
    column = {p: c for p, (_, c) in PROVINCE_TILES.items()}
    assert column["Aceh"] < column["DKI Jakarta"] < column["Bali"] < column["Maluku"] < column["Papua"]
