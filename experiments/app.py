"""What the experiment apps share: checking the command line before Hydra starts, model sweep settings,
reading back a run's config, and a one-line exit on bad input."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from experiments.config import EXPERIMENT_CONFIG_DIR, model_overrides
from experiments.sweep import SweepError, resolve_jobs, run_sweep
from sim.cli import parse_cli_overrides
from sim.config import CONFIG_DIR, ConfigError, describe_omegaconf_error
from sim.results import finished_runs

APP_CONFIG_DIR = CONFIG_DIR / EXPERIMENT_CONFIG_DIR


def prevalidate(
    argv: list[str],
    config_name: str,
    schema: type,
    validate: Callable[[Any], None],
    config_dir: Path = APP_CONFIG_DIR,
) -> None:
    """Check every value of every override against the app's schema and ranges; raise ConfigError."""
    overrides = parse_cli_overrides(argv)
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
        values = list(ov.sweep_iterator()) if ov.is_sweep_override() else [ov.value()]
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


def checked_entry(
    config_name: str,
    schema: type,
    validate: Callable[[Any], None],
    hydra_main: Callable[[], Any],
    config_dir: Path = APP_CONFIG_DIR,
) -> None:
    """An app's console entry: check the command line (one-line error, exit 2), then run Hydra."""
    try:
        prevalidate(sys.argv[1:], config_name, schema, validate, config_dir=config_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    hydra_main()


def seed_list(first: int, n: int) -> list[int]:
    return list(range(first, first + n))


def common_sim_overrides(cfg: Any) -> list[str]:
    """The model overrides every run of an experiment shares (profile, scale, horizon, budget, extras)."""
    return [f"population={cfg.population}", f"network={cfg.network}", *model_overrides(cfg)]


def sweep_runs(cfg: Any, runs_dir: Path, overrides: list[str], n_runs: int, intro: str) -> list[Path]:
    """Run the model sweep into ``runs_dir``, or with ``cfg.reuse`` take the finished runs already there."""
    existing = finished_runs(runs_dir) if runs_dir.exists() else []
    if cfg.reuse:
        if not existing:
            raise SweepError(f"reuse=true but {runs_dir} holds no finished runs")
        return existing
    if existing:
        raise SweepError(f"{runs_dir} already holds {len(existing)} finished runs; set reuse=true to "
                         "report on them or choose another hydra.run.dir")
    print(f"{intro}, {resolve_jobs(cfg.n_jobs) if cfg.launcher == 'joblib' else 1} at a time "
          f"({cfg.launcher} launcher)", flush=True)
    return run_sweep(overrides, runs_dir, n_runs, cfg.launcher, cfg.n_jobs, cfg.progress, desc="runs")


def load_run_config(run_dir: Path) -> dict[str, Any]:
    with open(run_dir / ".hydra" / "config.yaml") as fh:
        return yaml.safe_load(fh)


def elapsed(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


@functools.cache
def known_summary_metrics() -> tuple[str, ...]:
    """The names of the per-run summary metrics (from a one-month run of a tiny model)."""
    from experiments.aggregate import ID_COLUMNS
    from sim.model import DigitalAdoptionModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    model = DigitalAdoptionModel(population="small", n_citizens=300, steps=1, overrides={"progress": False})
    summary = model.run().summary()
    return tuple(k for k, v in summary.items() if not isinstance(v, str) and k not in ID_COLUMNS)


def fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
