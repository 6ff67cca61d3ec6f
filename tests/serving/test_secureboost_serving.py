"""Online inference of HeteroSecureBoost models over the real serving stack: a deployed version of a
binary (breast), a multi-class (vehicle) and a regression (student) model answers every row as the
predict job of the same version scored it, to 1e-9.

Real site, real Temporal jobs (train, deploy, predict), real gRPC: the Inference endpoint and the hosts'
FederationServing on loopback. Small models (few trees, depth 3) keep it quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from accord.components.sdk import Dataset
from accord.federation.routes import RouteTable
from accord.identity import Party
from accord.serving import ServingPeers
from accord.serving.messages import PartialScore
from tests.serving.conftest import (
    GUEST,
    HOST,
    Trained,
    client_rows,
    deploy_and_predict,
    load_and_bind,
    upload,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOLERANCE = 1e-9
COMPONENT = "hetero_secure_boost_0"
CPN_LIST = f"reader_0,data_transform_0,intersection_0,{COMPONENT}"
DSL: dict[str, Any] = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "intersection_0": {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "cache": ["cache"]},
        },
        COMPONENT: {
            "module": "HeteroSecureBoost",
            "input": {"data": {"train_data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}


@dataclass(frozen=True)
class Case:
    data: str
    params: dict[str, Any]
    label_type: str = "int"


CASES = {
    "binary": Case("breast", {"task_type": "classification", "num_trees": 3}),
    "multiclass": Case("vehicle_scale", {"task_type": "classification", "num_trees": 2}),
    "regression": Case(
        "student",
        {"task_type": "regression", "objective_param": {"objective": "lse"}, "num_trees": 3},
        label_type="float",
    ),
}


def conf(case: Case) -> dict[str, Any]:
    booster = {
        "objective_param": {"objective": "cross_entropy"},
        "encrypt_param": {"method": "Paillier", "key_length": 1024},
        "tree_param": {"max_depth": 3},
        **case.params,
    }

    def reader(side: str) -> dict[str, Any]:
        return {"table": {"name": f"{case.data}_hetero_{side}", "namespace": "experiment"}}

    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "common": {COMPONENT: booster},
            "role": {
                "guest": {
                    "0": {
                        "reader_0": reader("guest"),
                        "data_transform_0": {"with_label": True, "label_type": case.label_type},
                    }
                },
                "host": {"0": {"reader_0": reader("host"), "data_transform_0": {"with_label": False}}},
            },
        },
    }


async def train_deploy_predict(trained: Trained, case: Case) -> tuple[str, str, Dataset]:
    """The deployed version and its predict job's output on the guest."""
    upload(trained, case.data)
    return await deploy_and_predict(trained, DSL, conf(case), CPN_LIST, COMPONENT)


@pytest.mark.parametrize("kind", list(CASES))
async def test_online_answers_equal_the_predict_job(trained: Trained, kind: str) -> None:
    case = CASES[kind]
    model_id, version, predicted = await train_deploy_predict(trained, case)
    ids = [str(sid) for sid in predicted.ids()]
    expected_scores = dict(zip(ids, predicted.column("predict_score").tolist(), strict=True))
    expected_labels = dict(zip(ids, predicted.column("predict_result").tolist(), strict=True))
    service_id = f"sbt-{kind}"
    parties = await load_and_bind(trained, model_id, version, service_id)
    assert parties["guest"]["component"] == COMPONENT
    assert parties["host"]["rows"] == len(ids)

    rows = client_rows(case.data)
    assert set(rows) == set(ids)
    reply = await trained.client.batch_predict(
        [(sid, rows[sid]) for sid in ids], service_id=service_id, with_partials=True
    )
    assert [p.sample_id for p in reply.predictions] == ids
    for prediction in reply.predictions:
        sid = prediction.sample_id
        assert abs(prediction.score - expected_scores[sid]) <= TOLERANCE, (sid, prediction.score)
        if case.params["task_type"] == "classification":
            assert prediction.label == int(expected_labels[sid]), sid
        # A tree model has no partial score per party.
        assert not prediction.partials
    # One row alone answers the same as in the batch.
    first = ids[0]
    single = await trained.client.predict(first, rows[first], model_id=model_id, model_version=version)
    assert abs(single.prediction.score - expected_scores[first]) <= TOLERANCE

    if kind == "binary":
        await _host_answers_decisions_only(trained, model_id, version, ids[:3])


async def _host_answers_decisions_only(trained: Trained, model_id: str, version: str, ids: list[str]) -> None:
    """What crosses from the host: 0/1 per node it owns, named by tree and node id, nothing else."""
    peers = ServingPeers(RouteTable({}, default=trained.site.settings.federation_address))
    try:
        reply = await peers.partial_score(
            PartialScore(
                model_id=model_id,
                model_version=version,
                party=Party(role="host", party_id=HOST),
                sample_ids=ids,
            ),
            source=Party(role="guest", party_id=GUEST),
        )
    finally:
        await peers.close()
    assert not reply.partials and reply.columns and len(reply.vectors) == len(ids)
    assert all(value in (0.0, 1.0) for vector in reply.vectors for value in vector)
    for column in reply.columns:
        tree, node = column.split(".")
        assert tree.isdigit() and node.isdigit()
