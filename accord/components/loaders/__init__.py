"""FATE-Flow's loaders: ModelLoader and CacheLoader take what an earlier job of this party left.

Both ask the worker's :class:`~accord.components.sdk.EarlierJobs` by ids, for the task's own party only;
the ids FATE's examples leave empty are refused at submit (10126) naming the field to fill in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from accord.components.sdk import ComponentContext, EarlierJobs
from accord.errors import ComponentParameterError, OperatingError


def require_ids(params: BaseModel, fixes: Mapping[str, str], *, component: str, module: str) -> None:
    """Refuse a missing or empty id among ``fixes`` (field name → how to fill it in), naming it."""
    for field, fix in fixes.items():
        value = getattr(params, field)
        if value is None or not str(value).strip():
            raise ComponentParameterError(
                f"{component} ({module}) needs {field}, which is {'missing' if value is None else 'empty'}"
                " (FATE's example leaves it for you to fill in)",
                hint=f"set component_parameters of {component}: {field}: {fix}",
                component=component,
            )


def earlier_jobs(ctx: ComponentContext[Any]) -> EarlierJobs:
    earlier = ctx.services.earlier
    if earlier is None:
        raise OperatingError(
            f"{ctx.component} ({ctx.task.module}) reads earlier jobs, which this worker cannot reach",
            hint="run the job on a site's worker (accord up / accord worker)",
        )
    return earlier
