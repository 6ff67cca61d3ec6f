"""HomoFeatureBinning: every guest and host bins the same columns with the same split points, the
quantiles of the union of their rows, found through the arbiter (FATE 1.11's module).

fit: the clients agree on the global range of each column, the arbiter sums (by secure aggregation)
their row and missing counts and their ranks at query values, and each client reads the split points
off the global ranks (virtual_summary or recursive_query, see :mod:`query`); then each bins and
transforms its own rows (transform_param, bin_num). predict applies a trained model's split points
to other rows with nothing exchanged. Label statistics (WOE / IV) are not computed: the model keeps
each client's own rows per bin.
"""

from __future__ import annotations

from accord.components.feature.hetero_binning.transform import transformed
from accord.components.feature.homo_binning import arbiter
from accord.components.feature.homo_binning.client import MODULE, Client
from accord.components.feature.homo_binning.params import HomoFeatureBinningParam
from accord.components.homo_lr.secure_aggregation import clients_of
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import (
    ComponentFeatureUnsupported,
    ComponentParameterError,
    DataMismatchError,
)

Context = ComponentContext[HomoFeatureBinningParam]


class HomoFeatureBinning(ComponentBase[HomoFeatureBinningParam]):
    params = HomoFeatureBinningParam

    def check_supported(self, params: HomoFeatureBinningParam, component: str) -> None:
        if not params.need_run:
            return
        refused = []
        if params.category_indexes or params.category_names:
            refused.append("category_indexes / category_names (category columns)")
        if params.transform_param.transform_type == "woe":
            refused.append("transform_param.transform_type woe (homo binning computes no WOE)")
        if params.local_only:
            refused.append("local_only true")
        if refused:
            raise ComponentFeatureUnsupported(
                f"{component}: HomoFeatureBinning does not support {', '.join(refused)}",
                hint="bin numeric columns with transform_type bin_num or null, and local_only false",
                field="transform_param" if "woe" in refused[0] else refused[0].split(" ")[0],
            )

    def fit(self, ctx: Context) -> None:
        if not ctx.params.need_run:
            if ctx.role != "arbiter":
                data = _input(ctx)
                ctx.save_table(data)
                ctx.save_model(_empty_model(data))
            return
        if len(clients_of(ctx.plan.roles)) < 2:
            raise ComponentParameterError(
                f"{ctx.component}: HomoFeatureBinning needs two or more guests and hosts: secure "
                "aggregation cannot hide a single client's ranks from the arbiter",
                hint="add a host (or a guest) to the job's roles",
            )
        if ctx.role == "arbiter":
            summary = arbiter.fit(ctx)
            ctx.save_model({"module": MODULE, "role": "arbiter", **summary})
            ctx.tracker.set_summary(summary)
            return
        data = _input(ctx)
        model = Client(ctx, data).fit()
        ctx.save_model(model)
        ctx.save_table(transformed(model, data, ctx.component))
        ctx.tracker.set_summary({"split_points": model["split_points"]})

    def predict(self, ctx: Context) -> None:
        if ctx.role == "arbiter":
            return
        data = _input(ctx)
        model = ctx.trained_model("bins")
        if model.get("module") != MODULE or not isinstance(model.get("split_points"), dict):
            raise DataMismatchError(
                f"{ctx.component} was given a model that is not a HomoFeatureBinning model",
                hint="wire in the model output of a HomoFeatureBinning component",
            )
        ctx.save_applied_model(model)
        ctx.save_table(transformed(model, data, ctx.component))


def _empty_model(data: DataTable) -> dict[str, object]:
    return {
        "module": MODULE,
        "need_run": False,
        "header": list(data.header),
        "split_points": {},
        "results": {},
        "transform": {"transform_type": None},
    }


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("bins parsed feature rows", "data")
