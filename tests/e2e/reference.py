"""Stored reference outputs of a small comparison and a small frontier, and how to make them again.

A restructuring must not change what the apps compute. ``tests/e2e/test_reference_outputs.py`` runs the
two apps below and compares every table they write with the copies stored in
``tests/e2e/reference/``: the same columns, and the same values within float round-off.

When the model or a table changes on purpose, make the references again and commit them with the
change (the diff of the CSV files then shows what changed)::

    .venv/bin/python -m tests.e2e.reference

Provenance columns (code version, library versions, checksums, folders) are left out: they name the
checkout, not the result.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
REPO = Path(__file__).resolve().parents[2]

# Small enough for the suite (about 10 s together), large enough that every lever spends, the
# posterior draws differ between seeds and the frontier has a reference line.
APPS: dict[str, list[str]] = {
    "compare": ["n_citizens=600", "seeds=2", "p_best_precision=null", "steps=6", "launcher=basic",
                "progress=false",
                "scenarios=[baseline,training,infrastructure,comprehensive]"],
    "frontier": ["n_citizens=600", "seeds=2", "steps=6", "n_splits=3", "launcher=basic", "progress=false",
                 "bootstrap=0"],
}
# The tables each app writes, relative to its output folder, and the name of their stored copy.
TABLES: dict[str, dict[str, str]] = {
    "compare": {"scenario_summary.csv": "compare_scenario_summary.csv",
                "pairwise.csv": "compare_pairwise.csv",
                "run_summaries.csv": "compare_run_summaries.csv",
                "runs.parquet": "compare_runs.csv"},
    "frontier": {"frontier.csv": "frontier.csv", "run_summaries.csv": "frontier_run_summaries.csv"},
}
PROVENANCE_COLUMNS = {"code_version", "python_version", "numpy_version", "mesa_version", "config_hash",
                      "summary_sha256", "timeseries_sha256", "provinces_sha256", "services_sha256", "run_dir"}


def run_app(app: str, out: Path) -> subprocess.CompletedProcess:
    """Run one app as a user would (``python -m experiments.<app>``) into ``out``."""
    return subprocess.run([sys.executable, "-m", f"experiments.{app}", *APPS[app], f"hydra.run.dir={out}"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


def read_table(path: Path) -> pd.DataFrame:
    """A written table without its provenance columns, rows in a stable order."""
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    frame = frame[[c for c in frame.columns if c not in PROVENANCE_COLUMNS]]
    keys = [c for c in ("scenario", "policy", "pair", "share_a", "seed", "month") if c in frame.columns]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame


def produce(root: Path) -> dict[str, pd.DataFrame]:
    """Run both apps below ``root``; every table by the name of its stored copy."""
    tables = {}
    for app, files in TABLES.items():
        proc = run_app(app, root / app)
        if proc.returncode != 0:
            raise RuntimeError(f"{app} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        for written, stored in files.items():
            tables[stored] = read_table(root / app / written)
    return tables


def main() -> None:
    REFERENCE_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in produce(Path(tmp)).items():
            frame.to_csv(REFERENCE_DIR / name, index=False, float_format="%.17g", lineterminator="\n")
            print(f"wrote {REFERENCE_DIR / name} ({len(frame)} rows, {frame.shape[1]} columns)")


if __name__ == "__main__":
    main()
