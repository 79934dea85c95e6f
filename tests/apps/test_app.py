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
    assert len(app.COMPONENTS) == len(app.PANELS) == 9
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

    model = app.DashboardModel(n_citizens=1000, steps=100)
    errors: list[str] = []
    renders = 0

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
            province = app.province_option(model, "Jawa Barat")
            data = province["series"][0]["data"]
            assert [point[0] for point in data] == list(range(len(data)))
            app.province_view_html(model, "Papua")
            app.province_tiles_html(model, "Papua")  # once read the live state mid-step and failed
            renders += 1
        except Exception as exc:  # noqa: BLE001  (every failure is collected and reported)
            errors.append(repr(exc))
    thread.join()
    assert errors == [], errors[:3]
    assert model.month == 100
    assert renders >= 20  # the page was drawn many times while months were being added


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


# ----------------------------------------------------------------------------- the province view
def test_province_choices_are_all_indonesia_then_the_38_provinces():
    from sim.provinces import PROVINCES

    assert ("All Indonesia", *PROVINCES) == app.PROVINCE_CHOICES


def test_province_view_shows_the_model_s_own_province_figures():
    """The view's numbers are the province table's (one home for a province's figures), month by month."""
    model = app.DashboardModel(**_short(steps=3, n_citizens=3000))
    while model.running:
        model.step()
    table = model.province_table()
    wide = table.pivot_table(index="province", columns="metric", values="value", aggfunc="first")
    rows = app.view_rows(model, "Jawa Barat")
    assert [r["month"] for r in rows] == [0.0, 1.0, 2.0, 3.0]
    for key in ("adoption", "ever_used_connected", "access", "trust_mean", "citizen_agents"):
        assert rows[-1][key] == pytest.approx(wide.at["Jawa Barat", key])
    figures = {name: value for name, value, _ in app.province_headline(model, "Jawa Barat")}
    assert figures["Adoption"] == app.pct(wide.at["Jawa Barat", "adoption"])
    assert figures["Mean trust"] == f"{wide.at['Jawa Barat', 'trust_mean']:.2f}"  # on 0-1, not in %
    assert figures["Citizen agents"] == f"{int(wide.at['Jawa Barat', 'citizen_agents']):,}"
    # the whole country: the monthly rows, every agent
    whole = app.view_rows(model, "All Indonesia")
    assert [r["adoption"] for r in whole] == [r["adoption"] for r in model.rows]
    assert whole[-1]["citizen_agents"] == 3000


def test_province_view_warns_when_few_agents_stand_behind_it():
    from sim.metrics import FEW_PROVINCE_AGENTS

    model = app.DashboardModel(**_short(steps=1, n_citizens=2000))
    agents = int(app.view_rows(model, "Papua")[-1]["citizen_agents"])
    assert 0 < agents < FEW_PROVINCE_AGENTS
    html = app.province_view_html(model, "Papua")
    assert 'class="province-warning"' in html and f"Only {agents:,} citizen agents live in Papua" in html
    assert "province-warning" not in app.province_view_html(model, "All Indonesia")
    assert app.province_noise_warning(FEW_PROVINCE_AGENTS, "Jawa Barat", 20_000) == ""
    assert "No citizen agents live in Papua" in app.province_noise_warning(0, "Papua", 1000)


def test_a_province_with_nobody_connected_is_a_gap_in_its_chart_not_an_error():
    import json

    model = app.DashboardModel(**_short(steps=1))
    model.province_rows[0]["ever_used_connected"] = model.province_rows[0]["ever_used_connected"].copy()
    model.province_rows[0]["ever_used_connected"][:] = float("nan")
    option = app.province_option(model, "Papua Selatan")
    ever = next(s for s in option["series"] if s["name"].startswith("Ever used"))
    assert ever["data"][0] == [0, None]
    json.dumps(option, allow_nan=False)  # valid JSON for the browser
    figures = {name: value for name, value, _ in app.province_headline(model, "Papua Selatan")}
    assert figures["Ever used, share of connected people"] == "-"


def test_province_chart_has_shares_in_percent_and_trust_on_0_1():
    model = app.DashboardModel(**_short(steps=2))
    model.step()
    option = app.province_option(model, "Jawa Timur")
    shares, trust_axis = option["yAxis"]
    assert (shares["min"], shares["max"]) == (0, 100) and (trust_axis["min"], trust_axis["max"]) == (0.0, 1.0)
    assert option["title"]["text"].startswith("Jawa Timur")
    rows = app.view_rows(model, "Jawa Timur")
    by_name = {s["name"]: s for s in option["series"]}
    assert [v for _, v in by_name["Adoption"]["data"]] == [round(100 * r["adoption"], 2) for r in rows]
    assert [v for _, v in by_name["Mean trust in government (0-1)"]["data"]] == [
        round(r["trust_mean"], 4) for r in rows]


def test_an_unknown_province_is_one_line_naming_it_and_what_is_allowed():
    from sim.parameters import ConfigError

    model = app.DashboardModel(**_short(steps=1))
    with pytest.raises(ConfigError) as info:
        app.view_rows(model, "Atlantis")
    line = str(info.value)
    assert "\n" not in line and line.startswith("province='Atlantis'")
    assert "allowed: 'All Indonesia' or one of the 38 provinces" in line and "Papua Pegunungan" in line


def test_the_chosen_province_is_outlined_on_the_tile_map():
    model = app.DashboardModel(**_short(steps=1))
    assert 'class="province-tile selected"' not in app.province_tiles_html(model)
    html = app.province_tiles_html(model, "Bali")
    assert html.count('class="province-tile selected"') == 1
    assert 'class="province-tile selected" title="Bali:' in html


def test_choosing_a_province_updates_the_rendered_view():
    """The select drives the view and the tile map: the page's one choice, applied at once."""
    import ipyvuetify
    from solara.widgets.widgets import HTML

    model = app.DashboardModel(**_short(steps=2))
    model.step()
    province = solara.reactive("All Indonesia")

    @solara.component
    def Both() -> solara.Element:
        with solara.Column() as column:
            app.ProvinceView(model, province)
            app.ProvinceTiles(model, province)
        return column

    box, rc = solara.render(Both(), handle_error=False)

    def shown() -> str:
        return " ".join(w.unsafe_innerHTML for w in rc.find(HTML).widgets)

    assert "Shown: the whole country." in shown() and "province-tile selected" not in shown()
    select = rc.find(ipyvuetify.Autocomplete, class_="province-select").widget
    assert select.items[:2] == ["All Indonesia", "DKI Jakarta"] and len(select.items) == 39
    select.v_model = "Sulawesi Selatan"
    assert province.value == "Sulawesi Selatan"
    assert "Shown: Sulawesi Selatan only" in shown()
    assert 'class="province-tile selected" title="Sulawesi Selatan:' in shown()
    select.v_model = None  # a cleared field leaves the view as it was
    assert province.value == "Sulawesi Selatan"
    rc.close()
