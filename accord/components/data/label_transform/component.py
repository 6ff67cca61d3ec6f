"""The LabelTransform component: the guest's labels re-encoded, and predictions mapped back.

fit reads the labels of its input (the guest's rows; a host's rows carry none and pass through, as
FATE's examples run the host with need_run false), makes the encoder (label_encoder, completed with
the labels it does not name, or the sorted labels numbered 0, 1, ...), saves it as the model and
writes the rows with their labels encoded. With a model (predict, or wired after a trained model as
FATE's examples do) it encodes the labels of instance rows and maps a model's predictions back to the
original labels. Nothing crosses the federation.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import numpy as np

from accord.components.data.label_transform import encoder
from accord.components.data.label_transform.params import LabelTransformParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import ComponentFeatureUnsupported, DataMismatchError

Context = ComponentContext[LabelTransformParam]
MODULE = "LabelTransform"


def _label_columns(data: DataTable) -> list[str]:
    names = data.table.take(0).schema.names
    wanted = list(encoder.PREDICT_LABELS) if data.kind == "predict" else ["label"]
    return [name for name in wanted if name in names]


def _apply(data: DataTable, pairs: list[tuple[float, float]]) -> DataTable:
    table = data.table.map_batches(functools.partial(encoder.encode_block, pairs, data.kind))
    extra = dict(data.extra)
    mapping = extra.get("label_mapping")
    if data.kind == "instances" and isinstance(mapping, dict):
        # Text labels keep their meaning: each text now stands for its encoded number.
        lookup = dict(pairs)
        extra["label_mapping"] = {label: lookup.get(float(code), code) for label, code in mapping.items()}
    return replace(data, table=table, extra=extra)


def _model(pairs: list[tuple[float, float]] | None, need_run: bool) -> dict[str, Any]:
    return {
        "module": MODULE,
        "need_run": need_run,
        # FATE's view, {label: encoded} as text; "pairs" is what predict reads back.
        "label_encoder": None if pairs is None else {encoder.text(k): v for k, v in pairs},
        "pairs": None if pairs is None else [[k, v] for k, v in pairs],
    }


class LabelTransform(ComponentBase[LabelTransformParam]):
    params = LabelTransformParam

    def check_supported(self, params: LabelTransformParam, component: str) -> None:
        text = {
            key: value
            for key, value in (params.label_encoder or {}).items()
            if encoder.as_number(value) is None
        }
        if text:
            raise ComponentFeatureUnsupported(
                f"{component}: label_encoder maps to {sorted(map(str, text.values()))[:5]}, which are not "
                "numbers; Accord's label column holds numbers",
                hint='encode labels as numbers, e.g. {"yes": 1, "no": 0}',
                component=component,
            )

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        columns = _label_columns(data)
        if not params.need_run or not columns:
            if params.need_run:
                ctx.log.info("%s: the rows on %s carry no labels; they pass through", ctx.component, ctx.role)
            ctx.save_table(data)
            ctx.save_model(_model(None, params.need_run))
            return
        found = data.table.aggregate(
            np.zeros(0), functools.partial(encoder.labels_pass, columns), encoder.union
        )
        labels = [float(label) for label in np.sort(found)]
        mapping = data.extra.get("label_mapping")
        pairs = encoder.resolve(
            params.label_encoder, labels, mapping if isinstance(mapping, dict) else None, ctx.component
        )
        ctx.save_table(_apply(data, pairs))
        model = _model(pairs, True)
        ctx.save_model(model)
        _record(ctx, model)

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        model = ctx.trained_model("maps labels")
        ctx.save_applied_model(model)
        stored = model.get("pairs")
        if (
            not ctx.params.need_run
            or not model.get("need_run", True)
            or not _label_columns(data)
            or stored is None
        ):
            # A model without an encoder is the one a party without labels (a host) saved: its rows
            # carry no labels of the guest's to map, and pass through as in training.
            ctx.save_table(data)
            return
        pairs = [(float(k), float(v)) for k, v in stored]
        # Predictions go back to the original labels; labelled rows are encoded as in training.
        ctx.save_table(_apply(data, encoder.inverse(pairs) if data.kind == "predict" else pairs))
        _record(ctx, model)


def _record(ctx: Context, model: dict[str, Any]) -> None:
    ctx.tracker.log_metric(
        "train",
        "label_transform",
        [["label_transform", 0]],
        metric_type="LABEL_TRANSFORM",
        meta={"name": "train", "metric_type": "LABEL_TRANSFORM", "label_encoder": model["label_encoder"]},
    )
    ctx.log.info("%s: label encoder %s", ctx.component, model["label_encoder"])


def _input(ctx: Context) -> DataTable:
    data = ctx.first_input()
    if data.kind == "raw":
        raise DataMismatchError(
            f"{ctx.component} maps the labels of parsed rows or predictions, but its input holds raw rows",
            hint="put a DataTransform between the Reader and LabelTransform",
        )
    return data
