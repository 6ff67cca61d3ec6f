"""``job parameter-update``: FATE's way to change an ended job's parameters before rerunning it.

The update is merged into the job's runtime conf the way FATE-Flow merges it: key by key, nested
objects merged recursively, any other value (numbers, strings, lists) replaced whole. The merged conf
is compiled and checked exactly as at submit, so an update that would be refused at submit is refused
here and changes nothing. Pure: the job service stores the result.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from accord.errors import ArgumentError

# The parts of a runtime conf an update may change; roles, initiator and the DSL stay the job's.
UPDATABLE = ("job_parameters", "component_parameters")


def merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in: objects recursively, every other value replaced."""
    result = copy.deepcopy(dict(base))
    for key, value in update.items():
        current = result.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            result[key] = merged(current, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def updated_conf(
    conf: Mapping[str, Any],
    job_parameters: Mapping[str, Any] | None,
    component_parameters: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The runtime conf after the update; refuses an update that changes nothing."""
    if not job_parameters and not component_parameters:
        raise ArgumentError(
            "the parameter update is empty",
            hint='give "job_parameters" and/or "component_parameters", shaped as in the runtime conf',
        )
    update = {"job_parameters": job_parameters or {}, "component_parameters": component_parameters or {}}
    return merged(conf, update)


def updated_parts(conf: Mapping[str, Any]) -> dict[str, Any]:
    """What FATE-Flow answers an update with: the job's parameters after it."""
    return {key: copy.deepcopy(conf.get(key, {})) for key in UPDATABLE}
