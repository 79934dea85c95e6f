"""Bad input on the command line: one clear line on stderr, a non-zero exit, no traceback, no results.

Each case runs ``python -m sim`` in its own empty folder (so Hydra's default output folders would
land there too) with the run and sweep folders pointed inside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# (case id, arguments, patterns the one error line must contain: the key, then what is allowed)
BAD_INPUT = [
    ("wrong type", ["seed=abc"], [r"\bseed\b", r"'abc'", r"[Ii]nteger"]),
    ("negative count", ["population.n_citizens=-5"],
     [r"population\.n_citizens", r"-5", r"allowed: an integer >= 10"]),
    ("share above one", ["population.urban_share=1.5"],
     [r"population\.urban_share", r"1\.5", r"allowed: a number in \[0, 1\]"]),
    ("unknown key in a group", ["population.foo=1"],
     [r"population\.foo", r"unknown key", r"allowed keys.*\bn_citizens\b"]),
    ("unknown key appended", ["+bar=1"], [r"\bbar\b", r"unknown key", r"allowed keys.*\bseed\b"]),
    ("unknown scenario", ["policy=foo"],
     [r"\bpolicy\b", r"\bfoo\b", r"allowed: .*\bbaseline\b.*\btraining\b"]),
    ("malformed override", ["seed=[1"], [r"seed=\[1", r"malformed", r"key=value"]),
    ("bad value inside a sweep", ["-m", "seed=1,x"], [r"\bseed\b", r"'x'", r"[Ii]nteger"]),
    ("end before start", ["policy.start_month=1", "policy.end_month=1"],
     [r"policy\.end_month", r"\b1\b", r"allowed: null .* > start_month \(1\)"]),
    # the runs are 2 months (2020-01, 2020-02): a policy that acts must begin within them, and its own
    # months (start_month, mandate.start_month) count from policy.start_date
    ("policy begins after the run", ["policy=training"],
     [r"policy\.start_date", r"2025-01", r"allowed: a month from 2020-01 to 2020-02 .* or null"]),
    ("start past the horizon", ["policy=training", "policy.start_date=2020-02", "policy.start_month=1"],
     [r"policy\.start_month", r"\b1\b",
      r"allowed: an integer in \[0, 1\) \(months after the policy start 2020-02"]),
    ("mandate past the horizon", ["policy.start_date=null", "policy.mandate.start_month=2"],
     [r"policy\.mandate\.start_month", r"\b2\b", r"allowed: null .* \[0, 2\)"]),
    ("a horizon that cannot finish", ["steps=1000000000"],
     [r"\bsteps\b", r"1000000000", r"allowed: an integer in \[1, 1200\]"]),
    ("negative mandate month", ["policy.mandate.start_month=-1"],
     [r"policy\.mandate\.start_month", r"-1", r"allowed: null .* >= 0"]),
    ("unknown exemption", ["policy.mandate.exempt=[no_access,children]"],
     [r"policy\.mandate\.exempt", r"children", r"allowed: no_access, elderly"]),
    ("zero target share", ["policy.target_share=0"],
     [r"policy\.target_share", r"\b0\b", r"allowed: a number in \(0, 1\]"]),
    ("outreach share above one", ["policy.allocation.outreach=1.5"],
     [r"policy\.allocation\.outreach", r"1\.5", r"allowed: a number in \[0, 1\]"]),
    ("leadership allocation too big", ["policy=training", "policy.start_date=null",
                                       "policy.allocation.leadership=0.5"],
     [r"policy\.allocation", r"1\.5", r"allowed: shares summing to <= 1"]),
]


@pytest.fixture(scope="module")
def bad_runs(cli, tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """Run all the bad cases once (two at a time); each in its own folder."""
    jobs, folders = [], []
    for case_id, args, _ in BAD_INPUT:
        folder = tmp_path_factory.mktemp(re.sub(r"\W+", "_", case_id))
        multirun = args[0] == "-m"
        flags, overrides = (args[:1], args[1:]) if multirun else ([], args)
        jobs.append((
            [*flags, "population=small", "steps=2", *overrides,
             f"hydra.run.dir={folder / 'run'}", f"hydra.sweep.dir={folder / 'sweep'}"],
            folder,
        ))
        folders.append(folder)
    results = cli(jobs)
    return {case[0]: (folder, res) for case, folder, res in zip(BAD_INPUT, folders, results, strict=True)}


@pytest.mark.parametrize(("case_id", "args", "patterns"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gives_one_clear_line_and_no_results(bad_runs, case_id, args, patterns):
    folder, res = bad_runs[case_id]
    assert res.returncode != 0, res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert "Traceback" not in res.stderr + res.stdout
    for pattern in patterns:
        assert re.search(pattern, line), f"{pattern!r} not in {line!r}"
    assert not list(folder.rglob("summary.json"))
    assert not (folder / "run").exists() and not (folder / "sweep").exists()
    assert not (folder / "outputs").exists() and not (folder / "multirun").exists()



@pytest.mark.parametrize(("module", "expected"), [
    ("sim", ["policy=<name>", "parameters=<name>", "policy.start_date", "policy.mandate.start_month",
             "policy.end_month", "seed=42", "start_date=2020-01", "steps=120"]),
    ("experiments.compare", ["seeds=20", "launcher=joblib", "reuse=false", "hydra.run.dir"]),
    ("experiments.frontier", ["n_splits=", "pairs", "seeds=", "maximize="]),
    ("experiments.validation", ["quick=false", "launcher=joblib", "cases="]),
    ("experiments.calibration", ["quick=false", "population_size=400", "ship=false", "hydra.run.dir"]),
    ("experiments.exploration.sensitivity", ["method=morris", "trajectories=10", "uncertainty_file=null",
                                             "hydra.run.dir"]),
    ("experiments.exploration.discover", ["n_samples=200", "condition=", "min_coverage=", "hydra.run.dir"]),
])
def test_help_lists_the_main_keys_a_line_each(tmp_path, module, expected):
    import subprocess
    import sys

    from tests.conftest import _cli_env

    proc = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, env=_cli_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    assert proc.stdout.splitlines()[2] == f"usage: python -m {module} " + (
        "[-m] [key=value ...]   (-m: a sweep, e.g. seed=1,2,3)" if module == "sim" else "[key=value ...]")
    for key in expected:
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith(key)]
        assert lines and all(len(ln.split(None, 1)) == 2 for ln in lines), (key, proc.stdout)
    assert not list(tmp_path.iterdir())  # nothing written


def test_every_app_setting_has_its_line_of_help():
    from sim.config import CONFIG_DIR
    from sim.help import commented_keys

    for name in ("experiment/compare.yaml", "experiment/frontier.yaml", "experiment/calibrate.yaml",
                 "experiment/sensitivity.yaml", "experiment/discover.yaml", "experiment/validate.yaml"):
        keys = commented_keys(CONFIG_DIR / name)
        assert not [k for k, _, text in keys if not text], name  # what a file sets, it says why
