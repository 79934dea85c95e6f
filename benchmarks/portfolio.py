"""What a portfolio of services costs a month: ``portfolio=indonesia`` against the one general service.

    python -m benchmarks.portfolio --sizes 100000,1000000 --repeats 2

Each size runs both portfolios (alternating, ``repeats`` times) to month 36, then times the 12 months
after it (the digital identity, with its in-person step, is live from month 36); prints the best
month of each and their ratio.
"""

from __future__ import annotations

import argparse
import time

from sim.config import compose
from sim.model import DigitalAdoptionModel

WARM_MONTHS = 36
TIMED_MONTHS = 12


def month_ms(portfolio: str, n: int) -> float:
    """Mean wall time of one month (ms) over the timed months."""
    cfg = compose(portfolio=portfolio, overrides={
        "population.n_citizens": n, "steps": WARM_MONTHS + TIMED_MONTHS, "progress": False, "seed": 1,
        "materialise_agents": "never"})
    model = DigitalAdoptionModel(config=cfg)
    for _ in range(WARM_MONTHS):
        model.step()
    start = time.perf_counter()
    for _ in range(TIMED_MONTHS):
        model.step()
    return (time.perf_counter() - start) / TIMED_MONTHS * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print("| citizens | general: ms / month (best) | indonesia: ms / month (best) | ratio |")
    print("|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        times: dict[str, list[float]] = {"general": [], "indonesia": []}
        for _ in range(args.repeats):
            for portfolio in times:
                times[portfolio].append(month_ms(portfolio, n))
        best = {k: min(v) for k, v in times.items()}
        print(f"| {n:,} | {best['general']:.1f} | {best['indonesia']:.1f} | "
              f"{best['indonesia'] / best['general']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
