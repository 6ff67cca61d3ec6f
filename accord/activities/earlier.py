"""The worker's side of :class:`~accord.components.sdk.EarlierJobs`: what ModelLoader and CacheLoader read.

A lookup names a model (id, version, component) or a job (id, component, cache output) for the task's
own party. Each id is checked against the site's records (model rows, job rows and their plans) before
any file is touched, so no parameter ever becomes a path, and a job or model of another party is
refused: in standalone a site holds every party's files, yet a party still speaks only for itself.
"""

from __future__ import annotations

from pathlib import Path

from accord.components.sdk import LoadedModel, ModelRef, layout
from accord.components.sdk.cache import VALUES_FILE
from accord.dsl_compiler.plan import JobPlan
from accord.errors import NotAPartyOfJob, PartyNotHosted, RecordNotFound
from accord.identity import Party
from accord.model_store import ModelKey, ModelStore
from accord.persistence import JobRepository
from accord.persistence.records import JobRecord
from accord.settings import Settings
from accord.site.checkpoints import PIPELINE, CheckpointQuery, CheckpointReader, party_components
from accord.site.digests import link_tree

_IDS_HINT = (
    "set model_id and model_version to the model_info its training job printed (`accord model list` "
    "lists them): model_version is the training job's id or a deployed version of it"
)


class SiteEarlierJobs:
    def __init__(self, settings: Settings, jobs: JobRepository, models: ModelStore) -> None:
        self._home = settings.home
        self._hosts_party = settings.hosts_party
        self._jobs = jobs
        self._models = models
        self._checkpoints = CheckpointReader(settings, jobs, models)

    # ---- ModelLoader ------------------------------------------------------------------------------

    def model(self, key: ModelRef, *, alias: str | None) -> LoadedModel:
        self._check_hosted(key.role, key.party_id)
        stored = {
            row.component_name
            for row in self._models.records.find(
                key.model_id, model_version=key.model_version, role=key.role, party_id=key.party_id
            )
        } - {PIPELINE}
        job = self._training_job(key)
        if not stored and job is None:
            raise RecordNotFound(
                f"ModelLoader: model_id {key.model_id!r} with model_version {key.model_version!r} names no "
                f"model of {key.role} {key.party_id} on this site (a party loads only its own models)",
                hint=_IDS_HINT,
            )
        trained = set(party_components(job)) if job is not None else set()
        if key.component not in stored | trained:
            raise RecordNotFound(
                f"ModelLoader: component_name {key.component!r} is no component of model {key.model_id} "
                f"version {key.model_version} on {key.role} {key.party_id}",
                hint=f"name one of its components there: {', '.join(sorted(stored | trained)) or 'none'}",
            )
        outputs = _model_outputs(job, key.component) if key.component in trained else None
        if alias is not None and (outputs is None or alias not in outputs):
            raise RecordNotFound(
                f"ModelLoader: model_alias {alias!r} is no model output of {key.component} "
                f"(its training DSL names {', '.join(outputs) if outputs else 'none this site can read'})",
                hint="remove model_alias (the component's model is loaded) or set it to its model output",
            )
        if key.component in stored:
            model_key = ModelKey(key.model_id, key.model_version, key.role, key.party_id, key.component)
            chosen = alias or (outputs[0] if outputs else "model")
            return LoadedModel(self._models.load(model_key), {"model_alias": chosen})
        # As FATE: a component that saved no model (its job failed part way) gives its latest checkpoint.
        try:
            return self.checkpoint(key, step_index=None, step_name=None)
        except RecordNotFound:
            raise RecordNotFound(
                f"ModelLoader: {key.component} of model {key.model_id} version {key.model_version} saved "
                f"neither a model nor a checkpoint on {key.role} {key.party_id}",
                hint="name the component that trained the model (a Reader or an Intersection has none)",
            ) from None

    def checkpoint(self, key: ModelRef, *, step_index: int | None, step_name: str | None) -> LoadedModel:
        self._check_hosted(key.role, key.party_id)
        job = self._training_job(key)
        if job is None:
            raise RecordNotFound(
                f"ModelLoader: model_id {key.model_id!r} with model_version {key.model_version!r} names no "
                f"job trained on {key.role} {key.party_id} at this site, where its checkpoints would be",
                hint=_IDS_HINT,
            )
        if key.component not in party_components(job):
            raise RecordNotFound(
                f"ModelLoader: component_name {key.component!r} is no component of job {job.job_id} on "
                f"{key.role} {key.party_id}",
                hint=f"name one of its components there: {', '.join(party_components(job)) or 'none'}",
            )
        query = CheckpointQuery(key.model_id, job.job_id, key.role, key.party_id, key.component)
        saved = self._checkpoints.list(query)
        steps = ", ".join(f"{entry['step_index']} ({entry['step_name']})" for entry in saved)
        if step_index is None and step_name is None:
            if not saved:
                raise RecordNotFound(
                    f"ModelLoader: {key.component} saved no checkpoint on {key.role} {key.party_id}",
                    hint="train it with callback_param.callbacks [ModelCheckpoint], or load its model",
                )
            step_index = int(saved[-1]["step_index"])
        found = self._checkpoints.get(query, step_index, step_name)
        if not found:
            field, value = ("step_index", step_index) if step_index is not None else ("step_name", step_name)
            raise RecordNotFound(
                f"ModelLoader: {key.component} saved no checkpoint with {field} {value!r} on "
                f"{key.role} {key.party_id}",
                hint=f"pick a saved step: {steps or 'none was saved'} (`accord checkpoint list`)",
            )
        origin = {name: found[name] for name in ("step_index", "step_name", "create_time")}
        return LoadedModel(found["models"][key.component], origin)

    def _training_job(self, key: ModelRef) -> JobRecord | None:
        query = CheckpointQuery(key.model_id, key.model_version, key.role, key.party_id, key.component)
        try:
            return self._checkpoints.training_job(query)
        except RecordNotFound:
            return None

    # ---- CacheLoader ------------------------------------------------------------------------------

    def link_cache(
        self, job_id: str, party: Party, component: str, cache_name: str | None, target: Path
    ) -> str:
        self._check_hosted(party.role, party.party_id)
        rows = self._jobs.parties(job_id)
        if not rows:
            raise RecordNotFound(
                f"CacheLoader: job_id {job_id!r} names no job on this site",
                hint="set job_id to the job whose Intersection ran with run_cache (`accord job list`)",
            )
        mine = [row for row in rows if (row.role, row.party_id) == (party.role, party.party_id)]
        if not mine:
            ran = ", ".join(f"{row.role} {row.party_id}" for row in rows)
            raise NotAPartyOfJob(
                f"CacheLoader: job_id {job_id} ran on {ran}, not on {party.role} {party.party_id}: "
                "its caches belong to those parties",
                hint="a party loads only its own caches: name a job this party ran in, in the same role",
            )
        plan = JobPlan.model_validate(mine[0].plan or {})
        here = plan.party(party.role, party.party_id).components
        caching = [name for name in here if plan.component(name).cache_outputs]
        if component not in caching:
            raise RecordNotFound(
                f"CacheLoader: component_name {component!r} is no component of job {job_id} with a cache "
                f"output on {party.role} {party.party_id}",
                hint=f"name one that has one: {', '.join(caching) or 'the job has none'}",
            )
        outputs = plan.component(component).cache_outputs
        name = cache_name if cache_name is not None else (outputs[0] if len(outputs) == 1 else None)
        if name not in outputs:
            raise RecordNotFound(
                f"CacheLoader: cache_name {cache_name!r} is no cache output of {component} in job {job_id}",
                hint=f"set cache_name to one of {', '.join(outputs)}",
            )
        assert name is not None
        source = layout.cache_dir(
            layout.party_dir(self._home, job_id, party.role, party.party_id), component, name
        )
        if not (source / VALUES_FILE).is_file():
            raise RecordNotFound(
                f"CacheLoader: {component} of job {job_id} left no cache {name!r} on {party.role} "
                f"{party.party_id}",
                hint="name a job whose component ran with run_cache true and succeeded",
            )
        link_tree(source, target)
        return name

    def _check_hosted(self, role: str, party_id: int) -> None:
        if not self._hosts_party(party_id):
            raise PartyNotHosted(
                f"{role} {party_id} is not a party of this site: a site reads only its own parties' jobs",
                hint="run the loader on the site that hosts that party",
            )


def _model_outputs(job: JobRecord | None, component: str) -> tuple[str, ...]:
    """The component's model output names in the DSL that trained it (FATE's model aliases)."""
    assert job is not None
    return JobPlan.model_validate(job.plan or {}).component(component).model_outputs
