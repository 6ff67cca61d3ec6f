"""A party's part of a HeteroLR model in memory, and the arithmetic the offline predict does with it.

The guest's partial score of a row is ``x_g · w_g + b`` from the features the request carries; a
host's is ``x_h · w_h`` from its lookup table. The score is ``sigmoid(guest + Σ hosts)`` and the label
``score > threshold``, exactly as HeteroLR's predict computes them (accord/components/hetero_lr).

A host's partials never change while its model is published, so they are computed once per lookup
table row at load time: a request then costs a dictionary look-up, not a parse and a dot product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.data_transform.component import predict_passes, read
from accord.components.data_transform.model import TransformModel
from accord.components.hetero_lr.common import sigmoid
from accord.components.sdk import Dataset
from accord.components.sdk.dataset import SID
from accord.errors import ArgumentError, DataFormatError, DataMismatchError
from accord.serving.messages import TableName
from accord.storage import TableStore


@dataclass(frozen=True)
class LinearPart:
    """One party's weights in its header's order; the intercept and threshold matter on the guest only."""

    component: str
    header: tuple[str, ...]
    weights: np.ndarray
    intercept: float
    threshold: float

    @classmethod
    def of(cls, model: Mapping[str, Any], component: str) -> LinearPart:
        param, meta = model.get("param"), model.get("meta")
        if not isinstance(param, dict) or not isinstance(meta, dict):
            raise DataFormatError(
                f"the stored model of {component} is not a HeteroLR model (no param or meta section)",
                hint="publish a model trained by HeteroLR",
            )
        weight = param.get("weight")
        header = param.get("header")
        if not isinstance(weight, dict) or not isinstance(header, list) or set(weight) != set(header):
            raise DataFormatError(
                f"the stored model of {component} has no weight for each feature of its header",
                hint="train the model again; its file is not what HeteroLR writes",
            )
        return cls(
            component=component,
            header=tuple(str(name) for name in header),
            weights=np.array([float(weight[name]) for name in header], dtype=np.float64),
            intercept=float(param.get("intercept", 0.0)),
            threshold=float(meta.get("threshold", 0.5)),
        )

    def guest_partials(self, rows: Sequence[tuple[str, Mapping[str, float]]]) -> np.ndarray:
        """``x · w + b`` per ``(sample id, features by name)``; features beyond the header are ignored."""
        features = np.empty((len(rows), len(self.header)), dtype=np.float64)
        for row, (sample_id, values) in enumerate(rows):
            try:
                features[row] = [values[name] for name in self.header]
            except KeyError:
                missing = [name for name in self.header if name not in values]
                raise ArgumentError(
                    f"sample {sample_id!r} lacks {len(missing)} of the guest's {len(self.header)} "
                    f"features: {', '.join(missing[:20])}",
                    hint="send every feature the guest's model was trained on, by name, in feature_data",
                    missing=missing,
                ) from None
        # The offline predict adds the intercept to X·w before the hosts' parts; same order here.
        partials: np.ndarray = features @ self.weights + self.intercept
        return partials

    def outcome(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores and 0/1 labels of the summed partials."""
        scores = sigmoid(totals)
        return scores, (scores > self.threshold).astype(np.int32)


def lookup_partials(
    tables: TableStore, table: TableName, transform: Mapping[str, Any], part: LinearPart
) -> dict[str, float]:
    """Sample id → ``x_h · w_h`` for every row of a host's table, parsed by the training DataTransform.

    The rows go through the same DataTransform code and model as in a predict job (header, missing
    fill, outlier replace), so a row scores online as it would offline.
    """
    raw = tables.read(table.namespace, table.name)
    columns = raw.table.columns
    # The Reader component's raw dataset, which is what DataTransform parses.
    dataset = Dataset(
        pa.Table.from_arrays(columns, names=[SID, *(f"c{index}" for index in range(1, len(columns)))]),
        "raw",
        header=tuple(raw.header),
        sid_name=raw.sid or "id",
        extra={"delimiter": raw.delimiter, "meta": raw.info.schema.get("meta")},
    )
    model = TransformModel.from_json(transform, component="DataTransform")
    if not model.need_run or model.settings is None:
        raise ArgumentError(
            f"the DataTransform before {part.component} ran with need_run false, so the rows of {table} "
            "have no parsed features to score",
            hint="publish a model whose DataTransform parses the host's rows",
        )
    parsed = read(
        dataset,
        model.settings,
        predict_passes(model),
        header=model.header,
        label_mapping=model.label_mapping,
    )
    absent = [name for name in part.header if name not in parsed.header]
    if absent:
        raise DataMismatchError(
            f"{part.component} has weights for {', '.join(absent[:20])}, which DataTransform does not output",
            hint="publish a model whose HeteroLR was trained on its DataTransform's output",
        )
    positions = [parsed.header.index(name) for name in part.header]
    features = (
        parsed.features if positions == list(range(len(parsed.header))) else parsed.features[:, positions]
    )
    partials = features @ part.weights
    return dict(zip((str(sid) for sid in parsed.ids), partials.tolist(), strict=True))
