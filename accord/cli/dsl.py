"""``accord dsl``: check DSL v2 / runtime conf v2 files and derive predict DSLs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accord.cli.root import coded_errors, emit
from accord.components import ComponentRegistry
from accord.dsl_compiler import CompileOptions, JobPlan, compile_files, generate_predict_dsl, read_json_file
from accord.settings import Settings


@click.group()
def dsl() -> None:
    """Check DSL v2 / runtime conf v2 files and derive predict DSLs."""


def _runnable_warnings(plan: JobPlan, available: frozenset[str]) -> list[str]:
    missing = sorted({cpn.module for cpn in plan.components if cpn.module not in available})
    if not missing:
        return []
    return [f"no implementation installed yet for module(s) {', '.join(missing)}: the job cannot run yet"]


@dsl.command("validate")
@click.option("-d", "--dsl", "dsl_path", required=True, type=click.Path(path_type=Path), help="DSL v2 JSON")
@click.option(
    "-c", "--conf", "conf_path", required=True, type=click.Path(path_type=Path), help="runtime conf v2"
)
@click.option("--json", "as_json", is_flag=True, help="print the whole plan as JSON")
@click.option("--strict", is_flag=True, help="treat what FATE tolerates (stale parameters) as errors")
@coded_errors
def validate(dsl_path: Path, conf_path: Path, as_json: bool, strict: bool) -> None:
    """Compile a job and print its plan; exit 2 with a coded message when the files are wrong."""
    # The same registry a site submits against: installed entry points and ACCORD_COMPONENT_MODULES.
    registry = ComponentRegistry.discover(Settings.from_env().component_modules)
    options = CompileOptions(
        allow_unbound_model=not strict, strict=strict, extra_modules=registry.extra_specs()
    )
    plan = compile_files(dsl_path, conf_path, options)
    warnings = [*plan.warnings, *_runnable_warnings(plan, registry.modules())]
    if as_json:
        data = plan.model_dump(mode="json")
        data["warnings"] = warnings
        emit({"retcode": 0, "retmsg": "success", "data": data})
        return
    click.echo(render_plan(plan, warnings))


def render_plan(plan: JobPlan, warnings: list[str]) -> str:
    init = plan.initiator
    lines = [
        f"{plan.job_type} job, initiator {init.role} {init.party_id}",
        f"model_id: {plan.model_id}"
        + (f"  model_version: {plan.model_version}" if plan.model_version else ""),
        "parties:",
        *(f"  {role:<8} {', '.join(map(str, ids))}" for role, ids in plan.roles.items()),
        f"components ({len(plan.components)} in {len(plan.stages)} stages):",
    ]
    width = max(len(c.name) for c in plan.components)
    module_width = max(len(c.module) for c in plan.components)
    for cpn in plan.components:
        lines.append(
            f"  stage {cpn.stage:<3} {cpn.name:<{width}}  {cpn.module:<{module_width}}  {cpn.mode.value:<7}  "
            f"{','.join(cpn.roles) or '-'}"
        )
    lines.append("parties' engines and resources:")
    for party in plan.parties:
        p, r = party.job_parameters, party.resources
        lines.append(
            f"  {party.role} {party.party_id}: computing {p.computing_engine}, storage {p.storage_engine}, "
            f"federation {p.federation_engine} ({p.federated_mode}); task_cores {p.task_cores} -> "
            f"{r.task_cores_per_node} x {r.task_nodes} node(s), task_parallelism {p.task_parallelism}, "
            f"apply {r.apply_cores} cores; runs {len(party.components)} component(s)"
        )
    if warnings:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in warnings]
    lines.append("valid")
    return "\n".join(lines)


@dsl.command("predict")
@click.option("-d", "--dsl", "dsl_path", required=True, type=click.Path(path_type=Path), help="training DSL")
@click.option("--cpn-list", "cpn_list", required=True, help="components to deploy, comma separated")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="write the predict DSL to this file")
@coded_errors
def predict(dsl_path: Path, cpn_list: str, output: Path | None) -> None:
    """Print the predict DSL that deploying CPN_LIST of a training DSL gives."""
    predict_dsl = generate_predict_dsl(read_json_file(dsl_path, "dsl"), cpn_list)
    text = json.dumps(predict_dsl.to_json_dict(), indent=4)
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    emit({"retcode": 0, "retmsg": "success", "data": {"predict_dsl_path": str(output)}})
