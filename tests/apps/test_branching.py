"""The runner simulates each seed's history once: runs with one history key are one work unit, whose
model is run to the policy start and branched into each run. The files are the same, byte for byte,
as running each config from month 0, on every launcher and when resuming part of a group.

Small profile, 500 citizens, four months of history (policy from 2020-05) and five of forecast.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import experiments.engine.runner as runner
from experiments.engine.runner import (
    RUNS_DIR,
    Task,
    groups_for,
    run_configs,
    simulate,
    simulate_group,
    tasks_for,
)
from sim.config import SimConfig, compose
from sim.model import DigitalAdoptionModel
from sim.store.files import SUMMARY_FILE, TIMESERIES_FILE
from sim.store.provenance import CODE_ROOT, code_version, config_hash, history_key

QUIET = {"population.n_citizens": 500, "steps": 9, "policy.start_date": "2020-05", "progress": False}
# Nothing, a mandate, spending (two budgets), and a political will of its own (another history).
SCENARIOS = {
    "baseline": {},
    "mandate": {"policy.mandate.start_month": 1},
    "training": {},
    "comprehensive": {"budget_idr_bn_per_month": 2000.0},
    "leadership": {"policy.political_will": 0.8},
}
SEEDS = (0, 1)


def _config(policy: str, seed: int) -> SimConfig:
    return compose(policy=policy, population="small",
                   overrides={**QUIET, **SCENARIOS[policy], "seed": seed})


def configs() -> list[SimConfig]:
    return [_config(policy, seed) for seed in SEEDS for policy in SCENARIOS]


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """Every run from month 0, one at a time (:func:`simulate`), written as the runner writes."""
    out = tmp_path_factory.mktemp("scratch")
    code = code_version()
    for task in tasks_for(configs()):
        key, files = simulate(task.cfg, task.key, code, str(CODE_ROOT))
        runner._write(out, task, files)
    return out


def test_runs_are_grouped_by_history_key():
    tasks = tasks_for(configs())
    units = groups_for(tasks)
    # per seed: the four scenarios that share the default political will, and leadership alone
    assert [[t.cfg.policy.name for t in unit] for unit in units] == [
        ["baseline", "mandate", "training", "comprehensive"], ["leadership"]] * len(SEEDS)
    assert [{t.cfg.seed for t in unit} for unit in units] == [{0}, {0}, {1}, {1}]
    assert all(len({history_key(t.cfg) for t in unit}) == 1 for unit in units)
    # fewer units than workers: the largest groups are halved, never a group of one
    assert [len(u) for u in groups_for(tasks, n_units=6)] == [2, 2, 1, 2, 2, 1]
    assert [len(u) for u in groups_for(tasks[:1], n_units=4)] == [1]
    assert groups_for([], n_units=2) == []


def test_a_group_gives_each_runs_files_exactly_as_from_scratch():
    tasks = groups_for(tasks_for(configs()))[0]
    code = code_version()
    grouped = simulate_group([t.cfg for t in tasks], [t.key for t in tasks], code, str(CODE_ROOT))
    assert [key for key, _ in grouped] == [t.key for t in tasks]
    for task, (_, files) in zip(tasks, grouped, strict=True):
        assert files == simulate(task.cfg, task.key, code, str(CODE_ROOT))[1], task.cfg.policy.name
    assert len({files[TIMESERIES_FILE] for _, files in grouped}) == len(tasks)  # the policies differ


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_branched_runs_give_the_same_bytes_as_runs_from_scratch(scratch, tmp_path, launcher, monkeypatch):
    built, branched = [], []
    init, branch = DigitalAdoptionModel.__init__, DigitalAdoptionModel.branch

    def counting_init(self, *args, **kwargs):
        built.append(1)
        init(self, *args, **kwargs)

    def counting_branch(self, cfg):
        branched.append(cfg.policy.name)
        return branch(self, cfg)

    monkeypatch.setattr(DigitalAdoptionModel, "__init__", counting_init)
    monkeypatch.setattr(DigitalAdoptionModel, "branch", counting_branch)
    run_configs(configs(), tmp_path, launcher=launcher, n_jobs=2, progress=False)
    assert digest(tmp_path) == digest(scratch)
    if launcher == "basic":  # in this process: one model per history, one branch per run of a group
        assert len(built) == 2 * len(SEEDS)
        assert sorted(branched) == sorted(["baseline", "mandate", "training", "comprehensive"] * len(SEEDS))


def test_a_resumed_group_finishes_the_rest_identically(scratch, tmp_path):
    every = configs()
    first_group = every[:4]  # seed 0's shared history: baseline, mandate, training, comprehensive
    run_configs([first_group[1], first_group[3]], tmp_path, launcher="basic", progress=False)
    kept = {p: p.stat().st_mtime_ns for p in (tmp_path / RUNS_DIR).glob(f"*/{SUMMARY_FILE}")}
    assert len(kept) == 2
    # a third run of the group interrupted: its files but no summary
    torn = Task(first_group[2], config_hash(first_group[2]))
    (tmp_path / RUNS_DIR / torn.name).mkdir()
    (tmp_path / RUNS_DIR / torn.name / TIMESERIES_FILE).write_bytes(b"torn")
    records = run_configs(every, tmp_path, launcher="joblib", n_jobs=2, progress=False)
    assert digest(tmp_path) == digest(scratch)
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # kept, not redone
    assert [r.key for r in records] == [config_hash(c) for c in every]
