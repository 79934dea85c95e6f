"""Parameter declarations: each model parameter is declared once, beside the code that uses it.

A parameter block is a dataclass whose fields are made with :func:`par`: the default, the unit, the
valid range, the source (a publication, or the word *assumption*) and, for the uncertain ones, a
prior. Everything else reads these declarations instead of repeating them:

- the range checks of :func:`sim.config.validate` (:func:`check_declared_ranges`);
- the parameter tables of ``docs/parameters.md`` (:func:`sim.declarations.parameters_markdown`,
  ``make docs``);
- calibration and sensitivity analysis (:func:`sim.declarations.uncertain_parameters`);
- ``--help`` (:func:`declarations`).

This module knows nothing of the config tree: the functions that walk the whole of
:class:`sim.config.SimConfig` by default live in :mod:`sim.declarations`, above the config, so that
the blocks declared here and the config assembled from them import in one direction only.

The pattern follows starsim's ``define_pars`` and covasim's ``make_pars``: one home per parameter,
so a default, a range or a source cannot be written in two places and drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields, is_dataclass
from typing import Any

ASSUMPTION = "assumption"
PRIOR_KINDS = ("uniform", "loguniform")


class ConfigError(ValueError):
    """A configuration value is out of range or unknown; the message is one line for the user."""


_LOCKED = "_locked"


class Block:
    """Base of every parameter block: assignable while it is built, read-only once validated.

    Frozen dataclasses would say this more simply, but OmegaConf makes the structured config of a
    frozen dataclass read-only, so Hydra could no longer merge the YAML files and the command-line
    overrides into the schema. A block is therefore an ordinary dataclass until :func:`lock` (called
    by :func:`sim.config.validate`) marks it and every block inside it read-only; an assignment then
    raises :class:`dataclasses.FrozenInstanceError`, as on a frozen dataclass. A validated config is
    changed only through a path that validates again (:func:`sim.config.with_changes`), so a value
    that breaks a check (allocation shares summing to 2, say) cannot slip into a running model.
    ``dataclasses.replace`` still returns a new, unlocked block.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get(_LOCKED, False):
            raise FrozenInstanceError(
                f"cannot assign to {type(self).__name__}.{name}: a validated config is read-only; "
                f"use sim.config.with_changes(cfg, **{{'<dotted.key>': value}}) for a validated copy")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self.__dict__.get(_LOCKED, False):
            raise FrozenInstanceError(f"cannot delete {type(self).__name__}.{name}: a validated "
                                      "config is read-only")
        object.__delattr__(self, name)


def lock(block: Any) -> None:
    """Make ``block`` and every block inside it (a portfolio's services too) read-only (see
    :class:`Block`)."""
    if isinstance(block, dict):
        for value in block.values():
            lock(value)
        return
    if not is_dataclass(block) or isinstance(block, type) or is_locked(block):
        return  # a locked block's blocks are locked already
    for f in fields(block):
        lock(getattr(block, f.name))
    if isinstance(block, Block):
        object.__setattr__(block, _LOCKED, True)


def is_locked(block: Any) -> bool:
    """Whether ``block`` has been validated and locked."""
    return bool(getattr(block, "__dict__", {}).get(_LOCKED, False))


@dataclass(frozen=True)
class Prior:
    """What is believed about an uncertain parameter before calibration: a distribution and bounds.

    ``uniform`` on [low, high], or ``loguniform`` (uniform in the logarithm; for positive rates and
    costs whose order of magnitude is uncertain).
    """

    low: float
    high: float
    kind: str = "uniform"

    def __post_init__(self) -> None:
        if self.kind not in PRIOR_KINDS:
            raise ValueError(f"prior kind {self.kind!r}; allowed: {', '.join(PRIOR_KINDS)}")
        if not self.low < self.high or (self.kind == "loguniform" and self.low <= 0):
            raise ValueError(f"prior bounds [{self.low}, {self.high}] are not an interval")

    def from_unit(self, u: Any) -> Any:
        """Map quantiles in [0, 1] to parameter values (for Latin hypercubes and SALib samples)."""
        if self.kind == "loguniform":
            return self.low * (self.high / self.low) ** u
        return self.low + (self.high - self.low) * u

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"{self.kind} [{format_number(self.low)}, {format_number(self.high)}]"


@dataclass(frozen=True)
class Spec:
    """Everything declared about one parameter except its default (kept by the dataclass field)."""

    unit: str
    doc: str
    source: str
    low: float | None = None  # smallest allowed value (inclusive unless low_open)
    high: float | None = None  # largest allowed value (inclusive unless high_open)
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    choices: tuple[str, ...] = ()
    prior: Prior | None = None
    length: int | None = None  # lists: required number of values
    value_type: str = "number"  # number, text or true/false (from the default)
    nullable: bool = False  # null allowed (the default is null: "not set")

    @property
    def is_assumption(self) -> bool:
        return self.source.lower().startswith(ASSUMPTION)

    def allowed(self) -> str:
        """The allowed values in words, for error messages and the parameter tables."""
        if self.choices:
            return ", ".join(self.choices)
        if self.value_type != "number":
            return self.value_type
        kind = "an integer" if self.integer else "a number"
        if self.low is None and self.high is None:
            text = f"{kind} (any)"
        elif self.high is None:
            text = f"{kind} {'>' if self.low_open else '>='} {format_number(self.low)}"
        elif self.low is None:
            text = f"{kind} {'<' if self.high_open else '<='} {format_number(self.high)}"
        else:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            text = f"{kind} in {left}{format_number(self.low)}, {format_number(self.high)}{right}"
        if self.length is not None:
            text = f"a list of {self.length} values, each {text}"
        return f"null or {text}" if self.nullable else text

    def accepts(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True  # strings, booleans and lists are checked elsewhere
        too_low = self.low is not None and (value < self.low or (self.low_open and value == self.low))
        too_high = self.high is not None and (
            value > self.high or (self.high_open and value == self.high))
        return not (too_low or too_high)


def par(
    default: Any,
    unit: str,
    doc: str,
    source: str = ASSUMPTION,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    choices: tuple[str, ...] = (),
    prior: Prior | tuple[float, float] | tuple[float, float, str] | None = None,
    length: int | None = None,
) -> Any:
    """A dataclass field carrying the parameter's declaration in its metadata.

    ``prior`` may be given as ``(low, high)`` or ``(low, high, "loguniform")``. An assumption with a
    prior is one calibration and sensitivity analysis may vary; a prior must lie within the range.
    """
    if isinstance(prior, tuple):
        prior = Prior(*prior)
    text = isinstance(default, str) or unit == "YYYY-MM"  # a date that may be null is still text
    value_type = "true or false" if isinstance(default, bool) else "text" if text else "number"
    spec = Spec(unit=unit, doc=doc, source=source, low=low, high=high, low_open=low_open,
                high_open=high_open, integer=integer, choices=tuple(choices), prior=prior, length=length,
                value_type=value_type, nullable=default is None)
    if prior is not None and not (spec.accepts(prior.low) and spec.accepts(prior.high)):
        raise ValueError(f"prior {prior.describe()} outside the range {spec.allowed()} ({doc})")
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"spec": spec})
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class Declared:
    """One declared parameter, addressed by its dotted config key."""

    key: str
    default: Any
    spec: Spec


# A field holding a mapping of named blocks (``services.<name>``) declares the block type under this
# metadata key; its declarations read ``<field>.<name>.<key>``.
MAPPING_OF = "mapping_of"
ANY_NAME = "<name>"


def _default_of(f: Any) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def declarations(schema: type, prefix: str = "") -> Iterator[Declared]:
    """Every declared parameter of a config dataclass tree, depth first, in declaration order."""
    for f in fields(schema):
        key = f"{prefix}{f.name}"
        default = _default_of(f)
        spec = f.metadata.get("spec")
        if spec is not None:
            yield Declared(key, default, spec)
        elif is_dataclass(default):
            yield from declarations(type(default), f"{key}.")
        elif MAPPING_OF in f.metadata:  # a mapping of named blocks: each name's keys declared once
            yield from declarations(f.metadata[MAPPING_OF], f"{key}.{ANY_NAME}.")


def get_value(cfg: Any, key: str) -> Any:
    """The value at a dotted key of a config object."""
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def check_declared_ranges(cfg: Any, schema: type | None = None, prefix: str = "") -> None:
    """Every declared parameter of ``cfg`` is inside its declared range (one-line ConfigError naming
    the key with ``prefix`` before it: a block inside a mapping, e.g. ``services.tax_filing.``)."""
    for d in declarations(schema or type(cfg), prefix):
        if ANY_NAME in d.key:  # inside a mapping of named blocks: each block is checked on its own
            continue
        value = get_value(cfg, d.key.removeprefix(prefix))
        spec = d.spec
        if spec.length is not None and len(value) != spec.length:
            raise ConfigError(f"{d.key}={list(value)!r}: out of range; allowed: {spec.allowed()}")
        items = list(enumerate(value)) if _is_list(value) else [(None, value)]
        for i, item in items:
            if not spec.accepts(item) or (spec.integer and isinstance(item, float)):
                where = d.key if i is None else f"{d.key}[{i}]"
                raise ConfigError(f"{where}={item!r}: out of range; allowed: {spec.allowed()}")


def _is_list(value: Any) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, (str, bytes)) and hasattr(value, "index")


def format_number(x: float | None) -> str:
    """A bound or default as the tables and messages print it (integers without .0; thousands separated)."""
    if x is None:
        return ""
    if isinstance(x, float) and math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        x = int(x)
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10_000 else f"{x:g}"
