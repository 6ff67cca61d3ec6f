"""The label encoder: how LabelTransform maps labels, and the block functions that apply it.

Labels are numbers here (DataTransform numbers text labels and keeps the numbering in the rows'
``label_mapping``), so an encoder is a list of (label, encoded label) number pairs. A label_encoder
key is read as the text label it names (through label_mapping) or as a number; its value must be a
number. As in FATE 1.9+, labels of the data the encoder does not name keep their value; without an
encoder, the labels in sorted order become 0, 1, 2, ... .

Rows (``instances``) get their label encoded; a model's predictions (``predict`` rows) are mapped
back (encoded label to original) in label, predict_result and the keys of predict_detail, which is
what FATE does when LabelTransform with a model follows a trained model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.computing import Block
from accord.errors import ComponentParameterError, DataFormatError

PREDICT_LABELS = ("label", "predict_result")


def text(value: float) -> str:
    """A label as FATE writes it: whole numbers without a fraction (``1``, not ``1.0``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def resolve(
    given: Mapping[str, Any] | None,
    labels: Sequence[float],
    label_mapping: Mapping[str, int] | None,
    component: str,
) -> list[tuple[float, float]]:
    """The (label, encoded) pairs for ``labels`` (the data's, sorted) and the conf's ``given`` encoder."""
    if given is None:
        return [(label, float(k)) for k, label in enumerate(labels)]
    pairs: list[tuple[float, float]] = []
    for key, value in given.items():
        label = float(label_mapping[key]) if label_mapping and key in label_mapping else as_number(key)
        encoded = as_number(value)
        if label is None:
            raise ComponentParameterError(
                f"{component}: label_encoder key {key!r} is neither a label of the data nor a number",
                hint="name the labels as they appear in the data",
                component=component,
            )
        if encoded is None:  # pragma: no cover - refused at submit (check_supported)
            raise ComponentParameterError(f"{component}: label_encoder[{key!r}] is not a number")
        pairs.append((label, encoded))
    named = {label for label, _ in pairs}
    # FATE 1.9+: labels the encoder does not name keep their value.
    pairs.extend((label, label) for label in labels if label not in named)
    return pairs


def labels_pass(columns: Sequence[str], block: Block) -> np.ndarray:
    """The distinct values of ``columns`` in one partition."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    found = [np.unique(block.column(name).to_numpy(zero_copy_only=False)) for name in columns]
    return np.unique(np.concatenate(found)) if found else np.zeros(0)


def union(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.union1d(left, right)


def _mapped(values: np.ndarray, pairs: Sequence[tuple[float, float]], what: str) -> np.ndarray:
    keys = np.asarray([key for key, _ in pairs], dtype=np.float64)
    targets = np.asarray([value for _, value in pairs], dtype=np.float64)
    order = np.argsort(keys, kind="stable")
    keys, targets = keys[order], targets[order]
    at = np.clip(np.searchsorted(keys, values), 0, max(len(keys) - 1, 0))
    known = (at < len(keys)) & (keys[at] == values) if len(keys) else np.zeros(len(values), dtype=bool)
    if not known.all():
        missing = values[~known][0]
        raise DataFormatError(
            f"{what} {text(missing) if math.isfinite(missing) else missing} is not in the label encoder "
            f"({', '.join(text(k) for k in keys)})",
            hint="give label_encoder every label of the data, or train the LabelTransform on data "
            "that has them",
        )
    mapped: np.ndarray = targets[at]
    return mapped


def _detail(detail: str, lookup: Mapping[float, float]) -> str:
    scores = json.loads(detail)
    moved = {}
    for key, score in scores.items():
        number = as_number(key)
        if number is None or number not in lookup:
            raise DataFormatError(
                f"predict_detail names class {key!r}, which is not in the label encoder",
                hint="map predictions with the LabelTransform model their labels were encoded with",
            )
        moved[text(lookup[number])] = score
    return json.dumps(moved, sort_keys=True)


def encode_block(pairs: list[tuple[float, float]], kind: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """One batch with its labels mapped by ``pairs`` (label columns of instance or predict rows)."""
    names = list(PREDICT_LABELS) if kind == "predict" else ["label"]
    for name in names:
        index = batch.schema.get_field_index(name)
        if index < 0:
            continue
        values = np.asarray(batch.column(index).to_numpy(zero_copy_only=False), dtype=np.float64)
        what = "label" if name == "label" else "predicted label"
        batch = batch.set_column(index, name, pa.array(_mapped(values, pairs, what), type=pa.float64()))
    index = batch.schema.get_field_index("predict_detail")
    if kind == "predict" and index >= 0:
        lookup = dict(pairs)
        details: Any = pc.cast(batch.column(index), pa.string())
        moved = [_detail(str(detail), lookup) for detail in details.to_pylist()]
        batch = batch.set_column(index, "predict_detail", pa.array(moved, type=pa.string()))
    return batch


def inverse(pairs: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Encoded label to original (for a label encoded from several, the last one, as FATE's dict)."""
    return list({value: key for key, value in pairs}.items())
