"""HomoSecureBoost against scikit-learn's histogram gradient boosting on the union of the clients' rows.

The reference trains on the guest's and host's rows together, with the same trees, depth, learning
rate, bins and L2 (HistGradientBoosting*, no early stopping, min_samples_leaf 1). Tolerances from the
issue: AUC within 0.005 (breast), accuracy within 0.01 (vehicle), RMSE within 2 % (student). Quantile
bins differ slightly (FATE's global recursive query against scikit-learn's per-column midpoints), so
the models are close, not equal.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from accord.components.boosting.homo import HomoSecureBoost
from accord.components.boosting.homo.params import HomoSecureBoostParam
from accord.components.hetero_lr import tables
from accord.components.sdk import Dataset, layout, validate_parameters
from accord.components.sdk.dataset import with_meta
from accord.components.sdk.scoring import CombiningScorer
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError
from accord.federation import codec
from accord.federation.mailbox import TransferKey
from accord.identity import Party
from tests.components.boosting import reference

from ..breast import DATA
from ..harness import JOB_ID, ComponentHarness

GUEST, HOST, ARBITER = (
    Party(role="guest", party_id=9999),
    Party(role="host", party_id=10000),
    Party(role="arbiter", party_id=10000),
)
COMPONENT = "homo_secureboost_0"
DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        COMPONENT: {
            "module": "HomoSecureBoost",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}
PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["homo_secureboost_1"] = {
    "module": "HomoSecureboost",
    "input": {"data": {"test_data": ["data_transform_0.data"]}, "model": [f"{COMPONENT}.model"]},
    "output": {"data": ["data"]},
}
WARM_DSL: dict[str, Any] = copy.deepcopy(DSL)
WARM_DSL["components"]["homo_secureboost_1"] = {
    "module": "HomoSecureBoost",
    "input": {"data": {"train_data": ["data_transform_0.data"]}, "model": [f"{COMPONENT}.model"]},
    "output": {"data": ["data"], "model": ["model"]},
}


def read(name: str) -> Dataset:
    path = DATA / f"{name}.csv"
    header = path.read_text().splitlines()[0].split(",")
    table = np.genfromtxt(path, delimiter=",", skip_header=1)
    label_at = header.index("y")
    features = [i for i in range(1, len(header)) if i != label_at]
    ids = [str(int(sid)) for sid in table[:, 0]]
    return Dataset.instances(
        ids,
        table[:, features],
        header=[header[i] for i in features],
        labels=table[:, label_at],
        label_name="y",
    )


def union(guest: Dataset, host: Dataset) -> tuple[np.ndarray, np.ndarray]:
    guest_labels, host_labels = guest.labels(), host.labels()
    assert guest_labels is not None and host_labels is not None
    return np.vstack([guest.features(), host.features()]), np.concatenate([guest_labels, host_labels])


def conf(**params: Any) -> dict[str, Any]:
    base = {"num_trees": 5, "tree_param": {"max_depth": 3}, "learning_rate": 0.3, "bin_num": 32}
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "component_parameters": {"common": {COMPONENT: {**base, **params}, "homo_secureboost_1": params}},
    }


def start(
    tmp_path: Path,
    made: list[ComponentHarness],
    job: dict[str, Any],
    data: tuple[Dataset, Dataset],
    dsl: dict[str, Any] = DSL,
    engine: Engine | None = None,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl, job, engine=engine)
    made.append(harness)
    for party, dataset in zip((GUEST, HOST), data, strict=True):
        path = layout.data_path(harness.party_dir(party.role, party.party_id), "data_transform_0", "data")
        path.parent.mkdir(parents=True, exist_ok=True)
        table = dataset.table.replace_schema_metadata(with_meta(dataset.table.schema, dataset.meta()))
        pq.write_table(table, path, row_group_size=100)
    return harness


def outputs(
    harness: ComponentHarness, component: str = COMPONENT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    found = [harness.output(p.role, p.party_id, component) for p in (GUEST, HOST)]
    return (
        np.concatenate([o.column("label") for o in found]),
        np.concatenate([o.column("predict_score") for o in found]),
        np.concatenate([o.column("predict_result") for o in found]),
    )


def test_breast_auc_matches_sklearn_and_predict_repeats_training(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "SMALL_TABLE_ROWS", 0)  # train and predict on the planted partitions
    data = read("breast_homo_guest"), read("breast_homo_host")
    harness = start(tmp_path, harnesses, conf(), data, dsl=PREDICT_DSL, engine=engine)
    harness.run_ok(COMPONENT)
    labels, scores, _ = outputs(harness)
    x, y = union(*data)
    model = reference.classifier(5, x, y)
    expected = roc_auc_score(y, model.predict_proba(x)[:, 1])
    assert roc_auc_score(labels, scores) == pytest.approx(expected, abs=0.005)
    guest, host = (harness.model(p.role, p.party_id, COMPONENT) for p in (GUEST, HOST))
    assert guest["param"]["trees"] == host["param"]["trees"] and len(guest["param"]["trees"]) == 5
    arbiter = harness.model(ARBITER.role, ARBITER.party_id, COMPONENT)["param"]
    assert "trees" not in arbiter and arbiter["loss_history"][-1] < arbiter["loss_history"][0]
    # The arbiter got masked histograms only: no single message is a plausible count histogram.
    key = TransferKey(JOB_ID, COMPONENT, 0, "secagg.masked.tree.0.0.d0.b0", GUEST, ARBITER)
    masked = codec.decode(harness.mailbox.path(key).read_bytes())
    assert np.asarray(masked).view(np.int64).max() > 2**40

    harness.run_ok("homo_secureboost_1")
    _, predicted, _ = outputs(harness, "homo_secureboost_1")
    np.testing.assert_allclose(predicted, scores, rtol=0, atol=1e-9)
    scorer = HomoSecureBoost().scorer(guest, role="guest", component=COMPONENT)
    online, _ = scorer.outcome(scorer.partial(data[0].features()))
    np.testing.assert_allclose(online, scores[: len(data[0])], rtol=0, atol=1e-9)


def test_vehicle_multiclass_accuracy_matches_sklearn(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    data = read("vehicle_scale_homo_guest"), read("vehicle_scale_homo_host")
    harness = start(tmp_path, harnesses, conf(num_trees=3), data, engine=engine)
    harness.run_ok(COMPONENT)
    labels, _, predicted = outputs(harness)
    x, y = union(*data)
    model = reference.classifier(3, x, y)
    expected = accuracy_score(y, model.predict(x))
    assert accuracy_score(labels, predicted) == pytest.approx(expected, abs=0.01)
    assert len(harness.model(GUEST.role, GUEST.party_id, COMPONENT)["param"]["trees"]) == 3 * 4
    # Online, the guest scores its rows alone (asks no host) as the job did: max probability and class.
    scorer = HomoSecureBoost().scorer(
        harness.model(GUEST.role, GUEST.party_id, COMPONENT), role="guest", component=COMPONENT
    )
    assert isinstance(scorer, CombiningScorer) and not scorer.asks_hosts
    job = harness.output(GUEST.role, GUEST.party_id, COMPONENT)
    online, classes = scorer.outcome(scorer.combine(data[0].features(), {}))
    np.testing.assert_allclose(online, job.column("predict_score"), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(classes, job.column("predict_result").astype(np.int64))


def test_student_regression_rmse_matches_sklearn(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    data = read("student_homo_guest"), read("student_homo_host")
    job = conf(task_type="regression", objective_param={"objective": "lse"}, num_trees=5)
    harness = start(tmp_path, harnesses, job, data, engine=engine)
    harness.run_ok(COMPONENT)
    labels, _, predicted = outputs(harness)
    x, y = union(*data)
    model = reference.regressor(5, x, y)
    expected = float(np.sqrt(np.mean((model.predict(x) - y) ** 2)))
    rmse = float(np.sqrt(np.mean((predicted - labels) ** 2)))
    assert rmse == pytest.approx(expected, rel=0.02)


def test_warm_start_adds_trees_as_one_longer_run(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    data = read("breast_homo_guest"), read("breast_homo_host")
    job = conf(num_trees=2)
    job["component_parameters"]["common"]["homo_secureboost_1"] = {
        "num_trees": 1,
        "tree_param": {"max_depth": 3},
    }
    warm = start(tmp_path / "warm", harnesses, job, data, dsl=WARM_DSL)
    warm.run_ok(COMPONENT)
    warm.run_ok("homo_secureboost_1")
    whole = start(tmp_path / "whole", harnesses, conf(num_trees=3), data)
    whole.run_ok(COMPONENT)
    warm_model = warm.model(GUEST.role, GUEST.party_id, "homo_secureboost_1")["param"]
    whole_model = whole.model(GUEST.role, GUEST.party_id, COMPONENT)["param"]
    assert warm_model["trees"] == whole_model["trees"]
    np.testing.assert_allclose(outputs(warm, "homo_secureboost_1")[1], outputs(whole)[1], atol=1e-12)


def test_missing_values_and_multi_output_run(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    guest, host = read("vehicle_scale_homo_guest"), read("vehicle_scale_homo_host")
    x = guest.features().copy()
    x[::7, 3] = np.nan
    guest = Dataset.instances(
        list(guest.ids()), x, header=guest.header, labels=guest.labels(), label_name="y"
    )
    job = conf(num_trees=2, use_missing=True, multi_mode="multi_output", validation_freqs=1)
    harness = start(tmp_path, harnesses, job, (guest, host))
    harness.run_ok(COMPONENT)
    labels, _, predicted = outputs(harness)
    assert accuracy_score(labels, predicted) > 0.6
    model = harness.model(GUEST.role, GUEST.party_id, COMPONENT)["param"]
    assert len(model["trees"]) == 2 and isinstance(model["trees"][0]["nodes"][-1]["weight"], list)


def test_early_stopping_is_refused_as_fate_refuses_it() -> None:
    """FATE 1.11's HomoSecureBoostParam has no top-level early_stopping_rounds, and its validation
    strategy refuses callback_param.early_stopping_rounds for homo modules: both are refused here."""
    callbacks = {
        "callbacks": ["EarlyStopping", "PerformanceEvaluate"],
        "validation_freqs": 1,
        "early_stopping_rounds": 2,
        "metrics": ["auc"],
        "use_first_metric_only": True,
    }
    params = HomoSecureBoostParam.model_validate({"callback_param": callbacks})
    with pytest.raises(
        ComponentFeatureUnsupported, match=r"callback_param\.early_stopping_rounds"
    ) as refused:
        HomoSecureBoost().check_supported(params, COMPONENT)
    assert refused.value.code == 10127
    with pytest.raises(ComponentParameterError, match="early_stopping_rounds") as bad:
        validate_parameters(
            HomoSecureBoostParam, {"early_stopping_rounds": 2}, component=COMPONENT, module="HomoSecureBoost"
        )
    assert bad.value.code == 10126
