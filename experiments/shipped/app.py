"""Regenerate every shipped result in one command: ``python -m experiments.shipped`` (``make shipped``).

Results the project ships (tables the reports read, documents quoting numbers, figures) go stale when
the model changes; making each by hand with its own recipe is how one is forgotten. This command
runs, in order, the steps of :data:`STEPS` (each an app of its own, run as a separate process into a
run folder of its own below ``work``, so a step that stops can be run again into the same folder and
resume), installs what the step produced at its shipped path, and stamps each file with the commit
it came from (:mod:`experiments.engine.stamp`, taken once before the first step). Each step prints
its progress and its wall time.

Settings (``key=value``): ``steps=[docs,morris,validation,figures,services]`` (the default; ``posterior`` is
added by ``posterior=true``: every shipped calibration, up to two hours each), ``out=<folder>`` (write the
results below this folder, at the same relative paths, instead of over the shipped files), ``work=<folder>``
(the apps' run folders; default ``outputs/shipped/<time>``), ``n_jobs=<int>`` (passed to the apps),
``quick=true`` (every app at a test size, to check the command end to end; only with ``out=``, since
its numbers are not evidence).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from experiments.engine.stamp import (
    REPO,
    Stamp,
    current_stamp,
    replace_block,
    stamped_markdown,
    write_sidecar,
)
from experiments.shipped import documents
from sim.config import ConfigError

STEP_NAMES = ("docs", "morris", "validation", "figures", "services", "posterior")
DEFAULT_STEPS = ("docs", "morris", "validation", "figures", "services")
KEYS = ("steps", "posterior", "quick", "out", "work", "n_jobs")
MORRIS_FIGURES = ("adoption_final", "gap_urban_rural")
SOBOL_PARAMETERS = 4  # the Sobol step varies this many of the Morris screening's leaders

# Test sizes of every app (quick=true): enough to exercise each file the step installs.
_TINY = ["population=small", "n_citizens=300", "steps=6", "launcher=basic", "progress=false"]
_TINY_PARAMS = ("params.adoption.intercept,params.adoption.word_of_mouth,params.adoption.w_trust,"
                "params.adoption.need_rate")
QUICK = {
    "morris": [*_TINY, "trajectories=2", "noise_points=2", "noise_seeds=2", f"parameters=[{_TINY_PARAMS}]"],
    "sobol": [*_TINY, "sobol_n=4", "noise_points=2", "noise_seeds=2"],
    "discover": [*_TINY, "n_samples=20", "min_coverage=0.3", "max_qp=null"],
    "validation": ["quick=true", "progress=false"],
    # 13 months: the mandate scenario starts a year after the policy start
    "services": [*[a for a in _TINY if not a.startswith("steps=")], "steps=13", "seeds=2",
                 "uncertainty=none"],
}


@dataclass
class Options:
    """The command line, checked."""

    steps: tuple[str, ...] = DEFAULT_STEPS
    quick: bool = False
    out: Path = REPO
    work: Path | None = None
    n_jobs: int | None = None
    extra: list[str] = field(default_factory=list)  # passed to every app (e.g. n_jobs=2)


def _boolean(key: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ConfigError(f"{key}={value!r}: not a boolean; allowed: true, false")
    return value.lower() == "true"


def parse(argv: list[str]) -> Options:
    """``key=value`` arguments as :class:`Options`; ConfigError (one line) for anything else."""
    opts = Options()
    posterior = False
    steps_given = False
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in KEYS:
            raise ConfigError(f"{arg}: unknown setting; allowed keys: {', '.join(KEYS)} (key=value)")
        if key == "steps":
            names = tuple(s.strip() for s in value.strip("[]").split(",") if s.strip())
            bad = [s for s in names if s not in STEP_NAMES]
            if not names or bad or len(set(names)) != len(names):
                what = f"unknown step {bad[0]}" if bad else "empty or repeated"
                raise ConfigError(f"steps={value!r}: {what}; allowed: a list of {', '.join(STEP_NAMES)}")
            opts.steps, steps_given = tuple(s for s in STEP_NAMES if s in names), True
        elif key in ("posterior", "quick"):
            flag = _boolean(key, value)
            posterior = flag if key == "posterior" else posterior
            opts.quick = flag if key == "quick" else opts.quick
        elif key in ("out", "work"):
            if not value.strip():
                raise ConfigError(f"{key}={value!r}: an empty folder name; allowed: a folder path")
            setattr(opts, key, Path(value).expanduser().resolve())
        elif key == "n_jobs":
            try:
                opts.n_jobs = int(value)
            except ValueError:
                raise ConfigError(f"n_jobs={value!r}: not an integer; allowed: -1 (every core) or a "
                                  "number >= 1") from None
            if opts.n_jobs == 0 or opts.n_jobs < -1:
                raise ConfigError(f"n_jobs={value!r}: out of range; allowed: -1 (every core) or a "
                                  "number >= 1")
    if posterior and not steps_given:
        opts.steps = (*opts.steps, "posterior")
    if opts.quick and opts.out == REPO:
        raise ConfigError("quick=true: test-size results must not replace the shipped ones; allowed: "
                          "quick=true with out=<folder>")
    if "posterior" in opts.steps and (opts.out != REPO or opts.quick):
        raise ConfigError("posterior=true: the calibration ships its posterior into the repository itself; "
                          "allowed: posterior=true without out= and quick=")
    return opts


# --------------------------------------------------------------------------- running the apps
class StepFailed(Exception):
    """An app stopped with a non-zero status (its own message is already on the terminal)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def run_app(module: str, args: list[str], folder: Path) -> None:
    """One app as its own process (each app is a Hydra application, which runs once per process),
    writing into ``folder``; its output streams to this terminal."""
    command = [sys.executable, "-m", module, *args, f"hydra.run.dir={folder}"]
    print(f"[shipped]   $ python -m {module} {' '.join(args)} hydra.run.dir={folder}", flush=True)
    code = subprocess.run(command, cwd=REPO, check=False).returncode
    if code != 0:
        raise StepFailed(f"python -m {module} exited with status {code} (its run folder: {folder}; the "
                         "same command resumes there)", 130 if code in (-2, 130) else code if code > 0 else 1)


@dataclass
class Context:
    """What every step needs: the options, the one stamp of this regeneration, the app arguments."""

    opts: Options
    stamp: Stamp
    work: Path
    written: list[Path] = field(default_factory=list)

    def target(self, relative: str) -> Path:
        path = self.opts.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def args(self, app: str, *more: str) -> list[str]:
        jobs = [f"n_jobs={self.opts.n_jobs}"] if self.opts.n_jobs is not None else []
        return [*(QUICK[app] if self.opts.quick else []), *jobs, *more]

    def install(self, source: Path, relative: str) -> None:
        """Copy an app's file to its shipped path, with its stamp beside it."""
        path = self.target(relative)
        shutil.copyfile(source, path)
        write_sidecar(path, self.stamp)
        self.written.append(path)

    def write_markdown(self, relative: str, text: str, name: str) -> None:
        path = self.target(relative)
        path.write_text(stamped_markdown(text, self.stamp, name), encoding="utf-8")
        self.written.append(path)

    def update_block(self, relative: str, name: str, body: str) -> None:
        """Replace one generated block of a written document (the copy below ``out`` when there is
        one, else the repository's)."""
        path = self.target(relative)
        source = path if path.is_file() else REPO / relative
        path.write_text(replace_block(source.read_text(encoding="utf-8"), name, body, self.stamp),
                        encoding="utf-8")
        self.written.append(path)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def step_docs(ctx: Context) -> None:
    """The documents generated whole from the declarations (what ``make docs`` writes)."""
    from sim.declarations import parameters_markdown
    from sim.provinces import provinces_markdown
    from sim.summary import outputs_markdown

    for relative, make in (("docs/metrics.md", outputs_markdown), ("docs/parameters.md", parameters_markdown),
                           ("docs/provinces.md", provinces_markdown)):
        ctx.write_markdown(relative, make(), "docs")


def step_morris(ctx: Context) -> None:
    """Morris screening of every uncertain parameter: the table the comparison report quotes, its
    figures and the ranking in docs/sensitivity.md."""
    folder = ctx.work / "morris"
    started = time.perf_counter()
    run_app("experiments.exploration.sensitivity", ctx.args("morris"), folder)
    ctx.install(folder / "sensitivity.csv", "experiments/data/morris.csv")
    for outcome in MORRIS_FIGURES:
        figure = folder / "figures" / f"morris_{outcome}.png"
        if figure.is_file():
            ctx.install(figure, f"docs/figures/sensitivity_morris_{outcome}.png")
    ctx.update_block("docs/sensitivity.md", "morris",
                     documents.morris_block(folder, _minutes(time.perf_counter() - started)))


def step_validation(ctx: Context) -> None:
    """The validation suite: its counts and failures in docs/validation.md."""
    folder = ctx.work / "validation"
    started = time.perf_counter()
    run_app("experiments.validation", ctx.args("validation"), folder)
    ctx.update_block("docs/validation.md", "validation",
                     documents.validation_block(folder, _minutes(time.perf_counter() - started)))


def step_figures(ctx: Context) -> None:
    """The other figures of docs/sensitivity.md: Sobol indices of the Morris screening's leaders for
    final adoption (read from the morris.csv just written, or the shipped one) and scenario discovery
    of where training beats infrastructure, each with its table."""
    morris = ctx.opts.out / "experiments/data/morris.csv"
    table = pd.read_csv(morris if morris.is_file() else REPO / "experiments/data/morris.csv")
    rows = table[(table["outcome"] == "adoption_final") & (table["method"] == "morris")]
    top = rows.sort_values("mu_star", ascending=False, kind="stable")["parameter"].head(SOBOL_PARAMETERS)
    n = 2 if ctx.opts.quick else SOBOL_PARAMETERS
    folder = ctx.work / "sobol"
    started = time.perf_counter()
    run_app("experiments.exploration.sensitivity",
            ctx.args("sobol", "method=sobol", f"parameters=[{','.join(top.head(n))}]",
                     f"outcomes=[{','.join(documents.SOBOL_OUTCOMES)}]"), folder)
    for outcome in documents.SOBOL_OUTCOMES:
        figure = folder / "figures" / f"sobol_{outcome}.png"
        if figure.is_file():
            ctx.install(figure, f"docs/figures/sensitivity_sobol_{outcome}.png")
    ctx.update_block("docs/sensitivity.md", "sobol",
                     documents.sobol_block(folder, _minutes(time.perf_counter() - started)))
    folder = ctx.work / "discover"
    started = time.perf_counter()
    run_app("experiments.exploration.discover", ctx.args("discover", *([] if ctx.opts.quick else
                                                                      ["n_samples=500"])), folder)
    ctx.install(folder / "peeling_trajectory.png", "docs/figures/discover_peeling_trajectory.png")
    ctx.update_block("docs/sensitivity.md", "discover",
                     documents.discover_block(folder, _minutes(time.perf_counter() - started)))


# The services step's scenarios: the baseline, the two levers the planners weigh, the channels and
# consolidation the services bring, and a mandate for every service against one for a single service
# (both also run in the main job, under the same portfolio).
SERVICE_SCENARIOS = ("baseline", "training", "infrastructure", "service_centres", "partnerships",
                     "consolidation", "mandate", "mandate_business_licence")


def step_services(ctx: Context) -> None:
    """The comparison under the indonesia portfolio with its own posterior: the per-service table and
    that posterior's fit, in docs/services.md."""
    from experiments.engine.posterior import shipped_checks

    folder = ctx.work / "services"
    started = time.perf_counter()
    # the seeds given (20), not added until P(best) is precise: this step is the per-service table
    run_app("experiments.compare", ctx.args("services", "portfolio=indonesia", "p_best_precision=null",
                                            f"scenarios=[{','.join(SERVICE_SCENARIOS)}]"), folder)
    ctx.update_block("docs/services.md", "services",
                     documents.services_block(folder, shipped_checks("indonesia"),
                                              _minutes(time.perf_counter() - started)))


def step_posterior(ctx: Context) -> None:
    """Every shipped calibration (ABC rejection, about an hour each): the apps' portfolio under each
    measure of use and the one general service; each ships its posterior, its checks and its calibrated
    parameter set itself, each with its stamp."""
    from experiments.engine.posterior import SHIPPED_CALIBRATIONS

    for portfolio, measure in SHIPPED_CALIBRATIONS:
        run_app("experiments.calibration",
                ctx.args("posterior", "ship=true", f"portfolio={portfolio}", f"use_measure={measure}"),
                ctx.work / f"posterior_{portfolio}_{measure}")


@dataclass(frozen=True)
class Step:
    name: str
    what: str
    run: Callable[[Context], None]
    minutes: float  # the full step's wall time on the project's two-core machine (README)


STEPS = {s.name: s for s in (
    Step("docs", "generated documents (docs/metrics.md, parameters.md, provinces.md)", step_docs, 0.1),
    Step("morris", "Morris screening (experiments/data/morris.csv, docs/sensitivity.md, its figures)",
         step_morris, 2.5),
    Step("validation", "validation (docs/validation.md)", step_validation, 2.5),
    Step("figures", "Sobol indices and scenario discovery (docs/figures, docs/sensitivity.md)", step_figures,
         3.0),
    Step("services", "the comparison per service under the indonesia portfolio (docs/services.md)",
         step_services, 3.0),
    Step("posterior", "every shipped calibration (experiments/data/posterior*.parquet, calibration*.json, "
                      "configs/parameters/calibrated*.yaml)", step_posterior, 4 * 55.0),
)}


# The generated blocks each step rewrites in a written document (document, block name).
BLOCKS = {"morris": [("docs/sensitivity.md", "morris")], "validation": [("docs/validation.md", "validation")],
          "figures": [("docs/sensitivity.md", "sobol"), ("docs/sensitivity.md", "discover")],
          "services": [("docs/services.md", "services")]}


def check_documents(opts: Options, stamp: Stamp) -> None:
    """Every block the chosen steps will rewrite is in its document, checked before the first step:
    a lost marker stops the command now rather than after half an hour of runs (ValueError)."""
    for name in opts.steps:
        for relative, block in BLOCKS.get(name, []):
            path = opts.out / relative
            source = path if path.is_file() else REPO / relative
            replace_block(source.read_text(encoding="utf-8"), block, "", stamp)


def regenerate(opts: Options) -> list[Path]:
    """Run the chosen steps in order; returns the files written."""
    stamp = current_stamp("make shipped")
    check_documents(opts, stamp)
    work = opts.work or REPO / "outputs" / "shipped" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    ctx = Context(opts, stamp, work)
    tree = "with uncommitted changes" if stamp.dirty else "clean"
    print(f"[shipped] {len(opts.steps)} steps from commit {(stamp.commit or 'unknown')[:7]} ({tree}) into "
          f"{opts.out}; run folders: {work}; expected wall time about "
          f"{sum(STEPS[s].minutes for s in opts.steps):.0f} min" + (" at full size" if opts.quick else ""),
          flush=True)
    if stamp.dirty and not opts.quick:
        print("[shipped] note: the working tree has uncommitted changes; the stamps say so", flush=True)
    total = time.perf_counter()
    times = []
    for i, name in enumerate(opts.steps, start=1):
        step = STEPS[name]
        print(f"[shipped] step {i}/{len(opts.steps)}: {name}: {step.what} ...", flush=True)
        started = time.perf_counter()
        before = len(ctx.written)
        step.run(ctx)
        seconds = time.perf_counter() - started
        times.append((name, seconds))
        print(f"[shipped] step {i}/{len(opts.steps)}: {name} done in {_minutes(seconds)}; wrote "
              + ", ".join(dict.fromkeys(_shown(p, opts.out) for p in ctx.written[before:])), flush=True)
    print("[shipped] wall times: " + ", ".join(f"{n} {_minutes(s)}" for n, s in times)
          + f"; total {_minutes(time.perf_counter() - total)}", flush=True)
    return list(dict.fromkeys(ctx.written))


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> None:
    """The console entry: one line and exit status 2 for bad settings, the app's status when a step
    fails."""
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return
    try:
        opts = parse(argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    try:
        regenerate(opts)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.code)
    except ValueError as exc:  # a generated block missing from a written document
        print(f"error: {exc}; put the markers back (git diff shows where they were)", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("stopped; run the same command with the same work=<folder> to resume", file=sys.stderr)
        sys.exit(130)
