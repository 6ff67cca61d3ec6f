"""HeteroDataSplit and HomoDataSplit: a party's rows cut into train_data, validate_data and test_data.

Hetero: the guest decides (its labels stratify the split), then sends each host the three id lists,
and every party keeps its own rows of each list, so both sides of a model see the same ids. The host
needs no labels. Homo: each party splits its own rows on its own, nothing crosses the federation.

Only the ids (and labels, to stratify) come to this process; the rows stay on the engine and each
output is the input filtered to one part's ids, in input order.
"""

from __future__ import annotations

import collections
import functools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.components.data.split.params import DataSplitParam
from accord.components.data.split.sizes import Assignment, assign
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.components.sdk.dataset import LABEL, SID
from accord.computing import Block
from accord.errors import DataFormatError

Context = ComponentContext[DataSplitParam]
OUTPUTS = ("train_data", "validate_data", "test_data")
METRIC = "data_split"
ROUND = 3


Chunk = tuple[list[Any], np.ndarray | None]


def _ids_and_labels(with_labels: bool, block: Block) -> list[Chunk]:
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    ids = block.column(SID).to_pylist()
    if not with_labels:
        return [(ids, None)]
    column = block.column(LABEL) if LABEL in block.schema.names else None
    labels = None if column is None else np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    return [(ids, labels)]


def _concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def _keep(ids: pa.Array[Any], batch: pa.RecordBatch) -> pa.Array[Any]:
    return pc.is_in(batch.column(SID), value_set=ids)


def _input(ctx: Context) -> DataTable:
    return ctx.first_input()


def _collect(data: DataTable, with_labels: bool, component: str) -> tuple[np.ndarray, np.ndarray | None]:
    nothing: list[Chunk] = []
    parts = data.table.aggregate(nothing, functools.partial(_ids_and_labels, with_labels), _concat)
    ids = np.array([sid for chunk, _ in parts for sid in chunk], dtype=object)
    if not with_labels:
        return ids, None
    if any(labels is None for _, labels in parts):
        raise DataFormatError(
            f"{component}: a stratified split needs labels and this party's rows have none",
            hint="set stratified false, or read the label in DataTransform (with_label true)",
        )
    arrays = [labels for _, labels in parts if labels is not None]
    labels = np.concatenate(arrays) if arrays else np.zeros(0)
    if len(labels) != len(ids):
        raise DataFormatError(f"{component}: a stratified split needs a label on every row")
    return ids, labels


def _save(ctx: Context, data: DataTable, parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    for name, ids in zip(OUTPUTS, parts, strict=True):
        chosen = pa.array([str(sid) for sid in ids], type=pa.string())
        ctx.save_table(data.with_table(data.table.filter(functools.partial(_keep, chosen))), output=name)


def _passthrough(ctx: Context, data: DataTable) -> None:
    """need_run false: the rows go on as train_data; validate_data and test_data are empty."""
    ctx.save_table(data, output="train_data")
    nothing = pa.array([], type=pa.string())
    for name in OUTPUTS[1:]:
        ctx.save_table(data.with_table(data.table.filter(functools.partial(_keep, nothing))), output=name)


def _class_freq(labels: np.ndarray, keys: list[Any]) -> dict[str, int]:
    counted = collections.Counter(_label_key(value) for value in labels)
    return {str(key): int(counted.get(key, 0)) for key in keys}


def _label_key(value: float) -> Any:
    number = float(value)
    return int(number) if number.is_integer() else number


def _record(
    ctx: Context, parts: tuple[np.ndarray, np.ndarray, np.ndarray], assignment: Assignment | None
) -> None:
    """FATE's callback: counts and shares of each part and, when stratified, its label frequencies."""
    train, validate, test = (len(part) for part in parts)
    total = train + validate + test
    metas: dict[str, Any] = {
        f"{METRIC}_count_info": {"train": train, "validate": validate, "test": test, "original": total},
        f"{METRIC}_ratio_info": {
            name: round(rows / total, ROUND) if total else 0.0
            for name, rows in (("train", train), ("validate", validate), ("test", test))
        },
        "stratified": ctx.params.stratified,
    }
    if assignment is not None and assignment.labels is not None:
        points = ctx.params.sorted_split_points()
        every = np.concatenate(assignment.labels)
        keys: list[Any] = (
            list(range(len(points) + 1)) if points is not None else sorted({_label_key(v) for v in every})
        )
        info: dict[str, Any] = {"original": _class_freq(every, keys)}
        for name, labels in zip(("train", "validate", "test"), assignment.labels, strict=True):
            info[name] = _class_freq(labels, keys)
        if points is not None:
            info.update(split_points=points, continuous_label=True)
        else:
            info.update(label_names=[str(key) for key in keys], continuous_label=False)
        metas[f"{METRIC}_label_info"] = info
    ctx.tracker.log_metric("train", METRIC, [[METRIC, 0]], metric_type="DATA_SPLIT", meta=metas)
    ctx.tracker.set_summary(metas)
    ctx.log.info("%s: %d train, %d validate, %d test rows", ctx.component, train, validate, test)


def split_locally(ctx: Context, data: DataTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This party decides its own split (the hetero guest, every homo party) and saves it."""
    ids, labels = _collect(data, ctx.params.stratified, ctx.component)
    assignment = assign(ids, labels, ctx.params, ctx.component)
    parts = (assignment.train, assignment.validate, assignment.test)
    _save(ctx, data, parts)
    _record(ctx, parts, assignment)
    return parts


class HomoDataSplit(ComponentBase[DataSplitParam]):
    """Each party splits its own rows (FATE: the same parameters, applied by every party alone)."""

    params = DataSplitParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        if not ctx.params.need_run:
            _passthrough(ctx, data)
            return
        split_locally(ctx, data)

    def predict(self, ctx: Context) -> None:
        # A split learns nothing: in a predict job FATE passes the rows on.
        _passthrough(ctx, _input(ctx))


class HeteroDataSplit(ComponentBase[DataSplitParam]):
    """The guest splits and tells the hosts which ids go where; hosts keep their rows of each part."""

    params = DataSplitParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        if not ctx.params.need_run:
            _passthrough(ctx, data)
            return
        if ctx.role == "guest":
            parts = split_locally(ctx, data)
            if ctx.party_ids("host"):
                for name, ids in zip(OUTPUTS, parts, strict=True):
                    ctx.transfer.remote([str(sid) for sid in ids], role="host", tag=f"ids.{name}")
            return
        received = tuple(
            np.asarray(ctx.transfer.get(role="guest", tag=f"ids.{name}", index=0), dtype=object)
            for name in OUTPUTS
        )
        parts = (received[0], received[1], received[2])
        _save(ctx, data, parts)
        _record(ctx, parts, None)

    def predict(self, ctx: Context) -> None:
        _passthrough(ctx, _input(ctx))
