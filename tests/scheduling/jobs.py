"""Small DSL/conf builders for scheduling tests."""

from __future__ import annotations

from typing import Any


def chain_dsl(modules: list[str]) -> dict[str, Any]:
    """c0 -> c1 -> ... each consuming the previous component's data."""
    components: dict[str, Any] = {}
    for index, module in enumerate(modules):
        body: dict[str, Any] = {"module": module, "output": {"data": ["data"], "model": ["model"]}}
        if index:
            body["input"] = {"data": {"data": [f"c{index - 1}.data"]}}
        components[f"c{index}"] = body
    return {"components": components}


def dag_dsl(edges: dict[str, list[str]], module: str = "TestSleep") -> dict[str, Any]:
    components: dict[str, Any] = {}
    for name, upstream in edges.items():
        body: dict[str, Any] = {"module": module, "output": {"data": ["data"]}}
        if upstream:
            body["input"] = {"data": {"data": [f"{u}.data" for u in upstream]}}
        components[name] = body
    return {"components": components}


def conf(
    *,
    hosts: list[int] | None = None,
    arbiter: int | None = None,
    common: dict[str, Any] | None = None,
    job: dict[str, Any] | None = None,
    role: dict[str, Any] | None = None,
) -> dict[str, Any]:
    roles: dict[str, list[int]] = {"guest": [9999], "host": hosts or [10000]}
    if arbiter is not None:
        roles["arbiter"] = [arbiter]
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": roles,
        "job_parameters": {"common": {"task_cores": 1, **(job or {})}},
        "component_parameters": {"common": common or {}, "role": role or {}},
    }
