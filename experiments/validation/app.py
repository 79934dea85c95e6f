"""The validation app: ``python -m experiments.validation`` (Hydra config
``configs/experiment/validate.yaml``).

It runs the selected cases (:mod:`experiments.validation.cases`), scores them
(:mod:`experiments.validation.scoring`) and writes ``validation.json``, ``validation.md``,
``validation.html`` and ``figures/`` into the Hydra run folder (``outputs/validate/<time>``), whose
path it prints. ``quick=true`` shrinks every case to a size that runs in seconds (for tests; its
numbers are not evidence). Bad input stops it with one line and exit status 2; ``strict=true`` exits
with status 1 when a scored check fails.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.engine.app import APP_CONFIG_DIR, checked_entry, run_app
from experiments.engine.settings import Workers, check_settings
from experiments.engine.targets import national_targets
from experiments.validation.cases.ablation import ablation_case
from experiments.validation.cases.bass import bass_case
from experiments.validation.cases.granovetter import granovetter_case
from experiments.validation.cases.indonesia import indonesia_case
from experiments.validation.cases.interactions import interactions_case
from experiments.validation.cases.limits import limits_case
from experiments.validation.cases.mechanics import mechanics_case
from experiments.validation.cases.observed import load_checks, observed_case, resolve
from experiments.validation.cases.patterns import patterns_case
from experiments.validation.cases.watts import watts_case
from experiments.validation.report import write_report
from experiments.validation.runner import runner_settings
from experiments.validation.scoring import CaseResult, tally
from sim.config import LEVERS, ConfigError

CASES = ("bass", "granovetter", "watts", "limits", "indonesia", "observed", "ablation", "interactions",
         "mechanics", "patterns")


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
class LimitsCase:
    n_citizens: int = 50_000
    seeds: int = 4
    steps: int = 36
    tolerance: float = 0.005  # share, plus 4 binomial standard errors of the seed mean


@dataclass
class IndonesiaCase:
    n_citizens: int = 200_000
    tolerance_pp: float = 2.0


@dataclass
class ObservedCase:
    # the calibration's posterior predictive checks, and the targets file naming the held-out and
    # growth targets (relative paths from the repository root)
    calibration: str = "experiments/data/calibration_indonesia.json"
    targets: str = "configs/calibration/targets.yaml"


@dataclass
class AblationCase:
    n_citizens: int = 50_000
    seeds: int = 10
    steps: int = 60
    confidence: float = 0.95  # of the paired t-interval


@dataclass
class InteractionsCase:
    n_citizens: int = 50_000
    seeds: int = 10
    steps: int = 60
    share: float = 0.5  # budget share of each lever, alone or together
    pairs: list[list[str]] = field(default_factory=lambda: [
        ["training", "infrastructure"], ["literacy", "accessibility"], ["transparency", "security"]])
    outcome: str = "adoption_final"
    confidence: float = 0.95


@dataclass
class MechanicsCase:
    n_citizens: int = 20_000
    seeds: int = 8
    steps: int = 60
    mandate_month: int = 24  # the mandate starts here
    end_month: int = 24  # spending stops here (persistence)
    confidence: float = 0.95


@dataclass
class PatternsCase:
    n_citizens: int = 20_000
    seeds: int = 8
    mandate_month: int = 24  # a digital-first mandate starts here (its first month is scored)
    plateau_steps: int = 240  # months of the baseline over which uptake must plateau
    stall_tolerance: float = 0.01  # share: the most ever-used may still rise over the last 24 months
    assisted_steps: int = 60  # months of the service-centre scenario against the baseline
    confidence: float = 0.95  # of the paired interval of the assisted-channel contrast


@dataclass
class ValidateConfig(Workers):
    """The suite's settings: how runs execute (:class:`~experiments.engine.settings.Workers`, shared
    with the other apps), which cases run, and each case's sizes and tolerances."""

    seed: int = 1  # first seed; cases use seed, seed+1, ...
    quick: bool = False  # tiny sizes for tests: the numbers are not evidence
    cases: list[str] = field(default_factory=lambda: list(CASES))
    strict: bool = False  # exit with status 1 if a scored check fails
    bass: BassCase = field(default_factory=BassCase)
    granovetter: GranovetterCase = field(default_factory=GranovetterCase)
    watts: WattsCase = field(default_factory=WattsCase)
    limits: LimitsCase = field(default_factory=LimitsCase)
    indonesia: IndonesiaCase = field(default_factory=IndonesiaCase)
    observed: ObservedCase = field(default_factory=ObservedCase)
    ablation: AblationCase = field(default_factory=AblationCase)
    interactions: InteractionsCase = field(default_factory=InteractionsCase)
    mechanics: MechanicsCase = field(default_factory=MechanicsCase)
    patterns: PatternsCase = field(default_factory=PatternsCase)


ConfigStore.instance().store(name="validate_schema", node=ValidateConfig)


def shrink_for_quick(cfg: ValidateConfig) -> ValidateConfig:
    """``quick=true``: every case at a size that runs in seconds (mechanics only, not evidence)."""
    if not cfg.quick:
        return cfg
    cfg.bass = BassCase(n_citizens=2000, months=12, seeds=2, substeps=2, p=cfg.bass.p, q=cfg.bass.q)
    cfg.granovetter = GranovetterCase(agents=20)
    cfg.watts = WattsCase(n_nodes=500, degrees=[2.0, 9.0], realisations=5)
    cfg.limits = LimitsCase(n_citizens=2000, seeds=2, steps=12)
    cfg.indonesia = IndonesiaCase(n_citizens=5000)
    # observed runs nothing (it reads the calibration's checks): the same at every size
    cfg.ablation = AblationCase(n_citizens=1000, seeds=3, steps=6)
    cfg.interactions = InteractionsCase(n_citizens=1000, seeds=3, steps=6)
    cfg.mechanics = MechanicsCase(n_citizens=1000, seeds=3, steps=8, mandate_month=3, end_month=3)
    cfg.patterns = PatternsCase(n_citizens=1000, seeds=3, mandate_month=3, plateau_steps=30,
                                assisted_steps=12)
    return cfg


def check_config(cfg: ValidateConfig) -> None:
    """Range checks; raises ConfigError with one line naming the key, the value and what is allowed."""
    def need(ok: bool, key: str, value: Any, allowed: str) -> None:
        if not ok:
            raise ConfigError(f"{key}={value!r}: out of range; allowed: {allowed}")

    check_settings(cfg)  # finite numbers, the shared blocks' ranges
    need(len(cfg.cases) >= 1, "cases", list(cfg.cases), f"a non-empty list of {', '.join(CASES)}")
    for name in cfg.cases:
        need(name in CASES, "cases", name, ", ".join(CASES))
    need(len(set(cfg.cases)) == len(cfg.cases), "cases", list(cfg.cases), "a list without repeats")
    need(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    for key in ("bass.tolerance_recursion", "bass.tolerance_closed_form", "watts.tolerance",
                "watts.edge_margin", "limits.tolerance", "indonesia.tolerance_pp"):
        block, name = key.split(".")
        value = getattr(getattr(cfg, block), name)
        need(value >= 0, key, value, "a number >= 0")
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
    lim = cfg.limits
    need(lim.n_citizens >= 100, "limits.n_citizens", lim.n_citizens, "an integer >= 100")
    need(lim.seeds >= 1, "limits.seeds", lim.seeds, "an integer >= 1")
    need(lim.steps >= 1, "limits.steps", lim.steps, "an integer >= 1")
    need(cfg.indonesia.n_citizens >= 1000, "indonesia.n_citizens", cfg.indonesia.n_citizens,
         "an integer >= 1000")
    if "observed" in cfg.cases:  # readable files of the right shape (one-line ConfigError otherwise)
        load_checks(cfg.observed.calibration, "observed.calibration")
        try:
            national_targets(path=resolve(cfg.observed.targets))
        except ConfigError as exc:
            raise ConfigError(f"observed.{exc}") from None
    for key in ("ablation", "interactions", "mechanics"):
        c = getattr(cfg, key)
        need(c.n_citizens >= 100, f"{key}.n_citizens", c.n_citizens, "an integer >= 100")
        need(c.seeds >= 2, f"{key}.seeds", c.seeds, "an integer >= 2 (a paired interval needs two)")
        need(c.steps >= 1, f"{key}.steps", c.steps, "an integer >= 1")
        need(0 < c.confidence < 1, f"{key}.confidence", c.confidence, "a number in (0, 1)")
    mech = cfg.mechanics
    need(0 <= mech.mandate_month < mech.steps, "mechanics.mandate_month", mech.mandate_month,
         f"an integer in [0, steps={mech.steps})")
    need(1 <= mech.end_month <= mech.steps, "mechanics.end_month", mech.end_month,
         f"an integer in [1, steps={mech.steps}]")
    pat = cfg.patterns
    need(pat.n_citizens >= 100, "patterns.n_citizens", pat.n_citizens, "an integer >= 100")
    need(pat.seeds >= 2, "patterns.seeds", pat.seeds, "an integer >= 2 (a standard error needs two)")
    need(pat.mandate_month >= 1, "patterns.mandate_month", pat.mandate_month, "an integer >= 1")
    need(pat.plateau_steps > 24, "patterns.plateau_steps", pat.plateau_steps,
         "an integer > 24 (the stall is judged over the last 24 months)")
    need(0 <= pat.stall_tolerance <= 1, "patterns.stall_tolerance", pat.stall_tolerance,
         "a number in [0, 1]")
    need(pat.assisted_steps >= 1, "patterns.assisted_steps", pat.assisted_steps, "an integer >= 1")
    need(0 < pat.confidence < 1, "patterns.confidence", pat.confidence, "a number in (0, 1)")
    x = cfg.interactions
    need(0 < x.share <= 0.5, "interactions.share", x.share, "a number in (0, 0.5] (two levers share "
         "one budget)")
    for pair in x.pairs:
        need(len(pair) == 2 and pair[0] != pair[1] and all(p in LEVERS for p in pair),
             "interactions.pairs", list(pair), f"pairs of two different levers from {', '.join(LEVERS)}")


def _commit() -> str | None:
    """The code's git commit (for provenance of the numbers), or None outside a repository."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=10, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def run_validation(cfg: ValidateConfig, out: Path) -> tuple[dict[str, CaseResult], Path, Path]:
    """Run the selected cases and write the report into ``out``; returns results and json/md paths."""
    cfg = shrink_for_quick(cfg)
    check_config(cfg)
    results: dict[str, CaseResult] = {}
    wall: dict[str, float] = {}
    seeds = lambda k: [cfg.seed + i for i in range(k)]  # noqa: E731
    par = {"n_jobs": cfg.n_jobs, "progress": cfg.progress}
    cache: dict = {}  # runs shared between the ablation and the interactions

    def timed(name: str, fn, *args, **kwargs) -> None:
        start = time.perf_counter()
        print(f"[validate] {name} ...", flush=True)
        results[name] = fn(*args, **kwargs)
        wall[name] = time.perf_counter() - start
        t = tally(results[name].checks)
        counted = f"{t['passed']}/{t['scored']} scored checks pass" if t["scored"] else "reported only"
        print(f"[validate] {name}: {counted} ({wall[name]:.0f} s)", flush=True)

    if "bass" in cfg.cases:
        b = cfg.bass
        timed("bass", bass_case, b.n_citizens, b.p, b.q, b.months, seeds(b.seeds), b.substeps,
              b.tolerance_recursion, b.tolerance_closed_form, **par)
    if "granovetter" in cfg.cases:
        timed("granovetter", granovetter_case, cfg.granovetter.agents)
    if "watts" in cfg.cases:
        w = cfg.watts
        timed("watts", watts_case, w.n_nodes, list(w.degrees), w.threshold, w.realisations,
              w.global_share, cfg.seed, w.edge_margin, w.tolerance, **par)
    if "limits" in cfg.cases:
        lim = cfg.limits
        timed("limits", limits_case, lim.n_citizens, seeds(lim.seeds), lim.steps, lim.tolerance, **par)
    if "indonesia" in cfg.cases:
        timed("indonesia", indonesia_case, cfg.indonesia.n_citizens, cfg.seed, cfg.indonesia.tolerance_pp)
    if "observed" in cfg.cases:
        timed("observed", observed_case, cfg.observed.calibration, cfg.observed.targets)
    if "ablation" in cfg.cases:
        a = cfg.ablation
        timed("ablation", ablation_case, a.n_citizens, seeds(a.seeds), a.steps, a.confidence,
              cache=cache, **par)
    if "interactions" in cfg.cases:
        x = cfg.interactions
        timed("interactions", interactions_case, [tuple(p) for p in x.pairs], x.n_citizens,
              seeds(x.seeds), x.steps, x.share, x.outcome, x.confidence, cache=cache, **par)
    if "mechanics" in cfg.cases:
        m = cfg.mechanics
        timed("mechanics", mechanics_case, m.n_citizens, seeds(m.seeds), m.steps, m.mandate_month,
              m.end_month, m.confidence, cache=cache, **par)
    if "patterns" in cfg.cases:
        p = cfg.patterns
        timed("patterns", patterns_case, p.n_citizens, seeds(p.seeds), p.mandate_month, p.plateau_steps,
              p.stall_tolerance, p.assisted_steps, p.confidence, cache=cache, **par)
    config = OmegaConf.to_container(OmegaConf.structured(cfg))
    json_path, md_path = write_report(out, results, config, wall, _commit())
    return results, json_path, md_path


def run_validation_in(cfg: ValidateConfig, out: Path) -> tuple[dict[str, CaseResult], Path, Path]:
    """:func:`run_validation` with every model run written below ``out/runs`` by the project runner
    (a second run into the same folder resumes)."""
    with runner_settings(out, cfg.launcher, cfg.ray_address):
        return run_validation(cfg, out)


@hydra.main(version_base="1.3", config_path=str(APP_CONFIG_DIR), config_name="validate")
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
    results, json_path, md_path = run_app(lambda: run_validation_in(cfg, out))
    rows = [r for res in results.values() for r in res.checks]
    t = tally(rows)
    for r in rows:
        if r["scored"] and not r["passed"]:
            print(f"  FAIL [{r['case']}] {r['name']}: {r['reason']}")
    print(f"\n{t['passed']} of {t['scored']} scored checks pass ({t['reported']} reported, "
          f"{sum(len(r.identities) for r in results.values())} identities; "
          f"{time.perf_counter() - start:.0f} s)")
    print(f"report: {md_path}\nresults: {json_path}\nfolder: {out}")
    if cfg.strict and t["failed"]:
        sys.exit(1)
    return t["passed"]


def entry() -> None:
    """Check the command line's overrides (one-line error, exit 2), then hand over to Hydra."""
    checked_entry("validate", ValidateConfig, check_config, main)
