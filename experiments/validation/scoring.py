"""How a validation check is scored: tolerances, paired effects with signs named in advance, identities.

Three kinds of row, kept apart so that a tally counts only what could have failed:

* a **check** (``scored=True``) compares a measured value with an expected one and passes or fails;
  a failure always carries its reason, and nothing is ever "explained" into a pass;
* a **reported** row (``scored=False``) is shown with the same fields but not counted, for values
  that theory does not pin down (e.g. finite-size effects at the edge of Watts' cascade window), and
  for **input consistency** (``kind="consistency"``: a published figure the population is built to
  meet, so meeting it is no evidence) and figures the model cannot meet by construction
  (``kind="unattainable"``, e.g. breakdowns that contradict each other);
* an **identity** is a quantity the model reproduces by construction (an input drawn as given, or
  a target solved for exactly); it is listed beside the published figure but never counted, because
  it cannot fail.

A check against an observation with a predictive interval (:func:`inside_interval`) passes when the
observed value lies inside the interval the model predicts for it.

Effects of switching a mechanism off are judged on paired differences (same seeds, on and off, so
common random numbers cancel most of the noise): an effect passes only if its mean has the sign
named in advance and its paired t-interval excludes zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

Check = dict[str, Any]
CONFIDENCE = 0.95


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


def within(case: str, name: str, measured: float, expected: float, tolerance: float,
           reason: str = "") -> Check:
    """A scored check: passes when measured and expected are finite and |measured - expected| <= tolerance.

    The reason always states the distance against the tolerance, so a failure says by how much.
    """
    ok = _finite(measured, expected, tolerance) and abs(measured - expected) <= tolerance + 1e-12
    distance = abs(measured - expected) if _finite(measured, expected) else float("nan")
    verdict = (f"|measured - expected| = {distance:.4g} {'<=' if ok else '>'} tolerance {tolerance:.4g}"
               if _finite(distance) else "no finite measurement")
    return {
        "case": case, "name": name, "measured": float(measured), "expected": float(expected),
        "tolerance": float(tolerance), "interval": None, "passed": bool(ok), "scored": True,
        "reason": f"{verdict}; {reason}" if reason else verdict,
    }


REPORTED_KINDS = ("reported", "consistency", "unattainable")


def reported(case: str, name: str, measured: float, expected: float, tolerance: float | None,
             reason: str, kind: str = "reported") -> Check:
    """A row shown like a check but not scored (``passed`` is None); ``reason`` says why not.

    ``kind`` says why it is not scored (:data:`REPORTED_KINDS`): ``reported`` (theory does not pin
    the value down), ``consistency`` (the population is built to meet the figure), ``unattainable``
    (the model cannot meet it by construction); the report shows each kind under its own heading.
    """
    if kind not in REPORTED_KINDS:
        raise ValueError(f"kind must be one of {REPORTED_KINDS}, got {kind!r}")
    return {
        "case": case, "name": name, "measured": float(measured), "expected": float(expected),
        "tolerance": None if tolerance is None else float(tolerance), "interval": None,
        "passed": None, "scored": False, "kind": kind, "reason": reason,
    }


def inside_interval(case: str, name: str, predicted: float, observed: float, low: float, high: float,
                    reason: str = "") -> Check:
    """A scored check: passes when the ``observed`` value lies in the model's predictive interval
    [``low``, ``high``] (``measured`` is the model's predictive mean, ``expected`` the observation)."""
    ok = _finite(observed, low, high) and low <= observed <= high
    if not _finite(observed, low, high):
        verdict = "FAIL: no finite interval or observation"
    elif ok:
        verdict = f"observed {observed:.4g} inside [{low:.4g}, {high:.4g}]"
    else:
        side = "below" if observed < low else "above"
        verdict = f"FAIL: observed {observed:.4g} {side} the interval [{low:.4g}, {high:.4g}]"
    return {
        "case": case, "name": name, "measured": float(predicted), "expected": float(observed),
        "tolerance": None, "interval": [float(low), float(high)], "passed": bool(ok), "scored": True,
        "reason": f"{verdict}; {reason}" if reason else verdict,
    }


def identity(case: str, name: str, measured: float, published: float, reason: str) -> Check:
    """A quantity reproduced by construction: shown against the published figure, never counted."""
    return {"case": case, "name": name, "measured": float(measured), "published": float(published),
            "difference": float(measured - published), "reason": reason}


@dataclass(frozen=True)
class PairedEffect:
    """Mean of paired differences with its t-interval (``n`` pairs, ``n - 1`` degrees of freedom)."""

    mean: float
    sd: float
    n: int
    se: float
    t: float
    low: float
    high: float
    confidence: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def paired_effect(differences: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE
                  ) -> PairedEffect:
    """The paired t-interval of a mean difference; needs at least two pairs.

    With all differences equal (sd 0), the interval collapses onto the mean and t is infinite,
    unless the mean is 0 too (then t = 0 and the interval is [0, 0], which does not exclude 0).
    """
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        raise ValueError(f"a paired interval needs at least two pairs, got {d.size}")
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(d.size)
    half = float(stats.t.ppf(0.5 + confidence / 2, d.size - 1)) * se
    t = mean / se if se > 0 else (math.copysign(math.inf, mean) if mean != 0 else 0.0)
    return PairedEffect(mean=mean, sd=sd, n=int(d.size), se=se, t=t, low=mean - half,
                        high=mean + half, confidence=confidence)


def signed_effect_check(case: str, name: str, effect: PairedEffect, expected_sign: int,
                        reason: str = "") -> Check:
    """A scored check of a paired effect whose sign was named in advance (+1 or -1).

    Passes only if the mean difference has the expected sign and its interval excludes zero; the
    reason says which condition failed.
    """
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    sign_ok = effect.mean * expected_sign > 0
    clear = effect.excludes_zero()
    ok = sign_ok and clear
    pct = int(round(effect.confidence * 100))
    stats_text = (f"mean {effect.mean:+.4g}, {pct}% paired interval [{effect.low:+.4g}, "
                  f"{effect.high:+.4g}], t = {effect.t:.2f}, {effect.n} pairs")
    if ok:
        verdict = f"expected sign {'+' if expected_sign > 0 else '-'} and interval excludes 0"
    elif effect.mean == 0 and effect.sd == 0:
        verdict = "FAIL: no effect (the outcome is identical on and off in every pair)"
    elif not sign_ok:
        verdict = f"FAIL: wrong sign (expected {'+' if expected_sign > 0 else '-'})"
        if clear:
            verdict += ", and the interval excludes 0, so the effect is real and opposite"
    else:
        verdict = f"FAIL: the {pct}% paired interval contains 0"
    text = f"{verdict}; {stats_text}"
    return {
        "case": case, "name": name, "measured": effect.mean, "expected": float(expected_sign),
        "expected_sign": "+" if expected_sign > 0 else "-", "tolerance": None,
        "interval": [effect.low, effect.high], "t": effect.t, "passed": bool(ok), "scored": True,
        "reason": f"{text}; {reason}" if reason else text,
    }


def tally(checks: Iterable[Check]) -> dict[str, int]:
    """Counts of scored, passed, failed and reported (unscored, whatever their kind) rows."""
    rows = list(checks)
    scored = [r for r in rows if r["scored"]]
    passed = sum(bool(r["passed"]) for r in scored)
    return {"scored": len(scored), "passed": passed, "failed": len(scored) - passed,
            "reported": len(rows) - len(scored)}


@dataclass
class CaseResult:
    """What one case returns: scored and reported rows, identities, and the data for its figures."""

    checks: list[Check]
    data: dict[str, Any]
    identities: list[Check] = field(default_factory=list)
