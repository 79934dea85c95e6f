"""What a result came from: the identity of a run's config and the code and library versions.

A run's identity is the SHA-256 of its fully resolved config as canonical JSON (sorted keys, no
whitespace), leaving out the settings that do not change results: ``progress`` (a progress bar) and
``materialise_agents`` (whether the mesa Agent views exist; tests/model/test_reproducibility.py checks
that results are the same either way). Two runs with
the same hash are the same computation, so a sweep can recognise a finished run on disk and skip it
(resume) and a report can refuse runs of another experiment. A run's *history key*
(:func:`history_key`) leaves out the policy and the budget as well: runs that share it live through
the same months up to the policy start, which the runner simulates once for all of them.

The code version is the git commit of the checkout the code was imported from, with a dirty flag when
tracked or unignored files differ from it; outside a checkout, the installed package version.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.summary import PROVENANCE_FIELDS  # noqa: F401  (declared with the summary it belongs to)

PACKAGE = "sim-digital-services-id"
CODE_ROOT = Path(__file__).resolve().parents[2]
HASH_EXCLUDED = ("progress", "materialise_agents")


def plain(value: Any) -> Any:
    """Dataclasses, lists and mappings as plain dicts and lists (what ``dataclasses.asdict`` gives,
    without its deep copies, which cost more than the rest of a run's bookkeeping)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def config_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain JSON-able data (a dataclass such as ``SimConfig``, or a mapping)."""
    return {k: v for k, v in plain(cfg).items() if k not in HASH_EXCLUDED}


def canonical_json(data: Any) -> str:
    """One text per value: sorted keys, no whitespace, floats as Python's shortest repr."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(cfg: Any) -> str:
    """SHA-256 (hex) of the resolved config without the result-neutral settings: the run's identity."""
    return hashlib.sha256(canonical_json(config_dict(cfg)).encode()).hexdigest()


# The policy keys that act before the policy starts: when it starts, and the uncosted political will
# every month's staff update reads. The rest of the policy block, and the budget, act only from it.
HISTORY_POLICY_KEYS = ("start_date", "political_will")
HISTORY_NEUTRAL_KEYS = ("budget_idr_bn_per_month",)


def history_dict(cfg: Any) -> dict[str, Any]:
    """What decides a run's history, the months before its policy starts: the hashed config
    (:func:`config_dict`) with the policy block reduced to :data:`HISTORY_POLICY_KEYS` and the budget
    left out."""
    data = config_dict(cfg)
    policy = data.get("policy") or {}
    data["policy"] = {k: policy.get(k) for k in HISTORY_POLICY_KEYS}
    for key in HISTORY_NEUTRAL_KEYS:
        data.pop(key, None)
    return data


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one mapping of dotted keys (to name the first key two configs differ in)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def history_key(cfg: Any) -> str:
    """SHA-256 (hex) of :func:`history_dict`. Runs with the same history key (the seed is part of it)
    live through exactly the same months up to the policy start, so one model run to that month can
    be branched into each of them (:meth:`sim.model.DigitalAdoptionModel.branch`)."""
    return hashlib.sha256(canonical_json({"history": history_dict(cfg)}).encode()).hexdigest()


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(CODE_ROOT), *args], capture_output=True, text=True,
                             timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@functools.cache
def code_version() -> str:
    """``git:<commit>`` (``+dirty`` with local changes) of this checkout, else ``<package> <version>``.

    Computed once per process; the runner computes it in the launching process and hands it to the
    workers, which run the same checkout's code.
    """
    commit = _git("rev-parse", "HEAD") if (CODE_ROOT / ".git").exists() else None
    if commit:
        status = _git("status", "--porcelain")
        return f"git:{commit}{'+dirty' if status else ''}"
    try:
        return f"{PACKAGE} {metadata.version(PACKAGE)}"
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def library_versions() -> dict[str, str]:
    """Versions of the interpreter and of the libraries that decide the numbers."""
    import mesa
    import numpy

    return {"python_version": platform.python_version(), "numpy_version": numpy.__version__,
            "mesa_version": mesa.__version__}


def provenance(cfg: Any, code: str | None = None, key: str | None = None) -> dict[str, str]:
    """The fields every ``summary.json`` carries: config hash (``key`` when already known), code
    version, library versions."""
    return {"config_hash": key or config_hash(cfg), "code_version": code or code_version(),
            **library_versions()}
