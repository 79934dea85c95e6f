"""The experiment apps end to end (policy comparison, budget frontier) on the small profile, and the
statistics behind their tables.

Both apps run once, concurrently, as the user runs them (``python -m experiments.<app>`` from the
repository root; the comparison with the joblib launcher, the frontier with the basic one to spare the
cores), writing under pytest's tmp_path only. The runner itself (launchers, resume, reuse, stopping)
is tested in tests/apps/test_runner.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from omegaconf import OmegaConf

from experiments.compare import app as compare
from experiments.compare.app import FIGURES
from experiments.engine import stats, tables
from experiments.engine.app import APP_CONFIG_DIR, prevalidate
from experiments.engine.settings import (
    CompareConfig,
    FrontierConfig,
    model_settings,
    scenario_list,
    validate_compare,
    validate_frontier,
)
from experiments.frontier import algorithm
from experiments.frontier import app as frontier
from sim import summary as outputs
from sim.config import ConfigError, group_options, portable_policies
from tests.conftest import REPO
from tests.unit.test_report import raw_names

SEEDS = 2
STEPS = 6
SCENARIOS = ["baseline", "training", "inclusive", "lagging_provinces"]  # the last targets provinces
N_SPLITS = 3
COMMON = ["population=small", "n_citizens=null", f"seeds={SEEDS}", f"steps={STEPS}", "n_jobs=2",
          "p_best_precision=null"]  # the seeds given, no more
# the frontier: enough seeds (worlds) for a regret per split, still below the bootstrap's minimum
FRONTIER_SEEDS = 4
FRONTIER = ["population=small", "n_citizens=300", f"seeds={FRONTIER_SEEDS}", "steps=13", "n_jobs=2"]
# names of the files the experiments (and the model runs they launch) write
OUTPUT_NAMES = {"runs.parquet", "scenario_summary.csv", "scenario_summary_long.csv", "pairwise.csv",
                "run_summaries.csv", "report.md", "report.html", "frontier.csv", "value_of_information.csv",
                "measure_splits.csv",
                "frontier.png", "frontier.md", "frontier.html", "multirun.yaml",
                "summary.json", "timeseries.parquet", "config.json", "compare.log", "frontier.log", "cli.log",
                *FIGURES.values()}
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _repo_files() -> dict[str, float]:
    out = {}
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(root, name)
            out[str(path.relative_to(REPO))] = path.stat().st_mtime
    return out


def _looks_like_output(rel: str) -> bool:
    """A file these experiments (or the model runs they launch) could have written into the tree.

    Other folders of outputs/ belong to other apps and are left out, so that work going on in the same
    tree at the same time does not count."""
    parts = Path(rel).parts
    if parts[0] == "outputs":
        return len(parts) > 1 and parts[1] in {"compare", "frontier", "compare-multirun",
                                               "frontier-multirun", "sweeps"}
    return parts[0] == "multirun" or Path(rel).name in OUTPUT_NAMES or ".hydra" in parts


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run both apps concurrently from the repository root; return their folders and output."""
    before = _repo_files()
    started = time.time()
    base = tmp_path_factory.mktemp("experiments")
    jobs = {
        "compare": (base / "compare", [
            *COMMON, f"scenarios=[{','.join(SCENARIOS)}]", f"hydra.run.dir={base / 'compare'}"]),
        "frontier": (base / "frontier", [
            *FRONTIER, f"n_splits={N_SPLITS}", "bootstrap=200", "launcher=basic",
            f"hydra.run.dir={base / 'frontier'}"]),
    }
    # a bad setting, alongside: it must stop at once with one line and write nothing
    jobs["bad"] = (base / "bad", ["seeds=1", f"hydra.run.dir={base / 'bad'}"])
    procs = {}
    for name, (_, args) in jobs.items():
        module = "experiments.compare" if name == "bad" else f"experiments.{name}"
        procs[name] = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        out[name] = {"dir": jobs[name][0], "stdout": stdout, "stderr": stderr, "code": proc.returncode}
        if name != "bad":
            assert proc.returncode == 0, f"{name} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}"
    out["new_repo_files"] = [
        rel for rel, mtime in _repo_files().items()
        if _looks_like_output(rel) and (rel not in before or mtime >= started)
    ]
    return out


# --------------------------------------------------------------------------- default configuration
def _app_config(name: str):
    with initialize_config_dir(config_dir=str(APP_CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name=name)


def test_default_comparison_covers_every_scenario_on_indonesia():
    cfg = _app_config("compare")
    assert cfg.scenarios is None and cfg.portfolio == "indonesia"  # null: every runnable scenario
    scenarios = scenario_list(OmegaConf.to_object(cfg))
    assert set(scenarios) == set(group_options("policy")) and set(portable_policies()) < set(scenarios)
    assert len(scenarios) >= 9
    assert cfg.baseline in scenarios
    assert cfg.population == "indonesia" and cfg.seeds >= 10
    assert cfg.launcher == "joblib"


def test_default_frontier_moves_training_against_infrastructure():
    cfg = _app_config("frontier")
    assert ["training", "infrastructure"] in [list(p) for p in cfg.pairs]
    assert cfg.n_splits >= 11 and cfg.seeds >= 5
    points = algorithm.frontier_points([["training", "infrastructure"]], cfg.n_splits)
    shares = [p["share_a"] for p in points]
    assert shares[0] == 0.0 and shares[-1] == 1.0
    for p in points:
        assert sum(p["allocation"].values()) == pytest.approx(1.0)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("app", "schema", "check", "args", "key"), [
    ("compare", CompareConfig, validate_compare, ["seeds=1"], "seeds"),
    ("compare", CompareConfig, validate_compare, ["scenarios=[baseline,nonsense]"], "scenarios"),
    ("compare", CompareConfig, validate_compare, ["baseline=training", "scenarios=[baseline]"], "baseline"),
    ("compare", CompareConfig, validate_compare, ["no_such_key=1"], "no_such_key"),
    ("compare", CompareConfig, validate_compare, ["seeds=abc"], "seeds"),
    ("frontier", FrontierConfig, validate_frontier, ["pairs=[[training,training]]"], "pairs"),
    ("frontier", FrontierConfig, validate_frontier, ["n_splits=1"], "n_splits"),
    ("frontier", FrontierConfig, validate_frontier, ["pairs=[[training,roads]]"], "pairs"),
    ("frontier", FrontierConfig, frontier.check, ["objective=adoption"], "objective"),
    ("compare", CompareConfig, compare.check, ['overrides=["params.adoption.need_rate=7"]'], "need_rate"),
    ("compare", CompareConfig, compare.check, ["overrides=params.adoption.need_rate=0.2"], "overrides"),
    ("compare", CompareConfig, compare.check, ['overrides=["policy.description=${oc.env:HOME}"]'],
     "policy.description"),
    ("compare", CompareConfig, compare.check, ["population=${oc.env:HOME}"], "population"),
    ("compare", CompareConfig, compare.check, ["launcher=spark"], "launcher"),
    ("compare", CompareConfig, compare.check, ["n_jobs=0"], "n_jobs"),
    ("compare", CompareConfig, compare.check, ["budget_idr_bn_per_month=nan"], "budget_idr_bn_per_month"),
    ("compare", CompareConfig, compare.check, ["hydra.run.dir="], "hydra.run.dir"),
    ("compare", CompareConfig, compare.check, ["hydra.run.dir=/proc/x"], "hydra.run.dir"),
    ("frontier", FrontierConfig, frontier.check, ['overrides=["params.adoption.intercept=inf"]'],
     "intercept"),
])
def test_bad_settings_are_rejected_with_one_line(app, schema, check, args, key):
    with pytest.raises(ConfigError) as info:
        prevalidate(args, app, schema, check)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_bad_setting_on_the_command_line_exits_with_one_line(results):
    bad = results["bad"]
    assert bad["code"] == 2
    assert bad["stderr"].strip().startswith("error: seeds=1") and len(bad["stderr"].strip().splitlines()) == 1
    assert not bad["dir"].exists()


# --------------------------------------------------------------------------- statistics
def test_t_interval_matches_the_textbook():
    mean, low, high = stats.t_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2.0  # t(0.975, 3)
    assert mean == 2.5 and low == pytest.approx(2.5 - half) and high == pytest.approx(2.5 + half)
    assert stats.t_interval([0.3, 0.3, 0.3]) == (0.3, 0.3, 0.3)
    assert np.isnan(stats.t_interval([1.0])[1])
    assert stats.t_interval([1.0, np.nan, 3.0])[0] == 2.0


def test_effects_are_paired_by_seed_and_scaled_to_people_and_cost():
    ref = pd.DataFrame({"seed": [0, 1], "adoption_final": [0.40, 0.50], "gap_urban_rural": [0.20, 0.10],
                        "cost_idr_bn": [0.0, 0.0], "population_total": [1e6, 1e6]})
    runs = pd.DataFrame({"seed": [1, 0], "adoption_final": [0.60, 0.45], "gap_urban_rural": [0.05, 0.25],
                         "cost_idr_bn": [100.0, 50.0], "population_total": [1e6, 1e6]})
    eff = stats.paired_effects(runs, ref, ["gap_urban_rural"]).set_index("seed")
    assert eff.loc[1, "additional_adopters"] == pytest.approx(0.10 * 1e6)
    assert eff.loc[0, "additional_adopters"] == pytest.approx(0.05 * 1e6)
    assert eff.loc[1, "additional_adopters_per_idr_bn"] == pytest.approx(1000.0)
    assert eff.loc[0, "gap_urban_rural_change"] == pytest.approx(0.05)
    assert eff.loc[1, "gap_urban_rural_change_per_idr_bn"] == pytest.approx(-0.05 / 100)
    base = stats.paired_effects(ref, ref, ["gap_urban_rural"])
    assert (base["additional_adopters"] == 0).all() and base["additional_adopters_per_idr_bn"].isna().all()


# --------------------------------------------------------------------------- end to end
def _check_intervals(table: pd.DataFrame) -> None:
    """Every mean has its interval: the frontier's confidence interval contains the mean; the
    comparison's 5%-95% range is ordered (a skewed spread may leave the mean outside it) and comes
    with a Monte Carlo error that is never negative."""
    means = [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]
    assert means
    for m in means:
        if f"{m}_p05" in table.columns:
            assert f"{m}_mc_se" in table.columns and f"{m}_ci_low" not in table.columns, m
            low, high, se = (table[f"{m}_{s}"].astype(float) for s in ("p05", "p95", "mc_se"))
            ok = low.notna()
            assert (low[ok] <= high[ok]).all() and (se.dropna() >= 0).all(), m
            continue
        assert {f"{m}_ci_low", f"{m}_ci_high"} <= set(table.columns), m
        mean, low, high = (table[f"{m}_{s}"].astype(float) for s in ("mean", "ci_low", "ci_high"))
        ok = mean.notna() & low.notna()
        assert (low[ok] <= mean[ok]).all() and (mean[ok] <= high[ok]).all(), m


def test_comparison_writes_every_file(results):
    out = results["compare"]["dir"]
    for name in ["runs.parquet", "scenario_summary.csv", "scenario_summary_long.csv", "pairwise.csv",
                 "run_summaries.csv", "report.md", "report.html"]:
        assert (out / name).is_file(), name
    for name in FIGURES.values():
        assert (out / "figures" / name).stat().st_size > 1000, name
    assert str(out) in results["compare"]["stdout"].strip().splitlines()[-1]
    assert "runs:" in results["compare"]["stderr"]  # the progress bar
    assert len(list((out / "runs").glob("*/summary.json"))) == len(SCENARIOS) * SEEDS


def test_comparison_tables_are_tidy_and_complete(results):
    out = results["compare"]["dir"]
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs.columns[:3]) == ["scenario", "seed", "month"]
    for col in ["adoption", "trust_mean", "digital_staff_share", "gap_urban_rural", "adoption_rural",
                "spend_total_idr_bn"]:
        assert col in runs.columns
    # each run: the history before the policy start, then the STEPS months of the forecast, plus month 0
    months = model_settings(CompareConfig(steps=STEPS))["steps"]
    assert len(runs) == len(SCENARIOS) * SEEDS * (months + 1)
    assert not runs.duplicated(["scenario", "seed", "month"]).any()
    assert set(runs["scenario"]) == set(SCENARIOS)

    per_run = pd.read_csv(out / "run_summaries.csv")
    summary = pd.read_csv(out / "scenario_summary.csv")
    assert list(summary["scenario"]) == SCENARIOS
    assert (summary["n_seeds"] == SEEDS).all()
    # ranked by P(best), then mean final adoption; P(best) sums to 1 and carries its Monte Carlo error
    ranked = summary.sort_values("rank")
    assert ranked["rank"].tolist() == list(range(1, len(SCENARIOS) + 1))
    assert ranked["p_best"].is_monotonic_decreasing
    assert ranked["p_best"].sum() == pytest.approx(1.0)
    assert np.allclose(summary["p_best_mc_se"], np.sqrt(summary["p_best"] * (1 - summary["p_best"]) / SEEDS))
    pairwise = pd.read_csv(out / "pairwise.csv")
    assert list(pairwise.columns) == ["scenario", *SCENARIOS] and pairwise["scenario"].tolist() == SCENARIOS
    wide = pairwise.set_index("scenario").to_numpy()
    off = ~np.eye(len(SCENARIOS), dtype=bool)
    assert np.allclose((wide + wide.T)[off], 1.0) and np.isnan(np.diag(wide)).all()
    # no column of the new statistics is empty, unless no run has a value for its metric at all
    empty_runs = {c for c in per_run.columns if per_run[c].isna().all()}
    # a Monte Carlo error needs two values: a time to a level reached in one world of a scenario has none
    single = {c for c in per_run.columns if c.startswith("months_to_")
              and per_run.groupby("scenario")[c].count().max() < 2}
    for col in summary.columns[summary.isna().all()]:
        metric = col.rsplit("_", 1)[0].removesuffix("_mc")
        assert metric in empty_runs or (col.endswith("_mc_se") and metric in single), col
    # Provenance (hashes, versions) is kept per run, never averaged as if it were a metric.
    assert "code_version" in per_run.columns and "config_hash" in per_run.columns
    assert not [c for c in summary.columns if c.startswith(("code_version", "config_hash", "summary_sha256"))]
    for metric in tables.summary_metrics(per_run.rename(columns={"scenario": "policy"})):
        for suffix in ("mean", "p05", "p95", "mc_se"):
            assert f"{metric}_{suffix}" in summary.columns, metric
    for col in ["additional_adopters", "additional_adopters_per_idr_bn", "gap_urban_rural_change_per_idr_bn",
                "gap_income_q5_q1_change_per_idr_bn", "gap_region_max_min_change_per_idr_bn",
                "concentration_index_change_per_idr_bn"]:
        assert f"{col}_mean" in summary.columns, col
    _check_intervals(summary)
    base = summary.set_index("scenario").loc["baseline"]
    assert base["additional_adopters_mean"] == 0 and np.isnan(base["additional_adopters_per_idr_bn_mean"])
    # one row per scenario and province; the baseline's paired effect on itself is zero
    provinces = pd.read_csv(out / "province_summary.csv")
    assert len(provinces) == len(SCENARIOS) * 38
    assert (provinces.loc[provinces["scenario"] == "baseline", "adoption_change_mean"].fillna(0) == 0).all()
    assert (summary.set_index("scenario").loc[["training", "inclusive"], "cost_idr_bn_mean"] > 0).all()
    # the province-targeted scenario: its provinces beside the rest, the rest untouched by its money
    targeting = pd.read_csv(out / "province_targeting.csv").set_index("side")
    assert targeting["scenario"].unique().tolist() == ["lagging_provinces"]
    assert targeting.loc["targeted", "provinces"] == 10 and targeting.loc["untargeted", "provinces"] == 28
    assert targeting.loc["targeted", "access_change_mean"] > 0
    effect = targeting["adoption_change_mean"]
    assert effect["targeted"] >= effect["untargeted"]
    for side in ("targeted", "untargeted"):
        row = targeting.loc[side]
        assert row["adoption_change_p05"] <= row["adoption_change_mean"] <= row["adoption_change_p95"]


def test_report_is_self_contained_and_names_every_scenario(results):
    out = results["compare"]["dir"]
    page = (out / "report.html").read_text()
    province_maps = ["provinces_adoption.png", "provinces_effect.png"]
    assert page.count("data:image/png;base64,") == len(FIGURES) + len(province_maps)
    assert 'src="figures/' not in page
    md = (out / "report.md").read_text()
    for name in province_maps:
        assert f"figures/{name}" in md
    for heading in ["Headline", "What each scenario does", "equity picture", "By province",
                    "lagging provinces: targeted and untargeted provinces", "Assumptions", "Shipped results"]:
        assert heading in md and heading in page
    for scenario in SCENARIOS:
        assert f"| {scenario.replace('_', ' ')} |" in md  # in words
    for name in FIGURES.values():
        assert f"figures/{name}" in md


def test_frontier_writes_the_table_and_figure(results):
    out = results["frontier"]["dir"]
    assert (out / "frontier.png").stat().st_size > 1000
    assert (out / "frontier.html").is_file() and (out / "frontier.md").is_file()
    table = pd.read_csv(out / "frontier.csv")
    curve = table[table["pair"] == "training/infrastructure"]
    ref = table[table["pair"] == "reference"]
    assert len(curve) == N_SPLITS and len(ref) == 1
    assert curve["share_a"].tolist() == [0.0, 0.5, 1.0]
    assert np.allclose(curve["share_a"] + curve["share_b"], 1.0)
    for col in ["adoption_final_mean", "gap_urban_rural_mean", "additional_adopters_per_idr_bn_mean",
                "p_best", "is_best", "best_share_ci_low", "best_share_ci_high", "n_seeds", "expected_regret",
                "regret_p95", "regret_max", "expected_regret_adopters", "regret_p95_adopters",
                "lowest_expected_regret", "minimax_regret"]:
        assert col in table.columns, col
    top = curve[curve["top_split"].astype(bool)]
    assert len(top) == 1 and top["adoption_final_mean"].iloc[0] == curve["adoption_final_mean"].max()
    # A best split is named only where it beats its neighbours; below 5 seeds the bootstrap is not run.
    best = curve["is_best"].astype(bool)
    assert best.sum() <= 1 and (best <= curve["top_split"].astype(bool)).all()
    assert (best == (curve["top_split"].astype(bool) & curve["best_distinguishable"].astype(bool))).all()
    assert curve["best_share_ci_low"].isna().all()
    # regret: one split of lowest expected regret (the best mean) and one minimax split; P(best) over worlds
    assert curve["p_best"].sum() == pytest.approx(1.0)
    assert (curve["expected_regret"] >= 0).all()
    assert (curve["regret_p95"] <= curve["regret_max"] + 1e-12).all()
    assert curve["lowest_expected_regret"].astype(bool).sum() == 1
    assert curve["minimax_regret"].astype(bool).sum() == 1
    lowest = curve[curve["lowest_expected_regret"].astype(bool)]
    assert lowest["adoption_final_mean"].iloc[0] == pytest.approx(curve["adoption_final_mean"].max())
    people = float(pd.read_csv(out / "run_summaries.csv")["population_total"].iloc[0])
    assert np.allclose(curve["expected_regret_adopters"], curve["expected_regret"] * people)
    md = (out / "frontier.md").read_text()
    assert f"only {FRONTIER_SEEDS} seeds" in md
    assert "the lowest expected regret is" in md and "minimax-regret split" in md
    assert "Which measurement is worth paying for" in md
    assert (curve["n_seeds"] == FRONTIER_SEEDS).all()
    _check_intervals(table)
    assert str(out) in results["frontier"]["stdout"].strip().splitlines()[-1]


def test_frontier_values_information_about_each_parameter_that_varies(results):
    out = results["frontier"]["dir"]
    voi = pd.read_csv(out / "value_of_information.csv")
    assert list(voi.columns[:8]) == ["pair", "parameter", "evppi", "evppi_adopters", "evpi", "evpi_adopters",
                                     "share_of_evpi", "n_draws"]
    # the default uncertainty: each seed one posterior draw; every parameter that differs between them
    draws = frontier.seed_draws(FrontierConfig(seeds=FRONTIER_SEEDS))
    varying = {k for k in draws.columns if draws[k].nunique() > 1}
    assert set(voi["parameter"]) == varying and len(voi) == len(varying)
    assert (voi["n_draws"] == FRONTIER_SEEDS).all() and (voi["pair"] == "training/infrastructure").all()
    table = pd.read_csv(out / "frontier.csv")
    curve = table[table["pair"] == "training/infrastructure"]
    assert voi["evpi"].iloc[0] == pytest.approx(curve["expected_regret"].min())
    # too few draws for a fit: EVPPI is not estimated, and the report says so
    assert voi["evppi"].isna().all()
    assert "not estimated from fewer than" in (out / "frontier.md").read_text()


def test_nothing_is_written_into_the_repository(results):
    assert results["new_repo_files"] == []


def test_a_best_split_is_named_only_when_it_beats_its_neighbours():
    seeds = np.arange(8)
    clear = np.array([0.50 + 0.001 * seeds, 0.60 + 0.001 * seeds, 0.52 + 0.001 * seeds])
    assert algorithm.distinguishable_from_neighbours(clear, 1, maximize=True)
    tied = clear.copy()
    tied[2] = clear[1] + np.where(seeds % 2 == 0, 0.01, -0.01)  # the neighbour is as good on average
    assert not algorithm.distinguishable_from_neighbours(tied, 1, maximize=True)
    assert not algorithm.distinguishable_from_neighbours(clear[:, :1], 1, maximize=True)  # one seed


def test_ranks_follow_p_best_then_mean_adoption():
    summary = pd.DataFrame({"scenario": ["a", "b", "c", "d"], "p_best": [0.0, 0.4, 0.6, 0.0],
                            "adoption_final_mean": [0.5, 0.7, 0.69, 0.6]})
    ranked = stats.ranking(summary)
    assert ranked["scenario"].tolist() == ["c", "b", "d", "a"]  # c is best more often than b
    assert ranked["rank"].tolist() == [1, 2, 3, 4]


def test_reports_warn_of_few_seeds_and_name_everything_in_words(results):
    compare_md = (results["compare"]["dir"] / "report.md").read_text()
    frontier_md = (results["frontier"]["dir"] / "frontier.md").read_text()
    assert f"only {SEEDS} seeds" in compare_md.split("## Headline")[0]
    for md in (compare_md, frontier_md):
        assert raw_names(md) == set(), raw_names(md)
    summary = pd.read_csv(results["compare"]["dir"] / "scenario_summary.csv")
    for col in ["budget_spent_share_mean", "underspent", "adoption_rural_final_change_p05"]:
        assert col in summary.columns, col
    for metric in ["adoption_final", "gap_urban_rural", "adoption_change", "gap_urban_rural_change"]:
        low, high = outputs.bounds(metric)
        assert (summary[f"{metric}_p05"].dropna() >= low).all()
        assert (summary[f"{metric}_p95"].dropna() <= high).all()
