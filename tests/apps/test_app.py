"""The SolaraViz dashboard: importable headless, default parameters build a model, plots render."""

from __future__ import annotations

import pytest

solara = pytest.importorskip("solara")

from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

import sim.app as app  # noqa: E402
from sim.config import group_options  # noqa: E402


def _short(**kwargs):
    """The dashboard's defaults on 1,000 citizens for a short run whose policy acts from month 0
    (with the declared policy.start_date, 2025-01, it would begin after the run ends)."""
    return app.default_kwargs() | {"n_citizens": 1000, "policy__start_date": None} | kwargs


def test_page_exists():
    assert app.Page is not None
    assert app.page is not None


def test_model_params_pass_mesa_check():
    # The check SolaraViz's ModelCreator runs on the model it shows.
    _check_model_params(app.DashboardModel.__init__, app.model_params)
    assert app.model_params["policy"]["values"] == group_options("policy")
    assert app.model_params["policy"]["value"] in group_options("policy")
    assert app.model_params["network"]["values"] == group_options("network")
    assert app.model_params["population"]["values"] == group_options("population")


def test_default_model_runs_to_horizon():
    kwargs = app.default_kwargs() | {"n_citizens": 1000, "steps": 4}
    model = app.DashboardModel(**kwargs, policy__start_date=None)  # the policy from month 0
    assert model.cfg.policy.name == kwargs["policy"]
    assert model.cfg.policy.political_will == pytest.approx(kwargs["policy__political_will"])
    assert model.cfg.budget_idr_bn_per_month == pytest.approx(kwargs["budget_idr_bn_per_month"])
    while model.running:
        model.step()
    assert model.month == 4
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 5
    for key in ("adoption", "adoption_urban", "adoption_rural", "trust_mean", "digital_staff_share",
                "gap_urban_rural", "gap_income_q5_q1", "concentration_index"):
        assert key in df.columns


def test_slider_values_are_coerced():
    # Sliders and inputs may hand back floats or strings.
    model = app.DashboardModel(n_citizens=1000.0, seed="3", policy__political_will=1, steps=1,
                               policy__start_date=None)
    assert model.cfg.population.n_citizens == 1000
    assert model.cfg.seed == 3
    assert model.cfg.policy.political_will == 1.0


def test_components_are_constructible():
    model = app.DashboardModel(**_short(steps=2))
    model.step()
    assert len(app.COMPONENTS) == len(app.PANELS) == 8
    for component, page in app.COMPONENTS:
        assert page == 0
        assert component(model) is not None  # an element; rendered in test_whole_page_renders


def test_step_at_horizon_changes_nothing_whatever_the_render_interval():
    # Play with "months per Step" of 7 steps the model 7 times per redraw (Mesa's ModelController):
    # at the horizon it must stay at the horizon, spending nothing more.
    model = app.DashboardModel(**_short(steps=10))
    while model.running:
        for _ in range(7):
            model.step()
    assert model.month == 10
    assert len(model.rows) == 11
    spent = app.spent_so_far(model)
    for _ in range(7):
        model.step()
    assert model.month == 10 and not model.running
    assert app.spent_so_far(model) == spent
    assert app.headline(model)[0][1] == "10 of 10"


def test_labels_are_words_from_the_metric_declarations():
    from sim.metrics import METRICS

    described = {m.name: m.description for m in METRICS}
    model = app.DashboardModel(**_short(steps=3))
    model.step()
    for chart in (app.AdoptionChart, app.GapChart, app.TrustChart, app.StaffChart, app.SpendChart):
        box, rc = solara.render(chart(model), handle_error=False)
        option = rc.find(app.ChartWidget).widget.option.value
        rc.close()
        assert option["xAxis"]["name"] == "month"
        assert option["xAxis"]["max"] == 3
        for series in option["series"]:
            assert series["name"] not in described, f"raw metric name in a legend: {series['name']}"
            assert "_" not in series["name"]
            assert [point[0] for point in series["data"]] == [0, 1]
    assert app.label("gap_urban_rural", drop="adoption gap, ") == "Urban minus rural"
    assert app.label("adoption") == "Citizens who use the digital services"


def test_gaps_in_percentage_points_and_shares_in_percent():
    model = app.DashboardModel(**_short(steps=2))
    model.step()
    row = model.latest
    figures = {name: value for name, value, _ in app.headline(model)}
    assert figures["Urban-rural gap"] == f"{100 * row['gap_urban_rural']:+.1f} pp"
    assert figures["Adoption"] == f"{100 * row['adoption']:.1f}%"
    assert figures["Spent so far"].startswith("IDR ")
    box, rc = solara.render(app.GapChart(model), handle_error=False)
    option = rc.find(app.ChartWidget).widget.option.value
    rc.close()
    assert option["yAxis"]["name"] == "percentage points"
    first = option["series"][0]["data"][-1][1]
    assert first == pytest.approx(100 * row["gap_urban_rural"], abs=0.01)


def test_island_tiles_one_per_group_with_colours_on_a_fixed_scale():
    from sim.config import REGIONS

    assert set(app.TILE_POSITIONS) == set(REGIONS)
    assert len(set(app.TILE_POSITIONS.values())) == len(REGIONS)
    model = app.DashboardModel(**_short(steps=1))
    html = app.tiles_html(model)
    assert html.count('class="island-tile"') == len(REGIONS)
    for region in REGIONS:
        assert region in html
    assert app.tile_colour(0.0)[0] == "rgb(239, 243, 255)"
    assert app.tile_colour(1.0)[0] == "rgb(8, 48, 107)"
    assert app.tile_colour(-0.5) == app.tile_colour(0.0) and app.tile_colour(2.0) == app.tile_colour(1.0)


def test_province_tiles_one_per_province_with_the_model_s_own_values():
    from sim.provinces import PROVINCES

    model = app.DashboardModel(**_short(steps=1))
    html = app.province_tiles_html(model)
    assert html.count('class="province-tile"') == len(PROVINCES)
    table = model.province_table()
    adoption = table[table["metric"] == "adoption"].set_index("province")["value"]
    agents = table[table["metric"] == "citizen_agents"].set_index("province")["value"]
    for province in ("DKI Jakarta", "Papua"):
        shown = f"{province}: {app.pct(adoption[province])}, {int(agents[province]):,} agents"
        assert shown in html
    assert f"The smallest province holds {int(agents.min()):,} agents" in html


def test_chart_option_is_sent_as_plain_json():
    # Opaque to the renderer, plain JSON on the wire.
    option = app.ChartOption({"series": [{"data": [[0, 1.5]]}]})
    assert option == app.ChartOption({"series": [{"data": [[0, 1.5]]}]})
    assert option != app.ChartOption({"series": []})
    widget = app.ChartWidget(option=option)
    assert widget.get_state("option")["option"] == {"series": [{"data": [[0, 1.5]]}]}
    widget.close()


def test_every_browser_asset_is_installed_locally():
    # The dashboard must work with no network: the chart library the ECharts widget asks for, and
    # the page's own scripts, must be in the local asset store (solara-assets), not fetched from a CDN.
    import re
    from pathlib import Path

    import ipyvue
    import ipyvuetify
    import solara.components.echarts as echarts
    from solara.server import settings

    assert ipyvue.__version__.startswith("1."), "ipyvue 3 needs a Vue 3 front end Mesa 3.3 lacks"
    assert ipyvuetify.__version__.startswith("1.")
    store = Path(settings.assets.proxy_cache_dir)
    vue = (Path(echarts.__file__).parent / "echarts.vue").read_text()
    version = re.search(r'const version = "([0-9.]+)"', vue).group(1)
    assert (store / f"echarts@{version}" / "dist" / "echarts.js").is_file()
    assert (store / "requirejs@2.3.6" / "require.js").is_file()
    assert any(store.glob("@widgetti/solara-vuetify-app@*/dist/*.min.js"))


def test_telemetry_is_off():
    from solara.server import settings

    assert settings.telemetry.mixpanel_enable is False


def test_controls_show_their_values_and_say_changes_apply_on_reset():
    import ipyvuetify as v

    params = solara.reactive(app.default_kwargs())
    box, rc = solara.render(app.Controls(params, app.default_kwargs()), handle_error=False)
    texts = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]
    assert "Citizens (agents): 5,000" in texts
    assert "Political will (0-1): 0.50" in texts
    assert app.RESET_NOTE in str(rc.find(v.Alert).widget.children)
    assert len(rc.find(v.Alert).widgets) == 1  # the note only: nothing pending
    params.set(params.value | {"policy": "baseline"})
    assert "press Reset" in str([w.children for w in rc.find(v.Alert).widgets])
    rc.close()


def test_whole_page_renders(monkeypatch):
    # Sidebar, controls and every plot component, rendered headless (no server).
    small = app.default_kwargs() | {"n_citizens": 1000}
    monkeypatch.setattr(app, "default_kwargs", lambda: small)
    box, rc = solara.render(app.Page(), handle_error=False)
    assert box is not None
    rc.close()


def test_rendering_while_play_steps_the_model_never_fails():
    """Regression: with the pause at 0 ms the page rendered while the Play thread appended a month,
    and a chart paired months and rows of different lengths (a traceback replaced the page)."""
    import threading

    model = app.DashboardModel(n_citizens=1000, steps=300)
    errors: list[str] = []

    def play() -> None:
        while model.running:
            model.step()

    thread = threading.Thread(target=play)
    thread.start()
    series = [("adoption", "All", "#000000")]
    while thread.is_alive():
        try:
            option = app.line_option(model, "Adoption", series, "% of citizens")
            months = [point[0] for point in option["series"][0]["data"]]
            assert months == list(range(len(months)))
            month = int(app.headline(model)[0][1].split(" of ")[0])
            assert month >= months[-1]
            app.tiles_html(model)
        except Exception as exc:  # noqa: BLE001  (every failure is collected and reported)
            errors.append(repr(exc))
    thread.join()
    assert errors == [], errors[:3]
    assert model.month == 300


def test_two_play_loops_at_once_step_one_month_at_a_time():
    """Regression: toggling Play restarts Mesa's Play task, and with no pause the old loop could
    still be stepping; steps are serialised, so the months stay whole and in order."""
    import threading

    model = app.DashboardModel(n_citizens=1000, steps=60, policy__start_date=None)
    twin = app.DashboardModel(n_citizens=1000, steps=60, policy__start_date=None)

    def play() -> None:
        while model.running:
            model.step()

    threads = [threading.Thread(target=play) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while twin.running:
        twin.step()
    assert [r["month"] for r in model.rows] == list(range(61))
    assert model.rows == twin.rows


def test_page_says_which_parameter_set_it_runs():
    """The comparison runs posterior draws, the dashboard one calibrated set: the page says which,
    and when its policy begins."""
    model = app.DashboardModel(n_citizens=1000)
    html = app.headline_html(model)
    assert "Parameters: calibrated (draw " in html and "nearest the posterior median" in html
    assert "the policy begins in 2025-01" in html


def test_trust_chart_is_on_0_1_like_the_report():
    model = app.DashboardModel(n_citizens=1000, steps=3, policy__start_date=None)
    while model.running:
        model.step()
    option = app.trust_option(model)
    shares, trust_axis = option["yAxis"]
    assert (shares["min"], shares["max"]) == (0, 100)
    assert (trust_axis["min"], trust_axis["max"]) == (0.0, 1.0)
    by_name = {s["name"]: s for s in option["series"]}
    trust = by_name["Mean trust in government (0-1)"]
    assert trust["yAxisIndex"] == 1
    values = [v for _, v in trust["data"]]
    assert values == [round(r["trust_mean"], 4) for r in model.rows]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(s["yAxisIndex"] == 0 for name, s in by_name.items() if name != trust["name"])
