"""The per-run summary is declared once (sim/summary.py): what a run returns is exactly what is declared,
provenance never becomes a metric, and no other module keeps its own list of output labels."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.compare.app import run_compare
from experiments.engine.settings import CompareConfig
from sim import DigitalAdoptionModel, metrics
from sim import summary as outputs
from sim.names import REGIONS
from tests.conftest import REPO

# The only modules allowed to spell out output labels: the declarations themselves.
DECLARING = {Path("sim/summary.py"), Path("sim/metrics.py")}


@pytest.fixture(scope="module")
def tiny_summary() -> dict:
    model = DigitalAdoptionModel(population="small", n_citizens=300, steps=3, seed=0,
                                 overrides={"progress": False})
    return model.run().summary()


def test_every_returned_key_is_declared_and_every_declared_metric_returned(tiny_summary):
    returned = set(tiny_summary) - set(outputs.IDENTITY_FIELDS)
    assert returned == set(outputs.SUMMARY_METRICS)
    assert set(tiny_summary) - returned == set(outputs.IDENTITY_FIELDS)
    assert len(outputs.SUMMARY_METRICS) == len(set(outputs.SUMMARY_METRICS))


def test_provenance_and_identity_are_never_metrics():
    for name in (*outputs.PROVENANCE_FIELDS, *outputs.IDENTITY_FIELDS, "run_dir", "scenario"):
        assert not outputs.is_metric(name), name
    assert "provinces_sha256" in outputs.PROVENANCE_FIELDS


def test_every_declaration_is_complete():
    for o in (*outputs.OUTPUTS, *outputs.DERIVED):
        assert o.label and o.description and o.unit, o.name
        assert o.kind in outputs.KINDS
        assert o.bounds is None or o.bounds[0] < o.bounds[1]
    # group and gap outputs come from the monthly declarations
    for g in metrics.GAPS:
        assert outputs.label(f"gap_{g.key}") == metrics.label(f"gap_{g.key}") == g.label


def test_own_change_and_paired_effects_cannot_be_confused():
    assert not [n for n in outputs.SUMMARY_METRICS if n.endswith(outputs.CHANGE)]
    assert outputs.label("trust_mean_change_in_run") == "change of mean trust during the forecast"
    assert outputs.bounds("trust_mean_final_change") == (-1.0, 1.0)
    assert outputs.bounds("gap_urban_rural_change") == (-2.0, 2.0)
    assert outputs.bounds("gap_urban_rural_change_per_idr_bn") is None
    assert outputs.is_share("adoption_change") and not outputs.is_share("additional_adopters")
    with pytest.raises(KeyError):
        outputs.summary_output("trust_change")


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare")
    cfg = CompareConfig(population="small", n_citizens=300, steps=3, seeds=2,
                        scenarios=["baseline", "training", "inclusive"], n_jobs=1, launcher="basic",
                        progress=False)
    run_compare(cfg, out)
    return out


def test_scenario_summary_has_no_provenance_and_no_empty_column(comparison):
    per_run = pd.read_csv(comparison / "run_summaries.csv")
    summary = pd.read_csv(comparison / "scenario_summary.csv")
    for field in outputs.PROVENANCE_FIELDS:
        assert not [c for c in summary.columns if c.startswith(field)], field
    # A column is empty only where every run left the value empty ("never reached"); a Monte Carlo
    # error also where no scenario has two runs with a value.
    empty_runs = {c for c in per_run.columns if per_run[c].isna().all()}
    at_most_one = {c for c in per_run.columns
                   if per_run.groupby("scenario")[c].apply(lambda v: v.notna().sum()).max() <= 1}
    for col in summary.columns[summary.isna().all()]:
        base = col.rsplit("_", 1)[0].removesuffix("_mc")
        assert base in empty_runs or (col.endswith("_mc_se") and base in at_most_one), col


def test_run_summaries_keep_checksums_as_text(comparison):
    per_run = pd.read_csv(comparison / "run_summaries.csv", dtype={"provinces_sha256": str})
    assert per_run["provinces_sha256"].str.fullmatch("[0-9a-f]{64}").all()
    assert per_run["trust_mean_change_in_run"].notna().all()
    assert "trust_change" not in per_run.columns
    assert np.isfinite(per_run["adoption_final"]).all()


# --------------------------------------------------------------------------- no hand lists elsewhere
def _declared_labels() -> set[str]:
    """Labels a reader sees (several words, so that a column name or a single word never matches)."""
    names = set(outputs.SUMMARY_METRICS) | set(metrics.METRIC_NAMES)
    labels = {o.label for o in (*outputs.OUTPUTS, *outputs.DERIVED)} | {m.label for m in metrics.METRICS}
    labels |= {g.short for g in metrics.GROUPS} | {g.between for g in metrics.GAPS}
    return {x for x in labels if " " in x and x not in names and x not in REGIONS}


def _is_words(node: ast.AST) -> bool:
    """A string literal that reads as words (not a name, a colour, a format or a path)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    text = node.value
    return bool(text) and not text.isidentifier() and not text.startswith("#") and "{" not in text \
        and "/" not in text and any(c.isalpha() for c in text)


def hand_labels(source: str) -> list[tuple[int, str]]:
    """(line, what) for every output label spelled out in ``source``: a string equal to a declared
    label, or a dict / tuple literal pairing a per-run output's name with words."""
    labels = _declared_labels()
    names = set(outputs.SUMMARY_METRICS)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in labels:
            found.append((node.lineno, f"declared label {node.value!r}"))
        pairs: list[tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.Dict):
            pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
        elif isinstance(node, ast.Tuple) and len(node.elts) >= 2:
            pairs = [(node.elts[0], e) for e in node.elts[1:]]
        for key, value in pairs:
            if isinstance(key, ast.Constant) and key.value in names and _is_words(value):
                found.append((node.lineno, f"{key.value!r} labelled {value.value!r}"))
    return found


def test_no_module_but_the_declarations_keeps_output_labels():
    problems = []
    for path in sorted([*(REPO / "sim").rglob("*.py"), *(REPO / "experiments").rglob("*.py")]):
        rel = path.relative_to(REPO)
        if rel in DECLARING:
            continue
        problems += [f"{rel}:{line}: {what}" for line, what in hand_labels(path.read_text())]
    assert not problems, "labels belong in sim/summary.py or sim/metrics.py:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", [
    'HEADLINE = (("gap_urban_rural", "urban-rural gap", "{:+.3f}"),)',
    '_SUMMARY_LABELS = {"adoption_final": "final adoption"}',
    'for gap, what in (("gap_urban_rural", "urban-rural"),): pass',
    'header = ["months to 25% adoption"]',
])
def test_the_scan_finds_a_hand_label(source):
    assert hand_labels(source)
