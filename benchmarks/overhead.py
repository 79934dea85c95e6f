"""The runner's per-run overhead in the main job's setting: what one seed costs beyond the model.

    python -m benchmarks.overhead                 # 3 seeds, prints the table
    python -m benchmarks.overhead --write         # and writes it into benchmarks/results.md

One seed of the main job's scenarios, as a worker runs it (:func:`experiments.engine.runner.simulate_group`:
the history once, then one branch per scenario run to its end and its files built as bytes), with the
main job's settings (``configs/experiment/compare.yaml``: 20,000 citizens, 60 months of history and 60 of
forecast, the Indonesia portfolio, at least 300 agents per province), one thread (``OMP_NUM_THREADS=1``,
as in a worker of a sweep on every core).
Timed with clocks around the three parts, no profiler (cProfile inflates the copy's many small calls),
after :func:`~experiments.engine.runner.prepare_worker` as in a worker. Three seeds or more: Python's
full garbage collections come every few runs and fall in one part or another.
The overhead is the branching and the files as a share of the whole seed, history included.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import os
import time
from dataclasses import dataclass

from omegaconf import OmegaConf

from benchmarks.run import _load, machine, write_block
from experiments.engine.app import APP_CONFIG_DIR
from experiments.engine.runner import prepare_worker
from experiments.engine.settings import CompareConfig, composed, scenario_list
from sim.config import SimConfig, policy_start_month, quiet
from sim.model import DigitalAdoptionModel
from sim.store.files import model_files
from sim.store.provenance import CODE_ROOT, code_version, config_hash


@dataclass
class Seed:
    """Seconds of one seed's parts, summed over its scenarios."""

    scenarios: int
    whole: float
    history: float
    branching: float
    runs: float
    files: float

    @property
    def overhead(self) -> float:
        return (self.branching + self.files) / self.whole


def main_job() -> CompareConfig:
    """The main job's settings as ``make run`` uses them (configs/experiment/compare.yaml)."""
    raw = OmegaConf.load(APP_CONFIG_DIR / "compare.yaml")
    for key in ("defaults", "hydra"):
        raw.pop(key, None)
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(CompareConfig), raw))


def configs(job: CompareConfig, seed: int) -> list[SimConfig]:
    """One seed's config per scenario of the main job, composed as the main job composes them."""
    return [quiet(composed(job, name, {"seed": seed})) for name in scenario_list(job)]


def one_seed(cfgs: list[SimConfig], code: str) -> Seed:
    """Time :func:`~experiments.engine.runner.simulate_group`'s steps for one seed's configs."""
    keys = [config_hash(cfg) for cfg in cfgs]
    start = time.perf_counter()
    trunk = DigitalAdoptionModel(config=cfgs[0])
    while trunk.month < min(policy_start_month(cfgs[0]), cfgs[0].steps):
        trunk.step()
    history = time.perf_counter() - start
    branching = runs = files = 0.0
    for cfg, key in zip(cfgs, keys, strict=True):
        t0 = time.perf_counter()
        model = trunk.branch(cfg)
        t1 = time.perf_counter()
        model.run()
        t2 = time.perf_counter()
        model_files(model, cfg, code, key)
        t3 = time.perf_counter()
        branching, runs, files = branching + t1 - t0, runs + t2 - t1, files + t3 - t2
        del model
    return Seed(len(cfgs), time.perf_counter() - start, history, branching, runs, files)


def table(seeds: list[Seed]) -> str:
    lines = ["| seed | scenarios | whole seed s | history s | run ms (mean) | branch ms (mean) "
             "| files ms (mean) | overhead, share of the seed |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for i, s in enumerate(seeds):
        n = s.scenarios
        lines.append(f"| {i + 1} | {n} | {s.whole:.2f} | {s.history:.2f} | {s.runs / n * 1e3:.1f} | "
                     f"{s.branching / n * 1e3:.1f} | {s.files / n * 1e3:.1f} | {s.overhead:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds to time, one after another")
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/results.md")
    args = parser.parse_args(argv)
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: OMP_NUM_THREADS is not 1; a sweep's workers run with one thread each")
    logging.getLogger("MESA").setLevel(logging.WARNING)
    started, load_before = _dt.datetime.now().isoformat(timespec="seconds"), _load()
    code = code_version()
    prepare_worker(str(CODE_ROOT))  # as a worker does before its first run
    job = main_job()
    one_seed(configs(job, 0)[:2], code)  # warm-up: first-touch caches
    seeds = [one_seed(configs(job, seed + 1), code) for seed in range(args.seeds)]
    info, first = machine(), configs(job, 1)[0]
    text = (f"Measured {started} with `python -m benchmarks.overhead` ({first.population.n_citizens:,} "
            f"citizens, {first.steps} months, {job.portfolio} portfolio, province floor "
            f"{first.population.province_min_share}, every scenario of the main job; "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}).\n\n"
            f"- Machine: {info['cpu']}; {info['software']}.\n"
            f"- Load average before: {load_before}; after: {_load()}.\n\n" + table(seeds))
    print(text)
    if args.write:
        write_block("overhead", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
