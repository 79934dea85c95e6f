"""Limiting configurations of the full adoption rule (``params.adoption.rule=utaut``) with closed forms.

Both limits are config overrides only, on the default scenario and model code:

* everyone aware and with access (all access targets 1, with no anchor of the national access
  level, ``population.access_level`` null, which would move them off 1), everyone in need every month
  (``need_rate=1``), nobody lapsing (``lapse_on_failure=0``) and nobody keeping to the counter by
  choice (``offline_preference=0``);
* usefulness and trust out of the utility (their weights 0: office readiness and trust keep moving,
  but no longer reach the decision), trust dynamics off;
* ease of use at its maximum for everyone: the literacy requirement is met by all
  (``required_literacy`` tiny) and usability held at its initial value (co-production off), so the
  ease term is w_ease x usability_initial for every citizen.

Then a non-user adopts with probability expit(b + w_s s), b = intercept + w_ease usability_initial.
**Constant hazard** (``w_social=0``): a[t] = 1 - (1 - a0)(1 - h)^t, h = expit(b). **Mean field**
(``network=mean_field``, ``w_social`` at its default): s is the share of users among the other n - 1
citizens, and a[t+1] = a[t] + (1 - a[t]) expit(b + w_s a[t] n / (n - 1)).

Tolerance on the largest monthly deviation of the seed mean: ``tolerance`` plus 4 binomial standard
errors of that mean, taking the largest over months, max_t sqrt(a_t (1 - a_t) / (n x seeds)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from experiments.validation.runner import RunSpec, run_summaries, spec_config
from experiments.validation.scoring import CaseResult, Check, within
from experiments.validation.theory import constant_hazard_curve, mean_field_logit_recursion

CASE = "limits"

LIMIT_OVERRIDES: dict[str, Any] = {
    "population.access_by_region": [1.0] * 6,
    "population.access_urban": 1.0,
    "population.access_rural": 1.0,
    "population.access_by_age": [1.0] * 4,
    "population.access_level": None,  # no anchor: it would shift the targets of 1 (log-odds inf) to 0
    "population.awareness_initial": 1.0,
    "params.adoption.need_rate": 1.0,
    "params.adoption.lapse_on_failure": 0.0,
    "params.adoption.offline_preference": 0.0,
    "params.adoption.w_usefulness": 0.0,
    "params.adoption.w_trust": 0.0,
    "params.adoption.required_literacy": 1e-6,
    "mechanisms.coproduction": False,
    "mechanisms.trust_dynamics": False,
}
LIMITS = {
    "constant_hazard": ("homophilous", {"params.adoption.w_social": 0.0}),
    "mean_field": ("mean_field", {}),
}


def limit_specs(kind: str, n: int, seeds: list[int], steps: int,
                parameters: str | None = None) -> list[RunSpec]:
    network, extra = LIMITS[kind]
    return [RunSpec.make(n, seed, steps, network=network, overrides={**LIMIT_OVERRIDES, **extra},
                         series=("adoption",), parameters=parameters) for seed in seeds]


def _binomial_se(curve: np.ndarray, n: int, seeds: int) -> float:
    return float(np.max(np.sqrt(curve * (1 - curve) / (n * seeds))))


def limits_case(n: int, seeds: list[int], steps: int, tolerance: float, n_jobs: int = 1,
                progress: bool = True, parameters: str | None = None) -> CaseResult:
    """Three scored checks: the constant-hazard curve and hazard, and the mean-field curve.

    ``parameters``: the parameter set the limits start from (None: the model's default)."""
    checks: list[Check] = []
    data: dict[str, Any] = {"n": n, "seeds": list(seeds), "steps": steps}
    for kind in LIMITS:
        specs = limit_specs(kind, n, seeds, steps, parameters)
        cfg = spec_config(specs[0])
        ad, plat = cfg.params.adoption, cfg.params.platform
        b = ad.intercept + ad.w_ease * plat.usability_initial
        results = run_summaries(specs, n_jobs=n_jobs, desc=f"limit {kind}", progress=progress)
        runs = np.vstack([r["series:adoption"] for r in results])
        mean = runs.mean(axis=0)
        a0 = float(mean[0])  # the initial share is an input (adoption_initial), the same every seed
        t = np.arange(steps + 1)
        if kind == "constant_hazard":
            h = float(expit(b))
            expected = constant_hazard_curve(a0, h, steps)
            formula = f"1 - (1 - a0)(1 - h)^t, h = expit({ad.intercept} + {ad.w_ease} x " \
                      f"{plat.usability_initial}) = {h:.4f}, a0 = {a0:.4f}"
            new = np.diff(runs, axis=1) * n
            at_risk = (1 - runs[:, :-1]) * n
            pooled = float(new.sum() / at_risk.sum())
            se = float(np.sqrt(h * (1 - h) / at_risk.sum()))
            checks.append(within(CASE, "UTAUT limit, constant hazard: pooled monthly adoption hazard",
                                 pooled, h, 4 * se,
                                 f"new adopters / non-users at risk over {steps} months and "
                                 f"{len(seeds)} seeds; tolerance 4 binomial s.e."))
            data[kind] = {"hazard": h}
        else:
            expected = mean_field_logit_recursion(a0, b, ad.w_social, steps, n=n)
            without_social = constant_hazard_curve(a0, float(expit(b)), steps)
            formula = (f"a[t+1] = a[t] + (1 - a[t]) expit({b:g} + {ad.w_social} a[t] n/(n-1)), "
                       f"a0 = {a0:.4f}; without the social term the curve would differ by up to "
                       f"{np.max(np.abs(expected - without_social)):.3f}")
            data[kind] = {"without_social": without_social}
        err = float(np.max(np.abs(mean - expected)))
        tol = tolerance + 4 * _binomial_se(expected, n, len(seeds))
        title = "constant hazard" if kind == "constant_hazard" else "mean-field social influence"
        checks.append(within(CASE, f"UTAUT limit, {title}: max |mean adoption - closed form|", err,
                             0.0, tol, f"{formula}; {n:,} citizens, {len(seeds)} seeds, months "
                             f"0-{steps}; largest single-seed deviation "
                             f"{float(np.max(np.abs(runs - expected))):.4f}"))
        data[kind].update({"t": t, "runs": runs, "mean": mean, "expected": expected, "a0": a0,
                           "intercept": b, "w_social": ad.w_social, "network": specs[0].network})
    return CaseResult(checks, data)
