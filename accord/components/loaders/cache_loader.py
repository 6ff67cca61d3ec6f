"""CacheLoader (FATE-Flow 1.11): the cache output an earlier job's component left on this party.

``job_id`` names the earlier job, ``component_name`` its component (an Intersection run with
``run_cache``), ``cache_name`` that component's cache output (by default its only one). The cache
becomes this component's cache output, linked rather than copied, so an Intersection given it runs as
with a cache made in the same job. Only this party's own cache is taken: the task's role and party id
are part of the lookup, and a job this party did not run in is refused.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.components.loaders import earlier_jobs, require_ids
from accord.components.sdk import ComponentBase, ComponentContext
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

FIXES = {
    "job_id": "the id of the job whose Intersection ran with run_cache (`accord job list`)",
    "component_name": "that job's component which made the cache, e.g. intersect_0",
}


class CacheLoaderParam(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    cache_key: str | None = None
    job_id: str | None = None
    component_name: str | None = None
    cache_name: str | None = None


class CacheLoader(ComponentBase[CacheLoaderParam]):
    params = CacheLoaderParam
    # Its output is what the earlier job left on disk now, not a function of its inputs.
    reusable = False

    def check_supported(self, params: CacheLoaderParam, component: str) -> None:
        if params.cache_key is not None:
            raise ComponentFeatureUnsupported(
                f"{component} (CacheLoader) sets cache_key; Accord names a cache by its job and component",
                hint="remove cache_key and set job_id, component_name and cache_name",
                component=component,
            )
        require_ids(params, FIXES, component=component, module="CacheLoader")
        if params.cache_name is not None and not params.cache_name.strip():
            raise ComponentParameterError(
                f"{component} (CacheLoader) has an empty cache_name",
                hint="set cache_name to the component's cache output (FATE's examples: cache), or remove it",
                component=component,
            )

    def fit(self, ctx: ComponentContext[CacheLoaderParam]) -> None:
        params = ctx.params
        assert params.job_id and params.component_name  # check_supported
        name = earlier_jobs(ctx).link_cache(
            params.job_id, ctx.task.party, params.component_name, params.cache_name, ctx.cache_output_dir
        )
        summary = {"job_id": params.job_id, "component_name": params.component_name, "cache_name": name}
        ctx.tracker.set_summary(summary)
        ctx.log.info("%s: loaded the cache %s", ctx.component, summary)
