"""``mesa.batch_run`` drives the model through its keyword parameters and reports its metrics."""

from __future__ import annotations

import mesa
import pandas as pd
import pytest

from sim import DigitalAdoptionModel

STEPS = 6
# The policy acts from month 0 of these short runs (its default start, 2025-01, lies past their end).
NOW = {"policy__start_date": None}


@pytest.fixture(scope="module")
def batch() -> pd.DataFrame:
    rows = mesa.batch_run(
        DigitalAdoptionModel,
        parameters={"population": "small", "policy": ["baseline", "training"], "steps": STEPS,
                    "seed": [1, 2], "progress": False, **NOW},
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    return pd.DataFrame(rows)


def test_one_run_per_parameter_combination(batch):
    runs = batch.groupby("RunId")[["policy", "seed"]].first()
    assert len(runs) == 4
    assert set(map(tuple, runs.to_numpy())) == {(p, s) for p in ("baseline", "training") for s in (1, 2)}


def test_rows_carry_the_model_metrics(batch):
    for column in ("adoption", "awareness", "trust_mean", "digital_staff_share", "spend_total_idr_bn",
                   "gap_urban_rural", "month"):
        assert column in batch
        assert batch[column].notna().all()
    assert batch["adoption"].between(0, 1).all()
    # Mesa's step counter and the model's month agree on every row.
    assert (batch["Step"] == batch["month"]).all()
    # Months 0 to steps-1, each once (README, "From Python and Mesa"); the final month is left out.
    for _, rows in batch.groupby("RunId"):
        assert rows["Step"].tolist() == list(range(STEPS))
    training = batch[batch["policy"] == "training"]
    assert (training.loc[training["Step"] > 0, "spend_training_idr_bn"] > 0).all()
    assert (batch.loc[batch["policy"] == "baseline", "spend_total_idr_bn"] == 0).all()


def test_batch_rows_equal_a_direct_run(batch):
    direct = DigitalAdoptionModel(population="small", policy="training", seed=2, steps=STEPS,
                                  overrides={"progress": False}, **NOW).run().timeseries()
    rows = batch[(batch["policy"] == "training") & (batch["seed"] == 2)].set_index("Step")
    for step, row in rows.iterrows():
        expected = direct.loc[direct["month"] == step].iloc[0]
        pd.testing.assert_series_equal(row[expected.index].astype(float), expected, check_names=False,
                                       check_exact=True)


def test_dotted_keyword_parameters_reach_the_config():
    """``policy__allocation__training`` sets ``policy.allocation.training`` (batch sweeps of any key)."""
    rows = pd.DataFrame(mesa.batch_run(
        DigitalAdoptionModel,
        parameters={"population": "small", "steps": 3, "seed": 1, "progress": False,
                    "materialise_agents": "never", "policy__allocation__training": [0.0, 1.0], **NOW},
        number_processes=1,
        display_progress=False,
    ))
    spend = rows.set_index("policy__allocation__training")["spend_training_idr_bn"]
    assert spend.loc[0.0] == 0.0
    assert spend.loc[1.0] > 0.0


def test_the_last_row_is_month_steps_minus_1_and_steps_plus_1_gives_the_final_month():
    """The documented step convention: Mesa 3.3's batch_run reads rows 0 .. model.steps - 1 (it counts
    the step calls), while the model collects month 0 before the first step, so a run of ``steps``
    months ends on the row of month ``steps - 1``. Asking for one more month gives the final month
    of the shorter run, since nothing a month does depends on the horizon."""
    def last_row(steps: int) -> pd.Series:
        rows = pd.DataFrame(mesa.batch_run(
            DigitalAdoptionModel,
            parameters={"population": "small", "policy": "training", "steps": steps, "seed": 2,
                        "progress": False, "materialise_agents": "never", **NOW},
            number_processes=1, display_progress=False,
        ))
        return rows.iloc[-1]

    direct = DigitalAdoptionModel(population="small", policy="training", seed=2, steps=STEPS,
                                  overrides={"progress": False}, **NOW).run().timeseries()
    last = last_row(STEPS)
    assert last["Step"] == last["month"] == STEPS - 1
    one_more = last_row(STEPS + 1)
    assert one_more["Step"] == one_more["month"] == STEPS
    final = direct.iloc[-1]
    pd.testing.assert_series_equal(one_more[final.index].astype(float), final, check_names=False,
                                   check_exact=True)
