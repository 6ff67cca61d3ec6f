"""The base class of a component: a parameter model, the roles it runs on, and fit / predict."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from accord.components.sdk.context import ComponentContext, validate_parameters
from accord.errors import ComponentNotImplemented, OperatingError

if TYPE_CHECKING:
    from accord.components.registry import TaskContext

P = TypeVar("P", bound=BaseModel)


class ComponentBase(Generic[P]):
    """Subclass with ``params`` (a pydantic model of FATE's parameters) and ``fit`` and/or ``predict``.

    ``fit`` runs when the component learns in this job; ``predict`` when it applies a model it was given
    (a model input in the DSL, or the deployed model in a predict job). Both receive a
    :class:`ComponentContext` with the validated parameters, the inputs, the data plane and the tracker.
    """

    params: ClassVar[type[BaseModel]]
    roles: ClassVar[frozenset[str]] = frozenset({"guest", "host", "arbiter", "local"})

    def run(self, task: TaskContext) -> None:
        if task.plan is None or task.services is None:
            raise OperatingError(
                f"{task.component} needs the job plan and the worker's services to run",
                hint="run components through a worker (accord up / accord worker)",
            )
        if task.party.role not in self.roles:
            raise OperatingError(
                f"{task.module} does not run on {task.party.role}; it runs on {', '.join(sorted(self.roles))}"
            )
        params = validate_parameters(
            self.params, task.parameters, component=task.component, module=task.module
        )
        ctx: ComponentContext[P] = ComponentContext(task, task.plan, task.services, params)  # type: ignore[arg-type]
        if ctx.is_predict:
            self.predict(ctx)
        else:
            self.fit(ctx)

    def fit(self, ctx: ComponentContext[P]) -> None:
        raise ComponentNotImplemented(f"{ctx.task.module} cannot be trained in Accord yet")

    def predict(self, ctx: ComponentContext[P]) -> None:
        raise ComponentNotImplemented(f"{ctx.task.module} cannot predict in Accord yet")
