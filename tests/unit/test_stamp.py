"""Commit stamps on shipped results and the staleness check, on a temporary git repository.

A shipped result is current when the commit it records already holds the last change of the model
code, older when the model code changed after it (or has uncommitted changes), unknown without git
or without a stamp; shipping a result that lives among the model's files (the calibrated parameter
set in configs/) does not make the others older.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from experiments.engine import stamp as st

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def _commit(root: Path, message: str) -> str:
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", message)
    return _git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "model.py").write_text("RATE = 1\n")
    (tmp_path / "configs" / "parameters").mkdir(parents=True)
    (tmp_path / "experiments" / "data").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    _commit(tmp_path, "model")
    return tmp_path


def _ship(root: Path) -> st.Stamp:
    """Generate two shipped results from the checkout as it is: a CSV with a sidecar, a document."""
    stamp = st.current_stamp("test", root)
    csv = root / "experiments" / "data" / "morris.csv"
    csv.write_text("parameter,mu_star\na,1\n")
    st.write_sidecar(csv, stamp)
    (root / "docs" / "metrics.md").write_text(st.stamped_markdown("# Metrics\n", stamp, "docs"))
    return stamp


def _status(root: Path) -> dict[str, str]:
    return {f.path: f.status for f in st.shipped_status(root)}


def test_the_stamp_names_the_commit_and_survives_a_round_trip(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    stamp = _ship(repo)
    assert stamp.commit == head and not stamp.dirty
    for path in ("experiments/data/morris.csv", "docs/metrics.md"):
        read = st.read_stamp(repo / path)
        assert read is not None and read.commit == head and not read.dirty and read.date == stamp.date
    text = (repo / "docs" / "metrics.md").read_text()
    assert text.startswith(f"<!-- generated: docs; commit {head} (clean), ")
    assert st.strip_stamp(text) == "# Metrics\n"
    assert json.loads((repo / "experiments" / "data" / "morris.csv.stamp").read_text())["commit"] == head


def test_a_tree_with_changes_to_code_is_dirty_but_not_with_changes_to_shipped_results(repo: Path) -> None:
    _ship(repo)
    assert not st.current_stamp("again", repo).dirty  # the shipped files changed, nothing else
    (repo / "sim" / "model.py").write_text("RATE = 2\n")
    assert st.current_stamp("edited", repo).dirty


def test_results_are_current_until_the_model_code_changes(repo: Path) -> None:
    _ship(repo)
    _commit(repo, "results")
    assert set(_status(repo).values()) == {st.CURRENT}
    (repo / "README.md").write_text("words\n")  # not model code
    _commit(repo, "readme")
    assert set(_status(repo).values()) == {st.CURRENT}
    (repo / "sim" / "model.py").write_text("RATE = 2\n")
    rows = st.shipped_status(repo)
    assert {r.status for r in rows} == {st.OLDER}
    assert rows[0].reason == "the model code has uncommitted changes"
    changed = _commit(repo, "model change")
    rows = st.shipped_status(repo)
    assert {r.status for r in rows} == {st.OLDER} and changed[:7] in rows[0].reason
    sentence = st.status_sentence(rows)
    assert "older than the model code" in sentence and "experiments/data/morris.csv" in sentence
    _ship(repo)
    assert set(_status(repo).values()) == {st.CURRENT}


def test_shipping_the_calibrated_set_does_not_age_the_other_results(repo: Path) -> None:
    _ship(repo)
    _commit(repo, "results")
    (repo / "configs" / "parameters" / "calibrated.yaml").write_text("a: 1\n")
    _commit(repo, "calibrated set")
    assert _status(repo) == {"experiments/data/morris.csv": st.CURRENT, "docs/metrics.md": st.CURRENT,
                             "configs/parameters/calibrated.yaml": st.UNKNOWN}  # this one has no stamp


def test_without_git_or_a_stamp_the_age_is_unknown(repo: Path, tmp_path_factory) -> None:
    (repo / "docs" / "metrics.md").write_text("# Metrics\n")
    rows = st.shipped_status(repo)
    assert [(r.status, r.reason) for r in rows] == [(st.UNKNOWN, "no commit stamp")]
    plain = tmp_path_factory.mktemp("nogit")
    (plain / "docs").mkdir()
    shutil.copy(repo / "docs" / "metrics.md", plain / "docs" / "metrics.md")
    stamp = st.current_stamp("outside", plain)
    assert stamp.commit is None
    rows = st.shipped_status(plain)
    assert [(r.status, r.reason) for r in rows] == [(st.UNKNOWN, "no git repository")]
    assert "1 of unknown age (no git repository)" in st.status_sentence(rows)
    unknown = st.stamped_markdown("# Metrics\n", stamp, "docs")
    assert unknown.startswith("<!-- generated: docs; commit unknown (")


def test_a_generated_block_is_replaced_and_a_missing_one_is_named() -> None:
    stamp = st.Stamp("abc123", False, "2026-12-06T10:00Z", "make shipped")
    doc = ("# Title\nprose\n<!-- generated: morris; commit old (dirty), 2026-01-01T00:00Z; x -->\nold table\n"
           "<!-- end generated: morris -->\nmore prose\n")
    new = st.replace_block(doc, "morris", "new table\n", stamp)
    assert new == ("# Title\nprose\n<!-- generated: morris; commit abc123 (clean), 2026-12-06T10:00Z; "
                   "make shipped -->\nnew table\n<!-- end generated: morris -->\nmore prose\n")
    assert st.replace_block(new, "morris", "new table", stamp) == new
    with pytest.raises(ValueError, match="'sobol' not found"):
        st.replace_block(doc, "sobol", "x", stamp)


def test_the_comparison_report_lists_the_shipped_results_not_current() -> None:
    from experiments.compare.report import shipped_blocks

    old = st.Stamp("a" * 40, False, "2026-12-01T00:00Z", "x")
    rows = [st.Freshness("experiments/data/morris.csv", st.OLDER, "from aaaaaaa; the model code changed in "
                         "bbbbbbb", old),
            st.Freshness("docs/metrics.md", st.CURRENT, "from bbbbbbb", old)]
    blocks = shipped_blocks(rows)
    assert blocks[0] == ("h2", "Shipped results")
    assert blocks[1][1].startswith("Shipped results: 1 of 2 older than the model code "
                                   "(experiments/data/morris.csv)")
    assert blocks[2][2] == [["experiments/data/morris.csv", st.OLDER, rows[0].reason, "step morris"]]
    current = "Shipped results: all 1 generated from the current model code."
    assert shipped_blocks(rows[1:]) == [("h2", "Shipped results"), ("p", current)]


def test_a_new_default_of_an_app_ages_only_the_results_that_app_makes(repo: Path) -> None:
    apps = repo / "configs" / "experiment"
    apps.mkdir()
    for app in ("frontier", "sensitivity"):
        (apps / f"{app}.yaml").write_text("seeds: 5\n")
    _commit(repo, "app settings")
    _ship(repo)
    _commit(repo, "results")
    (apps / "frontier.yaml").write_text("seeds: 20\n")  # no shipped result runs the frontier
    assert set(_status(repo).values()) == {st.CURRENT}
    _commit(repo, "frontier default")
    assert set(_status(repo).values()) == {st.CURRENT}
    (apps / "sensitivity.yaml").write_text("seeds: 20\n")  # the Morris screening runs this app
    changed = _commit(repo, "sensitivity default")
    rows = {r.path: r for r in st.shipped_status(repo)}
    assert rows["experiments/data/morris.csv"].status == st.OLDER
    assert changed[:7] in rows["experiments/data/morris.csv"].reason
    assert rows["docs/metrics.md"].status == st.CURRENT  # the generated documents run no app


def test_every_shipped_step_names_the_apps_it_runs_and_each_has_its_settings_file() -> None:
    assert set(st.SHIPPED.values()) <= set(st.STEP_APPS)
    for apps in st.STEP_APPS.values():
        for app in apps:
            assert (st.REPO / st.APP_SETTINGS / f"{app}.yaml").is_file(), app


def test_a_change_checked_to_leave_every_result_as_it_was_does_not_age_them(repo: Path) -> None:
    _ship(repo)
    _commit(repo, "results")
    (repo / "sim" / "model.py").write_text("RATE = 1  # computed faster\n")
    faster = _commit(repo, "faster")
    assert set(_status(repo).values()) == {st.OLDER}
    neutral = repo / "experiments" / "data" / "neutral_commits.txt"
    neutral.write_text(f"# comment line\n{faster} 2026-12-07 7-cases-equal faster\n")
    _commit(repo, "record the neutral change")
    assert set(_status(repo).values()) == {st.CURRENT}
    (repo / "sim" / "model.py").write_text("RATE = 2\n")
    changed = _commit(repo, "a real change after it")
    rows = st.shipped_status(repo)
    assert {r.status for r in rows} == {st.OLDER} and changed[:7] in rows[0].reason


def test_a_change_neutral_for_the_proportional_sample_ages_only_the_comparisons_results(repo: Path) -> None:
    """A commit that changed only the stratified sample's values (the comparison's) leaves the results of
    the apps that draw the proportional sample current, and ages the comparison's (docs/services.md)."""
    stamp = _ship(repo)
    (repo / "docs" / "services.md").write_text(st.stamped_markdown("# Services\n", stamp, "services"))
    _commit(repo, "results")
    (repo / "sim" / "model.py").write_text("RATE = 1  # a lever draws fewer numbers when stratified\n")
    change = _commit(repo, "stratified draw")
    neutral = repo / "experiments" / "data" / "neutral_commits.txt"
    neutral.write_text(f"{change} 2026-12-07 7-of-8-cases-equal-proportional-sample-only stratified draw\n")
    _commit(repo, "record it for the proportional sample")
    status = _status(repo)
    assert status["experiments/data/morris.csv"] == st.CURRENT and status["docs/metrics.md"] == st.CURRENT
    assert status["docs/services.md"] == st.OLDER
