"""The analyst's report: one document rendered as Markdown (``report.md``, figures linked) and as
self-contained HTML (``report.html``, figures embedded as base64 PNG).

A document is a list of blocks -- ``("h1" | "h2" | "h3", text)``, ``("p", text)``, ``("ul", [items])``,
``("table", header, rows)``, ``("fig", path, caption)`` -- so that both renderings say the same thing.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from experiments.engine.stats import MIN_SEEDS, screening_bound
from sim import summary
from sim.metrics import GROUPS
from sim.provinces import N_PROVINCES
from sim.store.files import atomic_write

Block = tuple
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #333;padding-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.88em}th,td{border:1px solid #ccc;padding:.3em .55em;
text-align:left;vertical-align:top}th{background:#f0f0f0}tr:nth-child(even) td{background:#fafafa}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#555}
code{background:#f4f4f4;padding:0 .2em}
"""


# --------------------------------------------------------------------------- words
# Every name a reader sees, in words. Scenario names and descriptions come from the policy files
# (configs/policy/*.yaml, through each run's config); metrics from their declarations in sim.metrics.
LEVER_LABELS: dict[str, str] = {
    "training": "civil-servant training", "infrastructure": "connectivity",
    "literacy": "digital-literacy courses", "coproduction": "co-production with citizens",
    "transparency": "published performance data", "security": "data security",
    "accessibility": "accessibility of the platform", "outreach": "awareness campaign",
    "leadership": "leadership programme for office heads",
    "service_centres": "integrated service centres (assisted access)",
    "partnerships": "partners' assisted access points (post office, bank and telco agents)",
    "consolidation": "consolidating the government's apps into one",
}
TARGETING_LABELS: dict[str, str] = {
    "universal": "everyone", "rural": "rural residents", "low_literacy": "the least literate",
    "elderly": "the elderly", "poorest": "the poorest", "outer_islands": "the outer islands",
    "left_behind": "those left behind (rural, outer islands, elderly, poorest, least literate)",
}
def words(name: str) -> str:
    """A name as words: underscores become spaces (for names nothing else describes)."""
    return str(name).replace("_", " ")


def metric_label(metric: str) -> str:
    """A metric in words, short enough for a header or an axis (its declaration, :mod:`sim.summary`)."""
    return summary.label(metric)


def metric_phrase(metric: str) -> str:
    """A metric in the words a sentence uses (its declared description)."""
    return summary.description(metric)


def group_columns() -> list[tuple[str, str, str]]:
    """(dimension, short label, summary column) of every group adoption is reported by (the groups
    declared in sim.metrics; urban before rural, as a reader expects)."""
    ordered = sorted(GROUPS, key=lambda g: g.key != "urban")
    return [(g.dimension, g.short, f"adoption_{g.key}_final") for g in ordered]


def lever_label(lever: str) -> str:
    return LEVER_LABELS.get(lever, words(lever))


def targeting_label(targeting: str, provinces: int = 0) -> str:
    """Whom a scenario aims at, in words; ``provinces``: how many provinces its levers are confined to
    (``policy.provinces``; 0: all of them), named in the report's province section."""
    who = TARGETING_LABELS.get(targeting, words(targeting))
    return f"{who} in {provinces} of {N_PROVINCES} provinces (By province)" if provinces else who


def scenario_label(name: str) -> str:
    """A scenario as named in its policy file (configs/policy/<name>.yaml), in words."""
    return words(name)


# --------------------------------------------------------------------------- number formats
def all_finite(*values: Any) -> bool:
    return all(v is not None and np.isfinite(float(v)) for v in values)


def interval_decimals(half_width: float) -> int:
    """Decimal places a value with an interval of this half-width can carry: the half-width to one
    significant digit, two when it begins with 1 (so 0.14 does not become 0.1), and the value to the
    same place. Negative: round to tens, hundreds, ... A digit beyond that is lost in the spread the
    interval shows (across calibrated worlds, or across seeds)."""
    if not all_finite(half_width) or half_width <= 0:
        raise ValueError(f"half-width must be a positive number, not {half_width!r}")
    exponent = int(np.floor(np.log10(half_width)))
    leading = half_width / 10.0 ** exponent
    if round(leading) >= 10:  # 9.6 rounds to 10: one order up
        exponent, leading = exponent + 1, 1.0
    digits = 2 if leading < 2 else 1
    return digits - 1 - exponent


def round_to_interval(value: float, half_width: float) -> float:
    """``value`` rounded to the digits its interval half-width supports (:func:`interval_decimals`)."""
    return round(float(value), interval_decimals(half_width))


def estimate(mean: float, low: float | None = None, high: float | None = None, *, scale: float = 1.0,
             unit: str = "", sign: bool = False, interval: bool = True, unit_each: bool = False,
             decimals: int = 1, grouping: bool = True) -> str:
    """A mean with its interval as text, every number rounded to the precision the interval
    supports (:func:`interval_decimals`; ``decimals`` only where there is no interval, or it has no
    width). ``scale`` converts (100 for percent), ``interval=False`` writes the mean alone (still
    rounded by its interval), ``unit_each`` repeats the unit on the bounds ("5% (3% to 7%)")."""
    if not all_finite(mean):
        return "n/a"
    has_ci = low is not None and high is not None and all_finite(low, high)
    half = max(high - mean, mean - low) * abs(scale) if has_ci else np.nan
    # a width at the level of floating-point noise is no width (identical values across seeds)
    width = all_finite(half) and half > 1e-9 * max(abs(mean * scale), 1.0)
    places = interval_decimals(half) if width else decimals

    def one(x: float) -> str:
        x = round(float(x) * scale, places) + 0.0  # + 0.0: no "-0"
        return f"{x:{'+' if sign else ''}{',' if grouping else ''}.{max(places, 0)}f}"

    text = one(mean) + unit
    if interval and has_ci:
        bound_unit = unit if unit_each else ""
        text += f" ({one(low)}{bound_unit} to {one(high)}{bound_unit})"
    return text


def pct(mean: float, low: float | None = None, high: float | None = None, digits: int = 1,
        interval: bool = True) -> str:
    """A share in percent, with its interval."""
    return estimate(mean, low, high, scale=100.0, unit="%", unit_each=True, decimals=digits,
                    interval=interval)


def pp(mean: float, low: float | None = None, high: float | None = None, digits: int = 1,
       interval: bool = True, sign: bool = True) -> str:
    """A difference of shares, in percentage points, with its interval."""
    return estimate(mean, low, high, scale=100.0, unit=" pp", sign=sign, decimals=digits, interval=interval)


def num(mean: float, low: float | None = None, high: float | None = None, fmt: str = "{:,.0f}",
        interval: bool = True) -> str:
    """A number with its interval: rounded as the interval supports, else as ``fmt`` says (whose sign
    flag is kept)."""
    if not all_finite(mean):
        return "n/a"
    if low is None or not all_finite(low, high) or high - low <= 1e-9 * max(abs(mean), 1.0):
        return fmt.format(mean)
    return estimate(mean, low, high, sign="+" in fmt, interval=interval)


def stat(row: pd.Series, metric: str) -> tuple[float, float, float]:
    """(mean, low, high) of ``metric`` in a table row: its 5 %-95 % range across runs where the table
    has one (``_p05``/``_p95``, :func:`experiments.engine.stats.predictive`: the comparison and the
    frontier), else the 95 % confidence interval of the mean (``_ci_low``/``_ci_high``,
    :func:`experiments.engine.stats.describe`)."""
    low, high = ("p05", "p95") if f"{metric}_p05" in row.index else ("ci_low", "ci_high")
    return tuple(float(row.get(f"{metric}_{s}", np.nan)) for s in ("mean", low, high))


def range_name(uncertainty: str) -> str:
    """What the 5 %-95 % range of the comparison spans, in words: each seed's run is one posterior draw
    (a calibrated world) under ``uncertainty=posterior``; under ``none`` every run uses the declared
    defaults and the seeds differ only in their random numbers."""
    return ("range across calibrated worlds" if uncertainty == "posterior"
            else "range across seeds (run-to-run noise)")


def probability(p: float, mc_se: float | None = None) -> str:
    """A probability in whole percent with its Monte Carlo error ("62% ± 15%"); finer digits would be
    noise at the tens or hundreds of draws a comparison runs."""
    if not all_finite(p):
        return "n/a"
    text = f"{p:.0%}"
    return text + (f" ± {mc_se:.0%}" if mc_se is not None and all_finite(mc_se) else "")


def p_best_text(row: pd.Series, worlds: int) -> str:
    """A scenario's P(best) with its Monte Carlo error, or, for a scenario that stopped racing (run on
    fewer than the ``worlds`` the others ran), its bound: "0% (under 14%, stopped after 20 worlds)"."""
    n = row.get("n_seeds")
    if n is not None and all_finite(n) and 0 < int(n) < worlds:
        return f"{row['p_best']:.0%} (under {screening_bound(int(n)):.0%}, stopped after {int(n)} worlds)"
    return probability(row["p_best"], row["p_best_mc_se"])


def differs_from_zero(row: pd.Series, metric: str) -> bool | None:
    """Whether the row's interval of ``metric`` (:func:`stat`) lies on one side of zero; None without
    one. For a 5 %-95 % range: whether the effect has one sign in at least 95 % of the draws."""
    _, low, high = stat(row, metric)
    if not all_finite(low, high):
        return None
    return low > 0 or high < 0


# --------------------------------------------------------------------------- rendering
def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block], base: Path) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            header, rows = block[1], block[2]
            lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
                     "|" + "|".join("---" for _ in header) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "fig":
            rel = Path(block[1]).relative_to(base).as_posix()
            out.append(f"![{block[2]}]({rel})\n\n*{block[2]}*")
    return "\n\n".join(out) + "\n"


def to_html(blocks: Sequence[Block], title: str) -> str:
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"]
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{esc(block[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{esc(block[1])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{esc(str(i))}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{esc(str(h))}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                           for row in block[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "fig":
            data = base64.b64encode(Path(block[1]).read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{esc(block[2])}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{esc(block[2])}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write(blocks: Sequence[Block], directory: Path, stem: str, title: str) -> tuple[Path, Path]:
    md, page = directory / f"{stem}.md", directory / f"{stem}.html"
    atomic_write(md, to_markdown(blocks, directory))
    atomic_write(page, to_html(blocks, title))
    return md, page


# --------------------------------------------------------------------------- policy comparison
def few_seeds_warning(n_seeds: int, per: str = "scenario") -> str | None:
    """The warning a report opens with when it rests on fewer than MIN_SEEDS seeds, else None."""
    if n_seeds >= MIN_SEEDS:
        return None
    tcrit, t10 = (float(stdtrit(max(n - 1, 1), 0.975)) for n in (n_seeds, 10))
    return (f"Warning: only {n_seeds} seed{'s' if n_seeds != 1 else ''} per {per}, so the 95% intervals "
            f"are wide (each reaches {tcrit:.1f} standard errors either side, against {t10:.1f} with 10 "
            "seeds) and a ranking or a best choice can change with more runs. Run with seeds=10 or more "
            "before acting on these results.")


def few_draws_warning(n_draws: int, uncertainty: str) -> str | None:
    """The warning the comparison report opens with when it rests on fewer than MIN_SEEDS draws per
    scenario, else None: its 5 %-95 % ranges are then little more than the extremes of a handful of
    runs, and P(best) is known only to within a Monte Carlo error of up to sqrt(0.25 / n)."""
    if n_draws >= MIN_SEEDS:
        return None
    worst = float(np.sqrt(0.25 / max(n_draws, 1)))
    what = "calibrated worlds" if uncertainty == "posterior" else "seeds"
    return (f"Warning: only {n_draws} seed{'s' if n_draws != 1 else ''} per scenario, so each 5%-95% range "
            f"rests on {n_draws} {what} (its ends are little more than the extremes of those runs) and a "
            f"probability such as P(best) carries a Monte Carlo error of up to {worst:.0%}; a ranking or "
            "a best choice can change with more runs. Run with seeds=10 or more before acting on these "
            "results.")


def spending_cells(row: pd.Series) -> tuple[str, str]:
    """What a scenario spent per month (over the months it could spend) and over the whole run, with a
    note when it could not spend its budget."""
    months = int(row.get("budget_months", 0) or 0)
    mean, low, high = stat(row, "cost_idr_bn")
    if not all_finite(mean) or mean <= 0:
        return "0", "0"
    per_month = num(*(v / max(months, 1) for v in (mean, low, high)), interval=False)
    total = num(mean, low, high, interval=False)
    if bool(row.get("underspent", False)):
        share = pct(*stat(row, "budget_spent_share"), interval=False)
        per_month += f" (could not spend its budget: {share} of it)"
    return per_month, total


def value_text(row: pd.Series, metric: str, interval: bool = True, sign: bool | None = None) -> str:
    """A metric of a table row in its unit: a share in percent, a gap between shares or a change of a
    share in percentage points, anything else as a number (changes signed unless told otherwise)."""
    signed = metric.endswith("_change") if sign is None else sign
    if summary.unit(metric) == "share":
        return pct(*stat(row, metric), interval=interval)
    if summary.is_share(metric):
        return pp(*stat(row, metric), interval=interval, sign=signed)
    return estimate(*stat(row, metric), interval=interval, sign=signed, decimals=3)


