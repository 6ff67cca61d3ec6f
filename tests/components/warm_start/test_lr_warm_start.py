"""Warm start and ModelCheckpoint of HeteroLR and HomoLR (issue 16).

A training component given the model of an earlier one continues from it: N iterations, then M more
from the model, must be one run of N+M iterations. References: a plain numpy full-batch gradient
descent with FATE's rules (HeteroLR: the Taylor fore-gradient 0.25·wx - 0.5·y±; HomoLR: the exact
logistic gradient, and one full batch per round makes FedAvg full-batch descent on the union), with the
learning rate decayed by the global iteration index. Tolerance 1e-6: Paillier keeps 23 bits of each
feature column in X^T·[[d]] (floating_point_precision) and secure aggregation rounds to fixed point.
The warm-started and the one-run model of the same job are equal to 1e-9 (the same arithmetic).
"""

from __future__ import annotations

import copy
import json
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.hetero_lr.params import CallbackParam
from accord.components.sdk import Dataset, layout
from accord.components.sdk.checkpoint import list_checkpoints, load_checkpoint
from accord.errors import DataFormatError, DataMismatchError
from accord.identity import Party

from .. import test_homo_lr as homo
from ..breast import breast_parties
from ..harness import ComponentHarness
from ..lr_multiclass import vehicle
from ..test_hetero_lr import plant

TOLERANCE = 1e-6
GUEST, HOST, ARBITER = 9999, 10000, 10000


def warm_dsl(module: str, upstream: str, first: str) -> dict[str, Any]:
    """``first``_0 trains; ``first``_1 continues from its model; ``first``_2 runs in one go."""
    data = {"train_data": [f"{upstream}.data"]}
    out = {"data": ["data"], "model": ["model"]}
    return {
        "components": {
            upstream: {"module": "Intersection", "output": {"data": ["data"]}},
            f"{first}_0": {"module": module, "input": {"data": data}, "output": out},
            f"{first}_1": {
                "module": module,
                "input": {"data": data, "model": [f"{first}_0.model"]},
                "output": out,
            },
            f"{first}_2": {"module": module, "input": {"data": data}, "output": out},
        }
    }


def job(roles: dict[str, list[int]], params: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": roles,
        "component_parameters": {"common": params},
    }


def checkpoint_dir(harness: ComponentHarness, role: str, party_id: int, component: str) -> Path:
    return layout.task_dir(harness.party_dir(role, party_id), component, 0) / "checkpoints"


# ---- HeteroLR ---------------------------------------------------------------------------------

HETERO: dict[str, Any] = {
    "penalty": "L2",
    "alpha": 0.01,
    "optimizer": "sgd",
    "batch_size": -1,
    "learning_rate": 0.15,
    "decay": 1.0,
    "decay_sqrt": True,
    "tol": 0.0,
    "early_stop": "weight_diff",
    "init_param": {"init_method": "zeros", "fit_intercept": True},
    "encrypt_param": {"key_length": 512},
}


def hetero_reference(iterations: int) -> tuple[np.ndarray, np.ndarray, float]:
    """FATE 1.11's HeteroLR, plainly: full-batch sgd on the Taylor fore-gradient, lr / sqrt(1 + t)."""
    guest, host = breast_parties(limit=120)
    xg, xh = guest.features(), host.features()
    signed = 2.0 * np.asarray(guest.labels()) - 1.0
    wg, wh, bias = np.zeros(xg.shape[1]), np.zeros(xh.shape[1]), 0.0
    alpha, rate = HETERO["alpha"], HETERO["learning_rate"]
    for t in range(iterations):
        fore = 0.25 * (xg @ wg + xh @ wh + bias) - 0.5 * signed
        lr = rate / np.sqrt(1 + t)
        n = len(fore)
        wg, wh, bias = (
            wg - lr * (xg.T @ fore / n + alpha * wg),
            wh - lr * (xh.T @ fore / n + alpha * wh),
            bias - lr * fore.sum() / n,
        )
    return wg, wh, bias


def hetero_harness(tmp_path: Path, made: list[ComponentHarness], first: int, total: int) -> ComponentHarness:
    params = {
        "hetero_lr_0": {
            **HETERO,
            "max_iter": first,
            "callback_param": {"callbacks": ["ModelCheckpoint"], "save_freq": 2},
        },
        "hetero_lr_1": {**HETERO, "max_iter": total},
        "hetero_lr_2": {**HETERO, "max_iter": total},
    }
    roles = {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}
    harness = ComponentHarness(
        tmp_path, warm_dsl("HeteroLR", "intersection_0", "hetero_lr"), job(roles, params)
    )
    made.append(harness)
    guest, host = breast_parties(limit=120)
    plant(harness, "guest", GUEST, guest, None)
    plant(harness, "host", HOST, host, None)
    return harness


def hetero_weights(harness: ComponentHarness, component: str) -> tuple[np.ndarray, np.ndarray, float]:
    guest = harness.model("guest", GUEST, component)["param"]
    host = harness.model("host", HOST, component)["param"]
    return (
        np.array([guest["weight"][name] for name in guest["header"]]),
        np.array([host["weight"][name] for name in host["header"]]),
        float(guest["intercept"]),
    )


def test_hetero_lr_warm_start_is_one_longer_run(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = hetero_harness(tmp_path, harnesses, first=3, total=7)
    for component in ("hetero_lr_0", "hetero_lr_1", "hetero_lr_2"):
        harness.run_ok(component)

    wg, wh, bias = hetero_reference(7)
    warm_g, warm_h, warm_b = hetero_weights(harness, "hetero_lr_1")
    np.testing.assert_allclose(warm_g, wg, atol=TOLERANCE)
    np.testing.assert_allclose(warm_h, wh, atol=TOLERANCE)
    assert warm_b == pytest.approx(bias, abs=TOLERANCE)
    one_g, one_h, one_b = hetero_weights(harness, "hetero_lr_2")
    np.testing.assert_allclose(np.r_[warm_g, warm_h, warm_b], np.r_[one_g, one_h, one_b], atol=1e-9)

    # The iteration count carries over (max_iter counts the earlier ones, as FATE), on every party.
    for role, party in (("guest", GUEST), ("host", HOST), ("arbiter", ARBITER)):
        assert harness.model(role, party, "hetero_lr_1")["param"]["iters"] == 7
    arbiter = harness.model("arbiter", ARBITER, "hetero_lr_1")["param"]
    assert len(arbiter["loss_history"]) == 7
    one_run = harness.model("arbiter", ARBITER, "hetero_lr_2")["param"]["loss_history"]
    np.testing.assert_allclose(arbiter["loss_history"], one_run, rtol=1e-9)


def test_hetero_lr_checkpoints_every_save_freq(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = hetero_harness(tmp_path, harnesses, first=5, total=5)
    harness.run_ok("hetero_lr_0")
    # FATE's rule: after every iteration whose 0-based index is a multiple of save_freq (2).
    for role, party in (("guest", GUEST), ("host", HOST), ("arbiter", ARBITER)):
        folder = checkpoint_dir(harness, role, party, "hetero_lr_0")
        assert [entry["step_index"] for entry in list_checkpoints(folder)] == [0, 2, 4]
        for entry in list_checkpoints(folder):
            assert stat.S_IMODE((folder / entry["file"]).stat().st_mode) == 0o600
            saved = json.loads((folder / entry["file"]).read_text())
            assert saved["param"]["iters"] == entry["step_index"] + 1
        # The last checkpoint is the final model; the model itself is saved as without the callback.
        assert load_checkpoint(folder) == harness.model(role, party, "hetero_lr_0")
    folder = checkpoint_dir(harness, "guest", GUEST, "hetero_lr_0")
    wg, _, bias = hetero_reference(3)
    middle = load_checkpoint(folder, 2)["param"]
    np.testing.assert_allclose([middle["weight"][name] for name in middle["header"]], wg, atol=TOLERANCE)
    assert middle["intercept"] == pytest.approx(bias, abs=TOLERANCE)


def test_warm_start_on_other_features_is_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = hetero_harness(tmp_path, harnesses, first=1, total=2)
    harness.transfer_timeout_s = 10
    harness.run_ok("hetero_lr_0")
    _, host = breast_parties(limit=120)
    # The host's data loses a feature after the first model was trained.
    fewer = Dataset.instances(list(host.ids()), host.features()[:, :-1], header=host.header[:-1])
    plant(harness, "host", HOST, fewer, None)
    errors = harness.run("hetero_lr_1")
    assert all(isinstance(error, DataMismatchError) for error in errors.values()), errors
    host_error = errors[Party(role="host", party_id=HOST)]
    assert "features" in str(host_error) and "transformed the same way" in str(host_error)


def test_warm_start_from_another_module_is_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    dsl = copy.deepcopy(warm_dsl("HeteroLR", "intersection_0", "hetero_lr"))
    dsl["components"]["hetero_linr_0"] = {
        "module": "HeteroLinR",
        "input": {"data": {"train_data": ["intersection_0.data"]}},
        "output": {"data": ["data"], "model": ["model"]},
    }
    dsl["components"]["hetero_lr_1"]["input"]["model"] = ["hetero_linr_0.model"]
    params: dict[str, dict[str, Any]] = {
        "hetero_lr_1": {**HETERO, "max_iter": 2},
        "hetero_linr_0": {"max_iter": 1},
    }
    roles = {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}
    harness = ComponentHarness(tmp_path, dsl, job(roles, params))
    harnesses.append(harness)
    harness.transfer_timeout_s = 10
    guest, host = breast_parties(limit=60)
    plant(harness, "guest", GUEST, guest, None)
    plant(harness, "host", HOST, host, None)
    harness.run_ok("hetero_linr_0")
    errors = harness.run("hetero_lr_1")
    assert all(isinstance(error, DataMismatchError) for error in errors.values()), errors
    assert "HeteroLinR" in str(errors[Party(role="guest", party_id=GUEST)])


# ---- HomoLR -----------------------------------------------------------------------------------


def homo_reference(iterations: int) -> np.ndarray:
    """Full-batch gradient descent on the union (exact logistic gradient), lr / sqrt(1 + t)."""
    features, labels = homo.union()
    rows = np.hstack([features, np.ones((len(labels), 1))])
    weights = np.zeros(rows.shape[1])
    alpha, rate = float(homo.EXAMPLE["alpha"]), float(homo.EXAMPLE["learning_rate"])  # type: ignore[arg-type]
    for t in range(iterations):
        scores = 1.0 / (1.0 + np.exp(-(rows @ weights)))
        gradient = rows.T @ (scores - labels) / len(labels)
        gradient[:-1] += alpha * weights[:-1]
        weights = weights - rate / np.sqrt(1 + t) * gradient
    return weights


def test_homo_lr_warm_start_is_one_longer_run(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    settings = {**homo.EXAMPLE, "tol": 0.0, "early_stop": "weight_diff"}
    params = {
        "homo_lr_0": {
            **settings,
            "max_iter": 2,
            "callback_param": {"callbacks": ["ModelCheckpoint", "EarlyStopping"]},
        },
        "homo_lr_1": {**settings, "max_iter": 5},
        "homo_lr_2": {**settings, "max_iter": 5},
    }
    dsl = warm_dsl("HomoLR", "data_transform_0", "homo_lr")
    dsl["components"]["data_transform_0"]["module"] = "DataTransform"
    roles = {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}
    harness = homo.start(tmp_path, harnesses, job(roles, params), dsl=dsl)
    for component in ("homo_lr_0", "homo_lr_1", "homo_lr_2"):
        harness.run_ok(component)

    expected = homo_reference(5)
    warm = homo.coefficients(harness.model("guest", GUEST, "homo_lr_1"))
    np.testing.assert_allclose(warm, expected, atol=TOLERANCE)
    np.testing.assert_allclose(warm, homo.coefficients(harness.model("guest", GUEST, "homo_lr_2")), atol=1e-9)
    np.testing.assert_allclose(warm, homo.coefficients(harness.model("host", HOST, "homo_lr_1")), atol=1e-12)
    for role, party in (("guest", GUEST), ("host", HOST), ("arbiter", ARBITER)):
        model = harness.model(role, party, "homo_lr_1")["param"]
        assert model["iters"] == 5 and len(model["loss_history"]) == 5
        # save_freq 1: a checkpoint after each of homo_lr_0's two epochs.
        folder = checkpoint_dir(harness, role, party, "homo_lr_0")
        assert [entry["step_index"] for entry in list_checkpoints(folder)] == [0, 1]
    first = load_checkpoint(checkpoint_dir(harness, "guest", GUEST, "homo_lr_0"), 0)
    np.testing.assert_allclose(homo.coefficients(first), homo_reference(1), atol=TOLERANCE)


# ---- one-vs-rest ------------------------------------------------------------------------------


def test_one_vs_rest_continues_each_class(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    """HomoLR on vehicle_scale (4 classes): 1 + 2 epochs from the model equal 3 epochs per class; each
    class keeps its checkpoints in its own scope; a binary model cannot continue a 4-class task."""
    settings = {
        "penalty": "L2",
        "alpha": 0.001,
        "optimizer": "sgd",
        "batch_size": -1,
        "learning_rate": 4.0,
        "decay": 0,
        "init_param": {"init_method": "zeros"},
        "early_stop": "weight_diff",
        "tol": 0.0,
        "encrypt_param": {"method": None},
    }
    params = {
        "homo_lr_0": {**settings, "max_iter": 1, "callback_param": {"callbacks": ["ModelCheckpoint"]}},
        "homo_lr_1": {**settings, "max_iter": 3},
        "homo_lr_2": {**settings, "max_iter": 3},
    }
    dsl = warm_dsl("HomoLR", "data_transform_0", "homo_lr")
    dsl["components"]["data_transform_0"]["module"] = "DataTransform"
    roles = {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}
    harness = ComponentHarness(tmp_path, dsl, job(roles, params))
    harnesses.append(harness)
    for role, party in (("guest", GUEST), ("host", HOST)):
        vehicle.plant(harness.party_dir(role, party), "data_transform_0", vehicle.homo(role), row_group=200)
    for component in ("homo_lr_0", "homo_lr_1", "homo_lr_2"):
        harness.run_ok(component)

    warm = harness.model("guest", GUEST, "homo_lr_1")["param"]
    whole = harness.model("guest", GUEST, "homo_lr_2")["param"]
    assert warm["one_vs_rest_classes"] == whole["one_vs_rest_classes"] == ["0", "1", "2", "3"]
    for mine, one_run in zip(warm["completed_models"], whole["completed_models"], strict=True):
        assert mine["iters"] == 3
        names = mine["header"]
        np.testing.assert_allclose(
            [mine["weight"][n] for n in names], [one_run["weight"][n] for n in names], atol=1e-9
        )
        assert mine["intercept"] == pytest.approx(one_run["intercept"], abs=1e-9)
    folder = checkpoint_dir(harness, "guest", GUEST, "homo_lr_0")
    assert sorted(path.name for path in folder.iterdir()) == ["ovr.0", "ovr.1", "ovr.2", "ovr.3"]
    assert [entry["step_index"] for entry in list_checkpoints(folder / "ovr.2")] == [0]

    # The binary model of the same data relabelled to two classes cannot continue the 4-class task.
    binary = copy.deepcopy(dsl)
    binary["components"]["homo_lr_1"]["input"]["model"] = ["homo_lr_3.model"]
    binary["components"]["homo_lr_3"] = copy.deepcopy(binary["components"]["homo_lr_2"])
    params["homo_lr_3"] = {**settings, "max_iter": 1}
    again = ComponentHarness(tmp_path / "binary", binary, job(roles, params))
    harnesses.append(again)
    again.transfer_timeout_s = 10
    for role, party in (("guest", GUEST), ("host", HOST)):
        data = vehicle.homo(role)
        labels = (np.asarray(data.labels()) > 2).astype(np.float64)
        two = Dataset.instances(
            list(data.ids()), data.features(), header=data.header, labels=labels, label_name="y"
        )
        vehicle.plant(again.party_dir(role, party), "data_transform_0", two, row_group=200)
    again.run_ok("homo_lr_3")
    for role, party in (("guest", GUEST), ("host", HOST)):
        vehicle.plant(again.party_dir(role, party), "data_transform_0", vehicle.homo(role), row_group=200)
    errors = again.run("homo_lr_1")
    assert all(isinstance(error, DataMismatchError) for error in errors.values()), errors
    assert "classes" in str(errors[Party(role="guest", party_id=GUEST)])


def test_is_warm_start_without_a_model_input_is_refused_on_every_party(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    params = {**HETERO, "max_iter": 1, "is_warm_start": True}
    again = ComponentHarness(
        tmp_path,
        warm_dsl("HeteroLR", "intersection_0", "hetero_lr"),
        job({"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}, {"hetero_lr_2": params}),
    )
    harnesses.append(again)
    again.transfer_timeout_s = 10
    guest, host = breast_parties(limit=60)
    plant(again, "guest", GUEST, guest, None)
    plant(again, "host", HOST, host, None)
    errors = again.run("hetero_lr_2")
    assert isinstance(errors[Party(role="guest", party_id=GUEST)], DataFormatError)
    assert "is_warm_start" in str(errors[Party(role="guest", party_id=GUEST)])
    assert all(error is not None for error in errors.values())


def test_callback_parameters_follow_fate() -> None:
    assert CallbackParam.model_validate({"save_freq": "epoch"}).save_freq == 1
    with pytest.raises(ValueError, match="save_freq"):
        CallbackParam.model_validate({"save_freq": 0})
