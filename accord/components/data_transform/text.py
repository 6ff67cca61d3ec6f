"""Text features (data_type "str"): dense cells kept as written, for the one-hot encoders to encode.

FATE 1.11 keeps each cell of a str column as its text: not trimmed, and its missing markers stay text
(its dense reader turns them into NaN for numeric types only). Accord reads text this way from dense
rows. What FATE would run on text cells but Accord does not yet (missing fill, outlier replace, sparse
and tag rows, and text mixed with numeric columns through exclusive_data_type) is refused with the
option named, at submit from the parameters and at run time from the table's upload meta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.errors import ComponentFeatureUnsupported

TEXT = "str"


def check_text(
    component: str,
    *,
    data_type: str,
    exclusive_data_type: Mapping[str, str] | None,
    input_format: str,
    missing_fill: bool,
    outlier_replace: bool,
) -> None:
    """Refuse (10127) a text reading Accord does not do; nothing to say for numeric data."""
    exclusive = dict(exclusive_data_type or {})
    if data_type != TEXT:
        texts = sorted(name for name, kind in exclusive.items() if kind == TEXT)
        if texts:
            raise ComponentFeatureUnsupported(
                f"{component}: exclusive_data_type 'str' for {', '.join(texts)} mixes text columns with "
                f"numeric ({data_type}) ones, which Accord does not do",
                hint="set data_type to 'str' for every column (and one-hot encode them), or drop these "
                "columns from exclusive_data_type",
                field="exclusive_data_type",
            )
        return
    numeric = sorted(name for name, kind in exclusive.items() if kind != TEXT)
    if numeric:
        raise ComponentFeatureUnsupported(
            f"{component}: exclusive_data_type makes {', '.join(numeric)} numeric while data_type 'str' "
            "keeps the other columns as text; Accord does not mix text and numeric features",
            hint="drop exclusive_data_type (the one-hot encoders read numbers written as text), or set "
            "data_type to float64",
            field="exclusive_data_type",
        )
    refusals = {
        "input_format": (
            input_format != "dense",
            f"input_format {input_format!r} with data_type 'str': Accord keeps text from dense rows only",
            "use input_format dense, or data_type float64",
        ),
        "missing_fill": (
            missing_fill,
            "missing_fill with data_type 'str': Accord does not fill text cells",
            "set missing_fill false (missing text stays as written and one-hot encodes as its own "
            "value), or use data_type float64",
        ),
        "outlier_replace": (
            outlier_replace,
            "outlier_replace with data_type 'str': Accord does not replace text cells",
            "set outlier_replace false, or use data_type float64",
        ),
    }
    for field, (refused, what, fix) in refusals.items():
        if refused:
            raise ComponentFeatureUnsupported(f"{component}: {what}", hint=fix, field=field)


def text_cells(cells: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray:
    """One column's cells as written (an absent cell as empty text), as an object array of str."""
    array: pa.Array[Any] = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    return np.asarray(array.fill_null("").to_numpy(zero_copy_only=False), dtype=object)
