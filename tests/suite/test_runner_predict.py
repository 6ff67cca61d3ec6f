"""How `accord suite` turns a predict task into a job: what it deploys and on which parties it runs."""

from __future__ import annotations

from typing import Any

from accord.suite.runner import _deployed_components, _on_training_parties


def _component(module: str, data: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"module": module}
    if data:
        body["input"] = {"data": {"data": data}}
    return body


def test_a_predict_dsl_reading_with_another_reader_deploys_the_training_reader_too() -> None:
    # homo_secureboost's predict DSL reads with reader_1 where training fed data_transform_0 from reader_0.
    training = {
        "components": {
            "reader_0": _component("Reader"),
            "reader_1": _component("Reader"),
            "data_transform_0": _component("DataTransform", ["reader_0.data"]),
            "homo_secureboost_0": _component("HomoSecureBoost", ["data_transform_0.data"]),
        }
    }
    predict = {
        "components": {
            "reader_1": _component("Reader"),
            "data_transform_0": _component("DataTransform", ["reader_1.data"]),
            "homo_secureboost_0": _component("HomoSecureBoost", ["data_transform_0.data"]),
        }
    }
    assert _deployed_components(predict, training) == ["reader_0", "data_transform_0", "homo_secureboost_0"]


def test_a_predict_conf_runs_on_the_training_parties_by_position() -> None:
    training = {"initiator": {"role": "guest", "party_id": 10000}, "role": {"guest": [10000], "host": [9998]}}
    predict = {
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {"role": {"guest": {"0": {"reader_1": {"table": {"name": "t"}}}}}},
    }
    moved = _on_training_parties(predict, training)
    assert moved["role"] == training["role"]
    assert moved["initiator"] == {"role": "guest", "party_id": 10000}
    assert moved["component_parameters"] == predict["component_parameters"]
    # Other role counts: the predict conf is kept as it is.
    assert _on_training_parties(predict, {"role": {"guest": [1], "host": [2, 3]}}) == predict


def test_a_predict_role_the_model_never_had_is_left_out() -> None:
    # hetero_sshe_lr's predict conf names an arbiter (9999); the SSHE training had guest and host only.
    training = {"role": {"guest": [9999], "host": [10000]}}
    predict = {
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [9999]},
    }
    assert _on_training_parties(predict, training)["role"] == training["role"]
