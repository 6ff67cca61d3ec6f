"""The torch side of HomoNN: rows as tensors, local epochs, the flat state that is aggregated, scoring.

Imported lazily by the component (a site without torch still loads the component to refuse the job).
Rows are taken in the order of their sorted ids, as FATE's TableDataset collects a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from accord.components.nn import define
from accord.components.nn.homo.params import TableDatasetParam
from accord.components.sdk import Dataset
from accord.errors import DataFormatError

_NUMPY = {"long": np.int64, "int": np.int32, "float": np.float32, "double": np.float64}


@dataclass(frozen=True)
class Rows:
    dataset: Dataset  # the rows in training order (sorted ids)
    features: torch.Tensor
    labels: torch.Tensor | None


def sorted_rows(dataset: Dataset) -> Dataset:
    order = np.argsort(np.asarray([str(sid) for sid in dataset.ids()], dtype=object), kind="stable")
    return dataset.take(order)


def rows_of(dataset: Dataset, table: TableDatasetParam, component: str, *, need_label: bool) -> Rows:
    """FATE's TableDataset of ``dataset``: features and labels with its dtypes and label shape."""
    if dataset.kind != "instances":
        raise DataFormatError(
            f"{component} trains on parsed feature rows, but its input holds {dataset.kind} rows",
            hint="put a DataTransform between the Reader and HomoNN",
        )
    if dataset.weights() is not None:
        raise DataFormatError(
            f"{component}: the rows carry sample weights, which HomoNN's table dataset does not use",
            hint="drop the SampleWeight component before HomoNN",
        )
    ordered = sorted_rows(dataset)
    matrix = ordered.features()
    features = matrix.astype(_NUMPY[table.feature_dtype]) if table.feature_dtype else matrix
    raw = ordered.labels()
    if raw is None or np.isnan(raw).all():
        if need_label:
            raise DataFormatError(
                f"{component}: the train data has no label; HomoNN trains on labelled rows",
                hint="set with_label: true in DataTransform for every guest and host",
            )
        return Rows(ordered, torch.from_numpy(np.ascontiguousarray(features)), None)
    labels = raw.astype(_NUMPY[table.label_dtype]) if table.label_dtype else raw
    try:
        shaped = labels.reshape(table.label_shape) if table.label_shape else labels.reshape(len(labels), -1)
    except ValueError as error:
        raise DataFormatError(
            f"{component}: dataset.param.label_shape {table.label_shape} does not fit {len(labels)} labels",
            hint="leave label_shape null",
        ) from error
    if table.flatten_label:
        shaped = shaped.flatten()
    return Rows(
        ordered,
        torch.from_numpy(np.ascontiguousarray(features)),
        torch.from_numpy(np.ascontiguousarray(shaped)),
    )


def build(
    nn_define: Mapping[str, Any], optimizer: Mapping[str, Any], loss: Mapping[str, Any], seed: int
) -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.nn.Module]:
    """The model (drawn from ``seed``, as every client draws it: they start equal), optimizer and loss."""
    # torch's generator is global to the process and parties may run as threads of one worker: the
    # lock keeps another party's seeding from interleaving with these draws.
    with define.SEEDING:
        torch.manual_seed(seed)
        model = define.build_sequential(nn_define)
    return model, define.build_optimizer(optimizer, model.parameters()), define.build_loss(loss)


def train_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: torch.nn.Module,
    rows: Rows,
    batch_size: int,
    order: torch.Tensor | None,
) -> float:
    """One pass over the rows in batches (``order``: a shuffled permutation, or None for row order);
    the mean of the batch losses weighted by batch length."""
    assert rows.labels is not None
    model.train()
    count = len(rows.features)
    size = count if batch_size == -1 else min(batch_size, count)
    total = 0.0
    for start in range(0, count, size):
        index = order[start : start + size] if order is not None else slice(start, start + size)
        x, y = rows.features[index], rows.labels[index]
        optimizer.zero_grad()
        batch_loss = loss_fn(model(x), y)
        batch_loss.backward()
        optimizer.step()
        total += float(batch_loss.detach()) * len(x)
    return total / count


def aggregated_names(model: torch.nn.Module) -> list[str]:
    """The state entries averaged across clients: every floating tensor (weights, biases and running
    statistics, so that all clients end with one model); integer counters stay local."""
    return [name for name, tensor in model.state_dict().items() if tensor.is_floating_point()]


def flat_state(model: torch.nn.Module, names: list[str]) -> np.ndarray:
    state = model.state_dict()
    parts = [state[name].detach().cpu().numpy().astype(np.float64).ravel() for name in names]
    return np.concatenate(parts) if parts else np.zeros(0)


def load_flat_state(model: torch.nn.Module, names: list[str], values: np.ndarray) -> None:
    """Copy the averaged values into the model's own tensors (the optimizer keeps its state on them)."""
    state = model.state_dict()
    offset = 0
    with torch.no_grad():
        for name in names:
            tensor = state[name]
            size = tensor.numel()
            piece = torch.from_numpy(np.asarray(values[offset : offset + size]).reshape(tensor.shape))
            tensor.copy_(piece.to(tensor.dtype))
            offset += size


def outputs(model: torch.nn.Module, features: torch.Tensor) -> np.ndarray:
    """The model's outputs for ``features`` as (rows, width) float64, in eval mode."""
    model.eval()
    with torch.no_grad():
        result = model(features)
    model.train()
    array: np.ndarray = result.detach().cpu().numpy().astype(np.float64)
    return array.reshape(len(array), -1)


def infer_task(labels: np.ndarray | None, scores: np.ndarray) -> str | None:
    """FATE's task_type 'auto': binary for labels 0/1, multi for rows of probabilities, else regression."""
    if labels is not None and len(labels) and labels.max() == 1.0 and labels.min() == 0.0:
        return "binary"
    if scores.shape[1] > 1:
        return "multi" if bool(np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)) else None
    return "regression"
