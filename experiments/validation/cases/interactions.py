"""Interactions of levers: 2 x 2 factorials with paired seeds, reported, not scored.

For each pair of levers (A, B) the baseline scenario (no spending, targeting universal) runs in four
cells with the same seeds: none, A alone, B alone, A and B, each lever at the same budget share
``share`` whether alone or together (``policy.allocation.<lever>=share``). Per seed the interaction
on the outcome is y_AB - y_A - y_B + y_0 (positive: the levers do more together than the sum of their
separate effects); its mean and paired t-interval are reported with the two main effects. The study
argues that the factors work together; whether the model's mechanisms imply it is what this shows,
so there is no pass or fail, and nothing is tuned to produce synergy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.validation.runner import RunSpec, run_summaries
from experiments.validation.scoring import CaseResult, paired_effect

CASE = "interactions"
CELLS = ("none", "A", "B", "AB")


def cell_overrides(a: str, b: str, cell: str, share: float) -> dict[str, Any]:
    levers = {"none": (), "A": (a,), "B": (b,), "AB": (a, b)}[cell]
    return {"policy.targeting": "universal", **{f"policy.allocation.{lever}": share for lever in levers}}


def interaction_specs(pairs: list[tuple[str, str]], n: int, seeds: list[int], steps: int,
                      share: float) -> dict[tuple[str, str, str], list[RunSpec]]:
    return {(a, b, cell): [RunSpec.make(n, s, steps, overrides=cell_overrides(a, b, cell, share))
                           for s in seeds]
            for a, b in pairs for cell in CELLS}


def interactions_case(pairs: list[tuple[str, str]], n: int, seeds: list[int], steps: int,
                      share: float, outcome: str = "adoption_final", confidence: float = 0.95,
                      n_jobs: int = 1, progress: bool = True, cache: dict | None = None) -> CaseResult:
    """Interaction and main effects per pair, each with its paired interval (no checks)."""
    plan = interaction_specs(pairs, n, seeds, steps, share)
    specs = [s for group in plan.values() for s in group]
    results = dict(zip(specs, run_summaries(specs, n_jobs=n_jobs, desc="interactions",
                                            progress=progress, cache=cache), strict=True))
    rows = []
    for a, b in pairs:
        y = {cell: np.array([results[s][outcome] for s in plan[(a, b, cell)]], dtype=float)
             for cell in CELLS}
        inter = paired_effect(y["AB"] - y["A"] - y["B"] + y["none"], confidence)
        main_a = paired_effect(y["A"] - y["none"], confidence)
        main_b = paired_effect(y["B"] - y["none"], confidence)
        both = paired_effect(y["AB"] - y["none"], confidence)
        rows.append({"a": a, "b": b, "outcome": outcome, "share": share,
                     "cell_means": {cell: float(v.mean()) for cell, v in y.items()},
                     "interaction": inter.as_dict(), "main_a": main_a.as_dict(),
                     "main_b": main_b.as_dict(), "both": both.as_dict(),
                     "per_seed_interaction": (y["AB"] - y["A"] - y["B"] + y["none"]).tolist()})
    data = {"rows": rows, "n": n, "seeds": list(seeds), "steps": steps, "share": share,
            "outcome": outcome, "confidence": confidence}
    return CaseResult([], data)
