"""``python -m experiments.validate``: reproduce published results, match Indonesian data, show each factor.

A Hydra app (config ``configs/validate.yaml``; schema :class:`ValidateConfig`). It runs the cases in
:mod:`experiments.validation_cases` and writes ``validation.json``, ``validation.md`` and
``figures/`` into the Hydra run folder (``outputs/validate/<time>`` by default), whose path it prints.
Override anything on the command line, e.g. a quick run::

    python -m experiments.validate cases=[bass,granovetter] bass.n_citizens=20000 bass.seeds=3

See docs/validation.md for what is reproduced, how well, and what the model cannot claim.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.app import checked_entry
from experiments.validation_cases import (
    Check,
    ablation_case,
    bass_case,
    granovetter_case,
    indonesia_case,
    serial,
    watts_case,
)
from experiments.validation_report import write_report
from sim.config import CONFIG_DIR, ConfigError, group_options

CASES = ("bass", "granovetter", "watts", "indonesia", "ablation")


@dataclass
class BassCase:
    n_citizens: int = 100_000
    p: float = 0.03  # innovation coefficient, per month
    q: float = 0.38  # imitation coefficient, per month
    months: int = 36
    seeds: int = 10
    substeps: int = 8  # steps per month of the finer-time-step run
    tolerance_recursion: float = 0.005  # max |mean adoption - recursion|, share
    tolerance_closed_form: float = 0.01  # around the known discretisation error, share


@dataclass
class GranovetterCase:
    agents: int = 100


@dataclass
class WattsCase:
    n_nodes: int = 10_000
    threshold: float = 0.18
    degrees: list[float] = field(default_factory=lambda: [1.0 + 0.5 * i for i in range(19)])
    realisations: int = 100  # per mean degree
    global_share: float = 0.1  # a cascade is global above this share of nodes
    edge_margin: float = 0.4  # mean degrees this close to an analytic window edge: reported only
    tolerance: float = 0.05  # allowance on |frequency - analytic probability|, plus 3 s.e.


@dataclass
class IndonesiaCase:
    n_citizens: int = 200_000
    tolerance_pp: float = 2.0


@dataclass
class AblationCase:
    n_citizens: int = 50_000
    seeds: int = 8
    steps: int = 60
    policy: str = "comprehensive"
    diagnostic_without_breaches: bool = True  # repeat with breach_base=0 (explains the spread)


@dataclass
class ValidateConfig:
    seed: int = 1  # first seed; cases use seed, seed+1, ...
    n_jobs: int = 1  # worker processes for the Watts and ablation runs
    cases: list[str] = field(default_factory=lambda: list(CASES))
    strict: bool = False  # exit with status 1 if any check fails
    bass: BassCase = field(default_factory=BassCase)
    granovetter: GranovetterCase = field(default_factory=GranovetterCase)
    watts: WattsCase = field(default_factory=WattsCase)
    indonesia: IndonesiaCase = field(default_factory=IndonesiaCase)
    ablation: AblationCase = field(default_factory=AblationCase)


ConfigStore.instance().store(name="validate_schema", node=ValidateConfig)


def check_config(cfg: ValidateConfig) -> None:
    """Range checks; raises ConfigError with one line naming the key, the value and what is allowed."""
    def need(ok: bool, key: str, value: Any, allowed: str) -> None:
        if not ok:
            raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")

    for name in cfg.cases:
        need(name in CASES, "cases", name, ", ".join(CASES))
    need(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    need(cfg.n_jobs >= 1, "n_jobs", cfg.n_jobs, "an integer >= 1")
    b = cfg.bass
    need(b.n_citizens >= 100, "bass.n_citizens", b.n_citizens, "an integer >= 100")
    need(0 < b.p <= 1, "bass.p", b.p, "a number in (0, 1]")
    need(0 <= b.q <= 1, "bass.q", b.q, "a number in [0, 1]")
    need(b.months >= 2, "bass.months", b.months, "an integer >= 2")
    need(b.seeds >= 1, "bass.seeds", b.seeds, "an integer >= 1")
    need(b.substeps >= 1, "bass.substeps", b.substeps, "an integer >= 1")
    need(cfg.granovetter.agents >= 10, "granovetter.agents", cfg.granovetter.agents, "an integer >= 10")
    w = cfg.watts
    need(w.n_nodes >= 10, "watts.n_nodes", w.n_nodes, "an integer >= 10")
    need(0 < w.threshold <= 1, "watts.threshold", w.threshold, "a number in (0, 1]")
    need(len(w.degrees) >= 1 and all(0 < z < w.n_nodes for z in w.degrees), "watts.degrees",
         list(w.degrees), f"a non-empty list of mean degrees in (0, n_nodes={w.n_nodes})")
    need(w.realisations >= 1, "watts.realisations", w.realisations, "an integer >= 1")
    need(0 < w.global_share < 1, "watts.global_share", w.global_share, "a number in (0, 1)")
    need(cfg.indonesia.n_citizens >= 1000, "indonesia.n_citizens", cfg.indonesia.n_citizens,
         "an integer >= 1000")
    a = cfg.ablation
    need(a.n_citizens >= 100, "ablation.n_citizens", a.n_citizens, "an integer >= 100")
    need(a.seeds >= 2, "ablation.seeds", a.seeds, "an integer >= 2 (the spread needs two seeds)")
    need(a.steps >= 1, "ablation.steps", a.steps, "an integer >= 1")
    policies = group_options("policy")
    need(a.policy in policies, "ablation.policy", a.policy, ", ".join(policies))


def make_runner(n_jobs: int):
    """Serial, or joblib worker processes (each task is one whole simulation or realisation set)."""
    if n_jobs == 1:
        return serial

    def parallel(fn, args):
        from joblib import Parallel, delayed

        return Parallel(n_jobs=n_jobs)(delayed(fn)(*a) for a in args)

    return parallel


def run_validation(cfg: ValidateConfig, out: Path) -> tuple[list[Check], Path, Path]:
    """Run the selected cases and write the report into ``out``."""
    runner = make_runner(cfg.n_jobs)
    rows: list[Check] = []
    data: dict[str, Any] = {}
    wall: dict[str, float] = {}
    seeds = lambda k: [cfg.seed + i for i in range(k)]  # noqa: E731

    def timed(name: str, fn, *args, **kwargs) -> None:
        start = time.perf_counter()
        print(f"[validate] {name} ...", flush=True)
        case_rows, case_data = fn(*args, **kwargs)
        wall[name] = time.perf_counter() - start
        rows.extend(case_rows)
        data[name] = case_data
        passed = sum(r["pass"] for r in case_rows)
        print(f"[validate] {name}: {passed}/{len(case_rows)} checks pass ({wall[name]:.0f} s)", flush=True)

    if "bass" in cfg.cases:
        b = cfg.bass
        timed("bass", bass_case, b.n_citizens, b.p, b.q, b.months, seeds(b.seeds), b.substeps,
              b.tolerance_recursion, b.tolerance_closed_form)
    if "granovetter" in cfg.cases:
        timed("granovetter", granovetter_case, cfg.granovetter.agents)
    if "watts" in cfg.cases:
        w = cfg.watts
        timed("watts", watts_case, w.n_nodes, list(w.degrees), w.threshold, w.realisations,
              w.global_share, cfg.seed, w.edge_margin, w.tolerance, runner=runner)
    if "indonesia" in cfg.cases:
        timed("indonesia", indonesia_case, cfg.indonesia.n_citizens, cfg.seed, cfg.indonesia.tolerance_pp)
    if "ablation" in cfg.cases:
        a = cfg.ablation
        timed("ablation", ablation_case, a.n_citizens, seeds(a.seeds), a.steps, a.policy, runner=runner)
        if a.diagnostic_without_breaches:
            timed("ablation_no_breach", ablation_case, a.n_citizens, seeds(a.seeds), a.steps, a.policy,
                  runner=runner, extra={"params.platform.breach_base": 0.0},
                  label="Ablation without security incidents")
    config = OmegaConf.to_container(OmegaConf.structured(cfg))
    json_path, md_path = write_report(out, rows, data, config, wall)
    return rows, json_path, md_path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="validate")
def main(dcfg: DictConfig) -> int:
    cfg: ValidateConfig = OmegaConf.to_object(dcfg)
    try:
        check_config(cfg)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    out = Path(HydraConfig.get().runtime.output_dir)
    start = time.perf_counter()
    rows, json_path, md_path = run_validation(cfg, out)
    passed = sum(r["pass"] for r in rows)
    for r in rows:
        if not r["pass"]:
            print(f"  FAIL {r['case']}: measured {r['measured']:.4g}, expected {r['expected']:.4g} "
                  f"+/- {r['tolerance']:.4g}")
    print(f"\n{passed} of {len(rows)} checks pass ({time.perf_counter() - start:.0f} s)")
    print(f"report: {md_path}\nresults: {json_path}\nfolder: {out}")
    if cfg.strict and passed < len(rows):
        sys.exit(1)
    return passed


def entry() -> None:
    """Check the command line's overrides (one-line error, exit 2), then hand over to Hydra."""
    checked_entry("validate", ValidateConfig, check_config, main, config_dir=CONFIG_DIR)


if __name__ == "__main__":
    entry()
