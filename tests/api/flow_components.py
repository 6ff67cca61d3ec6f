"""A test component that records a metric and a summary, for the `flow` command tests. Not shipped."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.components import ComponentRegistry
from accord.components.sdk import ComponentBase, ComponentContext
from accord.dsl_compiler.catalog import make_spec


class SummaryParam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_iter: int = 3


class Summary(ComponentBase[SummaryParam]):
    params = SummaryParam

    def fit(self, ctx: ComponentContext[SummaryParam]) -> None:
        points = [[i, 1.0 / (i + 1)] for i in range(ctx.params.max_iter)]
        ctx.tracker.log_metric("train", "loss", points, metric_type="LOSS")
        ctx.tracker.set_summary({"iterations": ctx.params.max_iter, "is_converged": True})
        ctx.save_model({"weights": [0.5]})


def register(registry: ComponentRegistry) -> None:
    registry.register("TestSummary", Summary, make_spec("TestSummary", "guest host", "data", "data model"))
