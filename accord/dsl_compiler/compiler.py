"""DSL v2 + runtime conf v2 → :class:`JobPlan`. Pure: no settings, database, network or clock."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.dsl_compiler import graph
from accord.dsl_compiler.catalog import ROLES, ModuleSpec
from accord.dsl_compiler.jobparams import (
    JobDefaults,
    check_reuse_components,
    party_resources,
    resolve_job_parameters,
    unknown_key_warnings,
)
from accord.dsl_compiler.jsonio import MAX_DEPTH, check_document, read_json_file
from accord.dsl_compiler.params import merge_all, ordered_sections
from accord.dsl_compiler.plan import (
    ComponentPlan,
    InputRef,
    JobParameters,
    JobPlan,
    PartyPlan,
    RunMode,
)
from accord.dsl_compiler.roles import check_initiator, check_roles, check_section_roles
from accord.dsl_compiler.schema import Dsl, RuntimeConf, parse_conf, parse_dsl
from accord.errors import (
    ConfStructureError,
    DslStructureError,
    JobParameterError,
    ModelInputError,
    PredictModelError,
    ReaderTableError,
    UnknownComponentParametersError,
)
from accord.identity import Party
from accord.names import check_name

READER_MODULES = frozenset({"Reader"})


class CompileOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: JobDefaults = Field(default_factory=JobDefaults)
    # The id the job will get; it is the model_version of a training job.
    job_id: str | None = None
    # A predict conf may hold empty model_id/model_version placeholders that FATE-Test fills from the
    # training task it depends on; validation accepts them with a warning, submission does not.
    allow_unbound_model: bool = False
    # FATE ignores parameters for components the DSL does not have, and some of its own examples
    # carry such leftovers; by default they are a warning, in strict mode an error.
    strict: bool = False
    # Modules that installed plug-ins add to FATE's catalog, by name.
    extra_modules: dict[str, ModuleSpec] = Field(default_factory=dict)
    # Deeper documents are refused: the job could not be stored, sent to Temporal or shown.
    max_depth: int = Field(default=MAX_DEPTH, ge=8)


# Component and output names become task ids (a 128-character column), directories and table names.
MAX_COMPONENT_NAME_CHARS = 128
NAME_HINT = "use letters, digits and '_' as FATE's examples do (e.g. hetero_lr_0)"


def model_id_for(roles: Mapping[str, tuple[int, ...]]) -> str:
    """FATE's model id: roles sorted by name, each with its sorted distinct party ids."""
    parts = [f"{role}-{'_'.join(str(p) for p in sorted(set(ids)))}" for role, ids in sorted(roles.items())]
    return "#".join([*parts, "model"])


def compile_files(
    dsl_path: str | Path, conf_path: str | Path, options: CompileOptions | None = None
) -> JobPlan:
    return compile_job(read_json_file(dsl_path, "dsl"), read_json_file(conf_path, "conf"), options)


def compile_job(
    dsl: Dsl | Mapping[str, Any],
    conf: RuntimeConf | Mapping[str, Any],
    options: CompileOptions | None = None,
) -> JobPlan:
    opts = options or CompileOptions()
    # Checked before anything walks them recursively (parsing, the parameter merge).
    raw_dsl = dsl.model_dump() if isinstance(dsl, Dsl) else dsl
    raw_conf = conf.model_dump() if isinstance(conf, RuntimeConf) else conf
    check_document(raw_dsl, "dsl", max_depth=opts.max_depth, error=DslStructureError)
    check_document(raw_conf, "conf", max_depth=opts.max_depth, error=ConfStructureError)
    dsl_model = dsl if isinstance(dsl, Dsl) else parse_dsl(dict(dsl))
    conf_model = conf if isinstance(conf, RuntimeConf) else parse_conf(dict(conf))
    _check_names(dsl_model)
    warnings: list[str] = []
    if conf_model.dsl_version is None:
        warnings.append("conf has no dsl_version; read as dsl_version 2")

    roles = check_roles(conf_model.role)
    initiator = check_initiator(conf_model.initiator, roles)

    graph.require_components(dsl_model)
    specs = graph.resolve_modules(dsl_model, opts.extra_modules)
    graph.check_outputs(dsl_model, specs)
    inputs = graph.collect_inputs(dsl_model, specs)
    upstream = {
        name: tuple(dict.fromkeys(ref.component for ref in refs if not ref.external))
        for name, refs in inputs.items()
    }
    order = graph.topological_order(list(dsl_model.components), upstream)
    stage_of = graph.stage_numbers(order, upstream)

    job_sections = conf_model.job_parameters
    check_section_roles(job_sections.role, roles, "job_parameters.role")
    warnings += unknown_key_warnings(job_sections.common, "job_parameters.common")
    for role, by_index in job_sections.role.items():
        for key, body in by_index.items():
            warnings += unknown_key_warnings(body, f"job_parameters.role.{role}.{key}")
    cpn_sections = conf_model.component_parameters
    check_section_roles(cpn_sections.role, roles, "component_parameters.role")
    for error in _parameter_component_errors(cpn_sections.common, cpn_sections.role, dsl_model):
        if opts.strict:
            raise error
        warnings.append(f"{error.message}; they are ignored")

    has_external = any(ref.external for refs in inputs.values() for ref in refs)
    job_type_given = _job_type_given(job_sections.common, job_sections.role)
    runs_on = {name: _runs_on(spec, roles) for name, spec in specs.items()}

    parties: list[PartyPlan] = []
    for role, ids in roles.items():
        job_layers = ordered_sections(
            job_sections.role.get(role, {}), len(ids), f"job_parameters.role.{role}"
        )
        cpn_layers = ordered_sections(
            cpn_sections.role.get(role, {}), len(ids), f"component_parameters.role.{role}"
        )
        for index, party_id in enumerate(ids):
            raw_job = merge_all([job_sections.common, *(body for idx, body in job_layers if index in idx)])
            if has_external and not job_type_given:
                raw_job["job_type"] = "predict"
            where = f"job_parameters (role {role}, party {party_id})"
            params = resolve_job_parameters(raw_job, opts.defaults, where)
            check_reuse_components(params, order, where)
            mine = tuple(name for name in order if role in runs_on[name])
            component_params = {
                name: merge_all(
                    [
                        _component_section(cpn_sections.common, name, "component_parameters.common"),
                        *(
                            _component_section(body, name, f"component_parameters.role.{role}")
                            for idx, body in cpn_layers
                            if index in idx
                        ),
                    ]
                )
                for name in mine
            }
            for table_error in _reader_table_errors(specs, component_params, role, party_id):
                # A predict job inherits component parameters from its training job's conf, which
                # the compiler does not see; the table may come from there.
                if params.job_type == "train" or opts.strict:
                    raise table_error
                warnings.append(f"{table_error.message}; it must come from the training job's conf")
            parties.append(
                PartyPlan(
                    role=role,
                    index=index,
                    party_id=party_id,
                    job_parameters=params,
                    resources=party_resources(params, role, opts.defaults.computing_nodes, where),
                    components=mine,
                    component_parameters=component_params,
                )
            )

    job = _job_wide(parties, initiator)
    if has_external and not job_type_given:
        warnings.append("no job_type given and the DSL uses deployed models (pipeline.*): read as predict")
    model_id, model_version = _model_identity(job, roles, opts, has_external, warnings)

    components = tuple(
        ComponentPlan(
            name=name,
            module=specs[name].name,
            module_as_written=dsl_model.components[name].module,
            provider=dsl_model.components[name].provider,
            inputs=inputs[name],
            data_outputs=tuple(dsl_model.components[name].output.data),
            model_outputs=tuple(dsl_model.components[name].output.model),
            cache_outputs=tuple(dsl_model.components[name].output.cache),
            upstream=upstream[name],
            downstream=tuple(n for n in order if name in upstream[n]),
            stage=stage_of[name],
            mode=_mode(inputs[name]),
            roles=runs_on[name],
        )
        for name in order
    )
    for cpn in components:
        if not cpn.roles:
            warnings.append(
                f"component '{cpn.name}' ({cpn.module}) runs on {', '.join(sorted(specs[cpn.name].roles))}, "
                "none of which is in this job"
            )
    stage_count = max(stage_of.values()) + 1
    stages = tuple(tuple(n for n in order if stage_of[n] == s) for s in range(stage_count))
    return JobPlan(
        dsl_version=2,
        job_type=job.job_type,
        initiator=initiator,
        roles=roles,
        components=components,
        order=tuple(order),
        stages=stages,
        parties=tuple(parties),
        model_id=model_id,
        model_version=model_version,
        warnings=tuple(warnings),
    )


def _check_names(dsl: Dsl) -> None:
    for name, cpn in dsl.components.items():
        check_name(name, "dsl: component name", max_chars=MAX_COMPONENT_NAME_CHARS, hint=NAME_HINT)
        for kind, outputs in (
            ("data", cpn.output.data),
            ("model", cpn.output.model),
            ("cache", cpn.output.cache),
        ):
            for output in outputs:
                check_name(
                    output,
                    f"dsl: component '{name}' output.{kind} name",
                    max_chars=MAX_COMPONENT_NAME_CHARS,
                    hint='name outputs as FATE does, e.g. "data" or "model"',
                )


def _runs_on(spec: ModuleSpec, roles: Mapping[str, tuple[int, ...]]) -> tuple[str, ...]:
    return tuple(role for role in ROLES if role in spec.roles and role in roles)


def _mode(refs: tuple[InputRef, ...]) -> RunMode:
    slots = {ref.slot for ref in refs if ref.kind == "data"}
    if "train_data" in slots:
        return RunMode.FIT
    if "test_data" in slots or any(ref.kind == "model" for ref in refs):
        return RunMode.PREDICT
    return RunMode.FIT


def _job_type_given(common: Mapping[str, Any], by_role: Mapping[str, Mapping[str, Any]]) -> bool:
    if common.get("job_type") is not None:
        return True
    return any(
        body.get("job_type") is not None for sections in by_role.values() for body in sections.values()
    )


def _component_section(section: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    body = section.get(name, {})
    if not isinstance(body, Mapping):
        raise ConfStructureError(
            f"conf: {where}.{name} must be an object of parameters, found {type(body).__name__}",
            hint=f'write "{name}": {{"<parameter>": <value>}}',
            component=name,
        )
    return body


def _parameter_component_errors(
    common: Mapping[str, Any], by_role: Mapping[str, Mapping[str, Mapping[str, Any]]], dsl: Dsl
) -> list[UnknownComponentParametersError]:
    named = [("component_parameters.common", name) for name in common]
    for role, sections in by_role.items():
        for key, body in sections.items():
            named += [(f"component_parameters.role.{role}.{key}", name) for name in body]
    return [
        UnknownComponentParametersError(
            f"conf: {where} sets parameters for '{name}', which is not a component of the DSL",
            hint="remove them or rename them to a DSL component"
            + graph.did_you_mean(name, list(dsl.components)),
            component=name,
        )
        for where, name in named
        if name not in dsl.components
    ]


def _reader_table_errors(
    specs: Mapping[str, ModuleSpec], params: Mapping[str, Mapping[str, Any]], role: str, party_id: int
) -> list[ReaderTableError]:
    errors = []
    for name, values in params.items():
        if specs[name].name not in READER_MODULES:
            continue
        table = values.get("table")
        ok = isinstance(table, Mapping) and all(
            isinstance(table.get(k), str | int) and str(table.get(k)).strip() for k in ("name", "namespace")
        )
        if not ok:
            errors.append(
                ReaderTableError(
                    f"conf: Reader '{name}' has no table for {role} {party_id}",
                    hint=f"set component_parameters.role.{role}.<index>.{name}.table = "
                    '{"name": "<table name>", "namespace": "<namespace>"}',
                    component=name,
                    role=role,
                    party_id=party_id,
                )
            )
    return errors


def _job_wide(parties: list[PartyPlan], initiator: Party) -> JobParameters:
    """The initiator's parameters, after checking the job-wide ones agree on every party."""
    job = next(
        p.job_parameters for p in parties if p.role == initiator.role and p.party_id == initiator.party_id
    )
    for party in parties:
        for key in ("job_type", "model_id", "model_version"):
            if getattr(party.job_parameters, key) != getattr(job, key):
                raise JobParameterError(
                    f"conf: job_parameters.{key} differs between parties ({party.role} {party.party_id} "
                    f"has {getattr(party.job_parameters, key)!r}, the initiator "
                    f"{getattr(job, key)!r})",
                    hint=f"set {key} once, in job_parameters.common",
                    field=key,
                )
    return job


def _model_identity(
    job: JobParameters,
    roles: Mapping[str, tuple[int, ...]],
    opts: CompileOptions,
    has_external: bool,
    warnings: list[str],
) -> tuple[str, str | None]:
    if job.job_type == "train":
        if has_external:
            raise ModelInputError(
                "dsl: model inputs 'pipeline.<component>.model' use a deployed model, but job_type is train",
                hint='set job_parameters.common.job_type = "predict" with model_id and model_version',
            )
        return model_id_for(roles), opts.job_id
    missing = [key for key in ("model_id", "model_version") if getattr(job, key) is None]
    if missing:
        raise PredictModelError(
            f"conf: a predict job needs job_parameters.common.{' and '.join(missing)}",
            hint="give the model_id and model_version of the deployed training job "
            "(`accord job submit` of the training job prints them as model_info)",
        )
    empty = [key for key in ("model_id", "model_version") if not str(getattr(job, key)).strip()]
    if empty and not opts.allow_unbound_model:
        raise PredictModelError(
            f"conf: job_parameters.common.{' and '.join(empty)} of a predict job is empty",
            hint="fill in the model_id and model_version of the deployed training job",
        )
    if empty:
        warnings.append(
            f"predict job with empty {' and '.join(empty)}: fill them in before submitting "
            "(FATE-Test fills them from the training task named in deps)"
        )
    return str(job.model_id), job.model_version
