"""Checks that turn caller arrays into the vectors the metrics need, or say clearly what is wrong."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from accord.errors import DataFormatError, DataMismatchError

FloatVector = npt.NDArray[np.float64]
BoolVector = npt.NDArray[np.bool_]

_NUMERIC_KINDS = "biuf"


def as_vector(values: npt.ArrayLike, *, field: str) -> npt.NDArray[np.generic]:
    """``values`` as a non-empty 1-D array (a single column of a 2-D array is accepted)."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataFormatError(
            f"{field} must be one value per sample (a 1-D array), got shape {array.shape}",
            hint=f"pass {field} as a flat list or array",
        )
    if array.size == 0:
        raise DataFormatError(f"{field} is empty: there is nothing to evaluate", hint="pass non-empty data")
    return array


def as_finite(values: npt.ArrayLike, *, field: str) -> FloatVector:
    """``values`` as finite float64 numbers; NaN, infinity and text are refused with the first position."""
    array = as_vector(values, field=field)
    if array.dtype.kind not in _NUMERIC_KINDS:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise DataFormatError(
                f"{field} must be numbers, got values of type {array.dtype}",
                hint=f"check that {field} holds numeric predictions or labels",
            ) from None
    numbers = array.astype(np.float64)
    bad = ~np.isfinite(numbers)
    if bad.any():
        where = int(np.argmax(bad))
        kind = "NaN" if np.isnan(numbers[where]) else "infinite"
        raise DataFormatError(
            f"{field} has {int(bad.sum())} non-finite value(s); the first, at position {where}, is {kind}",
            hint=f"drop or impute the samples whose {field} is missing before evaluating",
        )
    return numbers


def check_same_length(first: npt.NDArray[np.generic], second: npt.NDArray[np.generic], names: str) -> None:
    if first.shape[0] != second.shape[0]:
        raise DataMismatchError(
            f"{names} differ in length: {first.shape[0]} and {second.shape[0]} samples",
            hint="pass one prediction for every labelled sample, in the same order",
        )


def positive_mask(labels: npt.ArrayLike, pos_label: int | float | str) -> BoolVector:
    """Which samples belong to the positive class ``pos_label`` of a binary task.

    FATE documents ``label == pos_label`` as positive and every other label as negative, so labels may
    be any two values as long as one of them is ``pos_label``; more than two distinct labels is a
    multi-class task. (FATE 1.11's in-place remapping only works for ``pos_label=1``; this applies the
    documented rule for any value.)
    """
    array = as_vector(labels, field="labels")
    if array.dtype.kind in _NUMERIC_KINDS:
        numbers = as_finite(array, field="labels")
        try:
            wanted = float(pos_label)
        except ValueError:
            raise DataMismatchError(
                f"pos_label={pos_label!r} is not a number but the labels are numeric",
                hint="set pos_label to the numeric label of the positive class, e.g. 1",
            ) from None
        is_positive = numbers == wanted
        distinct = np.unique(array)
    else:
        texts = array.astype(str)
        spellings = {str(pos_label)}
        if isinstance(pos_label, float) and pos_label.is_integer():
            spellings.add(str(int(pos_label)))
        is_positive = np.isin(texts, sorted(spellings))
        distinct = np.unique(texts)
    if distinct.size > 2:
        shown = ", ".join(str(v) for v in distinct[:5].tolist()) + (", ..." if distinct.size > 5 else "")
        raise DataFormatError(
            f"binary evaluation needs two label values, got {distinct.size}: {shown}",
            hint="use eval_type 'multi' for multi-class labels, or map the labels to 0 and 1",
        )
    if distinct.size == 2 and not is_positive.any():
        first, second = distinct.tolist()
        raise DataMismatchError(
            f"pos_label={pos_label!r} is neither of the labels {first!r} and {second!r}",
            hint="set pos_label to the label value of the positive class",
        )
    return np.asarray(is_positive, dtype=np.bool_)
