"""Runs come back as typed records: the config that ran, its identity, its summary, its folder.

The tables and reports learn what ran from these records, not from ``config.json`` read back as a
dict, and the frontier recognises its splits by the runs' identities, not by rounded allocations.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from experiments.engine.runner import run_configs
from experiments.engine.settings import FrontierConfig
from experiments.frontier import app as frontier
from sim.config import ConfigError, compose
from sim.store.files import CONFIG_FILE
from sim.store.provenance import config_hash
from sim.store.record import RunRecord, read_record


def tiny(policy: str, seeds: range) -> list:
    """Two-month runs whose policy acts from month 0 (policy.start_date null: no history before it)."""
    base = compose(policy=policy, population="small", overrides={
        "steps": 2, "population.n_citizens": 300, "policy.start_date": None})
    return [replace(base, seed=s, progress=False) for s in seeds]


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    configs = tiny("training", range(2)) + tiny("baseline", range(1))
    out = tmp_path_factory.mktemp("records")
    return configs, run_configs([*configs, configs[0]], out, launcher="basic", progress=False)


def test_one_record_per_config_in_order_with_the_config_itself(ran):
    configs, records = ran
    assert len(records) == len(configs) + 1
    assert all(isinstance(r, RunRecord) for r in records)
    for cfg, record in zip(configs, records, strict=False):
        assert record.config is cfg  # the object the caller gave, not a copy read back
        assert record.key == config_hash(cfg) == record.summary["config_hash"]
        assert record.scenario == cfg.policy.name and record.seed == cfg.seed
        assert json.loads((record.directory / "summary.json").read_text()) == dict(record.summary)
        assert len(record.timeseries()) == cfg.steps + 1
    assert records[-1] is records[0]  # the same config twice is one run, one record


def test_a_record_read_back_from_its_folder_is_the_same_run(ran):
    _, records = ran
    again = read_record(records[1].directory)
    assert again.config == records[1].config and again.key == records[1].key
    assert dict(again.summary) == dict(records[1].summary)


def test_a_folder_whose_config_was_edited_is_refused(ran, tmp_path):
    _, records = ran
    folder = tmp_path / "edited"
    folder.mkdir()
    for f in records[0].directory.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    raw = json.loads((folder / CONFIG_FILE).read_text())
    raw["steps"] = 3
    (folder / CONFIG_FILE).write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="does not match its summary"):
        read_record(folder)


def test_frontier_splits_shared_by_two_pairs_use_the_same_runs():
    """All of the budget on training is a split of both pairs: one run serves both, found by identity."""
    cfg = FrontierConfig(population="small", n_citizens=300, steps=2, seeds=1, n_splits=2,
                         pairs=[["training", "infrastructure"], ["training", "literacy"]],
                         uncertainty="none", progress=False)
    plan = frontier.frontier_plan(cfg)
    assert plan[0][0] is None  # the reference first
    keys = {(p["pair"], p["share_a"]): config_hash(c[0]) for p, c in plan if p is not None}
    assert keys[("training/infrastructure", 1.0)] == keys[("training/literacy", 1.0)]
    assert keys[("training/infrastructure", 0.0)] != keys[("training/literacy", 0.0)]
    assert len(frontier.sim_configs(plan)) == len(plan) - 1
