"""A run's files are written from its tables' columns (``sim.store.files.model_files``), without framing
them in pandas first: the bytes must be exactly those the frames give, for every table and column type
(floats, whole counts, text), and rows that do not share their columns are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import compose
from sim.model import DigitalAdoptionModel
from sim.store.files import (
    PROVINCES_FILE,
    SERVICES_FILE,
    TIMESERIES_FILE,
    model_files,
    row_columns,
    run_files,
)


@pytest.mark.parametrize("min_share", [0.0, 0.015])  # whole counts of agents, then weighted people
def test_the_files_from_columns_are_the_files_from_frames(min_share):
    cfg = compose(policy="training", portfolio="indonesia",
                  overrides={"population.n_citizens": 3000, "steps": 72, "progress": False, "seed": 4,
                             "population.province_min_share": min_share})
    model = DigitalAdoptionModel(config=cfg).run()
    from_frames = run_files(model.summary(), model.timeseries(), cfg, "code", "key",
                            provinces=model.province_table(), services=model.service_table())
    from_columns = model_files(model, cfg, "code", "key")
    assert list(from_columns) == list(from_frames)
    assert {TIMESERIES_FILE, PROVINCES_FILE, SERVICES_FILE} <= set(from_columns)
    for name, data in from_frames.items():
        assert from_columns[name] == data, name
    services = model.service_table()
    assert services["service"].dtype == object and len(services) == 73 * 5
    assert (services["needs"].dtype == np.int64) == (min_share == 0.0)


def test_row_columns_are_the_columns_pandas_makes():
    rows = [{"month": 0, "name": "a", "share": 0.5, "flag": True, "count": 3},
            {"month": 1, "name": "bb", "share": float("nan"), "flag": False, "count": 2.5}]
    columns = row_columns(rows)
    frame = pd.DataFrame(rows)
    assert list(columns) == list(frame.columns)
    for name in frame.columns:
        assert columns[name].dtype == frame[name].dtype, name
        np.testing.assert_array_equal(columns[name], frame[name].to_numpy())
    assert list(row_columns([], ["month", "name"])) == ["month", "name"]
    with pytest.raises(ValueError, match="rows with other columns"):  # names name the rows' columns
        row_columns(rows, ["share", "month"])


@pytest.mark.parametrize("other", [{"share": 0.2, "month": 1}, {"month": 1, "share": 0.2, "x": 0.0},
                                   {"month": 1}, {"month": 1, "x": 0.2}])
def test_rows_whose_columns_differ_are_refused(other):
    """A missing, extra, renamed or reordered key would otherwise shift values into other columns."""
    with pytest.raises(ValueError, match="rows with other columns"):
        row_columns([{"month": 0, "share": 0.1}, other])
