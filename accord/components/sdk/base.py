"""The one component API: a parameter model, fit / predict, and optional hooks (online scoring).

A component's roles are declared once, by its module's spec: the catalog's for FATE's modules, the
class's ``spec`` (or the one given to ``ComponentRegistry.register``) for a module a plug-in adds. The
compiler plans each party's components from that spec and the task runs on the plan. A class that also
sets ``roles`` must agree with the spec (checked when the registry loads it, :func:`check_roles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel

from accord.components.sdk.context import ComponentContext, validate_parameters
from accord.dsl_compiler.catalog import ModuleSpec, lookup
from accord.errors import ComponentNotImplemented, ComponentRolesMismatch, OperatingError

if TYPE_CHECKING:
    from accord.components.sdk.scoring import PartyScorer
    from accord.components.sdk.task import TaskContext

P = TypeVar("P", bound=BaseModel)


class ComponentBase(Generic[P]):
    """Subclass with ``params`` (a pydantic model of FATE's parameters) and ``fit`` and/or ``predict``.

    ``fit`` runs when the component learns in this job; ``predict`` when it applies a model it was given
    (a model input in the DSL, or the deployed model in a predict job). Both receive a
    :class:`ComponentContext` with the validated parameters, the inputs, the data plane and the tracker.
    """

    params: ClassVar[type[BaseModel]]
    # Only a module FATE does not know sets this: its roles, inputs and outputs for the compiler.
    spec: ClassVar[ModuleSpec | None] = None
    # A later job may take this component's outputs instead of running it when its module, version,
    # parameters and inputs are the same. False for one whose run matters beyond its outputs (it writes
    # or counts elsewhere) or draws at random without a seed.
    reusable: ClassVar[bool] = True

    def run(self, task: TaskContext) -> None:
        if task.plan is None:
            raise OperatingError(
                f"{task.component} needs the job plan to run",
                hint="run components through a worker (accord up / accord worker)",
            )
        # The plan's parties run exactly the components whose module spec names their role.
        party = task.plan.party(task.party.role, task.party.party_id)
        if task.component not in party.components:
            raise OperatingError(
                f"{task.component} ({task.module}) does not run on {task.party}",
                hint="its module's spec does not name this role; check the DSL and the module's roles",
            )
        params = self.check_parameters(task.parameters, component=task.component, module=task.module)
        ctx: ComponentContext[P] = ComponentContext(task, task.plan, task.services, params)
        try:
            if ctx.is_predict:
                self.predict(ctx)
            else:
                self.fit(ctx)
        finally:
            ctx.close()

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

    def scorer(self, model: Mapping[str, Any], *, role: str, component: str) -> PartyScorer:
        """How ``role``'s part of ``model`` (what fit saved) scores one row online."""
        raise ComponentNotImplemented(
            f"{component} ({type(self).__name__}) cannot score online",
            hint="serve a model whose scoring component implements ComponentBase.scorer",
        )


def check_roles(module: str, component: type[Any], spec: ModuleSpec | None) -> None:
    """Refuse a class whose own ``roles`` disagree with the spec the compiler uses for ``module``."""
    declared = getattr(component, "roles", None)
    if declared is None:
        return
    expected = spec or getattr(component, "spec", None) or lookup(module)
    if expected is not None and frozenset(declared) != expected.roles:
        raise ComponentRolesMismatch(
            f"{getattr(component, '__qualname__', component)} declares roles {sorted(declared)} but module "
            f"{module!r} runs on {sorted(expected.roles)}",
            hint="drop the class's roles: a component runs on the roles of its module's spec",
            module=module,
        )
