"""HeteroSSHELR against a plain numpy gradient descent with the same Taylor loss, optimizer, learning rate,
batches and iterations (reference.py).

Tolerance: weights within 1e-4 (the shares are fixed point with 32 fraction bits: the only
difference is rounding, about 1e-9 per step); AUC within 1e-6 of the reference's (the same scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from accord.components.sdk import Dataset
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

from ..breast import breast_parties
from ..harness import JOB_ID, ComponentHarness
from . import reference

GUEST, HOST = 9999, 10000
WEIGHT_TOLERANCE = 1e-4


def dsl(module: str = "HeteroSSHELR", predict: bool = False) -> dict[str, Any]:
    components: dict[str, Any] = {
        "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
        "sshe_0": {
            "module": module,
            "input": {"data": {"train_data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        components["sshe_1"] = {
            "module": module,
            "input": {"data": {"test_data": ["intersection_0.data"]}, "model": ["sshe_0.model"]},
            "output": {"data": ["data"]},
        }
    return {"components": components}


def conf(hosts: list[int] | None = None, **params: Any) -> dict[str, Any]:
    merged = {
        "penalty": "L2",
        "tol": 0.0001,
        "alpha": 0.01,
        "optimizer": "rmsprop",
        "batch_size": -1,
        "learning_rate": 0.15,
        "init_param": {"init_method": "zeros", "fit_intercept": True},
        "max_iter": 3,
        "early_stop": "diff",
        "encrypt_param": {"key_length": 512},
        "reveal_strategy": "respectively",
        "reveal_every_iter": True,
    }
    merged.update(params)
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": hosts or [HOST]},
        "component_parameters": {"common": {"sshe_0": merged}},
    }


def run(
    tmp_path: Path,
    made: list[ComponentHarness],
    job: dict[str, Any],
    parties: tuple[Dataset, Dataset] | None = None,
    module: str = "HeteroSSHELR",
    predict: bool = False,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl(module, predict), job)
    harness.transfer_timeout_s = 30.0
    made.append(harness)
    guest, host = parties or breast_parties()
    harness.plant("guest", GUEST, "intersection_0", guest)
    for host_id in job["role"]["host"]:
        harness.plant("host", host_id, "intersection_0", host)
    harness.run_ok("sshe_0")
    return harness


def expected(
    settings: reference.Settings, parties: tuple[Dataset, Dataset] | None = None
) -> reference.Result:
    guest, host = parties or breast_parties()
    labels = guest.labels()
    assert labels is not None
    return reference.train(guest.features(), host.features(), labels, settings)


def learned(harness: ComponentHarness) -> tuple[np.ndarray, np.ndarray]:
    guest = harness.model("guest", GUEST, "sshe_0")["param"]
    host = harness.model("host", HOST, "sshe_0")["param"]
    weights = [guest["weight"][name] for name in guest["header"]] + [guest["intercept"]]
    host_weights = [host["weight"][name] for name in host["header"]] if "weight" in host else []
    return np.array(weights), np.array(host_weights)


def check(harness: ComponentHarness, settings: reference.Settings) -> reference.Result:
    want = expected(settings)
    guest, host = learned(harness)
    if not settings.fit_intercept:
        guest = guest[:-1]
    np.testing.assert_allclose(guest, want.guest, atol=WEIGHT_TOLERANCE, rtol=0)
    if len(host):
        np.testing.assert_allclose(host, want.host, atol=WEIGHT_TOLERANCE, rtol=0)
    model = harness.model("guest", GUEST, "sshe_0")["param"]
    assert model["iters"] == want.iterations
    np.testing.assert_allclose(model["loss_history"], want.losses, atol=1e-6)
    return want


def reference_auc(weights: reference.Result, fit_intercept: bool = True) -> float:
    guest, host = breast_parties()
    xg = guest.features()
    if fit_intercept:
        xg = np.hstack([xg, np.ones((len(xg), 1))])
    z = xg @ weights.guest + host.features() @ weights.host
    return float(roc_auc_score(guest.labels(), z))


def output_auc(harness: ComponentHarness, component: str = "sshe_0") -> float:
    out = harness.output("guest", GUEST, component)
    return float(roc_auc_score(out.column("label"), out.column("predict_score")))


def test_revealed_rmsprop_matches_reference_and_predict_equals_training_scores(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    harness = run(tmp_path, harnesses, conf(), predict=True)
    want = check(harness, reference.Settings(optimizer="rmsprop"))
    assert abs(output_auc(harness) - reference_auc(want)) < 1e-6
    harness.run_ok("sshe_1")
    trained = harness.output("guest", GUEST, "sshe_0")
    predicted = harness.output("guest", GUEST, "sshe_1")
    np.testing.assert_allclose(predicted.column("predict_score"), trained.column("predict_score"), atol=1e-6)
    assert set(predicted.column("type")) == {"test"}
    # The online scorer (respectively): the guest's and the host's partials give the same scores.
    component = harness.registry.create("HeteroSSHELR")
    guest_data, host_data = breast_parties()
    partials = [
        component.scorer(harness.model(role, party, "sshe_0"), role=role, component="sshe_0").partial(
            data.features()
        )
        for role, party, data in (("guest", GUEST, guest_data), ("host", HOST, host_data))
    ]
    scorer = component.scorer(harness.model("guest", GUEST, "sshe_0"), role="guest", component="sshe_0")
    scores, _ = scorer.outcome(partials[0] + partials[1])
    np.testing.assert_allclose(scores, trained.column("predict_score"), atol=1e-6)


@pytest.mark.parametrize(
    ("optimizer", "penalty"), [("sgd", "L2"), ("nesterov_momentum_sgd", "L2"), ("sgd", None)]
)
def test_shared_weights_match_reference(
    tmp_path: Path, harnesses: list[ComponentHarness], optimizer: str, penalty: str | None
) -> None:
    job = conf(optimizer=optimizer, penalty=penalty, reveal_every_iter=False)
    harness = run(tmp_path, harnesses, job)
    check(harness, reference.Settings(optimizer=optimizer, penalty=penalty, reveal=False))


def test_l1_without_intercept_and_weight_diff(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    job = conf(
        penalty="L1",
        optimizer="adam",
        early_stop="weight_diff",
        max_iter=4,
        init_param={"init_method": "zeros", "fit_intercept": False},
    )
    harness = run(tmp_path, harnesses, job)
    settings = reference.Settings(
        optimizer="adam", penalty="L1", early_stop="weight_diff", max_iter=4, fit_intercept=False
    )
    want = expected(settings)
    guest, host = learned(harness)
    np.testing.assert_allclose(guest[:-1], want.guest, atol=WEIGHT_TOLERANCE, rtol=0)
    np.testing.assert_allclose(host, want.host, atol=WEIGHT_TOLERANCE, rtol=0)
    assert harness.model("guest", GUEST, "sshe_0")["param"]["intercept"] == 0.0


def test_encrypted_reveal_in_host_keeps_host_weights_encrypted(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    job = conf(optimizer="sgd", reveal_every_iter=False, reveal_strategy="encrypted_reveal_in_host")
    harness = run(tmp_path, harnesses, job, predict=True)
    want = expected(reference.Settings(reveal=False))
    host = harness.model("host", HOST, "sshe_0")["param"]
    assert "weight" not in host and len(host["encrypted_weight"]) == 20
    guest, _ = learned(harness)
    np.testing.assert_allclose(guest, want.guest, atol=WEIGHT_TOLERANCE, rtol=0)
    # The guest's scores use the host's encrypted weights: they equal the reference's.
    assert abs(output_auc(harness) - reference_auc(want)) < 1e-6
    harness.run_ok("sshe_1")
    np.testing.assert_allclose(
        harness.output("guest", GUEST, "sshe_1").column("predict_score"),
        harness.output("guest", GUEST, "sshe_0").column("predict_score"),
        atol=1e-6,
    )


def test_one_vs_rest_on_three_classes(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    guest, host = breast_parties()
    features = guest.features()
    binary = guest.labels()
    assert binary is not None
    labels = np.where(features[:, 0] > 0.5, 2.0, binary)
    three = Dataset.instances(guest.ids(), features, header=guest.header, labels=labels, label_name="y")
    harness = run(tmp_path, harnesses, conf(max_iter=2), parties=(three, host))
    out = harness.output("guest", GUEST, "sshe_0")
    assert set(out.column("predict_result")) <= {0.0, 1.0, 2.0}
    assert np.mean(out.column("predict_result") == labels) > 0.7


def test_refusals(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    registry = ComponentHarness(tmp_path / "r", dsl(), conf()).registry
    with pytest.raises(ComponentFeatureUnsupported, match="ModelCheckpoint"):
        registry.check_parameters(
            "HeteroSSHELR",
            {
                "callback_param": {"callbacks": ["ModelCheckpoint"]},
                "reveal_strategy": "encrypted_reveal_in_host",
            },
            component="sshe_0",
        )
    with pytest.raises(ComponentFeatureUnsupported, match="batch_strategy"):
        registry.check_parameters("HeteroSSHELR", {"batch_strategy": "random"}, component="sshe_0")
    with pytest.raises(ComponentParameterError, match="reveal_every_iter"):
        registry.check_parameters("HeteroSSHELR", {"optimizer": "adam"}, component="sshe_0")
    with pytest.raises(ComponentParameterError):
        registry.check_parameters(
            "HeteroSSHELR",
            {"reveal_strategy": "encrypted_reveal_in_host", "reveal_every_iter": True},
            component="sshe_0",
        )
    harness = ComponentHarness(tmp_path / "two", dsl(), conf(hosts=[HOST, 10001]))
    harnesses.append(harness)
    guest, host = breast_parties(limit=40)
    harness.plant("guest", GUEST, "intersection_0", guest)
    for host_id in (HOST, 10001):
        harness.plant("host", host_id, "intersection_0", host)
    errors = harness.run("sshe_0")
    assert all(isinstance(error, ComponentFeatureUnsupported) for error in errors.values())
    assert "role.host" in str(next(iter(errors.values())))


assert JOB_ID


def test_nothing_the_host_receives_reveals_the_guests_weights(
    tmp_path: Path, harnesses: list[ComponentHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With shared weights (reveal_every_iter false), every number the host receives or decrypts (ring
    shares, the masked products; ciphertexts under the guest's key it cannot open) is checked against
    the guest's weights: none equals one of them, read as a fixed-point value (F or 2F fraction bits)
    or as a float."""
    from accord.components.sdk.transfer import Transfer
    from accord.components.sshe import shares

    received: list[Any] = []
    original = Transfer.get

    def recording(self: Transfer, **kwargs: Any) -> Any:
        value = original(self, **kwargs)
        if self.party.role == "host":
            received.append(value)
        return value

    monkeypatch.setattr(Transfer, "get", recording)
    # What the host decrypts of the masked products is also what it learns.
    decrypt = shares.ShareSession._decrypted

    def recording_decrypt(self: shares.ShareSession, ciphertexts: list[int]) -> Any:
        value = decrypt(self, ciphertexts)
        if self.party == 1:
            received.append(list(value))
        return value

    monkeypatch.setattr(shares.ShareSession, "_decrypted", recording_decrypt)
    harness = run(tmp_path, harnesses, conf(optimizer="sgd", reveal_every_iter=False, max_iter=2))
    guest, _ = learned(harness)
    numbers: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, np.ndarray):
            walk(value.tolist())
        elif isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
            return
        elif isinstance(value, int) and 0 <= value < shares.RING:
            signed = shares.signed(value)
            numbers.extend([signed / 2.0**shares.FRACTION_BITS, signed / 2.0 ** (2 * shares.FRACTION_BITS)])
        elif isinstance(value, float):
            numbers.append(value)

    walk(received)
    assert len(numbers) > 1000
    found = np.array(numbers)
    for weight in guest[guest != 0]:
        assert not np.any(np.abs(found - weight) < 1e-6), f"the host received the guest's weight {weight}"


def test_warm_start_from_a_checkpointed_model_continues_as_one_run(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    """sgd on shares: 2 iterations, then 2 more from that model, equal 4 iterations in one run."""
    first = conf(
        optimizer="sgd",
        reveal_every_iter=False,
        max_iter=2,
        callback_param={"callbacks": ["ModelCheckpoint"], "save_freq": 1},
    )
    job = conf(optimizer="sgd", reveal_every_iter=False, max_iter=4)
    job["component_parameters"]["common"]["sshe_0"] = first["component_parameters"]["common"]["sshe_0"]
    job["component_parameters"]["common"]["sshe_1"] = conf(
        optimizer="sgd", reveal_every_iter=False, max_iter=4
    )["component_parameters"]["common"]["sshe_0"]
    warm_dsl = dsl()
    warm_dsl["components"]["sshe_1"] = {
        "module": "HeteroSSHELR",
        "input": {"data": {"train_data": ["intersection_0.data"]}, "model": ["sshe_0.model"]},
        "output": {"data": ["data"], "model": ["model"]},
    }
    harness = ComponentHarness(tmp_path, warm_dsl, job)
    harness.transfer_timeout_s = 30.0
    harnesses.append(harness)
    guest, host = breast_parties()
    harness.plant("guest", GUEST, "intersection_0", guest)
    harness.plant("host", HOST, "intersection_0", host)
    harness.run_ok("sshe_0")
    checkpoints = harness.party_dir("guest", GUEST) / "sshe_0_v0" / "checkpoints"
    assert {"0#sshe_0.json", "1#sshe_0.json"} <= {path.name for path in checkpoints.iterdir()}
    harness.run_ok("sshe_1")
    want = expected(reference.Settings(reveal=False, max_iter=4))
    model = harness.model("guest", GUEST, "sshe_1")["param"]
    weights = np.array([model["weight"][n] for n in model["header"]] + [model["intercept"]])
    np.testing.assert_allclose(weights, want.guest, atol=WEIGHT_TOLERANCE, rtol=0)
    assert model["iters"] == 4
    np.testing.assert_allclose(model["loss_history"], want.losses, atol=1e-6)
