"""``python -m experiments.shipped`` (``make shipped``): its settings, the generated documents it writes
below ``out=`` with their stamps (leaving the shipped files alone), and the blocks it writes into the
written documents from the apps' files.

The full regeneration (about 40 minutes) and its test-size run (``quick=true out=...``, about two
minutes: every app at a tiny size) are not run here; the apps themselves are tested in their own files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.engine import stamp as st
from experiments.shipped import app, documents
from sim.config import ConfigError
from tests.conftest import REPO, _cli_env


@pytest.mark.parametrize(("argv", "pattern"), [
    (["step=docs"], "step=docs: unknown setting; allowed keys: steps, posterior"),
    (["steps=[docs,nope]"], "steps='[docs,nope]': unknown step nope; allowed: a list of docs, morris"),
    (["steps=[]"], "empty or repeated"),
    (["quick=maybe", "out=/tmp/x"], "quick='maybe': not a boolean; allowed: true, false"),
    (["quick=true"], "quick=true: test-size results must not replace the shipped ones"),
    (["posterior=true", "out=/tmp/x"], "posterior=true: the calibration ships its posterior into the "
                                       "repository itself"),
    (["n_jobs=0"], "n_jobs='0': out of range; allowed: -1"),
    (["n_jobs=two"], "n_jobs='two': not an integer"),
    (["out="], "out='': an empty folder name"),
])
def test_bad_settings_are_refused_with_one_line(argv: list[str], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern.replace("[", r"\[").replace("]", r"\]")):
        app.parse(argv)


def test_the_steps_and_the_posterior_flag() -> None:
    assert app.parse([]).steps == ("docs", "morris", "validation", "figures", "services")
    assert app.parse(["posterior=true"]).steps == ("docs", "morris", "validation", "figures", "services",
                                                   "posterior")
    assert app.parse(["steps=[validation,docs]"]).steps == ("docs", "validation")  # always in order
    assert app.parse(["steps=morris,validation"]).steps == ("morris", "validation")  # make quotes nothing


def test_the_command_writes_stamped_documents_below_out_and_leaves_the_shipped_ones(tmp_path: Path) -> None:
    shipped = {p: (REPO / p).read_bytes() for p in ("docs/metrics.md", "docs/parameters.md")}
    proc = subprocess.run([sys.executable, "-m", "experiments.shipped", "steps=docs", f"out={tmp_path}",
                           f"work={tmp_path / 'work'}"], cwd=REPO, env=_cli_env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "[shipped] step 1/1: docs done in" in proc.stdout
    from sim.summary import outputs_markdown

    text = (tmp_path / "docs" / "metrics.md").read_text()
    assert st.strip_stamp(text) == outputs_markdown()
    stamp = st.read_stamp(tmp_path / "docs" / "metrics.md")
    assert stamp is not None and stamp.by == "make shipped"
    assert {p: (REPO / p).read_bytes() for p in shipped} == shipped


def test_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "experiments.shipped", "quick=true"], cwd=tmp_path,
                          env=_cli_env(), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: quick=true")
    assert not list(tmp_path.iterdir())


def test_the_written_documents_hold_every_block_the_steps_rewrite() -> None:
    stamp = st.Stamp("abc", False, "2026-12-06T00:00Z", "test")
    app.check_documents(app.parse(["posterior=false"]), stamp)  # raises when a marker is lost


def _morris_folder(folder: Path) -> Path:
    rows = [("params.a", "adoption_final", 0.4, 0.1, 0.3), ("params.b", "adoption_final", 0.01, 0.02, 0.01),
            ("params.a", "gap_urban_rural", 0.02, 0.01, 0.02),
            ("params.b", "gap_urban_rural", 0.05, 0.01, 0.04)]
    folder.mkdir(parents=True)
    pd.DataFrame(rows, columns=["parameter", "outcome", "mu_star", "mu_star_conf", "sigma"]).assign(
        method="morris").to_csv(folder / "sensitivity.csv", index=False)
    pd.DataFrame({"outcome": ["adoption_final", "gap_urban_rural"], "noise_sd": [0.01, 0.02],
                  "noise_share": [0.005, 0.09], "points": [3, 3], "seeds_per_point": [5, 5]}).to_csv(
        folder / "noise.csv", index=False)
    pd.DataFrame({"point": range(6)}).to_csv(folder / "samples.csv", index=False)
    return folder


def test_the_morris_block_ranks_by_mu_star_and_counts_what_stands_above_the_noise(tmp_path: Path) -> None:
    body = documents.morris_block(_morris_folder(tmp_path / "morris"), "12.3 min")
    flat = " ".join(body.split())  # paragraphs are wrapped
    assert "6 design runs + 15 noise runs = 21 runs" in flat and "**12.3 min** wall" in flat
    level = documents.morris_noise_level(0.01, 4)  # sqrt(2) x 0.01 / (2/3)
    assert f"noise level of mu* {level:.3f}" in body
    adoption = body[body.index("Final adoption"):body.index("Urban-rural")]
    assert adoption.index("`params.a`") < adoption.index("`params.b`")
    assert "1 parameters have mu* above the noise level, 1 with the lower end" in " ".join(adoption.split())
    gap = body[body.index("Urban-rural"):]
    assert gap.index("`params.b`") < gap.index("`params.a`")
    doc = (REPO / "docs" / "sensitivity.md").read_text()
    new = st.replace_block(doc, "morris", body, st.Stamp("abc", False, "2026-12-06T00:00Z", "test"))
    assert new.count("<!-- generated: morris; commit abc (clean)") == 1
    end = "<!-- end generated: morris -->"
    assert new[new.index(end):] == doc[doc.index(end):]


def test_the_validation_block_counts_scored_checks_per_case_and_lists_failures(tmp_path: Path) -> None:
    checks = [
        {"case": "bass", "name": "recursion", "scored": True, "passed": True, "reason": "ok"},
        {"case": "ablation", "name": "F6", "scored": True, "passed": False, "reason": "opposite sign"},
        {"case": "indonesia", "name": "access", "scored": False, "passed": None, "kind": "consistency",
         "reason": "raked"},
        {"case": "watts", "name": "z=1", "scored": False, "passed": None, "kind": "reported",
         "reason": "edge"},
    ]
    summary = {"scored": 2, "passed": 1, "failed": 1, "reported": 2, "identities": 3}
    (tmp_path / "validation.json").write_text(json.dumps({"summary": summary, "checks": checks}))
    body = documents.validation_block(tmp_path, "11.0 min")
    assert "**1 of 2 scored checks pass**" in " ".join(body.split())
    assert "| bass | 1 | 1 | 0 | 0 |" in body and "| ablation | 1 | 0 | 1 | 0 |" in body
    assert "| indonesia | 0 | - | - | 1 (1 consistency) |" in body and "| watts | 0 | - | - | 1 |" in body
    assert body.index("| bass") < body.index("| watts") < body.index("| indonesia") < body.index("| ablation")
    assert "- [ablation] F6: opposite sign" in body


def test_the_services_block_shows_each_service_and_the_portfolio_fit(tmp_path: Path) -> None:
    rows = [("baseline", "tax_filing", 0.09, 0.5, 0.4, 0.6, 0.95, 0.93, 0.97, 0.0, 0.0, 0.0),
            ("training", "tax_filing", 0.09, 0.55, 0.45, 0.65, 0.96, 0.94, 0.98, 0.05, 0.01, 0.09),
            ("training", "census_2020", 1.0, 0.2, 0.15, 0.25, float("nan"), float("nan"), float("nan"),
             0.0, 0.0, 0.0)]
    columns = ["scenario", "service", "eligible_share", "used_final_mean", "used_final_p05", "used_final_p95",
               "electronic_share_last_year_mean", "electronic_share_last_year_p05",
               "electronic_share_last_year_p95", "used_change_mean", "used_change_p05", "used_change_p95"]
    pd.DataFrame(rows, columns=columns).to_csv(tmp_path / "service_summary.csv", index=False)
    checks = [{"name": "efiling_share_2020", "service": "tax_filing", "date": "2020-03", "observed": 0.964,
               "predicted": 0.95, "low": 0.92, "high": 0.98, "held_out": False, "inside": True},
              {"name": "access_2024", "service": None, "date": "2024-01", "observed": 0.8, "predicted": 0.7,
               "low": 0.65, "high": 0.75, "held_out": True, "inside": False}]
    (tmp_path / "checks.json").write_text(json.dumps(checks))
    body = documents.services_block(tmp_path, tmp_path / "checks.json", "2.0 min")
    assert "| tax_filing | baseline | 9% | 50.0% [40.0%, 60.0%] | 95.0% [93.0%, 97.0%] | - |" in body
    assert ("| tax_filing | training | 9% | 55.0% [45.0%, 65.0%] | 96.0% [94.0%, 98.0%] | "
            "+5.0 pp [+1.0, +9.0] |") in body
    assert "| census_2020 | training | 100% | 20.0% [15.0%, 25.0%] | - |" in body  # no transactions: no share
    assert "1 of 2 inside the 90% posterior predictive interval" in " ".join(body.split())
    assert "| efiling_share_2020 | tax_filing | 2020-03 | 0.964 | 0.95 [0.92, 0.98] | fitted | yes |" in body
    assert "| access_2024 | - | 2024-01 | 0.8 | 0.7 [0.65, 0.75] | held out | no |" in body
