"""Rows, bins and result rows of HeteroSecureBoost: what guest and hosts do alike with their data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.feature.binning import splits
from accord.components.sdk import ComponentContext, Dataset
from accord.errors import DataFormatError, DataMismatchError

TRAIN, VALIDATE, TEST, PREDICT = "train", "validate", "test", "predict"


def features_of(dataset: Dataset, zero_as_missing: bool) -> np.ndarray:
    values = dataset.features().copy()
    if zero_as_missing:
        values[values == 0] = np.nan
    return values


def aligned(dataset: Dataset, ids: Sequence[str], what: str, component: str) -> Dataset:
    """``dataset``'s rows in the order of the guest's ``ids`` (both sides come from one Intersection)."""
    mine = dataset.ids()
    if len(mine) == len(ids) and all(str(a) == str(b) for a, b in zip(mine, ids, strict=True)):
        return dataset
    where = {str(sid): row for row, sid in enumerate(mine)}
    missing = [sid for sid in ids if str(sid) not in where]
    if missing or len(mine) != len(ids):
        raise DataMismatchError(
            f"{component}: the host's {what} rows differ from the guest's ({len(mine)} rows here, "
            f"{len(ids)} there{', e.g. id ' + str(missing[0]) + ' missing here' if missing else ''})",
            hint="feed every party the output of the same Intersection component",
        )
    return dataset.take([where[str(sid)] for sid in ids])


@dataclass(frozen=True)
class Binned:
    """A party's quantile bins: ``bins`` (rows, features) with missing values in bin ``missing_bin``."""

    points: list[list[float]]
    bins: np.ndarray
    missing_bin: int

    @property
    def width(self) -> int:
        return self.missing_bin + 1

    def zero_bins(self, zero_as_missing: bool) -> np.ndarray:
        """Each feature's bin of the value 0 (FATE's sparse point); the missing bin when zeros are
        missing values."""
        if zero_as_missing:
            return np.full(len(self.points), self.missing_bin, dtype=np.int64)
        return np.array([int(splits.assign_bins(np.zeros(1), p)[0]) for p in self.points], dtype=np.int64)

    def threshold(self, feature: int, bin_: int) -> float | None:
        """The split value of ``bin_``; None for the last bin, which also holds values above the last
        training split point (every present value goes left)."""
        points = self.points[feature]
        return None if bin_ >= len(points) - 1 else float(points[bin_])


def quantile_bins(values: np.ndarray, bin_num: int, error: float) -> Binned:
    points: list[list[float]] = []
    for column in values.T:
        found = splits.quantile_split_points(splits.sketch(column, error), bin_num, error)
        points.append(found or [0.0])
    missing_bin = max((len(p) for p in points), default=1)
    bins = np.empty(values.shape, dtype=np.int64)
    for feature, column in enumerate(values.T):
        assigned = splits.assign_bins(column, points[feature])
        assigned[np.isnan(column)] = missing_bin
        bins[:, feature] = assigned
    return Binned(points, bins, missing_bin)


def train_dataset(ctx: ComponentContext[Any]) -> Dataset:
    data = ctx.first_dataset("train_data", "data")
    if data is None:
        raise DataFormatError(f"{ctx.component} has no train_data input", hint="wire train_data in the DSL")
    if data.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} trains on parsed feature rows, but its input holds {data.kind} rows",
            hint="put a DataTransform between the Reader and HeteroSecureBoost",
        )
    return data


def predictions(
    dataset: Dataset,
    probabilities: np.ndarray,
    *,
    task_type: str,
    classes: list[float],
    threshold: float,
    data_type: str,
) -> Dataset:
    """FATE's predict-result rows: label, predict_result, predict_score, predict_detail, type."""
    labels = dataset.labels()
    labels = labels if labels is not None else np.full(len(dataset), np.nan)
    if task_type == "regression":
        values = probabilities[:, 0]
        return Dataset.predictions(
            dataset.ids(),
            labels=labels,
            predict_result=values,
            predict_score=values,
            predict_detail=[{"label": float(v)} for v in values],
            data_type=data_type,
        )
    names = [_label_name(c) for c in classes]
    if probabilities.shape[1] == 1:
        score = probabilities[:, 0]
        positive = classes[1] if len(classes) > 1 else 1.0
        negative = classes[0] if classes else 0.0
        return Dataset.predictions(
            dataset.ids(),
            labels=labels,
            predict_result=np.where(score > threshold, positive, negative),
            predict_score=score,
            predict_detail=[{names[0]: 1.0 - float(s), names[-1]: float(s)} for s in score],
            data_type=data_type,
        )
    best = probabilities.argmax(axis=1)
    return Dataset.predictions(
        dataset.ids(),
        labels=labels,
        predict_result=np.asarray(classes, dtype=np.float64)[best],
        predict_score=probabilities[np.arange(len(best)), best],
        predict_detail=[dict(zip(names, map(float, row), strict=True)) for row in probabilities],
        data_type=data_type,
    )


def _label_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def pack_bits(bits: np.ndarray) -> bytes:
    return np.packbits(np.asarray(bits, dtype=bool)).tobytes()


def unpack_bits(data: bytes, count: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=count).astype(bool)
