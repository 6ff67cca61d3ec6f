"""A component that does nothing, so the scheduling benchmark measures scheduling alone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.components import ComponentRegistry
from accord.components.sdk import ComponentBase, ComponentContext
from accord.dsl_compiler.catalog import make_spec


class NoopParam(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Noop(ComponentBase[NoopParam]):
    params = NoopParam
    # Every job runs its stages for real (the probe for earlier runs still happens unless --no-reuse).
    reusable = False

    def fit(self, ctx: ComponentContext[NoopParam]) -> None:
        ctx.task.check_cancelled()

    predict = fit


def register(registry: ComponentRegistry) -> None:
    registry.register("BenchNoop", Noop, make_spec("BenchNoop", "guest host arbiter", "data", "data"))
