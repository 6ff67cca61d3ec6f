"""HeteroNN on FATE's breast and vehicle data against a plain PyTorch model of the same network.

The reference is one torch model on the joined rows: the guest's bottom, each host's bottom, the
interactive layer as plain Linear layers (guest part and one per host), activation and the top model,
built in the order and under the seeds HeteroNN uses, trained on the same batches with the conf's
optimizer for bottom and top models and SGD(interactive_layer_lr) for the interactive layer. With
Paillier in the loop the scores agree to 1e-4 (fixed-point encoding of 23-bit columns) and the AUC
to 0.01.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from accord.components.nn import define
from accord.components.nn.hetero import HeteroNN
from accord.components.sdk import Dataset
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError
from tests.components.breast import DATA
from tests.components.harness import ComponentHarness

GUEST, HOST, HOST2 = 9999, 10000, 10001
LINEAR = {"bias": True, "device": None, "dtype": None, "layer": "Linear", "initializer": {}}
RELU = {"inplace": False, "layer": "ReLU", "initializer": {}}


def dsl(predict: bool = False) -> dict[str, Any]:
    components: dict[str, Any] = {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "nn_0": {
            "module": "HeteroNN",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        components["nn_1"] = {
            "module": "HeteroNN",
            "input": {"data": {"test_data": ["data_transform_0.data"]}, "model": ["nn_0.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    return {"components": components}


def load(name: str) -> Dataset:
    path = DATA / name
    names = path.read_text().splitlines()[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    labelled = names[1] == "y"
    first = 2 if labelled else 1
    return Dataset.instances(
        [str(int(sid)) for sid in table[:, 0]],
        table[:, first:],
        header=names[first:],
        labels=table[:, 1] if labelled else None,
        label_name="y" if labelled else None,
    )


def layers(dims: list[int], last: str | None = "ReLU") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(len(dims) - 1):
        out[f"{2 * i}-{2 * i}"] = {**LINEAR, "in_features": dims[i], "out_features": dims[i + 1]}
    if last == "ReLU":
        out[f"{len(out)}-relu"] = dict(RELU)
    elif last:
        out[f"{len(out)}-act"] = {
            "layer": last,
            "initializer": {},
            **({"dim": 1} if last == "Softmax" else {}),
        }
    return out


def conf(
    hosts: int = 1, guest_in: int = 10, host_in: int = 20, out: int = 1, **common: Any
) -> dict[str, Any]:
    top_last = "Sigmoid" if out == 1 else "Softmax"
    params: dict[str, Any] = {
        "epochs": 4,
        "interactive_layer_lr": 0.1,
        "batch_size": -1,
        "encrypt_param": {"key_length": 1024},
        "optimizer": {"optimizer": "Adam", "lr": 0.01, "config_type": "pytorch"},
        "interactive_layer_define": {
            "0-0": {
                "layer": "InteractiveLayer",
                "out_dim": 4,
                "activation": "relu",
                "dropout": None,
                "host_num": hosts,
                "guest_dim": 4,
                "host_dim": 4,
                "guest_bias": True,
                "host_bias": True,
                "need_guest": True,
                "initializer": {},
            }
        },
        "loss": {"loss_fn": "BCELoss" if out == 1 else "CrossEntropyLoss"},
        "floating_point_precision": None,
    }
    params.update(common)
    host_ids = [HOST, HOST2][:hosts]
    role: dict[str, Any] = {
        "guest": {
            "0": {
                "nn_0": {
                    "bottom_nn_define": layers([guest_in, 4]),
                    "top_nn_define": layers([4, out], top_last),
                }
            }
        },
        "host": {str(i): {"nn_0": {"bottom_nn_define": layers([host_in, 4])}} for i in range(hosts)},
    }
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": host_ids},
        "component_parameters": {"common": {"nn_0": params}, "role": role},
    }


def run(
    tmp_path: Path,
    harnesses: list[ComponentHarness],
    job: dict[str, Any],
    files: tuple[str, ...],
    predict: bool = False,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl(predict), job)
    harnesses.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", load(files[0]))
    for party, name in zip(job["role"]["host"], files[1:], strict=True):
        harness.plant("host", party, "data_transform_0", load(name))
    harness.run_ok("nn_0")
    if predict:
        harness.run_ok("nn_1")
    return harness


def plain(job: dict[str, Any], guest: Dataset, hosts: list[Dataset]) -> np.ndarray:
    """The same network as one torch model on the joined rows; returns the final train scores."""
    common = job["component_parameters"]["common"]["nn_0"]
    role = job["component_parameters"]["role"]
    spec = next(iter(common["interactive_layer_define"].values()))
    order = np.argsort(np.asarray(guest.ids()).astype(str), kind="stable")
    xg = torch.tensor(guest.features()[order], dtype=torch.float32)
    labels = guest.labels()[order]
    xs = [
        torch.tensor(h.features()[np.argsort(np.asarray(h.ids()).astype(str))], dtype=torch.float32)
        for h in hosts
    ]
    torch.manual_seed(100)
    bottom = define.build_sequential(role["guest"]["0"]["nn_0"]["bottom_nn_define"])
    inter_g = torch.nn.Linear(spec["guest_dim"], spec["out_dim"])
    inter_h = [torch.nn.Linear(spec["host_dim"], spec["out_dim"]) for _ in hosts]
    top = define.build_sequential(role["guest"]["0"]["nn_0"]["top_nn_define"])
    host_bottoms = []
    for i in range(len(hosts)):
        torch.manual_seed(100)
        host_bottoms.append(define.build_sequential(role["host"][str(i)]["nn_0"]["bottom_nn_define"]))
    opt = define.build_optimizer(common["optimizer"], [*bottom.parameters(), *top.parameters()])
    host_opts = [define.build_optimizer(common["optimizer"], b.parameters()) for b in host_bottoms]
    sgd = torch.optim.SGD(
        [p for m in [inter_g, *inter_h] for p in m.parameters()], lr=common["interactive_layer_lr"]
    )
    loss_fn = define.build_loss(common["loss"])
    if common["loss"]["loss_fn"] == "CrossEntropyLoss":
        target = torch.tensor(np.searchsorted(np.unique(labels), labels), dtype=torch.long)
    else:
        target = torch.tensor(labels, dtype=torch.float32).reshape(-1, 1)

    def forward(lo: int, hi: int) -> torch.Tensor:
        z = inter_g(bottom(xg[lo:hi]))
        for lin, b, x in zip(inter_h, host_bottoms, xs, strict=True):
            z = z + lin(b(x[lo:hi]))
        return top(torch.relu(z))

    count, size = len(labels), common["batch_size"]
    ranges = [(0, count)] if size == -1 else [(lo, min(lo + size, count)) for lo in range(0, count, size)]
    for _ in range(common["epochs"]):
        for lo, hi in ranges:
            for o in [opt, *host_opts, sgd]:
                o.zero_grad()
            loss_fn(forward(lo, hi), target[lo:hi]).backward()
            for o in [opt, *host_opts, sgd]:
                o.step()
    with torch.no_grad():
        return forward(0, count).double().numpy()


def scores(harness: ComponentHarness, component: str = "nn_0") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    out = harness.output("guest", GUEST, component).table.to_pandas()
    out = out.iloc[np.argsort(out.iloc[:, 0].astype(str).to_numpy(), kind="stable")]
    return out["predict_score"].to_numpy(), out["label"].to_numpy(), out["predict_result"].to_numpy()


BREAST = ("breast_hetero_guest.csv", "breast_hetero_host.csv")


def test_encrypted_training_matches_plain_torch(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    job = conf(epochs=6)
    harness = run(tmp_path, harnesses, job, BREAST)
    ours, labels, _ = scores(harness)
    reference = plain(job, load(BREAST[0]), [load(BREAST[1])])[:, 0]
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    assert abs(roc_auc_score(labels, ours) - roc_auc_score(labels, reference)) < 0.01
    guest_model = harness.model("guest", GUEST, "nn_0")
    host_model = harness.model("host", HOST, "nn_0")
    assert len(guest_model["meta"]["loss_history"]) == 6
    assert "top" in guest_model["param"] and "top" not in host_model["param"]
    assert set(host_model["param"]) == {"bottom", "noise"}


def test_auc_within_001_of_plain_training_with_fate_precision(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    job = conf(epochs=5, floating_point_precision=23, batch_size=128)
    harness = run(tmp_path, harnesses, job, BREAST, predict=True)
    ours, labels, _ = scores(harness)
    reference = plain(job, load(BREAST[0]), [load(BREAST[1])])[:, 0]
    assert roc_auc_score(labels, ours) > 0.95
    assert abs(roc_auc_score(labels, ours) - roc_auc_score(labels, reference)) < 0.01
    np.testing.assert_allclose(ours, reference, atol=1e-3)  # 23-bit fixed point in the encrypted products
    predicted, _, _ = scores(harness, "nn_1")
    np.testing.assert_allclose(predicted, ours, atol=1e-6)  # a model applied again scores as training did


def test_multiclass_and_two_hosts(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    job = conf(guest_in=9, host_in=9, out=4, epochs=3)
    harness = run(
        tmp_path, harnesses, job, ("vehicle_scale_hetero_guest.csv", "vehicle_scale_hetero_host.csv")
    )
    ours, labels, result = scores(harness)
    assert set(np.unique(result)) <= {0.0, 1.0, 2.0, 3.0} and len(ours) == len(labels)
    job2 = conf(hosts=2, epochs=3)
    harness2 = run(tmp_path / "two", harnesses, job2, (*BREAST, BREAST[1]))
    ours2, _, _ = scores(harness2)
    reference = plain(job2, load(BREAST[0]), [load(BREAST[1]), load(BREAST[1])])[:, 0]
    np.testing.assert_allclose(ours2, reference, atol=1e-4)


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"cv_param": {"need_cv": True}}, ComponentFeatureUnsupported, "cv_param.need_cv"),
        ({"callback_param": {"callbacks": ["LRScheduler"]}}, ComponentFeatureUnsupported, "callbacks"),
        ({"loss": {"loss_fn": "CustLoss"}}, ComponentFeatureUnsupported, "CustLoss"),
        ({"optimizer": {"optimizer": "LBFGS"}}, ComponentFeatureUnsupported, "LBFGS"),
        ({"encrypt_param": {"method": None}}, ComponentFeatureUnsupported, "encrypt_param.method"),
        ({"batch_size": 5}, ComponentParameterError, "batch_size"),
        ({"epochs_": 5}, ComponentParameterError, "epochs"),
    ],
)
def test_refusals_are_coded(change: dict[str, Any], error: type[Exception], field: str) -> None:
    params = {**conf()["component_parameters"]["common"]["nn_0"], **change}
    with pytest.raises(error) as raised:
        HeteroNN().check_parameters(params, component="nn_0", module="HeteroNN")
    assert field in str(raised.value)


def test_interactive_layer_refusal() -> None:
    params = copy.deepcopy(conf()["component_parameters"]["common"]["nn_0"])
    params["interactive_layer_define"]["0-0"]["activation"] = "softsign"
    with pytest.raises(ComponentFeatureUnsupported) as raised:
        HeteroNN().check_parameters(params, component="nn_0", module="HeteroNN")
    assert raised.value.code == 10127 and "activation" in str(raised.value)
