"""Questions about the declared parameters of the whole config tree (:class:`sim.config.SimConfig`).

The declarations themselves (:func:`sim.parameters.par`) sit beside the code that uses each
parameter, below the config; the functions here default to the full tree, so they sit above it:
:mod:`sim.parameters` -> parameter blocks -> :mod:`sim.config` -> this module, one direction only.

- calibration and sensitivity analysis (:func:`uncertain_parameters`);
- one key's declaration, for ``--help`` and the posterior tables (:func:`declaration`);
- the parameter tables of ``docs/parameters.md`` (:func:`parameters_markdown`, ``make docs``).
"""

from __future__ import annotations

from typing import Any

from sim.config import SimConfig
from sim.parameters import ConfigError, Declared, declarations, format_number


def uncertain_parameters(schema: type = SimConfig) -> list[Declared]:
    """The parameters with a prior: what calibration infers and sensitivity analysis varies."""
    return [d for d in declarations(schema) if d.spec.prior is not None]


def declaration(key: str, schema: type = SimConfig) -> Declared:
    """The declaration of one dotted key; ConfigError (one line) if nothing is declared there."""
    for d in declarations(schema):
        if d.key == key:
            return d
    raise ConfigError(f"{key}: no parameter declared under this key")


def _fmt_default(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt_default(v) for v in value) or "(empty)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


def parameters_markdown(schema: type = SimConfig) -> str:
    """The parameter tables of ``docs/parameters.md``, one per block, generated from the declarations."""
    decls = list(declarations(schema))
    lines = [
        "# Parameters",
        "",
        "Generated from the declarations (`sim.parameters.par`) by `make docs`; do not edit by hand.",
        "Each parameter is declared once, beside the code that uses it. *Range* is what the config",
        "validator accepts (a value outside stops the run with one line naming the key, the value and",
        "the range). *Prior* is the distribution calibration and sensitivity analysis draw from; only",
        "uncertain parameters have one. *Source* is a publication, or *assumption* (not published).",
        "",
        f"{len(decls)} parameters, {sum(d.spec.is_assumption for d in decls)} of them assumptions, "
        f"{sum(d.spec.prior is not None for d in decls)} with a prior.",
    ]
    block = None
    for d in decls:
        head = d.key.rsplit(".", 1)[0] if "." in d.key else "run"
        if head != block:
            block = head
            lines += ["", f"## `{head}`" if head != "run" else "## Run", "",
                      "| Key | Meaning | Unit | Range | Default | Prior | Source |",
                      "|---|---|---|---|---|---|---|"]
        s = d.spec
        prior = s.prior.describe() if s.prior else "–"
        lines.append(f"| `{d.key}` | {s.doc} | {s.unit} | {s.allowed()} | {_fmt_default(d.default)} | "
                     f"{prior} | {s.source} |")
    return "\n".join(lines) + "\n"
