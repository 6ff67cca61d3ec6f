"""SampleWeight: a weight on every row, from class weights or from a feature column (FATE 1.11).

fit: with ``sample_weight_name`` the named feature column becomes the weight (divided by its mean with
``normalize``) and leaves the features and header; otherwise ``class_weight`` gives each label's weight
("balanced": n_samples / (n_classes * rows of the class), counted on these rows). The model keeps the
mode, the class weights and the column settings. predict (a model input, or a deployed model) applies
the model to other rows as FATE's transform does: the stored class weights, or the named column again
(normalized by the new rows' mean); rows without that column pass through unchanged, with a warning.
Rows of a party with need_run false, or with neither option set, pass through.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from accord.components.data.sample_weight import weights
from accord.components.data.sample_weight.params import SampleWeightParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import DataFormatError

Context = ComponentContext[SampleWeightParam]
MODULE = "SampleWeight"
CLASS_WEIGHT = "class weight"
SAMPLE_WEIGHT_NAME = "sample weight name"


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("weighs parsed rows")


def model_json(
    params: SampleWeightParam, header: list[str], mode: str | None, class_weight: dict[str, float] | None
) -> dict[str, Any]:
    return {
        "module": MODULE,
        "need_run": params.need_run,
        "header": header,
        "weight_mode": mode,
        "class_weight": class_weight,
        "sample_weight_name": params.sample_weight_name,
        "normalize": params.normalize,
    }


def balanced(data: DataTable) -> dict[str, float]:
    nothing: Counter[str] = Counter()
    counts = data.table.aggregate(
        nothing, functools.partial(weights.count_labels, data.meta()), weights.add_counts
    )
    rows = sum(counts.values())
    return {key: rows / (len(counts) * count) for key, count in sorted(counts.items())}


def weigh(
    ctx: Context,
    data: DataTable,
    class_weight: dict[str, float] | None,
    name: str | None,
    normalize: bool,
) -> DataTable:
    """``data`` weighted by column ``name`` if given, else by ``class_weight``."""
    loc: int | None = None
    base: float | None = None
    header = list(data.header)
    if name is not None:
        loc = header.index(name)
        meta = data.meta()
        column = data.table.aggregate(
            weights.Column(0.0, 0, float("inf")),
            functools.partial(weights.column_summary, meta, loc),
            weights.add_columns,
        )
        if normalize:
            base = column.total / column.rows if column.rows else None
        if column.low < 0:
            ctx.log.warning("%s: negative weights in column %s", ctx.component, name)
        header.pop(loc)
    elif class_weight and min(class_weight.values()) < 0:
        ctx.log.warning("%s: negative class weights %s", ctx.component, class_weight)
    fn = functools.partial(weights.weigh_block, data.meta(), class_weight, loc, base)
    table = data.table.map_partitions_with_index(fn, preserves_sids=True)
    return data.with_table(table, header=tuple(header), extra={**data.extra, "sample_weight": "weight"})


def _record(ctx: Context, mode: str, class_weight: dict[str, float] | None, name: str | None) -> None:
    meta = {
        "weight_mode": mode,
        "class_weight": class_weight,
        "classes": sorted(class_weight) if class_weight else None,
        "sample_weight_name": name,
    }
    ctx.tracker.log_metric(
        "train", "sample_weight", [["sample_weight", 0]], metric_type="SAMPLE_WEIGHT", meta=meta
    )
    ctx.tracker.set_summary(meta)


class SampleWeight(ComponentBase[SampleWeightParam]):
    params = SampleWeightParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        header = list(data.header)
        if not params.need_run or (params.sample_weight_name is None and params.class_weight is None):
            ctx.save_table(data)
            ctx.save_model(model_json(params, header, None, None))
            return
        class_weight: dict[str, float] | None = None
        if params.sample_weight_name is not None:
            mode = SAMPLE_WEIGHT_NAME
            if params.sample_weight_name not in header:
                raise DataFormatError(
                    f"{ctx.component}: no feature column {params.sample_weight_name!r} to take weights from",
                    hint=f"sample_weight_name names one of this party's feature columns: {header[:20]}",
                )
            if params.class_weight is not None:
                ctx.log.warning(
                    "%s: both sample_weight_name and class_weight given; the column wins", ctx.component
                )
        else:
            mode = CLASS_WEIGHT
            given = params.class_weight
            class_weight = (
                {key: float(value) for key, value in given.items()}
                if isinstance(given, dict)
                else balanced(data)
            )
        ctx.save_table(weigh(ctx, data, class_weight, params.sample_weight_name, params.normalize))
        ctx.save_model(model_json(params, header, mode, class_weight))
        _record(ctx, mode, class_weight, params.sample_weight_name)

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        model = ctx.trained_model("weighs rows")
        if model.get("module") != MODULE:
            raise DataFormatError(
                f"{ctx.component} was given a {model.get('module')} model, not a SampleWeight one",
                hint="wire a SampleWeight component's model into this one",
            )
        ctx.save_applied_model(model)
        mode = model.get("weight_mode")
        if not ctx.params.need_run or not model.get("need_run", True) or mode is None:
            ctx.save_table(data)
            return
        name = model.get("sample_weight_name")
        if mode == SAMPLE_WEIGHT_NAME:
            if name not in data.header:
                ctx.log.warning("%s: no column %r to weigh by; rows pass through", ctx.component, name)
                ctx.save_table(data)
                return
            ctx.save_table(weigh(ctx, data, None, name, bool(model.get("normalize"))))
            _record(ctx, mode, None, name)
            return
        if mode != CLASS_WEIGHT:
            raise DataFormatError(f"{ctx.component}: unknown weight mode {mode!r} in the model")
        class_weight = {str(key): float(value) for key, value in (model.get("class_weight") or {}).items()}
        ctx.save_table(weigh(ctx, data, class_weight, None, False))
        _record(ctx, mode, class_weight, None)
