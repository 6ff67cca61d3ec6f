"""FATE's vehicle_scale example (4 classes): hetero (9 features + label on the guest, 9 on the host)
and homo (guest and host rows), as Intersection and DataTransform output them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta

from ..breast import DATA


def _read(name: str) -> tuple[list[str], np.ndarray]:
    path = DATA / name
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return [str(int(sid)) for sid in table[:, 0]], table


def hetero() -> tuple[Dataset, Dataset]:
    guest_ids, guest = _read("vehicle_scale_hetero_guest.csv")
    host_ids, host = _read("vehicle_scale_hetero_host.csv")
    common = sorted(set(guest_ids) & set(host_ids))
    g = [guest_ids.index(sid) for sid in common]
    h = [host_ids.index(sid) for sid in common]
    guest_data = Dataset.instances(
        common, guest[g, 2:], header=[f"x{i}" for i in range(9)], labels=guest[g, 1], label_name="y"
    )
    host_data = Dataset.instances(common, host[h, 1:], header=[f"h{i}" for i in range(9)])
    return guest_data, host_data


def homo(name: str) -> Dataset:
    ids, table = _read(f"vehicle_scale_homo_{name}.csv")
    return Dataset.instances(
        ids,
        table[:, 2:],
        header=[f"x{i}" for i in range(table.shape[1] - 2)],
        labels=table[:, 1],
        label_name="y",
    )


def plant(party_dir: Path, component: str, data: Dataset, row_group: int | None = None) -> None:
    path = layout.data_path(party_dir, component, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=row_group)


def sigmoid(values: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-values))
    return result


def gradient_descent(
    features: np.ndarray, labels: np.ndarray, *, iterations: int, rate: float, alpha: float
) -> tuple[np.ndarray, float]:
    """Plain full-batch gradient descent on the L2-penalised logistic loss (labels 0/1): what HomoLR's
    FedAvg with one full batch per round and sgd without decay computes on the union of the rows."""
    weights, intercept = np.zeros(features.shape[1]), 0.0
    for _ in range(iterations):
        residual = sigmoid(features @ weights + intercept) - labels
        weights = weights - rate * (features.T @ residual / len(labels) + alpha * weights)
        intercept -= rate * float(residual.mean())
    return weights, intercept
