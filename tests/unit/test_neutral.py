"""The check that a change of the model code leaves every result as it was (experiments.engine.neutral):
it refuses a change of the settings without running anything, says which cases differ, and records only
what passed."""

from __future__ import annotations

import pytest

from experiments.engine import neutral


@pytest.fixture
def fake_repo(monkeypatch):
    """A commit whose changed files and whose cases' checksums (before, after) the test chooses."""
    state = {"paths": ["sim/model.py"], "before": {"0": "a", "1": "b"}, "after": {"0": "a", "1": "b"}}
    monkeypatch.setattr(neutral, "git", lambda *args: "f" * 40 if args[0] == "rev-parse" else "subject")
    monkeypatch.setattr(neutral, "changed_paths", lambda commit: state["paths"])
    monkeypatch.setattr(neutral, "CASES", [{"n_citizens": 10}, {"n_citizens": 20}])

    def fingerprints(commit):
        return state["before"] if commit.endswith("^") else state["after"]

    monkeypatch.setattr(neutral, "fingerprints", fingerprints)
    return state


def test_equal_values_pass_and_are_recorded_once(fake_repo, tmp_path):
    scope, verdict = neutral.check("HEAD")
    assert scope == neutral.ALL and "all 2 cases unchanged" in verdict
    path = tmp_path / "neutral.txt"
    neutral.record("HEAD", path)
    neutral.record("HEAD", path)
    assert neutral.neutral_commits(path) == {"f" * 40}
    assert sum(1 for line in path.read_text().splitlines() if not line.startswith("#")) == 1


def test_a_changed_value_fails_and_names_a_case(fake_repo):
    fake_repo["after"] = {"0": "a", "1": "changed"}
    scope, verdict = neutral.check("HEAD")
    assert scope is None and "1 of 2 cases" in verdict and "'n_citizens': 20" in verdict


def test_a_change_of_the_settings_is_refused_before_any_run(fake_repo, monkeypatch):
    fake_repo["paths"] = ["sim/model.py", "configs/population/indonesia.yaml"]
    monkeypatch.setattr(neutral, "fingerprints", lambda commit: pytest.fail("no run expected"))
    scope, verdict = neutral.check("HEAD")
    assert scope is None and "configs/population/indonesia.yaml" in verdict


def test_no_file_means_no_neutral_commits(tmp_path):
    assert neutral.neutral_commits(tmp_path / "missing.txt") == set()


def test_a_change_of_the_stratified_cases_only_is_neutral_for_the_proportional_sample(
        fake_repo, monkeypatch, tmp_path):
    stratified = {"n_citizens": 20, "overrides": {"population.province_min_share": 0.015}}
    monkeypatch.setattr(neutral, "CASES", [{"n_citizens": 10}, stratified])
    fake_repo["after"] = {"0": "a", "1": "changed"}
    scope, verdict = neutral.check("HEAD")
    assert scope == neutral.PROPORTIONAL and "1 cases with a proportional sample unchanged" in verdict
    path = tmp_path / "neutral.txt"
    neutral.record("HEAD", path, scope=scope)
    assert neutral.neutral_scopes(path) == {"f" * 40: neutral.PROPORTIONAL}
    assert neutral.neutral_commits(path) == set()  # not neutral for every result
    fake_repo["after"] = {"0": "changed", "1": "changed"}  # a proportional case changed too: not neutral
    assert neutral.check("HEAD")[0] is None
