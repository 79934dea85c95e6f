"""``--help`` for the command-line apps: the main keys, a line each, read from the config files.

Each key's line is the comment beside it in the app's YAML file, or, for the simulation's own
settings, the parameter's declaration (:mod:`sim.parameters`): the one place its meaning is written,
so the help cannot drift from the configuration. Nested settings of the simulation that are
not in ``config.yaml`` (the policy's window, mandate, targeting) are listed from
:data:`POLICY_KEYS`, with the ODD parameter tables as the full reference.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.config import LEVERS, MANDATE_EXEMPTIONS, TARGETINGS, SimConfig, group_options
from sim.parameters import declarations

_KEY_LINE = re.compile(r"^([A-Za-z_][\w]*):\s*(.*?)\s*(?:#\s*(.*))?$")
_NOT_SETTINGS = {"defaults", "hydra"}
_CONTINUATION = re.compile(r"^\s+#\s*(.*)$")

POLICY_KEYS = (
    ("policy.allocation.<lever>", f"share of the monthly budget per lever ({', '.join(LEVERS)})"),
    ("policy.targeting", f"who targeted levers reach first ({', '.join(TARGETINGS)})"),
    ("policy.target_share", "targeted levers reach at most this share of the population"),
    ("policy.provinces", "every lever only in these provinces, e.g. '[Papua,\"Nusa Tenggara Timur\"]' "
     "(empty: all 38; names in docs/ODD.md section 6)"),
    ("policy.political_will", "national top-down push for digital work [0, 1] (uncosted)"),
    ("policy.start_date", "calendar month the policy begins, YYYY-MM (default 2025-01, after the "
     "history from start_date 2020-01; null: month 0); the month keys below count from it"),
    ("policy.start_month", "months after policy.start_date of the first month with spending"),
    ("policy.end_month", "months after policy.start_date of the first month without spending (null: never)"),
    ("policy.mandate.start_month", "a digital-first mandate from this many months after policy.start_date "
     "(null: none)"),
    ("policy.mandate.exempt", f"groups kept offline-capable ({', '.join(MANDATE_EXEMPTIONS)})"),
    ("mechanisms.<name>", "false switches a factor's mechanism off (held at its initial state)"),
)


def commented_keys(path: Path) -> list[tuple[str, str, str]]:
    """Top-level ``key: value  # comment`` lines of a YAML file (comments continued on indented
    comment lines are joined)."""
    rows: list[tuple[str, str, str]] = []
    for line in path.read_text().splitlines():
        match = _KEY_LINE.match(line)
        if match and match.group(1) not in _NOT_SETTINGS:
            rows.append((match.group(1), match.group(2), match.group(3) or ""))
            continue
        more = _CONTINUATION.match(line)
        if more and rows and line.startswith(" " * 10):
            key, value, text = rows[-1]
            rows[-1] = (key, value, f"{text} {more.group(1)}")
    return rows


def format_help(title: str, usage: str, keys: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in keys) + 2
    lines = [title, "", f"usage: {usage}", "", "main keys (key=value; any other setting as a dotted key):"]
    lines += [f"  {k.ljust(width)}{text}" for k, text in keys]
    return "\n".join(lines)


def app_help(config_file: Path, title: str, usage: str, extra: list[tuple[str, str]] = (),
             schema: type | None = None) -> str:
    """Help for an app: each declared setting of ``schema`` (its value in ``config_file`` where the
    file sets one, else the declared default; the file's comment, else the declared meaning), then
    the file's other top-level keys (blocks such as the validation's cases)."""
    in_file = {k: (v, text) for k, v, text in commented_keys(config_file)}
    keys: list[tuple[str, str]] = []
    if schema is not None:
        for d in declarations(schema):
            if "." in d.key:
                continue
            value, text = in_file.pop(d.key, (_plain_value(d.default), ""))
            keys.append((f"{d.key}={value}" if value else d.key, text or d.spec.doc))
    keys += [(f"{k}={v}" if v else k, text) for k, (v, text) in in_file.items()]
    return format_help(title, usage, [*keys, *extra])


def _plain_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_plain_value(v) for v in value) + "]" if len(str(value)) < 60 else "[...]"
    return "null" if value is None else _plain(value)


def sim_help() -> str:
    """Help for ``python -m sim``: groups, run settings, the policy's main keys."""
    groups = [(f"{g}=<name>", ", ".join(group_options(g)))
              for g in ("policy", "population", "network", "portfolio")]
    groups += [("parameters=<name>", f"{', '.join(group_options('parameters'))} (calibrated, the default: "
                "the posterior draw nearest the median; declared: the declared defaults)")]
    keys = [(f"{d.key}={_plain(d.default)}", d.spec.doc) for d in declarations(SimConfig)
            if "." not in d.key and d.key != "parameter_set"]  # parameter_set: set by parameters=
    keys += [("population.n_citizens=<int>", "agents (each stands for population_total / n people)")]
    return format_help(
        "python -m sim: one simulation of digital public-service adoption (Hydra app)",
        "python -m sim [-m] [key=value ...]   (-m: a sweep, e.g. seed=1,2,3)",
        [*groups, *keys, *POLICY_KEYS, ("hydra.run.dir=<folder>", "where the results go")],
    ) + "\n\nEvery parameter with its unit, range, default, prior and source: docs/parameters.md."


def _plain(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(
        value, float) else str(value)


def wants_help(argv: list[str]) -> bool:
    return any(a in ("--help", "-h") for a in argv)
