"""HomoNN's model (JSON, no pickle), its prediction rows and its online scorer.

A client's model is ``{"meta": {...definitions, header, task_type, classes}, "param": {"state": ...}}``
where ``state`` is the torch ``state_dict`` in nn/portable.py's format; every client holds the whole
(aggregated) model, so one party scores a row alone. torch is imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.boosting.hetero.data import predictions as prediction_rows
from accord.components.nn.homo.params import MODULE, FedAvgParam, HomoNNParam, TableDatasetParam
from accord.components.sdk import Dataset
from accord.errors import DataMismatchError

THRESHOLD = 0.5


def model_meta(
    param: HomoNNParam,
    trainer: FedAvgParam,
    table: TableDatasetParam,
    header: Sequence[str],
    task_type: str,
    classes: list[float],
) -> dict[str, Any]:
    return {
        "module": MODULE,
        "nn_define": param.nn_define,
        "loss": param.loss,
        "optimizer": param.optimizer,
        "torch_seed": param.torch_seed,
        "trainer": {"trainer_name": param.trainer.trainer_name, "param": trainer.model_dump()},
        "dataset": {"dataset_name": param.dataset.dataset_name, "param": table.model_dump()},
        "header": list(header),
        "task_type": task_type,
        "classes": classes,
    }


def predictions(
    dataset: Dataset, scores: np.ndarray, task_type: str, classes: list[float], data_type: str
) -> Dataset:
    """FATE's prediction rows (label, predict_result, predict_score, predict_detail, type)."""
    if task_type == "binary" and scores.shape[1] > 1:
        scores = scores[:, -1:]  # two outputs (a softmax pair): the positive class's is the score
    return prediction_rows(
        dataset, scores, task_type=task_type, classes=classes, threshold=THRESHOLD, data_type=data_type
    )


def check_header(model: Mapping[str, Any], header: Sequence[str], component: str) -> None:
    trained = list(model["meta"].get("header", []))
    if trained != list(header):
        raise DataMismatchError(
            f"{component}: the model was trained on features {trained[:8]}... but the data has "
            f"{list(header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform and FeatureScale)",
        )


def load_network(model: Mapping[str, Any], component: str) -> Any:
    """The trained torch module of a client's model."""
    from accord.components.nn import define, portable

    network = define.build_sequential(model["meta"]["nn_define"])
    portable.load_module_state(network, model["param"]["state"], component)
    network.eval()
    return network


def feature_dtype(model: Mapping[str, Any]) -> Any:
    name = (model["meta"].get("dataset", {}).get("param") or {}).get("feature_dtype", "float")
    return {"long": np.int64, "int": np.int32, "float": np.float32, "double": np.float64}.get(
        name, np.float64
    )


class NNScorer:
    """A client's whole model scoring rows of features (serving wraps it in a WholeModelScorer)."""

    def __init__(self, model: Mapping[str, Any], component: str) -> None:
        self._component = component
        self._header = tuple(model["meta"]["header"])
        self._task = str(model["meta"]["task_type"])
        self._classes = [float(c) for c in model["meta"].get("classes", [])]
        self._dtype = feature_dtype(model)
        self._network = load_network(model, component)

    @property
    def component(self) -> str:
        return self._component

    @property
    def header(self) -> tuple[str, ...]:
        return self._header

    def partial(self, features: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            tensor = torch.from_numpy(np.ascontiguousarray(features.astype(self._dtype)))
            raw: np.ndarray = self._network(tensor).detach().cpu().numpy().astype(np.float64)
        out: np.ndarray = raw.reshape(len(raw), -1)
        return out if self._task == "multi" else out[:, -1]

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._task == "multi":
            best = totals.argmax(axis=1)
            return totals[np.arange(len(best)), best], np.asarray(self._classes)[best].astype(np.int64)
        if self._task == "binary":
            return totals, (totals > THRESHOLD).astype(np.int64)
        return totals, np.zeros(len(totals), dtype=np.int32)  # regression has no label
