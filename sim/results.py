"""Writing one run's results atomically, and reading many runs back.

A run folder holds Hydra's config snapshot (``.hydra/``), ``timeseries.parquet`` (one row per month)
and ``summary.json`` (flat scalars). Each file is written to a temporary name and renamed into place,
and ``summary.json`` is written last, so a folder with a summary is a finished run and an interrupted
run never looks like a successful one.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

SUMMARY_FILE = "summary.json"
TIMESERIES_FILE = "timeseries.parquet"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return value


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_run(directory: str | Path, summary: dict[str, Any], timeseries: pd.DataFrame) -> Path:
    """Write ``timeseries.parquet`` then ``summary.json`` into ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ts_tmp = directory / f".{TIMESERIES_FILE}.tmp"
    timeseries.to_parquet(ts_tmp, index=False, engine="pyarrow", compression="zstd")
    os.replace(ts_tmp, directory / TIMESERIES_FILE)
    clean = {key: _json_safe(value) for key, value in summary.items()}
    text = json.dumps(clean, indent=2, sort_keys=True) + "\n"
    _atomic_write_bytes(directory / SUMMARY_FILE, text.encode())
    return directory


def finished_runs(root: str | Path) -> list[Path]:
    """Run folders below ``root`` that hold a summary (finished runs), in a stable order."""
    return sorted(p.parent for p in Path(root).rglob(SUMMARY_FILE))


def read_summaries(root_or_dirs: str | Path | Iterable[Path]) -> pd.DataFrame:
    """One row per finished run."""
    dirs = _dirs(root_or_dirs)
    rows = [json.loads((d / SUMMARY_FILE).read_text()) | {"run_dir": str(d)} for d in dirs]
    return pd.DataFrame(rows)


def read_timeseries(root_or_dirs: str | Path | Iterable[Path]) -> pd.DataFrame:
    """All runs' monthly rows, tagged with policy and seed from each summary."""
    frames = []
    for d in _dirs(root_or_dirs):
        summary = json.loads((d / SUMMARY_FILE).read_text())
        ts = pd.read_parquet(d / TIMESERIES_FILE)
        ts.insert(0, "seed", summary["seed"])
        ts.insert(0, "policy", summary["policy"])
        frames.append(ts)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _dirs(root_or_dirs: str | Path | Iterable[Path]) -> list[Path]:
    if isinstance(root_or_dirs, (str, Path)):
        return finished_runs(root_or_dirs)
    return [Path(d) for d in root_or_dirs]
