"""What a branch costs against the month it replaces.

    python -m benchmarks.branch                           # 20,000 and 1,000,000 citizens (about 1 min)
    python -m benchmarks.branch --sizes 20000 --write     # and write the table into results.md

For each size, one model (``indonesia`` profile, seed 1) is built and run through its history to the
policy start month (60: 2020-01 to 2025-01); the months of the last year of that history are timed (a
branch saves one such month per month of history). Then the model is branched into the
``comprehensive`` policy (:meth:`sim.model.DigitalAdoptionModel.branch`: a deep copy of state, random
streams, rows and collector) ``--repeats`` times, and one forecast month of a branch is timed too.
Writes the table between ``<!-- BEGIN branch -->`` / ``<!-- END branch -->`` with ``--write``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import statistics
import time
from dataclasses import replace
from typing import Any

from benchmarks.run import _load, machine, write_block
from sim.config import compose, policy_start_month
from sim.model import DigitalAdoptionModel

DEFAULT_SIZES = (20_000, 1_000_000)


def measure(n: int, repeats: int) -> dict[str, Any]:
    quiet = {"population.n_citizens": n, "seed": 1}
    trunk_cfg = replace(compose(policy="baseline", overrides=quiet), progress=False,
                        materialise_agents="never")
    branch_cfg = replace(compose(policy="comprehensive", overrides=quiet), progress=False,
                         materialise_agents="never")
    start = policy_start_month(trunk_cfg)
    clock = time.perf_counter()
    model = DigitalAdoptionModel(config=trunk_cfg)
    setup = time.perf_counter() - clock
    months = []
    while model.month < start:
        clock = time.perf_counter()
        model.step()
        months.append(time.perf_counter() - clock)
    branches = []
    for _ in range(repeats):
        clock = time.perf_counter()
        branch = model.branch(branch_cfg)
        branches.append(time.perf_counter() - clock)
        del branch
    branch = model.branch(branch_cfg)
    forecast = []
    for _ in range(3):
        clock = time.perf_counter()
        branch.step()
        forecast.append(time.perf_counter() - clock)
    month = statistics.mean(months[-12:])
    cost = statistics.median(branches)
    return {"n": n, "setup": setup, "history_months": start, "month": month,
            "forecast_month": statistics.median(forecast), "branch": cost, "branch_min": min(branches),
            "ratio": cost / month, "history": setup + sum(months)}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| citizens | setup s | history month ms (last 12) | forecast month ms | branch ms, median "
             "(min) | branch / month | history (setup + 60 months) s | branch / history |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        branch = f"{r['branch'] * 1e3:.1f} ({r['branch_min'] * 1e3:.1f})"
        lines.append(f"| {r['n']:,} | {r['setup']:.2f} | {r['month'] * 1e3:.1f} | "
                     f"{r['forecast_month'] * 1e3:.1f} | {branch} | {r['ratio']:.2f} | {r['history']:.1f} | "
                     f"{r['branch'] / r['history']:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated numbers of citizens")
    parser.add_argument("--repeats", type=int, default=5, help="branches timed per size")
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/results.md")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    before = _load()
    rows = [measure(int(s), args.repeats) for s in args.sizes.split(",")]
    info = machine()
    text = "\n".join([
        f"Measured {_dt.datetime.now().isoformat(timespec='seconds')} with `python -m benchmarks.branch "
        f"--sizes {args.sizes} --repeats {args.repeats}` (`indonesia` profile, seed 1, history under "
        "`baseline`, branches into `comprehensive`).",
        "",
        f"- Machine: {info['cpu']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) before: {before}; after: {_load()}.",
        "",
        table(rows),
    ])
    print(text)
    if args.write:
        write_block("branch", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
