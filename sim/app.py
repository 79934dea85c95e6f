"""The Mesa SolaraViz dashboard: ``solara run sim/app.py``.

Pick the number of citizens, a policy scenario, population profile, network, political will, monthly
budget and seed in the sidebar and press Reset to rebuild the model with them, then Step or Play; the
plots follow the model's DataCollector (one model-level series per metric in :mod:`sim.metrics`). The
model stops by itself at its horizon (``steps``, 60 months by default). The citizens slider overrides
the profile's own ``n_citizens``.

The populations here are small (up to 20 000 citizens) so that the page stays responsive; use the
Hydra app (``python -m sim``) for full-size runs.
"""

from __future__ import annotations

import ipyvue
import solara
from matplotlib.axes import Axes
from mesa.visualization import SolaraViz, make_plot_component

from sim.config import group_options
from sim.model import DigitalAdoptionModel

DEFAULT_POLICY = "comprehensive"
VUE3 = ipyvue.__version__.startswith("3")


@solara.component
def _FixedGrid(items, grid_layout=None, **_ignored):
    """Two plots per row, for Vue 3 front ends where the draggable grid cannot load."""
    return solara.GridFixed(columns=2, children=items)


def _vuetify3_compat() -> None:
    """Let Mesa 3.3.1's SolaraViz run with ipyvue/ipyvuetify 3 (Vue 3); a no-op with version 1.x.

    Mesa 3.3.1 lays out its plot page with Vuetify 2 tab panels (``TabsItems``, ``TabItem``), which
    ipyvuetify 3 no longer has (newer Mesa uses ``Window`` and ``WindowItem``, mesa/mesa#2919), and
    with ``solara.GridDraggable``, whose grid library is a Vue 2 plugin that fails to load under Vue 3
    ("GlobalVue.use is not a function"): the page then shows no plots. Alias the tab panels and lay
    the plots out in a fixed two-column grid instead. Pinning ``ipyvuetify<3`` and ``ipyvue<3`` makes
    this unnecessary.
    """
    if not VUE3:
        return
    v = solara.v
    if not hasattr(v, "TabsItems") and hasattr(v, "Window"):
        v.TabsItems = v.Window
        v.TabItem = v.WindowItem
    solara.GridDraggable = _FixedGrid  # what mesa.visualization.solara_viz.ComponentsView calls


_vuetify3_compat()


class DashboardModel(DigitalAdoptionModel):
    """The model with an explicit keyword signature, as SolaraViz's parameter check requires.

    Mesa checks ``model_params`` against the constructor's named parameters (it only tolerates a
    variadic keyword argument literally called ``kwargs``), so the dotted keys the dashboard sets are
    spelled out here and passed on unchanged. Values from the sliders are coerced to the schema's types.
    """

    def __init__(
        self,
        n_citizens: int = 5000,
        policy: str = DEFAULT_POLICY,
        population: str = "indonesia",
        network: str = "homophilous",
        policy__political_will: float = 0.5,
        budget_idr_bn_per_month: float = 500.0,
        seed: int = 42,
        steps: int | None = None,
    ) -> None:
        super().__init__(
            n_citizens=int(n_citizens),
            policy=str(policy),
            population=str(population),
            network=str(network),
            steps=None if steps is None else int(steps),
            seed=int(seed),
            policy__political_will=float(policy__political_will),
            budget_idr_bn_per_month=float(budget_idr_bn_per_month),
        )


model_params = {
    "n_citizens": {
        "type": "SliderInt",
        "value": 5000,
        "label": "Citizens (agents)",
        "min": 1000,
        "max": 20000,
        "step": 1000,
    },
    "policy": {
        "type": "Select",
        "value": DEFAULT_POLICY,
        "values": group_options("policy"),
        "label": "Policy scenario",
    },
    "population": {
        "type": "Select",
        "value": "indonesia",
        "values": group_options("population"),
        "label": "Population profile",
    },
    "network": {
        "type": "Select",
        "value": "homophilous",
        "values": group_options("network"),
        "label": "Social network",
    },
    "policy__political_will": {
        "type": "SliderFloat",
        "value": 0.5,
        "label": "Political will",
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
    },
    "budget_idr_bn_per_month": {
        "type": "SliderFloat",
        "value": 500.0,
        "label": "Budget (IDR bn / month)",
        "min": 0.0,
        "max": 2000.0,
        "step": 50.0,
    },
    "seed": {
        "type": "SliderInt",
        "value": 42,
        "label": "Random seed",
        "min": 0,
        "max": 999,
        "step": 1,
    },
}


def default_kwargs() -> dict:
    """The constructor keywords the dashboard starts with (each parameter's ``value``)."""
    return {key: spec["value"] if isinstance(spec, dict) else spec for key, spec in model_params.items()}


def _style(title: str, ylabel: str, share: bool = False, signed: bool = False):
    """Title, axis label and limits for one plot (Mesa labels the x axis "Step": one step = one month)."""

    def post_process(ax: Axes) -> None:
        ax.figure.set_size_inches(5.6, 3.6)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", fontsize="small")
        if share:
            ax.set_ylim(0.0, 1.0)
        if signed:
            ax.axhline(0.0, color="grey", linewidth=0.8)

    return post_process


AdoptionPlot = make_plot_component(
    {"adoption": "black", "adoption_urban": "tab:blue", "adoption_rural": "tab:green"},
    post_process=_style("Adoption of digital services", "share of citizens", share=True),
)
TrustPlot = make_plot_component(
    {"trust_mean": "tab:purple", "awareness": "tab:orange", "access": "tab:grey"},
    post_process=_style("Trust, awareness and access", "mean / share", share=True),
)
StaffPlot = make_plot_component(
    {"digital_staff_share": "tab:red", "trained_staff_share": "tab:olive",
     "resistance_mean": "tab:brown"},
    post_process=_style("Civil servants (ASN)", "share / mean", share=True),
)
EquityPlot = make_plot_component(
    {"gap_urban_rural": "tab:blue", "gap_income_q5_q1": "tab:red",
     "gap_region_max_min": "tab:green", "concentration_index": "black"},
    post_process=_style("Equity gaps in adoption", "gap (share points) / index", signed=True),
)
PLOTS = [AdoptionPlot, TrustPlot, StaffPlot, EquityPlot]


def Summary(model: DigitalAdoptionModel):
    """A short text card: scenario, month, headline figures and money spent so far."""
    cfg, row = model.cfg, model.latest
    spent = sum(r["spend_total_idr_bn"] for r in model.rows)
    return solara.Markdown(
        f"**{cfg.policy.name}**: {cfg.policy.description}  \n"
        f"targeting *{cfg.policy.targeting}*, {cfg.population.n_citizens:,} citizens "
        f"({cfg.population.name}), network *{cfg.network.kind}*, seed {cfg.seed}\n\n"
        f"Month {model.month} of {cfg.steps}: adoption {row['adoption']:.1%} "
        f"(urban {row['adoption_urban']:.1%}, rural {row['adoption_rural']:.1%}), "
        f"mean trust {row['trust_mean']:.3f}, civil servants digital "
        f"{row['digital_staff_share']:.1%}, spent IDR {spent:,.0f} bn"
    )


COMPONENTS = [*PLOTS, (Summary, 0)]
TITLE = "Digital public services in Indonesia"


@solara.component
def Page():
    """The dashboard; each browser session gets its own model (a module-level one would be shared)."""
    model = solara.use_memo(lambda: DashboardModel(**default_kwargs()), dependencies=[])
    return SolaraViz(model, components=COMPONENTS, model_params=model_params, name=TITLE)


page = Page()  # the element, for display in a notebook
