"""The workflows call activities by their declarations in accord.contracts; the worker registers the
implementations. Each implementation must answer to its declaration's name with the same parameters
and result, or a workflow would schedule an activity no worker runs (or send what it cannot read)."""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity

from accord import contracts
from accord.activities.federation import FederationActivities
from accord.activities.queue import QueueActivities
from accord.activities.tasks import TaskActivities

IMPLEMENTATIONS = (FederationActivities, QueueActivities, TaskActivities)


def _definitions() -> dict[str, Callable[..., Any]]:
    found = {}
    for cls in IMPLEMENTATIONS:
        for _, method in inspect.getmembers(cls, inspect.isfunction):
            definition = activity._Definition.from_callable(method)
            if definition is not None:
                assert definition.name not in found, f"two activities named {definition.name}"
                found[definition.name] = method
    return found


def _hints(fn: Callable[..., Any], *, drop_self: bool) -> list[Any]:
    hints = typing.get_type_hints(inspect.unwrap(fn))
    names = [p for p in inspect.signature(inspect.unwrap(fn)).parameters if not (drop_self and p == "self")]
    return [hints.get(name) for name in names] + [hints.get("return")]


def test_every_declared_activity_is_implemented_with_its_signature() -> None:
    implemented = _definitions()
    declared = {activity._Definition.must_from_callable(fn).name: fn for fn in contracts.DECLARED}
    assert set(declared) == set(implemented)
    for name, declaration in declared.items():
        assert _hints(declaration, drop_self=False) == _hints(implemented[name], drop_self=True), name


def test_workflows_and_activities_do_not_import_each_other() -> None:
    package = Path(contracts.__file__).parent
    for folder, other in (("workflows", "activities"), ("activities", "workflows")):
        for path in (package / folder).glob("*.py"):
            imported: list[str] = []
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    imported.append(node.module or "")
                elif isinstance(node, ast.Import):
                    imported.extend(alias.name for alias in node.names)
            assert not [name for name in imported if name.startswith(f"accord.{other}")], path.name
