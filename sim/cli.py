"""The Hydra app: ``python -m sim`` runs one simulation; ``python -m sim -m ...`` sweeps.

Before Hydra starts, the command-line overrides are checked against the schema and the range rules
(every value of every sweep), so that a bad value stops the run with one line naming the key, the
value and what is allowed, before any job starts or any result folder is written.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.config import CONFIG_DIR, ConfigError, SimConfig, compose, to_sim_config
from sim.model import DigitalAdoptionModel
from sim.results import write_run

GROUPS = ("population", "network", "policy")
HEADLINE = (
    ("adoption_final", "final adoption", "{:.1%}"),
    ("adoption_urban_final", "  urban", "{:.1%}"),
    ("adoption_rural_final", "  rural", "{:.1%}"),
    ("months_to_25pct", "months to 25%", "{}"),
    ("gap_urban_rural", "urban-rural gap", "{:+.3f}"),
    ("gap_income_q5_q1", "richest-poorest gap", "{:+.3f}"),
    ("gap_region_max_min", "island-group gap", "{:.3f}"),
    ("concentration_index", "concentration index", "{:+.3f}"),
    ("trust_mean_final", "mean trust", "{:.3f}"),
    ("digital_staff_share_final", "civil servants digital", "{:.1%}"),
    ("cost_idr_bn", "cost (IDR bn)", "{:,.0f}"),
)

ConfigStore.instance().store(name="base_config", node=SimConfig)


def _override_values(override: Any) -> list[Any]:
    if override.is_sweep_override():
        return list(override.sweep_iterator())
    return [override.value()]


def parse_cli_overrides(argv: list[str]) -> list[Any]:
    """Hydra's parse of the command line's overrides; a malformed one raises a one-line ConfigError."""
    from hydra._internal.utils import get_args_parser

    args, _ = get_args_parser().parse_known_args(argv)
    parser = OverridesParser.create()
    overrides = []
    for text in args.overrides:
        try:
            overrides.extend(parser.parse_overrides([text]))
        except HydraException as exc:
            first = str(exc).strip().splitlines()[0]
            raise ConfigError(f"{text!r}: malformed override ({first}); expected key=value") from None
    return overrides


def prevalidate(argv: list[str]) -> None:
    """Compose the config for every value of every override; raise ConfigError on the first bad one."""
    overrides = parse_cli_overrides(argv)
    groups: dict[str, list[Any]] = {}
    values: dict[str, list[Any]] = {}
    for ov in overrides:
        key = ov.key_or_group
        if key.startswith("hydra") or ov.is_delete():
            continue
        if "/" in key:
            raise ConfigError(f"{key}: unknown config group; allowed: {', '.join(GROUPS)}")
        target = groups if key in GROUPS else values
        target[key] = _override_values(ov)
    base_groups = {g: str(v[0]) for g, v in groups.items()}
    base_values = {k: v[0] for k, v in values.items()}
    compose(**base_groups, overrides=base_values)
    for g, options in groups.items():
        for option in options[1:]:
            compose(**{**base_groups, g: str(option)}, overrides=base_values)
    for k, options in values.items():
        for option in options[1:]:
            compose(**base_groups, overrides={**base_values, k: option})


def _print_summary(summary: dict[str, Any], out_dir: Path) -> None:
    print(f"\n{summary['policy']} | {summary['population']} | {summary['n_citizens']:,} citizens | "
          f"{summary['months']} months | seed {summary['seed']}")
    for key, label, fmt in HEADLINE:
        value = summary.get(key)
        print(f"  {label:<24} {'never' if value is None else fmt.format(value)}")
    print(f"results: {out_dir}")


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> dict[str, Any]:
    """Run one simulation and write its results into Hydra's output folder."""
    try:
        sim_cfg = to_sim_config(cfg)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # no per-step log lines
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun:
        sim_cfg.progress = False
    model = DigitalAdoptionModel(config=sim_cfg).run()
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    summary = model.summary()
    write_run(out_dir, summary, model.timeseries())
    if multirun:
        print(f"{summary['policy']} seed {summary['seed']}: adoption "
              f"{summary['adoption_final']:.1%} -> {out_dir}")
    else:
        _print_summary(summary, out_dir)
    return summary


def entry() -> None:
    """Console entry point: validate the overrides, then hand over to Hydra."""
    try:
        prevalidate(sys.argv[1:])
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    main()
