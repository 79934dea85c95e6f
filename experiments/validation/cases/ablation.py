"""Each factor's mechanism switched off in turn: one scenario, one outcome, one sign, named in advance.

The table :data:`ABLATIONS` fixes, before anything runs, the scenario in which each mechanism has
something to act on, the single outcome it is judged on, and the sign the study implies for
"mechanism on minus mechanism off". "Off" is ``mechanisms.<name>=false``. Each seed runs on and off
with the same seed (common random numbers), and the effect is judged against the spread of those
paired differences: it passes only if the mean paired difference has the named sign and its 95%
paired t-interval excludes zero (:func:`~experiments.validation.scoring.signed_effect_check`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from experiments.validation.runner import RunSpec, run_summaries
from experiments.validation.scoring import CaseResult, paired_effect, signed_effect_check

CASE = "ablation"


@dataclass(frozen=True)
class Ablation:
    """One row of the ablation table: what is switched off, where, judged on what, expecting what."""

    factor: str
    mechanism: str  # mechanisms.<mechanism>=false switches it off
    title: str
    scenario: str  # policy scenario in which the mechanism is exercised
    outcome: str  # the one summary metric it is judged on
    sign: int  # expected sign of (on - off)
    why: str  # what the study and the mechanism imply


ABLATIONS: tuple[Ablation, ...] = (
    Ablation("F1", "resistance_dynamics", "internal resistance in the bureaucracy", "baseline",
             "adoption_final", +1,
             "top-down and peer pressure lower staff resistance, more staff work digitally, offices "
             "become readier and digital service more useful"),
    Ablation("F2", "coproduction", "co-production", "coproduction", "adoption_final", +1,
             "users' feedback and funded sessions raise usability and accessibility, so ease of use"),
    Ablation("F3", "ease_of_use", "user-friendly, accessible platforms", "baseline",
             "adoption_final", +1, "ease of use (usability x literacy met) adds to every utility"),
    Ablation("F4", "infrastructure", "infrastructure and data security", "infrastructure",
             "adoption_final", +1,
             "connectivity spending connects citizens beyond the observed access trend (off: the "
             "lever connects nobody and security stays at start; the trend continues), and without "
             "internet nobody adopts"),
    Ablation("F5", "training", "training of civil servants", "training", "adoption_final", +1,
             "training raises competence and lowers resistance, so offices become readier"),
    Ablation("F6", "trust_dynamics", "transparency and public trust", "transparency",
             "adoption_final", +1, "published performance data raises trust, which gates adoption"),
)


def ablation_specs(ablations: tuple[Ablation, ...], n: int, seeds: list[int], steps: int
                   ) -> tuple[dict[str, list[RunSpec]], dict[str, list[RunSpec]]]:
    """The all-on runs per scenario and the off runs per mechanism (same seeds)."""
    on = {a.scenario: [RunSpec.make(n, s, steps, policy=a.scenario) for s in seeds]
          for a in ablations}
    off = {a.mechanism: [RunSpec.make(n, s, steps, policy=a.scenario,
                                      overrides={f"mechanisms.{a.mechanism}": False}) for s in seeds]
           for a in ablations}
    return on, off


def ablation_case(n: int, seeds: list[int], steps: int, confidence: float = 0.95,
                  ablations: tuple[Ablation, ...] = ABLATIONS, n_jobs: int = 1, progress: bool = True,
                  cache: dict | None = None) -> CaseResult:
    """One scored check per row of ``ablations``."""
    on, off = ablation_specs(ablations, n, seeds, steps)
    specs = [s for group in (*on.values(), *off.values()) for s in group]
    results = dict(zip(specs, run_summaries(specs, n_jobs=n_jobs, desc="ablation", progress=progress,
                                            cache=cache), strict=True))
    checks, effects = [], []
    for a in ablations:
        y_on = np.array([results[s][a.outcome] for s in on[a.scenario]], dtype=float)
        y_off = np.array([results[s][a.outcome] for s in off[a.mechanism]], dtype=float)
        effect = paired_effect(y_on - y_off, confidence)
        name = (f"Ablation {a.factor} ({a.mechanism}), {a.scenario} scenario: {a.outcome}, "
                f"on - off, expected {'+' if a.sign > 0 else '-'}")
        checks.append(signed_effect_check(
            CASE, name, effect, a.sign,
            f"on {y_on.mean():.4f}, off {y_off.mean():.4f}; {a.why}"))
        effects.append({**asdict(a), "on_mean": float(y_on.mean()), "off_mean": float(y_off.mean()),
                        "on": y_on.tolist(), "off": y_off.tolist(), **effect.as_dict(),
                        "passed": checks[-1]["passed"]})
    data: dict[str, Any] = {"effects": effects, "n": n, "seeds": list(seeds), "steps": steps,
                            "confidence": confidence}
    return CaseResult(checks, data)
