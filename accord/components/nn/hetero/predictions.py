"""Labels in and prediction rows out for HeteroNN's guest: binary, multi-class and regression, in the
table every model writes (label, predict_result, predict_score, predict_detail, type)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from accord.components.boosting.hetero.data import predictions as prediction_rows
from accord.components.evaluation.metrics import (
    MetricResult,
    binary_metrics,
    multiclass_metrics,
    regression_metrics,
)
from accord.components.sdk import Dataset
from accord.errors import DataFormatError

BCE_LOSSES = frozenset({"BCELoss", "BCEWithLogitsLoss"})
INDEX_LOSSES = frozenset({"CrossEntropyLoss", "NLLLoss"})


def is_classification(meta: Mapping[str, Any]) -> bool:
    return bool(meta["task_type"] == "classification")


def classes_of(labels: np.ndarray, meta: Mapping[str, Any]) -> list[float]:
    if not is_classification(meta):
        return []
    found = sorted({float(v) for v in np.asarray(labels, dtype=np.float64)})
    if meta["loss"]["loss_fn"] in BCE_LOSSES and not set(found) <= {0.0, 1.0}:
        raise DataFormatError(
            f"HeteroNN: {meta['loss']['loss_fn']} needs labels 0 and 1, the train data has {found[:10]}",
            hint="use CrossEntropyLoss with a softmax top model for more classes",
        )
    return found if len(found) > 1 else [0.0, 1.0]


def targets(labels: np.ndarray, meta: Mapping[str, Any]) -> torch.Tensor:
    values = np.asarray(labels, dtype=np.float64)
    if is_classification(meta) and meta["loss"]["loss_fn"] in INDEX_LOSSES:
        index = np.searchsorted(np.asarray(meta["classes"]), values)
        return torch.from_numpy(index.astype(np.int64))
    return torch.from_numpy(values.astype(np.float32).reshape(-1, 1))


def default_metrics(meta: Mapping[str, Any]) -> list[str]:
    if not is_classification(meta):
        return ["root_mean_squared_error"]
    return ["auc", "ks"] if len(meta["classes"]) == 2 else ["accuracy"]


def _name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def decide(
    scores: np.ndarray, meta: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """(predict_result, predict_score, predict_detail) of the top model's outputs, as :func:`rows`
    writes them."""
    out = np.asarray(scores, dtype=np.float64).reshape(len(scores), -1)
    if not is_classification(meta):
        value = out[:, 0]
        return value, value, [{} for _ in value]
    classes = np.asarray(meta["classes"], dtype=np.float64)
    names = [_name(c) for c in classes]
    if len(classes) == 2:
        positive = out[:, 0] if out.shape[1] == 1 else out[:, 1]
        result = np.where(positive > float(meta.get("threshold", 0.5)), classes[1], classes[0])
        detail = [{names[0]: float(1 - p), names[1]: float(p)} for p in positive]
        return result, positive, detail
    best = np.argmax(out, axis=1)
    detail = [dict(zip(names, (float(p) for p in row), strict=True)) for row in out]
    return classes[best], out[np.arange(len(out)), best], detail


def rows(data: Dataset, scores: np.ndarray, meta: Mapping[str, Any], data_type: str) -> Dataset:
    """The prediction rows every model writes, from the top model's outputs."""
    out = np.asarray(scores, dtype=np.float64).reshape(len(scores), -1)
    classes = [float(c) for c in meta["classes"]] if is_classification(meta) else []
    task_type = "regression" if not classes else "binary" if len(classes) == 2 else "multi"
    if task_type == "binary" and out.shape[1] > 1:
        out = out[:, 1:2]  # a softmax pair: the positive class's output is the score
    threshold = float(meta.get("threshold", 0.5))
    return prediction_rows(
        data, out, task_type=task_type, classes=classes, threshold=threshold, data_type=data_type
    )


def concat(parts: Sequence[Dataset]) -> Dataset:
    return Dataset(pa.concat_tables([part.table for part in parts]), "predict")


def validation_metrics(
    labels: np.ndarray | None, scores: np.ndarray, meta: Mapping[str, Any], metrics: list[str]
) -> dict[str, MetricResult]:
    if labels is None:
        raise DataFormatError(
            "HeteroNN validates on labelled rows", hint="give validate_data labels on the guest"
        )
    result, score, _ = decide(scores, meta)
    if not is_classification(meta):
        return regression_metrics(labels, score, metrics=metrics)
    if len(meta["classes"]) == 2:
        positive = np.asarray(labels) == meta["classes"][1]
        return binary_metrics(positive.astype(np.float64), score, metrics=metrics)
    return multiclass_metrics(labels, result, metrics=metrics)
