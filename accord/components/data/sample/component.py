"""The FederatedSample component (FATE 1.11's Sampler).

Hetero (task_type hetero): the guest draws (stratified by its labels, or by its rows' weights for
exact_by_weight) and sends every host the drawn ids, in draw order, and the new id of each copy when
rows repeat; every party then keeps its own rows of those ids, so both sides of a model see the
same ids. Hosts need no labels. Homo: each party draws from its own rows, nothing crosses the
federation. Only ids (and labels or weights, to draw) come to this process; the rows stay on the
engine. A sample learns nothing: in a predict job it draws again, as FATE's transform does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.components.data.sample import draw
from accord.components.data.sample.params import SampleParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.components.sdk.dataset import LABEL, SID, WEIGHT
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import ComponentFeatureUnsupported, DataFormatError

Context = ComponentContext[SampleParam]
TAG = "sample_ids"

Chunk = tuple[list[str], np.ndarray | None]


class FederatedSample(ComponentBase[SampleParam]):
    params = SampleParam

    def check_supported(self, params: SampleParam, component: str) -> None:
        if params.need_run and params.mode == "exact_by_weight" and params.task_type == "homo":
            # FATE runs exact_by_weight in hetero jobs only (its homo path has no weights to draw by).
            raise ComponentFeatureUnsupported(
                f"{component}: FederatedSample mode exact_by_weight with task_type homo is not supported",
                hint="use task_type hetero, or mode random / stratified",
                field="mode",
            )

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        if not ctx.params.need_run:
            ctx.save_table(data)
            return
        if ctx.params.task_type == "homo" or ctx.role == "guest":
            chosen = decide(ctx.params, data, ctx.component)
            if ctx.params.task_type == "hetero" and ctx.party_ids("host"):
                ctx.transfer.remote(
                    {"sources": chosen.sources, "new_ids": chosen.new_ids}, role="host", tag=TAG
                )
            _record(ctx, chosen)
            sources, new_ids = chosen.sources, chosen.new_ids
        else:
            sent: dict[str, Any] = ctx.transfer.get(role="guest", tag=TAG, index=0)
            sources, new_ids = list(sent["sources"]), sent["new_ids"]
        sampled = apply(data, sources, new_ids)
        count = ctx.save_table(sampled)
        ctx.log.info("%s: %d rows sampled by %s %s", ctx.component, count, ctx.params.mode, ctx.params.method)

    def predict(self, ctx: Context) -> None:
        self.fit(ctx)


def decide(params: SampleParam, data: DataTable, component: str) -> draw.Draw:
    """The draw from this party's rows."""
    ids, values = _collect(data, params.mode, component)
    if params.mode == "exact_by_weight":
        assert values is not None
        return draw.exact_draw(ids, values)
    upsample = params.method == "upsample"
    if params.mode == "random":
        assert isinstance(params.fractions, int | float)
        return draw.random_draw(ids, float(params.fractions), upsample, params.random_state)
    assert values is not None and isinstance(params.fractions, list)
    pairs = [(label, float(rate)) for label, rate in params.fractions]
    try:
        return draw.stratified_draw(ids, values, pairs, upsample, params.random_state)
    except DataFormatError as error:
        raise DataFormatError(f"{component}: {error.message}", hint=error.hint) from None


def apply(data: DataTable, sources: Sequence[str], new_ids: Sequence[str] | None) -> DataTable:
    """The rows of ``sources``: filtered in input order, or, with new ids, one row per copy."""
    if new_ids is None:
        chosen = pa.array([str(sid) for sid in sources], type=pa.string())
        return data.with_table(data.table.filter(functools.partial(_keep, chosen)))
    copies: dict[str, list[str]] = {}
    for source, new in zip(sources, new_ids, strict=True):
        copies.setdefault(str(source), []).append(str(new))
    return data.with_table(data.table.map_partitions_with_index(functools.partial(_expand, copies)))


def _keep(ids: pa.Array[Any], batch: pa.RecordBatch) -> pa.Array[Any]:
    return pc.is_in(batch.column(SID), value_set=ids)


def _expand(copies: Mapping[str, list[str]], index: int, block: Block) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    rows: list[int] = []
    new_sids: list[str] = []
    for row, sid in enumerate(block.column(SID).to_pylist()):
        for new in copies.get(str(sid), ()):
            rows.append(row)
            new_sids.append(new)
    table = pa.Table.from_batches([block]).take(np.asarray(rows, dtype=np.int64))
    table = table.set_column(table.column_names.index(SID), SID, pa.array(new_sids, type=pa.string()))
    return concat_batches(table.to_batches(), table.schema)


def _ids_and(column: str | None, block: Block) -> list[Chunk]:
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    ids = [str(sid) for sid in block.column(SID).to_pylist()]
    if column is None or column not in block.schema.names:
        return [(ids, None)]
    values = np.asarray(block.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)
    return [(ids, values)]


def _concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def _collect(data: DataTable, mode: str, component: str) -> tuple[list[str], np.ndarray | None]:
    column = {"stratified": LABEL, "exact_by_weight": WEIGHT}.get(mode)
    nothing: list[Chunk] = []
    parts = data.table.aggregate(nothing, functools.partial(_ids_and, column), _concat)
    ids = [sid for chunk, _ in parts for sid in chunk]
    if column is None:
        return ids, None
    if any(values is None for chunk, values in parts if chunk):
        what = "labels" if column == LABEL else "weights"
        raise DataFormatError(
            f"{component}: mode {mode} draws by {what} and this party's rows have none",
            hint="read the label in DataTransform (with_label true)"
            if column == LABEL
            else "put a SampleWeight before FederatedSample, or use mode random",
        )
    arrays = [values for _, values in parts if values is not None]
    return ids, np.concatenate(arrays) if arrays else np.zeros(0)


def _record(ctx: Context, chosen: draw.Draw) -> None:
    """FATE's callback: the sample count (per label and the original counts when stratified)."""
    mode = ctx.params.mode
    summary: dict[str, Any] = {"sample_count": chosen.sample_count}
    if isinstance(chosen.sample_count, dict):
        points = [[key, count] for key, count in chosen.sample_count.items()]
        ctx.tracker.log_metric("sample_count", mode, points, metric_type="SAMPLE_TABLE")
        original = chosen.original_count or {}
        ctx.tracker.log_metric(
            "original_count",
            mode,
            [[key, count] for key, count in original.items()],
            metric_type="SAMPLE_TABLE",
        )
        summary["original_count"] = original
    else:
        ctx.tracker.log_metric(
            "sample_count", mode, [["count", chosen.sample_count]], metric_type="SAMPLE_TEXT"
        )
    ctx.tracker.set_summary(summary)


def _input(ctx: Context) -> DataTable:
    return ctx.first_input()
