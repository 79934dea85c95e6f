"""One output folder, one experiment, one process at a time: a second sweep with other settings, or
while another process works there, is refused before it touches anything; resuming still works."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from experiments.compare import app as compare
from experiments.engine.runner import LOCK_FILE, FolderRefused, claim_folder, experiment_settings
from experiments.engine.settings import CompareConfig

REPO = Path(__file__).resolve().parent.parent
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
                          "progress=false", "uncertainty=none", f"hydra.run.dir={finished}"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(finished) in lines[0] and "scenarios" in lines[0], res.stderr
