"""The SolaraViz dashboard: importable headless, default parameters build a model, plots render."""

from __future__ import annotations

import pytest

solara = pytest.importorskip("solara")

from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

import sim.app as app  # noqa: E402
from sim.config import group_options  # noqa: E402


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
    model = app.DashboardModel(**kwargs)
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
    model = app.DashboardModel(n_citizens=1000.0, seed="3", policy__political_will=1, steps=1)
    assert model.cfg.population.n_citizens == 1000
    assert model.cfg.seed == 3
    assert model.cfg.policy.political_will == 1.0


def test_components_are_constructible():
    model = app.DashboardModel(**(app.default_kwargs() | {"n_citizens": 1000, "steps": 2}))
    model.step()
    assert len(app.COMPONENTS) == 5
    for component, page in app.COMPONENTS:
        assert page == 0
        assert component(model) is not None  # an element; rendered in test_whole_page_renders


def test_whole_page_renders(monkeypatch):
    # Sidebar, controls and every plot component, rendered headless (no server).
    small = app.default_kwargs() | {"n_citizens": 1000}
    monkeypatch.setattr(app, "default_kwargs", lambda: small)
    box, rc = solara.render(app.Page(), handle_error=False)
    assert box is not None
    rc.close()
