"""The OneHotEncoder component: each party encodes its own columns; nothing crosses the federation.

fit learns the values of the chosen columns, saves them as the model and writes the encoded rows;
predict encodes other rows with a saved model (values it has not seen give all-zero columns).
"""

from __future__ import annotations

from typing import Any

from accord.components.feature.onehot import model as onehot
from accord.components.feature.onehot.params import OneHotEncoderParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable

Context = ComponentContext[OneHotEncoderParam]


class OneHotEncoder(ComponentBase[OneHotEncoderParam]):
    params = OneHotEncoderParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        if not ctx.params.need_run:
            header = list(data.header)
            ctx.save_table(data)
            ctx.save_model(
                {
                    "module": onehot.MODULE,
                    "header": header,
                    "transform_col_names": [],
                    "col_map": {},
                    "result_header": header,
                    "need_run": False,
                }
            )
            return
        model = onehot.learn(ctx.params, data)
        ctx.save_table(onehot.encoded(model, data))
        ctx.save_model(model)
        record_summary(ctx, model)

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        trained = ctx.trained_model("encodes")
        model: dict[str, Any] = onehot.check(trained, data.header, ctx.component)
        ctx.save_applied_model(model)
        if not model.get("need_run", True):
            ctx.save_table(data)
            return
        ctx.save_table(onehot.encoded(model, data))
        record_summary(ctx, model)


def record_summary(ctx: ComponentContext[Any], model: dict[str, Any]) -> None:
    """The summary and log line of an encoding (OneHotEncoder and HomoOneHotEncoder alike)."""
    ctx.tracker.set_summary(
        {"original_dimension": len(model["header"]), "transferred_dimension": len(model["result_header"])}
    )
    ctx.log.info(
        "%s: %d columns encoded, %d -> %d features",
        ctx.component,
        len(model["col_map"]),
        len(model["header"]),
        len(model["result_header"]),
    )


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("encodes parsed feature rows")
