"""Inputs from the Python API and the command line that used to pass or to end in a traceback.

Python API: numpy integers as Mesa's batch runs pass them, a fresh seed when none is given, a clear
TypeError for overrides of the wrong kind. Command line: non-finite values, unsafe names,
interpolations, empty or unwritable output folders, ``n_jobs=0``, extra config folders.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim import DigitalAdoptionModel
from sim.cli import prevalidate
from sim.config import ConfigError

QUIET = {"progress": False, "materialise_agents": "never"}


def test_numpy_integers_are_accepted():
    model = DigitalAdoptionModel(population="small", n_citizens=np.int64(300), steps=np.int32(2),
                                 seed=np.uint16(5), overrides=QUIET).run()
    assert (model.cfg.population.n_citizens, model.cfg.steps, model.cfg.seed) == (300, 2, 5)
    assert type(model.cfg.seed) is int


def test_no_seed_draws_a_fresh_one_and_records_it():
    models = [DigitalAdoptionModel(population="small", n_citizens=300, steps=1, overrides=QUIET).run()
              for _ in range(3)]
    seeds = [m.cfg.seed for m in models]
    assert len(set(seeds)) == 3
    assert [m.summary()["seed"] for m in models] == seeds
    again = DigitalAdoptionModel(population="small", n_citizens=300, steps=1, seed=seeds[0],
                                 overrides=QUIET).run()
    assert again.summary() == models[0].summary()


@pytest.mark.parametrize("overrides", [["seed=3"], "seed=3", 3])
def test_overrides_that_are_not_a_mapping_raise_a_clear_type_error(overrides):
    with pytest.raises(TypeError, match=r"overrides must be a mapping of dotted keys"):
        DigitalAdoptionModel(population="small", n_citizens=300, overrides=overrides)


# (case id, arguments, patterns the one error line must contain)
BAD_INPUT = [
    ("nan", ["params.adoption.intercept=nan"], [r"params\.adoption\.intercept=nan", r"finite"]),
    ("infinite budget", ["budget_idr_bn_per_month=inf"], [r"budget_idr_bn_per_month=inf", r"finite"]),
    ("huge budget", ["budget_idr_bn_per_month=1e300"], [r"budget_idr_bn_per_month=1e\+300", r"allowed"]),
    ("huge population", ["population.n_citizens=1000000000000"],
     [r"population\.n_citizens=1000000000000", r"memory"]),
    ("path in a name", ["policy.name=../../../x"], [r"policy\.name='\.\./\.\./\.\./x'", r"letters.*digits"]),
    ("interpolation", ["policy.description=${oc.env:HOME}"], [r"policy\.description", r"interpolation"]),
    ("empty output folder", ["hydra.run.dir="], [r"hydra\.run\.dir=''", r"folder"]),
    ("unwritable output folder", ["hydra.run.dir=/proc/no/such/folder"],
     [r"hydra\.run\.dir=/proc", r"writable"]),
    ("no jobs", ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0", "seed=1,2"],
     [r"hydra\.launcher\.n_jobs=0", r"allowed: -1"]),
]


@pytest.mark.parametrize(("case_id", "args", "patterns"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_caught_before_hydra_starts(case_id, args, patterns):
    with pytest.raises(ConfigError) as info:
        prevalidate([*args, "population=small", "steps=2"])
    line = str(info.value)
    assert "\n" not in line
    for pattern in patterns:
        assert re.search(pattern, line), f"{pattern!r} not in {line!r}"


@pytest.fixture(scope="module")
def command_line(cli, tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """Two bad inputs and one extra config folder, as the user runs them (``python -m sim``)."""
    jobs = {}
    for case_id in ("nan", "unwritable output folder"):
        args = next(c[1] for c in BAD_INPUT if c[0] == case_id)
        folder = tmp_path_factory.mktemp(re.sub(r"\W+", "_", case_id))
        given = any(a.startswith("hydra.run.dir") for a in args)
        outputs = [] if given else [f"hydra.run.dir={folder / 'run'}"]
        jobs[case_id] = ([*args, "population=small", "steps=2", *outputs], folder)
    extra = tmp_path_factory.mktemp("configdir")
    (extra / "policy").mkdir()
    (extra / "policy" / "mine.yaml").write_text("name: mine\ntargeting: rural\nallocation: {training: 0.5}\n")
    good = tmp_path_factory.mktemp("good")
    # policy.start_date=null: the policy acts from month 0 of the two-month run.
    jobs["config dir"] = (["--config-dir", str(extra), "policy=mine", "population=small", "steps=2",
                           "policy.start_date=null", "progress=false", f"hydra.run.dir={good / 'run'}"],
                          good)
    results = cli(list(jobs.values()))
    return {name: (job[1], res) for (name, job), res in zip(jobs.items(), results, strict=True)}


@pytest.mark.parametrize("case_id", ["nan", "unwritable output folder"])
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(command_line, case_id):
    folder, res = command_line[case_id]
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert list(folder.iterdir()) == []


def test_options_of_an_extra_config_folder_are_recognised(command_line):
    folder, res = command_line["config dir"]
    assert res.returncode == 0, res.stderr
    assert "mine" in (folder / "run" / "config.json").read_text()


def test_broken_yaml_in_an_extra_config_folder_is_reported(tmp_path):
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "broken.yaml").write_text("allocation: [training\n")
    with pytest.raises(ConfigError) as info:
        prevalidate(["--config-dir", str(tmp_path), "policy=broken"])
    line = str(info.value)
    assert line.startswith("--config-dir=") and "policy/broken.yaml: broken YAML" in line
    assert "\n" not in line
