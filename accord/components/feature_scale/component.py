"""The FeatureScale component: each party scales its own feature columns; nothing crosses the federation.

fit learns, from this party's rows, the bounds of each chosen column (its min and max pulled inside
feat_lower / feat_upper, or in cap mode the given percentiles of it) and, for standard_scale, the mean
and standard deviation of the column cut to those bounds; it saves them as the model and writes the
scaled rows. predict applies a saved model to other rows (same columns, same numbers, no refit). Ids,
labels, weights and every other column of the rows are kept; only the scaled features change.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pyarrow as pa

from accord.components.feature_scale import model as scale
from accord.components.feature_scale.params import FeatureScaleParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.components.sdk.dataset import FEATURES
from accord.errors import DataFormatError, OperatingError

Context = ComponentContext[FeatureScaleParam]


class FeatureScale(ComponentBase[FeatureScaleParam]):
    params = FeatureScaleParam
    roles: ClassVar[frozenset[str]] = frozenset({"guest", "host"})

    def fit(self, ctx: Context) -> None:
        dataset = _input(ctx)
        params = ctx.params
        if not params.need_run:
            ctx.save_data(dataset)
            ctx.save_model(scale.passthrough(params, dataset.header).to_json())
            return
        model = scale.fit(params, dataset.header, dataset.features(), ctx.component)
        ctx.save_data(_scaled(model, dataset, ctx.component))
        ctx.save_model(model.to_json())
        if model.scales:
            ctx.tracker.set_summary(model.summary())
        ctx.log.info(
            "%s: %s of %d of %d columns",
            ctx.component,
            params.method,
            len(model.col_scale_param),
            len(dataset.header),
        )

    def predict(self, ctx: Context) -> None:
        dataset = _input(ctx)
        models = ctx.input_models()
        if not models:
            raise OperatingError(
                f"{ctx.component} scales with a trained FeatureScale model but was given none",
                hint="wire the training FeatureScale's model into this component's model input",
            )
        model = scale.ScaleModel.from_json(models[0], component=ctx.component)
        if ctx.plan.party(ctx.role, ctx.party_id).job_parameters.job_type == "train":
            # Within a training job this component's model output is the model it applies, as in FATE.
            ctx.save_model(model.to_json())
        ctx.save_data(_scaled(model, dataset, ctx.component))


def _input(ctx: Context) -> Dataset:
    dataset = ctx.first_dataset("data", "train_data")
    if dataset is None:
        raise OperatingError(
            f"{ctx.component} has no input data",
            hint=f'give it one: "input": {{"data": {{"data": ["data_transform_0.data"]}}}} (on {ctx.role})',
        )
    if dataset.kind != "instances":
        raise DataFormatError(
            f"{ctx.component} scales parsed feature rows, but its input holds {dataset.kind} rows",
            hint="put a DataTransform between the Reader and FeatureScale",
        )
    return dataset


def _scaled(model: scale.ScaleModel, dataset: Dataset, component: str) -> Dataset:
    """``dataset`` with its features scaled by ``model``; every other column is kept as it is."""
    if not model.scales:
        return dataset
    features = scale.apply(model, dataset.header, dataset.features(), component)
    width = features.shape[1]
    flat = pa.array(np.ascontiguousarray(features).reshape(-1), type=pa.float64())
    column = pa.FixedSizeListArray.from_arrays(flat, width)
    table = dataset.table.set_column(dataset.table.column_names.index(FEATURES), FEATURES, column)
    return dataclasses.replace(dataset, table=table)
