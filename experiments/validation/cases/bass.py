"""Bass (1969) diffusion: the mean-field reduced form against the discrete recursion and closed form.

With monthly synchronous updates each non-adopter adopts with probability p + q F_t, so in
expectation F_{t+1} = F_t + (1 - F_t)(p + q F_t); against the continuous closed form the model lags
by the discretisation error of monthly steps, which a finer step shrinks (first order).
"""

from __future__ import annotations

import numpy as np

from experiments.validation.runner import RunSpec, run_summaries
from experiments.validation.scoring import CaseResult, within
from experiments.validation.theory import bass_closed_form, bass_peak_time, bass_recursion

CASE = "bass"


def bass_specs(n: int, p: float, q: float, months: int, seeds: list[int], substeps: int = 1
               ) -> list[RunSpec]:
    """Mean-field Bass runs; with ``substeps`` > 1, that many steps per month at p and q / substeps."""
    overrides = {"params.adoption.rule": "bass", "params.adoption.p": p / substeps,
                 "params.adoption.q": q / substeps, "params.adoption.initial_adopters": 0}
    return [RunSpec.make(n, seed, months * substeps, network="mean_field", overrides=overrides,
                         series=("adoption",)) for seed in seeds]


def bass_runs(n: int, p: float, q: float, months: int, seeds: list[int], substeps: int = 1,
              n_jobs: int = 1, progress: bool = False) -> np.ndarray:
    """Adoption share per step (rows: seeds); ``months * substeps + 1`` points per row."""
    results = run_summaries(bass_specs(n, p, q, months, seeds, substeps), n_jobs=n_jobs,
                            desc="bass", progress=progress)
    return np.vstack([r["series:adoption"] for r in results])


def crossing_time(series: np.ndarray, level: float, dt: float) -> float:
    """First time ``series`` reaches ``level``, interpolating linearly within the step (NaN if never)."""
    hit = np.flatnonzero(series >= level)
    if hit.size == 0:
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return 0.0
    return float((i - 1 + (level - series[i - 1]) / (series[i] - series[i - 1])) * dt)


def bass_case(n: int, p: float, q: float, months: int, seeds: list[int], substeps: int,
              tol_recursion: float, tol_closed_form: float, n_jobs: int = 1,
              progress: bool = True) -> CaseResult:
    """Five scored checks: recursion, closed form (its expected distance), peak-level time, finer step."""
    t = np.arange(months + 1)
    runs = bass_runs(n, p, q, months, seeds, n_jobs=n_jobs, progress=progress)
    mean = runs.mean(axis=0)
    recursion = bass_recursion(p, q, months)
    recursion_nm1 = bass_recursion(p, q, months, n=n)
    closed = bass_closed_form(p, q, t)
    fine_seeds = seeds[:2]
    fine_full = bass_runs(n, p, q, months, fine_seeds, substeps=substeps, n_jobs=n_jobs,
                          progress=progress).mean(axis=0)
    fine = fine_full[::substeps]
    err_rec = float(np.max(np.abs(mean - recursion)))
    err_rec_nm1 = float(np.max(np.abs(mean - recursion_nm1)))
    err_single = float(np.max(np.abs(runs - recursion)))
    err_closed = float(np.max(np.abs(mean - closed)))
    discretisation = float(np.max(np.abs(recursion - closed)))
    err_fine = float(np.max(np.abs(fine - closed)))
    label = f"mean field, p={p}, q={q}, {n:,} citizens, {len(seeds)} seeds"
    t_star = bass_peak_time(p, q)
    f_star = (q - p) / (2 * q)
    checks = [
        within(CASE, f"Bass {label}: max |mean adoption - discrete Bass recursion|", err_rec, 0.0,
               tol_recursion, f"months 0-{months}; largest single-seed error {err_single:.4f}; "
               f"against the recursion with the others-only share n/(n-1): {err_rec_nm1:.4f}"),
        within(CASE, f"Bass {label}: max |mean adoption - closed form F(t)|", err_closed,
               discretisation, tol_closed_form,
               f"expected = the discretisation error of monthly steps, max |recursion - F(t)| = "
               f"{discretisation:.4f} (month {int(np.argmax(np.abs(recursion - closed)))})"),
        within(CASE, f"Bass {label}: time to the peak-rate level F* = (q-p)/2q (months)",
               crossing_time(mean, f_star, 1.0), crossing_time(recursion, f_star, 1.0), 0.1,
               f"F* = {f_star:.4f}, where the continuous model's rate peaks (t* = ln(q/p)/(p+q) = "
               f"{t_star:.2f}); expected: the discrete recursion's crossing"),
        within(CASE, f"Bass, {substeps} steps per month (p/{substeps}, q/{substeps}), "
               f"{len(fine_seeds)} seeds: max |adoption - F(t)|", err_fine, 0.0,
               discretisation / substeps * 1.5 + tol_recursion,
               f"a finer step shrinks the error towards the continuous model; tolerance = 1.5 x the "
               f"monthly discretisation error / {substeps} + {tol_recursion}"),
        within(CASE, f"Bass, {substeps} steps per month: time to F* (months)",
               crossing_time(fine_full, f_star, 1.0 / substeps), t_star, 0.25,
               "the continuous model's peak time ln(q/p)/(p+q)"),
    ]
    data = {"t": t, "runs": runs, "mean": mean, "recursion": recursion, "closed": closed,
            "fine": fine, "substeps": substeps, "p": p, "q": q, "n": n,
            "errors": {"recursion": err_rec, "recursion_n_minus_1": err_rec_nm1,
                       "single_seed": err_single, "closed_form": err_closed,
                       "discretisation": discretisation, "fine_closed_form": err_fine}}
    return CaseResult(checks, data)
