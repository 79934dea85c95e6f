"""What every experiment app shares around the runner: checking a command line against the app's schema
and ranges before Hydra starts (one line, exit 2), the console entry point with ``--help``, turning the
runner's outcomes into one line and an exit code, seeds, and small printing helpers.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from experiments.engine.runner import FolderRefused, Interrupted, RunnerError, stop_on_signals
from experiments.engine.settings import EXPERIMENT_CONFIG_DIR
from sim.cli import check_boolean, check_hydra_overrides, config_dirs, override_values, parse_cli_overrides
from sim.config import CONFIG_DIR, ConfigError, describe_omegaconf_error, refuse_interpolation
from sim.help import app_help, wants_help
from sim.store.files import atomic_write

APP_CONFIG_DIR = CONFIG_DIR / EXPERIMENT_CONFIG_DIR


# --------------------------------------------------------------------------- the apps' entry points
def prevalidate(
    argv: list[str],
    config_name: str,
    schema: type,
    validate: Callable[[Any], None],
    config_dir: Path = APP_CONFIG_DIR,
) -> None:
    """Check every value of every override against the app's schema and ranges; raise ConfigError."""
    config_dirs(argv)
    overrides = parse_cli_overrides(argv)
    check_hydra_overrides(overrides)
    base = OmegaConf.load(config_dir / f"{config_name}.yaml")
    base.pop("defaults", None)
    base.pop("hydra", None)
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(schema), base)
    except OmegaConfBaseException as exc:
        raise ConfigError(describe_omegaconf_error(exc)) from None
    choices: list[tuple[str, list[Any]]] = []
    for ov in overrides:
        key = ov.key_or_group
        if key.startswith("hydra") or ov.is_delete():
            continue
        values = override_values(ov)
        for value in values:
            refuse_interpolation(key, value)
            check_boolean(schema, key, value)
        choices.append((key, values))
    firsts = {key: values[0] for key, values in choices}
    candidates = [firsts] + [{**firsts, key: v} for key, values in choices for v in values[1:]]
    for assignment in candidates:
        trial = cfg.copy()
        try:
            for key, value in assignment.items():
                if OmegaConf.select(trial, key, default=KeyError) is KeyError:
                    allowed = ", ".join(str(k) for k in trial)
                    raise ConfigError(f"{key}: unknown key; allowed keys: {allowed}")
                OmegaConf.update(trial, key, value, merge=False)
            typed = OmegaConf.to_object(trial)
        except OmegaConfBaseException as exc:
            raise ConfigError(describe_omegaconf_error(exc)) from None
        validate(typed)


def hydra_app(
    config_name: str,
    schema: type,
    check: Callable[[Any], None],
    job: Callable[[Any, Path, float], Any],
    show: Callable[[Any, Any, Path], None],
    setup: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """The console entry of an experiment app, built once for every app: ``--help`` lists the keys of
    ``configs/experiment/<config_name>.yaml``; a bad command line is one line and exit 2; else Hydra
    composes the config, ``job(cfg, output folder, start time)`` runs under :func:`run_app` (one line
    and an exit code for every way it can stop) and ``show(result, cfg, output folder)`` prints what
    the user reads first, followed by where the results are and how long they took. ``setup`` runs
    first inside the Hydra job (e.g. to quiet a library's logging)."""

    @hydra.main(version_base="1.3", config_path=str(APP_CONFIG_DIR), config_name=config_name)
    def main(cfg: DictConfig) -> None:
        started = time.perf_counter()
        if setup is not None:
            setup()
        out = Path(HydraConfig.get().runtime.output_dir).resolve()
        typed = OmegaConf.to_object(cfg)
        result = run_app(lambda: job(typed, out, started))
        show(result, typed, out)
        print(f"results ({elapsed(started)}): {out}")

    def entry() -> None:
        checked_entry(config_name, schema, check, main, doc_module=job.__module__)

    return entry


def checked_entry(
    config_name: str,
    schema: type,
    validate: Callable[[Any], None],
    hydra_main: Callable[[], Any],
    config_dir: Path = APP_CONFIG_DIR,
    doc_module: str | None = None,
) -> None:
    """An app's console entry: ``--help`` lists its keys (the first line of ``doc_module``'s docstring,
    by default the Hydra function's module, says what the app does); else check the command line
    (one-line error, exit 2), then run Hydra."""
    if wants_help(sys.argv[1:]):
        module = doc_module or hydra_main.__module__
        doc = (sys.modules[module].__doc__ or config_name).strip().splitlines()[0]
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        prog = (spec.name if spec else module).removesuffix(".__main__")
        print(app_help(config_dir / f"{config_name}.yaml", doc, f"python -m {prog} [key=value ...]",
                       [("hydra.run.dir=<folder>", "where the results go (the same folder resumes)")],
                       schema=schema))
        return
    try:
        prevalidate(sys.argv[1:], config_name, schema, validate, config_dir=config_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    _snapshot_hydra_files(sys.argv[1:])
    hydra_main()


# The files of ``<hydra.run.dir>/.hydra`` as they were before Hydra started this job (it rewrites them
# before the app runs): put back when the app refuses the folder, so that a refused command leaves
# a finished folder exactly as it was.
_HYDRA_SNAPSHOT: dict[Path, bytes] = {}


def _snapshot_hydra_files(argv: Sequence[str]) -> None:
    _HYDRA_SNAPSHOT.clear()
    for arg in argv:
        if arg.startswith("hydra.run.dir="):
            folder = Path(arg.split("=", 1)[1]).expanduser().resolve() / ".hydra"
            if folder.is_dir():
                _HYDRA_SNAPSHOT.update({f: f.read_bytes() for f in folder.iterdir() if f.is_file()})


def _restore_hydra_files() -> None:
    for path, data in _HYDRA_SNAPSHOT.items():
        with contextlib.suppress(OSError):
            if path.read_bytes() != data:
                atomic_write(path, data)


def run_app(job: Callable[[], Any]) -> Any:
    """Run an app's job, turning the runner's outcomes into one line and an exit code: bad settings
    and unusable runs 2, a failed run or an unwritable file 1, SIGINT 130, SIGTERM 143 (also while
    tables and figures are written; the finished runs are on disk either way).

    Once a signal has arrived, whatever comes out of the job is its consequence (the interrupt can
    land inside a library that turns it into an error of its own), so it ends in the stop line."""
    received: list[int] = []
    try:
        with stop_on_signals() as received:
            return job()
    except Interrupted as exc:
        print(str(exc), file=sys.stderr, flush=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, Exception) as exc:
        if isinstance(exc, KeyboardInterrupt) or received:
            signum = received[0] if received else signal.SIGINT
            print(f"stopped by {signal.Signals(signum).name}; run the same command again with the same "
                  "hydra.run.dir to resume", file=sys.stderr, flush=True)
            sys.exit(128 + signum)
        if isinstance(exc, ConfigError):
            fail(str(exc), 2)
        if isinstance(exc, RunnerError):
            refused = isinstance(exc, FolderRefused) or str(exc).startswith("reuse=true")
            if refused:
                _restore_hydra_files()
            fail(str(exc), 2 if refused else 1)
        if isinstance(exc, OSError):
            fail(f"cannot read or write {exc.filename or 'the results'}: {exc.strerror or exc}", 1)
        raise


def seed_list(first: int, n: int) -> list[int]:
    return list(range(first, first + n))


def elapsed(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


