"""Which module names this installation can run, and the context a running task gets.

Implementations come from the ``accord.components`` entry-point group (name = module name, object =
component class) and from the modules named in ``Settings.component_modules``, each of which exposes
``register(registry)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from accord.components.sdk.base import ComponentBase, check_roles
from accord.components.sdk.task import TaskCancelled, TaskContext
from accord.dsl_compiler.catalog import ModuleSpec, lookup
from accord.errors import ArgumentError, ComponentRolesMismatch, OperatingError

ENTRY_POINT_GROUP = "accord.components"

# Re-exported: plug-ins written before the SDK owned them import these from here.
__all__ = [
    "ENTRY_POINT_GROUP",
    "Component",
    "ComponentFactory",
    "ComponentRegistry",
    "TaskCancelled",
    "TaskContext",
]

# The one component API; the name is kept for code that imported it from here.
Component = ComponentBase
ComponentFactory = Callable[[], ComponentBase[Any]]


class ComponentRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, ComponentFactory] = {}
        self._specs: dict[str, ModuleSpec] = {}

    def register(self, module: str, factory: ComponentFactory, spec: ModuleSpec | None = None) -> None:
        """Register ``factory`` for ``module``; a module FATE does not know needs its ``spec``.

        A component class is checked now: it must subclass :class:`ComponentBase` and any ``roles`` it
        declares must be its module's (ComponentRolesMismatch otherwise).
        """
        if spec is None and lookup(module) is None:
            raise ArgumentError(
                f"component module {module!r} is not a FATE module",
                hint="pass a ModuleSpec (accord.dsl_compiler.catalog.make_spec) describing its roles and I/O",
            )
        if isinstance(factory, type):
            check_component_class(module, factory, spec)
        self._factories[module] = factory
        if spec is not None:
            self._specs[module] = spec

    def modules(self) -> frozenset[str]:
        return frozenset(self._factories)

    def extra_specs(self) -> dict[str, ModuleSpec]:
        return dict(self._specs)

    def create(self, module: str) -> ComponentBase[Any]:
        factory = self._factories.get(module)
        if factory is None:
            raise OperatingError(
                f"no implementation of module {module!r} is installed on this site",
                hint="install the package that provides it, or remove the component from the DSL",
            )
        return factory()

    def check_parameters(self, module: str, parameters: Any, *, component: str) -> None:
        """Raise what a task of ``module`` would raise for ``parameters``, before any task runs."""
        self.create(module).check_parameters(parameters, component=component, module=module)

    @classmethod
    def discover(cls, plugin_modules: Iterable[str] = ()) -> ComponentRegistry:
        registry = cls()
        for point in entry_points(group=ENTRY_POINT_GROUP):
            if lookup(point.name) is None:
                # A module FATE does not know brings its own spec (roles, inputs, outputs) on its class,
                # which the compiler needs before any job runs.
                factory = point.load()
                registry.register(point.name, factory, getattr(factory, "spec", None))
            else:
                registry.register(point.name, _deferred(point))
        for name in plugin_modules:
            try:
                plugin = importlib.import_module(name)
            except ImportError as exc:
                raise ArgumentError(
                    f"component module {name!r} cannot be imported: {exc}",
                    hint="check ACCORD_COMPONENT_MODULES",
                ) from None
            plugin.register(registry)
        return registry


def _deferred(point: EntryPoint) -> ComponentFactory:
    """A factory that imports its class on first use: start-up stays fast and a broken plug-in only
    fails the jobs that use its module."""

    def create() -> ComponentBase[Any]:
        try:
            factory = point.load()
            if isinstance(factory, type):
                check_component_class(point.name, factory, None)
        except ComponentRolesMismatch:
            raise
        except Exception as exc:
            raise OperatingError(
                f"the implementation of module {point.name!r} ({point.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}",
                hint="reinstall the package that provides it",
            ) from None
        component: ComponentBase[Any] = factory()
        return component

    return create


def check_component_class(module: str, factory: type[Any], spec: ModuleSpec | None) -> None:
    if not issubclass(factory, ComponentBase):
        raise ArgumentError(
            f"the implementation of module {module!r} ({factory.__qualname__}) is not a ComponentBase",
            hint="subclass accord.components.sdk.ComponentBase and implement fit and/or predict",
            module=module,
        )
    check_roles(module, factory, spec)
