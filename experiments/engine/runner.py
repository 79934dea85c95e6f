"""One runner for every experiment: composed configs in, one run folder per config out, in process.

The apps compose and validate their :class:`~sim.config.SimConfig` objects in the launching process
and hand them to :func:`run_configs`, which runs them

- ``launcher="basic"``: one after another in this process;
- ``launcher="joblib"``: on ``n_jobs`` local cores (joblib's loky worker processes);
- ``launcher="ray"``: on a Ray cluster (``ray_address``), or on a local Ray started on the loopback
  interface for the sweep (``ray_address=None``) with its temporary files under the output folder.

Workers import the launching checkout's code (checked: a worker that imported ``sim`` from anywhere
else refuses to run), receive the config objects themselves (no strings parsed back, no
subprocess), and send back the files of each finished run; this process writes them, so results are
byte-identical whatever the launcher or the number of workers. Runs that share their history (the
same config, seed included, but for the policy block and the budget:
:func:`~sim.store.provenance.history_key`) are one work unit: its worker simulates the months before
the policy start once and branches the model into each run (:func:`simulate_group`), which gives the
same files, byte for byte, as running each from month 0. Each run is written as it finishes:

- ``<out>/runs/<policy>_seed<seed>_<hash>/``: ``config.json``, ``timeseries.parquet``,
  ``provinces.csv`` (the final state by province), then ``summary.json`` (with ``config_hash``,
  ``code_version``, library versions, checksums);
- ``<out>/timeseries/policy=<policy>/seed=<seed>/run=<hash>/timeseries.parquet``: the same file, as
  a partitioned dataset (``pandas.read_parquet(out / "timeseries")`` adds ``policy``, ``seed`` and
  ``run``, the first 12 hex digits of the config hash).

A run's identity is the hash of its resolved config (:func:`sim.store.provenance.config_hash`), so running
the same configs into the same folder again resumes: runs whose folder holds a complete, intact
result with the same hash are kept, the others are (re)done, nothing is duplicated. SIGINT and SIGTERM
stop every worker and raise :class:`Interrupted` with how many runs finished.

What the apps share around the runner (command-line checks, entry points, exit codes) is
:mod:`experiments.engine.app`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from tqdm import tqdm

from experiments.engine.settings import LAUNCHERS
from sim.config import ConfigError, SimConfig, quiet
from sim.store.files import (
    CONFIG_FILE,
    SUMMARY_FILE,
    TIMESERIES_FILE,
    atomic_path,
    atomic_write,
    model_files,
    summary_checksum,
    write_files,
)
from sim.store.provenance import (
    CODE_ROOT,
    canonical_json,
    code_version,
    config_hash,
    flatten,
    history_key,
    plain,
)
from sim.store.record import RunRecord, read_summary

RUNS_DIR = "runs"
DATASET_DIR = "timeseries"
RAY_DIR = ".ray"  # the local Ray's temporary files, below the output folder
CLUSTER = "cluster"  # code root of workers on a Ray cluster: the copy Ray ships from this checkout
LOCK_FILE = ".lock"  # held (flock) by the process that works in the output folder
EXPERIMENT_FILE = ".experiment.json"  # the settings of the experiment whose runs the folder holds
# App settings that change how runs are done, not which runs or what they give.
EXECUTION_KEYS = ("launcher", "n_jobs", "ray_address", "progress", "reuse")


class RunnerError(RuntimeError):
    """The runs could not be done or reused; the message is one line for the user."""


class FolderRefused(RunnerError):
    """The output folder is in use by another process or holds another experiment's runs (exit 2)."""


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped the runs; finished runs are on disk and a rerun resumes."""

    def __init__(self, signum: int, finished: int, total: int, out_dir: Path) -> None:
        self.signum, self.finished, self.total, self.out_dir = signum, finished, total, out_dir
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name}: {finished} of {total} runs finished in {out_dir}; to "
                         f"resume, run the same command again with hydra.run.dir={out_dir}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


# --------------------------------------------------------------------------- run identity and folders
@dataclass(frozen=True)
class Task:
    """One run to do: its config, identity (config hash) and folder name."""

    cfg: SimConfig
    key: str

    @property
    def name(self) -> str:
        return f"{self.cfg.policy.name}_seed{self.cfg.seed}_{self.key[:12]}"

    @property
    def part(self) -> Path:
        """The run's file in the partitioned timeseries dataset, relative to the output folder."""
        return Path(DATASET_DIR, f"policy={self.cfg.policy.name}", f"seed={self.cfg.seed}",
                    f"run={self.key[:12]}", TIMESERIES_FILE)


def tasks_for(configs: Sequence[SimConfig]) -> list[Task]:
    """One task per distinct config (the same config twice is one run), in the given order."""
    seen: dict[str, Task] = {}
    for cfg in configs:
        if not isinstance(cfg, SimConfig):
            raise TypeError(f"run_configs takes SimConfig objects (sim.config.compose); got "
                            f"{type(cfg).__name__}")
        key = config_hash(cfg)
        seen.setdefault(key, Task(cfg, key))
    return list(seen.values())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_problem(out_dir: Path, task: Task) -> str | None:
    """Why the run's results on disk cannot be used (None: complete, intact, the same config)."""
    folder = out_dir / RUNS_DIR / task.name
    if not folder.is_dir():
        return "missing"
    if not (folder / SUMMARY_FILE).is_file():
        return "unfinished (no summary.json)"
    try:
        summary = json.loads((folder / SUMMARY_FILE).read_text())
        if summary.get("summary_sha256") != summary_checksum(summary):
            return "damaged (summary.json does not match its checksum)"
        if summary.get("config_hash") != task.key:
            return "from another config (config_hash differs)"
        if _sha256(folder / TIMESERIES_FILE) != summary.get("timeseries_sha256"):
            return "damaged (timeseries.parquet does not match its checksum)"
        if config_hash(json.loads((folder / CONFIG_FILE).read_text())) != task.key:
            return f"damaged ({CONFIG_FILE} does not match config_hash)"
        if not (out_dir / task.part).is_file():
            return f"unfinished (no {task.part})"
        if _sha256(out_dir / task.part) != summary.get("timeseries_sha256"):
            return f"damaged ({out_dir / task.part} does not match its checksum)"
    except (OSError, ValueError, TypeError, AttributeError):
        return "damaged (unreadable files)"
    return None


def _repair_part(out_dir: Path, task: Task) -> None:
    """Rewrite a run's missing or damaged dataset part from its run folder, when that folder holds the
    intact run: the part is a copy of the folder's file, so the run need not be done again."""
    part_problems = (f"unfinished (no {task.part})",
                     f"damaged ({out_dir / task.part} does not match its checksum)")
    if run_problem(out_dir, task) not in part_problems:
        return
    with contextlib.suppress(OSError):
        atomic_write(out_dir / task.part, (out_dir / RUNS_DIR / task.name / TIMESERIES_FILE).read_bytes())


def _difference(folder: Path, cfg: SimConfig) -> str:
    """The first setting in which a run folder's config differs from ``cfg``, as ``key: a != b``."""
    try:
        theirs = flatten(json.loads((folder / CONFIG_FILE).read_text()))
    except (OSError, ValueError, AttributeError):
        return f"no readable {CONFIG_FILE}"
    ours = flatten(OmegaConf.to_container(OmegaConf.structured(cfg)))
    for key in sorted(set(ours) | set(theirs)):
        if key not in ("progress", "materialise_agents") and ours.get(key) != theirs.get(key):
            return f"{key}: {theirs.get(key)!r} there, {ours.get(key)!r} here"
    return "same settings, other code"


def stray_dataset_file(out_dir: Path) -> Path | None:
    """A file in the ``timeseries/`` dataset that is no run's part, or None.

    Dataset readers (``pandas.read_parquet(out / "timeseries")``) read every file they find, so one
    stray file makes the whole dataset unreadable. A part belongs at
    ``policy=<p>/seed=<s>/run=<hash>/timeseries.parquet`` beside a run folder ``<p>_seed<s>_<hash>``;
    names starting with ``.`` or ``_`` (temporary files) are skipped, as the readers skip them."""
    root = out_dir / DATASET_DIR
    if not root.is_dir():
        return None
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or any(part.startswith((".", "_")) for part in rel.parts):
            continue
        keys = dict(part.split("=", 1) for part in rel.parts[:-1] if "=" in part)
        ok = (len(rel.parts) == 4 and rel.name == TIMESERIES_FILE and set(keys) == {"policy", "seed", "run"}
              and (out_dir / RUNS_DIR / f"{keys['policy']}_seed{keys['seed']}_{keys['run']}").is_dir())
        if not ok:
            return path
    return None


def reuse_error(out_dir: Path, tasks: Sequence[Task]) -> str | None:
    """One line naming the first run that ``reuse=true`` cannot use, or None if every run is usable."""
    runs = out_dir / RUNS_DIR
    for task in tasks:
        problem = run_problem(out_dir, task)
        if problem is None:
            continue
        if problem == "missing":
            prefix = f"{task.cfg.policy.name}_seed{task.cfg.seed}_"
            others = sorted(p for p in runs.glob(f"{prefix}*") if p.is_dir()) if runs.is_dir() else []
            if others:
                why = _difference(others[0], task.cfg)
                return (f"reuse=true: {others[0]} is a run of another config ({why}); "
                        "allowed: complete runs of this experiment's configs")
        return (f"reuse=true: run {runs / task.name} ({task.cfg.policy.name}, seed {task.cfg.seed}) is "
                f"{problem}; allowed: complete runs of this experiment's configs (rerun with reuse=false "
                "to do the missing runs)")
    return None


# --------------------------------------------------------------------------- one experiment per folder
def experiment_settings(app: str, cfg: Any) -> dict[str, Any]:
    """What identifies an app's experiment: its name and settings, without :data:`EXECUTION_KEYS`."""
    return {"app": app, **{k: v for k, v in plain(cfg).items() if k not in EXECUTION_KEYS}}


@contextlib.contextmanager
def claim_folder(out_dir: Path, experiment: dict[str, Any], reuse: bool = False) -> Iterator[None]:
    """Work in ``out_dir`` alone and for one experiment only.

    Two sweeps with different settings sent to one folder would overwrite each other's tables and
    leave a folder that mixes their files; two with the same settings at once would do each run
    twice. So the folder is locked for the block (``flock`` on ``.lock``, which the kernel releases
    when the holder dies: a lock left by a dead process is no lock), and a folder whose
    ``.experiment.json`` names other settings is refused. Raises :class:`FolderRefused` (one line)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with _folder_lock(out_dir):
        recorded = out_dir / EXPERIMENT_FILE
        try:
            theirs = json.loads(recorded.read_text())
        except FileNotFoundError:
            theirs = None
        except (OSError, ValueError):
            theirs = {"app": f"unreadable {EXPERIMENT_FILE}"}
        ours = json.loads(canonical_json(experiment))
        if theirs is not None and theirs != ours:
            mine, other = flatten(ours), flatten(theirs)
            key = next(k for k in sorted(set(mine) | set(other)) if mine.get(k) != other.get(k))
            raise FolderRefused(f"{out_dir} holds the runs of another experiment ({key}: "
                                f"{other.get(key)!r} there, {mine.get(key)!r} here); allowed: the same "
                                "settings (to resume), or another hydra.run.dir")
        if theirs is None and not reuse:
            atomic_write(recorded, json.dumps(ours, indent=2, sort_keys=True) + "\n")
        yield


@contextlib.contextmanager
def _folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock`` (its text: the holder's process id, for the message) for the block."""
    try:
        import fcntl
    except ImportError:  # not on a POSIX system: no lock
        yield
        return
    path = out_dir / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise FolderRefused(f"{out_dir} is in use by process {holder} (lock {path}); allowed: "
                                "another hydra.run.dir, or the same one once that process has "
                                "ended") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:  # not a file that its last holder removed between our open and our lock
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


# --------------------------------------------------------------------------- grouping runs by history
def groups_for(tasks: Sequence[Task], n_units: int = 1) -> list[list[Task]]:
    """The tasks grouped by history key (:func:`sim.store.provenance.history_key`: the seed and
    everything but the policy and the budget), in the order of each group's first task: one work unit
    per group, whose runs share the simulated history up to the policy start
    (:func:`simulate_group`).

    While there are fewer units than ``n_units`` (the workers), the largest group is halved: each half
    simulates the history again, which costs less than leaving a worker idle."""
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(history_key(task.cfg), []).append(task)
    units = list(groups.values())
    while len(units) < n_units:
        largest = max(range(len(units)), key=lambda i: len(units[i]), default=None)
        if largest is None or len(units[largest]) < 2:
            break
        unit = units[largest]
        half = (len(unit) + 1) // 2
        units[largest:largest + 1] = [unit[:half], unit[half:]]
    return units


# --------------------------------------------------------------------------- the work of one run
def prepare_worker(code_root: str) -> None:
    """Before a worker's runs: check that it imported this checkout's model, quiet mesa's log, and (once
    per process) take what is alive by now out of the cyclic garbage collector's view.

    A worker lives for many runs, and every few runs Python's collector scans every container object
    alive in full: the imported libraries' 120,000 of them, 75 ms a time at 20,000 citizens against 13 ms
    once they are frozen (``gc.freeze``; benchmarks/results.md). They live as long as the process."""
    import sim

    here = str(Path(sim.__file__).resolve().parent.parent)
    if code_root != CLUSTER and here != code_root:
        raise RunnerError(f"a worker imported sim from {here}, not from the launching checkout "
                          f"{code_root}; install the checkout (pip install -e .) or run from it")
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


def simulate(cfg: SimConfig, key: str, code: str, code_root: str) -> tuple[str, dict[str, bytes]]:
    """Run one config (in a worker); return its key and its run files, as bytes."""
    from sim.model import DigitalAdoptionModel

    prepare_worker(code_root)
    model = DigitalAdoptionModel(config=quiet(cfg)).run()
    return key, model_files(model, cfg, code, key)


Result = tuple[str, dict[str, bytes]]


def simulate_group(cfgs: Sequence[SimConfig], keys: Sequence[str], code: str,
                   code_root: str) -> list[Result]:
    """Run configs that share their history (one history key; in a worker): each one's key and run
    files, exactly as :func:`simulate` gives them, in order."""
    return list(_simulate_each(cfgs, keys, code, code_root))


def _simulate_each(cfgs: Sequence[SimConfig], keys: Sequence[str], code: str,
                   code_root: str) -> Iterator[Result]:
    """:func:`simulate_group` one run at a time: the model is built from the first config and run to
    the policy start month (the history, the same for all), then branched once per config
    (:meth:`sim.model.DigitalAdoptionModel.branch`) and each branch run to its end. A group of one
    config is one :func:`simulate`."""
    if len(cfgs) == 1:
        yield simulate(cfgs[0], keys[0], code, code_root)
        return
    from sim.config import policy_start_month
    from sim.model import DigitalAdoptionModel

    prepare_worker(code_root)
    trunk = DigitalAdoptionModel(config=quiet(cfgs[0]))
    end = min(policy_start_month(cfgs[0]), cfgs[0].steps)
    while trunk.month < end:
        trunk.step()
    for cfg, key in zip(cfgs, keys, strict=True):
        model = trunk.branch(quiet(cfg)).run()
        files = model_files(model, cfg, code, key)
        # mesa's wrapped step refers to its model, so a finished branch lingers until the next cyclic
        # garbage collection (a few branches at a time, measured; breaking the cycle by hand costs as much
        # time as it saves at 20,000 citizens)
        del model
        yield key, files


def _basic(units: Sequence[Sequence[Task]], code: str, n_jobs: int, out_dir: Path,
           ray_address: str | None) -> Iterator[Result]:
    for unit in units:  # each run written as soon as it is done
        yield from _simulate_each([t.cfg for t in unit], [t.key for t in unit], code, str(CODE_ROOT))


def _joblib(units: Sequence[Sequence[Task]], code: str, n_jobs: int, out_dir: Path,
            ray_address: str | None) -> Iterator[Result]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered", batch_size=1,
                        pre_dispatch="2*n_jobs")
    results = parallel(delayed(simulate_group)([t.cfg for t in unit], [t.key for t in unit], code,
                                               str(CODE_ROOT)) for unit in units)
    restore = _quiet_tracker_relaunch()
    broke = False
    with warnings.catch_warnings():  # "N tasks ... cancelled" on a stop: the stop line says so
        warnings.filterwarnings("ignore", message=r".*You could benefit from adjusting the input task",
                                category=UserWarning)
        # a worker that idled out between two batches (the main job's seeds added after its first
        # ones) is replaced by loky; a worker that died mid-run raises TerminatedWorkerError instead
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given",
                                category=UserWarning)
        try:
            for group in results:
                yield from group
        except Exception as exc:
            broke = pool_breakage(exc) is not None
            raise
        finally:
            try:
                results.close()  # on an interrupt: joblib terminates the loky workers
            finally:
                if not broke:  # after a breakage, cleanups until exit still reach new trackers
                    restore()


def pool_breakage(exc: BaseException) -> str | None:
    """What broke, if ``exc`` says the worker pool itself broke (a worker or the resource tracker
    killed from outside, or out of memory) rather than a run failing: loky's TerminatedWorkerError
    and BrokenProcessPool, or the KeyError of a resource tracker that lost its records."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "a worker process was terminated" if "terminated" in str(exc) else "the worker pool broke"
    if isinstance(exc, KeyError) and str(exc.args[0] if exc.args else "").startswith(
            ("/loky-", "/mp-", "/dev/shm/joblib")):
        return "its resource tracker lost its records"
    return None


def _quiet_tracker_relaunch() -> Callable[[], None]:
    """Relaunch dead resource trackers (multiprocessing's and loky's) with their stderr on
    /dev/null; return the function that undoes this.

    When the worker pool is killed from outside, its resource tracker dies with it; the next
    semaphore or folder cleanup starts a new tracker, which knows none of the names it is then told
    to forget and prints a KeyError traceback for each. Those tracebacks say nothing the stop line
    does not. The trackers that exist before the pool starts keep the terminal; only trackers
    spawned while this is in place are silenced (fd 2 is swapped for the few milliseconds of the
    spawn: both trackers inherit it from this process)."""
    from multiprocessing import resource_tracker, util

    resource_tracker.ensure_running()  # the first tracker, with the terminal as its stderr
    original = util.spawnv_passfds

    def spawn(path: Any, args: Sequence[Any], passfds: Sequence[int]) -> int:
        if not any("resource_tracker import main" in str(a) for a in args):
            return original(path, args, passfds)
        saved = os.dup(2)
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
            return original(path, args, passfds)
        finally:
            os.dup2(saved, 2)
            os.close(saved)

    util.spawnv_passfds = spawn

    def restore() -> None:
        if util.spawnv_passfds is spawn:
            util.spawnv_passfds = original

    return restore


def _quiet_resource_trackers() -> None:
    """Workers terminated on SIGINT/SIGTERM leave their queue semaphores to the resource trackers,
    which free them and say so in warnings at exit; the user has already been told that the sweep
    stopped. The trackers are separate interpreters, so only the environment reaches them; here, the
    warning that a tracker killed with the pool is being relaunched is silenced the same way."""
    rule = "ignore:resource_tracker:UserWarning"
    warnings.filterwarnings("ignore", message="resource_tracker:", category=UserWarning)
    current = os.environ.get("PYTHONWARNINGS", "")
    if rule not in current:
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [current, rule]))


# Ray resolves a node address of 127.0.0.1 to the machine's outward IP (so that other nodes could
# join) and then binds the GCS, the raylet, the object manager, the workers and the runtime-env agent
# to every interface. With "clusters disabled", as Ray does on macOS and Windows, it keeps the
# loopback address; the variable reaches the processes Ray starts, the module constant this one.
LOOPBACK = "127.0.0.1"
RAY_CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def local_ray(out_dir: Path, n_jobs: int) -> Iterator[None]:
    """A Ray instance for this sweep only, reachable from this machine only: every server it starts
    (GCS, raylet and object manager, workers, agents) bound to 127.0.0.1, no dashboard, no token auth
    (nobody else can connect), temporary files below the output folder (or a short folder in /tmp:
    Ray's socket paths must stay under 108 characters), the launching checkout first on the workers'
    import path; shut down afterwards, its processes gone and its folder removed."""
    env = {"RAY_AUTH_MODE": "disabled", RAY_CLUSTER_SWITCH: "0", "PYTHONPATH": os.pathsep.join(
        filter(None, [str(CODE_ROOT), os.environ.get("PYTHONPATH")]))}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import ray
    import ray._private.ray_constants as ray_constants

    cluster_switch = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    folder = out_dir / RAY_DIR
    short = len(str(folder)) > 60
    temp = Path(tempfile.mkdtemp(prefix="ray-")) if short else folder
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    earlier = _descendants()
    try:
        try:
            ray.init(num_cpus=n_jobs, include_dashboard=False, dashboard_host=LOOPBACK,
                     _node_ip_address=LOOPBACK, _temp_dir=str(temp), log_to_driver=False,
                     logging_level=logging.ERROR)
        except SystemExit as exc:  # SIGTERM while Ray started, through the handler it installs first
            handler = handlers.get(signal.SIGTERM)
            if exc.code != signal.SIGTERM or not callable(handler):
                raise
            handler(signal.SIGTERM, None)
            raise
        finally:
            _restore_handlers(handlers)
        yield
    finally:
        stop_ray(earlier)
        ray_constants.ENABLE_RAY_CLUSTER = cluster_switch
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(temp, ignore_errors=True)


def _restore_handlers(handlers: dict[int, Any]) -> None:
    """Put back the SIGINT/SIGTERM handlers that ``ray.init`` replaced: it installs a Python SIGTERM
    handler that exits at once and a native one that aborts with a stack dump, so a stopped sweep
    would neither stop its workers nor say how to resume."""
    for signum, handler in handlers.items():
        if handler is not None:
            signal.signal(signum, handler)


RAY_WAIT_SECONDS = 0.25  # longest wait for a result between two looks for SIGINT/SIGTERM
RAY_STOP_SECONDS = 5.0  # how long Ray's processes get to exit after ray.shutdown before being killed


def _descendants() -> set[int]:
    """Process ids of every process below this one."""
    import psutil

    try:
        return {p.pid for p in psutil.Process().children(recursive=True)}
    except psutil.Error:
        return set()


def stop_ray(earlier: set[int] | frozenset[int] = frozenset()) -> None:
    """Disconnect from the local Ray and make sure every process it started is gone.

    ``ray.shutdown`` stops the GCS and the raylet, but a worker busy in a run only notices that its
    raylet is gone at a later heartbeat (up to tens of seconds), and keeps working (and writing into
    the output folder) meanwhile. So Ray's processes (those below this one, except ``earlier``, the
    ones that were there before Ray started) are listed first, and whatever is left of them a few
    seconds after the shutdown is killed."""
    import psutil
    import ray

    procs = []
    for pid in _descendants() - set(earlier):
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    with _native_stderr_silenced():
        try:
            ray.shutdown()
        finally:
            _, alive = psutil.wait_procs(procs, timeout=RAY_STOP_SECONDS)
            for proc in alive:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(alive, timeout=RAY_STOP_SECONDS)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while Ray shuts down. Ray's C++ core writes there directly,
    not through Python, and while its processes are stopped it reports tasks it can no longer reach
    ("Failed to push error to driver"): expected during a stop, and noise before the one line that
    says how to resume. Python exceptions are unaffected: they are printed after this returns."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _ray(units: Sequence[Sequence[Task]], code: str, n_jobs: int, out_dir: Path,
         ray_address: str | None) -> Iterator[Result]:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    import experiments
    import sim

    if ray.is_initialized():
        context: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    elif ray_address is None:
        context = local_ray(out_dir, n_jobs)
    else:
        context = _cluster(ray_address, [sim, experiments])
    with context:
        remote = ray.remote(num_cpus=1, max_retries=2)(simulate_group)
        width = max(1, int(ray.available_resources().get("CPU", 1))) * 2
        queue = list(units)
        pending: list[Any] = []
        try:
            while queue or pending:
                while queue and len(pending) < width:
                    unit = queue.pop(0)
                    pending.append(remote.remote([t.cfg for t in unit], [t.key for t in unit], code,
                                                 _worker_root(ray_address)))
                # in short waits: a signal's handler runs only between them
                done, pending = ray.wait(pending, num_returns=1, timeout=RAY_WAIT_SECONDS)
                if done:
                    yield from ray.get(done[0])
        finally:
            # On a cluster nothing else stops the remote runs. Locally stop_ray kills the workers:
            # cancelling there races with a reply already on its way, and Ray's driver then fails
            # its own consistency check ("Tried to complete task that was not pending") and exits 1.
            if ray_address is not None:
                for ref in pending:
                    with contextlib.suppress(Exception):
                        ray.cancel(ref, force=True)


def _worker_root(ray_address: str | None) -> str:
    """Where workers must have imported ``sim`` from: this checkout locally; on a cluster, the copy
    of it that :func:`_cluster` ships with the job."""
    return str(CODE_ROOT) if ray_address is None else CLUSTER


@contextlib.contextmanager
def _cluster(address: str, modules: list[Any]) -> Iterator[None]:
    """Connect to a Ray cluster, shipping this checkout's ``sim`` and ``experiments`` packages."""
    import ray

    ray.init(address=address, runtime_env={"py_modules": modules}, log_to_driver=False,
             logging_level=logging.ERROR)
    try:
        yield
    finally:
        ray.shutdown()


RAY_MISSING = "launcher=ray needs the ray extra: pip install -e '.[ray]'"

LAUNCH: dict[str, Callable[..., Iterator[Result]]] = {"basic": _basic, "joblib": _joblib, "ray": _ray}


# --------------------------------------------------------------------------- stopping cleanly
@contextlib.contextmanager
def stop_on_signals() -> Iterator[list[int]]:
    """Turn SIGINT and SIGTERM into an exception in the main thread for the duration of the block
    (so that the launcher's cleanup runs and stops every worker); yields a list that holds the signal
    number once one arrived. Outside the main thread the handlers are left alone."""
    received: list[int] = []
    if sys.platform == "win32" or not _main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        if not received:
            received.append(signum)
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# --------------------------------------------------------------------------- the runner
def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_jobs(n_jobs: int) -> int:
    return local_cores() if n_jobs == -1 else n_jobs


def _write(out_dir: Path, task: Task, files: dict[str, bytes]) -> None:
    """The dataset part first, then the run folder, ``summary.json`` last. The run folder's
    ``timeseries.parquet`` is a hard link to the dataset part where the file system allows it: one
    copy of the bytes on disk, two ways to read them. A summary left from an earlier, damaged
    attempt is not removed first: its checksums no longer match, so :func:`run_problem` rejects it
    until the new one replaces it, and a run being redone by a second sweep into the same folder
    stays readable for the first."""
    folder = out_dir / RUNS_DIR / task.name
    part = atomic_write(out_dir / task.part, files[TIMESERIES_FILE])
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(folder / TIMESERIES_FILE) as tmp:
            os.link(part, tmp)
    except OSError:
        atomic_write(folder / TIMESERIES_FILE, files[TIMESERIES_FILE])
    write_files(folder, {k: v for k, v in files.items() if k != TIMESERIES_FILE})


def require_ray() -> None:
    """Ray is an optional extra (some 240 MB, needed only for ``launcher=ray``): without it, say how
    to get it in one line rather than fail inside a worker with an import traceback."""
    if importlib.util.find_spec("ray") is None:
        raise ConfigError(RAY_MISSING)


def run_configs(
    configs: Sequence[SimConfig],
    out_dir: str | Path,
    launcher: str = "joblib",
    n_jobs: int = -1,
    progress: bool = True,
    ray_address: str | None = None,
    reuse: bool = False,
    desc: str = "runs",
) -> list[RunRecord]:
    """Run every config (or resume: keep the runs already finished in ``out_dir``); return one typed
    record per config (the config itself, its hash, its summary, its folder), in the given order.

    ``reuse=True`` runs nothing and requires every run to be complete and of the same config (else
    :class:`RunnerError` naming the first offending run). Raises :class:`Interrupted` on SIGINT or
    SIGTERM after stopping the workers, :class:`RunnerError` (one line) when a run fails or a file
    cannot be written.
    """
    if launcher not in LAUNCHERS:
        raise ConfigError(f"launcher={launcher!r}: unknown launcher; allowed: {', '.join(LAUNCHERS)}")
    if n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"n_jobs={n_jobs}: out of range; allowed: -1 (every core) or an integer >= 1")
    if launcher == "ray":
        require_ray()
    out_dir = Path(out_dir).resolve()
    tasks = tasks_for(configs)
    stray = stray_dataset_file(out_dir)
    if stray is not None:
        raise FolderRefused(f"{stray}: not a part of any run in {out_dir / RUNS_DIR}, and every file in "
                            f"{out_dir / DATASET_DIR} is read as one; allowed: only the runs' parts "
                            "(remove it, then run the same command again)")
    if reuse:
        problem = reuse_error(out_dir, tasks)
        if problem:
            raise RunnerError(problem)
        return _records(out_dir, configs)
    for task in tasks:
        _repair_part(out_dir, task)
    todo = [t for t in tasks if run_problem(out_dir, t) is not None]
    finished = len(tasks) - len(todo)
    if not todo:
        return _records(out_dir, configs)
    code = code_version()
    jobs = 1 if launcher == "basic" else resolve_jobs(n_jobs)
    by_key = {t.key: t for t in todo}
    if launcher != "basic":
        _quiet_resource_trackers()  # before the progress bar, whose lock starts one of them
    with (stop_on_signals() as received,
          tqdm(total=len(tasks), initial=finished, desc=desc, unit="run", disable=not progress,
               file=sys.stderr, dynamic_ncols=True) as bar):
        try:
            units = groups_for(todo, jobs)
            for key, files in LAUNCH[launcher](units, code, jobs, out_dir, ray_address):
                _write(out_dir, by_key[key], files)
                finished += 1
                bar.update(1)
        except KeyboardInterrupt:
            raise _interrupted(received, out_dir, tasks) from None
        except Exception as exc:
            if received:  # the interrupt surfaced as another error (inside Ray, loky or a library)
                raise _interrupted(received, out_dir, tasks) from None
            if isinstance(exc, (RunnerError, ConfigError)):
                raise
            broke = pool_breakage(exc)
            if broke:
                done = sum(run_problem(out_dir, t) is None for t in tasks)
                raise RunnerError(f"the worker pool stopped ({broke}): {done} of {len(tasks)} runs "
                                  f"finished in {out_dir}; rerun the same command to resume") from None
            if isinstance(exc, OSError):
                raise RunnerError(f"cannot write the results into {out_dir}: {exc.strerror or exc}") from None
            # a run failed in a worker: one line, the rest of the runs kept
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RunnerError(f"a run failed ({type(exc).__name__}: {first}); {finished} of {len(tasks)} "
                              f"runs finished in {out_dir}; rerun to resume") from None
    return _records(out_dir, configs)


def _records(out_dir: Path, configs: Sequence[SimConfig]) -> list[RunRecord]:
    """One record per config, in order, for runs that are finished and intact in ``out_dir`` (the
    same config twice gives the same record): the config object the caller gave, not a copy read
    back from disk."""
    by_key: dict[str, RunRecord] = {}
    out = []
    for cfg in configs:
        key = config_hash(cfg)
        if key not in by_key:
            directory = out_dir / RUNS_DIR / Task(cfg, key).name
            by_key[key] = RunRecord(config=cfg, key=key, summary=read_summary(directory),
                                    directory=directory)
        out.append(by_key[key])
    return out


def _interrupted(received: list[int], out_dir: Path, tasks: Sequence[Task]) -> Interrupted:
    """The stop, with the finished runs counted from the disk (the signal may land between a run's
    last file and the counter)."""
    finished = sum(run_problem(out_dir, t) is None for t in tasks)
    return Interrupted(received[0] if received else signal.SIGINT, finished, len(tasks), out_dir)
