"""Each DSL/conf mistake raises its own coded error whose message names the culprit and the fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord import errors
from accord.dsl_compiler import CompileOptions, compile_job, parse_json_text, read_json_file
from tests.corpus import DSL_V2, load

LR = DSL_V2 / "hetero_logistic_regression"
BASE_DSL = load(LR / "hetero_lr_normal_dsl.json")
BASE_CONF = load(LR / "hetero_lr_normal_conf.json")

Doc = dict[str, Any]
Mutation = Callable[[Doc, Doc], None]


def compile_mutated(mutate: Mutation, options: CompileOptions | None = None) -> None:
    dsl, conf = copy.deepcopy(BASE_DSL), copy.deepcopy(BASE_CONF)
    mutate(dsl, conf)
    compile_job(dsl, conf, options)


def _cpn(dsl: Doc, name: str) -> Doc:
    component: Doc = dsl["components"][name]
    return component


def _job(conf: Doc) -> Doc:
    common: Doc = conf.setdefault("job_parameters", {}).setdefault("common", {})
    return common


CASES: list[tuple[str, Mutation, type[errors.AccordError], int, list[str]]] = [
    (
        "missing components",
        lambda d, c: d.pop("components"),
        errors.DslStructureError,
        10102,
        ["missing 'components'"],
    ),
    (
        "missing module",
        lambda d, c: _cpn(d, "hetero_lr_0").pop("module"),
        errors.MissingModuleError,
        10103,
        ["'hetero_lr_0' has no 'module'"],
    ),
    (
        "unknown module",
        lambda d, c: _cpn(d, "hetero_lr_0").update(module="HeteroLr"),
        errors.UnknownModuleError,
        10104,
        ["'hetero_lr_0'", "unknown module 'HeteroLr'", "'HeteroLR'"],
    ),
    (
        "unknown component reference",
        lambda d, c: _cpn(d, "hetero_lr_0")["input"]["data"].update(train_data=["intersect_0.data"]),
        errors.UnknownReferenceError,
        10105,
        [
            "'hetero_lr_0'",
            "input.data.train_data",
            "unknown component 'intersect_0'",
            "did you mean 'intersection_0'",
        ],
    ),
    (
        "unknown output reference",
        lambda d, c: _cpn(d, "hetero_lr_0")["input"]["data"].update(train_data=["intersection_0.output"]),
        errors.UnknownReferenceError,
        10105,
        ["unknown output 'output' of 'intersection_0'", "declares data outputs: data"],
    ),
    (
        "unknown input kind",
        lambda d, c: _cpn(d, "hetero_lr_0")["input"].update(models=["data_transform_0.model"]),
        errors.UnknownInputKindError,
        10106,
        ["'hetero_lr_0'", "unknown input kind 'models'", "data, model, isometric_model, cache"],
    ),
    (
        "unknown data slot",
        lambda d, c: _cpn(d, "hetero_lr_0")["input"].update(data={"training_data": ["intersection_0.data"]}),
        errors.UnknownInputKindError,
        10106,
        ["unknown data input 'training_data'", "did you mean 'train_data'"],
    ),
    (
        "input kind the module does not take",
        lambda d, c: _cpn(d, "evaluation_0")["input"].update(model=["hetero_lr_0.model"]),
        errors.UnknownInputKindError,
        10106,
        ["'evaluation_0' (Evaluation) does not accept input.model"],
    ),
    (
        "duplicate output",
        lambda d, c: _cpn(d, "hetero_lr_0")["output"].update(data=["data", "data"]),
        errors.DuplicateOutputError,
        10107,
        ["'hetero_lr_0' declares output 'data' twice"],
    ),
    (
        "cycle",
        lambda d, c: _cpn(d, "data_transform_0")["input"].update(model=["hetero_lr_0.model"]),
        errors.DependencyCycleError,
        10108,
        ["cycle", "data_transform_0 -> intersection_0 -> hetero_lr_0 -> data_transform_0"],
    ),
    (
        "model input from a data output",
        lambda d, c: _cpn(d, "evaluation_0").update(module="HeteroLR", input={"model": ["hetero_lr_0.data"]}),
        errors.ModelInputError,
        10109,
        ["'evaluation_0' input.model refers to 'hetero_lr_0.data', which is a data output"],
    ),
    (
        "model input from a component without model",
        lambda d, c: _cpn(d, "hetero_lr_0")["input"].update(model=["intersection_0.model"]),
        errors.ModelInputError,
        10109,
        ["'intersection_0' has no model output"],
    ),
    (
        "isometric model from a data output",
        lambda d, c: _cpn(d, "hetero_lr_0").update(
            module="HeteroFeatureSelection",
            input={"data": {"data": ["intersection_0.data"]}, "isometric_model": ["intersection_0.data"]},
        ),
        errors.ModelInputError,
        10109,
        ["input.isometric_model refers to 'intersection_0.data', which is a data output"],
    ),
    (
        "unknown role",
        lambda d, c: c["role"].update(guets=[9998]),
        errors.UnknownRoleError,
        10110,
        ["unknown role 'guets'", "did you mean 'guest'"],
    ),
    (
        "empty role",
        lambda d, c: c["role"].update(host=[]),
        errors.EmptyRoleError,
        10111,
        ["role.host is an empty list"],
    ),
    (
        "party id not an integer",
        lambda d, c: c["role"].update(host=["ten-thousand"]),
        errors.PartyIdError,
        10112,
        ["role.host[0]", "'ten-thousand' is not a whole number"],
    ),
    (
        "party id float",
        lambda d, c: c["role"].update(host=[10000.5]),
        errors.PartyIdError,
        10112,
        ["10000.5"],
    ),
    (
        "initiator not a party",
        lambda d, c: c["initiator"].update(party_id=1234),
        errors.InitiatorError,
        10113,
        ["initiator guest 1234 is not among the job's parties", "[9999]"],
    ),
    (
        "role index out of range",
        lambda d, c: c["component_parameters"]["role"]["host"].update({"1": {"reader_0": {}}}),
        errors.RoleIndexError,
        10114,
        ["component_parameters.role.host.1", "index 1", "has 1 party"],
    ),
    (
        "role index out of range inside a group",
        lambda d, c: c["component_parameters"]["role"]["host"].update({"0|5": {"reader_0": {}}}),
        errors.RoleIndexError,
        10114,
        ["index 5 in '0|5' is out of range"],
    ),
    (
        "role index not a number",
        lambda d, c: c["component_parameters"]["role"]["host"].update({"first": {}}),
        errors.RoleIndexError,
        10114,
        ["'first' is not a party index"],
    ),
    (
        "Reader without a table",
        lambda d, c: c["component_parameters"]["role"]["host"]["0"].pop("reader_0"),
        errors.ReaderTableError,
        10116,
        ["Reader 'reader_0' has no table for host 10000", "reader_0.table"],
    ),
    (
        "backend out of range",
        lambda d, c: _job(c).update(backend=3),
        errors.JobParameterError,
        10117,
        ["backend = 3 is out of range", "from 0 to 2"],
    ),
    (
        "work_mode out of range",
        lambda d, c: _job(c).update(work_mode=2),
        errors.JobParameterError,
        10117,
        ["work_mode = 2", "from 0 to 1"],
    ),
    (
        "job_type unknown",
        lambda d, c: _job(c).update(job_type="serve"),
        errors.JobParameterError,
        10117,
        ["job_type = 'serve'", "'train' or 'predict'"],
    ),
    (
        "task_cores zero",
        lambda d, c: _job(c).update(task_cores=0),
        errors.JobParameterError,
        10117,
        ["task_cores = 0"],
    ),
    (
        "timeout negative",
        lambda d, c: _job(c).update(timeout=-5),
        errors.JobParameterError,
        10117,
        ["timeout = -5"],
    ),
    (
        "collect type unknown",
        lambda d, c: _job(c).update(federated_status_collect_type="POLL"),
        errors.JobParameterError,
        10117,
        ["federated_status_collect_type = 'POLL'", "'PULL'", "'PUSH'"],
    ),
    (
        "predict without model",
        lambda d, c: _job(c).update(job_type="predict"),
        errors.PredictModelError,
        10118,
        ["predict job needs job_parameters.common.model_id and model_version"],
    ),
    (
        "predict without version",
        lambda d, c: _job(c).update(job_type="predict", model_id="arbiter-10000#guest-9999#host-10000#model"),
        errors.PredictModelError,
        10118,
        ["needs job_parameters.common.model_version"],
    ),
    (
        "dsl_version 1 conf",
        lambda d, c: c.update(dsl_version=1),
        errors.DslVersionError,
        10119,
        ["dsl_version 1", "not supported", "component_parameters.common"],
    ),
    (
        "v1 conf without version",
        lambda d, c: c.pop("dsl_version") and c.update(role_parameters={}),
        errors.DslVersionError,
        10119,
        ["dsl_version 1"],
    ),
    (
        "v1 DSL reference",
        lambda d, c: _cpn(d, "reader_0").update(input={"data": {"data": ["args.train_data"]}}),
        errors.DslVersionError,
        10119,
        ["DSL v1 reference 'args.train_data'"],
    ),
    ("conf without role", lambda d, c: c.pop("role"), errors.ConfStructureError, 10120, ["missing 'role'"]),
    (
        "job_parameters not in sections",
        lambda d, c: c.update(job_parameters={"task_cores": 4}),
        errors.ConfStructureError,
        10120,
        ["job_parameters.task_cores", "'common' and 'role' sections"],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "error", "code", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_error_code_and_message(
    mutate: Mutation, error: type[errors.AccordError], code: int, words: list[str]
) -> None:
    with pytest.raises(error) as caught:
        compile_mutated(mutate)
    assert caught.value.code == code
    assert caught.value.hint, "every error says how to fix it"
    for word in words:
        assert word in caught.value.retmsg


def test_parameters_for_unknown_component_is_an_error_in_strict_mode() -> None:
    def mutate(dsl: Doc, conf: Doc) -> None:
        conf["component_parameters"]["common"]["hetero_lr_1"] = {"max_iter": 3}

    with pytest.raises(errors.UnknownComponentParametersError) as caught:
        compile_mutated(mutate, CompileOptions(strict=True))
    assert caught.value.code == 10115
    assert "component_parameters.common sets parameters for 'hetero_lr_1'" in caught.value.retmsg
    assert "did you mean 'hetero_lr_0'" in caught.value.retmsg

    dsl, conf = copy.deepcopy(BASE_DSL), copy.deepcopy(BASE_CONF)
    mutate(dsl, conf)
    plan = compile_job(dsl, conf)
    assert any("'hetero_lr_1'" in w and "ignored" in w for w in plan.warnings), "FATE tolerates it: a warning"


def test_empty_model_placeholder_is_an_error_unless_validating() -> None:
    def mutate(dsl: Doc, conf: Doc) -> None:
        _job(conf).update(job_type="predict", model_id="", model_version="")

    with pytest.raises(errors.PredictModelError) as caught:
        compile_mutated(mutate)
    assert "model_id and model_version of a predict job is empty" in caught.value.retmsg
    dsl, conf = copy.deepcopy(BASE_DSL), copy.deepcopy(BASE_CONF)
    mutate(dsl, conf)
    plan = compile_job(dsl, conf, CompileOptions(allow_unbound_model=True))
    assert any("FATE-Test fills them" in w for w in plan.warnings)


def test_deployed_model_reference_in_a_train_job() -> None:
    def mutate(dsl: Doc, conf: Doc) -> None:
        _cpn(dsl, "hetero_lr_0")["input"]["model"] = ["pipeline.hetero_lr_0.model"]
        _job(conf)["job_type"] = "train"

    with pytest.raises(errors.ModelInputError) as caught:
        compile_mutated(mutate)
    assert "job_type is train" in caught.value.retmsg


def test_json_syntax_error_names_line_and_column() -> None:
    with pytest.raises(errors.JsonSyntaxError) as caught:
        parse_json_text('{\n  "components": {\n    "a": {"module": "Reader",}\n  }\n}', "dsl")
    assert caught.value.code == 10101
    assert "dsl: invalid JSON at line 3 column 30" in caught.value.retmsg
    assert caught.value.details == {"line": 3, "column": 30}


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(errors.JsonSyntaxError, match="top level must be a JSON object"):
        parse_json_text("[1, 2]", "conf")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(errors.InputFileError, match="does not exist"):
        read_json_file(tmp_path / "nope.json", "dsl")
    binary = tmp_path / "garbage.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(errors.JsonSyntaxError, match="not UTF-8"):
        read_json_file(binary, "conf")
