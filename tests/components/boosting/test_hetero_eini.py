"""EINI inference (``EINI_inference``): a predict through the guest's encrypted leaf values and the hosts'
reachable leaves gives the scores the plain tree walk gives, to the fixed-point precision of the
encryption; with ``EINI_random_mask`` the raw scores are scaled by one factor in [1, 2) and the labels
stay; ``EINI_complexity_check`` refuses a model too small to hide the hosts' paths."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.boosting.hetero import data
from accord.components.boosting.hetero.host import predict_decisions
from accord.components.boosting.hetero.scores import raw_scores
from accord.components.sdk import Dataset
from accord.computing.table import Engine

from ..harness import ComponentHarness
from .hetero_support import COMPONENT, GUEST, conf, dsl, plant, read_parties

PREDICTOR = "hetero_secure_boost_1"


def _train_and_predict(
    tmp_path: Path, engine: Engine, name: str, hosts: int, train: dict[str, Any], predict: dict[str, Any]
) -> tuple[ComponentHarness, Any, list[Any]]:
    guest, (host,) = read_parties(name)
    # Two hosts: the host's columns split in halves.
    cut = len(host.header) // hosts
    host_data = [
        Dataset.instances(
            host.ids(),
            host.features()[:, i * cut : (i + 1) * cut],
            header=host.header[i * cut : (i + 1) * cut],
        )
        if i < hosts - 1
        else Dataset.instances(host.ids(), host.features()[:, i * cut :], header=host.header[i * cut :])
        for i in range(hosts)
    ]
    host_ids = [10000 + i for i in range(hosts)]
    job = conf(host_ids, **train)
    job["component_parameters"]["common"][PREDICTOR] = {**copy.deepcopy(train), **predict}
    workflow = dsl()
    workflow["components"][PREDICTOR] = {
        "module": "HeteroSecureBoost",
        "input": {"data": {"test_data": ["intersection_0.data"]}, "model": [f"{COMPONENT}.model"]},
        "output": {"data": ["data"]},
    }
    harness = ComponentHarness(tmp_path, workflow, job, engine=engine)
    plant(harness, "guest", GUEST, guest, "intersection_0")
    for host_id, host in zip(host_ids, host_data, strict=True):
        plant(harness, "host", host_id, host, "intersection_0")
    harness.run_ok(COMPONENT)
    return harness, guest, host_data


def _plain_raw(harness: ComponentHarness, guest: Any, hosts: list[Any]) -> np.ndarray:
    """The raw scores of the plain walk (the guest's thresholds and each host's go-left bits)."""
    param = harness.model("guest", GUEST, COMPONENT)["param"]
    decided = [
        predict_decisions(harness.model("host", 10000 + i, COMPONENT)["param"], data.features_of(host, False))
        for i, host in enumerate(hosts)
    ]
    return raw_scores(param, data.features_of(guest, False), decided)


def test_eini_scores_equal_the_plain_walk(tmp_path: Path, engine: Engine) -> None:
    harness, guest, hosts = _train_and_predict(
        tmp_path, engine, "breast", 1, {"num_trees": 3}, {"EINI_inference": True}
    )
    try:
        harness.run_ok(PREDICTOR)
        out = harness.output("guest", GUEST, PREDICTOR)
        expected = 1 / (1 + np.exp(-_plain_raw(harness, guest, hosts)[:, 0]))
        np.testing.assert_allclose(out.column("predict_score"), expected, rtol=0, atol=1e-9)
        trained = harness.output("guest", GUEST, COMPONENT)
        np.testing.assert_array_equal(out.column("predict_result"), trained.column("predict_result"))
    finally:
        harness.close()


def test_eini_multiclass_with_two_hosts_and_random_mask(tmp_path: Path, local_engine: Engine) -> None:
    """Vehicle (4 classes, one tree per class and round) split over two hosts: each host keeps the leaves
    its splits allow in turn; the mask scales every class's raw score alike, so the argmax stays."""
    train = {"num_trees": 2, "tree_param": {"max_depth": 3, "min_child_weight": 1e-3}}
    harness, guest, hosts = _train_and_predict(
        tmp_path, local_engine, "vehicle_scale", 2, train, {"EINI_inference": True, "EINI_random_mask": True}
    )
    try:
        harness.run_ok(PREDICTOR)
        out = harness.output("guest", GUEST, PREDICTOR)
        plain = _plain_raw(harness, guest, hosts)
        classes = harness.model("guest", GUEST, COMPONENT)["param"]["classes"]
        expected = np.asarray(classes, dtype=np.float64)[plain.argmax(axis=1)]
        np.testing.assert_array_equal(out.column("predict_result").astype(np.float64), expected)
    finally:
        harness.close()


def test_complexity_check_refuses_a_small_model(tmp_path: Path, local_engine: Engine) -> None:
    harness, _, _ = _train_and_predict(
        tmp_path,
        local_engine,
        "breast",
        1,
        {"num_trees": 2, "tree_param": {"max_depth": 2}},
        {"EINI_inference": True, "EINI_complexity_check": True},
    )
    try:
        failed = harness.run(PREDICTOR)
        assert any("EINI_complexity_check" in str(error) for error in failed.values()), failed
    finally:
        harness.close()


@pytest.mark.parametrize("engine_name", ["local"])
def test_multi_output_trees_are_refused(engine_name: str) -> None:
    from accord.components.boosting.hetero.eini import refuse_unsupported
    from accord.errors import ComponentFeatureUnsupported

    with pytest.raises(ComponentFeatureUnsupported, match="EINI_inference"):
        refuse_unsupported({"multi_output": True}, COMPONENT)
