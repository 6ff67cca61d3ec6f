"""FATE's regression examples split as FATE splits them, aligned by id as Intersection outputs them,
with a run helper for HeteroLinR / HeteroPoisson on the component harness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accord.components.sdk import Dataset
from accord.computing.table import Engine

from ..harness import JOB_ID, ComponentHarness
from ..test_hetero_lr import plant

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "fate" / "examples" / "data"
GUEST, HOST, ARBITER = 9999, 10000, 10000


def joined(name: str, label: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The guest's and host's rows of ``name``_hetero_{guest,host}.csv on their common ids, sorted."""
    guest = pd.read_csv(DATA / f"{name}_hetero_guest.csv", dtype={0: str})
    host = pd.read_csv(DATA / f"{name}_hetero_host.csv", dtype={0: str})
    guest = guest.set_index(guest.columns[0])
    host = host.set_index(host.columns[0])
    common = sorted(set(guest.index) & set(host.index))
    return guest.loc[common], host.loc[common]


def standardized(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column centred and scaled (as a FeatureScale upstream would): gradient descent converges."""
    return (frame - frame.mean()) / frame.std(ddof=0)


def instances(
    frame: pd.DataFrame, labels: np.ndarray | None = None, weights: np.ndarray | None = None
) -> Dataset:
    return Dataset.instances(
        list(frame.index),
        frame.to_numpy(dtype=np.float64),
        header=list(frame.columns),
        labels=labels,
        label_name="y" if labels is not None else None,
        weights=weights,
    )


def job_conf(module_params: dict[str, Any], hosts: list[int] | None = None) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": hosts or [HOST], "arbiter": [ARBITER]},
        "component_parameters": {"common": {"model_0": module_params}},
    }


def dsl(module: str) -> dict[str, Any]:
    return {
        "components": {
            "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
            "model_0": {
                "module": module,
                "input": {"data": {"train_data": ["intersection_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }


def train(
    tmp_path: Path,
    made: list[ComponentHarness],
    module: str,
    params: dict[str, Any],
    guest: Dataset,
    hosts: list[Dataset],
    engine: Engine | None = None,
    row_group: int | None = None,
) -> ComponentHarness:
    host_ids = [HOST + i for i in range(len(hosts))]
    harness = ComponentHarness(tmp_path, dsl(module), job_conf(params, host_ids), engine=engine)
    made.append(harness)
    plant(harness, "guest", GUEST, guest, row_group)
    for host_id, data in zip(host_ids, hosts, strict=True):
        plant(harness, "host", host_id, data, row_group)
    harness.run_ok("model_0")
    return harness


def coefficients(harness: ComponentHarness, hosts: int = 1) -> tuple[np.ndarray, float]:
    """The joined model's coefficients (guest's, then each host's) and intercept."""
    guest = harness.model("guest", GUEST, "model_0")["param"]
    parts = [guest] + [harness.model("host", HOST + i, "model_0")["param"] for i in range(hosts)]
    weights = [part["weight"][name] for part in parts for name in part["header"]]
    return np.array(weights), float(guest["intercept"])


def losses(harness: ComponentHarness) -> list[float]:
    records = harness.metrics.query(JOB_ID, "model_0", "arbiter", ARBITER)
    return [float(point[1]) for record in records for point in record.data]


def gradient_descent(
    x: np.ndarray,
    y: np.ndarray,
    *,
    link: str,
    rate: float,
    iterations: int,
    alpha: float = 0.0,
    offset: np.ndarray | None = None,
) -> tuple[np.ndarray, list[float]]:
    """Plain full-batch gradient descent from zero weights (intercept last, unpenalized) and the loss
    FATE reports at each iteration's starting weights: the reference for a few iterations."""
    rows = np.hstack([x, np.ones((len(y), 1))])
    weights = np.zeros(rows.shape[1])
    shift = np.zeros(len(y)) if offset is None else offset
    history = []
    for _ in range(iterations):
        eta = rows @ weights + shift
        penalty = 0.5 * alpha * float(weights[:-1] @ weights[:-1])
        if link == "poisson":
            mu = np.exp(eta)
            history.append(float(np.mean(mu - y * eta)) + penalty)
            gradient = rows.T @ (mu - y) / len(y)
        else:
            history.append(0.5 * float(np.mean((eta - y) ** 2)) + penalty)
            gradient = rows.T @ (eta - y) / len(y)
        gradient[:-1] += alpha * weights[:-1]
        weights = weights - rate * gradient
    return weights, history
