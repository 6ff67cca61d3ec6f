"""The rows one party's components pass to each other: a pyarrow table and what its columns mean.

Three kinds, as in FATE's pipeline:

- ``raw``: a table as uploaded, the id column and the value columns as text (what Reader outputs);
- ``instances``: parsed rows (what DataTransform and everything after it output): ``sid``, an optional
  ``label`` and ``weight``, and ``features``, one fixed-size list of float64 per row whose names are the
  header; or, for text features (DataTransform's data_type "str", read only by the one-hot encoders),
  ``text_features``, one fixed-size list of strings per row, in place of ``features``;
- ``predict``: a model's output: ``sid``, ``label``, ``predict_result``, ``predict_score``,
  ``predict_detail`` (JSON) and ``type`` (train, validate or predict), as FATE writes them.

Saved as Parquet with the meta in the file's schema metadata, so a file is self-describing.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from accord.errors import DataFormatError

DatasetKind = Literal["raw", "instances", "predict"]
_META_KEY = b"accord.dataset"

SID = "sid"
LABEL = "label"
WEIGHT = "weight"
FEATURES = "features"
# Text features live in a column of their own, so code reading ``features`` never mistakes them for numbers.
TEXT_FEATURES = "text_features"


@dataclass(frozen=True)
class Dataset:
    table: pa.Table
    kind: DatasetKind
    # Feature names (instances) or value column names (raw), in column order.
    header: tuple[str, ...] = ()
    # The id column's name in the source file (FATE's sid name, "id" by default).
    sid_name: str = "id"
    label_name: str | None = None
    # Anything else a component wants to keep with the rows (delimiter, output format, label type...).
    extra: Mapping[str, Any] = field(default_factory=dict)

    # ---- building -------------------------------------------------------------------------------

    @classmethod
    def instances(
        cls,
        ids: Sequence[str] | np.ndarray,
        features: np.ndarray,
        *,
        header: Sequence[str],
        labels: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        sid_name: str = "id",
        label_name: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Dataset:
        matrix = np.asarray(features, dtype=np.float64)
        _check_width(matrix, header)
        columns = _row_columns(ids, labels, weights)
        width = matrix.shape[1]
        # Rows with no features (ids and labels only) have no features column: a list of size zero
        # does not survive Parquet.
        if width:
            flat = pa.array(np.ascontiguousarray(matrix).reshape(-1), type=pa.float64())
            columns[FEATURES] = pa.FixedSizeListArray.from_arrays(flat, width)
        return cls(
            pa.table(columns),
            "instances",
            header=tuple(header),
            sid_name=sid_name,
            label_name=label_name if labels is not None else None,
            extra=dict(extra or {}),
        )

    @classmethod
    def text_instances(
        cls,
        ids: Sequence[str] | np.ndarray,
        texts: np.ndarray,
        *,
        header: Sequence[str],
        labels: np.ndarray | None = None,
        sid_name: str = "id",
        label_name: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Dataset:
        """Rows whose features are text (each cell as written), as ``text_features``."""
        matrix = np.asarray(texts, dtype=object)
        _check_width(matrix, header)
        columns = _row_columns(ids, labels, None)
        if matrix.shape[1]:
            flat = pa.array([str(cell) for cell in matrix.reshape(-1)], type=pa.string())
            columns[TEXT_FEATURES] = pa.FixedSizeListArray.from_arrays(flat, matrix.shape[1])
        return cls(
            pa.table(columns),
            "instances",
            header=tuple(header),
            sid_name=sid_name,
            label_name=label_name if labels is not None else None,
            extra=dict(extra or {}),
        )

    @classmethod
    def predictions(
        cls,
        ids: Sequence[str] | np.ndarray,
        *,
        labels: np.ndarray,
        predict_result: np.ndarray,
        predict_score: np.ndarray,
        predict_detail: Sequence[Mapping[str, float]],
        data_type: Sequence[str] | str,
        extra: Mapping[str, Any] | None = None,
    ) -> Dataset:
        count = len(ids)
        types = [data_type] * count if isinstance(data_type, str) else list(data_type)
        table = pa.table(
            {
                SID: pa.array([str(i) for i in ids], type=pa.string()),
                "label": pa.array(np.asarray(labels, dtype=np.float64)),
                "predict_result": pa.array(np.asarray(predict_result, dtype=np.float64)),
                "predict_score": pa.array(np.asarray(predict_score, dtype=np.float64)),
                "predict_detail": pa.array([json.dumps(dict(d), sort_keys=True) for d in predict_detail]),
                "type": pa.array(types, type=pa.string()),
            }
        )
        return cls(table, "predict", extra=dict(extra or {}))

    # ---- reading --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def ids(self) -> np.ndarray:
        return np.asarray(self.table.column(SID).to_pylist(), dtype=object)

    @property
    def is_text(self) -> bool:
        """Whether the features are text (kept by DataTransform's data_type "str")."""
        return TEXT_FEATURES in self.table.column_names

    def features(self) -> np.ndarray:
        self._require("instances", "features")
        if self.is_text:
            raise text_features_error(self.header, self.extra)
        if FEATURES not in self.table.column_names:
            return np.zeros((len(self), 0))
        column: Any = self.table.column(FEATURES).combine_chunks()
        values = column.flatten().to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64).reshape(len(self), len(self.header))

    def text_features(self) -> np.ndarray:
        """The text features as a (rows, header) array of str."""
        self._require("instances", "text features")
        if not self.is_text:
            raise DataFormatError("the rows hold numeric features, not text ones")
        column: Any = self.table.column(TEXT_FEATURES).combine_chunks()
        values = column.flatten().to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=object).reshape(len(self), len(self.header))

    def labels(self) -> np.ndarray | None:
        if LABEL not in self.table.column_names:
            return None
        return np.asarray(self.table.column(LABEL).to_numpy(), dtype=np.float64)

    def weights(self) -> np.ndarray | None:
        if WEIGHT not in self.table.column_names:
            return None
        return np.asarray(self.table.column(WEIGHT).to_numpy(), dtype=np.float64)

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self.table.column(name).to_numpy(zero_copy_only=False))

    def take(self, rows: np.ndarray | Sequence[int]) -> Dataset:
        """These rows, in this order."""
        taken = self.table.take(np.asarray(rows, dtype=np.int64))
        return Dataset(taken, self.kind, self.header, self.sid_name, self.label_name, self.extra)

    def with_extra(self, **extra: Any) -> Dataset:
        return Dataset(
            self.table, self.kind, self.header, self.sid_name, self.label_name, {**self.extra, **extra}
        )

    def _require(self, kind: DatasetKind, what: str) -> None:
        if self.kind != kind:
            raise DataFormatError(
                f"{what} needs {kind} rows but got {self.kind} rows",
                hint="put a DataTransform between Reader and this component" if self.kind == "raw" else None,
            )

    # ---- files ----------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        """What the columns mean, as saved with the rows (also what a block-table output carries)."""
        return {
            "kind": self.kind,
            "header": list(self.header),
            "sid_name": self.sid_name,
            "label_name": self.label_name,
            "extra": dict(self.extra),
        }

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        pq.write_table(self.table.replace_schema_metadata(with_meta(self.table.schema, self.meta())), partial)
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> Dataset:
        table = pq.read_table(path)
        return cls.of(table, read_meta(table.schema, path))

    @classmethod
    def of(cls, table: pa.Table, meta: Mapping[str, Any]) -> Dataset:
        return cls(
            table,
            meta["kind"],
            header=tuple(meta["header"]),
            sid_name=meta["sid_name"],
            label_name=meta["label_name"],
            extra=meta.get("extra", {}),
        )


def _check_width(matrix: np.ndarray, header: Sequence[str]) -> None:
    if matrix.ndim != 2 or matrix.shape[1] != len(header):
        raise DataFormatError(
            f"a feature matrix of shape {matrix.shape} does not match a header of {len(header)} names"
        )


def _row_columns(
    ids: Sequence[str] | np.ndarray, labels: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, Any]:
    columns: dict[str, Any] = {SID: pa.array([str(i) for i in ids], type=pa.string())}
    if labels is not None:
        columns[LABEL] = pa.array(np.asarray(labels, dtype=np.float64))
    if weights is not None:
        columns[WEIGHT] = pa.array(np.asarray(weights, dtype=np.float64))
    return columns


def text_features_error(header: Sequence[str], extra: Mapping[str, Any]) -> DataFormatError:
    """What a component computing on numbers says when given text features."""
    # An encoder's output names the columns it left as text; DataTransform's output is all text.
    named = extra.get("text_columns")
    columns = [str(name) for name in named] if isinstance(named, list) and named else list(header)
    shown = ", ".join(columns[:10]) + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")
    return DataFormatError(
        f"the input rows hold text features ({shown}), and this component computes on numbers",
        hint="encode the text columns with OneHotEncoder/HomoOneHotEncoder first (name them in its "
        "transform_col_indexes / transform_col_names), or set DataTransform's data_type to float64",
    )


def with_meta(schema: pa.Schema, meta: Mapping[str, Any]) -> dict[bytes, bytes]:
    """``schema``'s metadata with the dataset meta added."""
    schema_meta: dict[bytes, bytes] = dict(schema.metadata or {})
    schema_meta[_META_KEY] = json.dumps(meta).encode()
    return schema_meta


def read_meta(schema: pa.Schema, path: Path) -> dict[str, Any]:
    raw_meta = (schema.metadata or {}).get(_META_KEY)
    if raw_meta is None:
        raise DataFormatError(f"{path} is not a component output (it has no dataset meta)")
    meta: dict[str, Any] = json.loads(raw_meta)
    return meta
