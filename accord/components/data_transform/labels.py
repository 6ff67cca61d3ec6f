"""Labels as numbers, by label_type.

``int`` / ``int64`` / ``long`` labels must be whole numbers (``1`` and ``1.0`` both give 1), ``float``
labels any number. FATE keeps ``str`` labels as text and leaves numbering them to LabelTransform; the
label column here is numeric, so text labels are numbered the way LabelTransform numbers them by default:
the distinct labels in sorted order get 0, 1, 2, ... . Text labels that are all numbers stay those
numbers (binary ``"0"`` / ``"1"`` stay 0 and 1). A predict run reuses the training numbering and numbers
labels it has not seen after the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.data_transform.cells import parse_numbers
from accord.components.data_transform.params import INT_TYPES
from accord.errors import DataFormatError


def convert_labels(
    texts: Sequence[str] | pa.Array[Any],
    ids: np.ndarray,
    label_type: str,
    known: Mapping[str, int] | None = None,
) -> tuple[np.ndarray, dict[str, int] | None]:
    """The labels as float64, and the text-to-number mapping when text labels were numbered."""
    cells = texts if isinstance(texts, pa.Array) else pa.array(list(texts), type=pa.string())
    trimmed = [str(text).strip() if text is not None else "" for text in cells.to_pylist()]
    numbers, parsed = parse_numbers(pa.array(trimmed, type=pa.string()))
    if label_type == "str":
        if known is None and parsed.all():
            return numbers, None
        return _numbered(trimmed, dict(known or {}))
    if not parsed.all():
        row = int(np.flatnonzero(~parsed)[0])
        raise DataFormatError(
            f"row {ids[row]!r}: label {trimmed[row]!r} is not a number but label_type is {label_type!r}",
            hint="set label_type to 'str' for text labels, or fix the label column",
        )
    if label_type in INT_TYPES:
        fractional = np.isfinite(numbers) & (np.floor(numbers) != numbers)
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise DataFormatError(
                f"row {ids[row]!r}: label {trimmed[row]!r} is not a whole number "
                f"but label_type is {label_type!r}",
                hint="set label_type to 'float' for continuous labels (regression)",
            )
    return numbers, None


def _numbered(labels: list[str], mapping: dict[str, int]) -> tuple[np.ndarray, dict[str, int]]:
    unseen = sorted(set(labels) - set(mapping))
    start = max(mapping.values(), default=-1) + 1
    mapping.update({label: start + i for i, label in enumerate(unseen)})
    return np.asarray([mapping[label] for label in labels], dtype=np.float64), mapping
