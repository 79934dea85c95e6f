"""The validation cases, each a function returning its checks (rows) and the data for its figure.

Every case runs the model's own code: the reduced forms are chosen by config
(``params.adoption.rule=bass|threshold``, ``network=mean_field|random``) and built by
:class:`sim.model.DigitalAdoptionModel`; the Watts case, which needs a thousand realisations, builds one
model per mean degree and then draws a fresh Erdos-Renyi graph (:func:`sim.networks.erdos_renyi`) and
seed for each realisation, running the model's rule function
(:func:`sim.rules.adoption.step_reduced_form`) on the model's state until nothing changes.

A check is a dict: ``case``, ``measured``, ``expected``, ``tolerance``, ``pass`` and a ``note``
(``status`` says whether a value is within tolerance or its difference is explained).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from experiments.validation_theory import (
    bass_closed_form,
    bass_peak_time,
    bass_recursion,
    cascade_probability,
    cascade_window,
)
from sim.config import AGE_BANDS, REGIONS
from sim.metrics import group_shares
from sim.model import DigitalAdoptionModel
from sim.networks import degrees, erdos_renyi
from sim.population import consistent_age_targets
from sim.rules.adoption import step_reduced_form
from sim.state import NON_USER, USER, State

logging.getLogger("MESA").setLevel(logging.WARNING)

Check = dict[str, Any]


def check(case: str, measured: float, expected: float, tolerance: float, note: str = "",
          passed: bool | None = None, status: str | None = None) -> Check:
    """One validation row; passes when |measured - expected| <= tolerance unless told otherwise."""
    within = bool(abs(measured - expected) <= tolerance + 1e-12)
    ok = within if passed is None else bool(passed)
    return {
        "case": case,
        "measured": float(measured),
        "expected": float(expected),
        "tolerance": float(tolerance),
        "pass": ok,
        "status": status or ("within tolerance" if within else ("explained" if ok else "fail")),
        "note": note,
    }


def serial(fn: Callable[..., Any], args: list[tuple]) -> list[Any]:
    """Run ``fn(*a)`` for each argument tuple, in order (the default runner)."""
    return [fn(*a) for a in args]


def _model(n: int, seed: int, steps: int, network: str = "homophilous", policy: str = "baseline",
           **overrides: Any) -> DigitalAdoptionModel:
    return DigitalAdoptionModel(
        n_citizens=n, network=network, policy=policy, steps=steps, seed=seed,
        overrides={"materialise_agents": "never", "progress": False, **overrides},
    )


# --------------------------------------------------------------------------- Bass
def bass_runs(n: int, p: float, q: float, months: int, seeds: list[int], substeps: int = 1) -> np.ndarray:
    """Adoption share per step (rows: seeds) of the mean-field Bass reduced form.

    With ``substeps`` > 1 the model runs ``substeps`` steps per month at p / substeps and q / substeps
    (a finer time step); the series then has ``months * substeps + 1`` points.
    """
    curves = []
    for seed in seeds:
        model = _model(
            n, seed, months * substeps, network="mean_field",
            **{"params.adoption.rule": "bass", "params.adoption.p": p / substeps,
               "params.adoption.q": q / substeps, "params.adoption.initial_adopters": 0},
        ).run(progress=False)
        curves.append(np.array([row["adoption"] for row in model.rows]))
    return np.vstack(curves)


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
              tol_recursion: float, tol_closed_form: float) -> tuple[list[Check], dict[str, Any]]:
    t = np.arange(months + 1)
    runs = bass_runs(n, p, q, months, seeds)
    mean = runs.mean(axis=0)
    recursion = bass_recursion(p, q, months)
    recursion_nm1 = bass_recursion(p, q, months, n=n)
    closed = bass_closed_form(p, q, t)
    fine_full = bass_runs(n, p, q, months, seeds[:2], substeps=substeps).mean(axis=0)
    fine = fine_full[::substeps]
    err_rec = float(np.max(np.abs(mean - recursion)))
    err_rec_nm1 = float(np.max(np.abs(mean - recursion_nm1)))
    err_single = float(np.max(np.abs(runs - recursion)))
    err_closed = float(np.max(np.abs(mean - closed)))
    discretisation = float(np.max(np.abs(recursion - closed)))
    err_fine = float(np.max(np.abs(fine - closed)))
    label = f"Bass mean field, p={p}, q={q}, {n:,} citizens, {len(seeds)} seeds"
    t_star = bass_peak_time(p, q)
    f_star = (q - p) / (2 * q)
    rows = [
        check(f"{label}: max |mean adoption - discrete Bass recursion|", err_rec, 0.0, tol_recursion,
              f"over months 0-{months}; largest single-seed error {err_single:.4f}; against the "
              f"recursion with the others-only share n/(n-1): {err_rec_nm1:.4f}"),
        check(f"{label}: max |mean adoption - closed form F(t)|", err_closed, discretisation,
              tol_closed_form,
              f"expected = the discretisation error of monthly steps, max |recursion - F(t)| = "
              f"{discretisation:.4f} (month {int(np.argmax(np.abs(recursion - closed)))})"),
        check(f"{label}: time to the peak-rate level F* = (q-p)/2q (months)",
              crossing_time(mean, f_star, 1.0), crossing_time(recursion, f_star, 1.0), 0.1,
              f"F* = {f_star:.4f}, where the continuous model's adoption rate peaks, at "
              f"t* = ln(q/p)/(p+q) = {t_star:.2f}; expected: the discrete recursion's crossing"),
        check(f"Bass, {substeps} steps per month (p/{substeps}, q/{substeps}), {len(seeds[:2])} seeds: "
              "max |adoption - "
              "F(t)|", err_fine, 0.0, discretisation / substeps * 1.5 + tol_recursion,
              f"a finer time step shrinks the error towards the continuous model; tolerance = 1.5 x "
              f"the monthly discretisation error / {substeps} + {tol_recursion}"),
        check(f"Bass, {substeps} steps per month: time to F* (months)",
              crossing_time(fine_full, f_star, 1.0 / substeps), t_star, 0.25,
              "the continuous model's peak time ln(q/p)/(p+q)"),
    ]
    data = {"t": t, "runs": runs, "mean": mean, "recursion": recursion, "closed": closed,
            "fine": fine, "substeps": substeps, "p": p, "q": q, "n": n,
            "errors": {"recursion": err_rec, "recursion_n_minus_1": err_rec_nm1,
                       "single_seed": err_single, "closed_form": err_closed,
                       "discretisation": discretisation, "fine_closed_form": err_fine}}
    return rows, data


# --------------------------------------------------------------------------- Granovetter
def granovetter_adopters(thresholds: list[float], seed: int = 0) -> tuple[int, list[float]]:
    """Final number of adopters (and the adoption path) with explicit thresholds, mean field."""
    n = len(thresholds)
    model = _model(
        n, seed, n + 5, network="mean_field",
        **{"params.adoption.rule": "threshold", "params.adoption.thresholds": list(thresholds),
           "params.adoption.initial_adopters": 0},
    ).run(progress=False)
    users = int(np.sum(model.state.citizens.state == USER))
    return users, [row["adoption"] * n for row in model.rows]


def granovetter_case(n: int = 100) -> tuple[list[Check], dict[str, Any]]:
    uniform = [j / n for j in range(n)]
    perturbed = list(uniform)
    perturbed[1] = 2 / n  # the second-lowest threshold raised by one person
    full, path_full = granovetter_adopters(uniform)
    one, path_one = granovetter_adopters(perturbed)
    rows = [
        check(f"Granovetter riot, {n} agents, thresholds 0, 1/{n}, ..., {n - 1}/{n} of the others: "
              "adopters", full, n, 0, "everyone joins, one more each month"),
        check("Granovetter riot, second-lowest threshold raised by one: adopters", one, 1, 0,
              "only the instigator joins"),
    ]
    return rows, {"uniform": path_full, "perturbed": path_one, "n": n}


# --------------------------------------------------------------------------- Watts
def run_to_fixed_point(state: State, params: Any, rng: np.random.Generator, max_steps: int) -> int:
    """Apply the model's reduced-form rule until nobody else adopts; returns the adopter count."""
    count = int(np.sum(state.citizens.state == USER))
    for _ in range(max_steps):
        step_reduced_form(state, params, rng)
        new = int(np.sum(state.citizens.state == USER))
        if new == count:
            break
        count = new
    return count


def watts_cascade_sizes(n: int, mean_degree: float, phi: float, realisations: int,
                        seed: int) -> np.ndarray:
    """Final adopter shares from one random initial adopter, one fresh graph per realisation.

    The first realisation is the model exactly as built from config (``network=random``,
    ``params.adoption.rule=threshold``, ``initial_adopters=1``); the others reuse its state with a
    new Erdos-Renyi graph and a new seed node.
    """
    model = _model(
        n, seed, 1, network="random",
        **{"network.mean_degree": mean_degree, "params.adoption.rule": "threshold",
           "params.adoption.threshold": phi, "params.adoption.threshold_sd": 0.0,
           "params.adoption.initial_adopters": 1},
    )
    state, params = model.state, model.cfg.params.adoption
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(round(mean_degree * 1000))]))
    sizes = np.empty(realisations)
    for r in range(realisations):
        if r > 0:
            state.adjacency = erdos_renyi(n, mean_degree, rng)
            state.degree = degrees(state.adjacency, n)
            state.citizens.state = np.full(n, NON_USER, dtype=np.int8)
            state.citizens.state[rng.integers(n)] = USER
        sizes[r] = run_to_fixed_point(state, params, rng, max_steps=n) / n
    return sizes


def watts_case(n: int, mean_degrees: list[float], phi: float, realisations: int, global_share: float,
               seed: int, edge_margin: float, tolerance: float,
               runner: Callable[..., list[np.ndarray]] | None = None) -> tuple[list[Check], dict[str, Any]]:
    """Frequency of global cascades per mean degree against the analytic window and probability.

    A cascade is global when it reaches more than ``global_share`` of the nodes. Within
    ``edge_margin`` of an analytic window edge finite graphs are known to differ from the infinite
    limit (the simulated upper edge lies above the analytic one; Watts 2002, Whitney), so those
    degrees are reported but not scored.
    """
    args = [(n, z, phi, realisations, seed) for z in mean_degrees]
    sizes = (runner or serial)(watts_cascade_sizes, args)
    lo, hi = cascade_window(phi)
    rows: list[Check] = []
    freq, freq_1pct, expected, mean_size = [], [], [], []
    for z, s in zip(mean_degrees, sizes, strict=True):
        f = float(np.mean(s > global_share))
        e = cascade_probability(z, phi)
        freq.append(f)
        freq_1pct.append(float(np.mean(s > 0.01)))
        expected.append(e)
        big = s[s > global_share]
        mean_size.append(float(big.mean()) if big.size else 0.0)
        se = float(np.sqrt(max(e * (1 - e), 0.25 / realisations) / realisations))
        tol = tolerance + 3 * se
        near_edge = min(abs(z - lo), abs(z - hi)) < edge_margin
        inside = lo < z < hi
        note = (f"{realisations} realisations; analytic window z in ({lo:.2f}, {hi:.2f}): "
                f"{'inside' if inside else 'outside'}; mean size of global cascades "
                f"{mean_size[-1]:.2f}; share of cascades > 1%: {freq_1pct[-1]:.2f}")
        if near_edge:
            within = abs(f - e) <= tol
            rows.append(check(
                f"Watts cascades, phi={phi}, z={z:g}: frequency of global cascades", f, e, tol,
                note + "; within the finite-size margin of a window edge: reported, not scored",
                passed=True, status="within tolerance" if within else "explained (finite size)"))
        else:
            rows.append(check(f"Watts cascades, phi={phi}, z={z:g}: frequency of global cascades",
                              f, e, tol, note))
    seen = [z for z, f in zip(mean_degrees, freq, strict=True) if f > 0.05]
    step = float(np.min(np.diff(sorted(mean_degrees)))) if len(mean_degrees) > 1 else 1.0
    for edge, analytic, name in ((0, lo, "lower"), (-1, hi, "upper")):
        if seen:
            rows.append(check(
                f"Watts cascades, phi={phi}: {name} edge of the simulated window (global cascades in "
                "more than 5% of realisations)", seen[edge], analytic, step + edge_margin,
                f"analytic window ({lo:.2f}, {hi:.2f}); tolerance = grid step {step:g} + finite-size "
                f"margin {edge_margin:g}"))
        else:
            rows.append(check(f"Watts cascades, phi={phi}: {name} edge of the simulated window",
                              float("nan"), analytic, step + edge_margin, "no global cascades at all",
                              passed=False))
    data = {"z": list(mean_degrees), "freq": freq, "freq_1pct": freq_1pct, "expected": expected,
            "mean_size": mean_size, "window": (lo, hi), "phi": phi, "n": n,
            "realisations": realisations, "global_share": global_share}
    return rows, data


# --------------------------------------------------------------------------- Indonesia
APJII_2024 = {
    "national": 0.795,
    "urban": 0.822,
    "rural": 0.740,
    "region": [0.8364, 0.7734, 0.7742, 0.6835, 0.7180, 0.6991],
    "age": [0.8702, 0.9317, 0.8369, 0.6052],  # Gen Z, Millennials, Gen X, Boomers
}
IMDI_2024 = 0.4334
CENSUS_2020_REGION_SHARES = [0.5610, 0.2168, 0.0615, 0.0736, 0.0554, 0.0317]


def indonesia_case(n: int, seed: int, tolerance_pp: float) -> tuple[list[Check], dict[str, Any]]:
    """The indonesia profile's initial state against the published marginals."""
    model = _model(n, seed, 1)
    c = model.state.citizens
    pop = model.cfg.population
    tol = tolerance_pp / 100
    rows: list[Check] = []
    measured: dict[str, float] = {}

    def se(share: float, count: int) -> str:
        return f"sampling s.e. {np.sqrt(share * (1 - share) / max(count, 1)) * 100:.2f} pp"

    national = float(c.access.mean())
    implied = float(np.dot(pop.region_shares, pop.access_by_region))
    measured["national"] = national
    rows.append(check(
        "Indonesia t=0: internet access, national (APJII 2024, 79.5%)", national, APJII_2024["national"],
        tol, f"the island-group figures imply {implied:.4f} nationally; {se(national, n)}"))
    reg = group_shares(c.access, c.region, len(REGIONS))
    counts = np.bincount(c.region, minlength=len(REGIONS))
    for i, name in enumerate(REGIONS):
        measured[f"region:{name}"] = float(reg[i])
        rows.append(check(f"Indonesia t=0: internet access, {name} (APJII 2024)", reg[i],
                          APJII_2024["region"][i], tol, se(reg[i], counts[i])))
    ur = group_shares(c.access, c.urban.astype(np.int64), 2)
    n_urban = int(c.urban.sum())
    urban_national = 0.58 * APJII_2024["urban"] + 0.42 * APJII_2024["rural"]
    inconsistency = (f"the urban/rural figures imply {urban_national:.4f} nationally at 58% urban, "
                     f"the island-group figures {implied:.4f}: raking to both splits the difference")
    for label, value, target, count in (("urban", ur[1], APJII_2024["urban"], n_urban),
                                        ("rural", ur[0], APJII_2024["rural"], n - n_urban)):
        measured[label] = float(value)
        rows.append(check(f"Indonesia t=0: internet access, {label} (APJII 2024)", value, target, tol,
                          f"{inconsistency}; {se(value, count)}"))
    age = group_shares(c.access, c.age_band, len(AGE_BANDS))
    shifted = consistent_age_targets(pop)
    raw_national = float(np.dot(pop.age_shares, APJII_2024["age"]))
    for i, band in enumerate(AGE_BANDS):
        measured[f"age:{band}"] = float(age[i])
        within = abs(age[i] - APJII_2024["age"][i]) <= tol
        explained = abs(age[i] - shifted[i]) <= tol
        rows.append(check(
            f"Indonesia t=0: internet access, age {band} (APJII 2024 by generation)", age[i],
            APJII_2024["age"][i], tol,
            f"raw APJII generation figures average {raw_national:.4f} at the profile's age shares, "
            f"above the {implied:.4f} implied by the island groups; the model shifts all four by one "
            f"logit offset to {shifted[i]:.4f} (target met within {abs(age[i] - shifted[i]) * 100:.2f} "
            f"pp), keeping the age gradient",
            passed=within or explained,
            status="within tolerance" if within else ("explained" if explained else "fail")))
    lit = float(c.literacy.mean())
    measured["literacy"] = lit
    rows.append(check("Indonesia t=0: mean digital literacy (IMDI 2024, 43.34/100)", lit, IMDI_2024, tol,
                      "the literacy intercept is solved for this mean"))
    lit_region = [float(v) for v in (np.bincount(c.region, weights=c.literacy, minlength=len(REGIONS))
                                     / np.maximum(counts, 1))]
    shares = counts / n
    for i, name in enumerate(REGIONS):
        rows.append(check(f"Indonesia t=0: population share, {name} (Census 2020)", shares[i],
                          CENSUS_2020_REGION_SHARES[i], tol, "an input, drawn at random"))
    rows.append(check("Indonesia t=0: urban population share (BPS projection, 58%)", c.urban.mean(),
                      pop.urban_share, tol, "an input, drawn at random"))
    data = {"measured": measured, "shifted_age": [float(v) for v in shifted], "n": n,
            "literacy_by_region": lit_region, "implied_national": implied}
    return rows, data


# --------------------------------------------------------------------------- factor ablation
FACTORS = [
    ("F1", "resistance_dynamics", "internal resistance in the bureaucracy"),
    ("F2", "coproduction", "co-production"),
    ("F3", "ease_of_use", "user-friendly, accessible platforms"),
    ("F4", "infrastructure", "infrastructure and data security"),
    ("F5", "training", "training of civil servants"),
    ("F6", "trust_dynamics", "transparency and public trust"),
]
OUTCOMES = [
    ("adoption_final", "final adoption"),
    ("gap_urban_rural", "urban-rural gap"),
    ("gap_income_q5_q1", "richest-poorest gap"),
    ("gap_region_max_min", "island-group gap"),
    ("gap_age_young_old", "young-old gap"),
    ("gap_literacy_t3_t1", "literacy gap"),
    ("concentration_index", "concentration index"),
]
# Reported beside the scored outcomes, not scored: what F6 acts on first, and the security lottery.
CONTEXT_OUTCOMES = [
    ("trust_change", "trust change"),
    ("breaches_total", "breaches"),
]


def _ratio(effect: float, spread: float) -> float:
    """|effect| in units of the seed-to-seed spread (inf for an effect where there is no spread)."""
    if spread > 0:
        return abs(effect) / spread
    return float("inf") if effect != 0 else 0.0


def ablation_run(n: int, seed: int, steps: int, policy: str, switch_off: str | None,
                 extra: dict[str, Any] | None = None) -> dict[str, float]:
    overrides = dict(extra or {})
    if switch_off is not None:
        overrides[f"mechanisms.{switch_off}"] = False
    model = _model(n, seed, steps, policy=policy, **overrides).run(progress=False)
    summary = model.summary()
    return {key: float(summary[key]) for key, _ in OUTCOMES + CONTEXT_OUTCOMES}


def ablation_case(n: int, seeds: list[int], steps: int, policy: str,
                  runner: Callable[..., list[dict[str, float]]] | None = None,
                  extra: dict[str, Any] | None = None, label: str = "Ablation"
                  ) -> tuple[list[Check], dict[str, Any]]:
    """Switch each factor's mechanism off in turn; compare with all mechanisms on, seed by seed.

    The seed-to-seed spread is the standard deviation across seeds of the all-on run. A factor is
    at work when switching it off moves final adoption or at least one equity gap by more than that
    spread (mean over seeds of the paired difference, same seed with and without the mechanism).
    """
    variants: list[str | None] = [None] + [name for _, name, _ in FACTORS]
    args = [(n, seed, steps, policy, v, extra) for v in variants for seed in seeds]
    results = (runner or serial)(ablation_run, args)
    table = {v: results[i * len(seeds):(i + 1) * len(seeds)] for i, v in enumerate(variants)}
    everything = OUTCOMES + CONTEXT_OUTCOMES
    base = {key: np.array([r[key] for r in table[None]]) for key, _ in everything}
    spread = {key: float(np.std(base[key], ddof=1)) if len(seeds) > 1 else 0.0 for key, _ in everything}
    effects = []
    for code, name, title in FACTORS:
        row: dict[str, Any] = {"factor": code, "mechanism": name, "title": title}
        best_ratio, best_key = 0.0, OUTCOMES[0][0]
        for key, _ in everything:
            off = np.array([r[key] for r in table[name]])
            diff = off - base[key]
            effect = float(diff.mean())
            ratio = _ratio(effect, spread[key])
            row[key] = effect
            row[f"{key}_paired_sd"] = float(np.std(diff, ddof=1)) if len(seeds) > 1 else 0.0
            row[f"{key}_ratio"] = ratio
            if key in dict(OUTCOMES) and ratio > best_ratio:
                best_ratio, best_key = ratio, key
        row["largest_ratio"] = best_ratio
        row["largest_outcome"] = best_key
        effects.append(row)
    effects.sort(key=lambda r: abs(r["adoption_final"]), reverse=True)
    labels = dict(OUTCOMES)
    rows: list[Check] = []
    for rank, row in enumerate(effects, start=1):
        key = row["largest_outcome"]
        rows.append(check(
            f"{label} {row['factor']} ({row['mechanism']}=false), {policy} policy: largest |effect| / "
            f"seed spread", row["largest_ratio"], 1.0, 0.0,
            f"rank {rank} by effect on final adoption ({row['adoption_final'] * 100:+.2f} pp, spread "
            f"{spread['adoption_final'] * 100:.2f} pp); largest on {labels[key]}: {row[key]:+.4f} vs "
            f"spread {spread[key]:.4f}",
            passed=row["largest_ratio"] > 1.0,
            status="exceeds spread" if row["largest_ratio"] > 1.0 else "fail"))
    base_mean = {key: float(base[key].mean()) for key, _ in everything}
    data = {"effects": effects, "spread": spread, "base_mean": base_mean, "n": n,
            "seeds": list(seeds), "steps": steps, "policy": policy, "extra": dict(extra or {}),
            "label": label}
    return rows, data
