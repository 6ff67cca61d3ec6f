"""HeteroSecureBoost's options: predicting from the saved models, validation and early stopping,
missing values, the fast modes (mix, layered), complete_secure, GOSS, multi_output, two hosts, and
what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from accord.components.boosting.hetero import data
from accord.components.boosting.hetero.component import HeteroSecureBoost
from accord.components.boosting.hetero.host import predict_decisions
from accord.components.boosting.hetero.params import HeteroSecureBoostParam
from accord.components.boosting.hetero.scores import guest_scores
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported

from .hetero_support import COMPONENT, GUEST, HOST, conf, read_parties, train


def _scores_from_models(
    harness: Any, guest: Dataset, hosts: list[Dataset], host_ids: list[int]
) -> np.ndarray:
    guest_model = harness.model("guest", GUEST, COMPONENT)["param"]
    decided = [
        predict_decisions(harness.model("host", pid, COMPONENT)["param"], data.features_of(host, False))
        for pid, host in zip(host_ids, hosts, strict=True)
    ]
    return guest_scores(guest_model, data.features_of(guest, False), decided)


def test_predict_from_models_equals_training_scores_and_validation(tmp_path: Path, engine: Engine) -> None:
    guest, hosts = read_parties("breast")
    valid = (guest.take(np.arange(0, 569, 3)), [hosts[0].take(np.arange(0, 569, 3))])
    job = conf(num_trees=4, validation_freqs=1, early_stopping_rounds=2, metrics=["auc"])
    harness = train(tmp_path, job, guest, hosts, engine, validate=valid)
    try:
        out = harness.output("guest", GUEST, COMPONENT)
        types = out.column("type")
        train_scores = out.column("predict_score")[types == "train"]
        again = _scores_from_models(harness, guest, hosts, [HOST])[:, 0]
        np.testing.assert_allclose(again, train_scores, rtol=0, atol=1e-9)
        valid_scores = out.column("predict_score")[types == "validate"]
        np.testing.assert_allclose(valid_scores, train_scores[::3], rtol=0, atol=1e-9)
        assert roc_auc_score(out.column("label")[types == "train"], train_scores) > 0.99
    finally:
        harness.close()


@pytest.mark.parametrize(
    "options",
    [
        {"use_missing": True, "zero_as_missing": True},
        {"boosting_strategy": "mix", "tree_num_per_party": 1},
        {"boosting_strategy": "layered", "host_depth": 1, "guest_depth": 2},
        {"complete_secure": True, "run_goss": True, "subsample_feature_rate": 0.6},
        {"cipher_compress": False},
    ],
    ids=["missing", "mix", "layered", "secure-goss", "no-compress"],
)
def test_options_train_and_predict_the_same(
    tmp_path: Path, options: dict[str, Any], local_engine: Engine
) -> None:
    engine = local_engine
    guest, hosts = read_parties("breast")
    values = guest.features().copy()
    if options.get("use_missing"):
        values[::7, 0] = np.nan
        values[::5, 1] = 0.0
        guest = Dataset.instances(
            guest.ids(), values, header=guest.header, labels=guest.labels(), label_name="y"
        )
    harness = train(tmp_path, conf(num_trees=3, **options), guest, hosts, engine)
    try:
        out = harness.output("guest", GUEST, COMPONENT)
        assert roc_auc_score(out.column("label"), out.column("predict_score")) > 0.97
        model = harness.model("guest", GUEST, COMPONENT)["param"]
        decided = [
            predict_decisions(
                harness.model("host", HOST, COMPONENT)["param"], data.features_of(hosts[0], False)
            )
        ]
        again = guest_scores(model, data.features_of(guest, bool(model["zero_as_missing"])), decided)[:, 0]
        np.testing.assert_allclose(again, out.column("predict_score"), rtol=0, atol=1e-9)
        parties = {node["party"] for tree in model["trees"] for node in tree["nodes"] if not node["is_leaf"]}
        if options.get("boosting_strategy") == "mix":
            first, second = model["trees"][0]["nodes"], model["trees"][1]["nodes"]
            assert {n["party"] for n in first if not n["is_leaf"]} == {"guest"}
            assert {n["party"] for n in second if not n["is_leaf"]} == {f"host:{HOST}"}
        if options.get("boosting_strategy") == "layered":
            root = model["trees"][0]["nodes"][0]
            assert root["party"] == f"host:{HOST}" and "guest" in parties
        if options.get("complete_secure"):
            assert {n["party"] for n in model["trees"][0]["nodes"] if not n["is_leaf"]} == {"guest"}
    finally:
        harness.close()


def test_multi_output_and_two_hosts(tmp_path: Path, local_engine: Engine) -> None:
    guest, hosts = read_parties("vehicle_scale")
    half = len(hosts[0].header) // 2
    split_hosts = [
        Dataset.instances(hosts[0].ids(), hosts[0].features()[:, :half], header=hosts[0].header[:half]),
        Dataset.instances(hosts[0].ids(), hosts[0].features()[:, half:], header=hosts[0].header[half:]),
    ]
    host_ids = [HOST, HOST + 1]
    job = conf(hosts=host_ids, num_trees=3, multi_mode="multi_output")
    harness = train(tmp_path, job, guest, split_hosts, local_engine)
    try:
        out = harness.output("guest", GUEST, COMPONENT)
        accuracy = float(np.mean(out.column("predict_result") == out.column("label")))
        assert accuracy > 0.7
        model = harness.model("guest", GUEST, COMPONENT)["param"]
        assert len(model["trees"]) == 3 and model["multi_output"]
        probabilities = _scores_from_models(harness, guest, split_hosts, host_ids)
        np.testing.assert_allclose(probabilities.max(axis=1), out.column("predict_score"), rtol=0, atol=1e-9)
    finally:
        harness.close()


def test_refusals_name_the_option() -> None:
    component = HeteroSecureBoost()
    for params in ({"encrypt_param": {"method": "IterativeAffine"}},):
        with pytest.raises(ComponentFeatureUnsupported, match=next(iter(params))):
            component.check_supported(HeteroSecureBoostParam.model_validate(params), "sbt_0")


def test_warm_start_continues_from_the_model(tmp_path: Path, local_engine: Engine) -> None:
    from ..harness import ComponentHarness
    from .hetero_support import dsl, plant

    guest, hosts = read_parties("breast")
    job = conf(num_trees=2)
    job["component_parameters"]["common"]["hetero_secure_boost_1"] = dict(
        job["component_parameters"]["common"][COMPONENT], num_trees=2
    )
    spec = dsl()
    spec["components"]["hetero_secure_boost_1"] = {
        "module": "HeteroSecureBoost",
        "input": {"data": {"train_data": ["intersection_0.data"]}, "model": [f"{COMPONENT}.model"]},
        "output": {"data": ["data"], "model": ["model"]},
    }
    harness = ComponentHarness(tmp_path, spec, job, engine=local_engine)
    try:
        plant(harness, "guest", GUEST, guest, "intersection_0")
        plant(harness, "host", HOST, hosts[0], "intersection_0")
        harness.run_ok(COMPONENT)
        harness.run_ok("hetero_secure_boost_1")
        first = harness.model("guest", GUEST, COMPONENT)["param"]
        second = harness.model("guest", GUEST, "hetero_secure_boost_1")["param"]
        assert len(second["trees"]) == 4 and second["trees"][:2] == first["trees"]
        assert second["losses"][-1] < first["losses"][-1]
        host_model = harness.model("host", HOST, "hetero_secure_boost_1")["param"]
        decided = [predict_decisions(host_model, data.features_of(hosts[0], False))]
        again = guest_scores(second, data.features_of(guest, False), decided)[:, 0]
        out = harness.output("guest", GUEST, "hetero_secure_boost_1")
        np.testing.assert_allclose(again, out.column("predict_score"), rtol=0, atol=1e-9)
    finally:
        harness.close()


def test_fast_secureboost_layered(tmp_path: Path, local_engine: Engine) -> None:
    guest, hosts = read_parties("breast")
    job = conf(num_trees=2, work_mode="layered", guest_depth=1, host_depth=1)
    harness = train(tmp_path, job, guest, hosts, local_engine, module="HeteroFastSecureBoost")
    try:
        model = harness.model("guest", GUEST, COMPONENT)["param"]
        for tree in model["trees"]:
            nodes = tree["nodes"]
            assert nodes[0]["party"] == f"host:{HOST}"
            assert all(n["party"] == "guest" for n in nodes if n["depth"] == 1 and not n["is_leaf"])
            assert max(n["depth"] for n in nodes) <= 2
    finally:
        harness.close()


def test_cross_validation_scores_each_held_out_fold(tmp_path: Path, local_engine: Engine) -> None:
    """cv_param: KFold over the sorted ids; each fold's logged validate AUC is scikit-learn's AUC of
    that fold's held-out predictions in the fold history (no model kept)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import KFold

    from ..harness import JOB_ID
    from .hetero_support import COMPONENT, GUEST, conf, read_parties, train

    guest, hosts = read_parties("breast")
    cv = {"n_splits": 3, "shuffle": False, "need_cv": True}
    harness = train(tmp_path, conf(num_trees=2, cv_param=cv), guest, hosts, local_engine)
    try:
        history = harness.output("guest", GUEST, COMPONENT)
        logged = {
            record.key.metric_name: dict(record.data)
            for record in harness.metrics.query(JOB_ID, COMPONENT, "guest", GUEST)
            if record.key.metric_name.startswith("validate_fold_")
        }
        ordered = sorted(str(sid) for sid in guest.ids())
        ids = [str(sid) for sid in history.ids()]
        for fold, (_, held) in enumerate(KFold(3).split(ordered)):
            chosen = np.array([sid.endswith(f"#fold{fold}#validate") for sid in ids])
            assert sorted(sid.split("#")[0] for sid, keep in zip(ids, chosen, strict=True) if keep) == [
                ordered[i] for i in held
            ]
            expected = roc_auc_score(history.column("label")[chosen], history.column("predict_score")[chosen])
            assert float(logged[f"validate_fold_{fold}"]["auc"]) == pytest.approx(expected, abs=1e-6)
        assert harness.model("guest", GUEST, COMPONENT)["meta"]["need_cv"] is True
    finally:
        harness.close()
