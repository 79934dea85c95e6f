"""Bad input to the experiment apps: one line naming the key, the value and what is allowed, exit 2,
nothing written; valid input that used to be refused runs.

Most cases go through each app's ``prevalidate`` in process (the same check the command line runs
before Hydra starts); a few run ``python -m experiments.compare`` to prove the exit code and the
single line on stderr.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.calibration import app as calibration
from experiments.calibration.config import CalibrateConfig
from experiments.compare import app as compare
from experiments.engine.app import prevalidate
from experiments.engine.settings import CompareConfig, DiscoverConfig, FrontierConfig, SensitivityConfig
from experiments.exploration import design, discover, sensitivity
from experiments.frontier import app as frontier
from experiments.validation import app as validation
from sim import cli
from sim.config import CONFIG_DIR, ConfigError, SimConfig, history_months
from sim.declarations import declaration
from tests.conftest import REPO, _cli_env

APPS = {
    "compare": (CompareConfig, compare.check),
    "frontier": (FrontierConfig, frontier.check),
    "sensitivity": (SensitivityConfig, sensitivity.check),
    "discover": (DiscoverConfig, discover.check),
    "calibrate": (CalibrateConfig, calibration.check),
    "validate": (validation.ValidateConfig, validation.check_config),
}
SMALL = ["population=small", "n_citizens=null", "steps=6"]
# months every app run lives through before its policy begins (start_date to policy.start_date); the
# app's steps are the forecast after them, so the longest forecast is the model's horizon minus these
HISTORY = history_months(SimConfig().start_date, SimConfig().policy.start_date)
LONGEST = int(declaration("steps").spec.high) - HISTORY


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Damaged posterior files and target files with one bad entry each."""
    d = tmp_path_factory.mktemp("inputs")
    pd.DataFrame({"params.adoption.intercept": [-2.0, -1.5]}).to_parquet(d / "good.parquet")
    raw = (d / "good.parquet").read_bytes()
    (d / "truncated.parquet").write_bytes(raw[: len(raw) // 2])
    (d / "text.parquet").write_text("not parquet\n")
    (d / "empty.parquet").write_bytes(b"")
    pd.DataFrame({"params.adoption.intercept": ["a", "b"]}).to_parquet(d / "strings.parquet")
    pd.DataFrame({"params.adoption.intercept": [-2.0]}).to_csv(d / "draws.csv", index=False)
    pd.DataFrame({"params.adoption.intercept": []}, dtype=float).to_parquet(d / "norows.parquet")
    pd.DataFrame({"seed": [1.0]}).to_parquet(d / "notuncertain.parquet")
    targets = yaml.safe_load((CONFIG_DIR / "calibration" / "targets.yaml").read_text())
    for name, field, value in (("early", "date", "2019-01"), ("high", "observed", 1.5)):
        bad = {"targets": [dict(t) for t in targets["targets"]]}
        bad["targets"][0][field] = value
        (d / f"targets_{name}.yaml").write_text(yaml.safe_dump(bad))
    (d / "broken").mkdir()
    (d / "broken" / "compare.yaml").write_text("seeds: [3\n")
    return {p.name: p for p in d.rglob("*")}


POSTERIOR = ["truncated.parquet", "text.parquet", "empty.parquet", "strings.parquet", "draws.csv",
             "norows.parquet", "notuncertain.parquet"]
# (app, arguments, patterns the one line must contain); {name} is a file of the fixture
BAD = [
    *[(app, [f"posterior_file={{{name}}}"], [r"posterior_file=", r"allowed"])
      for app in ("compare", "frontier") for name in POSTERIOR],
    ("compare", ["posterior_file="], [r"posterior_file=''", r"empty"]),
    ("frontier", ["posterior_file="], [r"posterior_file=''", r"empty"]),
    ("compare", ["first_seed=range(0,-3)"], [r"first_seed=range\(0,-3\)", r"empty sweep"]),
    ("compare", ["seeds=1000000000"], [r"seeds=1000000000", r"agent-months", r"max_agent_months"]),
    # the seeds p_best_precision may add count in the work check
    ("compare", ["max_seeds=100000000"], [r"max_seeds=100000000", r"agent-months", r"lower max_seeds"]),
    ("compare", ["steps=1000000000"],
     [r"steps=1000000000", r"allowed: an integer in \[1, 1140\] \(forecast months after 60"]),
    ("compare", [f"steps={LONGEST}", "n_citizens=10000000"], [r"agent-months", r"lower n_citizens"]),
    ("discover", ["n_samples=1000000000000"], [r"n_samples=", r"agent-months"]),
    ("sensitivity", ["trajectories=1000000000000"], [r"trajectories=", r"agent-months"]),
    ("calibrate", ["start_date=2026-01"], [r"start_date=2026-01", r"allowed"]),
    ("calibrate", ["targets={targets_early.yaml}"], [r"start_date", r"2019-01"]),
    ("calibrate", ["targets={targets_high.yaml}"], [r"observed=1\.5", r"\[0, 1\]"]),
    ("calibrate", ["tolerance=1e-9"], [r"tolerance=1e-09", r"allowed: a number >="]),
    ("calibrate", ["tolerance=nan"], [r"tolerance=nan", r"finite"]),
    ("calibrate", ["population_size=1000000000000"], [r"population_size=1000000000000", r"allowed"]),
    ("compare", ["progress=2"], [r"progress=2", r"true or false"]),
    ("calibrate", ["quick=2"], [r"quick=2", r"true or false"]),
    ("compare", ['overrides=["steps=5"]'], [r"steps", r"allowed: steps="]),
    ("compare", ['overrides=["seed=5"]'], [r"seed", r"first_seed"]),
    ("compare", ['overrides=["policy.name=mine"]'], [r"policy\.name", r"scenarios"]),
    ("frontier", ['overrides=["policy.name=mine"]'], [r"policy\.name", r"drop it"]),
    ("frontier", ['overrides=["policy.allocation.training=0.5"]'], [r"policy\.allocation", r"pairs"]),
    ("sensitivity", ['overrides=["params.adoption.intercept=-1"]'], [r"intercept", r"varied"]),
    # the policy's months count from policy.start_date: a forecast of steps=6 allows months 0 to 5
    ("compare", ['overrides=["policy.start_month=6"]'],
     [r"policy\.start_month=6", r"allowed: an integer in \[0, 6\) \(months after the policy start"]),
    ("compare", ['overrides=["policy.mandate.start_month=7"]'],
     [r"mandate\.start_month=7", r"allowed: null .* \[0, 6\) \(months after the policy start"]),
    ("compare", ['overrides=["policy.start_date=2019-01"]'],
     [r"policy\.start_date='2019-01'", r"allowed: null .* from start_date=2020-01 on"]),
    ("compare", ["--config-dir", "{broken}"], [r"--config-dir=", r"compare\.yaml: broken YAML"]),
    # the provinces a scenario is confined to: names from the table, a list, each once
    ("compare", ['overrides=["policy.provinces=[Atlantis]"]'],
     [r"policy\.provinces\[0\]='Atlantis'", r"allowed: DKI Jakarta, .*Papua Pegunungan"]),
    ("compare", ['overrides=["policy.provinces=Papua"]'],
     [r"policy\.provinces='Papua': not a list", r"allowed: a list in brackets"]),
    ("compare", ['overrides=["policy.provinces=[Papua,Bali,Papua]"]'],
     [r"policy\.provinces=\['Papua', 'Bali', 'Papua'\]", r"allowed: each province at most once \(Papua"]),
    ("validate", ["cases=[]"], [r"cases=\[\]", r"non-empty"]),
    ("validate", ["limits.tolerance=nan"], [r"limits\.tolerance=nan", r"finite"]),
    ("validate", ["watts.tolerance=-1"], [r"watts\.tolerance=-1", r">= 0"]),
    ("discover", ['condition="training:adoption_final > training:adoption_final"'], [r"itself"]),
    ("discover", ['condition="training:adoption_final > inf"'], [r"inf", r"finite"]),
    ("discover", ['condition="training:adoption_final < -1e999"'], [r"inf", r"finite"]),
]


def _args(args: list[str], files: dict[str, Path]) -> list[str]:
    return [re.sub(r"\{([^}]+)\}", lambda m: str(files[m.group(1)]), a) for a in args]


@pytest.mark.parametrize(("app", "args", "patterns"), BAD, ids=[f"{c[0]}:{' '.join(c[1])}" for c in BAD])
def test_bad_app_input_is_one_line(files, app, args, patterns):
    schema, check = APPS[app]
    sized = SMALL if app in ("compare", "frontier", "sensitivity", "discover") else []
    with pytest.raises(ConfigError) as info:
        prevalidate([*sized, *_args(args, files)], app, schema, check)
    line = str(info.value)
    assert "\n" not in line
    for pattern in patterns:
        assert re.search(pattern, line), f"{pattern!r} not in {line!r}"


@pytest.mark.parametrize(("args", "key"), [
    (["-m", "seed=range(0,-3)"], "seed"),
    (["progress=2"], "progress"),
    (["steps=4", "policy=training"], "policy.start_date"),  # the policy begins (2025-01) after the run
    (["steps=4", "policy=training", "policy.start_date=null", "policy.start_month=4"], "policy.start_month"),
    (["steps=4", "policy.start_date=null", "policy.mandate.start_month=9"], "policy.mandate.start_month"),
    (["policy.provinces=[Atlantis]"], "policy.provinces[0]='Atlantis'"),
    (["policy.provinces=Papua"], "policy.provinces='Papua'"),
    (["policy=lagging_provinces", "policy.provinces=[Aceh,Aceh]"], "policy.provinces=['Aceh', 'Aceh']"),
])
def test_bad_model_input_is_one_line(args, key):
    with pytest.raises(ConfigError) as info:
        cli.prevalidate([*args, "population=small"])
    assert "\n" not in str(info.value) and key in str(info.value)


def test_too_few_citizens_for_the_mean_degree_says_what_to_set():
    with pytest.raises(ConfigError, match=r"lower network\.mean_degree or raise population\.n_citizens"):
        cli.prevalidate(["population=small", "population.n_citizens=10", "network.mean_degree=12"])


@pytest.mark.parametrize("args", [
    ["population.n_citizens=10", "network.mean_degree=4"],
    ["policy.name='pelatihan_ダ'"],
    ['policy.name="pelatihan_désa_Ñ"'],
])
def test_valid_model_input_is_accepted(args):
    cli.prevalidate([*args, "population=small"])


def test_an_unquoted_name_outside_ascii_says_to_quote_it():
    with pytest.raises(ConfigError, match=r"quote the value"):
        cli.prevalidate(["policy.name=pelatihan_ダ"])


def test_the_shipped_posterior_passes_the_checks():
    prevalidate([*SMALL, "scenarios=[baseline,training]"], "compare", CompareConfig, compare.check)


def test_conditions_on_two_sides_still_parse():
    known = ("adoption_final", "gap_urban_rural")
    cond = design.parse_condition("training:adoption_final > 0.5", known)
    assert cond.right == 0.5 and cond.scenarios == ["training"]


# --------------------------------------------------------------------------- as the user runs them
@pytest.mark.parametrize(("args", "start"), [
    (["posterior_file={truncated.parquet}"], "error: posterior_file="),
    (['overrides=["steps=5"]'], "error: overrides=steps=5"),
    (["seeds=1000000000"], "error: seeds=1000000000"),
    (['overrides=["policy.provinces=[Papua,Papua]"]'], "error: policy.provinces=['Papua', 'Papua']"),
])
def test_command_line_exits_2_with_one_line(files, tmp_path, args, start):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "experiments.compare", *SMALL, *_args(args, files),
                           f"hydra.run.dir={out}"], cwd=REPO, env=_cli_env(), capture_output=True,
                          text=True, timeout=120, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(start), proc.stderr
    assert not out.exists()
