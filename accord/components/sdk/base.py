"""The base class of a component: a parameter model, the roles it runs on, and fit / predict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

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
        params = self.check_parameters(task.parameters, component=task.component, module=task.module)
        ctx: ComponentContext[P] = ComponentContext(task, task.plan, task.services, params)
        if ctx.is_predict:
            self.predict(ctx)
        else:
            self.fit(ctx)

    def check_parameters(self, parameters: Any, *, component: str, module: str) -> P:
        """The validated parameters; raises what a task would, so a job can be refused at submit."""
        # params is ClassVar[type[BaseModel]]: the class attribute cannot carry P, so it is asserted here.
        params = cast(P, validate_parameters(self.params, parameters, component=component, module=module))
        self.check_supported(params, component)
        return params

    def check_supported(self, params: P, component: str) -> None:
        """Refuse (ComponentFeatureUnsupported) valid FATE options this implementation does not run."""

    def fit(self, ctx: ComponentContext[P]) -> None:
        raise ComponentNotImplemented(f"{ctx.task.module} cannot be trained in Accord yet")

    def predict(self, ctx: ComponentContext[P]) -> None:
        raise ComponentNotImplemented(f"{ctx.task.module} cannot predict in Accord yet")
