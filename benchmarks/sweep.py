"""What a sweep costs beyond the model: the runner's per-run overhead and runs per core-hour.

    python -m benchmarks.sweep                     # 10,000 citizens x 60 months (about 3 min on 2 cores)
    python -m benchmarks.sweep --runs 40 --citizens 10000 --months 60

Four measurements of the same runs (policy ``comprehensive``, seeds 0, 1, ...; every lever spends):

1. *model*: the model alone, in this process (build, run, summary, timeseries), one run after another;
2. *runner, basic*: :func:`experiments.engine.runner.run_configs` with the basic launcher in this process, so
   the difference from 1 is the runner's own work per run (config hash, checks, serialising, writing
   the run folder and the dataset part atomically, the resume check); 1 and 2 alternate for
   ``--rounds`` rounds and the best round of each counts; because that difference is small against
   the noise of a shared machine, the runner's own work is also timed directly on its own;
3. *runner, joblib*: the same on every local core (worker start-up included), from which runs per
   core-hour follow;
4. *before*: the former way, a Hydra multirun of ``python -m sim -m`` with the joblib launcher in a
   subprocess (what ``experiments/sweep.py`` used to start), also on every local core.

Writes the table into ``benchmarks/results.md`` between ``<!-- BEGIN sweep -->`` / ``<!-- END sweep -->``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.run import _load, machine, write_block
from experiments.engine.runner import _write, resolve_jobs, run_configs, run_problem, tasks_for
from sim.config import SimConfig, compose
from sim.model import DigitalAdoptionModel
from sim.store.files import run_files
from sim.store.provenance import code_version

REPO = Path(__file__).resolve().parent.parent


def configs(n_runs: int, citizens: int, months: int) -> list[SimConfig]:
    base = compose(policy="comprehensive", population="indonesia",
                   overrides={"population.n_citizens": citizens, "steps": months})
    base = replace(base, progress=False, materialise_agents="never")
    return [replace(base, seed=seed) for seed in range(n_runs)]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def model_alone(cfgs: list[SimConfig]) -> tuple[float, float]:
    """Wall and CPU seconds per run of the model alone."""
    wall, cpu = _clock()
    for cfg in cfgs:
        model = DigitalAdoptionModel(config=cfg).run()
        model.summary()
        model.timeseries()
    return (time.perf_counter() - wall) / len(cfgs), (time.process_time() - cpu) / len(cfgs)


def runner_work(cfgs: list[SimConfig]) -> float:
    """Seconds per run of the runner's own work, timed directly (no model time in it, so no noise
    from other work on the machine): identity, the resume check, the run's files, writing them."""
    model = DigitalAdoptionModel(config=cfgs[0]).run()
    summary, timeseries = model.summary(), model.timeseries()
    code = code_version()
    with tempfile.TemporaryDirectory(prefix="bench-work-") as tmp:
        out = Path(tmp)
        wall = time.perf_counter()
        for task in tasks_for(cfgs):
            run_problem(out, task)
            _write(out, task, run_files(summary, timeseries, task.cfg, code, task.key))
        return (time.perf_counter() - wall) / len(cfgs)


def runner(cfgs: list[SimConfig], launcher: str, jobs: int) -> float:
    """Wall seconds of the whole sweep through the runner, into a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        wall = time.perf_counter()
        run_configs(cfgs, out, launcher=launcher, n_jobs=jobs, progress=False)
        return time.perf_counter() - wall


def hydra_multirun(n_runs: int, citizens: int, months: int, jobs: int) -> float:
    """Wall seconds of the same sweep as a ``python -m sim -m`` joblib multirun in a subprocess."""
    with tempfile.TemporaryDirectory(prefix="bench-multirun-") as out:
        cmd = [sys.executable, "-m", "sim", "-m", "policy=comprehensive", f"population.n_citizens={citizens}",
               f"steps={months}", "progress=false", "materialise_agents=never",
               "seed=" + ",".join(str(s) for s in range(n_runs)), "hydra/launcher=joblib",
               f"hydra.launcher.n_jobs={jobs}", f"hydra.sweep.dir={out}/sweep"]
        wall = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
        return time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=24, help="runs per sweep")
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of model alone / runner")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    jobs = resolve_jobs(-1)
    started, load_before = _dt.datetime.now().isoformat(timespec="seconds"), _load()
    cfgs = configs(args.runs, args.citizens, args.months)
    model_alone(cfgs[:2])  # warm-up: imports, first-touch caches
    # the model alone and through the runner in alternation, best of the rounds for each: on a
    # machine shared with other work the minimum is the measurement least disturbed by it
    rounds = [(model_alone(cfgs), runner(cfgs, "basic", 1) / len(cfgs)) for _ in range(args.rounds)]
    model_wall, model_cpu = min(r[0] for r in rounds)
    basic = min(r[1] for r in rounds)
    work = runner_work(cfgs)
    joblib_wall = runner(cfgs, "joblib", jobs)
    before_wall = hydra_multirun(args.runs, args.citizens, args.months, jobs)

    def per_core_hour(wall: float) -> float:
        return len(cfgs) / (wall * jobs / 3600)

    overhead = (basic - model_wall) / model_wall
    rows = [
        ("model alone (in process, serial)", f"{model_wall:.3f}", f"{3600 / model_wall:,.0f}", "-"),
        ("runner, basic (in process, serial)", f"{basic:.3f}", f"{3600 / basic:,.0f}", f"{overhead:+.1%}"),
        ("runner's own work alone, timed directly", f"{work:.4f}", "-", f"+{work / model_wall:.1%}"),
        (f"runner, joblib ({jobs} workers)", f"{joblib_wall * jobs / len(cfgs):.3f}",
         f"{per_core_hour(joblib_wall):,.0f}", "-"),
        (f"before: `python -m sim -m` joblib multirun ({jobs} workers)",
         f"{before_wall * jobs / len(cfgs):.3f}", f"{per_core_hour(before_wall):,.0f}", "-"),
    ]
    sweep_10k = 10_000 / per_core_hour(joblib_wall) / jobs * 60
    text = "\n".join([
        f"Measured {started} with `python -m benchmarks.sweep --runs {args.runs} --citizens {args.citizens} "
        f"--months {args.months}` (policy `comprehensive`, seeds 0-{args.runs - 1}, `indonesia` profile).",
        "",
        f"- Machine: {machine()['cpu']}; {machine()['software']}.",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {_load()}.",
        f"- Model alone: {model_wall:.3f} s wall, {model_cpu:.3f} s CPU per run.",
        "",
        "| how | core-seconds per run | runs per core-hour | runner overhead vs model alone |",
        "|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        f"A 10,000-run sweep of these runs on {jobs} cores through the runner: about {sweep_10k:.0f} min "
        f"(before: {10_000 / per_core_hour(before_wall) / jobs * 60:.0f} min). Parallel rows include the "
        "start-up of the worker processes (imports), spread over the sweep's runs.",
    ])
    print(text)
    if not args.no_write:
        write_block("sweep", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
