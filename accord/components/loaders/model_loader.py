"""ModelLoader (FATE-Flow 1.11): a model an earlier job of this party trained, as this component's model.

``model_id`` and ``model_version`` are what the training job printed as its ``model_info``: the version
is that job's id (FATE's model_version), or a version made from it by ``accord model deploy``. With
``step_index`` or ``step_name`` it loads that ``ModelCheckpoint`` of ``component_name``; otherwise the
component's model (``model_alias``, if given, must be one of its model output names in the training DSL),
or, as FATE, its latest checkpoint when it saved no model (a training job that failed part way).
The model is always this party's own: the task's role and party id are part of every lookup.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.components.loaders import earlier_jobs, require_ids
from accord.components.sdk import ComponentBase, ComponentContext, ModelRef
from accord.errors import ComponentParameterError

_IDS = "the model_info its training job printed (`accord job submit`; `accord model list` lists them)"
FIXES = {
    "model_id": _IDS,
    "model_version": f"{_IDS}: the training job's id, or a deployed version",
    "component_name": "the component of that job whose model to load, e.g. hetero_feature_binning_0",
}
# FATE takes the first of these that is set and ignores the rest; here one at most may be set.
SELECTORS = ("model_alias", "step_index", "step_name")


class ModelLoaderParam(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    model_id: str | None = None
    model_version: str | None = None
    component_name: str | None = None
    model_alias: str | None = None
    step_index: int | None = None
    step_name: str | None = None
    need_run: bool = True


class ModelLoader(ComponentBase[ModelLoaderParam]):
    params = ModelLoaderParam
    # Its output is whatever the model store holds now, not a function of its inputs.
    reusable = False

    def check_supported(self, params: ModelLoaderParam, component: str) -> None:
        if not params.need_run:
            return
        require_ids(params, FIXES, component=component, module="ModelLoader")
        chosen = [name for name in SELECTORS if getattr(params, name) is not None]
        if len(chosen) > 1:
            raise ComponentParameterError(
                f"{component} (ModelLoader) sets {' and '.join(chosen)}; FATE would use only {chosen[0]}",
                hint="set one of model_alias, step_index and step_name (none: the component's model)",
                component=component,
            )

    def fit(self, ctx: ComponentContext[ModelLoaderParam]) -> None:
        params = ctx.params
        if not params.need_run:
            ctx.log.info("%s: need_run is false; no model loaded", ctx.component)
            return
        assert params.model_id and params.model_version and params.component_name  # check_supported
        key = ModelRef(params.model_id, params.model_version, ctx.role, ctx.party_id, params.component_name)
        earlier = earlier_jobs(ctx)
        if params.step_index is not None or params.step_name is not None:
            loaded = earlier.checkpoint(key, step_index=params.step_index, step_name=params.step_name)
        else:
            loaded = earlier.model(key, alias=params.model_alias)
        ctx.save_model(loaded.model)
        where = {
            "model_id": key.model_id,
            "model_version": key.model_version,
            "component_name": key.component,
        }
        checkpoint = "step_index" in loaded.origin
        # As FATE's ModelLoader: a metric whose meta says which model (or checkpoint) was loaded.
        name = (
            f"{loaded.origin['step_index']}-{loaded.origin['step_name']}"
            if checkpoint
            else f"{key.component}-{loaded.origin['model_alias']}"
        )
        ctx.tracker.log_metric(
            "model_loader",
            name,
            [],
            metric_type="checkpoint_info" if checkpoint else "component_model_info",
            meta={**where, **loaded.origin},
        )
        ctx.tracker.set_summary({**where, **loaded.origin})
        ctx.log.info("%s: loaded %s of %s", ctx.component, name, where)
