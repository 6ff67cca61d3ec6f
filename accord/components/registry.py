"""Which module names this installation can run, and the context a running task gets.

Implementations come from the ``accord.components`` entry-point group (name = module name, object =
component class) and from the modules named in ``Settings.component_modules``, each of which exposes
``register(registry)``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from accord.dsl_compiler.catalog import ModuleSpec, lookup
from accord.errors import ArgumentError, OperatingError
from accord.federation.commands import Party

if TYPE_CHECKING:
    from accord.components.sdk.services import TaskServices
    from accord.dsl_compiler.plan import JobPlan

ENTRY_POINT_GROUP = "accord.components"


class TaskCancelled(Exception):
    """Raised inside a component when its task was stopped; the task ends as canceled."""


@dataclass
class TaskContext:
    job_id: str
    party: Party
    component: str
    module: str
    task_version: int
    parameters: Mapping[str, Any]
    work_dir: Path
    cancelled: threading.Event = field(default_factory=threading.Event)
    # The job's plan and the worker's services; components built on the SDK need both.
    plan: JobPlan | None = None
    services: TaskServices | None = None

    def check_cancelled(self) -> None:
        """Components call this between steps so that a stop takes effect promptly."""
        if self.cancelled.is_set():
            raise TaskCancelled(
                f"task {self.component} v{self.task_version} of job {self.job_id} was stopped"
            )

    def sleep(self, seconds: float) -> None:
        """Wait, waking up at once if the task is stopped."""
        if self.cancelled.wait(seconds):
            self.check_cancelled()


class Component(Protocol):
    def run(self, ctx: TaskContext) -> None: ...


ComponentFactory = Callable[[], Component]


class ComponentRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, ComponentFactory] = {}
        self._specs: dict[str, ModuleSpec] = {}

    def register(self, module: str, factory: ComponentFactory, spec: ModuleSpec | None = None) -> None:
        """Register ``factory`` for ``module``; a module FATE does not know needs its ``spec``."""
        if spec is None and lookup(module) is None:
            raise ArgumentError(
                f"component module {module!r} is not a FATE module",
                hint="pass a ModuleSpec (accord.dsl_compiler.catalog.make_spec) describing its roles and I/O",
            )
        self._factories[module] = factory
        if spec is not None:
            self._specs[module] = spec

    def modules(self) -> frozenset[str]:
        return frozenset(self._factories)

    def extra_specs(self) -> dict[str, ModuleSpec]:
        return dict(self._specs)

    def create(self, module: str) -> Component:
        factory = self._factories.get(module)
        if factory is None:
            raise OperatingError(
                f"no implementation of module {module!r} is installed on this site",
                hint="install the package that provides it, or remove the component from the DSL",
            )
        return factory()

    def check_parameters(self, module: str, parameters: Any, *, component: str) -> None:
        """Raise what a task of ``module`` would raise for ``parameters``, before any task runs.

        Components without a ``check_parameters`` (plain :class:`Component` implementations) check
        their parameters only when they run.
        """
        check = getattr(self.create(module), "check_parameters", None)
        if check is not None:
            check(parameters, component=component, module=module)

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

    def create() -> Component:
        try:
            factory = point.load()
        except Exception as exc:
            raise OperatingError(
                f"the implementation of module {point.name!r} ({point.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}",
                hint="reinstall the package that provides it",
            ) from None
        component: Component = factory()
        return component

    return create
