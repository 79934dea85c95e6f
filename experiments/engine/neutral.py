"""Changes to the model code that leave every result as it was: checked, recorded, and not counted as
making the shipped results older.

A shipped result is *older than the model code* when the model code changed after the commit it was
made from (:mod:`experiments.engine.stamp`). A change that only makes the model faster (the same
numbers, computed another way) would then age results that took hours to make (a posterior: over an
hour of simulations), although re-running them would give exactly the same files. This module checks
such a claim and records the commits that pass:

    python -m experiments.engine.neutral <commit>            # check: exit 0 when every case is equal
    python -m experiments.engine.neutral <commit> --record   # check, then add it to the list

The check runs the same model cases (:data:`CASES`: sizes that take the threaded paths and sizes that
do not, a portfolio of services, three networks, a mandate, a reduced-form rule, the main job's sample
stratified by province with survey weights) with the code of the
commit and with the code of its parent, each in a process of its own importing that tree, and compares
a checksum of every value each run reports (the monthly table, the table by province, the table by
service), not of the files, whose encoding may change without the numbers changing. A commit that
changes ``configs/`` cannot be recorded: it alters a declared value or an app's settings, which these
cases need not exercise.

The list (:data:`NEUTRAL_FILE`, one commit per line with the date and the cases compared) is read by
:func:`experiments.engine.stamp.model_commit`, which skips the commits on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NEUTRAL_PATH = "experiments/data/neutral_commits.txt"  # from the repository's root
NEUTRAL_FILE = REPO / NEUTRAL_PATH
SETTINGS = "configs"  # a recordable commit changes nothing here

# Model keyword arguments of each compared run (every case runs past the 60 months of history, so the
# policies act). The first two are large enough for the split products and the draws ahead
# (sim.parallel) on two cores; the others take the one-thread paths.
CASES: list[dict] = [
    {"n_citizens": 300_000, "policy": "comprehensive", "steps": 66, "seed": 3},
    {"n_citizens": 300_000, "policy": "outreach", "steps": 64, "seed": 4, "portfolio": "indonesia"},
    {"n_citizens": 150_000, "policy": "mandate", "steps": 78, "seed": 5, "network": "scale_free"},
    {"n_citizens": 20_000, "policy": "training", "steps": 72, "seed": 6, "portfolio": "indonesia"},
    {"n_citizens": 8_000, "policy": "mandate_business_licence", "steps": 84, "seed": 7,
     "portfolio": "indonesia"},
    {"n_citizens": 5_000, "policy": "service_centres", "steps": 70, "seed": 8, "network": "small_world"},
    {"n_citizens": 3_000, "policy": "baseline", "steps": 30, "seed": 9,
     "overrides": {"params.adoption.rule": "bass"}},
    # the main job's sample: stratified by province with survey weights, a targeted scenario
    {"n_citizens": 20_000, "policy": "inclusive", "steps": 72, "seed": 10, "portfolio": "indonesia",
     "overrides": {"population.province_min_share": 0.015}},
]

# Run in a process whose import path starts with one tree: only long-standing public calls, so that it
# runs on older commits too. Prints one JSON object: case index -> checksum of the values.
_FINGERPRINT = r"""
import hashlib, json, sys
from pathlib import Path
import numpy as np
root = Path(sys.argv[1]).resolve()
import sim
assert Path(sim.__file__).resolve().is_relative_to(root), f"imported sim from {sim.__file__}, not {root}"
from sim.model import DigitalAdoptionModel

def digest(frame, h):
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    for column in frame.columns:
        values = frame[column].to_numpy()
        raw = values.astype(str) if values.dtype == object else np.ascontiguousarray(values)
        h.update(raw.tobytes())

out = {}
for i, case in enumerate(json.loads(sys.argv[2])):
    model = DigitalAdoptionModel(**case).run(progress=False)
    h = hashlib.sha256()
    for frame in (model.timeseries(), model.province_table(), model.service_table()):
        digest(frame, h)
    out[i] = h.hexdigest()
print(json.dumps(out))
"""


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def fingerprints(commit: str, cases: list[dict] = CASES) -> dict[str, str]:
    """Checksum of each case's values with the code of ``commit`` (a temporary worktree)."""
    with tempfile.TemporaryDirectory(prefix="neutral-") as tmp:
        tree = Path(tmp) / "tree"
        git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            proc = subprocess.run([sys.executable, "-c", _FINGERPRINT, str(tree), json.dumps(cases)],
                                  cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True,
                                  text=True, check=False)
        finally:
            git("worktree", "remove", "--force", str(tree))
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"the cases failed at {commit[:7]}: {tail[0]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def changed_paths(commit: str) -> list[str]:
    return git("diff", "--name-only", f"{commit}^", commit).splitlines()


# How far a recorded commit is neutral: for every result, or only for results whose runs draw the
# proportional sample (the commit changed only the cases stratified by province, ``stratified``).
ALL, PROPORTIONAL = "all", "proportional"
_PROPORTIONAL_MARK = "proportional-sample-only"


def stratified(case: dict) -> bool:
    """Whether a case draws its citizens stratified by province (the main job's sample)."""
    return float(case.get("overrides", {}).get("population.province_min_share", 0.0)) > 0


def neutral_scopes(path: Path = NEUTRAL_FILE) -> dict[str, str]:
    """Full hash -> scope (:data:`ALL` or :data:`PROPORTIONAL`) of the recorded commits (lines starting
    with ``#`` are comments)."""
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split()
            partial = len(fields) > 2 and fields[2].endswith(_PROPORTIONAL_MARK)
            out[fields[0]] = PROPORTIONAL if partial else ALL
    return out


def neutral_commits(path: Path = NEUTRAL_FILE) -> set[str]:
    """Full hashes of the commits recorded as neutral for every result."""
    return {c for c, scope in neutral_scopes(path).items() if scope == ALL}


def check(commit: str) -> tuple[str | None, str]:
    """How far ``commit`` leaves the cases' values as its parent gave them (:data:`ALL`; :data:`PROPORTIONAL`
    when only the stratified cases changed; None when another did), and a one-line verdict."""
    full = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    settings = [p for p in changed_paths(full) if p.startswith(f"{SETTINGS}/")]
    if settings:
        return None, (f"{full[:7]} changes {settings[0]}: a change to {SETTINGS}/ alters declared values "
                      f"or an app's settings, which the cases need not exercise; allowed: commits that "
                      f"leave {SETTINGS}/ alone")
    before, after = fingerprints(f"{full}^"), fingerprints(full)
    differ = [CASES[int(i)] for i in before if before[i] != after.get(i)]
    if not differ:
        return ALL, f"{full[:7]} leaves the values of all {len(CASES)} cases unchanged"
    if all(stratified(case) for case in differ):
        kept = len(CASES) - len(differ)
        return PROPORTIONAL, (f"{full[:7]} leaves the values of the {kept} cases with a proportional sample "
                              f"unchanged and changes the {len(differ)} stratified by province: neutral for "
                              "the results whose runs do not stratify (every shipped result but the "
                              "comparison's)")
    return None, (f"{full[:7]} changes the values of {len(differ)} of {len(CASES)} cases, "
                  f"e.g. {differ[0]}")


def record(commit: str, path: Path = NEUTRAL_FILE, scope: str = ALL) -> None:
    full = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    if full in neutral_scopes(path):
        return
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    subject = git("log", "-1", "--format=%s", full)[:80]
    if not path.is_file():
        path.write_text("# Commits that change the model code (sim/) and leave every result as it was, "
                        "checked by\n# python -m experiments.engine.neutral <commit> --record "
                        "(commit, date checked, cases, subject)\n", encoding="utf-8")
    equal = (f"{len(CASES)}-cases-equal" if scope == ALL else
             f"{sum(not stratified(c) for c in CASES)}-of-{len(CASES)}-cases-equal-{_PROPORTIONAL_MARK}")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{full} {date} {equal} {subject}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", help="the commit to check (its parent is the comparison)")
    parser.add_argument("--record", action="store_true", help=f"add it to {NEUTRAL_PATH}")
    args = parser.parse_args(argv)
    try:
        scope, verdict = check(args.commit)
    except subprocess.CalledProcessError:
        print(f"commit={args.commit!r}: not a commit with a parent in this repository; allowed: a commit "
              f"hash or name such as HEAD", file=sys.stderr)
        return 2
    print(verdict)
    if scope is not None and args.record:
        record(args.commit, scope=scope)
        print(f"recorded in {NEUTRAL_PATH}" + ("" if scope == ALL else " (for the proportional sample)"))
    return 0 if scope is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
