"""PSI: how far each feature's distribution moved from train_data (expected) to validate_data (actual).

Each party computes PSI of its own features on its own two tables; nothing crosses the federation.
The model (``{"module": "PSI", "header", "psi": {column: total PSI}, ...}``) is what selection's
psi_filter reads. Everything runs in passes over the blocks: split points from per-partition sketches,
then bin counts of each table.
"""

from __future__ import annotations

import functools

import numpy as np

from accord.components.feature.binning.blocks import quantile_points
from accord.components.feature.psi import compute
from accord.components.feature.psi.params import PSIParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import ComponentFeatureUnsupported, DataFormatError, DataMismatchError, OperatingError

Context = ComponentContext[PSIParam]


def _table(ctx: Context, slot: str) -> DataTable:
    data = ctx.input_table(slot)
    if data is None:
        raise OperatingError(
            f"{ctx.component} compares train_data with validate_data and has no {slot}",
            hint='wire both: "input": {"data": {"train_data": [...], "validate_data": [...]}}',
        )
    if data.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} bins parsed feature rows, but its {slot} holds {data.kind} rows",
            hint="put a DataTransform between the Reader and PSI",
        )
    return data


def _counts(data: DataTable, columns: list[int], points: list[list[float]], bins: int) -> np.ndarray:
    nothing: np.ndarray | None = None
    fn = functools.partial(compute.count_block, data.meta(), columns, points, bins)
    found = data.table.aggregate(nothing, fn, compute.add)
    return found if found is not None else np.zeros((len(columns), bins + 1), dtype=np.int64)


class PSI(ComponentBase[PSIParam]):
    params = PSIParam

    def check_supported(self, params: PSIParam, component: str) -> None:
        if params.dense_missing_val is not None:
            raise ComponentFeatureUnsupported(
                f"{component}: PSI's dense_missing_val is not supported",
                hint="leave it null: missing cells (NaN after DataTransform, e.g. with missing_fill false) "
                "are counted in PSI's missing bin",
                field="dense_missing_val",
            )

    def fit(self, ctx: Context) -> None:
        expected = _table(ctx, "train_data")
        if not ctx.params.need_run:
            ctx.save_table(expected)
            return
        actual = _table(ctx, "validate_data")
        header = list(dict.fromkeys(expected.header))
        if set(header) != set(actual.header):
            raise DataMismatchError(
                f"{ctx.component}: train_data and validate_data have different feature columns",
                hint="compute PSI between two tables transformed alike (the same DataTransform model)",
            )
        bins = ctx.params.max_bin_num
        mine = [expected.header.index(name) for name in header]
        theirs = [actual.header.index(name) for name in header]
        points = quantile_points(expected, mine, bins, float(ctx.params.binning_error))
        empty = [name for name, found in zip(header, points, strict=True) if not found]
        if empty:
            raise DataFormatError(
                f"{ctx.component}: train_data columns {empty[:10]} have no values",
                hint="drop or impute the empty columns before PSI",
            )
        rows = (expected.table.count(), actual.table.count())
        counted = (_counts(expected, mine, points, bins), _counts(actual, theirs, points, bins))
        result = compute.model(header, points, counted[0], counted[1], rows, bins)
        ctx.save_model(result)
        ctx.tracker.set_summary({"psi_scores": result["psi"]})
        ctx.log.info("%s: PSI of %d features over %d and %d rows", ctx.component, len(header), *rows)
