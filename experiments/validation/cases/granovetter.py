"""Granovetter's (1978) riot: thresholds 0, 1, ..., n-1 others give a full cascade; raising the
second-lowest threshold by one stops it at the instigator."""

from __future__ import annotations

import numpy as np

from experiments.validation.runner import RunSpec, build_model
from experiments.validation.scoring import CaseResult, within
from sim.state import USER

CASE = "granovetter"


def granovetter_adopters(thresholds: list[float], seed: int = 0) -> tuple[int, list[float]]:
    """Final number of adopters (and the adoption path) with explicit thresholds, mean field."""
    n = len(thresholds)
    spec = RunSpec.make(n, seed, n + 5, network="mean_field", overrides={
        "params.adoption.rule": "threshold", "params.adoption.thresholds": list(thresholds),
        "params.adoption.initial_adopters": 0})
    model = build_model(spec).run(progress=False)
    users = int(np.sum(model.state.citizens.state == USER))
    return users, [row["adoption"] * n for row in model.rows]


def granovetter_case(n: int = 100) -> CaseResult:
    """Two scored checks with zero tolerance: n adopters, then one."""
    uniform = [j / n for j in range(n)]
    perturbed = list(uniform)
    perturbed[1] = 2 / n  # the second-lowest threshold raised by one person
    full, path_full = granovetter_adopters(uniform)
    one, path_one = granovetter_adopters(perturbed)
    checks = [
        within(CASE, f"Granovetter riot, {n} agents, thresholds 0, 1/{n}, ..., {n - 1}/{n} of the "
               "others: adopters", full, n, 0, "everyone joins, one more each month"),
        within(CASE, "Granovetter riot, second-lowest threshold raised by one: adopters", one, 1, 0,
               "only the instigator joins"),
    ]
    return CaseResult(checks, {"uniform": path_full, "perturbed": path_one, "n": n})
