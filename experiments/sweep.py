"""Launch a Hydra multirun of the model (``python -m sim -m ...``) and follow it with a progress bar.

The sweep runs in a subprocess with the joblib launcher, so the runs use every local core; each run
writes its own folder (``summary.json`` last) as it finishes, and the progress bar counts finished
folders. The subprocess's own output goes to ``sweep.log`` beside the runs. A failed sweep raises
:class:`SweepError` with one line for the user (the model's own error line when it gave one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from sim.results import SUMMARY_FILE, finished_runs

LOG_FILE = "sweep.log"


class SweepError(RuntimeError):
    """The simulation sweep failed; the message is one line for the user."""


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_jobs(n_jobs: int) -> int:
    return local_cores() if n_jobs == -1 else n_jobs


def launcher_overrides(launcher: str, n_jobs: int) -> list[str]:
    if launcher == "joblib":
        return ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={resolve_jobs(n_jobs)}"]
    return []


def sweep_command(overrides: Sequence[str], sweep_dir: Path, launcher: str, n_jobs: int) -> list[str]:
    """The command line of a model multirun that writes its runs below ``sweep_dir``."""
    return [
        sys.executable, "-m", "sim", "-m",
        *overrides,
        *launcher_overrides(launcher, n_jobs),
        f"hydra.sweep.dir={sweep_dir}",
    ]


def _count(sweep_dir: Path) -> int:
    return sum(1 for _ in sweep_dir.glob(f"*/{SUMMARY_FILE}"))


def _error_line(log: Path) -> str:
    """The most telling line of a failed sweep's log: the model's ``error:`` line, else the last one."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    for line in reversed(lines):
        if line.startswith("error:"):
            return line.removeprefix("error:").strip()
    exceptions = [ln for ln in lines if "Error" in ln.split(":")[0] or ln.startswith("Error")]
    return (exceptions or lines or ["no output"])[-1]


def run_sweep(
    overrides: Sequence[str],
    sweep_dir: str | Path,
    n_runs: int,
    launcher: str = "joblib",
    n_jobs: int = -1,
    progress: bool = True,
    desc: str = "runs",
    poll_seconds: float = 0.5,
) -> list[Path]:
    """Run the sweep; return the finished run folders. Raises SweepError if it fails."""
    sweep_dir = Path(sweep_dir).resolve()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    log = sweep_dir / LOG_FILE
    cmd = sweep_command(overrides, sweep_dir, launcher, n_jobs)
    env = {**os.environ, "HYDRA_FULL_ERROR": "1", "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        # cwd: the sweep folder, so that nothing the subprocess might write lands elsewhere
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=sweep_dir, env=env)
        with tqdm(total=n_runs, desc=desc, unit="run", disable=not progress, file=sys.stderr,
                  dynamic_ncols=True) as bar:
            try:
                while proc.poll() is None:
                    time.sleep(poll_seconds)
                    bar.update(_count(sweep_dir) - bar.n)
            except KeyboardInterrupt:
                proc.terminate()
                proc.wait()
                raise
            bar.update(_count(sweep_dir) - bar.n)
    if proc.returncode != 0:
        raise SweepError(f"the simulation sweep failed (exit code {proc.returncode}): "
                         f"{_error_line(log)} (full log: {log})")
    runs = finished_runs(sweep_dir)
    if len(runs) < n_runs:
        raise SweepError(f"the simulation sweep finished only {len(runs)} of {n_runs} runs (log: {log})")
    return runs
