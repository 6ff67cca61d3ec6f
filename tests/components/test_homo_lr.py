"""HomoLR against scikit-learn on the union of FATE's breast_homo guest and host rows.

Each party's rows are standardised with its own mean and deviation (as a per-party FeatureScale does),
and scikit-learn trains on the union of the scaled rows. Tolerances: with FATE's example settings
(30 epochs of plain SGD) the AUC on all training rows is within 0.01 of a fully converged scikit-learn
model; with one full batch per round, FedAvg is exactly full-batch gradient descent on the union, so a
long run reaches scikit-learn's optimum of the same objective (C = 1 / (alpha·n)) to within 1e-3 per
coefficient.

Secure aggregation is checked on what the arbiter actually received (the mailbox of the real data
plane): single messages are masked, and their sum is exactly the weighted model.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from accord.components.hetero_lr import tables
from accord.components.homo_lr import secure_aggregation as secagg
from accord.components.homo_lr.component import HomoLR
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.components.sdk.scoring import CombiningScorer
from accord.computing.table import Engine
from accord.errors import (
    ComponentParameterError,
    DataFormatError,
    DataMismatchError,
)
from accord.federation import codec
from accord.federation.mailbox import TransferKey
from accord.identity import Party

from .breast import DATA
from .harness import JOB_ID, ComponentHarness

AUC_TOLERANCE = 0.01
COEF_TOLERANCE = 1e-3
GUEST, HOST, ARBITER = (
    Party(role="guest", party_id=9999),
    Party(role="host", party_id=10000),
    Party(role="arbiter", party_id=10000),
)

DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "homo_lr_0": {
            "module": "HomoLR",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}
PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["homo_lr_1"] = {
    "module": "HomoLR",
    "input": {"data": {"test_data": ["data_transform_0.data"]}, "model": ["homo_lr_0.model"]},
    "output": {"data": ["data"]},
}

# FATE's homo_lr_train_conf.json settings.
EXAMPLE = {
    "penalty": "L2",
    "tol": 1e-05,
    "alpha": 0.01,
    "optimizer": "sgd",
    "batch_size": -1,
    "learning_rate": 0.15,
    "init_param": {"init_method": "zeros"},
    "max_iter": 30,
    "early_stop": "diff",
    "encrypt_param": {"method": None},
    "decay": 1,
    "decay_sqrt": True,
}


def scaled(name: str) -> Dataset:
    table = np.loadtxt(DATA / name, delimiter=",", skiprows=1)
    features = table[:, 2:]
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    header = [f"x{i}" for i in range(features.shape[1])]
    ids = [str(int(sid)) for sid in table[:, 0]]
    return Dataset.instances(ids, features, header=header, labels=table[:, 1], label_name="y")


def homo_parties() -> tuple[Dataset, Dataset]:
    return scaled("breast_homo_guest.csv"), scaled("breast_homo_host.csv")


def union() -> tuple[np.ndarray, np.ndarray]:
    guest, host = homo_parties()
    guest_labels, host_labels = guest.labels(), host.labels()
    assert guest_labels is not None and host_labels is not None
    labels = np.concatenate([guest_labels, host_labels])
    return np.vstack([guest.features(), host.features()]), labels


def sklearn_auc() -> float:
    features, labels = union()
    model = LogisticRegression(max_iter=5000).fit(features, labels)
    return float(roc_auc_score(labels, model.decision_function(features)))


def conf(hosts: list[int] | None = None, **lr: Any) -> dict[str, Any]:
    params = {**EXAMPLE, **lr}
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": hosts or [10000], "arbiter": [10000]},
        "component_parameters": {"common": {"homo_lr_0": params}},
    }


def start(
    tmp_path: Path,
    made: list[ComponentHarness],
    job: dict[str, Any],
    datasets: dict[Party, Dataset] | None = None,
    dsl: dict[str, Any] = DSL,
    engine: Engine | None = None,
    row_group: int | None = None,
) -> ComponentHarness:
    """A harness with each party's rows planted, as ``row_group``-row partitions (None: one)."""
    harness = ComponentHarness(tmp_path, dsl, job, engine=engine)
    made.append(harness)
    guest, host = homo_parties()
    for party, dataset in (datasets or {GUEST: guest, HOST: host}).items():
        path = layout.data_path(harness.party_dir(party.role, party.party_id), "data_transform_0", "data")
        path.parent.mkdir(parents=True, exist_ok=True)
        table = dataset.table.replace_schema_metadata(with_meta(dataset.table.schema, dataset.meta()))
        pq.write_table(table, path, row_group_size=row_group)
    return harness


def outputs_auc(harness: ComponentHarness, parties: tuple[Party, ...] = (GUEST, HOST)) -> float:
    outputs = [harness.output(p.role, p.party_id, "homo_lr_0") for p in parties]
    labels = np.concatenate([o.column("label") for o in outputs])
    scores = np.concatenate([o.column("predict_score") for o in outputs])
    return float(roc_auc_score(labels, scores))


def coefficients(model: dict[str, Any]) -> np.ndarray:
    param = model["param"]
    return np.array([*(param["weight"][f"x{i}"] for i in range(30)), param["intercept"]])


def test_fate_example_settings_reach_sklearn_auc(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "SMALL_TABLE_ROWS", 0)  # train on the planted partitions
    harness = start(tmp_path, harnesses, conf(), engine=engine, row_group=90)
    harness.run_ok("homo_lr_0")
    assert outputs_auc(harness) >= sklearn_auc() - AUC_TOLERANCE
    guest_model, host_model = (harness.model(p.role, p.party_id, "homo_lr_0") for p in (GUEST, HOST))
    # Every client ends with the same (aggregated) model; the arbiter keeps no weights.
    assert guest_model["param"]["weight"] == host_model["param"]["weight"]
    assert guest_model["meta"]["module"] == "HomoLR" and guest_model["param"]["iters"] <= 30
    arbiter = harness.model("arbiter", 10000, "homo_lr_0")["param"]
    assert "weight" not in arbiter
    assert arbiter["loss_history"][-1] < arbiter["loss_history"][0]
    assert len(harness.output("arbiter", 10000, "homo_lr_0")) == 0


def test_long_run_matches_sklearn_coefficients(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    alpha = 0.01
    job = conf(learning_rate=2.0, decay=0, max_iter=300, early_stop="weight_diff", tol=1e-9, alpha=alpha)
    harness = start(tmp_path, harnesses, job)
    harness.run_ok("homo_lr_0")
    features, labels = union()
    reference = LogisticRegression(C=1 / (alpha * len(labels)), max_iter=20000, tol=1e-10)
    reference.fit(features, labels)
    expected = np.append(reference.coef_[0], reference.intercept_[0])
    learned = coefficients(harness.model("guest", 9999, "homo_lr_0"))
    np.testing.assert_allclose(learned, expected, atol=COEF_TOLERANCE)
    reference_auc = roc_auc_score(labels, reference.decision_function(features))
    assert outputs_auc(harness) == pytest.approx(reference_auc, abs=1e-3)
    assert outputs_auc(harness) >= sklearn_auc() - AUC_TOLERANCE


def received(harness: ComponentHarness, tag: str, source: Party) -> np.ndarray:
    key = TransferKey(JOB_ID, "homo_lr_0", 0, tag, source, ARBITER)
    value: np.ndarray = codec.decode(harness.mailbox.path(key).read_bytes())
    return value


def test_arbiter_receives_only_masked_models_whose_sum_is_exact(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    harness = start(tmp_path, harnesses, conf(max_iter=1))
    harness.run_ok("homo_lr_0")
    guest, host = homo_parties()
    total = len(guest) + len(host)
    # What each client would send in clear: one SGD step from zeros, then its loss, scaled by its share.
    plain = {}
    for party, data in ((GUEST, guest), (HOST, host)):
        x, y = data.features(), data.labels()
        assert y is not None
        residual = 0.5 - y
        weights = -0.15 * np.append(x.T @ residual / len(y), residual.mean())
        plain[party] = np.append(weights, np.log(2.0)) * (len(y) / total)

    tag = secagg.masked_tag("round.0")
    messages = {party: received(harness, tag, party) for party in (GUEST, HOST)}
    for party, message in messages.items():
        assert message.dtype == np.uint64 and message.shape == (32,)
        encoded = secagg.encode(plain[party])
        assert not np.any(message == encoded)
        # Decoded as the arbiter would, a single message is noise of magnitude ~2**23, not weights < 1.
        assert np.median(np.abs(secagg.decode(message))) > 1e4
    counts = [received(harness, secagg.masked_tag("count"), party) for party in (GUEST, HOST)]
    assert secagg.decode(counts[0], 0)[0] != len(guest)
    assert secagg.decode(secagg.modular_sum(counts), 0)[0] == total

    summed = secagg.modular_sum(list(messages.values()))
    # Exact: the masks cancel to the bit, leaving the sum of the clients' fixed-point encodings.
    assert np.array_equal(summed, secagg.encode(plain[GUEST]) + secagg.encode(plain[HOST]))
    average = secagg.decode(summed)
    np.testing.assert_allclose(average, plain[GUEST] + plain[HOST], rtol=0, atol=1e-11)
    model = harness.model("guest", 9999, "homo_lr_0")
    assert np.array_equal(coefficients(model), average[:-1])


def test_masks_cancel_for_three_clients_and_differ_per_round() -> None:
    clients = [
        Party(role="guest", party_id=9999),
        Party(role="host", party_id=10000),
        Party(role="host", party_id=9999),
    ]
    private = [secagg.new_private_key() for _ in clients]
    public = [secagg.public_bytes(key) for key in private]
    context = secagg.job_context("job", "homo_lr_0", 0)
    keys = [secagg.pair_keys(private[i], public, clients, i, context) for i in range(3)]
    assert keys[0][1] == keys[1][0] and keys[1][2] == keys[2][1] and keys[0][2] != keys[0][1]
    rng = np.random.default_rng(7)
    vectors = [rng.normal(size=50) for _ in clients]
    masked = [secagg.mask(secagg.encode(v), i, keys[i], "round.0") for i, v in enumerate(vectors)]
    exact = secagg.modular_sum([secagg.encode(v) for v in vectors])
    assert np.array_equal(secagg.modular_sum(masked), exact)
    np.testing.assert_allclose(secagg.decode(exact), np.sum(vectors, axis=0), atol=1e-11)
    again = secagg.mask(secagg.encode(vectors[0]), 0, keys[0], "round.1")
    assert not np.any(again == masked[0])
    other_job = secagg.pair_keys(private[0], public, clients, 0, secagg.job_context("job2", "homo_lr_0", 0))
    assert other_job[1] != keys[0][1]
    with pytest.raises(DataFormatError, match="cannot carry"):
        secagg.encode(np.array([1e7]))


def test_three_clients_with_local_epochs_and_proximal_term(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    guest, host = homo_parties()
    half = len(host) // 2
    second_host = Party(role="host", party_id=9999)
    datasets = {
        GUEST: guest,
        HOST: host.take(np.arange(half)),
        second_host: host.take(np.arange(half, len(host))),
    }
    job = conf(
        hosts=[10000, 9999],
        optimizer="rmsprop",
        learning_rate=0.05,
        batch_size=40,
        aggregate_iters=3,
        max_iter=10,
        use_proximal=True,
        mu=0.1,
    )
    harness = start(tmp_path, harnesses, job, datasets)
    harness.run_ok("homo_lr_0")
    models = [harness.model(p.role, p.party_id, "homo_lr_0")["param"] for p in datasets]
    assert models[0]["weight"] == models[1]["weight"] == models[2]["weight"]
    assert models[0]["iters"] == 10
    assert outputs_auc(harness, tuple(datasets)) >= sklearn_auc() - 0.02
    # Rounds after epochs 3, 6, 9 and the last one (10).
    assert len(harness.model("arbiter", 10000, "homo_lr_0")["param"]["loss_history"]) == 4


def test_predict_with_the_saved_model_gives_the_training_scores(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "SMALL_TABLE_ROWS", 0)  # train on the planted partitions
    # Batches of 40 rows cut across partitions of 90.
    job = conf(max_iter=5, batch_size=40)
    harness = start(tmp_path, harnesses, job, dsl=PREDICT_DSL, engine=engine, row_group=90)
    harness.run_ok("homo_lr_0")
    harness.run_ok("homo_lr_1")
    for party in (GUEST, HOST):
        trained = harness.output(party.role, party.party_id, "homo_lr_0")
        predicted = harness.output(party.role, party.party_id, "homo_lr_1")
        np.testing.assert_allclose(
            predicted.column("predict_score"), trained.column("predict_score"), rtol=0, atol=1e-12
        )
        assert list(predicted.ids()) == list(trained.ids())
        assert set(predicted.column("type")) == {"test"} and set(trained.column("type")) == {"train"}
        assert predicted.table.column_names[:5] == [
            "sid",
            "label",
            "predict_result",
            "predict_score",
            "predict_detail",
        ]
    assert len(harness.output("arbiter", 10000, "homo_lr_1")) == 0
    # Online, the guest's whole model scores its rows alone, as the predict job did.
    guest_rows, _ = homo_parties()
    trained = harness.output(GUEST.role, GUEST.party_id, "homo_lr_0")
    assert list(trained.ids()) == list(guest_rows.ids())
    guest_model = harness.model(GUEST.role, GUEST.party_id, "homo_lr_0")
    scorer = HomoLR().scorer(guest_model, role="guest", component="homo_lr_0")
    assert isinstance(scorer, CombiningScorer) and not scorer.asks_hosts
    online, _ = scorer.outcome(scorer.combine(guest_rows.features(), {}))
    np.testing.assert_allclose(online, trained.column("predict_score"), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"encrypt_param": {"method": "Paillier"}}, "encrypt_param.method"),
        ({"optimizer": "sqn"}, "optimizer"),
        ({"early_stopping_rounds": 3}, "early_stopping_rounds"),
        ({"batch_strategy": "random"}, "batch_strategy"),
    ],
)
def test_unsupported_options_are_refused_by_name(
    tmp_path: Path, harnesses: list[ComponentHarness], params: dict[str, Any], field: str
) -> None:
    harness = start(tmp_path, harnesses, conf(**params))
    errors = harness.run("homo_lr_0")
    assert set(errors) == {GUEST, HOST, ARBITER}
    for error in errors.values():
        assert isinstance(error, ComponentParameterError)
        assert field in str(error) and "not supported" in str(error)


def test_different_features_and_a_single_client_are_refused(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    guest, host = homo_parties()
    narrow = Dataset.instances(
        host.ids(), host.features()[:, :29], header=host.header[:29], labels=host.labels()
    )
    harness = start(tmp_path / "narrow", harnesses, conf(), {GUEST: guest, HOST: narrow})
    errors = harness.run("homo_lr_0")
    assert all(isinstance(error, DataMismatchError) for error in errors.values()), errors

    alone = conf()
    del alone["role"]["host"]
    harness = start(tmp_path / "alone", harnesses, alone, {GUEST: guest})
    errors = harness.run("homo_lr_0")
    for error in errors.values():
        assert isinstance(error, ComponentParameterError) and "not supported" in str(error)
