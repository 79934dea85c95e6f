"""The dashboard: ``make dashboard`` (``solara run sim/app.py``, 127.0.0.1:8765).

Pick a policy scenario, population profile, network, political will, monthly budget, number of
citizens and seed in the sidebar and press Reset to rebuild the model with them (the page says so:
changes to the scenario do nothing until Reset), then Step or Play. The model stops by itself at its
horizon (``steps``, 60 months by default), whatever the render interval.

Built for analysts on filtered or offline public-sector networks:

- every script, style and font comes from installed packages (``solara-assets``, with ipyvue and
  ipyvuetify 1.x); nothing is fetched from a CDN, and Solara's telemetry is switched off here as
  well as in the Makefile;
- the plots are ECharts line charts drawn in the browser (the server only sends a few hundred
  numbers per month), so a Step at 5,000 citizens costs milliseconds rather than the seconds that
  server-side matplotlib rendering took. ECharts rather than Vega-Lite because its script ships in
  ``solara-assets`` under the exact version Solara asks for;
- labels are words read from the metric declarations (:data:`sim.metrics.METRICS`), axes are in
  months, equity gaps in percentage points, and the headline figures sit at the top;
- a province filter ("All Indonesia" or one of the 38 provinces) shows one province's figures and
  their history, read from the same per-province counts the runs write (``provinces.csv``), with the
  number of agents behind them: at dashboard sizes most provinces hold a few hundred agents or fewer,
  and a figure that rests on so few is flagged rather than shown as if it were firm. It is a view of
  the model shown, so it applies at once, unlike the scenario settings.

Step, Play/Pause and Reset are Mesa's own ``ModelController`` (the controller inside SolaraViz), so
the dashboard drives the model exactly as ``SolaraViz(model, components=COMPONENTS,
model_params=model_params)`` would; the page is laid out here only to put the headline first and to
name things in words. Populations are small (up to 20,000 citizens) so that the page stays
responsive; use ``python -m sim`` for full-size runs.
"""

from __future__ import annotations

import os
import threading

# Before solara is imported (its settings read the environment once), and for `solara run` too,
# whose settings are already loaded by the time this file is: see _telemetry_off().
os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")

from collections.abc import Callable, Sequence  # noqa: E402
from functools import cache  # noqa: E402
from html import escape  # noqa: E402
from math import isfinite  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import solara  # noqa: E402
import traitlets  # noqa: E402
from mesa.visualization.solara_viz import ModelController  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from solara.components.echarts import EchartsWidget  # noqa: E402

from sim import metrics  # noqa: E402
from sim.config import APP_PORTFOLIO, CONFIG_DIR, LEVERS, REGIONS, SimConfig, group_options  # noqa: E402
from sim.metrics import FEW_PROVINCE_AGENTS, METRICS, REGION_KEYS, province_citizen_columns  # noqa: E402
from sim.model import DigitalAdoptionModel  # noqa: E402
from sim.parameters import ConfigError  # noqa: E402
from sim.provinces import PROVINCE_TILES, PROVINCES  # noqa: E402

TITLE = "Digital public services in Indonesia"
DEFAULT_POLICY = "comprehensive"
RESET_NOTE = "Changes to these settings apply when you press Reset."
# The province filter: the whole country or one province (names from sim.provinces).
ALL_INDONESIA = "All Indonesia"
PROVINCE_CHOICES: tuple[str, ...] = (ALL_INDONESIA, *PROVINCES)
# The figures of the province view: the two measures of use, access and trust, the same for the
# whole country (the monthly rows) and for a province (sim.metrics.province_citizen_columns).
PROVINCE_VIEW = ("adoption", "ever_used_connected", "access", "trust_mean")
PROVINCE_NOTE = "A view of the model shown: it changes at once, no Reset needed."


def parameters_note(cfg: SimConfig) -> str:
    """One line on what the dashboard runs: its parameter set and its timeline. The comparison runs a
    different posterior draw per seed, so its numbers differ; the page says so."""
    begins = cfg.policy.start_date or cfg.start_date
    services = ", ".join(cfg.services) if cfg.services else "general"
    return (f"Parameters: {cfg.parameter_set}. Services: {services}. The run starts in {cfg.start_date} "
            f"and lives through the observed years; the policy begins in {begins}. The comparison (make "
            "run) runs a different calibrated posterior draw per seed and shows the range across them.")


# The pause slider's minimum. No pause is safe: steps are serialised (DashboardModel.step) and the
# page renders from a snapshot of the rows (rows_of), so the Play thread cannot race a render.
MIN_PLAY_INTERVAL_MS = 0


def _telemetry_off() -> None:
    """Switch Solara's usage telemetry off in a server that was started without the variable."""
    try:
        import solara.server.settings as server_settings
    except ImportError:  # solara without its server (e.g. rendering in a test)
        return
    server_settings.telemetry.mixpanel_enable = False


_telemetry_off()


class DashboardModel(DigitalAdoptionModel):
    """The model with an explicit keyword signature, as SolaraViz's parameter check requires.

    Mesa checks ``model_params`` against the constructor's named parameters (it only tolerates a
    variadic keyword argument literally called ``kwargs``), so the dotted keys the dashboard sets are
    spelled out here and passed on unchanged. Values from the sliders are coerced to the schema's
    types; the keywords are kept so the page can tell whether the sidebar differs from the model shown.

    Steps are serialised by a lock: Mesa's Play loop runs in a task thread that Solara restarts when
    Play is toggled, so with a short pause a second loop can start while the first is still inside a
    step, and two interleaved steps would corrupt the state arrays and the monthly rows.
    """

    def __init__(
        self,
        n_citizens: int = 5000,
        policy: str = DEFAULT_POLICY,
        population: str = "indonesia",
        network: str = "homophilous",
        portfolio: str = APP_PORTFOLIO,
        policy__political_will: float = 0.5,
        budget_idr_bn_per_month: float = 500.0,
        seed: int = 42,
        steps: int | None = None,
        policy__start_date: str | None = SimConfig().policy.start_date,  # the declared default
    ) -> None:
        self.dashboard_kwargs: dict[str, Any] = {
            "n_citizens": int(n_citizens),
            "policy": str(policy),
            "population": str(population),
            "network": str(network),
            "portfolio": str(portfolio),
            "policy__political_will": float(policy__political_will),
            "budget_idr_bn_per_month": float(budget_idr_bn_per_month),
            "seed": int(seed),
        }
        self._step_lock = threading.Lock()
        # Month by month, the province view's figures for all 38 provinces (arrays over provinces): the
        # page can switch province at any month and still draw its history. A few hundred numbers a
        # month, appended only (read as a snapshot, like the rows).
        self.province_rows: list[dict[str, Any]] = []
        super().__init__(steps=None if steps is None else int(steps), policy__start_date=policy__start_date,
                         **self.dashboard_kwargs)
        self._record_provinces()

    def step(self) -> None:
        """One month, never two at once (see the class docstring)."""
        with self._step_lock:
            month = self.month
            super().step()
            if self.month > month:  # not at the horizon, where a step changes nothing
                self._record_provinces()

    def _record_provinces(self) -> None:
        columns = province_citizen_columns(self.state)
        self.province_rows.append({"month": float(self.month), "citizen_agents": columns["citizen_agents"],
                                   **{key: columns[key] for key in PROVINCE_VIEW}})


def rows_of(model: DigitalAdoptionModel) -> list[dict[str, float]]:
    """The monthly rows as one snapshot.

    During Play the model steps in another thread while the page renders (browser messages such as
    a chart's resize re-render it in the server's own thread), so ``model.rows`` may grow between two
    reads; reading it twice paired months with rows of different lengths and put a traceback on the
    page. Copying the list is atomic, and rows are only ever appended, so the copy is consistent.
    """
    return list(model.rows)


# The controls, in Mesa's model_params format (so SolaraViz can use them too); "format" is how the
# page shows a slider's value beside its label.
model_params: dict[str, dict[str, Any]] = {
    "policy": {
        "type": "Select",
        "value": DEFAULT_POLICY,
        "values": group_options("policy"),
        "label": "Policy scenario",
    },
    "budget_idr_bn_per_month": {
        "type": "SliderFloat",
        "value": 500.0,
        "label": "Budget (IDR bn a month)",
        "min": 0.0,
        "max": 2000.0,
        "step": 50.0,
        "format": "{:,.0f}",
    },
    "policy__political_will": {
        "type": "SliderFloat",
        "value": 0.5,
        "label": "Political will (0-1)",
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "format": "{:.2f}",
    },
    "population": {
        "type": "Select",
        "value": "indonesia",
        "values": group_options("population"),
        "label": "Population profile",
    },
    "portfolio": {
        "type": "Select",
        "value": APP_PORTFOLIO,
        "values": group_options("portfolio"),
        "label": "Services (portfolio)",
    },
    "network": {
        "type": "Select",
        "value": "homophilous",
        "values": group_options("network"),
        "label": "Social network",
    },
    "n_citizens": {
        "type": "SliderInt",
        "value": 5000,
        "label": "Citizens (agents)",
        "min": 1000,
        "max": 20000,
        "step": 1000,
        "format": "{:,d}",
    },
    "seed": {
        "type": "SliderInt",
        "value": 42,
        "label": "Random seed",
        "min": 0,
        "max": 999,
        "step": 1,
        "format": "{:d}",
    },
}


def default_kwargs() -> dict[str, Any]:
    """The constructor keywords the dashboard starts with (each parameter's ``value``)."""
    return {key: spec["value"] if isinstance(spec, dict) else spec for key, spec in model_params.items()}


# ----------------------------------------------------------------------------- words and numbers
_DESCRIPTIONS = {m.name: m.description for m in METRICS}


def label(name: str, drop: str = "") -> str:
    """A metric's label in words, from its declaration in :data:`sim.metrics.METRICS`.

    ``drop`` removes a prefix shared by every series of one chart (its title already says it), e.g.
    ``"adoption among "``; a trailing technical note in brackets is left out.
    """
    text = _DESCRIPTIONS[name].split(" (")[0]
    if drop and text.startswith(drop):
        text = text[len(drop):]
    return text[:1].upper() + text[1:]


def words(name: str) -> str:
    """A config option's name in words (``small_world`` -> ``Small world``)."""
    return name.replace("_", " ").capitalize()


@cache
def option_description(group: str, name: str) -> str:
    """The one-line description an option's YAML file gives (empty if it has none)."""
    return str(OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml").get("description", ""))


def pct(share: float) -> str:
    """A share as a percentage with the precision a 5,000-citizen run supports."""
    return f"{100 * share:.1f}%"


def pp(gap: float) -> str:
    """A gap between two shares in signed percentage points."""
    return f"{100 * gap:+.1f} pp"


def tile_colour(share: float) -> tuple[str, str]:
    """Background and text colour of an island group's tile: light (0%) to dark blue (100%).

    A fixed 0-100% scale, not one stretched to the month's values, so colours compare across months
    and scenarios.
    """
    stops = ((0.0, (239, 243, 255)), (0.5, (107, 174, 214)), (1.0, (8, 48, 107)))
    share = min(max(share, 0.0), 1.0)
    for (x0, c0), (x1, c1) in zip(stops, stops[1:], strict=False):
        if share <= x1:
            t = (share - x0) / (x1 - x0)
            rgb = tuple(round(a + t * (b - a)) for a, b in zip(c0, c1, strict=True))
            break
    text = "white" if share > 0.45 else "#102040"
    return "rgb({}, {}, {})".format(*rgb), text


# Island groups placed roughly as they lie, west to east (row, column); no geodata needed.
TILE_POSITIONS = {
    "Sumatra": (1, 1),
    "Kalimantan": (1, 2),
    "Sulawesi": (1, 3),
    "Maluku-Papua": (1, 4),
    "Java": (2, 2),
    "Bali-Nusa Tenggara": (2, 3),
}


# ----------------------------------------------------------------------------- charts
Series = tuple[str, str, str]  # metric name, label, colour


def line_option(
    model: DigitalAdoptionModel,
    title: str,
    series: Sequence[Series],
    y_name: str,
    scale: float = 100.0,
    y_range: tuple[float | None, float | None] = (None, None),
    right: Sequence[Series] = (),
    right_name: str = "",
    right_range: tuple[float | None, float | None] = (None, None),
    rows: Sequence[dict[str, float]] | None = None,
) -> dict[str, Any]:
    """An ECharts line-chart option: the chosen metrics month by month, x axis 0 to the horizon.

    Values are scaled (shares to percentages, gaps to points) and rounded on the server, so the
    browser receives a few small numbers per month and draws them; animation is off so that each
    month appears at once. ``right``: series drawn unscaled against a second y axis on the right
    (``right_name``, ``right_range``), for a quantity on its own scale beside shares in percent,
    such as trust on 0-1. ``rows``: a snapshot of monthly rows to draw instead of the model's own
    (one province's, :func:`view_rows`); a value that does not exist (NaN: a province with nobody
    connected yet) is a gap in the line.
    """
    rows = rows_of(model) if rows is None else rows
    months = [int(r["month"]) for r in rows]

    def axis(name: str, bounds: tuple[float | None, float | None]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "value", "name": name, "nameGap": 12}
        if bounds[0] is not None:
            out["min"] = bounds[0]
        if bounds[1] is not None:
            out["max"] = bounds[1]
        return out

    def line(key: str, name: str, colour: str, factor: float, digits: int, index: int) -> dict[str, Any]:
        return {
            "type": "line",
            "name": name,
            "showSymbol": len(rows) == 1,  # a single month is a point, not a line
            "color": colour,
            "yAxisIndex": index,
            "data": [[m, round(factor * r[key], digits) if isfinite(r[key]) else None]
                     for m, r in zip(months, rows, strict=True)],
        }

    y_axis: dict[str, Any] | list[dict[str, Any]] = axis(y_name, y_range)
    if right:
        y_axis = [y_axis, axis(right_name, right_range) | {"splitLine": {"show": False}}]
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "itemWidth": 18},
        "grid": {"top": 56, "left": 48, "right": 20, "bottom": 34 + 18 * ((len(series) + 1) // 2),
                 "containLabel": True},
        "xAxis": {"type": "value", "name": "month", "nameLocation": "middle", "nameGap": 24,
                  "min": 0, "max": model.cfg.steps, "minInterval": 1},
        "yAxis": y_axis,
        "series": [*(line(key, name, colour, scale, 2, 0) for key, name, colour in series),
                   *(line(key, name, colour, 1.0, 4, 1) for key, name, colour in right)],
    }


def _series(keys: Sequence[tuple[str, str]], drop: str = "", names: dict[str, str] | None = None
            ) -> list[Series]:
    return [(key, (names or {}).get(key) or label(key, drop), colour) for key, colour in keys]


CHART_STYLE = {"style": "height: 340px; width: 100%;"}


class ChartOption:
    """An ECharts option passed through the component tree as one opaque value.

    Solara's renderer walks every list and dict in a widget's properties looking for child
    components, building a key string for each item; for a chart's data (months x series) that walk
    cost more than the model's month itself. Wrapped, the option is compared once and sent to the
    browser as plain JSON.
    """

    __slots__ = ("value",)

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChartOption) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]  # mutable contents: not hashable


class ChartWidget(EchartsWidget):
    """Solara's ECharts widget (its browser side unchanged), taking a :class:`ChartOption`."""

    option = traitlets.Any({}).tag(
        sync=True, to_json=lambda value, _widget: value.value if isinstance(value, ChartOption) else value
    )


def _chart(option: dict[str, Any]) -> solara.Element:
    return ChartWidget.element(option=ChartOption(option), attributes=CHART_STYLE, responsive=True)


@solara.component
def AdoptionChart(model: DigitalAdoptionModel) -> solara.Element:
    """Adoption overall, urban and rural, in % of citizens."""
    update_counter.get()
    series = _series([("adoption", "#222222"), ("adoption_urban", "#1f77b4"),
                      ("adoption_rural", "#2ca02c")], drop="adoption among ",
                     names={"adoption": "All citizens"})
    return _chart(line_option(model, "Citizens using the digital services", series,
                              "% of citizens", y_range=(0, 100)))


@solara.component
def GapChart(model: DigitalAdoptionModel) -> solara.Element:
    """Equity gaps in adoption, in percentage points (above 0: the first-named group is ahead)."""
    update_counter.get()
    series = _series([("gap_urban_rural", "#1f77b4"), ("gap_income_q5_q1", "#d62728"),
                      ("gap_region_max_min", "#2ca02c"), ("gap_age_young_old", "#9467bd"),
                      ("gap_literacy_t3_t1", "#8c564b")], drop="adoption gap, ")
    return _chart(line_option(model, "Who is left behind: adoption gaps", series,
                              "percentage points"))


def on_scale(name: str) -> str:
    """A metric's label with its declared range, e.g. ``Mean trust in government (0-1)``."""
    low, high = metrics.bounds(name) or (None, None)
    return label(name) if low is None else f"{label(name)} ({low:g}-{high:g})"


def trust_option(model: DigitalAdoptionModel) -> dict[str, Any]:
    """Trust, awareness and internet access, the citizens' side of adoption. Awareness and access
    are shares (% of citizens, left axis); trust is on its declared 0-1 scale (right axis), as in the
    headline, the reports and the tables."""
    shares = _series([("awareness", "#ff7f0e"), ("access", "#7f7f7f")])
    trust = _series([("trust_mean", "#7b3294")], names={"trust_mean": on_scale("trust_mean")})
    low, high = metrics.bounds("trust_mean") or (None, None)
    return line_option(model, "Trust, awareness and internet access", shares, "% of citizens",
                       y_range=(0, 100), right=trust, right_name=f"trust ({low:g}-{high:g})",
                       right_range=(low, high))


@solara.component
def TrustChart(model: DigitalAdoptionModel) -> solara.Element:
    """Trust (0-1), awareness and internet access (% of citizens): :func:`trust_option`."""
    update_counter.get()
    return _chart(trust_option(model))


@solara.component
def StaffChart(model: DigitalAdoptionModel) -> solara.Element:
    """Civil servants working digitally, trained, and their resistance."""
    update_counter.get()
    series = _series([("digital_staff_share", "#d62728"), ("trained_staff_share", "#bcbd22"),
                      ("resistance_mean", "#8c564b")],
                     names={"resistance_mean": "Mean resistance of civil servants (0-100)"})
    return _chart(line_option(model, "Civil servants (ASN)", series, "% of civil servants",
                              y_range=(0, 100)))


LEVER_COLOURS = ("#d62728", "#7f7f7f", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b", "#e377c2",
                 "#ff7f0e", "#17becf", "#bcbd22", "#393b79", "#8c6d31")


@solara.component
def SpendChart(model: DigitalAdoptionModel) -> solara.Element:
    """Spending per month by lever, the levers that spent anything so far; a lever whose willing,
    eligible recipients have all been reached stops spending, which shows here as a drop."""
    update_counter.get()
    rows = rows_of(model)
    keys = [(f"spend_{lever}_idr_bn", colour) for lever, colour in zip(LEVERS, LEVER_COLOURS, strict=True)
            if any(r[f"spend_{lever}_idr_bn"] > 0 for r in rows)]
    series = _series(keys or [("spend_total_idr_bn", "#222222")], drop="spent on ")
    return _chart(line_option(model, "Spending per month by lever", series, "IDR bn a month",
                              scale=1.0, y_range=(0, None)))


# ----------------------------------------------------------------------------- headline and map
def spent_so_far(model: DigitalAdoptionModel, rows: Sequence[dict[str, float]] | None = None) -> float:
    """IDR bn spent on all levers from month 0 to the month shown (``rows``: a snapshot)."""
    return float(sum(r["spend_total_idr_bn"] for r in (rows_of(model) if rows is None else rows)))


def headline(model: DigitalAdoptionModel) -> list[tuple[str, str, str]]:
    """The headline figures as (label, value, detail), month shown first; every figure from one
    snapshot of the rows, so the month and the values agree while Play steps the model."""
    rows = rows_of(model)
    row, first, cfg = rows[-1], rows[0], model.cfg

    def title(name: str) -> str:
        return metrics.label(name)[:1].upper() + metrics.label(name)[1:]

    return [
        ("Month", f"{int(row['month'])} of {cfg.steps}", "one step is one month"),
        (title("adoption"), pct(row["adoption"]),
         f"current users, share of everyone; {pp(row['adoption'] - first['adoption'])} since month 0"),
        (title("ever_used_connected"), pct(row["ever_used_connected"]),
         "of people with internet access; the measure the calibration fits"),
        *((title(f"gap_{g.key}"), pp(row[f"gap_{g.key}"]), f"adoption, {g.between}")
          for g in metrics.GAPS if g.key != "literacy_t3_t1"),
        (title("trust_mean"), f"{row['trust_mean']:.2f}",
         f"on 0-1; {row['trust_mean'] - first['trust_mean']:+.2f} since month 0"),
        (title("digital_staff_share"), pct(row["digital_staff_share"]), "working through the system"),
        ("Spent so far", f"IDR {spent_so_far(model, rows):,.0f} bn",
         f"IDR {row['spend_total_idr_bn']:,.0f} bn this month"),
    ]


def headline_html(model: DigitalAdoptionModel) -> str:
    """The headline as one block of HTML: the scenario in a sentence, then a tile per figure."""
    cfg = model.cfg
    scenario = (f"{words(cfg.policy.name)}: {cfg.policy.description} {cfg.population.n_citizens:,} "
                f"citizens ({words(cfg.population.name)} profile), {words(cfg.network.kind).lower()} "
                f"network, seed {cfg.seed}.")
    stats = "".join(
        f'<div class="headline-stat" style="min-width: 140px; padding: 6px 10px; background: #f3f6fa; '
        f'border-radius: 6px;"><div style="font-size: 0.8rem; color: #445;">{escape(name)}</div>'
        f'<div style="font-size: 1.35rem; font-weight: 600;">{escape(value)}</div>'
        f'<div style="font-size: 0.72rem; color: #667;">{escape(detail)}</div></div>'
        for name, value, detail in headline(model)
    )
    return (f'<div style="font-size: 0.95rem;">{escape(scenario)}</div>'
            f'<div class="parameters-note" style="font-size: 0.8rem; color: #556;">'
            f'{escape(parameters_note(model.cfg))}</div>'
            f'<div style="display: flex; flex-wrap: wrap; gap: 10px; margin-top: 8px;">{stats}</div>')


def tiles_html(model: DigitalAdoptionModel) -> str:
    """Adoption by island group as a grid of coloured tiles placed west to east, with a caption."""
    rows = rows_of(model)
    row, first = rows[-1], rows[0]
    tiles = []
    for region, key in zip(REGIONS, REGION_KEYS, strict=True):
        share = row[f"adoption_{key}"]
        change = share - first[f"adoption_{key}"]
        background, text = tile_colour(share)
        r, c = TILE_POSITIONS[region]
        tiles.append(
            f'<div class="island-tile" style="grid-row: {r}; grid-column: {c}; background: {background}; '
            f'color: {text}; border-radius: 8px; padding: 8px;">'
            f'<div style="font-weight: 600;">{escape(region)}</div>'
            f'<div style="font-size: 1.3rem;">{pct(share)}</div>'
            f'<div style="font-size: 0.72rem;">{pp(change)} since start</div></div>'
        )
    return ('<div style="display: grid; grid-template-columns: repeat(4, 1fr); '
            f'grid-template-rows: repeat(2, minmax(80px, auto)); gap: 6px;">{"".join(tiles)}</div>'
            '<div style="font-size: 0.8rem; color: #445; margin-top: 8px;">Share of residents using '
            'the digital services; colour from 0% (light) to 100% (dark). Highest minus lowest: '
            f'{pp(row["gap_region_max_min"])}.</div>')


def province_tiles_html(model: DigitalAdoptionModel, selected: str = ALL_INDONESIA) -> str:
    """Adoption in each of the 38 provinces as a tile cartogram (:data:`sim.provinces.PROVINCE_TILES`:
    one square per province, neighbours kept close), with how many agents stand behind each value; the
    province chosen in the province view (``selected``) is outlined, so the map shows where it lies.

    The values are the month's recorded province figures (:func:`province_snapshot`), not the live
    state, which the Play thread may be changing while the page draws."""
    latest = province_snapshot(model)
    tiles = []
    for province, (r, c) in PROVINCE_TILES.items():
        i = PROVINCES.index(province)
        share = float(latest["adoption"][i])
        agents = int(latest["citizen_agents"][i])
        background, text = tile_colour(share) if share == share else ("#e5e5e5", "#333")
        value = pct(share) if share == share else "-"
        chosen = province == selected
        classes, outline = ("province-tile selected", "outline: 3px solid #d62728; outline-offset: -1px; "
                            ) if chosen else ("province-tile", "")
        tiles.append(
            f'<div class="{classes}" title="{escape(province)}: {value}, {agents:,} agents" '
            f'style="grid-row: {r + 1}; grid-column: {c + 1}; background: {background}; color: {text}; '
            f'{outline}'
            f'border-radius: 4px; padding: 2px; font-size: 0.62rem; line-height: 1.1; overflow: hidden;">'
            f'<div>{escape(province)}</div><div style="font-size: 0.8rem; font-weight: 600;">{value}</div>'
            '</div>')
    cols = max(c for _, c in PROVINCE_TILES.values()) + 1
    smallest = int(np.min(latest["citizen_agents"]))
    return (f'<div style="display: grid; grid-template-columns: repeat({cols}, minmax(44px, 1fr)); '
            f'gap: 3px;">{"".join(tiles)}</div>'
            '<div style="font-size: 0.8rem; color: #445; margin-top: 8px;">Share of residents using the '
            "digital services, province by province (a tile map: one square per province, not its "
            f"boundaries). The smallest province holds {smallest:,} agents at this size, so small "
            "provinces' shares are noisy; hover a tile for its agent count.</div>")


def province_snapshot(model: DigitalAdoptionModel) -> dict[str, Any]:
    """The latest recorded province figures (month, citizen_agents and :data:`PROVINCE_VIEW`, arrays
    over the 38 provinces), read as one snapshot; a model that records none (a plain
    :class:`~sim.model.DigitalAdoptionModel` in SolaraViz) gives its current state's."""
    recorded = list(getattr(model, "province_rows", []))
    if recorded:
        return recorded[-1]
    columns = province_citizen_columns(model.state)
    return {"month": float(model.month), **{k: columns[k] for k in ("citizen_agents", *PROVINCE_VIEW)}}


def check_province(name: str) -> str:
    """The province filter's value, or a one-line ConfigError naming it and what is allowed. The page's
    select offers only valid names; a notebook or a test calling the functions below may not."""
    if name not in PROVINCE_CHOICES:
        raise ConfigError(f"province={name!r}: not a province; allowed: {ALL_INDONESIA!r} or one of the "
                          f"38 provinces ({', '.join(PROVINCES)})")
    return name


def view_rows(model: DigitalAdoptionModel, province: str) -> list[dict[str, float]]:
    """The province view's monthly rows (month, citizen_agents and :data:`PROVINCE_VIEW`): the model's
    own rows for the whole country, else the province's column of the recorded province figures.

    A model that recorded none (a plain :class:`~sim.model.DigitalAdoptionModel` in SolaraViz) gives
    the month shown only. Both come from one snapshot, so the months agree while Play steps the model.
    """
    check_province(province)
    if province == ALL_INDONESIA:
        agents = float(model.cfg.population.n_citizens)
        return [{"month": r["month"], "citizen_agents": agents, **{k: r[k] for k in PROVINCE_VIEW}}
                for r in rows_of(model)]
    recorded = list(getattr(model, "province_rows", [])) or [province_snapshot(model)]
    i = PROVINCES.index(province)
    return [{key: float(value) if key == "month" else float(np.asarray(value)[i])
             for key, value in row.items()} for row in recorded]


def _share_or_dash(share: float) -> str:
    return pct(share) if isfinite(share) else "-"


def province_noise_warning(agents: int, province: str, n_citizens: int) -> str:
    """Why a province's figures may mislead at this population size (empty when they do not): a share
    estimated from ``agents`` citizen agents moves by chance alone by up to sqrt(0.25 / agents), one
    standard deviation, about 3 percentage points at :data:`~sim.metrics.FEW_PROVINCE_AGENTS`."""
    if agents == 0:
        return (f"No citizen agents live in {province} at {n_citizens:,} citizens, so the model says "
                "nothing about it: raise Citizens (agents) and press Reset.")
    if agents < FEW_PROVINCE_AGENTS:
        return (f"Only {agents:,} citizen agents live in {province} (fewer than {FEW_PROVINCE_AGENTS}): "
                f"its figures are noisy, a share can be off by about {100 * (0.25 / agents) ** 0.5:.0f} "
                "percentage points by chance alone. Raise Citizens (agents) and press Reset for a "
                "steadier estimate.")
    return ""


def province_headline(model: DigitalAdoptionModel, province: str) -> list[tuple[str, str, str]]:
    """The province view's figures as (label, value, detail): the month, the two measures of use,
    access and trust (0-1) in the chosen province, and the citizen agents they rest on."""
    rows = view_rows(model, province)
    row, first = rows[-1], rows[0]
    agents = int(row["citizen_agents"])

    def title(name: str) -> str:
        return metrics.label(name)[:1].upper() + metrics.label(name)[1:]

    def since(name: str, fmt: Callable[[float], str]) -> str:
        change = row[name] - first[name]
        return f"{fmt(change)} since month 0" if isfinite(change) else "no value at month 0"

    def signed(change: float) -> str:
        return f"{change:+.2f}"

    trust = f"{row['trust_mean']:.2f}" if isfinite(row["trust_mean"]) else "-"
    return [
        ("Month", f"{int(row['month'])} of {model.cfg.steps}", "one step is one month"),
        (title("adoption"), _share_or_dash(row["adoption"]),
         f"current users, share of everyone; {since('adoption', pp)}"),
        (title("ever_used_connected"), _share_or_dash(row["ever_used_connected"]),
         "of people with internet access"),
        (title("access"), _share_or_dash(row["access"]), f"share of residents; {since('access', pp)}"),
        (title("trust_mean"), trust, f"on 0-1; {since('trust_mean', signed)}"),
        ("Citizen agents", f"{agents:,}",
         f"standing for {agents * model.state.people_per_citizen / 1e6:,.1f} million people"),
    ]


def province_view_html(model: DigitalAdoptionModel, province: str) -> str:
    """The province view's figures as one block of HTML, with the warning when they rest on few agents."""
    stats = "".join(
        f'<div class="province-stat" style="min-width: 120px; padding: 6px 10px; background: #f3f6fa; '
        f'border-radius: 6px;"><div style="font-size: 0.8rem; color: #445;">{escape(name)}</div>'
        f'<div style="font-size: 1.25rem; font-weight: 600;">{escape(value)}</div>'
        f'<div style="font-size: 0.72rem; color: #667;">{escape(detail)}</div></div>'
        for name, value, detail in province_headline(model, province)
    )
    agents = int(view_rows(model, province)[-1]["citizen_agents"])
    warning = province_noise_warning(agents, province, model.cfg.population.n_citizens)
    note = ('<div class="province-warning" style="margin-top: 8px; padding: 6px 10px; background: '
            '#fff4e5; border-left: 4px solid #f0a030; font-size: 0.85rem;">'
            f'{escape(warning)}</div>' if warning else "")
    where = "the whole country" if province == ALL_INDONESIA else f"{province} only (its residents)"
    return (f'<div class="province-name" style="font-size: 0.95rem;">Shown: {escape(where)}.</div>'
            f'<div style="display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px;">{stats}</div>{note}')


def province_option(model: DigitalAdoptionModel, province: str) -> dict[str, Any]:
    """The province view's chart: adoption, ever used (of the connected) and access in % of the
    province's residents (left axis), trust on its declared 0-1 scale (right axis), as in
    :func:`trust_option`."""
    def words_of(name: str) -> str:
        return metrics.label(name)[:1].upper() + metrics.label(name)[1:]

    shares = _series([("adoption", "#222222"), ("ever_used_connected", "#1f77b4"), ("access", "#7f7f7f")],
                     names={key: words_of(key) for key in PROVINCE_VIEW})
    trust = _series([("trust_mean", "#7b3294")], names={"trust_mean": on_scale("trust_mean")})
    low, high = metrics.bounds("trust_mean") or (None, None)
    return line_option(model, f"{province}: use, access and trust", shares, "% of residents",
                       y_range=(0, 100), right=trust, right_name=f"trust ({low:g}-{high:g})",
                       right_range=(low, high), rows=view_rows(model, province))


# The headline and the tiles are one HTML block each rather than a component per number: the
# renderer then updates one widget per panel each month instead of a few hundred.
@solara.component
def Headline(model: DigitalAdoptionModel) -> solara.Element:
    """The figures an analyst looks for first, above everything else."""
    update_counter.get()
    with solara.Card(margin=0, classes=["headline"]) as card:
        solara.HTML(tag="div", unsafe_innerHTML=headline_html(model))
    return card


@solara.component
def IslandTiles(model: DigitalAdoptionModel) -> solara.Element:
    """Adoption by island group as a tile map (no geodata needed)."""
    update_counter.get()
    with solara.Card("Adoption by island group", margin=0) as card:
        solara.HTML(tag="div", unsafe_innerHTML=tiles_html(model))
    return card


@solara.component
def ProvinceTiles(model: DigitalAdoptionModel, province: solara.Reactive[str] | None = None
                  ) -> solara.Element:
    """Adoption by province as a tile cartogram, the province chosen in the view outlined."""
    update_counter.get()
    selected = ALL_INDONESIA if province is None else province.value
    with solara.Card("Adoption by province", margin=0) as card:
        solara.HTML(tag="div", unsafe_innerHTML=province_tiles_html(model, selected))
    return card


@solara.component
def ProvinceView(model: DigitalAdoptionModel, province: solara.Reactive[str] | None = None
                 ) -> solara.Element:
    """The province filter and the chosen province's figures and chart. ``province``: the page's
    choice, shared with the tile map; without it (in SolaraViz) the panel keeps its own."""
    own = solara.use_reactive(ALL_INDONESIA)
    chosen = own if province is None else province
    update_counter.get()

    def choose(name: Any) -> None:
        if name in PROVINCE_CHOICES:  # typing a name half-way, or clearing it, keeps the view shown
            chosen.set(name)

    with solara.Card("Headline by province", margin=0, classes=["province-view"]) as card:
        # A select one can type into: 39 names are too many to scroll through.
        solara.v.Autocomplete(label="Province", v_model=chosen.value, on_v_model=choose,
                              items=list(PROVINCE_CHOICES), hint=PROVINCE_NOTE, persistent_hint=True,
                              dense=True, class_="province-select")
        with solara.Columns([1, 1], gutters_dense=True):
            solara.HTML(tag="div", unsafe_innerHTML=province_view_html(model, chosen.value))
            _chart(province_option(model, chosen.value))
    return card


PANELS: list[Callable[[DigitalAdoptionModel], solara.Element]] = [
    Headline, ProvinceView, ProvinceTiles, IslandTiles, AdoptionChart, GapChart, TrustChart, StaffChart,
    SpendChart,
]
# The same panels in SolaraViz's format: SolaraViz(model, components=COMPONENTS, model_params=...).
COMPONENTS = [(panel, 0) for panel in PANELS]


# ----------------------------------------------------------------------------- controls and page
@solara.component
def Slider(text: str, value: float, on_value: Callable[[Any], None], low: float, high: float,
           step: float, integer: bool = False) -> solara.Element:
    """A slider whose label, with the current value, sits on its own line above it.

    The sidebar is too narrow for a label beside the slider (it was cut off), and a value shown
    only while dragging leaves the reader guessing what the model was built with.
    """
    widget = solara.SliderInt if integer else solara.SliderFloat
    with solara.Column(gap="0px", classes=["labelled-slider"]) as column:
        solara.Text(text, style={"font-size": "0.9rem"})
        widget("", value=value, on_value=on_value, min=low, max=high, step=step)
    return column


@solara.component
def Controls(params: solara.Reactive[dict[str, Any]], shown: dict[str, Any]) -> solara.Element:
    """The scenario settings, each showing its value, and whether they differ from the model shown."""

    def setter(key: str) -> Callable[[Any], None]:
        return lambda value: params.set({**params.value, key: value})

    with solara.Column(gap="4px") as column:
        solara.Info(RESET_NOTE, dense=True, icon=True)
        for key, spec in model_params.items():
            value = params.value[key]
            if spec["type"] == "Select":
                group = key.split("__")[-1]
                description = option_description(group, value)
                solara.v.Select(
                    label=spec["label"], v_model=value, on_v_model=setter(key),
                    items=[{"text": words(v), "value": v} for v in spec["values"]],
                    hint=description, persistent_hint=bool(description), dense=True,
                )
            else:
                Slider(f"{spec['label']}: {spec['format'].format(value)}", value, setter(key),
                       spec["min"], spec["max"], spec["step"], integer=spec["type"] == "SliderInt")
        pending = [model_params[k]["label"] for k, v in params.value.items() if shown.get(k) != v]
        if pending:
            solara.Warning(f"Not applied yet ({', '.join(pending)}): press Reset.", dense=True)
    return column


@solara.component
def Page() -> None:
    """The dashboard; each browser session gets its own model (a module-level one would be shared)."""
    initial = solara.use_memo(lambda: DashboardModel(**default_kwargs()), dependencies=[])
    model = solara.use_reactive(initial)
    params = solara.use_reactive(default_kwargs())
    play_interval = solara.use_reactive(100)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    province = solara.use_reactive(ALL_INDONESIA)  # a view of the model shown, not a model setting

    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run", margin=0):
            ModelController(model, model_parameters=params, play_interval=play_interval,
                            render_interval=render_interval, use_threads=use_threads)
            Slider(f"Pause between months: {play_interval.value} ms", play_interval.value,
                   play_interval.set, MIN_PLAY_INTERVAL_MS, 1000, 50, integer=True)
            Slider(f"Months per Step and per redraw: {render_interval.value}", render_interval.value,
                   render_interval.set, 1, 12, 1, integer=True)
        with solara.Card("Scenario", margin=0):
            Controls(params, model.value.dashboard_kwargs)
    with solara.Column(gap="12px"):
        Headline(model.value)
        ProvinceView(model.value, province)
        ProvinceTiles(model.value, province)
        with solara.Columns([1, 1], gutters_dense=True):
            IslandTiles(model.value)
            AdoptionChart(model.value)
        with solara.Columns([1, 1], gutters_dense=True):
            GapChart(model.value)
            TrustChart(model.value)
        with solara.Columns([1, 1], gutters_dense=True):
            StaffChart(model.value)
            SpendChart(model.value)


page = Page()  # the element, for display in a notebook
