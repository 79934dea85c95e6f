"""Commit stamps on the shipped results, and whether a shipped result is older than the model code.

The project ships results that other parts read (the Morris screening the comparison report quotes,
the posterior every comparison draws from, the validation and sensitivity documents). Each records
the git commit it was generated from, whether the working tree had other changes then (``dirty``),
and when, so that a reader can tell whether it still describes the model:

- a Markdown file carries the stamp as an HTML comment, invisible once rendered: the first line of a
  file generated whole (``docs/metrics.md``), or the first line of each generated block inside a
  written document (``docs/sensitivity.md``, between ``<!-- generated: NAME; ...-->`` and
  ``<!-- end generated: NAME -->``), so the prose around the numbers stays as written;
- any other file (CSV, Parquet, JSON, YAML, PNG) has a sidecar ``<file>.stamp`` with the same fields
  as JSON, so that no reader of the file itself has to change.

:func:`shipped_status` compares each stamp with the last commit that changed the model code
(:data:`MODEL_PATHS`, without the shipped results that live among them and without the settings of
the apps the result's step does not run, :data:`STEP_APPS`; commits checked to leave every result as it
was, :mod:`experiments.engine.neutral`, do not count): a result is *current* when its
commit contains that change, *older than the model code* when it does not (or when the model code has
uncommitted changes), and *unknown* without git or without a stamp.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from experiments.engine.neutral import ALL, NEUTRAL_PATH, neutral_scopes
from experiments.engine.posterior import SHIPPED_CALIBRATIONS, shipped_files

REPO = Path(__file__).resolve().parents[2]

# Every shipped result, as a path from the repository root, and the command whose step makes it
# (``python -m experiments.shipped``, ``make shipped``); the order is the order of regeneration.
SHIPPED: dict[str, str] = {
    "docs/metrics.md": "docs",
    "docs/parameters.md": "docs",
    "docs/provinces.md": "docs",
    "experiments/data/morris.csv": "morris",
    "docs/sensitivity.md": "morris",
    "docs/validation.md": "validation",
    "docs/figures/sensitivity_morris_adoption_final.png": "morris",
    "docs/figures/sensitivity_morris_gap_urban_rural.png": "morris",
    "docs/figures/sensitivity_sobol_adoption_final.png": "figures",
    "docs/figures/sensitivity_sobol_gap_urban_rural.png": "figures",
    "docs/figures/discover_peeling_trajectory.png": "figures",
    "docs/services.md": "services",
    # every shipped calibration's posterior, checks and parameter set (those that exist are checked)
    **{path.relative_to(REPO).as_posix(): "posterior"
       for portfolio, measure in SHIPPED_CALIBRATIONS for path in shipped_files(portfolio, measure)},
}
# The model code: what a result is older than when it changed after the result's commit. The shipped
# results inside these folders (the calibrated parameter set) are not code: shipping them must not
# make everything else look old.
MODEL_PATHS = ("sim", "configs")
# The apps' settings (configs/experiment/<app>.yaml) are not model code: a shipped result depends on the
# settings of the apps its step runs and on no other app's, so a new default of the frontier leaves the
# Morris screening current while a new default of the sensitivity app does not.
APP_SETTINGS = "configs/experiment"
STEP_APPS: dict[str, tuple[str, ...]] = {
    "docs": (), "morris": ("sensitivity",), "validation": ("validate",),
    "figures": ("sensitivity", "discover"), "services": ("compare",), "posterior": ("calibrate",),
}
# Apps whose runs draw the sample stratified by province (configs/experiment/compare.yaml sets
# province_min_share); the others draw the model's proportional sample.
STRATIFYING_APPS = ("compare",)

STAMP_SUFFIX = ".stamp"
_MARK = re.compile(r"<!-- generated: (?P<name>[\w.-]+); commit (?P<commit>\S+) \((?P<tree>clean|dirty)\), "
                   r"(?P<date>[^;]+); (?P<by>[^>]*?) -->\n?")
_END = "<!-- end generated: {name} -->"

CURRENT = "current"
OLDER = "older than the model code"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Stamp:
    """Where a generated file came from: the commit (None outside git), whether the tree had other
    changes (then the commit alone does not reproduce it), when (UTC), and by what."""

    commit: str | None
    dirty: bool
    date: str
    by: str

    def comment(self, name: str) -> str:
        """The Markdown form: one HTML comment line naming the block."""
        tree = "dirty" if self.dirty else "clean"
        commit = self.commit or "unknown"
        return f"<!-- generated: {name}; commit {commit} ({tree}), {self.date}; {self.by} -->"

    def as_dict(self) -> dict[str, str | bool | None]:
        return {"commit": self.commit, "dirty": self.dirty, "date": self.date, "by": self.by}


def git(root: Path, *args: str) -> str | None:
    """Output of one git command in ``root`` (stripped), None when git or the repository is missing
    or the command fails: every caller then says "unknown" rather than stopping."""
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _outside_shipped(paths: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> list[str]:
    """A pathspec of ``paths`` (everything when empty) without the shipped results and ``exclude``."""
    return ["--", *(paths or (".",)), *(f":(exclude){p}" for p in SHIPPED),
            *(f":(exclude){p}{STAMP_SUFFIX}" for p in SHIPPED), *(f":(exclude){p}" for p in exclude)]


def other_apps_settings(step: str | None, root: Path = REPO) -> tuple[str, ...]:
    """The settings files of the apps that ``step`` does not run (:data:`STEP_APPS`); none for a step
    not listed there, whose result then counts every app's settings as its own."""
    if step not in STEP_APPS:
        return ()
    own = {f"{app}.yaml" for app in STEP_APPS[step]}
    return tuple(sorted(f"{APP_SETTINGS}/{p.name}" for p in (root / APP_SETTINGS).glob("*.yaml")
                        if p.name not in own))


def current_stamp(by: str, root: Path = REPO) -> Stamp:
    """The stamp of a file generated now from the checkout at ``root``. Changes to the shipped results
    themselves do not count as dirty: a second regeneration before a commit is still clean."""
    commit = git(root, "rev-parse", "HEAD")
    status = git(root, "status", "--porcelain", *_outside_shipped()) if commit else None
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return Stamp(commit, bool(status), date, by)


# --------------------------------------------------------------------------- writing and reading
def stamped_markdown(text: str, stamp: Stamp, name: str) -> str:
    """A file generated whole: the stamp line, then the text (any older stamp line replaced)."""
    return f"{stamp.comment(name)}\n{strip_stamp(text)}"


def strip_stamp(text: str) -> str:
    """The text without a leading stamp line (to compare a generated file with its source)."""
    match = _MARK.match(text)
    return text[match.end():] if match else text


def replace_block(document: str, name: str, body: str, stamp: Stamp) -> str:
    """``document`` with the generated block ``name`` replaced by ``body`` under a fresh stamp.

    Raises ValueError naming the block when the document has no such block, so that a moved or
    deleted marker is noticed instead of the numbers silently going unwritten."""
    end = _END.format(name=name)
    start = re.search(rf"<!-- generated: {re.escape(name)}; [^>]*-->\n?", document)
    stop = document.find(end, start.end()) if start else -1
    if not start or stop < 0:
        raise ValueError(f"generated block {name!r} not found (markers '<!-- generated: {name}; ... -->' "
                         f"and '{end}')")
    return f"{document[:start.start()]}{stamp.comment(name)}\n{body.strip()}\n{document[stop:]}"


def write_sidecar(path: Path, stamp: Stamp) -> Path:
    """``<path>.stamp``: the stamp as JSON beside a file whose format has no place for it."""
    side = path.with_name(path.name + STAMP_SUFFIX)
    side.write_text(json.dumps(stamp.as_dict(), indent=1) + "\n", encoding="utf-8")
    return side


def read_stamp(path: Path) -> Stamp | None:
    """The stamp of a shipped file: its sidecar, else the first stamp comment of a Markdown file (the
    oldest, when a document has several blocks: the document is as old as its oldest numbers)."""
    side = path.with_name(path.name + STAMP_SUFFIX)
    if side.is_file():
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
            return Stamp(data.get("commit"), bool(data.get("dirty")), str(data.get("date", "")),
                         str(data.get("by", "")))
        except (ValueError, AttributeError):
            return None
    if path.suffix == ".md" and path.is_file():
        marks = list(_MARK.finditer(path.read_text(encoding="utf-8")))
        if marks:
            m = min(marks, key=lambda m: m["date"])
            commit = None if m["commit"] == "unknown" else m["commit"]
            return Stamp(commit, m["tree"] == "dirty", m["date"], m["by"])
    return None


# --------------------------------------------------------------------------- staleness
@dataclass(frozen=True)
class Freshness:
    """One shipped result against the model code: ``status`` is :data:`CURRENT`, :data:`OLDER` or
    :data:`UNKNOWN`; ``reason`` says why in a few words."""

    path: str
    status: str
    reason: str
    stamp: Stamp | None


def model_commit(root: Path = REPO, paths: tuple[str, ...] = MODEL_PATHS, step: str | None = None
                 ) -> str | None:
    """The last commit that changed the model code a result of ``step`` depends on (None without git
    or without such a commit)."""
    pathspec = _outside_shipped(paths, other_apps_settings(step, root))
    scopes = neutral_scopes(root / NEUTRAL_PATH)
    if not scopes:
        return git(root, "log", "-1", "--format=%H", *pathspec) or None
    # changes checked to leave every result as it was (experiments.engine.neutral) do not count; those
    # that left only the proportional sample's results as they were count for the steps whose runs
    # stratify (and for a result of no known step)
    stratifies = (step is None or step not in STEP_APPS
                  or any(app in STRATIFYING_APPS for app in STEP_APPS[step]))
    history = git(root, "log", "--format=%H", *pathspec) or ""
    return next((c for c in history.splitlines()
                 if c not in scopes or (scopes[c] != ALL and stratifies)), None)


def freshness(path: str, root: Path = REPO, paths: tuple[str, ...] = MODEL_PATHS,
              model: str | None = None) -> Freshness:
    """Whether the shipped result at ``root/path`` was generated from a commit that already had the
    latest change of the model code it depends on (``model``: that change's commit, when known)."""
    stamp = read_stamp(root / path)
    if git(root, "rev-parse", "--git-dir") is None:
        return Freshness(path, UNKNOWN, "no git repository", stamp)
    if stamp is None:
        return Freshness(path, UNKNOWN, "no commit stamp", stamp)
    if not stamp.commit:
        return Freshness(path, UNKNOWN, "its commit is not recorded", stamp)
    step = SHIPPED.get(path)
    model = model or model_commit(root, paths, step)
    if model is None:
        return Freshness(path, UNKNOWN, "no commit of the model code", stamp)
    if git(root, "cat-file", "-e", f"{stamp.commit}^{{commit}}") is None:
        return Freshness(path, UNKNOWN, f"commit {stamp.commit[:7]} not in this repository", stamp)
    if git(root, "status", "--porcelain", *_outside_shipped(paths, other_apps_settings(step, root))):
        return Freshness(path, OLDER, "the model code has uncommitted changes", stamp)
    if git(root, "merge-base", "--is-ancestor", model, stamp.commit) is None:
        return Freshness(path, OLDER, f"from {stamp.commit[:7]}; the model code changed in {model[:7]}",
                         stamp)
    note = " (its tree had uncommitted changes)" if stamp.dirty else ""
    return Freshness(path, CURRENT, f"from {stamp.commit[:7]}{note}", stamp)


def shipped_status(root: Path = REPO, shipped: tuple[str, ...] | None = None,
                   paths: tuple[str, ...] = MODEL_PATHS) -> list[Freshness]:
    """:func:`freshness` of every shipped result (:data:`SHIPPED`, or ``shipped``) that exists."""
    models: dict[str | None, str | None] = {}
    rows = []
    for p in shipped or tuple(SHIPPED):
        if (root / p).exists():
            step = SHIPPED.get(p)
            if step not in models:
                models[step] = model_commit(root, paths, step)
            rows.append(freshness(p, root, paths, models[step]))
    return rows


def status_sentence(rows: list[Freshness]) -> str:
    """One sentence for a report: how many shipped results are older than the model code, and which
    (the age of the others is given in a table by whoever needs it)."""
    if not rows:
        return "Shipped results: none found."
    older = [r for r in rows if r.status == OLDER]
    unknown = [r for r in rows if r.status == UNKNOWN]
    if not older and not unknown:
        return f"Shipped results: all {len(rows)} generated from the current model code."
    parts = []
    if older:
        parts.append(f"{len(older)} of {len(rows)} older than the model code ("
                     + ", ".join(r.path for r in older) + ")")
    if unknown:
        reasons = "; ".join(sorted({r.reason for r in unknown}))
        parts.append(f"{len(unknown)} of unknown age ({reasons})")
    return "Shipped results: " + "; ".join(parts) + ". make shipped regenerates them."
