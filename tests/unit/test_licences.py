"""The default install carries no GPL or AGPL code.

The project is MIT-licensed and meant to be installed and redistributed with its dependencies; a GPL
package reachable from the default requirements would put the whole install under the GPL's terms. So
the test starts from the default requirements in ``pyproject.toml`` (no extras: the optional extras
``ray``, ``smc``, ``test`` and ``bench`` are the user's choice), walks ``Requires-Dist`` of each
installed distribution, following each requirement whose environment marker applies here, and reads
every such distribution's licence: the ``License-Expression`` and ``License`` fields and the
``License ::`` classifiers. LGPL is allowed (it
permits use as a library) and is reported; GPL and AGPL fail. A requirement that is not installed
fails too: the walk could not see what it would bring.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "sim-digital-services-id"
ROOT = Path(__file__).resolve().parents[2]


def licence_texts(dist: metadata.Distribution) -> list[str]:
    """Every statement of the distribution's licence: expression, field (first line: some packages
    paste the whole licence text there) and classifiers."""
    meta = dist.metadata
    texts = [meta.get("License-Expression") or "", (meta.get("License") or "").strip().splitlines()[:1]]
    out = [texts[0], texts[1][0] if texts[1] else ""]
    out += [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return [t for t in out if t and t.upper() != "UNKNOWN"]


def is_gpl(text: str) -> bool:
    """GPL or AGPL (any version) but not LGPL, in an SPDX expression, a licence name or a classifier."""
    upper = text.upper().replace("LGPL", "").replace("LESSER GENERAL PUBLIC", "")
    return "GPL" in upper or "GENERAL PUBLIC LICEN" in upper


def is_lgpl(text: str) -> bool:
    upper = text.upper()
    return "LGPL" in upper or "LESSER GENERAL PUBLIC" in upper


def project_requirements() -> list[str]:
    """The default requirements as this checkout declares them (``pyproject.toml``): the installed
    project's metadata may be that of another checkout, or older than the file."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    assert canonicalize_name(project["name"]) == PROJECT
    return list(project["dependencies"])


def default_closure() -> tuple[dict[str, metadata.Distribution], list[str]]:
    """Every installed distribution reachable from the project's default requirements, and the
    requirements that are not installed."""
    env = default_environment()
    found: dict[str, metadata.Distribution] = {}
    missing: list[str] = []
    todo: list[tuple[str, frozenset[str]]] = []
    for line in project_requirements():
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            todo.append((req.name, frozenset(req.extras)))
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        found[key] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            # A requirement applies if its marker holds with no extra, or with one of the extras asked
            # for (``mesa[viz]`` brings the ``viz`` requirements of mesa).
            if req.marker is not None and not any(
                    req.marker.evaluate({**env, "extra": e}) for e in (extras or {""})):
                continue
            todo.append((req.name, frozenset(req.extras)))
    return found, missing


def test_classification_of_licence_texts():
    assert is_gpl("GPL-3.0-or-later")
    assert is_gpl("License :: OSI Approved :: GNU General Public License v3 (GPLv3)")
    assert is_gpl("AGPL-3.0") and is_gpl("GNU Affero General Public License v3")
    assert not is_gpl("LGPL-2.1-or-later")
    assert not is_gpl("License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)")
    assert not is_gpl("MIT") and not is_gpl("BSD-3-Clause") and not is_gpl("Apache-2.0")
    assert is_lgpl("GNU Lesser General Public License v2 or later (LGPLv2+)")


def test_no_gpl_in_the_default_install(capsys):
    found, missing = default_closure()
    gpl, lgpl = [], []
    with capsys.disabled():
        print(f"\nlicences of the {len(found)} distributions the default install requires:")
        for key in sorted(found):
            dist = found[key]
            texts = licence_texts(dist)
            print(f"  {dist.metadata['Name']} {dist.version}: {'; '.join(texts) or '(not stated)'}")
            if any(is_gpl(t) for t in texts) and not any(is_lgpl(t) for t in texts):
                gpl.append(f"{dist.metadata['Name']} ({'; '.join(texts)})")
            elif any(is_lgpl(t) for t in texts):
                lgpl.append(dist.metadata["Name"])
        if lgpl:
            print(f"  LGPL (allowed: used as libraries): {', '.join(lgpl)}")
    assert not missing, f"required but not installed: {', '.join(sorted(missing))}"
    assert not gpl, f"GPL/AGPL in the default install: {', '.join(gpl)}"
