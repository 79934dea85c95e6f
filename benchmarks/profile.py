"""Where the time goes: a per-phase breakdown of the month and a pyinstrument profile.

    python -m benchmarks.profile                                # 1 M citizens, 12 months
    python -m benchmarks.profile --sizes 100000,1000000 --write  # into benchmarks/results.md

The phase breakdown times each call the model's ``step`` makes (policy, civil servants, offices,
citizens, trust, ...) and, inside them, the neighbour products, by wrapping those functions for the
duration of the run; the profile is pyinstrument's call tree of the same months (sampling, so it
also shows numpy and scipy internals). Results feed the discussion in ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import sim.model as model_module
from benchmarks.run import MODEL_OVERRIDES
from sim.state import State

PHASES = (
    "follow_trends", "apply_policy", "update_staff", "update_offices", "step_citizens", "update_trust",
    "coproduction_feedback", "depreciate_stocks", "draw_breach", "apply_breach", "observe",
)


@contextmanager
def phase_timers(totals: dict[str, list[float]]):
    """Accumulate wall and CPU seconds per phase (and per neighbour product) while active."""

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name][0] += time.perf_counter() - wall
                totals[name][1] += time.process_time() - cpu

        return wrapper

    saved_phases = {name: getattr(model_module, name) for name in PHASES}
    saved_methods = {name: getattr(State, name) for name in ("neighbour_share", "neighbour_mean")}
    try:
        for name, function in saved_phases.items():
            setattr(model_module, name, timed(name, function))
        for name, function in saved_methods.items():
            setattr(State, name, timed(f"  {name} (inside the above)", function))
        yield totals
    finally:
        for name, function in saved_phases.items():
            setattr(model_module, name, function)
        for name, function in saved_methods.items():
            setattr(State, name, function)


def breakdown(n: int, months: int, policy: str, seed: int) -> str:
    """A text table: milliseconds per month spent in each phase."""
    model = model_module.DigitalAdoptionModel(
        n_citizens=n, policy=policy, seed=seed, steps=months,
        overrides={**MODEL_OVERRIDES, "materialise_agents": "never"},
    )
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    wall, cpu = time.perf_counter(), time.process_time()
    with phase_timers(totals):
        model.run(progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    lines = [f"{n:,} citizens, {months} months, policy {policy}: per month",
             "| phase | wall ms | CPU ms | share of the month |", "|---|---|---|---|"]
    for name, (w, c) in sorted(totals.items(), key=lambda item: -item[1][0]):
        lines.append(f"| {name.strip()} | {w / months * 1e3:.1f} | {c / months * 1e3:.1f} | "
                     f"{w / wall:.0%} |")
    other_wall = wall - sum(totals[name][0] for name in PHASES if name in totals)
    other_cpu = cpu - sum(totals[name][1] for name in PHASES if name in totals)
    lines.append(f"| other (Mesa's DataCollector, bookkeeping) | {other_wall / months * 1e3:.1f} | "
                 f"{other_cpu / months * 1e3:.1f} | {other_wall / wall:.0%} |")
    lines.append(f"| whole month | {wall / months * 1e3:.1f} | {cpu / months * 1e3:.1f} | 100% |")
    return "\n".join(lines)


def profile(n: int, months: int, policy: str, seed: int, setup: bool) -> str:
    from pyinstrument import Profiler

    out = []
    profiler = Profiler(interval=0.001)
    profiler.start()
    model = model_module.DigitalAdoptionModel(
        n_citizens=n, policy=policy, seed=seed, steps=months,
        overrides={**MODEL_OVERRIDES, "materialise_agents": "never"},
    )
    profiler.stop()
    if setup:
        out.append(profiler.output_text(unicode=False, color=False))
    profiler = Profiler(interval=0.001)
    profiler.start()
    model.run(progress=False)
    profiler.stop()
    out.append(profiler.output_text(unicode=False, color=False))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated numbers of citizens")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--policy", default="comprehensive")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile-setup", action="store_true", help="also profile the setup")
    parser.add_argument("--no-profile", action="store_true", help="phase breakdown only")
    parser.add_argument("--write", action="store_true",
                        help="write the breakdowns (and the largest size's call tree, trimmed) into "
                             "the 'profile' block of benchmarks/results.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    parts = []
    for n in sizes:
        parts.append(breakdown(n, args.months, args.policy, args.seed))
        print(parts[-1], end="\n\n", flush=True)
    tree = ""
    if not args.no_profile:
        tree = profile(sizes[-1], args.months, args.policy, args.seed, args.profile_setup)
        print(tree)
    if args.write:
        from benchmarks.run import write_block

        command = " ".join(["python -m benchmarks.profile", *(sys.argv[1:] if argv is None else argv)])
        text = [f"Measured {_dt.datetime.now().isoformat(timespec='seconds')} with `{command}`.", ""]
        for part in parts:
            head, *table = part.splitlines()
            text += [f"**{head}**", "", *table, ""]
        if tree:
            lines = [line for line in tree.splitlines() if line.strip()]
            start = next((i for i, line in enumerate(lines) if "DigitalAdoptionModel.run" in line), 0)
            text += [f"pyinstrument call tree, {sizes[-1]:,} citizens ({args.months} months, trimmed):",
                     "", "```", *lines[start:start + 40], "```"]
        write_block("profile", "\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
