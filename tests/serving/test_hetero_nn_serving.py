"""Online inference of HeteroNN models over the real serving stack: a deployed version of a binary
(breast), a multi-class (vehicle) and a regression (student) model answers rows as the predict job of
the same version scored them, to 1e-6.

Real site, real Temporal jobs (train, deploy, predict), real gRPC (the Inference endpoint and the
hosts' FederationServing on loopback), real 1024-bit Paillier. Small networks, few epochs. The
binary case also checks what crosses and what is kept: the host stores and answers only ciphertexts
under the guest's key, of ``z_h = a_h·W_hᵀ`` (out_dim values, not the host's bottom output a_h).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from accord.components.nn import define, portable
from accord.components.sdk.scoring import HostAnswers
from accord.crypto import EncryptedVector, PrivateKey, generate_keypair
from accord.errors import ConflictError, DataMismatchError
from accord.federation.routes import RouteTable
from accord.identity import Party
from accord.model_store import ModelStore, VersionKey
from accord.persistence import ModelRepository
from accord.serving import Sample, ServingPeers
from accord.serving.messages import Partials, PartialScore, SealedShare
from accord.serving.parts import host_answers, summed
from accord.serving.sealing import opened
from tests.serving.conftest import (
    GUEST,
    HOST,
    Trained,
    client_rows,
    deploy_and_predict,
    load_and_bind,
    restarted_service,
    upload,
)
from tests.serving.test_secureboost_serving import COMPONENT as SBT_COMPONENT
from tests.serving.test_secureboost_serving import DSL as SBT_DSL

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOLERANCE = 1e-6
COMPONENT = "hetero_nn_0"
CPN_LIST = f"reader_0,data_transform_0,intersection_0,{COMPONENT}"
# The host's bottom output has HOST_DIM values, the interactive layer OUT_DIM: what the host answers
# must be the OUT_DIM values of z_h, never the HOST_DIM of its bottom output.
GUEST_DIM, HOST_DIM, OUT_DIM = 4, 3, 4
# The SecureBoost test's pipeline (Reader, DataTransform, Intersection) with HeteroNN as the model.
DSL: dict[str, Any] = {
    "components": {
        **{name: spec for name, spec in SBT_DSL["components"].items() if name != SBT_COMPONENT},
        COMPONENT: {**SBT_DSL["components"][SBT_COMPONENT], "module": "HeteroNN"},
    }
}


@dataclass(frozen=True)
class Case:
    data: str
    guest_features: int
    host_features: int
    # The top model's outputs and last layer (None: linear), the loss, FATE's task type.
    outputs: int
    last: str | None
    loss: str
    task_type: str = "classification"
    label_type: str = "int"


CASES = {
    "binary": Case("breast", 10, 20, 1, "Sigmoid", "BCELoss"),
    "multiclass": Case("vehicle_scale", 9, 9, 4, "Softmax", "CrossEntropyLoss"),
    "regression": Case("student", 6, 7, 1, None, "MSELoss", "regression", "float"),
}


def _linear(position: int, inputs: int, outputs: int) -> dict[str, Any]:
    return {f"{position}-{position}": {"layer": "Linear", "in_features": inputs, "out_features": outputs}}


def _network(inputs: int, outputs: int, last: str | None) -> dict[str, Any]:
    layers = _linear(0, inputs, outputs)
    if last is not None:
        layers["1-1"] = {"layer": last, **({"dim": 1} if last == "Softmax" else {})}
    return layers


def conf(case: Case) -> dict[str, Any]:
    params = {
        "task_type": case.task_type,
        "epochs": 3,
        "batch_size": -1,
        "interactive_layer_lr": 0.1,
        "encrypt_param": {"key_length": 1024},
        "optimizer": {"optimizer": "Adam", "lr": 0.01, "config_type": "pytorch"},
        "loss": {"loss_fn": case.loss},
        "interactive_layer_define": {
            "0-0": {
                "layer": "InteractiveLayer",
                "out_dim": OUT_DIM,
                "guest_dim": GUEST_DIM,
                "host_dim": HOST_DIM,
                "host_num": 1,
                "activation": "relu",
            }
        },
    }

    def reader(side: str) -> dict[str, Any]:
        return {"table": {"name": f"{case.data}_hetero_{side}", "namespace": "experiment"}}

    guest_nn = {
        "bottom_nn_define": _network(case.guest_features, GUEST_DIM, "ReLU"),
        "top_nn_define": _network(OUT_DIM, case.outputs, case.last),
    }
    host_nn = {"bottom_nn_define": _network(case.host_features, HOST_DIM, "ReLU")}
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "common": {COMPONENT: params},
            "role": {
                "guest": {
                    "0": {
                        "reader_0": reader("guest"),
                        "data_transform_0": {"with_label": True, "label_type": case.label_type},
                        COMPONENT: guest_nn,
                    }
                },
                "host": {
                    "0": {
                        "reader_0": reader("host"),
                        "data_transform_0": {"with_label": False},
                        COMPONENT: host_nn,
                    }
                },
            },
        },
    }


@pytest.mark.parametrize("kind", list(CASES))
async def test_online_answers_equal_the_predict_job(trained: Trained, kind: str) -> None:
    case = CASES[kind]
    upload(trained, case.data)
    model_id, version, predicted = await deploy_and_predict(trained, DSL, conf(case), CPN_LIST, COMPONENT)
    ids = [str(sid) for sid in predicted.ids()]
    expected_scores = dict(zip(ids, predicted.column("predict_score").tolist(), strict=True))
    expected_labels = dict(zip(ids, predicted.column("predict_result").tolist(), strict=True))
    service_id = f"nn-{kind}"
    parties = await load_and_bind(trained, model_id, version, service_id)
    assert parties["guest"]["component"] == COMPONENT
    assert (parties["host"]["rows"], parties["host"]["features"]) == (len(ids), case.host_features)

    rows = client_rows(case.data)
    chosen = ids[:: max(1, len(ids) // 40)]
    reply = await trained.client.batch_predict([(sid, rows[sid]) for sid in chosen], service_id=service_id)
    assert [p.sample_id for p in reply.predictions] == chosen
    for prediction in reply.predictions:
        sid = prediction.sample_id
        assert abs(prediction.score - expected_scores[sid]) <= TOLERANCE, (sid, prediction.score)
        if case.task_type == "classification":
            assert prediction.label == int(expected_labels[sid]), sid
        assert not prediction.partials
    for sid in ids[:5]:
        single = await trained.client.predict(sid, rows[sid], service_id=service_id)
        assert abs(single.prediction.score - expected_scores[sid]) <= TOLERANCE, sid

    if kind == "binary":
        await _host_keeps_and_answers_ciphertexts_of_z_only(trained, model_id, version, ids[:4])
        await _a_restarted_service_serves_the_same_load(trained, service_id, rows, expected_scores)


def _stored_model(trained: Trained, version: str, model_id: str, role: str, party: int) -> dict[str, Any]:
    records = ModelRepository(trained.site.site.database)
    store = ModelStore(trained.site.settings.home / "models", records)
    model: dict[str, Any] = store.load(VersionKey(model_id, version, role, party).component(COMPONENT))
    return model


def _reference_z(host_model: dict[str, Any], guest_model: dict[str, Any], features: np.ndarray) -> np.ndarray:
    """``z_h = a_h·(S_h + E_h)ᵀ`` in plain torch and numpy: the host's bottom model on its rows, then the
    interactive weights, whose shares the guest (S_h) and the host (E_h) keep."""
    bottom = define.build_sequential(host_model["meta"]["bottom_nn_define"])
    portable.load_module_state(bottom, host_model["param"]["bottom"], "host bottom")
    bottom.eval()
    with torch.no_grad():
        activations = bottom(torch.tensor(features, dtype=torch.float32)).double().numpy()
    share = portable.state_array(guest_model["param"]["host_shares"][0])
    noise = portable.state_array(host_model["param"]["noise"])
    assert activations.shape[1] == HOST_DIM and share.shape == noise.shape == (OUT_DIM, HOST_DIM)
    z: np.ndarray = activations @ (share + noise).T
    return z


async def _host_keeps_and_answers_ciphertexts_of_z_only(
    trained: Trained, model_id: str, version: str, ids: list[str]
) -> None:
    serving = trained.site.site.serving
    guest = serving.registry.parts[VersionKey(model_id, version, "guest", GUEST)]
    host = serving.registry.parts[VersionKey(model_id, version, "host", HOST)]
    key = guest.key
    assert isinstance(key, PrivateKey) and guest.entry.seal and host.entry.seal == guest.entry.seal
    # The host keeps ciphertexts only: no partial score, no vector in the clear, no key.
    assert host.sealed is not None and host.answers is None and not host.partials and host.key is None
    host_model = _stored_model(trained, version, model_id, "host", HOST)
    guest_model = _stored_model(trained, version, model_id, "guest", GUEST)
    host_rows = client_rows("breast", "host")
    header = host_model["meta"]["header"]
    features = np.array([[host_rows[sid][name] for name in header] for sid in ids])
    expected = _reference_z(host_model, guest_model, features)
    for row, sid in enumerate(ids):
        stored = host.sealed.ciphertexts[host.sealed.rows[sid]]
        vector = EncryptedVector.from_bytes(stored, key.public_key)
        assert len(vector) == OUT_DIM and all(c > 2**1000 for c in vector.ciphertexts)
        np.testing.assert_allclose(key.decrypt(vector), expected[row], atol=1e-9)
    # What the guest sent the host at load: S_h under the guest's key, nothing in the clear.
    share_file = trained.site.settings.home / "serving" / "sealed" / f"{host.entry.seal}.{HOST}.json"
    share = SealedShare.model_validate_json(share_file.read_bytes())
    weights = EncryptedVector.from_bytes(share.share, key.public_key)
    shares = portable.state_array(guest_model["param"]["host_shares"][0])
    np.testing.assert_allclose(key.decrypt(weights), shares.ravel(), atol=1e-12)

    # What crosses per request: OUT_DIM ciphertexts per row under the guest's key, nothing else.
    peers = ServingPeers(RouteTable({}, default=trained.site.settings.federation_address))
    command = PartialScore(
        model_id=model_id,
        model_version=version,
        party=Party(role="host", party_id=HOST),
        sample_ids=ids,
        seal=guest.entry.seal,
    )
    try:
        reply = await peers.partial_score(command, source=Party(role="guest", party_id=GUEST))
        with pytest.raises(ConflictError, match="another load"):
            await peers.partial_score(
                command.model_copy(update={"seal": "0" * 32}), source=Party(role="guest", party_id=GUEST)
            )
    finally:
        await peers.close()
    assert not reply.partials and not reply.vectors and len(reply.sealed) == len(ids)
    assert len(reply.columns) == OUT_DIM != HOST_DIM
    answers = opened(key, {HOST: reply}, len(ids))[HOST]
    np.testing.assert_allclose(answers.values, expected, atol=1e-9)


async def _a_restarted_service_serves_the_same_load(
    trained: Trained, service_id: str, rows: dict[str, dict[str, float]], expected: dict[str, float]
) -> None:
    """Another service over the same home (a restarted site) reads the load's key and sealed share."""
    again = restarted_service(trained)
    try:
        await again.restore()
        assert not again.registry.broken
        sample = next(iter(expected))
        answer = await again.score([Sample(sample, rows[sample])], service_id=service_id)
        assert abs(answer.predictions[0].score - expected[sample]) <= TOLERANCE
    finally:
        await again.close()


async def test_replies_that_mix_kinds_are_refused() -> None:
    """A guest and a host of different model versions (or Accord versions) fail loud, naming the fix."""
    plain = Partials(vectors=[[1.0, 0.0]], columns=["0.1", "0.2"])
    sealed = Partials(sealed=[b"\x00"], columns=["z0"])
    fix = "publish the same model version"
    with pytest.raises(DataMismatchError, match=fix):
        summed(np.zeros(1), {HOST: sealed})
    with pytest.raises(DataMismatchError, match=fix):
        host_answers({HOST: sealed}, 1)
    _, key = generate_keypair(1024)
    with pytest.raises(DataMismatchError, match=fix):
        opened(key, {HOST: plain}, 1)
    assert isinstance(host_answers({HOST: plain}, 1)[HOST], HostAnswers)
