"""``EvaluateParam``: FATE 1.11 defaults, aliases and checks, and every Evaluation conf in the examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accord.components.evaluation.params import (
    BINARY_METRICS,
    MULTI_METRICS,
    REGRESSION_METRICS,
    EvaluateParam,
)
from accord.errors import ComponentParameterError
from tests.corpus import corpus_jobs, load


def test_defaults_are_fate_defaults() -> None:
    param = EvaluateParam()
    assert (param.eval_type, param.pos_label, param.need_run) == ("binary", 1, True)
    assert (param.unfold_multi_result, param.run_clustering_arbiter_metric) == (False, False)
    assert param.metrics == BINARY_METRICS
    assert EvaluateParam(eval_type="Multi").metrics == MULTI_METRICS
    assert EvaluateParam(eval_type="REGRESSION", metrics=[]).metrics == REGRESSION_METRICS
    assert EvaluateParam.from_conf(None) == param


def test_metric_names_are_resolved_like_fate() -> None:
    regression = EvaluateParam(eval_type="regression", metrics=["MAE", "l2", "rmse", "r2", "mae"])
    assert regression.metrics == (
        "mean_absolute_error",
        "mean_squared_error",
        "root_mean_squared_error",
        "r2_score",
    )
    assert EvaluateParam(metrics=["recall", "auc"]).metrics == ("recall", "auc", "precision")
    assert EvaluateParam(eval_type="multi", metrics=["precision"]).metrics == ("precision", "recall")
    assert EvaluateParam(eval_type="multi", metrics=["acc"]).metrics == ("accuracy",)
    assert EvaluateParam(pos_label="yes").pos_label == "yes"
    assert EvaluateParam(pos_label=2.0).pos_label == 2.0


@pytest.mark.parametrize(
    ("conf", "field", "words"),
    [
        ({"eval_type": "ranking"}, "eval_type", "binary, multi, regression, clustering"),
        ({"eval_type": 3}, "eval_type", "binary"),
        ({"metrics": ["auc", "bleu"]}, "metrics", "is unknown"),
        (
            {"eval_type": "regression", "metrics": ["auc"]},
            "metrics",
            "not a metric of eval_type 'regression'",
        ),
        ({"eval_type": "regression", "metrics": ["msle"]}, "metrics", "explained_variance"),
        ({"metrics": "auc"}, "metrics", "a list of metric names"),
        ({"metrics": [1]}, "metrics", "metric names"),
        ({"pos_label": True}, "pos_label", "an int, a float or a str"),
        ({"pos_label": [1]}, "pos_label", "an int, a float or a str"),
        ({"need_run": "yes"}, "need_run", "true or false"),
        ({"unfold_multi_result": 1}, "unfold_multi_result", "true or false"),
        ({"eval_typ": "binary"}, "eval_typ", "eval_type, pos_label"),
    ],
)
def test_bad_parameters_name_field_and_allowed_values(conf: dict[str, Any], field: str, words: str) -> None:
    builders: list[Callable[[], EvaluateParam]] = [
        lambda: EvaluateParam(**conf),
        lambda: EvaluateParam.from_conf(conf),
    ]
    for build in builders:
        with pytest.raises(ComponentParameterError) as raised:
            build()
        assert f"Evaluation parameter {field}=" in raised.value.message
        assert words in raised.value.retmsg
        assert raised.value.details["field"] == field


def test_parameters_are_immutable() -> None:
    param = EvaluateParam()
    with pytest.raises(Exception, match="frozen"):
        param.eval_type = "multi"  # type: ignore[misc]


def _evaluation_confs() -> list[tuple[str, dict[str, Any]]]:
    """Every parameter section of an Evaluation component in FATE's example jobs."""
    found: list[tuple[str, dict[str, Any]]] = []
    for job in corpus_jobs():
        dsl, conf = load(job.dsl_path), load(job.conf_path)
        evaluations = {
            name for name, spec in dsl.get("components", {}).items() if spec.get("module") == "Evaluation"
        }
        parameters = conf.get("component_parameters", {})
        sections = [parameters.get("common", {})]
        for parties in parameters.get("role", {}).values():
            sections.extend(parties.values())
        found.extend(
            (f"{job.id}:{name}", section[name])
            for section in sections
            for name in evaluations
            if isinstance(section.get(name), dict)
        )
    return found


def test_every_fate_example_conf_validates() -> None:
    confs = _evaluation_confs()
    assert len(confs) > 30
    for where, conf in confs:
        param = EvaluateParam.from_conf(conf)
        assert param.eval_type == conf.get("eval_type", "binary").lower(), where
        assert param.metrics, where
