"""HeteroFeatureBinning: bins every party's columns and, on the guest, computes each bin's WOE and
IV for the guest's columns and, through Paillier, for the hosts' (FATE 1.11's module).

fit learns split points (quantile, bucket, optimal or the user's), the statistics and the model,
then writes the rows transformed as transform_param says; predict applies a trained model's split
points (and WOE) to other rows, with no refit and nothing exchanged.
"""

from __future__ import annotations

from typing import Any

from accord.components.feature.hetero_binning import guest, host
from accord.components.feature.hetero_binning.model import MODULE, check_model
from accord.components.feature.hetero_binning.params import HeteroFeatureBinningParam
from accord.components.feature.hetero_binning.transform import transformed
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import ComponentFeatureUnsupported

Context = ComponentContext[HeteroFeatureBinningParam]


class HeteroFeatureBinning(ComponentBase[HeteroFeatureBinningParam]):
    params = HeteroFeatureBinningParam

    def check_supported(self, params: HeteroFeatureBinningParam, component: str) -> None:
        if params.need_run and params.method == "optimal" and not params.custom_split_points:
            try:
                from accord.components.feature.binning import optimal  # noqa: F401
            except ImportError:
                raise ComponentFeatureUnsupported(
                    f"{component}: HeteroFeatureBinning method optimal is not available in this build",
                    hint="use method quantile or bucket",
                    field="method",
                ) from None

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        if not ctx.params.need_run:
            ctx.save_table(data)
            ctx.save_model(
                {
                    "module": MODULE,
                    "need_run": False,
                    "header": list(data.header),
                    "split_points": {},
                    "results": {},
                    "transform": {"transform_type": None},
                }
            )
            return
        model = guest.fit(ctx, data) if ctx.role == "guest" else host.fit(ctx, data)
        ctx.save_model(model)
        ctx.save_table(transformed(model, data, ctx.component))
        _record(ctx, model)

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        model = ctx.trained_model("bins")
        check_model(model, ctx.component)
        ctx.save_applied_model(model)
        ctx.save_table(transformed(model, data, ctx.component))


def _record(ctx: Context, model: dict[str, Any]) -> None:
    """The IV of each column (the guest's and, anonymously, the hosts') as summary and metric."""
    summary: dict[str, Any] = {
        "method": model["method"],
        "split_points_count": {name: len(points) for name, points in model["split_points"].items()},
    }
    iv = {name: col["iv"] for name, col in model.get("results", {}).items() if "iv" in col}
    if iv:
        summary["iv"] = iv
        ctx.tracker.log_metric(
            "train",
            "iv",
            [[name, value] for name, value in iv.items()],
            metric_type="BINNING",
            meta={"role": ctx.role},
        )
    hosts = {
        pid: {name: col["iv"] for name, col in cols.items()}
        for pid, cols in model.get("host_results", {}).items()
    }
    if hosts:
        summary["host_iv"] = hosts
    if model.get("labels"):
        summary["labels"] = model["labels"]
    ctx.tracker.set_summary(summary)


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("bins parsed feature rows", "data")
