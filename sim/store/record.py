"""One finished run as a typed record: what ran, what it measured, where its files are.

The runner hands these back instead of folder paths, so the tables and reports learn what ran from
the config objects themselves (typed, validated), not by reading ``config.json`` back as a dict or by
recognising a run from rounded values. :func:`read_record` rebuilds a record from a run folder on
disk, for runs made in another session.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from sim.config import ConfigError, SimConfig, to_sim_config
from sim.rules.services import SERVICE_COLUMNS
from sim.store.files import CONFIG_FILE, PROVINCES_FILE, SERVICES_FILE, SUMMARY_FILE, TIMESERIES_FILE
from sim.store.provenance import config_hash


@dataclass(frozen=True)
class RunRecord:
    """A finished run: its validated config, its identity (config hash), its summary and folder."""

    config: SimConfig
    key: str
    summary: Mapping[str, Any]
    directory: Path

    @property
    def timeseries_path(self) -> Path:
        return self.directory / TIMESERIES_FILE

    @property
    def provinces_path(self) -> Path:
        return self.directory / PROVINCES_FILE

    @property
    def scenario(self) -> str:
        return self.config.policy.name

    @property
    def seed(self) -> int:
        return int(self.config.seed)

    def timeseries(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The run's monthly rows (``columns``: only these)."""
        return pd.read_parquet(self.timeseries_path, columns=columns)

    def services(self) -> pd.DataFrame:
        """The run's rows per month and service (empty for the one general service)."""
        path = self.directory / SERVICES_FILE
        return pd.read_csv(path) if path.exists() else pd.DataFrame(columns=list(SERVICE_COLUMNS))


def read_summary(directory: str | Path) -> dict[str, Any]:
    """The ``summary.json`` of a run folder."""
    return json.loads((Path(directory) / SUMMARY_FILE).read_text())


def read_record(directory: str | Path) -> RunRecord:
    """The record of a finished run folder: its ``config.json`` checked against the schema and the
    declared ranges, and its identity recomputed from that config (ConfigError, one line, when the
    folder's config is not a valid one or its hash is not the one its summary names)."""
    directory = Path(directory)
    summary = read_summary(directory)
    try:
        raw = json.loads((directory / CONFIG_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{directory / CONFIG_FILE}: unreadable run config ({exc})") from None
    config = to_sim_config(OmegaConf.create(raw))
    key = config_hash(config)
    if summary.get("config_hash") not in (None, key):
        raise ConfigError(f"{directory}: its config does not match its summary (config_hash "
                          f"{summary.get('config_hash')!r}, config gives {key!r})")
    return RunRecord(config=config, key=key, summary=summary, directory=directory)


def summaries_table(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per record, in the given order: its summary and its folder (``run_dir``)."""
    return pd.DataFrame([dict(r.summary) | {"run_dir": str(r.directory)} for r in records])
