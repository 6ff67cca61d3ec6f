"""FATE's homo example tables as planted DataTransform outputs, HomoNN confs, and plain PyTorch references.

The references are written here from torch alone (no Accord code): a FedAvg loop over the clients'
rows and a centralised loop over the pooled rows, both drawing the model, shuffles and batches exactly
as the conf says (model from ``torch.manual_seed(seed)``; each client's batch order from
``torch.randperm`` on a generator seeded with ``seed``; rows in sorted-id order).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from accord.components.sdk import Dataset
from accord.identity import Party
from tests.components.breast import DATA
from tests.components.harness import ComponentHarness

GUEST, HOST, ARBITER = (
    Party(role="guest", party_id=9999),
    Party(role="host", party_id=10000),
    Party(role="arbiter", party_id=10000),
)
CLIENTS = (GUEST, HOST)

DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "nn_0": {
            "module": "HomoNN",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}
PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["nn_1"] = {
    "module": "HomoNN",
    "input": {"data": {"test_data": ["data_transform_0.data"]}, "model": ["nn_0.model"]},
    "output": {"data": ["data"]},
}


def table(name: str) -> Dataset:
    frame = pd.read_csv(DATA / f"{name}.csv")
    features = frame.drop(columns=["id", "y"])
    return Dataset.instances(
        [str(sid) for sid in frame["id"]],
        features.to_numpy(dtype=np.float64),
        header=list(features.columns),
        labels=frame["y"].to_numpy(dtype=np.float64),
        label_name="y",
    )


def pair(name: str) -> dict[Party, Dataset]:
    return {GUEST: table(f"{name}_guest"), HOST: table(f"{name}_host")}


def linear(inputs: int, outputs: int, key: str) -> dict[str, Any]:
    return {
        key: {
            "layer": "Linear",
            "in_features": inputs,
            "out_features": outputs,
            "bias": True,
            "initializer": {},
        }
    }


MLP = {
    **linear(30, 8, "0-0"),
    "1-1": {"layer": "ReLU", "initializer": {}},
    **linear(8, 1, "2-2"),
    "3-3": {"layer": "Sigmoid", "initializer": {}},
}
ADAM = {
    "optimizer": "Adam",
    "lr": 0.01,
    "betas": [0.9, 0.999],
    "eps": 1e-8,
    "weight_decay": 0,
    "amsgrad": False,
}
BCE = {"loss_fn": "BCELoss", "reduction": "mean"}


def nn_params(nn_define: dict[str, Any], loss: dict[str, Any], **trainer: Any) -> dict[str, Any]:
    return {
        "loss": loss,
        "optimizer": {**ADAM, "config_type": "pytorch"},
        "trainer": {"trainer_name": "fedavg_trainer", "param": {"epochs": 20, "batch_size": 128, **trainer}},
        "torch_seed": 100,
        "nn_define": nn_define,
    }


def conf(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "component_parameters": {"common": {"nn_0": params, "nn_1": params}},
    }


def start(
    tmp_path: Path,
    made: list[ComponentHarness],
    params: dict[str, Any],
    data: dict[Party, Dataset],
    dsl: dict[str, Any] = DSL,
    **kwargs: Any,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl, conf(params), **kwargs)
    made.append(harness)
    for party, dataset in data.items():
        harness.plant(party.role, party.party_id, "data_transform_0", dataset)
    return harness


# ---- plain PyTorch references ---------------------------------------------------------------------


def sorted_xy(
    dataset: Dataset, label_dtype: torch.dtype = torch.float32, flat: bool = False
) -> tuple[Any, Any]:
    order = np.argsort(np.asarray([str(s) for s in dataset.ids()], dtype=object), kind="stable")
    x = torch.tensor(dataset.features()[order], dtype=torch.float32)
    labels = dataset.labels()
    assert labels is not None
    y = torch.tensor(labels[order]).to(label_dtype)
    return x, (y if flat else y.reshape(-1, 1))


def mlp(seed: int) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(30, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1), torch.nn.Sigmoid()
    )


def single_linear(
    inputs: int, outputs: int, seed: int, tail: torch.nn.Module | None = None
) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = [torch.nn.Linear(inputs, outputs)]
    return torch.nn.Sequential(*(layers + ([tail] if tail is not None else [])))


def _epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Any,
    x: Any,
    y: Any,
    batch: int,
    order: Any,
) -> float:
    total = 0.0
    for start in range(0, len(x), batch):
        index = order[start : start + batch]
        optimizer.zero_grad()
        loss = loss_fn(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(index)
    return total / len(x)


def plain_fedavg(
    models: list[torch.nn.Module],
    data: list[tuple[Any, Any]],
    loss_fn: Any,
    *,
    epochs: int,
    batch: int,
    seed: int = 100,
    every: int = 1,
    weighted: bool = True,
) -> tuple[list[torch.nn.Module], list[float]]:
    """FedAvg: local epochs, then every ``every`` epochs the weighted average of all float state."""
    optimizers = [torch.optim.Adam(m.parameters(), lr=0.01) for m in models]
    generators = [torch.Generator().manual_seed(seed) for _ in models]
    sizes = [len(x) for x, _ in data]
    weights = [n / sum(sizes) for n in sizes] if weighted else [1 / len(models)] * len(models)
    aggregated: list[float] = []
    for epoch in range(epochs):
        losses = [
            _epoch(m, o, loss_fn, x, y, min(batch, len(x)), torch.randperm(len(x), generator=g))
            for m, o, (x, y), g in zip(models, optimizers, data, generators, strict=True)
        ]
        if (epoch + 1) % every:
            continue
        aggregated.append(sum(w * loss for w, loss in zip(weights, losses, strict=True)))
        states = [m.state_dict() for m in models]
        with torch.no_grad():
            for name in states[0]:
                mean = sum(w * s[name].double() for w, s in zip(weights, states, strict=True))
                for state in states:
                    state[name].copy_(mean.to(state[name].dtype))
    return models, aggregated


def plain_central(
    model: torch.nn.Module, x: Any, y: Any, loss_fn: Any, *, epochs: int, batch: int
) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(100)
    return [
        _epoch(model, optimizer, loss_fn, x, y, batch, torch.randperm(len(x), generator=generator))
        for _ in range(epochs)
    ]
