"""The optional extras: without Ray or pyabc installed, the one command that needs each says so in one
line and exits 2, and everything else works (the default install is ``pip install -e .``).

The packages are hidden by a ``None`` entry in ``sys.modules`` (Python's own way of marking a module
as not importable), in a child process for the command line.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from experiments.calibration import inference
from experiments.engine import runner
from sim.config import ConfigError
from tests.conftest import REPO

HIDE = "import sys, runpy; sys.modules[{name!r}] = None; sys.argv = [{module!r}, *sys.argv[1:]]; " \
       "runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"


def test_ray_missing_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError) as info:
        runner.run_configs([], tmp_path, launcher="ray")
    assert str(info.value) == "launcher=ray needs the ray extra: pip install -e '.[ray]'"


def test_pyabc_missing_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyabc", None)
    with pytest.raises(ConfigError) as info:
        inference.import_pyabc()
    assert str(info.value) == "method=smc needs the smc extra: pip install -e '.[smc]'"


def test_launcher_ray_without_ray_exits_2_with_one_line(tmp_path):
    module = "experiments.exploration.discover"
    proc = subprocess.run(
        [sys.executable, "-c", HIDE.format(name="ray", module=module), "population=small", "n_citizens=300",
         "steps=6", "n_samples=10", "launcher=ray", "progress=false", f"hydra.run.dir={tmp_path / 'out'}"],
        cwd=REPO, text=True, capture_output=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["error: launcher=ray needs the ray extra: pip install -e '.[ray]'"]
