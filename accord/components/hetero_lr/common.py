"""What every HeteroLR party shares: batches, initial weights, labels and the output rows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np

from accord.components.hetero_lr.params import HeteroLRParam, InitParam
from accord.components.sdk import ComponentContext, Dataset
from accord.errors import ComponentFeatureUnsupported, DataFormatError, DataMismatchError

# The fields a linear model's meta records, as FATE's LinearModelMeta (HomoLR adds its aggregation
# settings; HeteroLinR and HeteroPoisson record the same).
META_FIELDS = (
    "penalty",
    "tol",
    "alpha",
    "optimizer",
    "batch_size",
    "learning_rate",
    "max_iter",
    "early_stop",
    "decay",
    "decay_sqrt",
)

TRAIN, VALIDATE, TEST, PREDICT = "train", "validate", "test", "predict"
_DEFAULT_SHUFFLE_SEED = 0


def binary_labels(dataset: Dataset, component: str) -> np.ndarray:
    labels = dataset.labels()
    if labels is None:
        raise DataFormatError(
            f"{component}: the guest's data has no label",
            hint="set with_label: true for the guest in DataTransform",
        )
    check_binary(set(np.unique(labels).tolist()), component)
    return labels


def check_binary(classes: set[float], component: str) -> None:
    """Refuse labels other than 0 and 1 (``classes``: every label value the rows have)."""
    if not classes <= {0.0, 1.0}:
        # FATE's multi_class "ovr" would train one model per class: an option Accord does not run yet.
        raise ComponentFeatureUnsupported(
            f"{component}: HeteroLR here is binary and needs labels 0 and 1, the data has "
            f"{sorted(classes)[:10]}",
            hint="map the labels to 0/1 (one-vs-rest multi-class is not supported yet)",
        )


class Batches:
    """Row positions of each iteration's batches, drawn by the guest.

    "full": the rows are split into batches once (after one shuffle when ``shuffle``), and every
    iteration walks the same batches, as FATE's full-batch generator does. "random": each iteration
    draws one batch of ``batch_size`` rows. The shuffle is seeded by ``init_param.random_seed``, or by
    a fixed seed when it is unset, so that running a job again gives the same model.
    """

    def __init__(self, count: int, param: HeteroLRParam) -> None:
        self._count = count
        self._size = count if param.batch_size == -1 or param.batch_size >= count else param.batch_size
        self._random = param.batch_strategy == "random"
        seed = param.init_param.random_seed
        self._rng = np.random.default_rng(_DEFAULT_SHUFFLE_SEED if seed is None else seed)
        order = self._rng.permutation(count) if param.shuffle else np.arange(count)
        self._fixed = [np.sort(order[start : start + self._size]) for start in range(0, count, self._size)]

    def next_iteration(self) -> list[np.ndarray]:
        if self._random:
            return [np.sort(self._rng.choice(self._count, size=self._size, replace=False))]
        return self._fixed


def initial_weights(width: int, init: InitParam, *, with_intercept: bool) -> np.ndarray:
    """``width`` weights plus the intercept as the last entry when ``with_intercept``."""
    size = width + (1 if with_intercept else 0)
    seed = init.random_seed if init.random_seed is not None else secrets.randbits(64)
    rng = np.random.default_rng(seed)
    if init.init_method == "zeros":
        return np.zeros(size)
    if init.init_method == "ones":
        return np.ones(size)
    if init.init_method == "const":
        return np.full(size, init.init_const)
    if init.init_method == "random_normal":
        return rng.normal(size=size)
    return rng.uniform(size=size)


def sigmoid(values: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(values, -500, 500)))
    return result


def predictions(dataset: Dataset, scores: np.ndarray, threshold: float, data_type: str) -> Dataset:
    labels = dataset.labels()
    return Dataset.predictions(
        dataset.ids(),
        labels=labels if labels is not None else np.full(len(dataset), np.nan),
        predict_result=(scores > threshold).astype(np.float64),
        predict_score=scores,
        predict_detail=[{"0": 1.0 - float(score), "1": float(score)} for score in scores],
        data_type=data_type,
    )


def concatenate(parts: Sequence[Dataset]) -> Dataset:
    import pyarrow as pa

    if len(parts) == 1:
        return parts[0]
    return Dataset(pa.concat_tables([part.table for part in parts]), "predict")


def empty_predictions() -> Dataset:
    return Dataset.predictions(
        [],
        labels=np.zeros(0),
        predict_result=np.zeros(0),
        predict_score=np.zeros(0),
        predict_detail=[],
        data_type=TRAIN,
    )


def pass_through(ctx: ComponentContext[Any]) -> None:
    """need_run false: the training rows go on unchanged (and nothing is learned)."""
    data = ctx.input_table("train_data") or ctx.input_table("data")
    if data is not None:
        ctx.save_table(data)


def coefficients(model: dict[str, Any], header: Sequence[str], component: str) -> np.ndarray:
    """The trained weights in ``header`` order (every linear model keeps them by feature name)."""
    weight = model["param"]["weight"]
    missing = [name for name in weight if name not in header]
    # A stepwise model keeps the columns it chose: the data's other columns weigh nothing.
    subset = bool(model.get("meta", {}).get("need_stepwise"))
    if missing or (len(weight) != len(header) and not subset):
        raise DataMismatchError(
            f"{component}: the model was trained on features {list(weight)[:8]}... but the data has "
            f"{list(header)[:8]}...",
            hint="predict on data transformed like the training data (same DataTransform model)",
        )
    return np.array([weight.get(name, 0.0) for name in header], dtype=np.float64)
