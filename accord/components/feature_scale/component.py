"""The FeatureScale component: each party scales its own feature columns; nothing crosses the federation.

fit learns, from this party's rows, the bounds of each chosen column (its min and max pulled inside
feat_lower / feat_upper, or in cap mode the given percentiles of it) and, for standard_scale, the mean
and standard deviation of the column cut to those bounds; it saves them as the model and writes the
scaled rows. predict applies a saved model to other rows (same columns, same numbers, no refit). Ids,
labels, weights and every other column of the rows are kept; only the scaled features change. Both
run on the task's engine (accord.components.feature_scale.blocks).
"""

from __future__ import annotations

from accord.components.feature_scale import blocks
from accord.components.feature_scale import model as scale
from accord.components.feature_scale.params import FeatureScaleParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable

Context = ComponentContext[FeatureScaleParam]


class FeatureScale(ComponentBase[FeatureScaleParam]):
    params = FeatureScaleParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        if not params.need_run:
            ctx.save_table(data)
            ctx.save_model(scale.passthrough(params, data.header).to_json())
            return
        model = blocks.learn(params, data, ctx.component)
        ctx.save_table(blocks.scaled(model, data, ctx.component))
        ctx.save_model(model.to_json())
        if model.scales:
            ctx.tracker.set_summary(model.summary())
        ctx.log.info(
            "%s: %s of %d of %d columns",
            ctx.component,
            params.method,
            len(model.col_scale_param),
            len(data.header),
        )

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        trained = ctx.trained_model("scales")
        model = scale.ScaleModel.from_json(trained, component=ctx.component)
        ctx.save_applied_model(model.to_json())
        ctx.save_table(blocks.scaled(model, data, ctx.component))


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("scales parsed feature rows")
