"""FTL on a seeded synthetic guest/host pair shaped like FATE's nus_wide tables (the corpus lacks them).

Reference: FATE's FTL loss written out in torch (Taylor-expanded logistic loss on the overlap plus the
alignment term) on the same two networks, minimised centrally by full-batch Adam on ``n · L`` — FATE's
exchanged output gradients are exactly n times the autograd gradient of its loss, and both parties
step on the values of the previous exchange, so its loss per epoch is ``L(θ_e)`` of that training.
Plain mode matches it to 1e-8; encrypted mode (Paillier, fixed point) matches plain to 1e-6.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from accord.components.nn.ftl import FTL, secure
from accord.components.registry import ComponentRegistry
from accord.components.sdk import Dataset
from accord.dsl_compiler import compile_files
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError
from tests.components.harness import ComponentHarness

GUEST, HOST = 9999, 10000
FATE = Path("/work/shared/fate/examples/dsl/v2/hetero_ftl")
CONFS = sorted(FATE.glob("*_conf.json"))


def fate_params(name: str = "hetero_ftl_plain_conf.json") -> dict[str, Any]:
    conf = json.loads((FATE / name).read_text())
    return copy.deepcopy(conf["component_parameters"]["common"]["hetero_ftl_0"])


def small_params(**change: Any) -> dict[str, Any]:
    params = fate_params()
    params["nn_define"]["config"]["layers"][0]["config"]["units"] = 4  # d = 4 keeps Paillier quick
    params["optimizer"]["learning_rate"] = 0.05
    params.update({"epochs": 3, "encrypte_param": {"key_length": 1024}, **change})
    return params


def synthetic() -> tuple[Dataset, Dataset]:
    """Guest: 60 labelled rows, 6 features; host: 50 rows, 5 features; 30 shared ids."""
    rng = np.random.default_rng(7)
    guest_ids = [f"id{i:03d}" for i in range(60)]
    host_ids = [f"id{i:03d}" for i in range(30, 80)]
    labels = (rng.random(60) > 0.5).astype(np.float64)
    xg = rng.normal(size=(60, 6)) + labels[:, None] * 0.8
    xh = rng.normal(size=(50, 5))
    xh[:30] += labels[30:, None] * 0.8  # the host's overlap rows carry the label signal too
    guest = Dataset.instances(
        guest_ids, xg, header=[f"g{i}" for i in range(6)], labels=labels, label_name="y"
    )
    host = Dataset.instances(host_ids, xh, header=[f"h{i}" for i in range(5)])
    return guest, host


def job(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "job_parameters": {"common": {"job_type": "train"}},
        "component_parameters": {"common": {"ftl_0": params}},
    }


def dsl(predict: bool = False) -> dict[str, Any]:
    components: dict[str, Any] = {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "ftl_0": {
            "module": "FTL",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        components["ftl_1"] = {
            "module": "FTL",
            "input": {"data": {"test_data": ["data_transform_0.data"]}, "model": ["ftl_0.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    return {"components": components}


@pytest.fixture
def harnesses() -> Iterator[list[ComponentHarness]]:
    made: list[ComponentHarness] = []
    yield made
    for harness in made:
        harness.close()


def run(
    tmp_path: Path, made: list[ComponentHarness], params: dict[str, Any], predict: bool = False
) -> ComponentHarness:
    guest, host = synthetic()
    harness = ComponentHarness(tmp_path, dsl(predict), job(params))
    made.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", guest)
    harness.plant("host", HOST, "data_transform_0", host)
    harness.run_ok("ftl_0")
    if predict:
        harness.run_ok("ftl_1")
    return harness


def scores(harness: ComponentHarness, component: str = "ftl_0") -> tuple[np.ndarray, np.ndarray]:
    out = harness.output("guest", GUEST, component).table.to_pandas()
    out = out.iloc[np.argsort(out.iloc[:, 0].astype(str).to_numpy(), kind="stable")]
    return out.iloc[:, 0].astype(str).to_numpy(), out["predict_score"].to_numpy()


def net(inputs: int, units: int) -> torch.nn.Sequential:
    """Keras Dense(units, sigmoid, RandomNormal(0, 1), Zeros) in torch, drawn as FTL draws it."""
    torch.manual_seed(100)
    linear = torch.nn.Linear(inputs, units)
    torch.nn.init.normal_(linear.weight, 0.0, 1.0)
    torch.nn.init.zeros_(linear.bias)
    return torch.nn.Sequential(linear, torch.nn.Sigmoid()).double()


def reference(params: dict[str, Any]) -> tuple[list[float], dict[str, float]]:
    guest, host = synthetic()
    gids, hids = np.asarray(guest.ids()), np.asarray(host.ids())
    shared = sorted(set(gids) & set(hids))
    g_at = {s: i for i, s in enumerate(gids)}
    h_at = {s: i for i, s in enumerate(hids)}
    xg = torch.from_numpy(np.array(guest.features()))
    y = torch.from_numpy(np.where(guest.labels() == 1, 1.0, -1.0)).reshape(-1, 1)
    go = torch.tensor([g_at[s] for s in shared])
    xh = torch.from_numpy(host.features()[[h_at[s] for s in shared]])
    d = params["nn_define"]["config"]["layers"][0]["config"]["units"]
    alpha = float(params["alpha"])
    a, b = net(6, d), net(5, d)
    opt = params["optimizer"]
    adam = torch.optim.Adam(
        [*a.parameters(), *b.parameters()],
        lr=opt["learning_rate"],
        betas=(opt["beta_1"], opt["beta_2"]),
        eps=opt["epsilon"],
    )
    n = len(shared)

    def fate_loss() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ua, ub = a(xg), b(xh)
        phi = (y * ua).sum(0, keepdim=True) / len(ua)
        ub_phi = ub @ phi.T
        loss_y = -0.5 * (y[go] * ub_phi).sum() + (ub_phi**2).sum() / 8 + n * np.log(2)
        return alpha * loss_y / n - (ua[go] * ub).sum() / (d * n), ub, phi

    history = []
    for _ in range(params["epochs"]):
        adam.zero_grad()
        loss, _, _ = fate_loss()
        history.append(float(loss.detach()))
        (n * loss).backward()  # type: ignore[no-untyped-call]
        adam.step()
    with torch.no_grad():
        _, ub, phi = fate_loss()
        score = torch.sigmoid(ub @ phi.T).reshape(-1).numpy()
    return history, dict(zip(shared, score.tolist(), strict=True))


def test_plain_equals_fate_loss_trained_centrally(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    params = small_params()
    harness = run(tmp_path, harnesses, params)
    history, expected = reference(params)
    model = harness.model("guest", GUEST, "ftl_0")
    ids, got = scores(harness)
    assert sorted(ids) == sorted(expected)  # FATE scores the overlap rows only
    np.testing.assert_allclose(got, [expected[i] for i in ids], atol=1e-8)
    assert "phi" in model["param"] and "net" in model["param"]
    host_model = harness.model("host", HOST, "ftl_0")
    assert set(host_model["param"]) == {"net"}
    assert history[-1] < history[0]
    np.testing.assert_allclose(_losses(harness), history, rtol=1e-8)


def test_fate_with_predict_conf_runs_unchanged(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    """FATE's with_predict parameters as they are (d = 32, Adam 0.001, 10 epochs), then a predict."""
    params = fate_params("hetero_ftl_with_predict_conf.json")
    harness = run(tmp_path, harnesses, params, predict=True)
    history, expected = reference(params)
    np.testing.assert_allclose(_losses(harness), history, rtol=1e-8)
    ids, got = scores(harness)
    np.testing.assert_allclose(got, [expected[i] for i in ids], atol=1e-8)
    _, again = scores(harness, "ftl_1")
    np.testing.assert_allclose(again, got, atol=1e-6)
    table = harness.output("guest", GUEST, "ftl_0").table.to_pandas()
    assert set(table["type"]) == {"train"} and set(table["predict_result"]) <= {0.0, 1.0}


def _losses(harness: ComponentHarness) -> list[float]:
    return list(harness.model("guest", GUEST, "ftl_0")["meta"].get("loss_history") or [])


def test_encrypted_equals_plain_and_predict_job_equals_training(
    tmp_path: Path, harnesses: list[ComponentHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[int] = []
    real = secure.masked

    def counted(vector: Any) -> Any:
        opened.append(len(vector))
        return real(vector)

    monkeypatch.setattr(secure, "masked", counted)
    plain = run(tmp_path / "plain", harnesses, small_params(epochs=2))
    secret = run(tmp_path / "enc", harnesses, small_params(epochs=2, mode="encrypted"), predict=True)
    ids_p, plain_scores = scores(plain)
    ids_e, secret_scores = scores(secret)
    assert list(ids_p) == list(ids_e)
    np.testing.assert_allclose(secret_scores, plain_scores, atol=1e-6)
    np.testing.assert_allclose(_losses(secret), _losses(plain), atol=1e-6)
    # per epoch: const (d), guest gradient (n·d), host gradient (n·d), loss (1) crossed masked
    assert sorted(set(opened)) == [1, 4, 120] and len(opened) == 8
    _, again = scores(secret, "ftl_1")
    np.testing.assert_allclose(again, secret_scores, atol=1e-6)


def test_communication_efficient_and_convergence_stop(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    harness = run(tmp_path, harnesses, small_params(epochs=4, communication_efficient=True, local_round=3))
    losses = _losses(harness)
    assert len(losses) == 4 and losses[-1] < losses[0]
    stopped = run(tmp_path / "stop", harnesses, small_params(epochs=6, n_iter_no_change=True, tol=10.0))
    assert len(_losses(stopped)) == 2  # FATE's "diff": the second loss is within tol of the first


def test_parties_with_different_modes_refuse(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    guest, host = synthetic()
    conf = job(small_params())
    conf["component_parameters"]["role"] = {"host": {"0": {"ftl_0": {"mode": "encrypted"}}}}
    harness = ComponentHarness(tmp_path, dsl(), conf)
    harnesses.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", guest)
    harness.plant("host", HOST, "data_transform_0", host)
    failures = harness.run("ftl_0")
    assert len(failures) == 2 and all("different mode" in str(error) for error in failures.values())


@pytest.mark.parametrize("path", CONFS, ids=[p.name for p in CONFS])
def test_fate_confs_validate_unchanged(path: Path) -> None:
    """Each FATE conf compiles with its DSL and every party's FTL parameters pass the submit check."""
    plan = compile_files(str(path).replace("_conf.json", "_dsl.json"), path)
    registry = ComponentRegistry.discover()
    checked = 0
    for party in plan.parties:
        for name in party.components:
            if plan.component(name).module == "FTL":
                registry.check_parameters("FTL", party.component_parameters.get(name, {}), component=name)
                checked += 1
    assert checked == 2


def _layer(**config: Any) -> dict[str, Any]:
    params = fate_params()
    params["nn_define"]["config"]["layers"][0]["config"].update(config)
    return params


@pytest.mark.parametrize(
    ("params", "error", "field"),
    [
        (
            {**fate_params(), "intersect_param": {"intersect_method": "raw"}},
            ComponentFeatureUnsupported,
            "intersect_param",
        ),
        ({**fate_params(), "validation_freqs": 1}, ComponentFeatureUnsupported, "validation_freqs"),
        (
            {**fate_params(), "optimizer": {"optimizer": "Ftrl", "learning_rate": 0.1}},
            ComponentFeatureUnsupported,
            "Ftrl",
        ),
        (
            {**fate_params(), "optimizer": {"optimizer": "Adam", "learning_rate": 0.1, "clipnorm": 1.0}},
            ComponentFeatureUnsupported,
            "clipnorm",
        ),
        ({**fate_params(), "optimizer": {"optimizer": "Adam"}}, ComponentParameterError, "learning_rate"),
        (_layer(activation="softmax"), ComponentFeatureUnsupported, "activation"),
        (_layer(kernel_regularizer={"class_name": "L2"}), ComponentFeatureUnsupported, "kernel_regularizer"),
        (_layer(kernel_initializer={"class_name": "Orthogonal"}), ComponentFeatureUnsupported, "Orthogonal"),
        ({**fate_params(), "config_type": "pytorch"}, ComponentParameterError, "config_type"),
        ({**fate_params(), "mode": "secure"}, ComponentParameterError, "mode"),
        ({**fate_params(), "batch_size": 5}, ComponentParameterError, "batch_size"),
    ],
)
def test_refusals_are_coded(params: dict[str, Any], error: type[Exception], field: str) -> None:
    with pytest.raises(error) as raised:
        FTL().check_parameters(params, component="ftl_0", module="FTL")
    assert field in str(raised.value)
    if error is ComponentFeatureUnsupported:
        assert getattr(raised.value, "code", None) == 10127


def test_other_keras_layers_are_refused() -> None:
    params = fate_params()
    params["nn_define"]["config"]["layers"].append({"class_name": "Conv2D", "config": {"filters": 3}})
    with pytest.raises(ComponentFeatureUnsupported) as raised:
        FTL().check_parameters(params, component="ftl_0", module="FTL")
    assert "Conv2D" in str(raised.value) and raised.value.code == 10127
