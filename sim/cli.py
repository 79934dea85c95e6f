"""The Hydra app: ``python -m sim`` runs one simulation; ``python -m sim -m ...`` sweeps.

Before Hydra starts, the command-line overrides are checked against the schema and the range rules
(every value of every sweep), so that a bad value stops the run with one line naming the key, the
value and what is allowed, before any job starts or any result folder is written.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import hydra
import yaml
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config import (
    CALIBRATED,
    CONFIG_DIR,
    ConfigError,
    SimConfig,
    apply_overrides,
    compose,
    describe_omegaconf_error,
    parameter_set_name,
    refuse_interpolation,
    to_sim_config,
    with_changes,
)
from sim.help import sim_help, wants_help
from sim.model import DigitalAdoptionModel
from sim.rules.trends import add_months
from sim.store.files import model_files, write_files
from sim.summary import label as output_label

GROUPS = ("population", "network", "policy", "parameters", "portfolio")
# The outputs a single run prints, each with its format; the labels are the declared ones (sim.summary).
HEADLINE = (
    ("adoption_final", "{:.1%}"),
    ("ever_used_connected_final", "{:.1%}"),
    ("adoption_urban_final", "{:.1%}"),
    ("adoption_rural_final", "{:.1%}"),
    ("months_to_25pct", "{}"),
    ("gap_urban_rural", "{:+.3f}"),
    ("gap_income_q5_q1", "{:+.3f}"),
    ("gap_region_max_min", "{:.3f}"),
    ("concentration_index", "{:+.3f}"),
    ("trust_mean_final", "{:.3f}"),
    ("digital_staff_share_final", "{:.1%}"),
    ("cost_idr_bn", "{:,.0f}"),
)

ConfigStore.instance().store(name="base_config", node=SimConfig)
# ``${pid:}`` in the default output folders: with the time to the microsecond, two runs started in the
# same second (even the same microsecond, by two processes) never share a folder.
OmegaConf.register_new_resolver("pid", os.getpid, replace=True)


def override_values(override: Any) -> list[Any]:
    """Every value a command-line override takes (one, or each of a sweep); an empty sweep such as
    ``seed=range(0,-3)`` is refused, since it would start no job and report nothing."""
    if not override.is_sweep_override():
        return [override.value()]
    values = list(override.sweep_iterator())
    if not values:
        text = override.input_line or override.key_or_group
        raise ConfigError(f"{text}: an empty sweep; allowed: at least one value")
    return values


def check_boolean(schema: type, key: str, value: Any) -> None:
    """A true/false setting given as anything but true or false is refused: OmegaConf would turn
    ``progress=2`` into true, and ``quick=0`` into false, without a word."""
    node: Any = schema
    for part in key.split("."):
        if not is_dataclass(node):
            return
        hints = get_type_hints(node)
        if part not in hints:
            return
        node = hints[part]
    if node is bool and not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r}: not true or false; allowed: true or false")


def parse_cli_overrides(argv: list[str]) -> list[Any]:
    """Hydra's parse of the command line's overrides; a malformed one raises a one-line ConfigError."""
    overrides = []
    parser = OverridesParser.create()
    for text in _cli_args(argv).overrides:
        try:
            overrides.extend(parser.parse_overrides([text]))
        except HydraException as exc:
            first = str(exc).strip().splitlines()[0]
            hint = (" (letters outside ASCII: quote the value, e.g. policy.name='pelatihan_désa')"
                    if not text.isascii() else "")
            raise ConfigError(f"{text!r}: malformed override ({first}){hint}; expected key=value") from None
    return overrides


def _cli_args(argv: list[str]) -> Any:
    from hydra._internal.utils import get_args_parser

    args, _ = get_args_parser().parse_known_args(argv)
    return args


def _yaml_problem(path: Path) -> str | None:
    try:
        yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        return str(exc).splitlines()[0]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return f"{problem} at line {mark.line + 1}" if mark else problem
    return None


def config_dirs(argv: list[str]) -> list[Path]:
    """The folders named by ``--config-dir`` / ``--config-path``, each checked to exist and to hold
    only readable YAML (Hydra would otherwise skip a broken file and call its option unknown)."""
    args = _cli_args(argv)
    out = []
    for flag, value in (("--config-path", args.config_path), ("--config-dir", args.config_dir)):
        if value is None:
            continue
        folder = Path(value).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError(f"{flag}={value}: not a folder; allowed: a folder of YAML config files")
        for path in sorted(folder.rglob("*.yaml")):
            problem = _yaml_problem(path)
            if problem:
                raise ConfigError(f"{flag}={value}: {path.relative_to(folder)}: broken YAML ({problem}); "
                                  "allowed: valid YAML")
        out.append(folder)
    return out


def _writable_folder_problem(path: Path) -> str | None:
    """Why results could not be written below ``path`` (None if they can), without writing anything."""
    probe = path.expanduser().absolute()
    while not probe.exists():
        if probe.parent == probe:
            return "no existing parent folder"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:  # the only sure test is to try: an empty folder, removed at once
        os.rmdir(tempfile.mkdtemp(prefix=".write-test-", dir=probe))
    except OSError as exc:
        return f"{probe}: {exc.strerror or exc}"
    return None


OUTPUT_KEYS = ("hydra.run.dir", "hydra.sweep.dir")


def check_hydra_overrides(overrides: list[Any]) -> None:
    """Hydra settings that would otherwise fail with a traceback, or write where they should not."""
    given = set()
    for ov in overrides:
        key = ov.key_or_group
        if not key.startswith("hydra") or ov.is_delete():
            continue
        for value in override_values(ov):
            if key in (*OUTPUT_KEYS, "hydra.sweep.subdir"):
                given.add(key)
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(f"{key}={value!r}: an empty folder name; allowed: a folder path")
                if key in OUTPUT_KEYS and "${" not in value:
                    problem = _writable_folder_problem(Path(value))
                    if problem:
                        raise ConfigError(f"{key}={value}: cannot write results there ({problem}); "
                                          "allowed: a writable folder")
            if key == "hydra.launcher.n_jobs" and (not isinstance(value, int) or isinstance(value, bool)
                                                   or value == 0):
                raise ConfigError(f"{key}={value!r}: not a number of jobs; allowed: -1 (every core) or "
                                  "an integer >= 1")
    if not given & set(OUTPUT_KEYS):
        problem = _writable_folder_problem(Path.cwd() / "outputs")
        if problem:
            raise ConfigError(f"hydra.run.dir=outputs/...: cannot write results in the current folder "
                              f"({problem}); allowed: a writable folder (set hydra.run.dir=...)")


def refuse_cli_interpolations(overrides: list[Any]) -> None:
    """No ``${...}`` in the model's values: it would be resolved and written into the results."""
    for ov in overrides:
        key = ov.key_or_group
        if key.startswith("hydra") or ov.is_delete():
            continue
        strings = list(ov.sweep_string_iterator()) if ov.is_sweep_override() else [
            ov.get_value_element_as_str()]
        for text in strings:
            refuse_interpolation(key, text)


def _hydra_compose(folders: list[Path], groups: dict[str, str]) -> SimConfig:
    """The config Hydra itself would compose with these config folders and group choices."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    primary = next((f for f in folders if (f / "config.yaml").exists()), CONFIG_DIR)
    extra = [f for f in folders if f != primary]
    overrides = [f"{g}={o}" for g, o in groups.items()]
    if extra:
        overrides.append("hydra.searchpath=[" + ",".join(f"file://{f}" for f in extra) + "]")
    try:
        with initialize_config_dir(config_dir=str(primary), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=overrides)
    except HydraException as exc:
        raise ConfigError(str(exc).strip().splitlines()[0]) from None
    except OmegaConfBaseException as exc:
        raise ConfigError(describe_omegaconf_error(exc)) from None
    return to_sim_config(cfg)


def prevalidate(argv: list[str]) -> None:
    """Compose the config for every value of every override; raise ConfigError on the first bad one."""
    folders = config_dirs(argv)
    overrides = parse_cli_overrides(argv)
    check_hydra_overrides(overrides)
    refuse_cli_interpolations(overrides)
    groups: dict[str, list[Any]] = {}
    values: dict[str, list[Any]] = {}
    for ov in overrides:
        key = ov.key_or_group
        if key.startswith("hydra") or ov.is_delete():
            continue
        if "/" in key:
            raise ConfigError(f"{key}: unknown config group; allowed: {', '.join(GROUPS)}")
        target = groups if key in GROUPS else values
        target[key] = override_values(ov)
        for value in target[key]:
            check_boolean(SimConfig, key, value)
    base_groups = {g: str(v[0]) for g, v in groups.items()}
    base_values = {k: v[0] for k, v in values.items()}

    def build(choice: dict[str, str], extra: dict[str, Any]) -> None:
        if folders:
            apply_overrides(_hydra_compose(folders, choice), extra)
        else:
            compose(**choice, overrides=extra)

    build(base_groups, base_values)
    for g, options in groups.items():
        for option in options[1:]:
            build({**base_groups, g: str(option)}, base_values)
    for k, options in values.items():
        for option in options[1:]:
            build(base_groups, {**base_values, k: option})


def _print_summary(summary: dict[str, Any], out_dir: Path, cfg: SimConfig) -> None:
    start = add_months(cfg.start_date, summary["forecast_from_month"])
    end = add_months(cfg.start_date, summary["months"] - 1)
    print(f"\n{summary['policy']} | {summary['population']} | {summary['n_citizens']:,} citizens | "
          f"{summary['months']} months from {cfg.start_date} | seed {summary['seed']}\n"
          f"parameters: {cfg.parameter_set}\n"
          f"figures below: {start} to {end} (from the policy start; sums and times over these months)")
    width = max(len(output_label(key)) for key, _ in HEADLINE)
    for key, fmt in HEADLINE:
        value = summary.get(key)
        print(f"  {output_label(key):<{width}} {'never' if value is None else fmt.format(value)}")
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
        sim_cfg = with_changes(sim_cfg, progress=False)
    model = DigitalAdoptionModel(config=sim_cfg).run()
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    summary = model.summary()
    try:
        write_files(out_dir, model_files(model, sim_cfg))
    except OSError as exc:
        print(f"error: cannot write the results into {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(1)
    if multirun:
        print(f"{summary['policy']} seed {summary['seed']}: adoption "
              f"{summary['adoption_final']:.1%} -> {out_dir}")
    else:
        _print_summary(summary, out_dir, sim_cfg)
    return summary


def portfolio_parameters(argv: list[str]) -> list[str]:
    """The command line with the portfolio's own calibrated parameter set chosen when it names one
    portfolio and no parameter set (:func:`sim.config.parameter_set_name`), as ``compose`` and the
    apps choose it; Hydra's defaults list alone would take ``calibrated.yaml`` for every portfolio."""
    chosen = [a.split("=", 1)[1] for a in argv if a.startswith("portfolio=")]
    if len(chosen) != 1 or "," in chosen[0] or any(a.startswith("parameters=") for a in argv):
        return argv
    name = parameter_set_name(CALIBRATED, chosen[0].strip())
    return argv if name == CALIBRATED else [*argv, f"parameters={name}"]


def entry() -> None:
    """Console entry point: validate the overrides, then hand over to Hydra."""
    if wants_help(sys.argv[1:]):
        print(sim_help())
        return
    try:
        prevalidate(sys.argv[1:])
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.argv[1:] = portfolio_parameters(sys.argv[1:])
    main()
