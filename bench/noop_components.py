"""A component that does nothing, so the scheduling benchmark measures scheduling alone."""

from __future__ import annotations

from accord.components import ComponentRegistry, TaskContext
from accord.dsl_compiler.catalog import make_spec


class Noop:
    def run(self, ctx: TaskContext) -> None:
        ctx.check_cancelled()


def register(registry: ComponentRegistry) -> None:
    registry.register("BenchNoop", Noop, make_spec("BenchNoop", "guest host arbiter", "data", "data"))
