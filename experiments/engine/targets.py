"""Calibration targets: published figures, their dates and an error model, read from YAML.

A target is a monthly model output (:data:`sim.metrics.METRICS`) at a calendar month, with the
observed value and the standard deviation of a normal error between model and observation; a growth
target (``base_date`` set) is the ratio of the output at ``date`` to its value at ``base_date``, so
that a rise reported by one source can be fitted without taking its level.
Targets dated 2024 or later are held out: never fitted, reported as an out-of-sample test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.config import CONFIG_DIR, ConfigError
from sim.metrics import METRIC_NAMES, METRICS
from sim.rules.trends import decimal_year

DEFAULT_TARGETS = CONFIG_DIR / "calibration" / "targets.yaml"
# The use of online public services is measured by surveys that disagree; each measure is a file of
# targets here (configs/calibration/use/<measure>.yaml), fitted beside DEFAULT_TARGETS.
USE_DIR = CONFIG_DIR / "calibration" / "use"
DEFAULT_MEASURE = "kominfo"
METRIC_UNITS = {m.name: m.unit for m in METRICS}
FIELDS = ("name", "metric", "date", "observed", "sd", "held_out", "source")
OPTIONAL = ("base_date", "service")
# A service target's metric: a column of the per-service table (sim.rules.services.SERVICE_COLUMNS)
SERVICE_METRICS = {"used_share_of_eligible": "share", "online_share": "share", "electronic_share": "share"}


@dataclass(frozen=True)
class Target:
    name: str
    metric: str
    date: str
    observed: float
    sd: float
    held_out: bool
    source: str
    base_date: str | None = None
    service: str | None = None  # a service of the portfolio: the metric is then a per-service column

    @property
    def column(self) -> str:
        """The column of a run's monthly table this target reads (``<service>.<metric>`` for a
        service target, see :func:`monthly_table`)."""
        return self.metric if self.service is None else f"{self.service}.{self.metric}"

    @property
    def is_growth(self) -> bool:
        return self.base_date is not None

    def value(self, series: pd.Series, start_date: str) -> float:
        """The model's value of this target from one run's monthly ``series`` of its metric."""
        level = float(series.iloc[self.month(start_date)])
        if self.base_date is None:
            return level
        base = float(series.iloc[round((decimal_year(self.base_date) - decimal_year(start_date)) * 12)])
        return level / base if base > 0 else math.inf

    @property
    def year(self) -> float:
        return decimal_year(self.date, f"targets.{self.name}.date")

    def month(self, start_date: str) -> int:
        """The model month of this target for a run starting at ``start_date`` (nearest month)."""
        return round((self.year - decimal_year(start_date)) * 12)


def load_targets(path: str | Path = DEFAULT_TARGETS) -> list[Target]:
    """Read and check the targets; one-line ConfigError naming the target and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"targets={path}: cannot read ({exc.strerror}); allowed: a YAML file") from None
    except yaml.YAMLError:
        raise ConfigError(f"targets={path}: not valid YAML; allowed: a YAML file") from None
    items = raw.get("targets") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"targets={path}: no 'targets' list; allowed: a YAML file with a list under "
                          "'targets'")
    targets = [_target(item, i) for i, item in enumerate(items)]
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise ConfigError(f"targets: repeated name in {names}; allowed: distinct names")
    return targets


def use_measures() -> list[str]:
    """The published measures of the use of online public services (``configs/calibration/use/``),
    the default first."""
    found = sorted(p.stem for p in USE_DIR.glob("*.yaml"))
    return sorted(found, key=lambda m: m != DEFAULT_MEASURE)


def check_measure(measure: str, key: str = "use_measure") -> str:
    """One line naming the key when ``measure`` is not a file under ``configs/calibration/use/``."""
    if measure not in use_measures():
        raise ConfigError(f"{key}={measure!r}: unknown measure of use; allowed: {', '.join(use_measures())} "
                          "(configs/calibration/use/)")
    return measure


def national_targets(measure: str = DEFAULT_MEASURE, path: str | Path = DEFAULT_TARGETS) -> list[Target]:
    """The national targets: those every calibration fits (``path``: access, trust), then the use of
    online services as ``measure`` defines it."""
    targets = load_targets(path) + load_targets(USE_DIR / f"{check_measure(measure)}.yaml")
    names = [t.name for t in targets]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"targets={path}: {', '.join(repeated)} also in use/{measure}.yaml; allowed: "
                          "distinct names")
    return targets


def monthly_table(timeseries: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """A run's monthly rows with its per-service columns beside them (``<service>.<column>``, for
    the service targets), one row per month from 0."""
    if services.empty:
        return timeseries
    wide = services.pivot(index="month", columns="service", values=list(SERVICE_METRICS))
    wide.columns = [f"{service}.{column}" for column, service in wide.columns]
    return timeseries.join(wide.reindex(timeseries.index))


def _target(item: object, i: int) -> Target:
    if not isinstance(item, dict) or not set(FIELDS) <= set(item) <= set(FIELDS + OPTIONAL):
        keys = sorted(item) if isinstance(item, dict) else item
        raise ConfigError(f"targets[{i}]={keys!r}: wrong fields; allowed: exactly {', '.join(FIELDS)} "
                          f"(and optionally {', '.join(OPTIONAL)})")
    name = str(item["name"])
    service = item.get("service")
    if service is not None and item["metric"] not in SERVICE_METRICS:
        raise ConfigError(f"targets.{name}.metric={item['metric']!r}: not a per-service column; allowed: "
                          f"{', '.join(SERVICE_METRICS)} (a target with a service)")
    if service is None and item["metric"] not in METRIC_NAMES:
        raise ConfigError(f"targets.{name}.metric={item['metric']!r}: unknown metric; allowed: a name "
                          "from docs/metrics.md")
    for key in ("observed", "sd"):
        v = item[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"targets.{name}.{key}={v!r}: not a number; allowed: a finite number")
    unit = SERVICE_METRICS[item["metric"]] if service is not None else METRIC_UNITS[item["metric"]]
    base_date = item.get("base_date")
    if base_date is not None:
        decimal_year(str(base_date), f"targets.{name}.base_date")
    if unit == "share" and base_date is None and not 0 <= item["observed"] <= 1:
        raise ConfigError(f"targets.{name}.observed={item['observed']!r}: out of range; allowed: a share "
                          f"in [0, 1] ({item['metric']} is a share)")
    if item["sd"] <= 0:
        raise ConfigError(f"targets.{name}.sd={item['sd']!r}: out of range; allowed: a number > 0")
    if not isinstance(item["held_out"], bool):
        raise ConfigError(f"targets.{name}.held_out={item['held_out']!r}: allowed: true or false")
    target = Target(name, item["metric"], str(item["date"]), float(item["observed"]),
                    float(item["sd"]), item["held_out"], str(item["source"]).strip(),
                    None if base_date is None else str(base_date), None if service is None else str(service))
    _ = target.year  # the date is checked here
    if target.is_growth and decimal_year(target.base_date) >= target.year:
        raise ConfigError(f"targets.{name}.base_date={base_date!r}: not before date={target.date}; "
                          "allowed: an earlier month")
    return target
