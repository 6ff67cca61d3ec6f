"""The rows a party's scorer (ComponentBase.scorer of the model's component) scores online.

The guest's partial score of a row comes from the features the request carries; a host's from its
lookup table. The component's scorer does the arithmetic (for HeteroLR ``x_g · w_g + b`` on the guest,
``x_h · w_h`` on a host, then ``sigmoid(Σ)`` against the threshold), exactly as its offline predict.

A host's partials never change while its model is published, so they are computed once per lookup
table row at load time: a request then costs a dictionary look-up, not a parse and a dot product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.data_transform.component import predict_passes, read
from accord.components.data_transform.model import TransformModel
from accord.components.sdk import Dataset, PartyScorer
from accord.components.sdk.dataset import SID
from accord.errors import ArgumentError, DataMismatchError
from accord.serving.messages import TableName
from accord.storage import TableStore


def guest_partials(scorer: PartyScorer, rows: Sequence[tuple[str, Mapping[str, float]]]) -> np.ndarray:
    """The guest's partial per ``(sample id, features by name)``; features beyond its header are ignored."""
    features = np.empty((len(rows), len(scorer.header)), dtype=np.float64)
    for row, (sample_id, values) in enumerate(rows):
        try:
            features[row] = [values[name] for name in scorer.header]
        except KeyError:
            missing = [name for name in scorer.header if name not in values]
            raise ArgumentError(
                f"sample {sample_id!r} lacks {len(missing)} of the guest's {len(scorer.header)} "
                f"features: {', '.join(missing[:20])}",
                hint="send every feature the guest's model was trained on, by name, in feature_data",
                missing=missing,
            ) from None
    return scorer.partial(features)


def lookup_partials(
    tables: TableStore, table: TableName, transform: Mapping[str, Any], part: PartyScorer
) -> dict[str, float]:
    """Sample id → the host's partial for every row of its table, parsed by the training DataTransform.

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
    partials = part.partial(features)
    return dict(zip((str(sid) for sid in parsed.ids), partials.tolist(), strict=True))
