"""Stepwise (stepwise_param.need_stepwise) of HeteroLR, HeteroLinR and HeteroPoisson against a plain
stepwise on the joined data (tests/components/stepwise/reference.py): the same moves, AIC/BIC and stop
rules, each candidate's loss from plain numpy gradient descent with the same updates.

Tolerances: the chosen columns must be the reference's exactly (the scores of competing candidates
differ far more than the 1e-5 that Paillier's fixed-point encoding moves a loss); the final model's
predictions equal the reference's fitted subset within 1e-4.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.computing import LocalEngine
from accord.computing.table import Engine
from accord.errors import ComponentParameterError

from ..harness import JOB_ID, ComponentHarness
from ..linear.regression_data import ARBITER, GUEST, HOST, dsl, instances, job_conf, train
from ..test_hetero_lr import plant
from .reference import Subset, descent, read_pair, stepwise

RATE, ITERATIONS = 0.15, 5
BASE: dict[str, Any] = {
    "penalty": "None",
    "optimizer": "sgd",
    "tol": 1e-12,
    "batch_size": -1,
    "learning_rate": RATE,
    "init_param": {"init_method": "zeros"},
    "max_iter": ITERATIONS,
    "decay": 0.0,
    "decay_sqrt": False,
    "encrypt_param": {"key_length": 512},
}


def _setup(name: str, label: str, host_columns: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    guest, host = read_pair(name)
    y = guest.pop(label).to_numpy(dtype=np.float64)
    if host_columns is not None:
        host = host.iloc[:, :host_columns]
    return guest, host, y


def _run(
    tmp_path: Path,
    harnesses: list[ComponentHarness],
    module: str,
    stepwise_param: dict[str, Any],
    data: tuple[pd.DataFrame, pd.DataFrame, Any],
    engine: Engine | None = None,
) -> ComponentHarness:
    guest, host, y = data
    params = {**BASE, "stepwise_param": {**stepwise_param, "need_stepwise": True}}
    return train(tmp_path, harnesses, module, params, instances(guest, y), [instances(host)], engine, 100)


def _expected(data: tuple[pd.DataFrame, pd.DataFrame, Any], link: str, setting: dict[str, Any]) -> Subset:
    guest, host, y = data
    gx, hx = guest.to_numpy(dtype=np.float64), host.to_numpy(dtype=np.float64)

    def loss_of(subset: Subset) -> float:
        x = np.hstack([hx[:, list(subset[0])], gx[:, list(subset[1])]])
        return descent(x, y, link, RATE, ITERATIONS)

    return stepwise(
        loss_of,
        (hx.shape[1], gx.shape[1]),
        len(y),
        direction=setting["direction"],
        score_name=setting.get("score_name", "aic").lower(),
        max_step=setting["max_step"],
        nvmin=setting.get("nvmin", 2),
        nvmax=setting.get("nvmax"),
        approx=link == "linr",
    )


def _chosen(harness: ComponentHarness, data: tuple[pd.DataFrame, pd.DataFrame, Any]) -> Subset:
    guest, host, _ = data
    guest_model = harness.model("guest", GUEST, "model_0")
    host_model = harness.model("host", HOST, "model_0")
    assert guest_model["meta"]["need_stepwise"] is True
    host_kept = tuple(list(host.columns).index(name) for name in host_model["param"]["header"])
    guest_kept = tuple(list(guest.columns).index(name) for name in guest_model["param"]["header"])
    return host_kept, guest_kept


def _metrics(harness: ComponentHarness, role: str, party: int) -> dict[str, Any]:
    records = harness.metrics.query(JOB_ID, "model_0", role, party)
    return {record.key.metric_name: record for record in records}


@pytest.mark.parametrize(
    "setting",
    [
        {"score_name": "AIC", "direction": "backward", "max_step": 3, "nvmin": 2},
        {"score_name": "BIC", "direction": "forward", "max_step": 3, "nvmin": 2},
    ],
)
def test_linr_picks_the_reference_columns(
    tmp_path: Path, harnesses: list[ComponentHarness], setting: dict[str, Any]
) -> None:
    data = _setup("motor_hetero_mini", "motor_speed")
    harness = _run(tmp_path, harnesses, "HeteroLinR", setting, data)
    expected = _expected(data, "linr", setting)
    assert _chosen(harness, data) == expected
    # The data output is the chosen model's predictions of the train rows.
    guest, _, y = data
    output = harness.output("guest", GUEST, "model_0")
    assert len(output) == len(y)
    assert set(output.column("type")) == {"train"}
    # FATE's record of each step: a STEPWISE metric whose meta holds the masks and the score.
    guest_metrics, arbiter_metrics = _metrics(harness, "guest", GUEST), _metrics(harness, "arbiter", ARBITER)
    first = guest_metrics["stepwise_0"]
    assert first.metric_type == "STEPWISE"
    assert first.meta["score_name"] == setting["score_name"].lower()
    assert first.meta["all_features"] == list(guest.columns)
    assert arbiter_metrics["stepwise_0"].meta["current_ic_val"] is not None


def test_lr_both_directions_and_predictions(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    data = _setup("breast_hetero_mini", "y")
    setting = {"score_name": "AIC", "direction": "both", "max_step": 2, "nvmin": 2}
    harness = _run(tmp_path, harnesses, "HeteroLR", setting, data)
    assert _chosen(harness, data) == _expected(data, "logistic", setting)
    guest, host, _ = data
    host_model = harness.model("host", HOST, "model_0")["param"]
    guest_model = harness.model("guest", GUEST, "model_0")["param"]
    score = guest.loc[:, guest_model["header"]].to_numpy() @ np.array(
        [guest_model["weight"][n] for n in guest_model["header"]]
    )
    score = score + host.loc[:, host_model["header"]].to_numpy() @ np.array(
        [host_model["weight"][n] for n in host_model["header"]]
    )
    expected = 1 / (1 + np.exp(-(score + guest_model["intercept"])))
    output = harness.output("guest", GUEST, "model_0")
    np.testing.assert_allclose(output.column("predict_score"), expected, atol=1e-4)


def test_poisson_forward_on_each_engine(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    guest, host, y = _setup("dvisits_hetero", "doctorco", host_columns=3)
    data = (guest.iloc[:1500], host.iloc[:1500], y[:1500])
    # One step on Spark: each candidate model is a fit, and a fit's passes cost most there.
    max_step = 2 if isinstance(engine, LocalEngine) else 1
    setting = {"score_name": "AIC", "direction": "forward", "max_step": max_step, "nvmin": 2}
    harness = _run(tmp_path, harnesses, "HeteroPoisson", setting, data, engine)
    assert _chosen(harness, data) == _expected(data, "poisson", setting)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score_name": "mallows"}, "score_name"),
        ({"direction": "sideways"}, "direction"),
        ({"nvmin": 1}, "nvmin"),
        ({"nvmin": 4, "nvmax": 3}, "nvmax"),
        ({"max_step": 0}, "max_step"),
    ],
)
def test_bad_settings_are_refused(change: dict[str, Any], field: str) -> None:
    from accord.components.hetero_lr.params import HeteroLRParam

    with pytest.raises((ComponentParameterError, ValueError), match=field):
        HeteroLRParam.model_validate({"stepwise_param": {"need_stepwise": True, **change}})


def test_a_stepwise_model_predicts_with_its_own_columns() -> None:
    from accord.components.hetero_lr import common
    from accord.errors import DataMismatchError

    chosen = {"meta": {"need_stepwise": True}, "param": {"weight": {"b": 2.0}}}
    np.testing.assert_array_equal(common.coefficients(chosen, ["a", "b", "c"], "model_0"), [0.0, 2.0, 0.0])
    with pytest.raises(DataMismatchError):
        common.coefficients({"meta": {}, "param": {"weight": {"b": 2.0}}}, ["a", "b"], "model_0")


def test_more_than_one_host_is_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    from accord.errors import ComponentFeatureUnsupported

    guest, host, y = _setup("motor_hetero_mini", "motor_speed")
    params = {**BASE, "stepwise_param": {"need_stepwise": True, "direction": "backward"}}
    made = ComponentHarness(tmp_path, dsl("HeteroLinR"), job_conf(params, [HOST, HOST + 1]))
    harnesses.append(made)
    plant(made, "guest", GUEST, instances(guest, y), None)
    for party, part in ((HOST, host.iloc[:, :2]), (HOST + 1, host.iloc[:, 2:])):
        plant(made, "host", party, instances(part), None)
    errors = made.run("model_0")
    assert errors and all(isinstance(error, ComponentFeatureUnsupported) for error in errors.values())
