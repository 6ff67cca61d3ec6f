"""Warm start and ModelCheckpoint of HeteroLinR and HeteroPoisson (issue 16).

A second training component with the first one's model input continues from it; with full-batch sgd
that is one run of all the iterations. Reference: plain numpy full-batch gradient descent with FATE's
rules (the learning rate decayed by the global iteration index, lr / (1 + decay·t) here). Tolerance
1e-5 as in test_linr.py: Paillier keeps 23 bits of each feature column (floating_point_precision).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.sdk import layout
from accord.components.sdk.checkpoint import list_checkpoints, load_checkpoint
from accord.computing.table import Engine

from ..harness import ComponentHarness
from ..test_hetero_lr import partitioned, plant
from .regression_data import ARBITER, GUEST, HOST, instances, job_conf
from .test_linr import student
from .test_poisson import dvisits

__all__ = ["partitioned"]  # a fixture the tests here use

TOLERANCE = 1e-5
SETTINGS: dict[str, Any] = {
    "penalty": "L2",
    "alpha": 0.05,
    "optimizer": "sgd",
    "learning_rate": 0.5,
    "tol": 0.0,
    "early_stop": "weight_diff",
    "decay": 0.5,
    "decay_sqrt": False,
    "init_param": {"init_method": "zeros"},
    "encrypt_param": {"key_length": 512},
}


def warm_dsl(module: str) -> dict[str, Any]:
    data = {"train_data": ["intersection_0.data"]}
    out = {"data": ["data"], "model": ["model"]}
    return {
        "components": {
            "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
            "model_0": {"module": module, "input": {"data": data}, "output": out},
            "model_1": {"module": module, "input": {"data": data, "model": ["model_0.model"]}, "output": out},
        }
    }


def descent(
    x: np.ndarray, y: np.ndarray, *, link: str, iterations: int, offset: np.ndarray | None = None
) -> np.ndarray:
    """Full-batch gradient descent from zero (intercept last, unpenalized), lr / (1 + decay·t)."""
    rows = np.hstack([x, np.ones((len(y), 1))])
    weights = np.zeros(rows.shape[1])
    shift = np.zeros(len(y)) if offset is None else offset
    for t in range(iterations):
        eta = rows @ weights + shift
        residual = (np.exp(eta) if link == "poisson" else eta) - y
        gradient = rows.T @ residual / len(y)
        gradient[:-1] += SETTINGS["alpha"] * weights[:-1]
        weights = weights - SETTINGS["learning_rate"] / (1 + SETTINGS["decay"] * t) * gradient
    return weights


def run(
    tmp_path: Path,
    made: list[ComponentHarness],
    module: str,
    params: dict[str, Any],
    guest: Any,
    host: Any,
    engine: Engine | None = None,
) -> ComponentHarness:
    conf = job_conf({})
    conf["component_parameters"]["common"] = params
    harness = ComponentHarness(tmp_path, warm_dsl(module), conf, engine=engine)
    made.append(harness)
    plant(harness, "guest", GUEST, guest, 150)
    plant(harness, "host", HOST, host, 150)
    harness.run_ok("model_0")
    harness.run_ok("model_1")
    return harness


def joined_weights(harness: ComponentHarness, component: str) -> np.ndarray:
    guest = harness.model("guest", GUEST, component)["param"]
    host = harness.model("host", HOST, component)["param"]
    weights = [part["weight"][name] for part in (guest, host) for name in part["header"]]
    return np.array([*weights, guest["intercept"]])


@pytest.mark.usefixtures("partitioned")
def test_linr_warm_start_is_one_longer_run_on_each_engine(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    guest, host, y = student()
    params = {
        "model_0": {**SETTINGS, "max_iter": 3, "callback_param": {"callbacks": ["ModelCheckpoint"]}},
        "model_1": {**SETTINGS, "max_iter": 6},
    }
    harness = run(tmp_path, harnesses, "HeteroLinR", params, instances(guest, y), instances(host), engine)
    x = np.hstack([guest.to_numpy(), host.to_numpy()])
    np.testing.assert_allclose(
        joined_weights(harness, "model_1"), descent(x, y, link="linr", iterations=6), atol=TOLERANCE
    )
    for role, party in (("guest", GUEST), ("host", HOST), ("arbiter", ARBITER)):
        assert harness.model(role, party, "model_1")["param"]["iters"] == 6
        folder = layout.task_dir(harness.party_dir(role, party), "model_0", 0) / "checkpoints"
        assert [entry["step_index"] for entry in list_checkpoints(folder)] == [0, 1, 2]
        assert load_checkpoint(folder) == harness.model(role, party, "model_0")
    assert len(harness.model("arbiter", ARBITER, "model_1")["param"]["loss_history"]) == 6


def test_poisson_warm_start_keeps_the_exposure_offset(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    guest, host, y, exposure = dvisits()
    rows = slice(0, 600)
    guest, host, y, exposure = guest.iloc[rows], host.iloc[rows], y[rows], exposure[rows]
    poisson = {**SETTINGS, "alpha": 0.05, "exposure_colname": "exposure"}
    params = {
        "model_0": {**poisson, "max_iter": 2, "callback_param": {"callbacks": ["ModelCheckpoint"]}},
        "model_1": {**poisson, "max_iter": 4},
    }
    harness = run(tmp_path, harnesses, "HeteroPoisson", params, instances(guest, y), instances(host))
    x = np.hstack([guest.drop(columns="exposure").to_numpy(), host.to_numpy()])
    expected = descent(x, y, link="poisson", iterations=4, offset=np.log(exposure))
    np.testing.assert_allclose(joined_weights(harness, "model_1"), expected, atol=TOLERANCE)
    assert "exposure" not in harness.model("guest", GUEST, "model_1")["param"]["weight"]
