"""Writing one run's results atomically, and reading many runs back.

A run folder holds ``config.json`` (the fully resolved config), ``timeseries.parquet`` (one row per
month), ``provinces.csv`` (the final state by province, long format) and ``summary.json`` (flat
scalars plus provenance: config hash, code version, library versions, checksums of the timeseries,
of the province table and of the summary itself). Every file is written to a unique
temporary name in the same folder and renamed into place (:func:`atomic_path`), and ``summary.json``
is written last, so a folder with a summary is a finished run and a run interrupted at any point never
looks like one; two writers sharing a folder never mix their temporary files.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.store.provenance import canonical_json, plain, provenance

SUMMARY_FILE = "summary.json"
TIMESERIES_FILE = "timeseries.parquet"
CONFIG_FILE = "config.json"
PROVINCES_FILE = "provinces.csv"
SERVICES_FILE = "services.csv"  # per month and service, for a portfolio of services only


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path`` for the caller to create; rename it onto
    ``path`` if the block succeeds.

    The name holds the process id and a random token, so concurrent writers (processes or threads)
    never share one; it starts with a dot (Parquet dataset readers skip it) and keeps the suffix
    (writers that infer the format from the name still work). On any error the temporary file is
    removed and ``path`` is left as it was: a reader sees the old file or the whole new one.
    """
    path = Path(path)
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(6)}{path.suffix or '.tmp'}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    return Path(path)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return value


# A run's table: a pandas frame, or its columns (one array per column, in order) as
# :func:`row_columns` builds them, which a run's files are written from without framing them first.
Table = pd.DataFrame | Mapping[str, np.ndarray]


def row_columns(rows: Sequence[Mapping[str, Any]],
                names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Rows with the same keys in the same order (a model's monthly rows, its service rows) as one
    array per column; ``names``, the rows' keys in order, names the columns of no rows (default: the
    first row's keys). Numbers become int64, float64 or bool arrays as pandas would make them of the same
    rows, text an object array of Python strings. Rows whose keys differ are refused (ValueError).

    Why not ``pd.DataFrame(rows)``: framing a 20,000-citizen run's 121 monthly rows of 96 metrics, then
    taking the frame's columns apart again to write them, cost 4 ms of a 190 ms run, six times this."""
    names = list(rows[0] if names is None and rows else names or ())
    if any(list(row) != names for row in rows):
        raise ValueError(f"rows with other columns than {names}")
    if not rows:
        return {name: np.array([]) for name in names}
    return {name: np.array(values, dtype=object if isinstance(values[0], str) else None)
            for name, values in zip(names, zip(*(row.values() for row in rows), strict=True), strict=True)}


def table_rows(table: Table) -> int:
    """How many rows the table has."""
    if isinstance(table, pd.DataFrame):
        return len(table)
    return len(next(iter(table.values()))) if table else 0


def parquet_bytes(frame: Table) -> bytes:
    """The table's columns as Parquet bytes (lz4, no index); the same table always gives the same
    bytes, whether a frame or its columns. Built from the column arrays directly: pandas' own
    conversion adds metadata that a flat table of numbers does not need and costs as much as writing
    the file."""
    buffer = io.BytesIO()
    # no dictionary pages or statistics: a few dozen distinct numbers per column gain nothing from them;
    # lz4 rather than zstd: a month's floats barely compress (a 20,000-citizen run's 121 x 96 table: 84 KB
    # with zstd, 86 KB with lz4), and lz4 writes in half the time (1.7 ms against 3.0 ms)
    pq.write_table(_arrow_table(frame), buffer, compression="lz4", use_dictionary=False,
                   write_statistics=False)
    return buffer.getvalue()


def _arrow_table(table: Table) -> pa.Table:
    if isinstance(table, pd.DataFrame):
        return pa.table({str(name): table[name].to_numpy() for name in table.columns})
    return pa.table({str(name): values for name, values in table.items()})


def config_text(cfg: Any) -> str:
    """The resolved config (a dataclass such as ``SimConfig``) as indented JSON, in field order.

    JSON rather than YAML: it reads back to exactly the same values (the config hash is checked
    against it on resume) and writing it costs a twentieth of a YAML dump, which mattered at
    thousands of runs."""
    return json.dumps(plain(cfg), indent=2, allow_nan=False) + "\n"


def summary_checksum(summary: dict[str, Any]) -> str:
    """Checksum of a summary's content (every field but this one), so that an edited value shows."""
    rest = {k: v for k, v in summary.items() if k != "summary_sha256"}
    return hashlib.sha256(canonical_json(rest).encode()).hexdigest()


def csv_bytes(frame: Table) -> bytes:
    """A run's long table (by province, by service) as CSV bytes; the same table always gives the same
    bytes. Written by Arrow (numbers in their shortest exact form, a missing value as ``nan``): a sixth
    of the time pandas' writer takes (0.5 against 3.1 ms for a portfolio's 605 x 12 service table)."""
    buffer = io.BytesIO()
    pacsv.write_csv(_arrow_table(frame), buffer)
    return buffer.getvalue()


def run_files(summary: dict[str, Any], timeseries: Table, cfg: Any = None,
              code: str | None = None, key: str | None = None,
              provinces: Table | None = None,
              services: Table | None = None) -> dict[str, bytes]:
    """The files of one finished run, in writing order (``summary.json`` last).

    With ``cfg`` the summary gains the provenance fields and the folder the resolved ``config.json``;
    with ``provinces`` (:meth:`sim.model.DigitalAdoptionModel.province_table`) the folder gains
    ``provinces.csv`` and the summary its checksum; with a non-empty ``services``
    (:meth:`sim.model.DigitalAdoptionModel.service_table`, a portfolio of services) ``services.csv``.
    """
    files: dict[str, bytes] = {TIMESERIES_FILE: parquet_bytes(timeseries)}
    clean = {key: _json_safe(value) for key, value in summary.items()}
    if cfg is not None:
        files[CONFIG_FILE] = config_text(cfg).encode()
        clean.update(provenance(cfg, code, key))
    if provinces is not None:
        files[PROVINCES_FILE] = csv_bytes(provinces)
        clean["provinces_sha256"] = hashlib.sha256(files[PROVINCES_FILE]).hexdigest()
    if services is not None and table_rows(services):
        files[SERVICES_FILE] = csv_bytes(services)
        clean["services_sha256"] = hashlib.sha256(files[SERVICES_FILE]).hexdigest()
    clean["timeseries_sha256"] = hashlib.sha256(files[TIMESERIES_FILE]).hexdigest()
    clean["summary_sha256"] = summary_checksum(clean)
    files[SUMMARY_FILE] = (json.dumps(clean, indent=2, sort_keys=True) + "\n").encode()
    return files


def model_files(model: Any, cfg: Any = None, code: str | None = None,
                key: str | None = None) -> dict[str, bytes]:
    """The files of a finished run of ``model`` (a :class:`sim.model.DigitalAdoptionModel`): its
    summary, time series, province table and service table, written from the tables' columns."""
    return run_files(model.summary(), model.timeseries_columns(), cfg, code, key,
                     provinces=model.province_columns(), services=model.service_columns())


def write_files(directory: str | Path, files: dict[str, bytes]) -> Path:
    """Write a run's files into ``directory`` (created if needed), each atomically, in order."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        atomic_write(directory / name, data)
    return directory


def write_run(directory: str | Path, summary: dict[str, Any], timeseries: pd.DataFrame,
              cfg: Any = None, code: str | None = None,
              provinces: pd.DataFrame | None = None, services: pd.DataFrame | None = None) -> Path:
    """Write ``timeseries.parquet``, ``config.json``, ``provinces.csv``, ``services.csv`` (a portfolio
    only) then ``summary.json`` into ``directory``."""
    return write_files(directory, run_files(summary, timeseries, cfg, code, provinces=provinces,
                                            services=services))


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
