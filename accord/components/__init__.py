"""Components: the code that runs a DSL module on one party, found through the registry."""

from accord.components.registry import (
    ENTRY_POINT_GROUP,
    Component,
    ComponentRegistry,
    TaskCancelled,
    TaskContext,
)

__all__ = ["ENTRY_POINT_GROUP", "Component", "ComponentRegistry", "TaskCancelled", "TaskContext"]
