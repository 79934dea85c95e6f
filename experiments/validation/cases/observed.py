"""The model's dynamics against Indonesian observations: the calibration's posterior predictive checks.

The calibration (``make calibrate``, :mod:`experiments.calibration`) runs the model from 2020-01 with
parameter sets drawn from its posterior and writes, per target, the observed figure, the posterior
predictive mean and 90% interval (``predicted``, ``low``, ``high``: one run per draw plus the
target's error) and whether the observation lies inside (``experiments/data/calibration_indonesia.json``
for the apps' portfolio when shipped). This case reads that file, runs nothing, and scores

* every **held-out** target (never used in fitting: an out-of-sample test of how access and use move
  from 2023 to 2024-2025), and
* every **growth** target (a rise over years; fitted, so in-sample: a check of the fit),

each as "observed inside the 90% posterior predictive interval" (expected = observed, measured =
predictive mean, interval = [low, high]). A held-out level that the fitted figures imply (the same
metric and date as a fitted growth target, or a source that says so) is scored too, and its reason
says it is not independent. A target the file lacks (a calibration older than the target) is a
reported row saying so. Which targets there are comes from ``configs/calibration/targets.yaml``
(:func:`experiments.engine.targets.load_targets`); the numbers come from the file only.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

from experiments.engine.targets import DEFAULT_TARGETS, Target, national_targets
from experiments.validation.scoring import CaseResult, Check, inside_interval, reported
from sim.config import CONFIG_DIR, ConfigError

CASE = "observed"
REPO = CONFIG_DIR.parent
SHIPPED_CHECKS = REPO / "experiments" / "data" / "calibration_indonesia.json"  # the apps' portfolio
KEYS = ("name", "observed", "predicted", "low", "high")


def resolve(path: str | Path) -> Path:
    """A path as given, relative ones from the repository root (as the calibration's own)."""
    p = Path(path)
    return p if p.is_absolute() else REPO / p


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_checks(path: str | Path, key: str = "observed.calibration") -> tuple[dict[str, dict], str | None]:
    """The posterior predictive checks of a ``calibration.json`` by target name, and the commit it
    records (a top-level ``commit`` or ``code_version`` when the file is an object with ``checks``).

    Raises ConfigError with one line when the file is missing, not JSON or lacks the fields."""
    p = resolve(path)
    allowed = "a calibration.json written by make calibrate (ARGS=ship=true ships it)"
    try:
        raw = json.loads(p.read_text())
    except OSError as exc:
        raise ConfigError(f"{key}={path}: cannot read ({exc.strerror}); allowed: {allowed}") from None
    except ValueError:
        raise ConfigError(f"{key}={path}: not valid JSON; allowed: {allowed}") from None
    commit = None
    if isinstance(raw, dict):
        commit = raw.get("commit") or raw.get("code_version")
        raw = raw.get("checks")
    if not isinstance(raw, list) or not all(isinstance(c, dict) and set(KEYS) <= set(c) for c in raw):
        raise ConfigError(f"{key}={path}: not a list of checks with {', '.join(KEYS)}; allowed: {allowed}")
    return {str(c["name"]): c for c in raw}, (str(commit) if commit else None)


def git_commit_of(path: Path) -> str | None:
    """The last commit that changed ``path``, if the file is tracked and unchanged since; else None."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=path.parent,
                                 timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    if not path.is_file():
        return None
    commit = git("log", "-1", "--format=%h", "--", path.name)
    status = git("status", "--porcelain", "--", path.name)
    return commit if commit and status == "" else None


def scored_targets(targets: list[Target]) -> list[Target]:
    """The targets this case scores: every held-out one and every growth target, in file order."""
    return [t for t in targets if t.held_out or t.is_growth]


def implied_by_fitted(t: Target, targets: list[Target]) -> bool:
    """Whether a held-out level is implied by fitted figures: a fitted growth target of the same
    metric ends at its date (level = fitted base level x fitted growth), or its source says so."""
    structural = any(g.is_growth and not g.held_out and g.metric == t.metric and g.date == t.date
                     for g in targets)
    return t.held_out and not t.is_growth and (structural or "implied by" in t.source.lower())


def _label(t: Target) -> str:
    span = f"{t.base_date} -> {t.date}, growth" if t.is_growth else t.date
    status = "held out" if t.held_out else "fitted, in-sample"
    return f"Observed {t.name} ({t.metric}, {span}; {status}): inside the 90% posterior predictive interval"


def _number(c: dict, key: str) -> float:
    v = c.get(key)
    try:
        return float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def observed_case(calibration: str | Path = SHIPPED_CHECKS, targets: str | Path = DEFAULT_TARGETS
                  ) -> CaseResult:
    """One scored row per held-out and growth target of ``targets`` (a targets YAML), read from the
    posterior predictive checks in ``calibration`` (a ``calibration.json``)."""
    cal_path = resolve(calibration)
    checks_by_name, commit = load_checks(cal_path)
    where = _shown(cal_path)
    if commit:
        provenance = f"numbers from {where} (calibration at commit {commit})"
    else:
        last = git_commit_of(cal_path)
        provenance = (f"numbers from {where} (it records no commit; last changed in commit {last})"
                      if last else f"numbers from {where} (no commit recorded)")
    all_targets = national_targets(path=resolve(targets))
    rows: list[Check] = []
    data_rows: list[dict[str, Any]] = []
    for t in scored_targets(all_targets):
        c = checks_by_name.get(t.name)
        if c is None:
            rows.append(reported(
                CASE, _label(t), math.nan, t.observed, None,
                f"not scored: the target is not in {where} (the calibration that wrote it did not have "
                f"this target; make calibrate ARGS=ship=true writes a new one); {provenance}"))
            data_rows.append({"name": t.name, "held_out": t.held_out, "growth": t.is_growth,
                              "missing": True, "observed": t.observed})
            continue
        observed, predicted = _number(c, "observed"), _number(c, "predicted")
        low, high = _number(c, "low"), _number(c, "high")
        if t.is_growth and not t.held_out:
            status = ("fitted (in-sample): the calibration was fitted to this rise, so lying inside the "
                      "interval checks the fit, it is not an independent test")
        elif implied_by_fitted(t, all_targets):
            status = ("held out but not independent: its source says it is implied by fitted figures "
                      "(the fitted growth applied to the fitted earlier level), so this is a consistency "
                      "check of the fit rather than an out-of-sample test")
        elif t.held_out:
            status = "held out: never used in fitting, an out-of-sample test"
        else:
            status = "fitted (in-sample): a check of the fit, not an independent test"
        notes = [status]
        model_mean = _number(c, "model_mean")
        if math.isfinite(model_mean):
            notes.append(f"model mean {model_mean:.4g} before the observation error "
                         f"(sd {_number(c, 'sd'):.3g})")
        if not math.isclose(observed, t.observed, rel_tol=0, abs_tol=1e-9):
            notes.append(f"the file's observed value differs from the target file's {t.observed:.4g}: "
                         "the calibration predates a change of the figure")
        if "held_out" in c and bool(c["held_out"]) != t.held_out:
            notes.append(f"the calibration treated it as {'held out' if c['held_out'] else 'fitted'}")
        inside = low <= observed <= high if math.isfinite(observed + low + high) else False
        if "inside" in c and bool(c["inside"]) != inside:
            notes.append(f"the file's own inside flag ({c['inside']}) disagrees with its numbers")
        notes.append(f"figure: {t.source.rstrip('.')}")
        notes.append(provenance)
        rows.append(inside_interval(CASE, _label(t), predicted, observed, low, high, "; ".join(notes)))
        data_rows.append({"name": t.name, "date": t.date, "base_date": t.base_date, "metric": t.metric,
                          "held_out": t.held_out, "growth": t.is_growth, "missing": False,
                          "implied": implied_by_fitted(t, all_targets), "observed": observed,
                          "predicted": predicted, "low": low, "high": high,
                          "passed": rows[-1]["passed"]})
    data = {"rows": data_rows, "calibration": where, "commit": commit,
            "targets": _shown(resolve(targets))}
    return CaseResult(rows, data)
