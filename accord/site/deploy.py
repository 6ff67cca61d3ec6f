"""``deploy`` (FATE semantics): a new model version made of chosen components of a trained model.

The initiator's site checks the request, generates the predict DSL from the training DSL and asks
every party of the model — itself included, over the same federation path — to make its part of the
new version: a copy of its listed components' models and a ``pipeline`` entry that records the predict
DSL, the training DSL and conf, and the version it came from (the part FATE keeps in pipeline.pb).
A predict job then names the new version.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from typing import Any

from accord.dsl_compiler import JobPlan, generate_predict_dsl
from accord.dsl_compiler.params import deep_merge
from accord.errors import ArgumentError, ConflictError, DeployComponentError, RecordNotFound
from accord.federation.client import FederationClient
from accord.federation.commands import DeployModel
from accord.identity import Party, new_job_id
from accord.model_store import ModelKey, ModelStore
from accord.persistence import JobRepository, ModelRepository
from accord.persistence.records import JobRecord, ModelRecord
from accord.status import JobStatus

PIPELINE = "pipeline"


@dataclass(frozen=True)
class Deployed:
    model_id: str
    model_version: str
    components: tuple[str, ...]
    predict_dsl: dict[str, Any]


def deploy_party_models(models: ModelStore, record: JobRecord, command: DeployModel) -> None:
    """The destination party's part of a deploy; running it again gives the same version."""
    party = command.party
    if record.status != JobStatus.SUCCESS:
        raise ConflictError(
            f"job {record.job_id} is {record.status.value} on {party}: only a successful training job's "
            "model can be deployed",
            hint="deploy the model of a job that succeeded",
            job_id=record.job_id,
        )
    if record.model_id != command.model_id:
        raise RecordNotFound(
            f"job {record.job_id} trained model {record.model_id}, not {command.model_id}",
            hint="pass the model_id the training job printed",
        )
    copied = []
    for component in command.components:
        source = ModelKey(command.model_id, record.job_id, party.role, party.party_id, component)
        try:
            model = models.load(source)
        except RecordNotFound:
            continue  # a component without a model here (Reader, Intersection, or not on this role)
        models.save(
            ModelKey(command.model_id, command.new_version, party.role, party.party_id, component), model
        )
        copied.append(component)
    models.save(
        ModelKey(command.model_id, command.new_version, party.role, party.party_id, PIPELINE),
        {
            "parent_model_version": record.job_id,
            "components": list(command.components),
            "models": copied,
            "predict_dsl": command.predict_dsl,
            "train_dsl": record.dsl,
            "train_runtime_conf": record.runtime_conf,
        },
    )


class ModelDeployment:
    """The initiator's side: deploy, and the predict DSL and conf of a deployed version."""

    def __init__(
        self, jobs: JobRepository, models: ModelStore, records: ModelRepository, client: FederationClient
    ) -> None:
        self._jobs = jobs
        self._models = models
        self._records = records
        self._client = client

    async def deploy(self, model_id: str, model_version: str, cpn_list: str | list[str]) -> Deployed:
        record = await asyncio.to_thread(self._training_job, model_id, model_version)
        if record.status != JobStatus.SUCCESS:
            raise ConflictError(
                f"model {model_id} version {model_version}: its training job is {record.status.value}",
                hint="deploy the model of a job that succeeded",
                job_id=model_version,
            )
        predict_dsl = generate_predict_dsl(record.dsl, cpn_list).to_json_dict()
        components = tuple(predict_dsl["components"])
        new_version = new_job_id()
        initiator = Party(role=record.role, party_id=record.party_id)
        roles: dict[str, list[int]] = (record.plan or {}).get("roles", {})
        parties = [Party(role=role, party_id=int(pid)) for role, ids in roles.items() for pid in ids]
        await asyncio.gather(
            *(
                self._client.deploy_model(
                    DeployModel(
                        job_id=model_version,
                        party=party,
                        model_id=model_id,
                        new_version=new_version,
                        components=components,
                        predict_dsl=predict_dsl,
                    ),
                    source=initiator,
                    request_id=f"deploy/{new_version}/{party.role}-{party.party_id}",
                )
                for party in parties
            )
        )
        return Deployed(model_id, new_version, components, predict_dsl)

    def _training_job(self, model_id: str, model_version: str) -> JobRecord:
        rows = [row for row in self._jobs.parties(model_version) if row.is_initiator]
        if not rows or rows[0].model_id != model_id:
            raise RecordNotFound(
                f"no model {model_id} version {model_version} trained by a job initiated on this site",
                hint="deploy on the initiator's site, with the model_id and model_version the training "
                "job printed (`accord job query -j JOB_ID`)",
                model_id=model_id,
                model_version=model_version,
            )
        return rows[0]

    def pipeline(self, model_id: str, model_version: str) -> dict[str, Any]:
        """The ``pipeline`` entry of a deployed version on any party of this site."""
        found = self._models_of(model_id, model_version)
        if not found:
            raise RecordNotFound(
                f"no model {model_id} version {model_version} on this site",
                hint="check the model id and version (`accord model list`)",
                model_id=model_id,
                model_version=model_version,
            )
        pipelines = [record for record in found if record.component_name == PIPELINE]
        if not pipelines:
            raise ConflictError(
                f"model {model_id} version {model_version} is not deployed: it has no predict DSL",
                hint="deploy it first (`accord model deploy --model-id ... --model-version ... "
                "--cpn-list ...`), then use the version deploy prints",
                model_id=model_id,
                model_version=model_version,
            )
        first = pipelines[0]
        return self._models.load(ModelKey(model_id, model_version, first.role, first.party_id, PIPELINE))

    def _models_of(self, model_id: str, model_version: str) -> list[ModelRecord]:
        return self._records.find(model_id, model_version=model_version)

    def predict_dsl(self, model_id: str, model_version: str) -> dict[str, Any]:
        predict: dict[str, Any] = self.pipeline(model_id, model_version)["predict_dsl"]
        return predict

    def predict_conf(self, model_id: str, model_version: str) -> dict[str, Any]:
        """A predict conf to start from: the training conf's parties, the deployed version, its readers."""
        pipeline = self.pipeline(model_id, model_version)
        train = pipeline["train_runtime_conf"]
        components = set(pipeline["predict_dsl"]["components"])
        conf: dict[str, Any] = {
            "dsl_version": 2,
            "initiator": copy.deepcopy(train["initiator"]),
            "role": copy.deepcopy(train["role"]),
            "job_parameters": {
                "common": {"job_type": "predict", "model_id": model_id, "model_version": model_version}
            },
        }
        role_sections = train.get("component_parameters", {}).get("role", {})
        kept: dict[str, Any] = {}
        for role, by_index in role_sections.items():
            for index, section in by_index.items():
                readers = {
                    name: copy.deepcopy(body)
                    for name, body in section.items()
                    if name in components and name.startswith("reader")
                }
                if readers:
                    kept.setdefault(role, {})[index] = readers
        if kept:
            conf["component_parameters"] = {"role": kept}
        return conf

    def with_training_parameters(self, dsl: dict[str, Any], conf: dict[str, Any]) -> dict[str, Any] | None:
        """A predict job's conf over the training conf's parameters of the predict DSL's components;
        None when this is no predict job of a deployed version here, or the training conf adds nothing.

        FATE does the same, so that a predict conf need only name its tables: a Reader the predict
        conf leaves out reads the training table, an Evaluation of a multi-class model keeps its
        eval_type. The predict conf's own sections win. Runs before compiling (a predict conf alone
        may not compile); what is wrong with the job is left for compiling and check_predict to say.
        """
        jobs = conf.get("job_parameters")
        common = jobs.get("common") if isinstance(jobs, dict) else None
        components = dsl.get("components")
        own = conf.get("component_parameters", {})
        if not isinstance(common, dict) or not isinstance(components, dict) or not isinstance(own, dict):
            return None
        model_id, model_version = common.get("model_id"), common.get("model_version")
        job_type = common.get("job_type")
        predicting = job_type == "predict" or (job_type is None and _reads_deployed_models(components))
        if not (predicting and isinstance(model_id, str) and isinstance(model_version, str)):
            return None
        try:
            train = self.pipeline(model_id, model_version)["train_runtime_conf"]
        except (RecordNotFound, ConflictError):
            return None
        trained = _sections_of(train.get("component_parameters"), set(components))
        if not trained:
            return None
        merged = copy.deepcopy(conf)
        merged["component_parameters"] = deep_merge(trained, own)
        return merged if merged != conf else None

    def check_predict(self, plan: JobPlan) -> None:
        """Refuse a predict job whose model is unknown, not deployed, or of other parties or components."""
        params = plan.party(plan.initiator.role, plan.initiator.party_id).job_parameters
        model_id, model_version = params.model_id or "", params.model_version or ""
        pipeline = self.pipeline(model_id, model_version)
        trained = {
            role: sorted(int(p) for p in ids) for role, ids in pipeline["train_runtime_conf"]["role"].items()
        }
        wanted = {role: sorted(ids) for role, ids in plan.roles.items()}
        if trained != wanted:
            raise ArgumentError(
                f"the predict job's parties {wanted} differ from those of model {model_id} "
                f"version {model_version}, {trained}",
                hint="a predict job runs on the parties that trained the model: copy `role` from "
                "`accord model get-predict-conf`",
                model_id=model_id,
                model_version=model_version,
            )
        deployed = set(pipeline["components"])
        for component in plan.components:
            for ref in component.inputs:
                if ref.external and ref.component not in deployed:
                    raise DeployComponentError(
                        f"{component.name} reads pipeline.{ref.component}.model, which model version "
                        f"{model_version} does not hold (deployed: {', '.join(sorted(deployed))})",
                        hint="deploy a version with that component, or take the predict DSL from "
                        "`accord model get-predict-dsl`",
                        components=[ref.component],
                    )


def _reads_deployed_models(components: dict[str, Any]) -> bool:
    """Whether a DSL reads ``pipeline.<component>.model`` (the compiler then reads it as predict)."""
    for body in components.values():
        inputs = body.get("input") if isinstance(body, dict) else None
        models = inputs.get("model") if isinstance(inputs, dict) else None
        if isinstance(models, list) and any(str(ref).startswith("pipeline.") for ref in models):
            return True
    return False


def _sections_of(parameters: Any, components: set[str]) -> dict[str, Any]:
    """The ``common`` and ``role`` sections of a training conf's component parameters, limited to
    ``components`` (a predict conf may not set parameters of a component its DSL lacks)."""
    if not isinstance(parameters, dict):
        return {}
    kept: dict[str, Any] = {}
    common = parameters.get("common")
    if isinstance(common, dict):
        shared = {name: body for name, body in common.items() if name in components}
        if shared:
            kept["common"] = copy.deepcopy(shared)
    roles = parameters.get("role")
    if isinstance(roles, dict):
        for role, by_index in roles.items():
            if not isinstance(by_index, dict):
                continue
            for index, section in by_index.items():
                if not isinstance(section, dict):
                    continue
                chosen = {name: body for name, body in section.items() if name in components}
                if chosen:
                    kept.setdefault("role", {}).setdefault(role, {})[index] = copy.deepcopy(chosen)
    return kept
