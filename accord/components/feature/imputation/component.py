"""The FeatureImputation component: each party fills the missing cells of its own feature columns.

fit learns each column's fill value from this party's rows (see accord.components.feature.imputation
.model), saves them as the model and writes the filled rows; predict fills other rows with a saved
model's values (no refit). Nothing crosses the federation. Ids, labels and weights are kept.
"""

from __future__ import annotations

from typing import Any

from accord.components.feature.imputation import blocks
from accord.components.feature.imputation import model as imputer
from accord.components.feature.imputation.params import FeatureImputationParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import ComponentFeatureUnsupported, DataMismatchError

Context = ComponentContext[FeatureImputationParam]


class FeatureImputation(ComponentBase[FeatureImputationParam]):
    params = FeatureImputationParam

    def check_supported(self, params: FeatureImputationParam, component: str) -> None:
        values = params.default_value if isinstance(params.default_value, list) else [params.default_value]
        text = [value for value in values if isinstance(value, str) and not _is_number(value)]
        if text:
            raise ComponentFeatureUnsupported(
                f"{component}: default_value {text[:5]} is text; Accord's feature cells are numbers, so "
                "a text fill value cannot be put in them",
                hint="give default_value as a number (or a list of numbers, one per feature column)",
                component=component,
            )

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        header = list(data.header)
        if not params.need_run:
            methods: dict[str, str | None] = {name: None for name in header}
            ctx.save_table(data)
            ctx.save_model(imputer.build(params, header, methods, [0.0] * len(header), [0.0] * len(header)))
            return
        ignored = imputer.ignored_items(params.missing_impute)
        if ignored:
            ctx.log.warning(
                "%s: missing_impute items %s are not numbers and match no feature cell (as in FATE)",
                ctx.component,
                ignored,
            )
        methods = imputer.column_methods(params, header, ctx.component)
        given = (
            imputer.designated(params, header, ctx.component) if "designated" in methods.values() else None
        )
        found = blocks.summarize(data, imputer.Matcher.of(params.missing_impute))
        fills = imputer.fill_values(methods, given, found.count, found.total, found.low, found.high)
        rows = max(found.rows, 1)
        rates = [
            0.0 if methods[name] is None else float(found.missing[j]) / rows for j, name in enumerate(header)
        ]
        model = imputer.build(params, header, methods, fills, rates)
        ctx.save_table(blocks.filled(data, model))
        ctx.save_model(model)
        ctx.tracker.set_summary(imputer.summary(model, fills))
        ctx.log.info("%s: %d of %d columns imputed", ctx.component, len(model["fill_values"]), len(header))

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        trained = ctx.trained_model("imputes")
        model: dict[str, Any] = imputer.check(trained, ctx.component)
        absent = [name for name in model["fill_values"] if name not in data.header]
        if absent:
            raise DataMismatchError(
                f"{ctx.component}: the rows have no columns {absent[:10]}, which the model fills",
                hint="impute data with the same header as the data the model was trained on",
            )
        ctx.save_applied_model(model)
        ctx.save_table(blocks.filled(data, model))


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("imputes parsed feature rows")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
