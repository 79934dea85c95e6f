"""What the mechanisms imply: trust's spread, a mandate's first months, what remains after spending
stops, and which mechanism each lever's effect runs through. Reported, with one scored check.

* **Trust** in the baseline: mean, standard deviation and the richest-poorest gap at the start and
  the end (Friedkin-Johnsen anchoring should keep differences; plain averaging would erase them).
* **Mandate**: a digital-first mandate from ``mandate_month``; its effect on adoption in each of the
  three months after it starts, paired by seed against the baseline. Scored: a requirement to use
  the digital channel must raise its use, so the mean effect over those three months must be
  positive with a paired interval excluding 0.
* **Persistence**: training and infrastructure with spending stopped at ``end_month``: the effect at
  the stop, 36 months later (or at the horizon), and the effect of spending all the way.
* **Channels**: each lever's effect on final adoption, and the share of it that disappears when one
  mechanism is switched off in both arms (effect - effect with the mechanism off) / effect. Shares
  need not add to 1: mechanisms interact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.validation.runner import RunSpec, run_summaries
from experiments.validation.scoring import CaseResult, paired_effect, signed_effect_check
from sim import metrics

CASE = "mechanics"
# Lever scenario -> the mechanism switches its effect can run through.
CHANNELS: dict[str, tuple[str, ...]] = {
    "training": ("training", "resistance_dynamics", "trust_dynamics"),
    "infrastructure": ("infrastructure",),
    "literacy": ("ease_of_use",),
    "coproduction": ("coproduction", "trust_dynamics"),
    "transparency": ("trust_dynamics",),
    "leadership": ("resistance_dynamics",),
    "outreach": (),
}
PERSISTENCE_LEVERS = ("training", "infrastructure")
SERIES = ("adoption", "trust_mean", "trust_sd", "gap_trust_income_q5_q1")


def _pp(e: Any) -> str:
    return f"{e.mean * 100:+.2f} [{e.low * 100:+.2f}, {e.high * 100:+.2f}]"


def mechanics_case(n: int, seeds: list[int], steps: int, mandate_month: int, end_month: int,
                   confidence: float = 0.95, n_jobs: int = 1, progress: bool = True,
                   cache: dict | None = None) -> CaseResult:
    def specs(policy: str, overrides: dict[str, Any] | None = None) -> list[RunSpec]:
        return [RunSpec.make(n, s, steps, policy=policy, overrides=overrides, series=SERIES)
                for s in seeds]

    plan: dict[str, list[RunSpec]] = {"baseline": specs("baseline"),
                                      "mandate": specs("baseline", {"policy.mandate.start_month":
                                                                    mandate_month})}
    for lever in PERSISTENCE_LEVERS:
        plan[f"{lever}|end"] = specs(lever, {"policy.end_month": end_month})
    for lever, mechanisms in CHANNELS.items():
        plan[lever] = specs(lever)
        for m in mechanisms:
            plan[f"{lever}|off|{m}"] = specs(lever, {f"mechanisms.{m}": False})
            plan[f"baseline|off|{m}"] = specs("baseline", {f"mechanisms.{m}": False})
    todo = [s for group in plan.values() for s in group]
    done = dict(zip(todo, run_summaries(todo, n_jobs=n_jobs, desc="mechanics", progress=progress,
                                        cache=cache), strict=True))

    def series(key: str, name: str = "adoption") -> np.ndarray:
        return np.array([done[s][f"series:{name}"] for s in plan[key]], dtype=float)

    def final(key: str) -> np.ndarray:
        return series(key)[:, -1]

    base = series("baseline")
    tables: list[dict[str, Any]] = []

    # Trust in the baseline.
    rows = []
    for name in ("trust_mean", "trust_sd", "gap_trust_income_q5_q1"):
        values = series("baseline", name)
        rows.append([metrics.label(name), f"{values[:, 0].mean():.4f}", f"{values[:, -1].mean():.4f}"])
    tables.append({"title": "Trust in the baseline (mean over seeds)",
                   "header": ["quantity", "month 0", f"month {steps}"], "rows": rows})

    # Mandate.
    mandate = series("mandate")
    checks = []
    rows = []
    months = [m for m in range(mandate_month + 1, mandate_month + 4) if m <= steps]
    for m in months:
        rows.append([f"month {m} ({m - mandate_month} after the start)",
                     _pp(paired_effect(mandate[:, m] - base[:, m], confidence))])
    if months:
        first_three = paired_effect((mandate[:, months] - base[:, months]).mean(axis=1), confidence)
        checks.append(signed_effect_check(
            CASE, f"Mandate from month {mandate_month}: adoption in the {len(months)} months after, "
                  "against no mandate", first_three, +1,
            "the non-exempt with access in need must use the digital channel"))
    tables.append({"title": f"Digital-first mandate from month {mandate_month}: effect on adoption, pp "
                            f"(paired {int(confidence * 100)}% interval)",
                   "header": ["month", "effect"], "rows": rows})

    # Persistence after spending stops.
    later = min(end_month + 36, steps)
    rows = []
    for lever in PERSISTENCE_LEVERS:
        stopped, full = series(f"{lever}|end"), series(lever)
        at_stop = paired_effect(stopped[:, end_month] - base[:, end_month], confidence)
        after = paired_effect(stopped[:, later] - base[:, later], confidence)
        whole = paired_effect(full[:, later] - base[:, later], confidence)
        rows.append([lever, _pp(at_stop), _pp(after), _pp(whole),
                     f"{after.mean / whole.mean:.0%}" if whole.mean else "n/a"])
    tables.append({"title": f"Spending stopped at month {end_month}: effect on adoption, pp",
                   "header": ["lever", f"at month {end_month}", f"at month {later}",
                              f"spending throughout, at month {later}", "share kept"], "rows": rows})

    # Channels.
    rows = []
    for lever, mechanisms in CHANNELS.items():
        effect = paired_effect(final(lever) - base[:, -1], confidence)
        shares = []
        for m in mechanisms:
            off = (final(f"{lever}|off|{m}") - final(f"baseline|off|{m}")).mean()
            shares.append(f"{m}: {(effect.mean - off) / effect.mean:.0%}" if effect.mean else f"{m}: n/a")
        rows.append([lever, _pp(effect), "; ".join(shares) or "awareness (no switch: the only channel)"])
    tables.append({"title": "Channels: effect on final adoption, pp, and the share lost when one "
                            "mechanism is off in both arms",
                   "header": ["lever", "effect", "share through each mechanism"], "rows": rows})
    data = {"tables": tables, "n": n, "seeds": list(seeds), "steps": steps,
            "mandate_month": mandate_month, "end_month": end_month}
    return CaseResult(checks, data)
