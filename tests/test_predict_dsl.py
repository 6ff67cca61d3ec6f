"""Predict-DSL generation matches the predict DSLs FATE ships for its training examples."""

from __future__ import annotations

import pytest

from accord.dsl_compiler import CompileOptions, compile_job, generate_predict_dsl
from accord.errors import DeployComponentError
from tests.corpus import DSL_V2, bind_model, load

LR = DSL_V2 / "hetero_logistic_regression"
TRAIN = load(LR / "hetero_lr_normal_dsl.json")
DEPLOY = ["reader_0", "data_transform_0", "intersection_0", "hetero_lr_0"]


def test_generated_dsl_equals_fates_predict_dsl() -> None:
    generated = generate_predict_dsl(TRAIN, ",".join(DEPLOY)).to_json_dict()
    assert generated == load(LR / "hetero_lr_normal_predict_dsl.json")


def test_generated_dsl_compiles_as_a_predict_job() -> None:
    predict = generate_predict_dsl(TRAIN, DEPLOY)
    conf = bind_model(load(LR / "hetero_lr_normal_predict_conf.json"), "m", "v")
    plan = compile_job(predict, conf, CompileOptions())
    assert plan.job_type == "predict"
    assert plan.order == tuple(DEPLOY)
    assert plan.component("hetero_lr_0").mode == "predict"


def test_evaluation_may_follow() -> None:
    predict = generate_predict_dsl(TRAIN, [*DEPLOY, "evaluation_0"]).to_json_dict()
    assert predict["components"]["evaluation_0"]["input"] == {"data": {"data": ["hetero_lr_0.data"]}}


def test_validate_data_is_dropped_and_train_data_becomes_test_data() -> None:
    train = load(LR / "hetero_lr_validate_dsl.json")
    names = [n for n in train["components"] if not n.startswith("evaluation")]
    lr_name = next(n for n, c in train["components"].items() if c["module"] == "HeteroLR")
    predict = generate_predict_dsl(train, names).to_json_dict()
    lr = predict["components"][lr_name]
    assert set(lr["input"]["data"]) == {"test_data"}
    assert lr["input"]["model"] == [f"pipeline.{lr_name}.model"]
    assert "model" not in lr["output"]


def test_missing_upstream_is_named() -> None:
    with pytest.raises(DeployComponentError) as caught:
        generate_predict_dsl(TRAIN, ["data_transform_0", "intersection_0", "hetero_lr_0"])
    assert caught.value.code == 10121
    assert "'reader_0' feeds data_transform_0 (input.data.data)" in caught.value.retmsg
    assert "add reader_0 to the cpn-list" in caught.value.retmsg


def test_unknown_and_empty_lists() -> None:
    with pytest.raises(DeployComponentError, match="'hetero_lr_1', not in the training DSL"):
        generate_predict_dsl(TRAIN, ["reader_0", "hetero_lr_1"])
    with pytest.raises(DeployComponentError, match="cpn-list is empty"):
        generate_predict_dsl(TRAIN, " , ")


def test_a_warm_started_component_predicts_with_its_own_model() -> None:
    # FATE's warm start: hetero_lr_1 trains on from hetero_lr_0's model; deployed, each predicts
    # with the model it saved, not the one it started from.
    train = load(LR / "hetero_lr_warm_start_dsl.json")
    names = [n for n in train["components"] if not n.startswith("evaluation")]
    predict = generate_predict_dsl(train, names).to_json_dict()
    for name, component in predict["components"].items():
        if component["module"] == "HeteroLR":
            assert component["input"]["model"] == [f"pipeline.{name}.model"]
