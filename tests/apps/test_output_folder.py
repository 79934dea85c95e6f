"""One output folder, one experiment, one process at a time: a second sweep with other settings, or
while another process works there, is refused before it touches anything; resuming still works."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from experiments.compare import app as compare
from experiments.engine.runner import DATASET_DIR, LOCK_FILE, FolderRefused, claim_folder, experiment_settings
from experiments.engine.settings import CompareConfig, model_settings
from sim.store.files import SUMMARY_FILE, TIMESERIES_FILE
from tests.conftest import REPO

TINY = CompareConfig(population="small", n_citizens=300, steps=3, seeds=2, scenarios=["baseline", "training"],
                     launcher="basic", progress=False, uncertainty="none")


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished")
    compare.run_compare(TINY, out)
    return out


def test_other_settings_into_a_finished_folder_are_refused_and_change_nothing(finished):
    before = _files(finished)
    with pytest.raises(FolderRefused) as info:
        compare.run_compare(replace(TINY, steps=4), finished)
    message = str(info.value)
    assert "\n" not in message and str(finished) in message and "steps: 3 there, 4 here" in message
    assert _files(finished) == before


def test_the_same_settings_resume_on_any_launcher(finished):
    runs = {k: v for k, v in _files(finished).items() if k.startswith(("runs/", "timeseries/"))}
    compare.run_compare(replace(TINY, launcher="joblib", n_jobs=2), finished)
    assert {k: v for k, v in _files(finished).items() if k.startswith(("runs/", "timeseries/"))} == runs
    assert not (finished / LOCK_FILE).exists()


def test_a_folder_in_use_is_refused_and_a_dead_holder_is_no_lock(tmp_path):
    settings = experiment_settings("compare", TINY)
    with (claim_folder(tmp_path, settings),
          pytest.raises(FolderRefused, match=rf"in use by process {os.getpid()}"),
          claim_folder(tmp_path, settings)):
        pass
    assert not (tmp_path / LOCK_FILE).exists()
    (tmp_path / LOCK_FILE).write_text("999999999\n")  # left by a process that was killed
    with claim_folder(tmp_path, settings):
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_the_command_line_refuses_with_one_line_and_exit_2(finished):
    res = subprocess.run([sys.executable, "-m", "experiments.compare", "population=small", "n_citizens=300",
                          "steps=3", "seeds=2", "scenarios=[baseline,inclusive]", "launcher=basic",
                          "progress=false", "uncertainty=none", "p_best_precision=null",
                          "province_min_share=null", f"hydra.run.dir={finished}"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(finished) in lines[0] and "scenarios" in lines[0], res.stderr


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def _damage_a_part(out: Path) -> Path:
    part = sorted((out / DATASET_DIR).rglob(TIMESERIES_FILE))[0]
    data = part.read_bytes()
    part.unlink()  # a new file: the run folder's hard link keeps the good bytes
    part.write_bytes(data[: len(data) // 2])
    return part


def test_resume_rewrites_a_damaged_dataset_part_from_its_run(finished, tmp_path):
    out = _copy(finished, tmp_path / "out")
    part = _damage_a_part(out)
    summaries = {p: p.stat().st_mtime_ns for p in out.glob(f"runs/*/{SUMMARY_FILE}")}
    compare.run_compare(TINY, out)
    assert {p: p.stat().st_mtime_ns for p in out.glob(f"runs/*/{SUMMARY_FILE}")} == summaries  # not redone
    assert part.read_bytes() == (finished / part.relative_to(out)).read_bytes()
    # 2 scenarios x 2 seeds, each run its history and forecast months plus month 0
    assert len(pd.read_parquet(out / DATASET_DIR)) == 4 * (model_settings(TINY)["steps"] + 1)


def test_reuse_refuses_a_damaged_dataset_part_and_leaves_hydra_files_alone(finished, tmp_path):
    out = _copy(finished, tmp_path / "out")
    part = _damage_a_part(out)
    (out / ".hydra").mkdir(exist_ok=True)
    (out / ".hydra" / "config.yaml").write_text("steps: 3  # the finished run's\n")
    res = subprocess.run([sys.executable, "-m", "experiments.compare", "population=small", "n_citizens=300",
                          "steps=3", "seeds=2", "scenarios=[baseline,training]", "launcher=basic",
                          "progress=false", "uncertainty=none", "reuse=true", "p_best_precision=null",
                          "province_min_share=null", f"hydra.run.dir={out}"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(part) in lines[0], res.stderr
    assert (out / ".hydra" / "config.yaml").read_text() == "steps: 3  # the finished run's\n"


def test_the_report_gives_the_horizon_the_runs_had(tmp_path):
    """A comparison of 5 months says 5 months in the report's header and tables, read from the runs'
    records (``overrides=["steps=5"]``, which once ran 5 months under a 3-month header, is refused)."""
    compare.run_compare(replace(TINY, steps=5), tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "5 months" in text and "3 months" not in text
