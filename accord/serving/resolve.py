"""Which stored components make up a party's part of a model version, and where a host's rows come from.

A version is either a training job's (model_version = the job id) or a deployed one, whose
``pipeline`` entry names the training job it came from. Either way the training job's plan says which
component is the model that scores (HeteroLR, HeteroSecureBoost, ...), which DataTransform parsed its
input and which Reader's table fed that.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.dsl_compiler import ComponentPlan, JobPlan, compile_job
from accord.errors import ArgumentError, RecordNotFound
from accord.model_store import ModelStore, VersionKey
from accord.persistence import JobRepository, ModelRepository
from accord.serving.messages import TableName
from accord.site.deploy import PIPELINE

# The modules whose scorer serving knows how to use: summed (the hetero linear models), combined (hetero
# trees), sealed (HeteroNN: hosts answer ciphertexts under the guest's key) or whole (HomoLR,
# HomoSecureBoost and HomoNN, scored by the guest alone).
SERVED = frozenset(
    {
        "HeteroLR",
        "HeteroLinR",
        "HeteroPoisson",
        "HeteroSSHELR",
        "HeteroSSHELinR",
        "HeteroSecureBoost",
        "HeteroFastSecureBoost",
        "HomoSecureBoost",
        "HomoLR",
        "HomoNN",
        "HeteroNN",
    }
)
TRANSFORM = "DataTransform"
READER = "Reader"
# Components that only select rows: what reaches the model is still DataTransform's features.
ROW_SELECTORS = frozenset({"Intersection"})


@dataclass(frozen=True)
class PartSource:
    plan: JobPlan
    # The component whose scorer serves (its model is this party's part).
    scoring: str
    transform: str
    reader_table: TableName | None

    @property
    def guests(self) -> tuple[int, ...]:
        return tuple(self.plan.roles.get("guest", ()))

    @property
    def hosts(self) -> tuple[int, ...]:
        return tuple(self.plan.roles.get("host", ()))


def resolve_part(
    models: ModelStore,
    records: ModelRepository,
    jobs: JobRepository,
    key: VersionKey,
) -> PartSource:
    """The components of one party's model version that online inference uses."""
    model_id, model_version, role, party_id = key.model_id, key.model_version, key.role, key.party_id
    stored = {
        record.component_name
        for record in records.find(model_id, model_version=model_version, role=role, party_id=party_id)
    }
    if not stored:
        raise RecordNotFound(
            f"no model {model_id} version {model_version} of {role} {party_id} on this site",
            hint="pass the model_id and model_version a training job or `accord model deploy` printed",
            model_id=model_id,
            model_version=model_version,
        )
    plan = _training_plan(models, jobs, key, has_pipeline=PIPELINE in stored)
    scoring = next((cpn for cpn in plan.components if cpn.module in SERVED and cpn.name in stored), None)
    if scoring is None:
        raise ArgumentError(
            f"model {model_id} version {model_version} has no model that serves online on {role} "
            f"{party_id} (one of {', '.join(sorted(SERVED))})",
            hint="deploy a version that includes the model component (--cpn-list)",
            model_id=model_id,
            model_version=model_version,
        )
    transform = _walk_to_transform(plan, scoring)
    if transform.name not in stored:
        raise ArgumentError(
            f"model {model_id} version {model_version} lacks {transform.name}, the DataTransform that "
            f"parsed {scoring.name}'s rows",
            hint=f"deploy a version with both {transform.name} and {scoring.name} (--cpn-list)",
        )
    reader = _data_source(plan, transform)
    table = None
    if reader is not None and reader.module == READER:
        section = plan.party(role, party_id).component_parameters.get(reader.name, {})
        if isinstance(section.get("table"), dict):
            table = TableName.model_validate(section["table"])
    return PartSource(plan, scoring.name, transform.name, table)


def _training_plan(
    models: ModelStore, jobs: JobRepository, key: VersionKey, *, has_pipeline: bool
) -> JobPlan:
    model_id, model_version, role, party_id = key.model_id, key.model_version, key.role, key.party_id
    pipeline = models.load(key.component(PIPELINE)) if has_pipeline else None
    training_job = str(pipeline.get("parent_model_version") or model_version) if pipeline else model_version
    found = jobs.parties(training_job, role=role, party_id=party_id)
    if found and found[0].plan:
        return JobPlan.model_validate(found[0].plan)
    if pipeline is not None:
        # The job's rows are gone (or never were on this site); the deployed copy of its files is not.
        return compile_job(pipeline["train_dsl"], pipeline["train_runtime_conf"])
    raise RecordNotFound(
        f"model {model_id} version {model_version}: its training job {training_job} is not on this site",
        hint="publish a deployed version (`accord model deploy`), which keeps the training DSL and conf",
    )


def _data_source(plan: JobPlan, component: ComponentPlan) -> ComponentPlan | None:
    refs = [ref for ref in component.inputs if ref.kind == "data" and not ref.external]
    preferred = [ref for ref in refs if ref.slot in ("train_data", "data")] or refs
    return plan.component(preferred[0].component) if preferred else None


def _walk_to_transform(plan: JobPlan, scoring: ComponentPlan) -> ComponentPlan:
    current = _data_source(plan, scoring)
    while current is not None and current.module in ROW_SELECTORS:
        current = _data_source(plan, current)
    if current is None or current.module != TRANSFORM:
        what = f"{current.name} ({current.module})" if current is not None else "no DataTransform"
        raise ArgumentError(
            f"{scoring.name} is fed by {what}: online inference applies DataTransform and then "
            f"{scoring.module} only, with nothing but Intersection between them",
            hint=f"serve a model whose {scoring.module} reads DataTransform's output directly or through "
            "Intersection (feature scaling or binning online is not supported yet)",
        )
    return current
