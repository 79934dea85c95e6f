"""Speed and memory of the vectorised model against the idiomatic Mesa reference and the hardware floor.

    python -m benchmarks.run                          # 10 k, 100 k, 1 M citizens (make bench)
    python -m benchmarks.run --sizes 10000000 --block large --reference-max 0   # the 10 M run

For each population size, in one run: setup time, time per month, agent-months per second and peak
memory of the model (each size in a fresh process, so peak memory is that run's own); the same for
the per-agent reference (``benchmarks/reference_model.py``) up to ``--reference-max`` citizens; the
ratio model/reference; and the ratio of one month to one bare CSR neighbour-share product on the
model's own network (the floor: no model can update everyone from their neighbours faster than one
pass over the network). It prints a table and writes it into ``benchmarks/results.md`` between
``<!-- BEGIN block -->`` / ``<!-- END block -->`` markers, leaving the rest of that file (the profile
and the discussion) as it is.

Timings are wall-clock; CPU time is shown too, because on a machine shared with other work the wall
time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sim.store.files import atomic_write

RESULTS = Path(__file__).resolve().parent / "results.md"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
# The policy acts from month 0 (not from its calendar start after the shared history), so that every
# measured month spends on every lever, as in the measurements before the one-timeline model.
MODEL_OVERRIDES: dict[str, Any] = {"progress": False, "policy.start_date": None}


# --------------------------------------------------------------------------- worker side
def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB


def _bare_products(adjacency: Any, n: int, repeats: int = 15) -> dict[str, float]:
    """Median wall time of one bare CSR product on the network: count of neighbours with a flag
    (float32, what a neighbour share needs) and sum of a float64 value (what a neighbour mean needs).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    flag = (rng.random(n) < 0.5).astype(np.float32)
    value = rng.random(n)
    adjacency64 = adjacency.astype(np.float64)
    out: dict[str, list[float]] = {"float32": [], "float64": []}
    for _ in range(repeats):
        start = time.perf_counter()
        adjacency @ flag
        out["float32"].append(time.perf_counter() - start)
        start = time.perf_counter()
        adjacency64 @ value
        out["float64"].append(time.perf_counter() - start)
    return {f"product_{key}_s": float(np.median(times)) for key, times in out.items()}


def work_model(n: int, months: int, policy: str, seed: int) -> dict[str, Any]:
    from sim.model import DigitalAdoptionModel

    wall, cpu = time.perf_counter(), time.process_time()
    model = DigitalAdoptionModel(n_citizens=n, policy=policy, seed=seed, steps=months,
                                 overrides=MODEL_OVERRIDES)
    setup_s, setup_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    model.run(progress=False)
    run_s, run_cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {
        "setup_s": setup_s, "setup_cpu_s": setup_cpu, "months_s": run_s, "months_cpu_s": run_cpu,
        "peak_rss_gb": _peak_rss_gb(), "agents": bool(getattr(model, "_materialised", False)),
        "staff": model.state.staff.n, "ties": int(model.state.adjacency.nnz // 2),
        "adoption_final": model.adoption,
    }
    result.update(_bare_products(model.state.adjacency, n))
    return result


def work_reference(n: int, months: int, policy: str, seed: int) -> dict[str, Any]:
    from benchmarks.reference_model import ReferenceModel

    wall, cpu = time.perf_counter(), time.process_time()
    # the same policy from month 0 as the model's run (MODEL_OVERRIDES), whatever the months
    model = ReferenceModel(n_citizens=n, policy=policy, seed=seed, steps=months,
                           overrides={"policy.start_date": MODEL_OVERRIDES["policy.start_date"]})
    setup_s, setup_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    while model.running:
        model.step()
    run_s, run_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "setup_s": setup_s, "setup_cpu_s": setup_cpu, "months_s": run_s, "months_cpu_s": run_cpu,
        "peak_rss_gb": _peak_rss_gb(),
        "adoption_final": float(model.timeseries()["adoption"].iloc[-1]),
    }


# --------------------------------------------------------------------------- driver side
def _spawn(kind: str, n: int, months: int, policy: str, seed: int) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; returns its JSON result."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", kind, "--sizes", str(n),
           "--months", str(months), "--policy", policy, "--seed", str(seed)]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                                     os.environ.get("PYTHONPATH")]))}
    wall = time.perf_counter()
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} n={n} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - wall
    result["months"] = months
    return result


def machine() -> dict[str, str]:
    """A short description of the machine and software the numbers were measured on."""
    import mesa
    import numpy
    import scipy

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        memory = "RAM unknown"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": f"{cpu}, {cores} cores available, {memory}",
        "software": (f"Python {platform.python_version()}, numpy {numpy.__version__}, "
                     f"scipy {scipy.__version__}, mesa {mesa.__version__}, {platform.system()} "
                     f"{platform.release()}"),
    }


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.1f} M"
    return f"{x / 1e3:.0f} k"


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| citizens | code | setup s | per month ms | total s (setup + months) | "
            "agent-months/s | CPU per month ms | peak memory GB | model / reference | "
            "month / bare product (f32; f64) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        n = row["n"]
        for kind in ("model", "reference"):
            r = row.get(kind)
            if r is None:
                if kind == "reference":
                    lines.append(f"| {n:,} | reference | not run (above --reference-max) | | | | | | | |")
                continue
            per_month = r["months_s"] / r["months"]
            rate = n * r["months"] / r["months_s"]
            ratio = floor = ""
            if kind == "model":
                if row.get("reference"):
                    ref = row["reference"]
                    ratio = f"**{rate / (n * ref['months'] / ref['months_s']):.0f}x**"
                floor = (f"{per_month / r['product_float32_s']:.1f}; "
                         f"{per_month / r['product_float64_s']:.1f}")
            lines.append(
                f"| {n:,} | {kind}{' (agents)' if r.get('agents') else ''} | {r['setup_s']:.2f} | "
                f"{per_month * 1e3:.1f} | {r['setup_s'] + r['months_s']:.1f} "
                f"({r['months']} months) | {_fmt_rate(rate)} | "
                f"{r['months_cpu_s'] / r['months'] * 1e3:.1f} | {r['peak_rss_gb']:.2f} | {ratio} | "
                f"{floor} |"
            )
    return "\n".join(lines)


def write_block(block: str, text: str, path: Path = RESULTS) -> None:
    """Replace the generated block ``block`` in ``path`` (append it if missing)."""
    begin, end = f"<!-- BEGIN {block} -->", f"<!-- END {block} -->"
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    new = f"{begin}\n{text.strip()}\n{end}"
    if begin in content and end in content:
        before, rest = content.split(begin, 1)
        after = rest.split(end, 1)[1]
        content = before + new + after
    else:
        content = content.rstrip() + "\n\n" + new + "\n"
    atomic_write(path, content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated numbers of citizens")
    parser.add_argument("--months", type=int, default=60, help="months simulated by the model")
    parser.add_argument("--reference-months", type=int, default=12,
                        help="months simulated by the reference (its rate per month is steady)")
    parser.add_argument("--reference-max", type=int, default=100_000,
                        help="largest population the reference is run at (0: never)")
    parser.add_argument("--policy", default="comprehensive")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--block", default="main", help="name of the block written in results.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--worker", choices=("model", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    if args.worker:
        work = work_model if args.worker == "model" else work_reference
        print(json.dumps(work(sizes[0], args.months, args.policy, args.seed)))
        return 0

    info = machine()
    started, load_before = _dt.datetime.now().isoformat(timespec="seconds"), _load()
    rows = []
    for n in sizes:
        row: dict[str, Any] = {"n": n}
        print(f"model, {n:,} citizens x {args.months} months ...", flush=True)
        row["model"] = _spawn("model", n, args.months, args.policy, args.seed)
        if n <= args.reference_max:
            print(f"reference, {n:,} citizens x {args.reference_months} months ...", flush=True)
            row["reference"] = _spawn("reference", n, args.reference_months, args.policy, args.seed)
        rows.append(row)
        print("\n".join(table(rows[-1:]).splitlines()[2:]), flush=True)
    command = " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)])
    text = "\n".join([
        f"Measured {started} with `{command}` (policy `{args.policy}`, seed {args.seed}, "
        "homophilous network, mean degree 10; every size in a fresh process).",
        "",
        f"- Machine: {info['cpu']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {_load()} "
        "(other work shares the cores, so wall time includes waiting; CPU time is shown too).",
        "",
        table(rows),
        "",
        "Agent-months per second count citizens only (civil servants add about 1.5 % more agents). "
        "*bare product*: median wall time of one `adjacency @ x` on the model's own network, with "
        "`x` a float32 0/1 vector (the neighbour count behind a neighbour share; f32) or a float64 "
        "vector (the neighbour sum behind a neighbour mean; f64). "
        + "; ".join(
            f"{row['n']:,}: {row['model']['ties']:,} ties, f32 "
            f"{row['model']['product_float32_s'] * 1e3:.1f} ms, "
            f"f64 {row['model']['product_float64_s'] * 1e3:.1f} ms"
            for row in rows
        ) + ".",
    ])
    print()
    print(text)
    if not args.no_write:
        write_block(args.block, text)
        print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
