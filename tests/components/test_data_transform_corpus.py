"""Every DataTransform / DataIO parameter section of FATE's example confs validates against the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.components.data_transform import DataTransformParam
from accord.components.sdk import validate_parameters
from accord.dsl_compiler import CompileOptions, compile_job
from accord.errors import ComponentParameterError
from tests.corpus import DSL_V2, CorpusJob, bind_model, corpus_jobs, load

MODULES = {"DataTransform", "DataIO"}
JOBS = corpus_jobs()
BY_ID = {job.id: job for job in JOBS}


def _transform_components(directory: Path) -> set[str]:
    """Component names that some DSL in ``directory`` gives module DataTransform or DataIO."""
    names = set()
    for path in directory.glob("*.json"):
        document = load(path)
        components = document.get("components") if isinstance(document, dict) else None
        if isinstance(components, dict):
            names |= {name for name, body in components.items() if body.get("module") in MODULES}
    return names


def _sections(conf: dict[str, Any], components: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Each DataTransform section as a party receives it: the role section laid over the common one."""
    parameters = conf.get("component_parameters", {})
    common = parameters.get("common", {})
    found = [(f"common.{name}", dict(body)) for name, body in common.items() if name in components]
    for role, by_index in parameters.get("role", {}).items():
        for index, by_component in by_index.items():
            for name, body in by_component.items():
                if name in components:
                    found.append((f"{role}.{index}.{name}", {**common.get(name, {}), **body}))
    return found


CONFS = sorted(DSL_V2.glob("**/*conf*.json"))
SECTIONS = [
    (f"{path.relative_to(DSL_V2)}:{where}", section)
    for path in CONFS
    for where, section in _sections(load(path), _transform_components(path.parent))
]


def test_the_corpus_has_data_transform_sections() -> None:
    assert len(CONFS) > 200
    assert len(SECTIONS) > 400


@pytest.mark.parametrize("where,section", SECTIONS, ids=[where for where, _ in SECTIONS])
def test_corpus_section_validates(where: str, section: dict[str, Any]) -> None:
    params = validate_parameters(DataTransformParam, section, component=where, module="DataTransform")
    # Every field the conf sets survives validation (lower-cased where FATE lower-cases it).
    dumped = params.model_dump()
    for field, value in section.items():
        expected = (
            value.lower() if isinstance(value, str) and field not in ("delimitor", "label_name") else value
        )
        assert dumped[field] == expected, field


def _compiled(job: CorpusJob) -> Any:
    dsl, conf = load(job.dsl_path), load(job.conf_path)
    if job.deps:
        trained = BY_ID[f"{job.suite}/{job.deps}"]
        train_plan = compile_job(load(trained.dsl_path), load(trained.conf_path), CompileOptions(job_id="1"))
        conf = bind_model(conf, train_plan.model_id, "202011180000000000001")
    return compile_job(dsl, conf, CompileOptions(job_id="202011180000000000002"))


@pytest.mark.parametrize("job", JOBS, ids=[job.id for job in JOBS])
def test_compiled_parties_parameters_validate(job: CorpusJob) -> None:
    plan = _compiled(job)
    for component in plan.order:
        if plan.component(component).module != "DataTransform":
            continue
        for party in plan.parties:
            if component in party.components:
                validate_parameters(
                    DataTransformParam,
                    party.component_parameters.get(component, {}),
                    component=component,
                    module="DataTransform",
                )


@pytest.mark.parametrize(
    "section,field",
    [
        ({"input_format": "svmlight"}, "input_format"),
        ({"with_label": "true"}, "with_label"),
        ({"missing_fill_method": "median"}, "missing_fill_method"),
        ({"label_type": "bool"}, "label_type"),
        ({"delimitor": ""}, "delimitor"),
        ({"match_id_index": -1}, "match_id_index"),
        ({"with_lable": True}, "with_lable"),
    ],
)
def test_what_fate_refuses_is_refused_naming_the_field(section: dict[str, Any], field: str) -> None:
    with pytest.raises(ComponentParameterError) as raised:
        validate_parameters(DataTransformParam, section, component="data_transform_0", module="DataTransform")
    assert field in raised.value.message
