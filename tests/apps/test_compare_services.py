"""The comparison with a portfolio of services: the per-service table and the report's section."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.compare import app as compare
from experiments.engine.settings import CompareConfig


def test_a_comparison_with_the_indonesia_portfolio_reports_each_service(tmp_path):
    cfg = CompareConfig(population="small", n_citizens=2000, steps=24, seeds=2, portfolio="indonesia",
                        scenarios=["baseline", "mandate"], launcher="basic", progress=False)
    compare.run_compare(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "service_summary.csv")
    assert set(table["service"]) == {"general", "tax_filing", "business_licence", "digital_id", "census_2020"}
    assert set(table["scenario"]) == {"baseline", "mandate"}
    base = table[table["scenario"] == "baseline"]
    assert (base["used_change_mean"] == 0).all()  # the baseline against itself
    shares = table[[c for c in table if c.startswith(("used_final", "electronic_share"))]]
    assert ((shares >= 0) & (shares <= 1) | shares.isna()).all().all()
    # a share of no transactions is missing, not 0: the census was over long before the last year
    census = table[table["service"] == "census_2020"]
    assert census["electronic_share_last_year_mean"].isna().all() and (census["used_final_mean"] > 0).all()
    # a mandate covering every service raises the general service's use in every seed
    general = table.set_index(["scenario", "service"]).loc[("mandate", "general")]
    assert general["used_change_p05"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "## By service" in report and "annual income-tax return (DJP e-Filing)" in report


def test_a_comparison_of_the_general_service_has_no_service_table(tmp_path):
    cfg = CompareConfig(population="small", n_citizens=1000, steps=6, seeds=2, portfolio="general",
                        use_measures={"kominfo": 1.0, "poll": 0.0, "apjii": 0.0},  # the one shipped
                        scenarios=["baseline", "training"], launcher="basic", progress=False)
    compare.run_compare(cfg, tmp_path)
    assert not (tmp_path / "service_summary.csv").exists()
    assert "## By service" not in (tmp_path / "report.md").read_text()


def test_one_run_on_the_command_line_writes_its_service_table_with_its_checksum(tmp_path):
    import hashlib
    import json
    import subprocess
    import sys

    from tests.conftest import REPO

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sim", "portfolio=indonesia", "population.n_citizens=1000", "steps=3",
           "progress=false", f"hydra.run.dir={out}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "services.csv")
    assert len(table) == 5 * 4 and list(table["month"].unique()) == [0, 1, 2, 3]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["services_sha256"] == hashlib.sha256((out / "services.csv").read_bytes()).hexdigest()


def test_a_one_service_mandate_runs_only_under_a_portfolio_with_its_service():
    """The main job's default scenarios are those that run under its portfolio: the one-service mandate
    under indonesia, not under the general service, where it is refused with one line."""
    from experiments.engine.settings import default_scenarios
    from sim.config import ConfigError, compose

    assert {"mandate_business_licence", "mandate"} <= set(default_scenarios())  # indonesia, the default
    general = default_scenarios("general")
    assert "mandate_business_licence" not in general and "mandate" in general and general[0] == "baseline"
    assert default_scenarios("indonesia") == ["baseline", *sorted(set(default_scenarios()) - {"baseline"})]
    cfg = compose(policy="mandate_business_licence", portfolio="indonesia")
    assert cfg.policy.mandate.services == ["business_licence"] and cfg.policy.mandate.start_month == 12
    with pytest.raises(ConfigError, match="policy.mandate.services") as err:
        compose(policy="mandate_business_licence")
    assert "\n" not in str(err.value)
